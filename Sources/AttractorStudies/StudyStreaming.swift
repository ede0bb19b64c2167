import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The patterns of a streamed dataset (`{"kind": "npy", "path": …, "stream": true}`): a 2-D float
/// `.npy` file memory-mapped read-only (``/AttractorIO/MappedNumPyMatrix``) and checked once, when
/// the study is loaded, in the study's precision; never loaded into memory.
///
/// What the checking pass finds (every entry finite, M = max ‖x_μ‖, the all-zero rows, the FNV-1a
/// fingerprint of the data bytes for the spec hash) is kept, so that the cells build their
/// networks without another pass (``/AttractorModels/StreamedModernHopfield/PatternStatistics``).
public struct StreamedPatternFile: Sendable {
  /// The mapped file.
  public let matrix: MappedNumPyMatrix
  /// The precision the file was checked in (the study's).
  public let precision: StudyPrecision
  let floatStatistics: StreamedModernHopfield<Float>.PatternStatistics?
  let doubleStatistics: StreamedModernHopfield<Double>.PatternStatistics?

  /// Maps and checks the file at `path` for a study run in `precision`.
  ///
  /// - Throws: ``/AttractorExperiments/DatasetError/badFile(path:reason:)`` naming what is wrong: the
  ///   file cannot be mapped or fails the `.npy` checks (``/AttractorIO/MappedNumPyError``), holds no
  ///   pattern, a NaN or infinite entry (row and column), or only all-zero patterns.
  public init(path: String, precision: StudyPrecision) throws(DatasetError) {
    guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path, hint: "") }
    let matrix: MappedNumPyMatrix
    do { matrix = try MappedNumPyMatrix(path: path) } catch { throw .badFile(path: path, reason: "\(error)") }
    self.matrix = matrix
    self.precision = precision
    let zeros: Int
    do {
      switch precision {
      case .float:
        let s = try StreamedModernHopfield<Float>.PatternStatistics(source: matrix, fingerprint: true)
        (floatStatistics, doubleStatistics, zeros) = (s, nil, s.zeroPatternCount)
      case .double:
        let s = try StreamedModernHopfield<Double>.PatternStatistics(source: matrix, fingerprint: true)
        (floatStatistics, doubleStatistics, zeros) = (nil, s, s.zeroPatternCount)
      }
    } catch {
      let reason: String
      switch error {
      case .nonFinitePattern(let row, let column):
        reason = "row \(row), column \(column) is NaN or infinite\(precision == .float ? " (read as Float)" : "")"
      case .emptyPatterns(let count, let dimension):
        reason = "a \(count) × \(dimension) array; it needs at least one pattern of at least one value"
      default: reason = "\(error)"
      }
      throw .badFile(path: path, reason: reason)
    }
    guard zeros < matrix.rows else {
      throw .badFile(
        path: path, reason: "every stored pattern is all zeros: none is nearest to any state; check the patterns")
    }
  }

  /// N.
  public var rows: Int { matrix.rows }
  /// d.
  public var columns: Int { matrix.columns }

  /// FNV-1a of the data bytes.
  var fingerprint: UInt64 { floatStatistics?.fingerprint ?? doubleStatistics?.fingerprint ?? 0 }

  /// The checking pass's statistics in `Scalar` (`nil` when the file was checked in the other precision).
  func statistics<Scalar: LinearAlgebraScalar>(as _: Scalar.Type)
    -> StreamedModernHopfield<Scalar>.PatternStatistics?
  {
    (floatStatistics as? StreamedModernHopfield<Scalar>.PatternStatistics)
      ?? (doubleStatistics as? StreamedModernHopfield<Scalar>.PatternStatistics)
  }

  /// Rows `indices` as doubles (B × d): the clean cues of a cell.
  func rows(at indices: [Int]) -> Matrix<Double> {
    var out = Matrix<Double>(rows: indices.count, columns: columns)
    var buffer: [Double] = []
    for (k, i) in indices.enumerated() {
      matrix.withRows(i..<(i + 1), as: Double.self, buffer: &buffer) { p in
        for j in 0..<columns { out[k, j] = p[j] }
      }
    }
    return out
  }
}

