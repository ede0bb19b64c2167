import AttractorCore
import AttractorLinearAlgebra

/// Runs any ``/AttractorCore/UpdateRule`` from a batch of queries for T steps and measures retrieval after every
/// step: the experiment behind `attractor recall`, and the inner loop of the iterative-attention
/// and comparative studies.
///
/// ```
/// q₀ = queries,  q_t = f(q_{t−1})  for t = 1 … T      (synchronous, batched)
/// recorded for t = 0 … T:
///   accuracy_t       = fraction of states whose nearest stored pattern (cosine) is the target
///   meanEnergy_t     = mean_r E(q_t,r)                  when the rule has an energy
///   meanStepSize_t   = mean_r ‖q_t,r − q_{t−1},r‖       (t ≥ 1)
///   convergedFraction_t = fraction of states with some step s ≤ t of size ≤ ε
/// ```
///
/// The energy is the one the rule descends
/// (``/AttractorCore/EnergyDescending/descendedEnergy(_:into:workspace:)``), so a new model gets energy
/// curves without the runner knowing about it. `run` is overloaded like ``/AttractorCore/Dynamics``:
/// energies are recorded when the rule's static type at the call site is
/// ``/AttractorCore/EnergyDescending``, and asynchronous runs use the coordinate-wise form when it
/// is ``/AttractorCore/CoordinateUpdatable`` (generic callers must carry those constraints).
///
/// Synchronous runs call ``/AttractorCore/UpdateRule/update(_:into:workspace:)`` on two preallocated B × d
/// buffers with one workspace: no allocation per step beyond the per-step records. With
/// ``freezesConvergedStates`` (the default, as in ``/AttractorCore/SynchronousDynamics``) a state stops at the
/// step where it converged, so the final states equal those of
/// `SynchronousDynamics(maxSteps: T, tolerance: ε)`; without it every state is iterated T times
/// (plain q_{t+1} = f(q_t), as in seed 000). Asynchronous runs use ``/AttractorCore/AsynchronousDynamics`` (one
/// step = one sweep over the coordinates in a seeded random order; a converged state stops) with
/// recorded states, so they hold B·(T+1)·d values while the metrics are computed.
public struct RecallExperiment: Sendable, Equatable, Codable {
  /// How the rule is applied. Encodes as `{"kind": "synchronous"}` or
  /// `{"kind": "asynchronous", "seed": …}`.
  public enum Schedule: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Every coordinate of every state at once.
    case synchronous
    /// One coordinate at a time in a random order seeded by `seed` (``/AttractorCore/AsynchronousDynamics``).
    case asynchronous(seed: UInt64)

