import AttractorLinearAlgebra

/// Updates one coordinate at a time, in a fresh seeded random order each sweep.
///
/// ```
/// for each sweep t, for i in a random permutation of 0..<d:
///     xᵢ ← fᵢ(x)        (all other coordinates held at their current values)
/// ```
///
/// One step of the trajectory is one sweep over all d coordinates; its step size is ‖x_t − x_{t−1}‖
/// over the sweep. Rules with a coordinate-wise form (``UpdateRule/updateCoordinate(_:row:of:workspace:)``)
/// cost O(field update) per coordinate; for others the full update of the state is computed for
/// each coordinate (correct but d times more work).
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
  /// Record E(x_t) after each sweep when the rule has an energy.
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
  public init(maxSteps: Int, tolerance: Double = 1e-6, seed: UInt64 = 0, recordEnergies: Bool = true, recordStates: Bool = false) {
    self.init(
      stopping: StoppingCriterion(maxSteps: maxSteps, tolerance: tolerance), seed: seed,
      recordEnergies: recordEnergies, recordStates: recordStates)
  }

  public func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    try stopping.validate()
    try validateInitialStates(initialStates, dimension: rule.dimension)
    let batch = initialStates.rows
    let d = initialStates.columns
    let tolerance = Scalar(stopping.tolerance)
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

    for r in 0..<batch {
      var rng = root.derived(r)
      state.copyRow(r, of: initialStates, to: 0)
      var trajectory = Trajectory<Scalar>(energies: nil, stepSizes: [], states: nil, converged: false)
      trajectory.stepSizes.reserveCapacity(reserve)
      let hasEnergy = recordEnergies && rule.descentEnergy(state, into: &energy, workspace: &workspace)
      if hasEnergy { trajectory.energies = [energy[0]] }
      if recordStates { trajectory.states = [state.elements] }
      var coordinateWise = true

      var sweep = 0
      while sweep < stopping.maxSteps {
        sweep += 1
        previous.assign(state)
        rng.shuffle(&order)
        rule.prepareCoordinateUpdates(row: 0, of: state, workspace: &workspace)
        for i in order {
          if coordinateWise && rule.updateCoordinate(i, row: 0, of: &state, workspace: &workspace) { continue }
          coordinateWise = false
          rule.update(state, into: &full, workspace: &workspace)
          state[0, i] = full[0, i]
        }
        let size = state.withUnsafeBufferPointer { s in
          previous.withUnsafeBufferPointer { p in rowStep(s, p, row: 0, columns: d) }
        }
        guard size.isFinite else { throw .nonFiniteState(row: r, step: sweep) }
        trajectory.stepSizes.append(size)
        if hasEnergy {
          _ = rule.descentEnergy(state, into: &energy, workspace: &workspace)
          trajectory.energies!.append(energy[0])
        }
        if recordStates { trajectory.states!.append(state.elements) }
        if size <= tolerance {
          trajectory.converged = true
          break
        }
      }
      result.copyRow(0, of: state, to: r)
      trajectories.append(trajectory)
    }
    return DynamicsResult(finalStates: result, trajectories: trajectories)
  }
}