/// A ``StudyModelFactory`` whose model can also run over a memory-mapped pattern file that is
/// never loaded, so that it runs on streamed datasets (`"stream": true`) of any number of patterns.
///
/// Only the modern Hopfield network conforms (``ModernHopfieldFactory``): its update is
/// softmax(β Ξ Xᵀ) X, which an online softmax computes exactly (to rounding) over the file in
/// chunks, with memory bounded by the chunk and block sizes
/// (``/AttractorModels/StreamedModernHopfield``). A study that puts any other model on a streamed
/// dataset is refused when it is loaded, with the reason (``streamingRefusal(for:)``).
public protocol StreamingStudyModelFactory: StudyModelFactory {
  /// The network over the mapped patterns in `Scalar` precision, from the statistics of the
  /// file's checking pass (no further pass).
  func makeStreamed<Scalar: LinearAlgebraScalar>(
    source: MappedNumPyMatrix, statistics: StreamedModernHopfield<Scalar>.PatternStatistics
  ) throws -> StreamedModernHopfield<Scalar>
}

extension ModernHopfieldFactory: StreamingStudyModelFactory {
  /// ``/AttractorModels/StreamedModernHopfield`` with β rounded to `Scalar`, as the in-memory
  /// models of ``make(patterns:seed:)`` and ``makeSingle(patterns:seed:)``.
  public func makeStreamed<Scalar: LinearAlgebraScalar>(
    source: MappedNumPyMatrix, statistics: StreamedModernHopfield<Scalar>.PatternStatistics
  ) throws -> StreamedModernHopfield<Scalar> {
    try StreamedModernHopfield(source: source, beta: Scalar(beta), statistics: statistics)
  }
}

/// Why a model cannot run on a streamed dataset, for the error of a study file that asks for it.
///
/// - classical: its Hebbian W = ξᵀξ/d is d × d and one pass would build it, but measuring accuracy
///   needs a pass per checkpoint and its study path is the in-memory one: not implemented.
/// - dense-polynomial, dense-exponential: an update needs every pattern's overlap for every unit
///   (one pass per step would do), but their exact tie rules work on the patterns in memory: not
///   implemented.
/// - attention (trained or not): the projections are trained on, or applied to, all the patterns.
/// - pseudo-likelihood: its couplings are trained on all the patterns.
public func streamingRefusal(for model: String) -> String {
  let reasons: [String: String] = [
    ClassicalHopfieldFactory.name:
      "its Hebbian W = ξᵀξ/d could be built in one pass, but streamed accuracy and energy for it are not implemented",
    DensePolynomialFactory.name:
      "its update sums over every stored pattern per unit with exact tie rules written for patterns in memory; not implemented",
    DenseExponentialFactory.name:
      "its update sums over every stored pattern per unit with exact tie rules written for patterns in memory; not implemented",
    IterativeAttentionFactory.name:
      "its projections act on (and, when trained, are trained on) every stored pattern in memory",
    PseudoLikelihoodFactory.name: "its couplings are trained on every stored pattern in memory",
  ]
  return reasons[model] ?? "its factory does not conform to StreamingStudyModelFactory"
}

/// Whether models of `factory` run on streamed datasets.
func streams(_ factory: any StudyModelFactory.Type) -> Bool {
  (factory as? any StreamingStudyModelFactory.Type) != nil
}

/// The names of the models of `registry` that run on streamed datasets.
func streamingModels(in registry: StudyModelRegistry) -> [String] {
  registry.factories.filter { streams($0) }.map { $0.name }
}

extension RegimeMix {
  /// The regimes from each end state's largest and smallest attention weight alone (what a
  /// streamed cell has, without the B × N weights): k₉₀ = 1 exactly when the largest weight is
  /// ≥ the mass (0.9), and for k₉₀ > 1 the rule of ``/AttractorAnalysis/ClassificationThresholds``
  /// needs only the smallest weight. The same classes as ``of(_:thresholds:)`` under the default
  /// thresholds (single pattern for k₉₀ ≤ 1, the all-patterns global rule).
  static func of(largestWeights: [Double], smallestWeights: [Double], patternCount n: Int) -> RegimeMix {
    let thresholds = ClassificationThresholds()
    var counts: [FixedPointClass: Int] = [:]
    for r in largestWeights.indices {
      // As `of(_:)`: the mass loop stops after the first weight when it holds the mass.
      let k = n == 1 || largestWeights[r] >= thresholds.mass * (1 - 1e-12) ? 1 : 2
      counts[thresholds.regime(k: k, smallestWeight: smallestWeights[r], patternCount: n), default: 0] += 1
    }
    let total = Double(max(1, largestWeights.count))
    return RegimeMix(
      singlePattern: Double(counts[.singlePattern] ?? 0) / total, metastable: Double(counts[.metastable] ?? 0) / total,
      globalAverage: Double(counts[.globalAverage] ?? 0) / total)
  }
}