    public var description: String {
      switch self {
      case .synchronous: "synchronous"
      case .asynchronous(let seed): "asynchronous (order seed \(seed))"
      }
    }
  }

  /// Number of steps T (≥ 0).
  public var steps: Int
  /// Convergence tolerance ε on the step size (finite, ≥ 0); a step of size ≤ ε has converged.
  public var tolerance: Double
  /// Synchronous or asynchronous updates.
  public var schedule: Schedule
  /// Whether a converged state stops moving (synchronous schedule; asynchronous always stops).
  public var freezesConvergedStates: Bool
  /// Whether to evaluate the rule's energy at every step (one more pass over the B × N logits for
  /// the modern network; turn off when only accuracy and convergence are needed).
  public var recordsEnergies: Bool

  public init(
    steps: Int = 10, tolerance: Double = 1e-6, schedule: Schedule = .synchronous, freezesConvergedStates: Bool = true,
    recordsEnergies: Bool = true
  ) {
    self.steps = steps
    self.tolerance = tolerance
    self.schedule = schedule
    self.freezesConvergedStates = freezesConvergedStates
    self.recordsEnergies = recordsEnergies
  }

  /// Checks `steps ≥ 0` and `tolerance` finite and ≥ 0.
  public func validate() throws(RecallError) {
    try RecallError.check(steps >= 0, "steps", steps, "at least 0")
    try RecallError.check(tolerance.isFinite && tolerance >= 0, "tolerance", tolerance, "finite and at least 0")
  }

  /// Runs `rule` from each row of `queries` for ``steps`` steps (no energies, full updates per
  /// coordinate when asynchronous). For an ``/AttractorCore/AssociativeMemory``, pass
  /// `patterns: memory.patterns` to score against its own stored patterns.
  ///
  /// - Parameters:
  ///   - rule: The update rule to run.
  ///   - patterns: The stored patterns accuracy is measured against (N × d).
  ///   - queries: Initial states (B × d, B ≥ 1, finite).
  ///   - targets: The pattern each query should retrieve (B indices in 0..<N), or `nil` to skip
  ///     accuracy.
  /// - Throws: ``RecallError`` for invalid parameters or shapes, and when the dynamics produce NaN
  ///   or infinity.
  public func run<Rule: UpdateRule>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int]?
  ) throws(RecallError) -> RecallRun<Rule.Scalar> {
    try run(RuleRuns(rule), patterns: patterns, queries: queries, targets: targets)
  }

  /// The same for a rule that descends an energy: its mean is recorded per step.
  public func run<Rule: EnergyDescending>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int]?
  ) throws(RecallError) -> RecallRun<Rule.Scalar> {
    try run(RuleRuns(rule), patterns: patterns, queries: queries, targets: targets)
  }

  /// The same for a rule with a coordinate-wise form (used by the asynchronous schedule).
  public func run<Rule: CoordinateUpdatable>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int]?
  ) throws(RecallError) -> RecallRun<Rule.Scalar> {
    try run(RuleRuns(rule), patterns: patterns, queries: queries, targets: targets)
  }

  /// The same for a rule with both.
  public func run<Rule: EnergyDescending & CoordinateUpdatable>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int]?
  ) throws(RecallError) -> RecallRun<Rule.Scalar> {
    try run(RuleRuns(rule), patterns: patterns, queries: queries, targets: targets)
  }

  /// A plain run that records `energy` of the states instead (a diagnostic the rule need not
  /// descend, such as an attention stack's), when ``recordsEnergies`` is set.
  ///
  /// Nothing guarantees that such an energy decreases along the run: it is reported as measured.
  public func run<Rule: UpdateRule>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int]?,
    energy: @escaping EnergyMeasure<Rule.Scalar>
  ) throws(RecallError) -> RecallRun<Rule.Scalar> {
    try run(
      RuleRuns(rule), patterns: patterns, queries: queries, targets: targets, energy: recordsEnergies ? energy : nil)
  }

  /// Writes an energy of each row of the states into the array (one value per row).
  public typealias EnergyMeasure<Scalar: LinearAlgebraScalar> = (Matrix<Scalar>, inout [Scalar]) -> Void

  /// The shared body; `rule` calls the dynamics overloads chosen for the rule's static type.
  private func run<Scalar: LinearAlgebraScalar>(
    _ rule: RuleRuns<Scalar>, patterns: Matrix<Scalar>, queries: Matrix<Scalar>, targets: [Int]?,
    energy: EnergyMeasure<Scalar>? = nil
  ) throws(RecallError) -> RecallRun<Scalar> {
    try validate()
    let b = queries.rows
    let d = queries.columns
    let n = patterns.rows
    try RecallError.checkPatterns(patterns)
    guard patterns.columns == rule.dimension else {
      throw .dimensionMismatch(what: "patterns", columns: patterns.columns, expected: rule.dimension)
    }
    guard d == rule.dimension else { throw .dimensionMismatch(what: "queries", columns: d, expected: rule.dimension) }
    guard b >= 1 else { throw .noQueries }
    if let targets {
      guard targets.count == b else { throw .targetCountMismatch(targets: targets.count, queries: b) }
      try RecallError.checkTargets(targets, patternCount: n)
    }
    for r in 0..<b {
      for j in 0..<d where !queries[r, j].isFinite { throw .nonFiniteQuery(row: r) }
    }
    var recorder = Recorder(patterns: patterns, batch: b, targets: targets, tolerance: tolerance)
    let finalStates: Matrix<Scalar>
    switch schedule {
    case .synchronous:
      finalStates = try runSynchronous(rule.synchronous, queries: queries, energy: energy, recorder: &recorder)
    case .asynchronous(let seed):
      finalStates = try runAsynchronous(
        rule.asynchronous, queries: queries, seed: seed, energy: energy, recorder: &recorder)
    }
    let result = recorder.finish(finalStates: finalStates, patternCount: n, dimension: d)
    return RecallRun(result: result, finalStates: finalStates)
  }

  private func runSynchronous<Scalar: LinearAlgebraScalar>(
    _ run: RuleRuns<Scalar>.SynchronousRun, queries: Matrix<Scalar>, energy: EnergyMeasure<Scalar>?,
    recorder: inout Recorder<Scalar>
  ) throws(RecallError) -> Matrix<Scalar> {
    var measured = [Scalar](repeating: 0, count: queries.rows)
    let dynamics = SynchronousDynamics(
      maxSteps: steps, tolerance: tolerance, recordEnergies: recordsEnergies,
      freezesConvergedStates: freezesConvergedStates)
    var lastStep = 0
    var lastEnergies: [Scalar]? = nil
    let outcome: DynamicsResult<Scalar>
    do {
      outcome = try run(dynamics, queries) { observed in
        var energies = observed.energies
        if let energy {
          energy(observed.states, &measured)
          energies = measured
        }
        if observed.step > 0 {
          for r in 0..<observed.converged.count where observed.converged[r] && recorder.stepsToConverge[r] == nil {
            recorder.markConverged(row: r, step: observed.step)
          }
        }
        recorder.record(
          step: observed.step, states: observed.states, energies: energies,
          stepSizes: observed.step == 0 ? nil : observed.stepSizes)
        lastStep = observed.step
        if observed.step == steps || observed.converged.allSatisfy({ $0 }) { lastEnergies = energies }
      }
    } catch {
      throw .dynamics(error)
    }
    // The dynamics stop once every state has converged; the remaining steps change nothing.
    if lastStep < steps {
      let zeros = [Scalar](repeating: 0, count: queries.rows)
      for t in (lastStep + 1)...steps {
        recorder.record(
          step: t, states: outcome.finalStates, energies: lastEnergies, stepSizes: zeros, sameStatesAsBefore: true)
      }
    }
    return outcome.finalStates
  }

  private func runAsynchronous<Scalar: LinearAlgebraScalar>(
    _ run: RuleRuns<Scalar>.AsynchronousRun, queries: Matrix<Scalar>, seed: UInt64, energy: EnergyMeasure<Scalar>?,
    recorder: inout Recorder<Scalar>
  ) throws(RecallError) -> Matrix<Scalar> {
    let dynamics = AsynchronousDynamics(
      maxSteps: steps, tolerance: tolerance, seed: seed, recordEnergies: recordsEnergies, recordStates: true)
    let outcome: DynamicsResult<Scalar>
    do {
      outcome = try run(dynamics, queries)
    } catch {
      throw .dynamics(error)
    }
    let b = queries.rows
    let d = queries.columns
    let trajectories = outcome.trajectories
    let hasEnergy = energy != nil || trajectories.allSatisfy { $0.energies != nil }
    var states = Matrix<Scalar>(rows: b, columns: d)
    var energies = [Scalar](repeating: 0, count: b)
    var sizes = [Scalar](repeating: 0, count: b)
    // Once every trajectory has ended (converged or out of sweeps), later steps repeat its states.
    let longest = trajectories.map { ($0.states?.count ?? steps + 1) - 1 }.max() ?? steps
    for t in 0...steps {
      if t > longest && t > 0 {
        for r in 0..<b { sizes[r] = 0 }
        recorder.record(
          step: t, states: states, energies: hasEnergy ? energies : nil, stepSizes: sizes, sameStatesAsBefore: true)
        continue
      }
      for (r, trajectory) in trajectories.enumerated() {
        // A trajectory stops where it converged; later steps repeat its last state.
        if let recorded = trajectory.states {
          states.setRow(r, to: recorded[min(t, recorded.count - 1)])
        }
        if energy == nil, let e = trajectory.energies { energies[r] = e[min(t, e.count - 1)] }
        sizes[r] = t >= 1 && t <= trajectory.stepSizes.count ? trajectory.stepSizes[t - 1] : 0
        if t >= 1 && t <= trajectory.stepSizes.count && trajectory.stepSizes[t - 1] <= Scalar(tolerance)
          && recorder.stepsToConverge[r] == nil
        {
          recorder.markConverged(row: r, step: t)
        }
      }
      if let energy { energy(states, &energies) }
      recorder.record(step: t, states: states, energies: hasEnergy ? energies : nil, stepSizes: t == 0 ? nil : sizes)
    }
    return outcome.finalStates
  }
}

