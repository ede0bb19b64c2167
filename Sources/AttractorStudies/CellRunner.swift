import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import Foundation

/// Fractions of end states in each regime (they sum to 1).
public struct RegimeMix: Sendable, Equatable, Codable {
  /// k₉₀ = 1: one pattern holds 90 % of the weight.
  public var singlePattern: Double
  /// k₉₀ > 1 over a subset of the patterns.
  public var metastable: Double
  /// Weight spread over all patterns (every pᵢ ≥ a tenth of 1/N, the analysis layer's default
  /// ``/AttractorAnalysis/GlobalAverageRule/allPatterns`` judged from the weights alone).
  public var globalAverage: Double

  public init(singlePattern: Double, metastable: Double, globalAverage: Double) {
    self.singlePattern = singlePattern
    self.metastable = metastable
    self.globalAverage = globalAverage
  }

  /// The regime of each row of `weights` (B × N, rows summing to 1) by k₉₀ with the analysis
  /// layer's default thresholds (``/AttractorAnalysis/ClassificationThresholds``).
  static func of(_ weights: Matrix<Double>, thresholds: ClassificationThresholds = ClassificationThresholds())
    -> RegimeMix
  {
    let b = weights.rows, n = weights.columns
    var counts: [FixedPointClass: Int] = [:]
    var row = [Double](repeating: 0, count: n)
    weights.withUnsafeBufferPointer { w in
      for r in 0..<b {
        for j in 0..<n { row[j] = w[r * n + j] }
        row.sort(by: >)
        let smallest = row[n - 1]
        var mass = 0.0, k = 0
        while k < n && mass < thresholds.mass * (1 - 1e-12) {
          mass += row[k]
          k += 1
        }
        counts[thresholds.regime(k: max(1, k), smallestWeight: smallest, patternCount: n), default: 0] += 1
      }
    }
    let total = Double(max(1, b))
    return RegimeMix(
      singlePattern: Double(counts[.singlePattern] ?? 0) / total, metastable: Double(counts[.metastable] ?? 0) / total,
      globalAverage: Double(counts[.globalAverage] ?? 0) / total)
  }
}

/// What one cell measured after T steps.
public struct StudyStepResult: Sendable, Equatable, Codable {
  /// T.
  public var steps: Int
  /// Fraction of queries whose state after T steps is nearest (cosine) to its target among the
  /// model's stored (encoded) patterns.
  public var accuracy: Double
  /// Fraction of queries that converged (a step of size ≤ ε) at or before T.
  public var convergedFraction: Double
  /// Mean, over the queries converged by T, of the step at which they converged; `nil` if none.
  public var meanStepsToConverge: Double?
  /// mean_r [E(q₀,r) − E(q_T,r)] of the energy the rule descends; `nil` when it is not
  /// ``/AttractorCore/EnergyDescending``.
  public var energyReduction: Double?
  /// Regimes of the states after T steps; `nil` when the model's ``RegimeRule`` is `notApplicable`.
  public var regime: RegimeMix?
  /// Dynamics time to reach T, divided by the number of queries (monotonic clock; excludes model
  /// construction, query generation and every measurement).
  public var secondsPerQuery: Double
}

/// What one cell measured.
public struct StudyCellResult: Sendable, Equatable, Codable {
  public var index: Int
  /// Model label.
  public var model: String
  /// Dataset label.
  public var dataset: String
  public var corruption: Corruption.Kind
  public var level: Double
  /// The seed value (not its position).
  public var seed: UInt64
  public var queries: Int
  public var patterns: Int
  public var dimension: Int
  /// Accuracy of the (encoded) queries themselves, T = 0.
  public var initialAccuracy: Double
  /// One entry per T of the study, ascending.
  public var steps: [StudyStepResult]
  /// Model construction and encoding, in seconds (not in the per-query times).
  public var setupSeconds: Double
  /// OpenBLAS threads during the run.
  public var blasThreads: Int

  /// The result with every time set to 0 (for comparing runs, whose times always differ).
  public var withoutTimings: StudyCellResult {
    var copy = self
    copy.setupSeconds = 0
    for k in copy.steps.indices { copy.steps[k].secondsPerQuery = 0 }
    return copy
  }
}

/// The patterns and corrupted queries of one (dataset, seed, corruption, level): the same for
/// every model.
struct CellInputs {
  var patterns: Matrix<Double>
  var queries: Matrix<Double>
  var targets: [Int]
}