extension Study {
  /// The inputs of a cell on a streamed dataset: targets drawn from the file's N rows and queries
  /// corrupted from the targets' rows with the same seeded streams as an in-memory dataset of the
  /// same rows (``inputs(dataset:seed:corruption:level:patterns:)``), so both give the same
  /// queries; an overlap's distractor rows are read from the file. Nothing of size N is allocated.
  func streamedInputs(_ file: StreamedPatternFile, dataset d: Int, seed s: Int, corruption c: Int, level l: Int)
    throws(StudyRunError) -> CellInputs
  {
    let root = SeededGenerator(seed: spec.seeds[s])
    var targetRNG = root.derived(16 * d + 1)
    let targets = Corruption.randomTargets(count: spec.queries, patternCount: file.rows, using: &targetRNG)
    var corruptionRNG = root.derived(16 * d + 2).derived(c)
    let corruption = Corruption(kind: spec.corruptions[c].kind, level: spec.corruptions[c].levels[l])
    do {
      let made = try corruption.queries(
        corrupting: file.rows(at: targets), patternCount: file.rows, targets: targets, using: &corruptionRNG
      ) { other, row in
        var buffer: [Double] = []
        file.matrix.withRows(other..<(other + 1), as: Double.self, buffer: &buffer) { p in
          for j in 0..<file.columns { row[j] = p[j] }
        }
      }
      return CellInputs(
        patterns: Matrix(rows: 0, columns: file.columns), queries: made.queries, targets: targets, streamed: file)
    } catch {
      throw .cellFailed(cell: -1, message: "cannot make the queries: \(error)")  // the runner sets the cell
    }
  }

  /// Runs a cell of a streamed dataset with `factory`'s streamed network, in the study's precision.
  func runStreamed(
    _ factory: any StreamingStudyModelFactory, cell: StudyCell, inputs: CellInputs, file: StreamedPatternFile
  ) throws(StudyRunError) -> StudyCellResult {
    switch file.precision {
    case .float: try runStreamed(factory, cell: cell, inputs: inputs, file: file, as: Float.self)
    case .double: try runStreamed(factory, cell: cell, inputs: inputs, file: file, as: Double.self)
    }
  }

