/// Errors raised by the linear-algebra layer.
///
/// Every LAPACK `info` other than zero is turned into one of these cases, never ignored.
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Operand shapes do not fit the operation.
  case shapeMismatch(operation: String, detail: String)
  /// The operation needs a square matrix.
  case notSquare(operation: String, rows: Int, columns: Int)
  /// An input contained NaN or ±Inf, which LAPACK would propagate or loop on.
  case nonFinite(operation: String)
  /// LAPACK reported that argument number `position` had an illegal value (`info < 0`).
  case illegalArgument(routine: String, position: Int)
  /// LAPACK's iteration failed to converge (`info > 0`); `info` is LAPACK's count or index.
  case noConvergence(routine: String, info: Int)

  public var description: String {
    switch self {
    case .shapeMismatch(let operation, let detail):
      return "\(operation): shapes do not match (\(detail))"
    case .notSquare(let operation, let rows, let columns):
      return "\(operation): needs a square matrix, got \(rows) × \(columns)"
    case .nonFinite(let operation):
      return "\(operation): input contains NaN or infinity"
    case .illegalArgument(let routine, let position):
      return "LAPACK \(routine): argument \(position) had an illegal value"
    case .noConvergence(let routine, let info):
      return "LAPACK \(routine) failed to converge (info = \(info))"
    }
  }

  /// Turns a LAPACK `info` into `nil` (success) or the matching error.
  static func check(_ info: Int32, routine: String) throws(LinearAlgebraError) {
    if info < 0 { throw .illegalArgument(routine: routine, position: Int(-info)) }
    if info > 0 { throw .noConvergence(routine: routine, info: Int(info)) }
  }
}
