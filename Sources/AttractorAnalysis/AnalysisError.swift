import AttractorCore
import AttractorLinearAlgebra

/// Errors raised by fixed-point analysis.
///
/// Bad parameters and inputs are reported here, never by a crash; failures of the layers below
/// (dynamics, LAPACK) are wrapped so that a caller handles one error type.
public enum AnalysisError: InvalidParameterError, Equatable, Sendable, CustomStringConvertible {
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// States or patterns do not have the model's dimension.
  case dimensionMismatch(expected: Int, actual: Int)
  /// There is nothing to analyse (no starts, no states, no β values).
  case empty(what: String)
  /// A state, Jacobian or Hessian holds NaN or infinity.
  case nonFinite(what: String)
  /// The dynamics failed (for example a state became NaN).
  case dynamics(DynamicsError)
  /// LAPACK failed.
  case linearAlgebra(LinearAlgebraError)
  /// The model factory of a sweep threw (its message is kept).
  case modelConstruction(parameter: Double, message: String)
  /// A file could not be written.
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      return Self.invalidParameterMessage(name: name, value: value, requirement: requirement)
    case .dimensionMismatch(let expected, let actual):
      return "states have dimension \(actual), but the model works on dimension \(expected)"
    case .empty(let what):
      return "nothing to analyse: \(what)"
    case .nonFinite(let what):
      return "\(what) contains NaN or infinity"
    case .dynamics(let error):
      return "dynamics failed: \(error)"
    case .linearAlgebra(let error):
      return "eigenvalue computation failed: \(error)"
    case .modelConstruction(let parameter, let message):
      return "could not build the model at \(parameter): \(message)"
    case .writeFailed(let path, let reason):
      return "could not write \(path): \(reason)"
    }
  }
}
