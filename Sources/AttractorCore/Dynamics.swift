import AttractorLinearAlgebra

/// A way of applying an ``UpdateRule`` until the states stop moving or a step limit is reached.
///
/// Implementations: ``SynchronousDynamics`` (every coordinate of every state at once, batched) and
/// ``AsynchronousDynamics`` (one coordinate at a time in a seeded random order).
///
/// `run` is overloaded on the rule's abilities, and the overload is chosen at compile time from
/// the rule's static type, the most specific one winning:
///
/// | Rule known to be                              | Energies recorded | Coordinate form used |
/// |-----------------------------------------------|-------------------|----------------------|
/// | ``UpdateRule``                                | no                | no                   |
/// | ``EnergyDescending``                          | yes               | no                   |
/// | ``CoordinateUpdatable``                       | no                | yes (asynchronous)   |
/// | ``EnergyDescending`` & ``CoordinateUpdatable`` | yes               | yes (asynchronous)   |
///
/// A concrete model gets everything it conforms to. Generic code gets what its constraints say:
/// `func f<R: UpdateRule>(_ r: R)` runs `r` without energies even if `R` is a `ModernHopfield`-like
/// model, so generic code that wants energies (or coordinate updates) must constrain its parameter
/// to ``EnergyDescending`` (or ``CoordinateUpdatable``). The same holds through `any Dynamics` or
/// `some Dynamics`: the requirements are overloaded the same way.
///
/// To implement a dynamics, implement the plain `run(_:from:)` (for any `UpdateRule`); the other three default to
/// it (no energies, no coordinate form) unless you implement them too.
///
/// The loops of the two built-in dynamics are `@inlinable`, so a caller in another module that knows
/// the rule's concrete type gets them specialised for it (direct calls to the model's update,
/// energy and coordinate update instead of witness-table calls; Docs/Architecture.md).
public protocol Dynamics: Sendable {
  /// Runs `rule` from each row of `initialStates` and returns the final states with one
  /// ``Trajectory`` per row (no energies).
  func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar>

  /// The same, recording the descended energy when the dynamics are configured to.
  func run<Rule: EnergyDescending>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar>

  /// The same, using the coordinate-wise form where the dynamics update coordinates.
  func run<Rule: CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar>

  /// The same, with both.
  func run<Rule: EnergyDescending & CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar>
}

extension Dynamics {
  /// Defaults to the plain ``UpdateRule`` run.
  public func run<Rule: EnergyDescending>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try runPlain(self, rule, from: initialStates)
  }

  /// Defaults to the plain ``UpdateRule`` run.
  public func run<Rule: CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try runPlain(self, rule, from: initialStates)
  }

  /// Defaults to the ``EnergyDescending`` run.
  public func run<Rule: EnergyDescending & CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try runDescending(self, rule, from: initialStates)
  }
}

/// Calls the plain requirement (inside, `Rule` is only an ``UpdateRule``).
private func runPlain<D: Dynamics, Rule: UpdateRule>(
  _ dynamics: D, _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
  try dynamics.run(rule, from: initialStates)
}

/// Calls the ``EnergyDescending`` requirement.
private func runDescending<D: Dynamics, Rule: EnergyDescending>(
  _ dynamics: D, _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
  try dynamics.run(rule, from: initialStates)
}

/// How a run obtains energies: not at all, or from an ``EnergyDescending`` rule. Chosen by the
/// `run` overload, so the loops are specialised for it.
@usableFromInline
protocol EnergyProbe<Rule> {
  associatedtype Rule: UpdateRule
  /// Whether energies are recorded.
  var isRecording: Bool { get }
  func energies(
    of rule: Rule, _ states: Matrix<Rule.Scalar>, into energies: inout [Rule.Scalar], workspace: inout Rule.Workspace)
}

