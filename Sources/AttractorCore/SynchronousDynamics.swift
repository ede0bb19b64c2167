import AttractorLinearAlgebra

/// Applies the update to every coordinate of every state at once: x_{t+1} = f(x_t), batched.
///
/// Each step is one call to ``UpdateRule/update(_:into:workspace:)`` on the whole batch (for the
/// built-in models, BLAS-3 products on preallocated buffers); no allocation happens per step
/// beyond the amortised growth of the recorded histories.
///
/// By default a state that has converged is frozen (its row is restored after each later batched
/// step), so its trajectory ends where it converged. With `freezesConvergedStates = false` every
/// state is iterated until all of them take a step within the tolerance at the same step, or
/// `maxSteps` is reached (plain q_{t+1} = f(q_t) for a fixed number of steps, as in studies of
/// iterated attention).
///
/// Whether the energy is non-increasing depends on the rule: it is for the modern Hopfield update
/// (a CCCP step) and gradient descent with a small enough step; it is not guaranteed for the
/// classical network's synchronous sign update, which can enter 2-cycles.
public struct SynchronousDynamics: Dynamics {
  /// When to stop.
  public var stopping: StoppingCriterion
  /// Record E(x_t) per step when the rule is ``EnergyDescending`` (costs one energy evaluation per step).
  public var recordEnergies: Bool
  /// Record every state x_t (memory grows with steps × batch × dimension).
  public var recordStates: Bool
  /// Stop updating a state once it has converged (default), or keep iterating it.
  public var freezesConvergedStates: Bool

  public init(
    stopping: StoppingCriterion = StoppingCriterion(), recordEnergies: Bool = true, recordStates: Bool = false,
    freezesConvergedStates: Bool = true
  ) {
    self.stopping = stopping
    self.recordEnergies = recordEnergies
    self.recordStates = recordStates
    self.freezesConvergedStates = freezesConvergedStates
  }

  /// Shorthand for `SynchronousDynamics(stopping: StoppingCriterion(maxSteps:tolerance:), …)`.
  public init(
    maxSteps: Int, tolerance: Double = 1e-6, recordEnergies: Bool = true, recordStates: Bool = false,
    freezesConvergedStates: Bool = true
  ) {
    self.init(
      stopping: StoppingCriterion(maxSteps: maxSteps, tolerance: tolerance), recordEnergies: recordEnergies,
      recordStates: recordStates, freezesConvergedStates: freezesConvergedStates)
  }

  /// What the batch looks like after step `step` (step 0: the initial states), handed to an
  /// observer of `SynchronousDynamics.run(_:from:observe:)`.
  ///
  /// The arrays are the run's own buffers, lent for the duration of the call: read them, and copy
  /// what you keep (holding on to them makes the next step copy its buffers).
  public struct Step<Scalar: LinearAlgebraScalar> {
    /// 0 for the initial states, then 1, 2, …
    public let step: Int
    /// The states after this step, one per row.
    public let states: Matrix<Scalar>
    /// E of each state after this step, when energies are recorded and the rule is ``EnergyDescending``.
    public let energies: [Scalar]?
    /// ‖x_t − x_{t−1}‖ of each state at this step (0 for frozen states and at step 0).
    public let stepSizes: [Scalar]
    /// Whether each state's latest step was within the tolerance (frozen states stay `true`).
    public let converged: [Bool]

    @usableFromInline
    init(step: Int, states: Matrix<Scalar>, energies: [Scalar]?, stepSizes: [Scalar], converged: [Bool]) {
      self.step = step
      self.states = states
      self.energies = energies
      self.stepSizes = stepSizes
      self.converged = converged
    }
  }

