import AttractorLinearAlgebra

/// Applies the update to every coordinate of every state at once: x_{t+1} = f(x_t), batched.
///
/// Each step is one call to ``UpdateRule/update(_:into:workspace:)`` on the whole batch (for the
/// built-in models, BLAS-3 products on preallocated buffers); no allocation happens per step
/// beyond the amortised growth of the recorded histories. A state that has converged is frozen
/// (its row is restored after each later batched step), so its trajectory ends where it converged.
///
/// Whether the energy is non-increasing depends on the rule: it is for the modern Hopfield update
/// (a CCCP step) and gradient descent with a small enough step; it is not guaranteed for the
/// classical network's synchronous sign update, which can enter 2-cycles.
public struct SynchronousDynamics: Dynamics {
  /// When to stop.
  public var stopping: StoppingCriterion
  /// Record E(x_t) per step when the rule has an energy (costs one energy evaluation per step).
  public var recordEnergies: Bool
  /// Record every state x_t (memory grows with steps × batch × dimension).
  public var recordStates: Bool

  public init(stopping: StoppingCriterion = StoppingCriterion(), recordEnergies: Bool = true, recordStates: Bool = false) {
    self.stopping = stopping
    self.recordEnergies = recordEnergies
    self.recordStates = recordStates
  }

  /// Shorthand for `SynchronousDynamics(stopping: StoppingCriterion(maxSteps:tolerance:))`.
  public init(maxSteps: Int, tolerance: Double = 1e-6, recordEnergies: Bool = true, recordStates: Bool = false) {
    self.init(
      stopping: StoppingCriterion(maxSteps: maxSteps, tolerance: tolerance), recordEnergies: recordEnergies,
      recordStates: recordStates)
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

    var current = initialStates
    var next = Matrix<Scalar>(rows: batch, columns: d)
    var workspace = rule.makeWorkspace(batchSize: batch)
    var energies = [Scalar](repeating: 0, count: batch)
    let hasEnergy = recordEnergies && rule.descentEnergy(current, into: &energies, workspace: &workspace)

    let reserve = min(stopping.maxSteps, 1024)
    var trajectories = (0..<batch).map { r -> Trajectory<Scalar> in
      var t = Trajectory<Scalar>(energies: nil, stepSizes: [], states: nil, converged: false)
      t.stepSizes.reserveCapacity(reserve)
      if hasEnergy {
        t.energies = [energies[r]]
        t.energies!.reserveCapacity(reserve + 1)
      }
      if recordStates { t.states = [current.row(r)] }
      return t
    }
    var active = [Bool](repeating: true, count: batch)
    var activeCount = batch
    if stopping.maxSteps == 0 || batch == 0 { activeCount = 0 }

    var step = 0
    while activeCount > 0 && step < stopping.maxSteps {
      step += 1
      rule.update(current, into: &next, workspace: &workspace)
      var failedRow: Int? = nil
      current.withUnsafeBufferPointer { cur in
        next.withUnsafeMutableBufferPointer { nxt in
          for r in 0..<batch {
            if !active[r] {
              for j in 0..<d { nxt[r * d + j] = cur[r * d + j] }
              continue
            }
            let size = rowStep(UnsafeBufferPointer(nxt), cur, row: r, columns: d)
            if !size.isFinite {
              failedRow = r
              return
            }
            trajectories[r].stepSizes.append(size)
            if size <= tolerance {
              trajectories[r].converged = true
              active[r] = false
              activeCount -= 1
            }
          }
        }
      }
      if let r = failedRow { throw .nonFiniteState(row: r, step: step) }
      swap(&current, &next)
      if hasEnergy {
        _ = rule.descentEnergy(current, into: &energies, workspace: &workspace)
      }
      if hasEnergy || recordStates {
        for r in 0..<batch where trajectories[r].stepSizes.count == step {
          if hasEnergy { trajectories[r].energies!.append(energies[r]) }
          if recordStates { trajectories[r].states!.append(current.row(r)) }
        }
      }
    }
    return DynamicsResult(finalStates: current, trajectories: trajectories)
  }
}
