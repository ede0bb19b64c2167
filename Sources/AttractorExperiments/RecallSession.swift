import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// One recall run as `attractor recall` describes it: stored patterns (random, from a file or a
/// model folder), queries (corrupted random targets or from a file), a model and its dynamics.
///
/// ``run()`` makes the inputs, iterates the model with ``RecallExperiment`` and returns the
/// ``RecallOutput``; the final states are written to ``output`` when it is set. Random streams
/// (derived from ``seed``): 0 patterns, 1 targets, 2 corruptions, 3 the asynchronous order.
/// Random patterns have N(0, 1/d) entries (signs of them for the classical model).
public struct RecallSession: Sendable {
  /// Where the stored patterns come from.
  public enum Patterns: Sendable, Equatable {
    /// `count` random N(0, 1/d) patterns of dimension `dimension`.
    case random(count: Int, dimension: Int)
    /// A 2-D `.npy` file, one pattern per row.
    case file(String)
    /// The memory of a trained iterative-attention model folder (run in float precision).
    case modelFolder(String)
  }

  /// Where the queries come from.
  public enum Queries: Sendable, Equatable {
    /// `count` queries made from random targets with `corruption` at `level` (defaults: noise,
    /// flip for the classical model; the kind's ``Corruption/Kind/defaultLevel``).
    case generated(count: Int, corruption: Corruption.Kind?, level: Double?)
    /// A 2-D `.npy` file of queries, with an optional 1-D `.npy` file of target indices.
    case file(String, targets: String?)
  }

  /// Default β of the modern network.
  public static let defaultBeta = 16.0
  /// Most steps accepted (each step keeps one row of metrics).
  public static let maxSteps = 1_000_000

  public var patterns: Patterns
  public var queries: Queries
  /// The model (`.iterativeAttention` with a model folder).
  public var model: RecallModel
  /// β of the modern network (default ``defaultBeta``).
  public var beta: Double?
  /// Steps T (asynchronous: sweeps).
  public var maxSteps: Int
  /// A step ‖q_t − q_{t−1}‖ ≤ tolerance has converged.
  public var tolerance: Double
  public var precision: Precision
  public var asynchronous: Bool
  public var seed: UInt64
  /// A `.npy` file for the final states, or `nil`.
  public var output: String?
  /// Version recorded in the report.
  public var version: String
  /// Whether to memory-map the `.file` patterns and stream them in chunks instead of loading them
  /// (`--stream-patterns`; modern network, synchronous updates).
  public var streamsPatterns = false

  public init(
    patterns: Patterns, queries: Queries, model: RecallModel, beta: Double?, maxSteps: Int, tolerance: Double,
    precision: Precision, asynchronous: Bool, seed: UInt64, output: String?, version: String
  ) {
    self.patterns = patterns
    self.queries = queries
    self.model = model
    self.beta = beta
    self.maxSteps = maxSteps
    self.tolerance = tolerance
    self.precision = precision
    self.asynchronous = asynchronous
    self.seed = seed
    self.output = output
    self.version = version
  }

  /// The corruption of generated queries: the given one, else flip for the classical model and
  /// noise for the others.
  public var corruption: Corruption.Kind {
    if case .generated(_, let kind?, _) = queries { return kind }
    return model == .classical ? .flip : .noise
  }

  /// Checks the sizes known before any file is read: every matrix within ``MatrixSizeLimit`` and
  /// overlap corruption with at least two patterns.
  public func validate() throws(InputError) {
    if case .generated = queries, corruption == .overlap, case .random(let count, _) = patterns, count < 2 {
      throw InputError(
        "--corruption overlap blends the target with another stored pattern, so it needs --count ≥ 2, got \(count)")
    }
    if case .random(let n, let d) = patterns {
      try MatrixSizeLimit.check(rows: n, columns: d, what: "--count × --dimension")
      if model == .classical {
        try MatrixSizeLimit.check(rows: d, columns: d, what: "the classical weight matrix d × d")
      }
      if case .generated(let b, _, _) = queries {
        try MatrixSizeLimit.check(rows: b, columns: d, what: "--query-count × --dimension")
        try MatrixSizeLimit.check(rows: b, columns: n, what: "--query-count × --count")
      }
    }
  }

  /// Runs the recall and writes the final states to ``output`` when set.
  public func run() throws(InputError) -> RecallOutput {
    do {
      if case .modelFolder = patterns { return try run(as: Float.self) }
      if streamsPatterns {
        switch precision {
        case .float: return try runStreamed(as: Float.self)
        case .double: return try runStreamed(as: Double.self)
        }
      }
      switch precision {
      case .float: return try run(as: Float.self)
      case .double: return try run(as: Double.self)
      }
    } catch let error as InputError {
      throw error
    } catch {
      throw InputError("\(error)")
    }
  }