  /// Runs `rule` from each row of `initialStates` (no energies: see ``Dynamics`` for the overloads).
  @inlinable
  public func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: NoEnergyProbe(), observe: { _ in })
  }

  /// Runs `rule` from each row of `initialStates`, recording its descended energy when
  /// ``recordEnergies`` is set.
  @inlinable
  public func run<Rule: EnergyDescending>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: DescendedEnergyProbe(isRecording: recordEnergies), observe: { _ in })
  }

  /// Runs `rule` from each row of `initialStates`, calling `observe` with the whole batch after
  /// every step (and once for the initial states), so callers can compute per-step statistics
  /// without recording every state. No energies (the overload for ``EnergyDescending`` rules has them).
  @inlinable
  public func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>, observe: (Step<Rule.Scalar>) -> Void
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: NoEnergyProbe(), observe: observe)
  }

  /// The same for an ``EnergyDescending`` rule: ``Step/energies`` holds its descended energy when
  /// ``recordEnergies`` is set.
  @inlinable
  public func run<Rule: EnergyDescending>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>, observe: (Step<Rule.Scalar>) -> Void
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    try run(rule, from: initialStates, energy: DescendedEnergyProbe(isRecording: recordEnergies), observe: observe)
  }

  @inlinable
  func run<Rule: UpdateRule, Energy: EnergyProbe<Rule>>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>, energy probe: Energy, observe: (Step<Rule.Scalar>) -> Void
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    let (batch, d, tolerance) = try stopping.validateRun(of: rule, from: initialStates)
    let freeze = freezesConvergedStates

    var current = initialStates
    var next = Matrix<Scalar>(rows: batch, columns: d)
    var workspace = rule.makeWorkspace(batchSize: batch)
    var energies = [Scalar](repeating: 0, count: batch)
    var sizes = [Scalar](repeating: 0, count: batch)
    var converged = [Bool](repeating: false, count: batch)
    var convergedCount = 0
    let hasEnergy = probe.isRecording
    if hasEnergy { probe.energies(of: rule, current, into: &energies, workspace: &workspace) }

    // The histories of each state: step sizes, and energies and states when recorded.
    let reserve = min(stopping.maxSteps, 1024)
    var stepSizes = (0..<batch).map { _ -> [Scalar] in
      var t: [Scalar] = []
      t.reserveCapacity(reserve)
      return t
    }
    var energyHistories: [[Scalar]] = []
    if hasEnergy {
      energyHistories = (0..<batch).map { r -> [Scalar] in
        var t = [energies[r]]
        t.reserveCapacity(reserve + 1)
        return t
      }
    }
    var stateHistories: [[[Scalar]]] = recordStates ? (0..<batch).map { [current.row($0)] } : []
    observe(
      Step(step: 0, states: current, energies: hasEnergy ? energies : nil, stepSizes: sizes, converged: converged))

    var step = 0
    while convergedCount < batch && step < stopping.maxSteps {
      step += 1
      rule.update(current, into: &next, workspace: &workspace)
      var failedRow: Int? = nil
      current.withUnsafeBufferPointer { cur in
        next.withUnsafeMutableBufferPointer { nxt in
          for r in 0..<batch {
            if freeze && converged[r] {
              for j in 0..<d { nxt[r * d + j] = cur[r * d + j] }
              sizes[r] = 0
              continue
            }
            let size = rowStep(UnsafeBufferPointer(nxt), cur, row: r, columns: d)
            if !size.isFinite {
              failedRow = r
              return
            }
            sizes[r] = size
            stepSizes[r].append(size)
            let now = size <= tolerance
            if now != converged[r] {
              converged[r] = now
              convergedCount += now ? 1 : -1
            }
          }
        }
      }
      if let r = failedRow { throw .nonFiniteState(row: r, step: step) }
      swap(&current, &next)
      if hasEnergy {
        probe.energies(of: rule, current, into: &energies, workspace: &workspace)
      }
      if hasEnergy || recordStates {
        for r in 0..<batch where stepSizes[r].count == step {
          if hasEnergy { energyHistories[r].append(energies[r]) }
          if recordStates { stateHistories[r].append(current.row(r)) }
        }
      }
      observe(
        Step(step: step, states: current, energies: hasEnergy ? energies : nil, stepSizes: sizes, converged: converged))
    }
    let trajectories = (0..<batch).map { r in
      Trajectory(
        energies: hasEnergy ? energyHistories[r] : nil, stepSizes: stepSizes[r],
        states: recordStates ? stateHistories[r] : nil, converged: converged[r])
    }
    return DynamicsResult(finalStates: current, trajectories: trajectories)
  }
}
