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
  static func of<Scalar: LinearAlgebraScalar>(
    _ weights: Matrix<Scalar>, thresholds: ClassificationThresholds = ClassificationThresholds()
  ) -> RegimeMix {
    let b = weights.rows, n = weights.columns
    var counts: [FixedPointClass: Int] = [:]
    var row = [Double](repeating: 0, count: n)
    weights.withUnsafeBufferPointer { w in
      for r in 0..<b {
        for j in 0..<n { row[j] = Double(w[r * n + j]) }
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
  /// The precision the model ran in (`nil` in the cells of runs made before studies had a
  /// precision: those ran in double precision).
  public var precision: StudyPrecision?

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
  /// The stored patterns (0 × d for a streamed dataset, whose patterns stay in their file).
  var patterns: Matrix<Double>
  var queries: Matrix<Double>
  var targets: [Int]
  /// The file of a streamed dataset.
  var streamed: StreamedPatternFile? = nil
}

extension Study {
  /// Seeded streams: patterns (dataset, seed) → derived(16·dataset); targets → +1; corruption
  /// noise/subsets → +2 then the corruption's position (shared by its levels, so masks are nested
  /// and noise is scaled, level to level); model parameters → +3 then the model's position.
  func inputs(dataset d: Int, seed s: Int, corruption c: Int, level l: Int, patterns cached: Matrix<Double>?)
    throws(StudyRunError) -> CellInputs
  {
    if case .streamed(let file) = sources[d] {
      return try streamedInputs(file, dataset: d, seed: s, corruption: c, level: l)
    }
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
    if let file = inputs.streamed {
      guard let factory = factories[cell.model] as? any StreamingStudyModelFactory else {
        throw .cellFailed(
          cell: cell.index,
          message:
            "\(spec.models[cell.model].label) cannot run on a streamed dataset: \(streamingRefusal(for: spec.models[cell.model].model))"
        )
      }
      return try runStreamed(factory, cell: cell, inputs: inputs, file: file)
    }
    return try factories[cell.model].run(StudyCellRun(study: self, cell: cell, inputs: inputs))
  }

  /// Runs one cell with the model `make` builds from the (encoded) patterns in `Model.Scalar`
  /// precision: the inputs, drawn in double precision, are rounded to that precision first.
  func runCell<Factory: StudyModelFactory, Model: UpdateRule & AssociativeMemory, Energy: CellEnergy<Model>>(
    _ factory: Factory, cell: StudyCell, inputs: CellInputs, energy probe: Energy,
    make: (Matrix<Model.Scalar>, UInt64) throws -> Model
  ) throws(StudyRunError) -> StudyCellResult {
    typealias Scalar = Model.Scalar
    let clock = ContinuousClock()
    let setupStart = clock.now
    let binary = factory.encoding == .binary
    let patterns: Matrix<Scalar> = converted(
      binary ? Binarization.binarized(inputs.patterns) : inputs.patterns)
    let queries: Matrix<Scalar> = converted(
      binary ? Binarization.binarized(inputs.queries, keepingZeros: true) : inputs.queries)
    let model: Model
    do {
      model = try make(patterns, modelSeed(dataset: cell.dataset, seed: cell.seed, model: cell.model))
    } catch {
      throw .cellFailed(cell: cell.index, message: "cannot build \(spec.models[cell.model].label): \(error)")
    }
    let b = queries.rows
    let targets = inputs.targets
    var search = NearestPatternSearch(patterns: model.patterns)
    var nearest = [Int](repeating: -1, count: b)
    func accuracy(_ states: Matrix<Scalar>) -> Double {
      search.assign(states, into: &nearest)
      var hits = 0
      for r in 0..<b where nearest[r] == targets[r] { hits += 1 }
      return Double(hits) / Double(b)
    }
    let initialAccuracy = accuracy(queries)
    var measureWorkspace = model.makeWorkspace(batchSize: b)
    var initialEnergies = [Scalar](repeating: 0, count: b)
    let hasEnergy = probe.isMeasured
    if hasEnergy { probe.energies(of: model, queries, into: &initialEnergies, workspace: &measureWorkspace) }
    var energies = [Scalar](repeating: 0, count: b)
    let regimeRule = factory.regimeRule
    let setupSeconds = (clock.now - setupStart).seconds

    let checkpoints = spec.steps
    let maxSteps = checkpoints.last ?? 0
    var firstConverged = [Int?](repeating: nil, count: b)
    var results: [StudyStepResult] = []
    var observerTime = Duration.zero

    func measure(_ t: Int, states: Matrix<Scalar>, dynamicsSeconds: Double) {
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
        for r in 0..<b { sum += Double(initialEnergies[r]) - Double(energies[r]) }
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
    let outcome: DynamicsResult<Scalar>
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
      setupSeconds: setupSeconds, blasThreads: BLAS.threadCount, precision: Scalar.self == Float.self ? .float : .double
    )
  }
}

/// `m` rounded to `Scalar` (the same matrix when `Scalar` is `Double`).
func converted<Scalar: LinearAlgebraScalar>(_ m: Matrix<Double>) -> Matrix<Scalar> {
  if let same = m as? Matrix<Scalar> { return same }
  return Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map { Scalar($0) })
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
  associatedtype Model: UpdateRule
  var isMeasured: Bool { get }
  func energies(
    of model: Model, _ states: Matrix<Model.Scalar>, into energies: inout [Model.Scalar],
    workspace: inout Model.Workspace)
}

/// No energy column (the model is not ``/AttractorCore/EnergyDescending``).
struct NoCellEnergy<Model: UpdateRule>: CellEnergy {
  var isMeasured: Bool { false }
  func energies(
    of model: Model, _ states: Matrix<Model.Scalar>, into energies: inout [Model.Scalar],
    workspace: inout Model.Workspace
  ) {}
}

/// The descended energy.
struct DescendedCellEnergy<Model: EnergyDescending>: CellEnergy {
  var isMeasured: Bool { true }
  func energies(
    of model: Model, _ states: Matrix<Model.Scalar>, into energies: inout [Model.Scalar],
    workspace: inout Model.Workspace
  ) {
    model.descendedEnergy(states, into: &energies, workspace: &workspace)
  }
}

/// A ``StudyModelFactory`` that can also build its model in single precision, so that it runs in
/// `Float` in studies whose ``StudySpec/precision`` is ``StudyPrecision/float`` (the default).
/// Factories without it run in double precision in every study.
///
/// Conform by adding ``makeSingle(patterns:seed:)``; the energy column is measured in single
/// precision when `SingleModel` is ``/AttractorCore/EnergyDescending`` (chosen when the factory
/// conforms, as for ``StudyModelFactory/Model``). `makeSingle` must build the same model as
/// ``StudyModelFactory/make(patterns:seed:)`` with its parameters rounded to `Float`.
public protocol SinglePrecisionStudyModelFactory: StudyModelFactory {
  /// The model built for a cell of a single-precision study.
  associatedtype SingleModel: UpdateRule & AssociativeMemory where SingleModel.Scalar == Float
  /// The model storing `patterns` (already encoded and rounded to `Float`).
  func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> SingleModel
  /// Builds the single-precision model for one cell and runs it. Provided: do not implement.
  func runSingle(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult
}

extension SinglePrecisionStudyModelFactory {
  /// Runs the cell in single precision without the energy column.
  public func runSingle(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    try cell.study.runCell(
      self, cell: cell.cell, inputs: cell.inputs, energy: NoCellEnergy<SingleModel>(),
      make: { try makeSingle(patterns: $0, seed: $1) })
  }
}

extension SinglePrecisionStudyModelFactory where SingleModel: EnergyDescending {
  /// Runs the cell in single precision with the energy column.
  public func runSingle(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    try cell.study.runCell(
      self, cell: cell.cell, inputs: cell.inputs, energy: DescendedCellEnergy<SingleModel>(),
      make: { try makeSingle(patterns: $0, seed: $1) })
  }
}

extension StudyCellRun {
  /// The cell run in single precision, when the study asks for it and `factory` can; else `nil`.
  func singlePrecision(_ factory: some StudyModelFactory) throws(StudyRunError) -> StudyCellResult? {
    guard study.spec.precision == .float, let single = factory as? any SinglePrecisionStudyModelFactory else {
      return nil
    }
    return try single.runSingle(self)
  }
}

extension StudyModelFactory {
  /// Runs the cell without the energy column (in single precision when the study and the factory
  /// allow it).
  public func run(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    if let result = try cell.singlePrecision(self) { return result }
    return try cell.study.runCell(
      self, cell: cell.cell, inputs: cell.inputs, energy: NoCellEnergy<Model>(),
      make: { try make(patterns: $0, seed: $1) })
  }
}

extension StudyModelFactory where Model: EnergyDescending {
  /// Runs the cell with the energy column: E(q₀) − E(q_T) of the model's descended energy (in
  /// single precision when the study and the factory allow it).
  public func run(_ cell: StudyCellRun) throws(StudyRunError) -> StudyCellResult {
    if let result = try cell.singlePrecision(self) { return result }
    return try cell.study.runCell(
      self, cell: cell.cell, inputs: cell.inputs, energy: DescendedCellEnergy<Model>(),
      make: { try make(patterns: $0, seed: $1) })
  }
}