  /// Notes on stored patterns that make retrieval degenerate, or an error when it is meaningless:
  /// every pattern zero (no nearest pattern by cosine) is an ``InputError``; zero patterns among
  /// others, and patterns all identical (no query can be told apart), are notes.
  static func patternWarnings<Scalar: LinearAlgebraScalar>(_ x: Matrix<Scalar>) throws(InputError) -> [String] {
    let n = x.rows
    let zeroRows = (0..<n).filter { i in x.row(i).allSatisfy { $0 == 0 } }
    if zeroRows.count == n {
      throw InputError(
        "every stored pattern is all zeros: no pattern is nearest to any state, so retrieval is meaningless; check the patterns"
      )
    }
    var notes: [String] = []
    if !zeroRows.isEmpty {
      let listed = zeroRows.prefix(5).map(String.init).joined(separator: ", ") + (zeroRows.count > 5 ? ", …" : "")
      notes.append(
        "warning: \(zeroRows.count) of the \(n) stored patterns are all zeros (rows \(listed)); they are never retrieved"
      )
    }
    if n >= 2 {
      let first = x.row(0)
      if (1..<n).allSatisfy({ x.row($0) == first }) {
        notes.append(
          "warning: all \(n) stored patterns are identical: queries cannot be told apart, so accuracy measures nothing")
      }
    }
    return notes
  }

  /// Queries (and optional targets) read from files, checked against the memory's dimension `d`
  /// and pattern count `n`: the `.file` case of both the in-memory and the streamed run.
  static func fileQueries<Scalar: LinearAlgebraScalar>(
    _ path: String, targets: String?, dimension d: Int, patternCount n: Int, as _: Scalar.Type
  ) throws -> (queries: Matrix<Scalar>, targets: [Int]?) {
    let queryMatrix: Matrix<Scalar> = try InputFiles.matrix(path, role: "queries")
    guard queryMatrix.columns == d else {
      throw InputError(
        "queries have \(queryMatrix.columns) columns but patterns have \(d); each query must be a state of dimension d = \(d)"
      )
    }
    guard queryMatrix.rows >= 1 else { throw InputError("the queries file \(path) holds no queries (0 rows)") }
    let targetList = try targets.map { try InputFiles.targets($0, queryCount: queryMatrix.rows, patternCount: n) }
    return (queryMatrix, targetList)
  }