extension RecallExperiment.Schedule: Codable {
  private enum CodingKeys: String, CodingKey { case kind, seed }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(String.self, forKey: .kind) {
    case "synchronous": self = .synchronous
    case "asynchronous": self = .asynchronous(seed: try container.decode(UInt64.self, forKey: .seed))
    case let other:
      throw DecodingError.dataCorruptedError(
        forKey: .kind, in: container, debugDescription: "unknown schedule \"\(other)\" (synchronous or asynchronous)")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .synchronous:
      try container.encode("synchronous", forKey: .kind)
    case .asynchronous(let seed):
      try container.encode("asynchronous", forKey: .kind)
      try container.encode(seed, forKey: .seed)
    }
  }
}

/// Retrieval measured at one step t of a ``RecallExperiment``.
public struct RecallStepMetrics: Sendable, Equatable, Codable {
  /// t (0 is the queries themselves).
  public var step: Int
  /// Fraction of states whose nearest stored pattern is the target; `nil` without targets.
  public var accuracy: Double?
  /// Mean energy of the states; `nil` when the rule has no energy.
  public var meanEnergy: Double?
  /// Mean of ‖q_t − q_{t−1}‖ over all states (a frozen state contributes 0); `nil` at t = 0.
  public var meanStepSize: Double?
  /// Fraction of states that have converged at or before step t.
  public var convergedFraction: Double