extension Study {
  /// Seeded streams: patterns (dataset, seed) → derived(16·dataset); targets → +1; corruption
  /// noise/subsets → +2 then the corruption's position (shared by its levels, so masks are nested
  /// and noise is scaled, level to level); model parameters → +3 then the model's position.
  func inputs(dataset d: Int, seed s: Int, corruption c: Int, level l: Int, patterns cached: Matrix<Double>?)
    throws(StudyRunError) -> CellInputs
  {
    let root = SeededGenerator(seed: spec.seeds[s])
    var patternRNG = root.derived(16 * d)
    let patterns = cached ?? sources[d].patterns(using: &patternRNG)
    var targetRNG = root.derived(16 * d + 1)
    let targets = Corruption.randomTargets(count: spec.queries, patternCount: patterns.rows, using: &targetRNG)
    var corruptionRNG = root.derived(16 * d + 2).derived(c)
    let corruption = Corruption(kind: spec.corruptions[c].kind, level: spec.corruptions[c].levels[l])
    do {
      let made = try corruption.queries(from: patterns, targets: targets, using: &corruptionRNG)
      return CellInputs(patterns: patterns, queries: made.queries, targets: targets)
    } catch {
      throw .cellFailed(cell: -1, message: "cannot make the queries: \(error)")  // the runner sets the cell
    }
  }

  func modelSeed(dataset d: Int, seed s: Int, model m: Int) -> UInt64 {
    var rng = SeededGenerator(seed: spec.seeds[s]).derived(16 * d + 3).derived(m)
    return rng.next()
  }

  /// Runs one cell on prepared inputs, through the factory so that the model's capabilities are
  /// those of its concrete type (``StudyModelFactory/run(_:)``).
  func run(cell: StudyCell, inputs: CellInputs) throws(StudyRunError) -> StudyCellResult {
    try factories[cell.model].run(StudyCellRun(study: self, cell: cell, inputs: inputs))
  }

