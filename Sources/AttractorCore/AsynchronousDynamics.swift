import AttractorLinearAlgebra

/// Updates one coordinate at a time, in a fresh seeded random order each sweep.
///
/// ```
/// for each sweep t, for i in a random permutation of 0..<d:
///     xᵢ ← fᵢ(x)        (all other coordinates held at their current values)
/// ```
///
/// One step of the trajectory is one sweep over all d coordinates; its step size is ‖x_t − x_{t−1}‖
/// over the sweep. ``CoordinateUpdatable`` rules use their coordinate-wise form
/// (``CoordinateUpdatable/updateCoordinate(_:of:workspace:)``, O(field update) per coordinate); for
/// others the full update of the state is computed for each coordinate (correct but d times more
/// work). Which one, and whether energies are recorded (``EnergyDescending`` rules), is decided at
/// compile time by the `run` overload (see ``Dynamics``).
///
/// Mathematical properties: for the classical Hopfield network (symmetric W, zero diagonal) the
/// energy −½xᵀWx never increases under asynchronous sign updates and the dynamics reach a fixed
/// point in finitely many sweeps (Hopfield 1982).
///
/// Each state uses its own random stream, derived from `seed` and its row index, so a state's
/// result does not depend on what else is in the batch.
public struct AsynchronousDynamics: Dynamics {
  /// When to stop (`maxSteps` counts sweeps).
  public var stopping: StoppingCriterion
  /// Seed of the coordinate orders.
  public var seed: UInt64
  /// Record E(x_t) after each sweep when the rule is ``EnergyDescending``.
  public var recordEnergies: Bool
  /// Record the state after each sweep.
  public var recordStates: Bool

  public init(
    stopping: StoppingCriterion = StoppingCriterion(), seed: UInt64 = 0, recordEnergies: Bool = true,
    recordStates: Bool = false
  ) {
    self.stopping = stopping
    self.seed = seed
    self.recordEnergies = recordEnergies
    self.recordStates = recordStates
  }

  /// Shorthand for `AsynchronousDynamics(stopping: StoppingCriterion(maxSteps:tolerance:), seed:)`.
  public init(
    maxSteps: Int, tolerance: Double = 1e-6, seed: UInt64 = 0, recordEnergies: Bool = true, recordStates: Bool = false
  ) {
    self.init(
      stopping: StoppingCriterion(maxSteps: maxSteps, tolerance: tolerance), seed: seed,
      recordEnergies: recordEnergies, recordStates: recordStates)
  }