/// No energies.
@usableFromInline
struct NoEnergyProbe<Rule: UpdateRule>: EnergyProbe {
  @inlinable init() {}
  @inlinable var isRecording: Bool { false }
  @inlinable func energies(
    of rule: Rule, _ states: Matrix<Rule.Scalar>, into energies: inout [Rule.Scalar], workspace: inout Rule.Workspace
  ) {}
}

/// The rule's descended energy, when `isRecording`.
@usableFromInline
struct DescendedEnergyProbe<Rule: EnergyDescending>: EnergyProbe {
  @usableFromInline let isRecording: Bool
  @inlinable init(isRecording: Bool) { self.isRecording = isRecording }
  @inlinable func energies(
    of rule: Rule, _ states: Matrix<Rule.Scalar>, into energies: inout [Rule.Scalar], workspace: inout Rule.Workspace
  ) {
    rule.descendedEnergy(states, into: &energies, workspace: &workspace)
  }
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

  @usableFromInline
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
  /// E(x₀), E(x₁), …, E(x_T) when the rule is ``EnergyDescending`` (known at the call site, see
  /// ``Dynamics``) and energies were recorded; otherwise `nil`.
  public internal(set) var energies: [Scalar]?
  /// ‖x_t − x_{t−1}‖ for t = 1 … T (a sweep for asynchronous dynamics).
  public internal(set) var stepSizes: [Scalar]
  /// x₀ … x_T when states were recorded; otherwise `nil`.
  public internal(set) var states: [[Scalar]]?
  /// Whether the last step was at most the tolerance.
  public internal(set) var converged: Bool

  @usableFromInline
  init(energies: [Scalar]?, stepSizes: [Scalar], states: [[Scalar]]?, converged: Bool) {
    self.energies = energies
    self.stepSizes = stepSizes
    self.states = states
    self.converged = converged
  }

  /// Number of steps taken, T.
  public var stepsTaken: Int { stepSizes.count }
}

/// Final states and per-state trajectories from ``Dynamics/run(_:from:)``.
public struct DynamicsResult<Scalar: LinearAlgebraScalar>: Sendable {
  /// Final state of each run, one per row, in the order of the initial states.
  public let finalStates: Matrix<Scalar>
  /// One trajectory per initial state.
  public let trajectories: [Trajectory<Scalar>]

  @usableFromInline
  init(finalStates: Matrix<Scalar>, trajectories: [Trajectory<Scalar>]) {
    self.finalStates = finalStates
    self.trajectories = trajectories
  }

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

extension StoppingCriterion {
  /// Checks the criterion and the initial states of a run of `rule` (dimension, finite entries);
  /// returns the batch size, the dimension and the tolerance in the rule's scalar type.
  @inlinable
  func validateRun<Rule: BatchedStateModel>(
    of rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> (batch: Int, dimension: Int, tolerance: Rule.Scalar) {
    try validate()
    try validateInitialStates(initialStates, dimension: rule.dimension)
    return (initialStates.rows, initialStates.columns, Rule.Scalar(tolerance))
  }
}

@inlinable
func validateInitialStates<Scalar>(_ states: Matrix<Scalar>, dimension: Int) throws(DynamicsError) {
  guard states.columns == dimension else { throw .dimensionMismatch(expected: dimension, actual: states.columns) }
  for r in 0..<states.rows {
    for j in 0..<states.columns where !states[r, j].isFinite { throw .nonFiniteInitialState(row: r) }
  }
}

/// Step size of row `r`: ‖a_r − b_r‖ (no allocation).
@inlinable @inline(__always)
func rowStep<Scalar: LinearAlgebraScalar>(
  _ a: UnsafeBufferPointer<Scalar>, _ b: UnsafeBufferPointer<Scalar>, row r: Int, columns d: Int
) -> Scalar {
  var s: Scalar = 0
  let base = r * d
  for j in 0..<d {
    let diff = a[base + j] - b[base + j]
    s += diff * diff
  }
  return s.squareRoot()
}
