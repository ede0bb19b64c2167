import AttractorLinearAlgebra

/// An error type with a case for missing stored patterns, so that the modules check patterns in
/// one place (``checkPatterns(_:)``) and describe the problem in one sentence
/// (``PatternMessages/empty(_:count:dimension:)``).
///
/// An enum conforms by having the case `emptyPatterns(count:dimension:)`; each module keeps its own
/// typed error and its own description.
public protocol PatternError: Error {
  /// No patterns, or patterns of dimension 0.
  static func emptyPatterns(count: Int, dimension: Int) -> Self
}

/// A ``PatternError`` that also has a case for a target that is not a row of the patterns.
public protocol TargetError: PatternError {
  /// `targets[position] = value` is not a row of the `patternCount` patterns.
  static func targetOutOfRange(position: Int, value: Int, patternCount: Int) -> Self
}

extension PatternError {
  /// Throws ``emptyPatterns(count:dimension:)`` unless `patterns` has at least one row and one column.
  public static func checkPatterns<Scalar: LinearAlgebraScalar>(_ patterns: Matrix<Scalar>) throws(Self) {
    guard patterns.rows >= 1 && patterns.columns >= 1 else {
      throw emptyPatterns(count: patterns.rows, dimension: patterns.columns)
    }
  }
}

extension TargetError {
  /// Throws ``targetOutOfRange(position:value:patternCount:)`` for the first target outside
  /// 0..<`patternCount`.
  public static func checkTargets(_ targets: [Int], patternCount: Int) throws(Self) {
    for (k, t) in targets.enumerated() where t < 0 || t >= patternCount {
      throw targetOutOfRange(position: k, value: t, patternCount: patternCount)
    }
  }
}

/// The sentences for problems with stored patterns and targets, shared by every module that
/// reports them.
public enum PatternMessages {
  /// "`user` needs at least one pattern of dimension at least 1, got N patterns of dimension d".
  public static func empty(_ user: String, count: Int, dimension: Int) -> String {
    "\(user) needs at least one pattern of dimension at least 1, got \(count) patterns of dimension \(dimension)"
  }

  /// "target k is v, but there are N patterns (valid targets are 0..<N)".
  public static func targetOutOfRange(position: Int, value: some BinaryInteger, patternCount: Int) -> String {
    "target \(position) is \(value), but there are \(patternCount) patterns (valid targets are 0..<\(patternCount))"
  }
}