  public init(step: Int, accuracy: Double?, meanEnergy: Double?, meanStepSize: Double?, convergedFraction: Double) {
    self.step = step
    self.accuracy = accuracy
    self.meanEnergy = meanEnergy
    self.meanStepSize = meanStepSize
    self.convergedFraction = convergedFraction
  }
}

/// What a ``RecallExperiment`` measured (everything but the final states, so it encodes to JSON).
public struct RecallResult: Sendable, Equatable, Codable {
  /// Number of queries B.
  public var queryCount: Int
  /// Number of stored patterns N.
  public var patternCount: Int
  /// Dimension d.
  public var dimension: Int
  /// Metrics for t = 0 … T.
  public var steps: [RecallStepMetrics]
  /// Per query: the first step whose size was ≤ ε, or `nil` if it never converged.
  public var stepsToConverge: [Int?]
  /// Per query: the nearest stored pattern (cosine) of the final state, `nil` for a zero state.
  public var finalNearestPatterns: [Int?]
  /// The targets accuracy was measured against, if any.
  public var targets: [Int]?

  public init(
    queryCount: Int, patternCount: Int, dimension: Int, steps: [RecallStepMetrics], stepsToConverge: [Int?],
    finalNearestPatterns: [Int?], targets: [Int]?
  ) {
    self.queryCount = queryCount
    self.patternCount = patternCount
    self.dimension = dimension
    self.steps = steps
    self.stepsToConverge = stepsToConverge
    self.finalNearestPatterns = finalNearestPatterns
    self.targets = targets
  }