  func runCell<Factory: StudyModelFactory, Energy: CellEnergy<Factory.Model>>(
    _ factory: Factory, cell: StudyCell, inputs: CellInputs, energy probe: Energy
  ) throws(StudyRunError) -> StudyCellResult {
    let clock = ContinuousClock()
    let setupStart = clock.now
    let binary = factory.encoding == .binary
    let patterns = binary ? Binarization.binarized(inputs.patterns) : inputs.patterns
    let queries = binary ? Binarization.binarized(inputs.queries, keepingZeros: true) : inputs.queries
    let model: Factory.Model
    do {
      model = try factory.make(
        patterns: patterns, seed: modelSeed(dataset: cell.dataset, seed: cell.seed, model: cell.model))
    } catch {
      throw .cellFailed(cell: cell.index, message: "cannot build \(spec.models[cell.model].label): \(error)")
    }
    let b = queries.rows
    let targets = inputs.targets
    var search = NearestPatternSearch(patterns: model.patterns)
    var nearest = [Int](repeating: -1, count: b)
    func accuracy(_ states: Matrix<Double>) -> Double {
      search.assign(states, into: &nearest)
      var hits = 0
      for r in 0..<b where nearest[r] == targets[r] { hits += 1 }
      return Double(hits) / Double(b)
    }
    let initialAccuracy = accuracy(queries)
    var measureWorkspace = model.makeWorkspace(batchSize: b)
    var initialEnergies = [Double](repeating: 0, count: b)
    let hasEnergy = probe.isMeasured
    if hasEnergy { probe.energies(of: model, queries, into: &initialEnergies, workspace: &measureWorkspace) }
    var energies = [Double](repeating: 0, count: b)
    let regimeRule = factory.regimeRule
    let setupSeconds = (clock.now - setupStart).seconds

    let checkpoints = spec.steps
    let maxSteps = checkpoints.last ?? 0
    var firstConverged = [Int?](repeating: nil, count: b)
    var results: [StudyStepResult] = []
    var observerTime = Duration.zero

    func measure(_ t: Int, states: Matrix<Double>, dynamicsSeconds: Double) {
      var convergedCount = 0, stepSum = 0
      for r in 0..<b {
        if let s = firstConverged[r], s <= t {
          convergedCount += 1
          stepSum += s
        }
      }
      var reduction: Double? = nil
      if hasEnergy {
        probe.energies(of: model, states, into: &energies, workspace: &measureWorkspace)
        var sum = 0.0
        for r in 0..<b { sum += initialEnergies[r] - energies[r] }
        reduction = sum / Double(b)
      }
      let regime = regimeRule == .attentionWeights ? RegimeMix.of(model.separation(states)) : nil
      results.append(
        StudyStepResult(
          steps: t, accuracy: accuracy(states), convergedFraction: Double(convergedCount) / Double(b),
          meanStepsToConverge: convergedCount > 0 ? Double(stepSum) / Double(convergedCount) : nil,
          energyReduction: reduction,
          regime: regime, secondsPerQuery: dynamicsSeconds / Double(b)))
    }

    let dynamics = SynchronousDynamics(maxSteps: maxSteps, tolerance: spec.tolerance, recordEnergies: false)
    let runStart = clock.now
    var lastStep = 0
    let outcome: DynamicsResult<Double>
    do {
      outcome = try dynamics.run(model, from: queries) { observed in
        let entered = clock.now
        lastStep = observed.step
        if observed.step > 0 {
          for r in 0..<b where observed.converged[r] && firstConverged[r] == nil { firstConverged[r] = observed.step }
          if checkpoints.contains(observed.step) {
            measure(
              observed.step, states: observed.states, dynamicsSeconds: (entered - runStart - observerTime).seconds)
          }
        }
        observerTime += clock.now - entered
      }
    } catch {
      throw .cellFailed(cell: cell.index, message: "\(spec.models[cell.model].label): \(error)")
    }
    // Every state converged before the largest T: later steps change nothing.
    let total = (clock.now - runStart - observerTime).seconds
    for t in checkpoints where t > lastStep { measure(t, states: outcome.finalStates, dynamicsSeconds: total) }

    let corruption = spec.corruptions[cell.corruption]
    return StudyCellResult(
      index: cell.index, model: spec.models[cell.model].label, dataset: spec.datasets[cell.dataset].label,
      corruption: corruption.kind, level: corruption.levels[cell.level], seed: spec.seeds[cell.seed], queries: b,
      patterns: patterns.rows, dimension: patterns.columns, initialAccuracy: initialAccuracy, steps: results,
      setupSeconds: setupSeconds, blasThreads: BLAS.threadCount)
  }
}

/// One cell of a study, ready to run: handed to ``StudyModelFactory/run(_:)``, which runs it with
/// the factory's model.
public struct StudyCellRun: @unchecked Sendable {
  let study: Study
  let cell: StudyCell
  let inputs: CellInputs
}

/// Whether a cell measures the energy column E(q₀) − E(q_T): chosen statically by the
/// ``StudyModelFactory/run(_:)`` default the factory's conformance picked.
protocol CellEnergy<Model> {
  associatedtype Model: UpdateRule where Model.Scalar == Double
  var isMeasured: Bool { get }
  func energies(
    of model: Model, _ states: Matrix<Double>, into energies: inout [Double], workspace: inout Model.Workspace)
}

/// No energy column (the model is not ``/AttractorCore/EnergyDescending``).
struct NoCellEnergy<Model: UpdateRule>: CellEnergy where Model.Scalar == Double {
  var isMeasured: Bool { false }
  func energies(
    of model: Model, _ states: Matrix<Double>, into energies: inout [Double], workspace: inout Model.Workspace
  ) {}
}

/// The descended energy.
struct DescendedCellEnergy<Model: EnergyDescending>: CellEnergy where Model.Scalar == Double {
  var isMeasured: Bool { true }
  func energies(
    of model: Model, _ states: Matrix<Double>, into energies: inout [Double], workspace: inout Model.Workspace
  ) {
    model.descendedEnergy(states, into: &energies, workspace: &workspace)
  }
}

extension StudyModelFactory {
  /// Runs the cell without the energy column.
  public func run(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    try cell.study.runCell(self, cell: cell.cell, inputs: cell.inputs, energy: NoCellEnergy<Model>())
  }
}

extension StudyModelFactory where Model: EnergyDescending {
  /// Runs the cell with the energy column: E(q₀) − E(q_T) of the model's descended energy.
  public func run(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    try cell.study.runCell(self, cell: cell.cell, inputs: cell.inputs, energy: DescendedCellEnergy<Model>())
  }
}