  /// A streamed cell: the measures of the in-memory cell (``runCell(_:cell:inputs:energy:make:)``)
  /// from passes over the file.
  ///
  /// Each pass over the states q_t (``/AttractorModels/StreamedModernHopfield/step(_:into:measures:workspace:)``)
  /// gives f(q_t) and, of q_t itself, the nearest pattern (accuracy), the energy and the largest
  /// and smallest attention weights (regime), so T steps take T + 1 passes (the last one only
  /// measures). The dynamics are ``/AttractorCore/SynchronousDynamics``' with frozen converged
  /// states: the same step sizes in `Scalar`, the same tolerance test, the same stop when every
  /// state has converged. The time per query at T is that of the T passes that computed the steps,
  /// which here include the fused measurements; the measuring-only last pass is not counted.
  func runStreamed<Scalar: LinearAlgebraScalar>(
    _ factory: any StreamingStudyModelFactory, cell: StudyCell, inputs: CellInputs, file: StreamedPatternFile,
    as _: Scalar.Type
  ) throws(StudyRunError) -> StudyCellResult {
    let clock = ContinuousClock()
    let setupStart = clock.now
    let label = spec.models[cell.model].label
    guard let statistics = file.statistics(as: Scalar.self) else {
      throw .cellFailed(cell: cell.index, message: "\(label): the streamed file was checked in another precision")
    }
    let network: StreamedModernHopfield<Scalar>
    do { network = try factory.makeStreamed(source: file.matrix, statistics: statistics) } catch {
      throw .cellFailed(cell: cell.index, message: "cannot build \(label): \(error)")
    }
    var current: Matrix<Scalar> = converted(inputs.queries)
    let b = current.rows
    let d = current.columns
    let n = network.patternCount
    for r in 0..<b {
      for j in 0..<d where !current[r, j].isFinite {
        throw .cellFailed(cell: cell.index, message: "\(label): \(DynamicsError.nonFiniteInitialState(row: r))")
      }
    }
    let targets = inputs.targets
    let tolerance = Scalar(spec.tolerance)
    var next = Matrix<Scalar>(rows: b, columns: d)
    var measures = StreamedModernHopfield<Scalar>.Measures(count: b)
    var workspace = network.makeWorkspace(batchSize: b)
    let regimes = factory.regimeRule == .attentionWeights
    func accuracy() -> Double {
      var hits = 0
      for r in 0..<b where measures.nearest[r] == targets[r] { hits += 1 }
      return Double(hits) / Double(b)
    }
    let setupSeconds = (clock.now - setupStart).seconds

    // Pass 0: f(q₀) and the measures of q₀.
    var dynamicsSeconds = 0.0
    var passStart = clock.now
    network.step(current, into: &next, measures: &measures, workspace: &workspace)
    dynamicsSeconds += (clock.now - passStart).seconds
    let initialAccuracy = accuracy()
    let initialEnergies = measures.energies

    let checkpoints = spec.steps
    let maxSteps = checkpoints.last ?? 0
    var firstConverged = [Int?](repeating: nil, count: b)
    var converged = [Bool](repeating: false, count: b)
    var convergedCount = 0
    var results: [StudyStepResult] = []

    /// The result at T from the measures of the current states.
    func measure(_ t: Int, seconds: Double) {
      var count = 0, stepSum = 0
      for r in 0..<b {
        if let s = firstConverged[r], s <= t {
          count += 1
          stepSum += s
        }
      }
      var drop = 0.0
      for r in 0..<b { drop += initialEnergies[r] - measures.energies[r] }
      let regime =
        regimes
        ? RegimeMix.of(
          largestWeights: measures.largestWeights, smallestWeights: measures.smallestWeights, patternCount: n) : nil
      results.append(
        StudyStepResult(
          steps: t, accuracy: accuracy(), convergedFraction: Double(count) / Double(b),
          meanStepsToConverge: count > 0 ? Double(stepSum) / Double(count) : nil, energyReduction: drop / Double(b),
          regime: regime, secondsPerQuery: seconds / Double(b)))
    }

    var t = 0
    while convergedCount < b && t < maxSteps {
      t += 1
      // `next` holds f(current) from the last pass.
      var failedRow: Int? = nil
      current.withUnsafeBufferPointer { cur in
        next.withUnsafeMutableBufferPointer { nxt in
          for r in 0..<b {
            if converged[r] {
              for j in 0..<d { nxt[r * d + j] = cur[r * d + j] }
              continue
            }
            var squared: Scalar = 0
            for j in 0..<d {
              let diff = nxt[r * d + j] - cur[r * d + j]
              squared += diff * diff
            }
            let size = squared.squareRoot()
            if !size.isFinite {
              failedRow = r
              return
            }
            if size <= tolerance {
              converged[r] = true
              firstConverged[r] = t
              convergedCount += 1
            }
          }
        }
      }
      if let r = failedRow {
        throw .cellFailed(cell: cell.index, message: "\(label): \(DynamicsError.nonFiniteState(row: r, step: t))")
      }
      swap(&current, &next)
      let continues = convergedCount < b && t < maxSteps
      guard continues || checkpoints.contains(where: { $0 >= t }) else { break }
      // The pass over q_t: the next step when the run continues, the measures of q_t always.
      passStart = clock.now
      network.step(current, into: &next, measures: &measures, workspace: &workspace)
      let seconds = dynamicsSeconds
      if continues { dynamicsSeconds += (clock.now - passStart).seconds }
      if checkpoints.contains(t) { measure(t, seconds: seconds) }
    }
    // Every state converged before the largest T: later steps change nothing.
    for later in checkpoints where later > t { measure(later, seconds: dynamicsSeconds) }

    let corruption = spec.corruptions[cell.corruption]
    return StudyCellResult(
      index: cell.index, model: label, dataset: spec.datasets[cell.dataset].label, corruption: corruption.kind,
      level: corruption.levels[cell.level], seed: spec.seeds[cell.seed], queries: b, patterns: n, dimension: d,
      initialAccuracy: initialAccuracy, steps: results, setupSeconds: setupSeconds, blasThreads: BLAS.threadCount,
      precision: Scalar.self == Float.self ? .float : .double)
  }
}