  /// Accuracy after the last step; `nil` without targets.
  public var finalAccuracy: Double? { steps.last?.accuracy }

  /// Fraction of queries that converged within the run.
  public var convergedFraction: Double { steps.last?.convergedFraction ?? 0 }

  /// Mean ± standard error of the steps to converge over the queries that converged; `nil` if none did.
  public var stepsToConvergeSummary: MeanAndStandardError? {
    MeanAndStandardError(stepsToConverge.compactMap { $0.map(Double.init) })
  }

  /// Whether the recorded mean energy never increased by more than `slack` from one step to the next
  /// (`true` when the rule has no energy).
  public func meanEnergyIsNonIncreasing(slack: Double = 0) -> Bool {
    let e = steps.compactMap(\.meanEnergy)
    return zip(e, e.dropFirst()).allSatisfy { $1 <= $0 + slack }
  }
}

/// A ``RecallResult`` with the final states.
public struct RecallRun<Scalar: LinearAlgebraScalar>: Sendable {
  /// The measurements.
  public let result: RecallResult
  /// Final state of each query, one per row (B × d).
  public let finalStates: Matrix<Scalar>

  public init(result: RecallResult, finalStates: Matrix<Scalar>) {
    self.result = result
    self.finalStates = finalStates
  }
}

/// Errors raised by ``RecallExperiment``.
public enum RecallError: InvalidParameterError, TargetError, Equatable, Sendable, CustomStringConvertible {
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// No patterns, or patterns of dimension 0.
  case emptyPatterns(count: Int, dimension: Int)
  /// The queries (or patterns) have the wrong number of columns for the rule.
  case dimensionMismatch(what: String, columns: Int, expected: Int)
  /// There are no queries.
  case noQueries
  /// The number of targets differs from the number of queries.
  case targetCountMismatch(targets: Int, queries: Int)
  /// `targets[position] = value` is not a row of the patterns.
  case targetOutOfRange(position: Int, value: Int, patternCount: Int)
  /// A query holds NaN or infinity.
  case nonFiniteQuery(row: Int)
  /// The dynamics failed (for example a state became NaN).
  case dynamics(DynamicsError)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      return Self.invalidParameterMessage(name: name, value: value, requirement: requirement)
    case .emptyPatterns(let count, let dimension):
      return PatternMessages.empty("recall", count: count, dimension: dimension)
    case .dimensionMismatch(let what, let columns, let expected):
      return "\(what) have \(columns) columns but the model works in dimension \(expected)"
    case .noQueries:
      return "recall needs at least one query"
    case .targetCountMismatch(let targets, let queries):
      return "there are \(targets) targets for \(queries) queries; give one target per query"
    case .targetOutOfRange(let position, let value, let count):
      return PatternMessages.targetOutOfRange(position: position, value: value, patternCount: count)
    case .nonFiniteQuery(let row):
      return "query \(row) contains NaN or infinity"
    case .dynamics(let error):
      return error.description
    }
  }
}

// MARK: - Dynamics

/// One rule's synchronous and asynchronous runs, bundled so the shared body of
/// ``RecallExperiment`` runs any rule. Each initialiser calls the dynamics overloads its `Rule`
/// constraint selects, so the choice (energies recorded, coordinate form used) is made from the
/// rule's static type at the call site, as in ``/AttractorCore/Dynamics``.
struct RuleRuns<Scalar: LinearAlgebraScalar> {
  typealias SynchronousRun = (
    SynchronousDynamics, Matrix<Scalar>, (SynchronousDynamics.Step<Scalar>) -> Void
  ) throws(DynamicsError) -> DynamicsResult<Scalar>
  typealias AsynchronousRun = (AsynchronousDynamics, Matrix<Scalar>) throws(DynamicsError) -> DynamicsResult<Scalar>