  func run<Scalar: LinearAlgebraScalar>(as _: Scalar.Type) throws -> RecallOutput {
    var notes: [String] = []
    let root = SeededGenerator(seed: seed)

    // Patterns.
    var patternMatrix: Matrix<Scalar>
    var folderModel: IterativeAttention<Float>? = nil
    switch patterns {
    case .modelFolder(let folder):
      let loaded: (record: IterativeAttentionModelFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>)
      do { loaded = try IterativeAttentionModelFolder.load(from: URL(fileURLWithPath: folder)) } catch {
        throw InputError("cannot load the model folder \(folder): \(error)")
      }
      folderModel = loaded.model
      patternMatrix = Matrix(
        rows: loaded.patterns.rows, columns: loaded.patterns.columns,
        elements: loaded.patterns.elements.map { Scalar($0) })
      if precision == .double { notes.append("model folders hold float32 weights: this run uses float precision") }
      let c = loaded.record.configuration
      notes.append(
        "loaded \(loaded.record.task) \(c.layers)-layer × \(c.heads)-head stack "
          + "(width \(c.width)) over \(loaded.patterns.rows) patterns of dimension \(loaded.patterns.columns)")
    case .file(let path):
      patternMatrix = try InputFiles.patterns(path)
    case .random(let count, let d):
      var rng = root.derived(0)
      patternMatrix = rng.gaussianMatrix(
        rows: count, columns: d, standardDeviation: 1 / Double(d).squareRoot(), as: Scalar.self)
    }
    let n = patternMatrix.rows
    let d = patternMatrix.columns
    notes += try Self.patternWarnings(patternMatrix)
    if model == .classical { try MatrixSizeLimit.check(rows: d, columns: d, what: "the classical weight matrix d × d") }
    var patternsBinarized = false
    if model == .classical && !Binarization.isBinary(patternMatrix) {
      patternMatrix = Binarization.binarized(patternMatrix)
      patternsBinarized = true
      if case .file(let path) = patterns {
        notes.append(
          "--model classical stores ±1 patterns: binarised the \(n) × \(d) patterns of \(path) with sign (0 ↦ +1)")
      }
    }
    if model == .classical && Double(n) > 0.138 * Double(d) {
      notes.append(
        "N = \(n) patterns exceed the classical network's capacity of about 0.138·d = \(NumberFormat.fixed(0.138 * Double(d), decimals: 1)); expect spurious states"
      )
    }
    if model == .classical && beta != nil { notes.append("--beta is ignored by --model classical") }

    // Queries.
    var queryMatrix: Matrix<Scalar>
    var targetList: [Int]?
    var corruptionUsed: Corruption?
    var queriesFile: String?, targetsFile: String?
    switch queries {
    case .file(let path, let targets):
      queriesFile = path
      targetsFile = targets
      (queryMatrix, targetList) = try Self.fileQueries(
        path, targets: targets, dimension: d, patternCount: n, as: Scalar.self)
    case .generated(let count, _, let level):
      let kind = corruption
      let corruptionValue = Corruption(kind: kind, level: level ?? kind.defaultLevel)
      if kind == .none, level != nil { notes.append("--level is not used by --corruption none") }
      var targetRNG = root.derived(1)
      let chosen = Corruption.randomTargets(count: count, patternCount: n, using: &targetRNG)
      var corruptionRNG = root.derived(2)
      let made: CorruptedQueries<Scalar>
      do { made = try corruptionValue.queries(from: patternMatrix, targets: chosen, using: &corruptionRNG) } catch {
        throw InputError("cannot make queries: \(error)")
      }
      queryMatrix = made.queries
      targetList = made.targets
      corruptionUsed = corruptionValue
    }
    try MatrixSizeLimit.check(rows: queryMatrix.rows, columns: n, what: "queries × patterns (similarities)")
    var queriesBinarized = false
    if model == .classical && !Binarization.isTernary(queryMatrix) {
      queryMatrix = Binarization.binarized(queryMatrix, keepingZeros: true)
      queriesBinarized = true
      notes.append(
        "--model classical runs on ±1 states: binarised the queries with sign (zeros, i.e. masked units, kept as 0)")
    }

    // Dynamics.
    var orderRNG = root.derived(3)
    let schedule: RecallExperiment.Schedule = asynchronous ? .asynchronous(seed: orderRNG.next()) : .synchronous
    let experiment = RecallExperiment(steps: maxSteps, tolerance: tolerance, schedule: schedule)
    let usedBeta: Double? = model == .modern ? (beta ?? Self.defaultBeta) : nil
    let run: RecallRun<Scalar>
    do {
      switch model {
      case .modern:
        let network = try ModernHopfield(patterns: patternMatrix, beta: Scalar(usedBeta ?? Self.defaultBeta))
        run = try experiment.run(network, patterns: network.patterns, queries: queryMatrix, targets: targetList)
      case .classical:
        let network = try ClassicalHopfield(patterns: patternMatrix)
        run = try experiment.run(network, patterns: network.patterns, queries: queryMatrix, targets: targetList)
      case .iterativeAttention:
        guard let network = folderModel, let floatQueries = queryMatrix as? Matrix<Float> else {
          throw InputError("the iterative-attention model needs a model folder")
        }
        let padded = floatQueries.zeroPadded(toColumns: network.dimension)
        guard
          let converted = try experiment.run(network, patterns: network.patterns, queries: padded, targets: targetList)
            as? RecallRun<Scalar>
        else {
          throw InputError("internal error: iterative attention runs in float precision")
        }
        run = converted
      }
    } catch let error as InputError {
      throw error
    } catch let error as RecallError {
      if case .targetOutOfRange = error, let targetsFile { throw InputError("--targets \(targetsFile): \(error)") }
      throw InputError("recall failed: \(error)")
    } catch {
      throw InputError("cannot build the \(model.displayName) network: \(error)")
    }

    if let output {
      do { try NumPyFile.write(Tensor(run.finalStates), to: URL(fileURLWithPath: output)) } catch {
        throw InputError("cannot write the final states: \(error)")
      }
    }

    var patternsFile: String? = nil
    switch patterns {
    case .file(let path), .modelFolder(let path): patternsFile = path
    case .random: break
    }
    let configuration = RecallReport.Configuration(
      model: model, beta: usedBeta, precision: folderModel != nil ? .float : precision, seed: seed,
      blasThreads: BLAS.threadCount,
      patterns: .init(
        file: patternsFile, count: n, dimension: d, generated: patternsFile == nil, binarized: patternsBinarized),
      queries: .init(
        file: queriesFile, targetsFile: targetsFile, count: queryMatrix.rows, corruption: corruptionUsed,
        binarized: queriesBinarized),
      experiment: experiment)
    let report = RecallReport(
      version: version, configuration: configuration, steps: run.result.steps, finalAccuracy: run.result.finalAccuracy,
      convergedFraction: run.result.convergedFraction,
      convergedCount: run.result.stepsToConverge.compactMap { $0 }.count,
      stepsToConverge: run.result.stepsToConvergeSummary, output: output, notes: notes)
    return RecallOutput(report: report, notes: notes, finalStateShape: (run.finalStates.rows, run.finalStates.columns))
  }
}
