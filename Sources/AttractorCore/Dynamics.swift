import AttractorLinearAlgebra

/// A way of applying an ``UpdateRule`` until the states stop moving or a step limit is reached.
///
/// Implementations: ``SynchronousDynamics`` (every coordinate of every state at once, batched) and
/// ``AsynchronousDynamics`` (one coordinate at a time in a seeded random order).
public protocol Dynamics: Sendable {
  /// Runs `rule` from each row of `initialStates` and returns the final states with one
  /// ``Trajectory`` per row.
  func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar>
}

/// When dynamics stop: at a step size ‖x_t − x_{t−1}‖ ≤ `tolerance` (converged) or after `maxSteps`.
public struct StoppingCriterion: Sendable, Equatable {
  /// Most steps (synchronous updates or asynchronous sweeps) taken from any state.
  public var maxSteps: Int
  /// A state whose step size is at most this has converged and stops moving.
  public var tolerance: Double

  public init(maxSteps: Int = 100, tolerance: Double = 1e-6) {
    self.maxSteps = maxSteps
    self.tolerance = tolerance
  }

  func validate() throws(DynamicsError) {
    guard maxSteps >= 0 else {
      throw .invalidParameter(name: "maxSteps", value: "\(maxSteps)", requirement: "at least 0")
    }
    guard tolerance.isFinite && tolerance >= 0 else {
      throw .invalidParameter(name: "tolerance", value: "\(tolerance)", requirement: "finite and at least 0")
    }
  }
}

/// What happened to one state under a ``Dynamics``.
public struct Trajectory<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// E(x₀), E(x₁), …, E(x_T) when the rule has an energy (``UpdateRule/descentEnergy(_:into:workspace:)``)
  /// and energies were recorded; otherwise `nil`.
  public internal(set) var energies: [Scalar]?
  /// ‖x_t − x_{t−1}‖ for t = 1 … T (a sweep for asynchronous dynamics).
  public internal(set) var stepSizes: [Scalar]
  /// x₀ … x_T when states were recorded; otherwise `nil`.
  public internal(set) var states: [[Scalar]]?
  /// Whether the last step was at most the tolerance.
  public internal(set) var converged: Bool

  /// Number of steps taken, T.
  public var stepsTaken: Int { stepSizes.count }
}

/// Final states and per-state trajectories from ``Dynamics/run(_:from:)``.
public struct DynamicsResult<Scalar: LinearAlgebraScalar>: Sendable {
  /// Final state of each run, one per row, in the order of the initial states.
  public let finalStates: Matrix<Scalar>
  /// One trajectory per initial state.
  public let trajectories: [Trajectory<Scalar>]

  /// Whether every state converged.
  public var allConverged: Bool { trajectories.allSatisfy(\.converged) }
}

/// Errors raised by dynamics.
public enum DynamicsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The states have `actual` columns but the rule works on dimension `expected`.
  case dimensionMismatch(expected: Int, actual: Int)
  /// An initial state holds NaN or ±Inf.
  case nonFiniteInitialState(row: Int)
  /// The rule produced NaN or ±Inf (for example an overflowing user energy).
  case nonFiniteState(row: Int, step: Int)
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)

  public var description: String {
    switch self {
    case .dimensionMismatch(let expected, let actual):
      return "states have dimension \(actual), but the rule works on dimension \(expected)"
    case .nonFiniteInitialState(let row):
      return "initial state \(row) contains NaN or infinity"
    case .nonFiniteState(let row, let step):
      return "state \(row) became NaN or infinite at step \(step)"
    case .invalidParameter(let name, let value, let requirement):
      return "\(name) = \(value) is invalid: must be \(requirement)"
    }
  }
}

func validateInitialStates<Scalar>(_ states: Matrix<Scalar>, dimension: Int) throws(DynamicsError) {
  guard states.columns == dimension else { throw .dimensionMismatch(expected: dimension, actual: states.columns) }
  for r in 0..<states.rows {
    for j in 0..<states.columns where !states[r, j].isFinite { throw .nonFiniteInitialState(row: r) }
  }
}

/// Step size of row `r`: ‖a_r − b_r‖ (no allocation).
@inline(__always)
func rowStep<Scalar: LinearAlgebraScalar>(_ a: UnsafeBufferPointer<Scalar>, _ b: UnsafeBufferPointer<Scalar>, row r: Int, columns d: Int) -> Scalar {
  var s: Scalar = 0
  let base = r * d
  for j in 0..<d {
    let diff = a[base + j] - b[base + j]
    s += diff * diff
  }
  return s.squareRoot()
}