  /// The rule's dimension d.
  let dimension: Int
  let synchronous: SynchronousRun
  let asynchronous: AsynchronousRun

  init<Rule: UpdateRule>(_ rule: Rule) where Rule.Scalar == Scalar {
    dimension = rule.dimension
    synchronous = { d, q, o throws(DynamicsError) in try d.run(rule, from: q, observe: o) }
    asynchronous = { d, q throws(DynamicsError) in try d.run(rule, from: q) }
  }

  init<Rule: EnergyDescending>(_ rule: Rule) where Rule.Scalar == Scalar {
    dimension = rule.dimension
    synchronous = { d, q, o throws(DynamicsError) in try d.run(rule, from: q, observe: o) }
    asynchronous = { d, q throws(DynamicsError) in try d.run(rule, from: q) }
  }

  init<Rule: CoordinateUpdatable>(_ rule: Rule) where Rule.Scalar == Scalar {
    dimension = rule.dimension
    synchronous = { d, q, o throws(DynamicsError) in try d.run(rule, from: q, observe: o) }
    asynchronous = { d, q throws(DynamicsError) in try d.run(rule, from: q) }
  }

  init<Rule: EnergyDescending & CoordinateUpdatable>(_ rule: Rule) where Rule.Scalar == Scalar {
    dimension = rule.dimension
    synchronous = { d, q, o throws(DynamicsError) in try d.run(rule, from: q, observe: o) }
    asynchronous = { d, q throws(DynamicsError) in try d.run(rule, from: q) }
  }
}

// MARK: - Recording

/// Accumulates per-step metrics; owns the nearest-pattern buffers so recording does not allocate.
struct Recorder<Scalar: LinearAlgebraScalar> {
  var search: NearestPatternSearch<Scalar>
  var nearest: [Int]
  let targets: [Int]?
  let tolerance: Double
  let batch: Int
  var stepsToConverge: [Int?]
  var convergedCount = 0
  var metrics: [RecallStepMetrics] = []

  init(patterns: Matrix<Scalar>, batch: Int, targets: [Int]?, tolerance: Double) {
    search = NearestPatternSearch(patterns: patterns)
    nearest = [Int](repeating: -1, count: batch)
    self.targets = targets
    self.tolerance = tolerance
    self.batch = batch
    stepsToConverge = [Int?](repeating: nil, count: batch)
  }

  mutating func markConverged(row: Int, step: Int) {
    stepsToConverge[row] = step
    convergedCount += 1
  }

  mutating func record(
    step: Int, states: Matrix<Scalar>, energies: [Scalar]?, stepSizes: [Scalar]?, sameStatesAsBefore: Bool = false
  ) {
    var accuracy: Double? = nil
    if let targets {
      if sameStatesAsBefore, let last = metrics.last {
        accuracy = last.accuracy
      } else {
        search.assign(states, into: &nearest)
        var hits = 0
        for r in 0..<batch where nearest[r] == targets[r] { hits += 1 }
        accuracy = Double(hits) / Double(batch)
      }
    }
    let meanEnergy = energies.map { e in e.reduce(0.0) { $0 + Double($1) } / Double(batch) }
    let meanStep = stepSizes.map { s in s.reduce(0.0) { $0 + Double($1) } / Double(batch) }
    metrics.append(
      RecallStepMetrics(
        step: step, accuracy: accuracy, meanEnergy: meanEnergy, meanStepSize: meanStep,
        convergedFraction: Double(convergedCount) / Double(batch)))
  }

  mutating func finish(finalStates: Matrix<Scalar>, patternCount: Int, dimension: Int) -> RecallResult {
    search.assign(finalStates, into: &nearest)
    return RecallResult(
      queryCount: batch, patternCount: patternCount, dimension: dimension, steps: metrics,
      stepsToConverge: stepsToConverge, finalNearestPatterns: nearest.map { $0 >= 0 ? $0 : nil }, targets: targets)
  }
}