  /// Runs `rule` with the full-update fallback per coordinate and no energies (see ``Dynamics``
  /// for the overloads).
  @inlinable
  public func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: NoEnergyProbe(), coordinates: FullUpdateCoordinates())
  }

  /// Runs `rule` with the full-update fallback, recording its descended energy after each sweep
  /// when ``recordEnergies`` is set.
  @inlinable
  public func run<Rule: EnergyDescending>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(
      rule, from: initialStates, energy: DescendedEnergyProbe(isRecording: recordEnergies),
      coordinates: FullUpdateCoordinates())
  }

  /// Runs `rule` with its coordinate-wise form and no energies.
  @inlinable
  public func run<Rule: CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: NoEnergyProbe(), coordinates: RuleCoordinates())
  }

  /// Runs `rule` with its coordinate-wise form, recording its descended energy after each sweep
  /// when ``recordEnergies`` is set.
  @inlinable
  public func run<Rule: EnergyDescending & CoordinateUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(
      rule, from: initialStates, energy: DescendedEnergyProbe(isRecording: recordEnergies),
      coordinates: RuleCoordinates())
  }

  @inlinable
  func run<Rule: UpdateRule, Energy: EnergyProbe<Rule>, Coordinates: CoordinateSweep<Rule>>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>, energy probe: Energy, coordinates: Coordinates
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    let (batch, d, tolerance) = try stopping.validateRun(of: rule, from: initialStates)
    let root = SeededGenerator(seed: seed)

    var result = initialStates
    // One state at a time, in 1 × d buffers with a batch-1 workspace, all allocated once.
    var state = Matrix<Scalar>(rows: 1, columns: d)
    var previous = Matrix<Scalar>(rows: 1, columns: d)
    var full = Matrix<Scalar>(rows: 1, columns: d)
    var workspace = rule.makeWorkspace(batchSize: 1)
    var energy = [Scalar](repeating: 0, count: 1)
    var order = [Int](repeating: 0, count: d)
    var trajectories: [Trajectory<Scalar>] = []
    trajectories.reserveCapacity(batch)
    let reserve = min(stopping.maxSteps, 1024)
    let hasEnergy = probe.isRecording

    for r in 0..<batch {
      var rng = root.derived(r)
      state.copyRow(r, of: initialStates, to: 0)
      var stepSizes: [Scalar] = []
      stepSizes.reserveCapacity(reserve)
      var energies: [Scalar]? = nil
      var states: [[Scalar]]? = nil
      var converged = false
      if hasEnergy {
        probe.energies(of: rule, state, into: &energy, workspace: &workspace)
        energies = [energy[0]]
      }
      if recordStates { states = [state.elements] }

      var sweep = 0
      while sweep < stopping.maxSteps {
        sweep += 1
        previous.assign(state)
        rng.shuffle(&order)
        coordinates.sweep(rule, order: order, state: &state, scratch: &full, workspace: &workspace)
        let size = state.withUnsafeBufferPointer { s in
          previous.withUnsafeBufferPointer { p in rowStep(s, p, row: 0, columns: d) }
        }
        guard size.isFinite else { throw .nonFiniteState(row: r, step: sweep) }
        stepSizes.append(size)
        if hasEnergy {
          probe.energies(of: rule, state, into: &energy, workspace: &workspace)
          energies!.append(energy[0])
        }
        if recordStates { states!.append(state.elements) }
        if size <= tolerance {
          converged = true
          break
        }
      }
      result.copyRow(0, of: state, to: r)
      trajectories.append(Trajectory(energies: energies, stepSizes: stepSizes, states: states, converged: converged))
    }
    return DynamicsResult(finalStates: result, trajectories: trajectories)
  }
}

/// How a sweep updates coordinates: the rule's coordinate-wise form, or the full update per
/// coordinate. Chosen by the `run` overload.
@usableFromInline
protocol CoordinateSweep<Rule> {
  associatedtype Rule: UpdateRule
  /// Updates the coordinates of `state` (1 × d) in `order`, one at a time.
  func sweep(
    _ rule: Rule, order: [Int], state: inout Matrix<Rule.Scalar>, scratch: inout Matrix<Rule.Scalar>,
    workspace: inout Rule.Workspace)
}

/// xᵢ ← f(x)ᵢ from a full update of the state, for each coordinate.
@usableFromInline
struct FullUpdateCoordinates<Rule: UpdateRule>: CoordinateSweep {
  @inlinable init() {}

  @inlinable
  func sweep(
    _ rule: Rule, order: [Int], state: inout Matrix<Rule.Scalar>, scratch: inout Matrix<Rule.Scalar>,
    workspace: inout Rule.Workspace
  ) {
    for i in order {
      rule.update(state, into: &scratch, workspace: &workspace)
      state[0, i] = scratch[0, i]
    }
  }
}

/// The rule's ``CoordinateUpdatable`` form.
@usableFromInline
struct RuleCoordinates<Rule: CoordinateUpdatable>: CoordinateSweep {
  @inlinable init() {}

  @inlinable
  func sweep(
    _ rule: Rule, order: [Int], state: inout Matrix<Rule.Scalar>, scratch: inout Matrix<Rule.Scalar>,
    workspace: inout Rule.Workspace
  ) {
    rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
    for i in order { rule.updateCoordinate(i, of: &state, workspace: &workspace) }
  }
}
