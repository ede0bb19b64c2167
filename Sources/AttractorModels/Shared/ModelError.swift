import AttractorCore
import AttractorLinearAlgebra

/// Errors raised when a model is built from invalid parameters or patterns.
public enum ModelError: InvalidParameterError, PatternError, Equatable, Sendable, CustomStringConvertible {
  /// No patterns, or patterns of dimension 0.
  case emptyPatterns(count: Int, dimension: Int)
  /// A pattern entry is NaN or ±Inf.
  case nonFinitePattern(row: Int, column: Int)
  /// A pattern entry of a binary model is not ±1.
  case notBinary(row: Int, column: Int, value: Double)
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)

  public var description: String {
    switch self {
    case .emptyPatterns(let count, let dimension):
      return PatternMessages.empty("a memory", count: count, dimension: dimension)
    case .nonFinitePattern(let row, let column):
      return "pattern \(row) has NaN or infinity at coordinate \(column)"
    case .notBinary(let row, let column, let value):
      return
        "pattern \(row) has \(value) at coordinate \(column); this model stores ±1 patterns (binarise with sign first)"
    case .invalidParameter(let name, let value, let requirement):
      return Self.invalidParameterMessage(name: name, value: value, requirement: requirement)
    }
  }

  static func validatePatterns<Scalar: LinearAlgebraScalar>(_ patterns: Matrix<Scalar>) throws(ModelError) {
    try checkPatterns(patterns)
    for i in 0..<patterns.rows {
      for j in 0..<patterns.columns where !patterns[i, j].isFinite { throw .nonFinitePattern(row: i, column: j) }
    }
  }
}
