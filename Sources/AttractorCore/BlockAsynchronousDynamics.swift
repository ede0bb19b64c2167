import AttractorLinearAlgebra

/// A rule whose state splits into blocks (tokens) that can be updated one at a time, the other
/// blocks held.
///
/// ```
/// x = (x_0, …, x_{K−1}),   x_k ← f_k(x)   (x_{−k} held)
/// ```
///
/// ``BlockAsynchronousDynamics`` uses it. The property relied on: ``updateBlock(_:of:workspace:)``
/// sets block k of a `1 × d` state to the value block k would have after a full synchronous update
/// of that same state (up to rounding), and changes no other block.
public protocol BlockUpdatable<Scalar>: UpdateRule {
  associatedtype Scalar
  /// Number of blocks K.
  var blockCount: Int { get }
  /// Sets block `k` of `state` (`1 × d`) to f_k(state), in place.
  func updateBlock(_ k: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace)
}

/// Updates one block (token) of a state at a time, in a fresh seeded random order each sweep.
///
/// ```
/// for each sweep t, for k in a random permutation of 0..<K:
///     x_k ← f_k(x)        (all other blocks held at their current values)
/// ```
///
/// One step of the trajectory is one sweep over the K blocks; its step size is ‖x_t − x_{t−1}‖ over
/// the sweep. Each state uses its own random stream derived from `seed` and its row index, so a
/// state's result does not depend on the rest of the batch. The rule must be ``BlockUpdatable``
/// (checked at run time through the plain ``Dynamics`` requirement; any other rule is refused with
/// ``DynamicsError/invalidParameter(name:value:requirement:)``). No energies are recorded: a rule
/// with block updates and a descended energy would use ``AsynchronousDynamics`` semantics per
/// coordinate instead.
public struct BlockAsynchronousDynamics: Dynamics {
  /// When to stop (`maxSteps` counts sweeps).
  public var stopping: StoppingCriterion
  /// Seed of the block orders.
  public var seed: UInt64
  /// Record the state after each sweep.
  public var recordStates: Bool

  public init(maxSteps: Int, tolerance: Double = 1e-6, seed: UInt64 = 0, recordStates: Bool = false) {
    self.stopping = StoppingCriterion(maxSteps: maxSteps, tolerance: tolerance)
    self.seed = seed
    self.recordStates = recordStates
  }

  /// Runs a ``BlockUpdatable`` rule block by block; throws for any other rule.
  public func run<Rule: UpdateRule>(
    _ rule: Rule, from initialStates: Matrix<Rule.Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Rule.Scalar> {
    guard let blocks = rule as? any BlockUpdatable<Rule.Scalar> else {
      throw .invalidParameter(
        name: "rule", value: "\(Rule.self)", requirement: "BlockUpdatable for block-asynchronous dynamics")
    }
    return try runBlocks(blocks, from: initialStates)
  }

  func runBlocks<Scalar, Rule: BlockUpdatable>(
    _ rule: Rule, from initialStates: Matrix<Scalar>
  ) throws(DynamicsError) -> DynamicsResult<Scalar> where Rule.Scalar == Scalar {
    let (batch, d, tolerance) = try stopping.validateRun(of: rule, from: initialStates)
    let root = SeededGenerator(seed: seed)
    var result = initialStates
    var state = Matrix<Scalar>(rows: 1, columns: d)
    var previous = Matrix<Scalar>(rows: 1, columns: d)
    var workspace = rule.makeWorkspace(batchSize: 1)
    var order = [Int](repeating: 0, count: rule.blockCount)
    var trajectories: [Trajectory<Scalar>] = []
    trajectories.reserveCapacity(batch)
    for r in 0..<batch {
      var rng = root.derived(r)
      state.copyRow(r, of: initialStates, to: 0)
      var stepSizes: [Scalar] = []
      var states: [[Scalar]]? = recordStates ? [state.elements] : nil
      var converged = false
      var sweep = 0
      while sweep < stopping.maxSteps {
        sweep += 1
        previous.assign(state)
        rng.shuffle(&order)
        for k in order { rule.updateBlock(k, of: &state, workspace: &workspace) }
        let size = state.withUnsafeBufferPointer { s in
          previous.withUnsafeBufferPointer { p in rowStep(s, p, row: 0, columns: d) }
        }
        guard size.isFinite else { throw .nonFiniteState(row: r, step: sweep) }
        stepSizes.append(size)
        if recordStates { states!.append(state.elements) }
        if size <= tolerance {
          converged = true
          break
        }
      }
      result.copyRow(0, of: state, to: r)
      trajectories.append(Trajectory(energies: nil, stepSizes: stepSizes, states: states, converged: converged))
    }
    return DynamicsResult(finalStates: result, trajectories: trajectories)
  }
}
