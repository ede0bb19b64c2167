import ArgumentParser
import Attractors
import Foundation

/// Memory models `attractor recall` can run.
public enum ModelKind: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
  /// ``ModernHopfield``: f(ξ) = Xᵀ softmax(β X ξ).
  case modern
  /// ``ClassicalHopfield``: ±1 states, Hebbian weights, sign updates.
  case classical
  /// A trained ``IterativeAttention`` stack read from a model folder (`--model-folder`).
  case iterativeAttention = "iterative-attention"

  var displayName: String {
    switch self {
    case .modern: "modern Hopfield"
    case .classical: "classical Hopfield"
    case .iterativeAttention: "iterative attention"
    }
  }
}

/// Floating-point precision of a run.
public enum Precision: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
  case float, double
}

/// `--corruption` values (the kinds of ``Corruption``).
public enum CorruptionOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case noise, mask, overlap, flip, none

  var kind: Corruption.Kind {
    switch self {
    case .noise: .noise
    case .mask: .mask
    case .overlap: .overlap
    case .flip: .flip
    case .none: .none
    }
  }

  /// The level used when `--level` is not given.
  var defaultLevel: Double {
    switch self {
    case .noise: 0.1
    case .mask: 0.3
    case .overlap: 0.7
    case .flip: 0.1
    case .none: 0
    }
  }

  /// How `--level` reads for this corruption, for validation messages.
  var levelRule: String {
    switch self {
    case .noise: "a standard deviation σ: a finite number ≥ 0"
    case .mask: "a fraction in [0, 1]"
    case .overlap: "a weight α in [0, 1]"
    case .flip: "a fraction in [0, 1]"
    case .none: "not used"
    }
  }
}

/// `attractor recall`: store patterns, corrupt some of them, iterate the memory from the corrupted
/// queries and report retrieval after every step.
public struct Recall: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "recall",
    abstract: "Retrieve stored patterns from corrupted queries; report accuracy, energy and convergence per step.",
    discussion: """
      Patterns come from --patterns FILE.npy (N × d) or are random: --count N Gaussian vectors in \
      dimension --dimension d with independent N(0, 1/d) entries, so each has norm ≈ 1 and β·‖x‖² ≈ β \
      (β = 8 then matches attention's 1/√d scaling of N(0, 1) keys at d = 64). --model classical \
      stores ±1 patterns: random ones are the signs of the Gaussian ones, and non-±1 patterns from a \
      file are binarised with sign (0 ↦ +1), with a note.

      Queries come from --queries FILE.npy (B × d, with optional --targets FILE.npy holding B pattern \
      indices for accuracy) or are made from --query-count random targets with --corruption at \
      --level: noise adds σ·N(0, 1) to each coordinate (σ is absolute: relative to entries of \
      scale 1/√d it is a noise-to-pattern norm ratio of σ√d); mask sets round(f·d) random \
      coordinates to 0; overlap is α·target + (1 − α)·(another stored pattern); flip negates \
      round(f·d) random coordinates. With --model classical, queries that are not all −1, 0, +1 are \
      binarised with sign (zeros, i.e. masked units, are kept), with a note.

      Accuracy at step t is the fraction of states whose nearest stored pattern by cosine \
      similarity is the target. A state has converged at the first step whose size \
      ‖q_t − q_{t−1}‖ is ≤ --tolerance; it then stops moving. Mean energy is the model's energy \
      (modern: Ramsauer et al.'s E; classical: −½ xᵀWx).
      """
  )

  // MARK: Patterns

  @Option(help: ArgumentHelp("Stored patterns: a 2-D .npy array, one pattern per row (float32, float64, int32 or int64).", valueName: "file.npy"))
  var patterns: String?

  @Option(help: ArgumentHelp("Number N of random Gaussian patterns (default 64).", valueName: "N"))
  var count: Int?

  @Option(help: ArgumentHelp("Dimension d of the random patterns (default 64).", valueName: "d"))
  var dimension: Int?

  @Option(help: "Seed of every random choice (patterns, targets, corruptions, asynchronous update orders).")
  var seed: UInt64 = 0

  // MARK: Queries

  @Option(help: ArgumentHelp("Queries: a 2-D .npy array, one query per row, with d columns.", valueName: "file.npy"))
  var queries: String?

  @Option(help: ArgumentHelp("With --queries: a 1-D integer .npy array of the pattern each query should retrieve (rows of the patterns, from 0). Without it accuracy is not reported.", valueName: "file.npy"))
  var targets: String?

  @Option(name: .customLong("query-count"), help: ArgumentHelp("Number B of queries made from random targets (default 256).", valueName: "B"))
  var queryCount: Int?

  @Option(help: ArgumentHelp("How queries are corrupted (default noise; flip with --model classical).", valueName: "kind"))
  var corruption: CorruptionOption?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Corruption level: σ for noise (default 0.1), fraction for mask (0.3) and flip (0.1), α for overlap (0.7).", valueName: "x"))
  var level: Double?

  // MARK: Model and dynamics

  @Option(help: "Memory model.")
  var model: ModelKind = .modern

  @Option(name: .customLong("model-folder"), help: ArgumentHelp("A trained iterative-attention model folder (config.json + weights.safetensors, see Models/README.md): its memory is the patterns, queries are corrupted in the data's dimension and zero-padded to the model width. Runs in float precision.", valueName: "dir"))
  var modelFolder: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Inverse temperature β of the modern Hopfield network (default \(Recall.defaultBeta); not used by classical). With the default random patterns, β = 16 is in the single-pattern retrieval regime; at β = 8 queries drift into metastable mixtures over the steps.", valueName: "β"))
  var beta: Double?

  /// Default inverse temperature of the modern network.
  static let defaultBeta = 16.0

  @Option(parsing: .unconditional, help: ArgumentHelp("Number of update steps T (asynchronous: sweeps over all coordinates).", valueName: "T"))
  var steps: Int = 10

  @Option(parsing: .unconditional, help: ArgumentHelp("A step ‖q_t − q_{t−1}‖ at most this has converged.", valueName: "ε"))
  var tolerance: Double = 1e-6

  @Option(help: "Floating-point precision.")
  var precision: Precision = .double

  @Flag(help: "Update one coordinate at a time in a seeded random order (one step = one sweep) instead of all at once.")
  var asynchronous = false

  // MARK: Output

  @Option(help: ArgumentHelp("Write the final states (B × d) to this .npy file (written atomically).", valueName: "file.npy"))
  var output: String?

  @Flag(help: "Print one JSON object (configuration and per-step results) instead of the table.")
  var json = false

  public init() {}

  /// Largest number of elements accepted for any one matrix of a run (patterns, queries, logits):
  /// 2³¹, 16 GiB in double precision.
  static let maxElements = 1 << 31

  // MARK: - Validation

  public func validate() throws {
    if modelFolder != nil {
      if patterns != nil || count != nil || dimension != nil {
        throw ValidationError("--model-folder brings its own memory: leave out --patterns, --count and --dimension")
      }
      if model == .classical { throw ValidationError("--model-folder runs the folder's iterative-attention model; leave out --model classical") }
      if beta != nil { throw ValidationError("--beta is not used with --model-folder: the model's temperature is in its config.json") }
      if asynchronous { throw ValidationError("--asynchronous is not available for iterative attention; one step is one pass through the stack") }
    } else if model == .iterativeAttention {
      throw ValidationError("--model iterative-attention needs --model-folder DIR (a trained model, for example one under Models/)")
    }
    if patterns != nil {
      if count != nil { throw ValidationError("--patterns and --count are mutually exclusive: the file sets the number of patterns") }
      if dimension != nil { throw ValidationError("--patterns and --dimension are mutually exclusive: the file sets the dimension") }
    }
    if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if let dimension, dimension < 1 { throw ValidationError("--dimension must be at least 1, got \(dimension)") }
    if queries != nil {
      if queryCount != nil { throw ValidationError("--queries and --query-count are mutually exclusive: the file sets the number of queries") }
      if corruption != nil { throw ValidationError("--queries and --corruption are mutually exclusive: queries from a file are used as given") }
      if level != nil { throw ValidationError("--queries and --level are mutually exclusive: queries from a file are used as given") }
    } else if targets != nil {
      throw ValidationError("--targets needs --queries: generated queries know their own targets")
    }
    if let queryCount, queryCount < 1 { throw ValidationError("--query-count must be at least 1, got \(queryCount)") }
    if let level {
      let kind = effectiveCorruption
      let valid: Bool
      switch kind {
      case .noise: valid = level.isFinite && level >= 0
      case .mask, .overlap, .flip: valid = level >= 0 && level <= 1
      case .none: valid = true
      }
      if !valid { throw ValidationError("--level for \(kind.rawValue) is \(kind.levelRule), got \(Format.compact(level))") }
    }
    if effectiveCorruption == .overlap, let count, count < 2 {
      throw ValidationError("--corruption overlap blends the target with another stored pattern, so it needs --count ≥ 2, got \(count)")
    }
    if let beta, !(beta.isFinite && beta > 0) {
      throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))")
    }
    if steps < 0 { throw ValidationError("--steps must be at least 0, got \(steps)") }
    if steps > Recall.maxSteps { throw ValidationError("--steps must be at most \(Recall.maxSteps), got \(steps)") }
    if !(tolerance.isFinite && tolerance >= 0) {
      throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
    }
    if patterns == nil {
      try Recall.checkSize(rows: count ?? 64, columns: dimension ?? 64, what: "--count × --dimension")
      if model == .classical {
        try Recall.checkSize(rows: dimension ?? 64, columns: dimension ?? 64, what: "the classical weight matrix d × d")
      }
    }
    if queries == nil {
      try Recall.checkSize(rows: queryCount ?? 256, columns: dimension ?? 64, what: "--query-count × --dimension")
      if patterns == nil { try Recall.checkSize(rows: queryCount ?? 256, columns: count ?? 64, what: "--query-count × --count") }
    }
  }

  /// Refuses a matrix too large to allocate or to pass to BLAS (32-bit dimensions), with a
  /// `ValidationError` before parsing finishes or a ``CommandFailure`` once files are loaded.
  static func checkSize(rows: Int, columns: Int, what: String, duringValidation: Bool = true) throws {
    let (product, overflow) = rows.multipliedReportingOverflow(by: columns)
    if overflow || product > maxElements || rows > Int(Int32.max) || columns > Int(Int32.max) {
      let message = "\(what) = \(rows) × \(columns) is more than the \(maxElements) elements one matrix may hold here; use smaller sizes"
      if duringValidation { throw ValidationError(message) }
      throw CommandFailure(message)
    }
  }

  /// Most steps accepted (each step keeps one row of metrics).
  static let maxSteps = 1_000_000

  /// The corruption used for generated queries.
  var effectiveCorruption: CorruptionOption {
    corruption ?? (model == .classical ? .flip : .noise)
  }

  // MARK: - Running

  public func run() throws {
    let result = try execute()
    for note in result.notes { printToStandardError("note: \(note)") }
    print(json ? try result.jsonText() : result.table)
  }

  /// Runs the command and returns what it would print, without printing (for tests and callers).
  public func execute() throws -> RecallOutput {
    if modelFolder != nil { return try execute(as: Float.self) }
    switch precision {
    case .float: return try execute(as: Float.self)
    case .double: return try execute(as: Double.self)
    }
  }

  func execute<Scalar: LinearAlgebraScalar>(as _: Scalar.Type) throws -> RecallOutput {
    var notes: [String] = []
    let root = SeededGenerator(seed: seed)

    // Patterns.
    var patternMatrix: Matrix<Scalar>
    var folderModel: IterativeAttention<Float>? = nil
    if let folder = modelFolder {
      let loaded: (record: IterativeAttentionModelFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>)
      do {
        loaded = try IterativeAttentionModelFolder.load(from: URL(fileURLWithPath: folder))
      } catch {
        throw CommandFailure("cannot load the model folder \(folder): \(error)")
      }
      folderModel = loaded.model
      patternMatrix = Matrix(rows: loaded.patterns.rows, columns: loaded.patterns.columns, elements: loaded.patterns.elements.map { Scalar($0) })
      if precision == .double { notes.append("model folders hold float32 weights: this run uses float precision") }
      notes.append(
        "loaded \(loaded.record.task) \(loaded.record.configuration.layers)-layer × \(loaded.record.configuration.heads)-head stack "
          + "(width \(loaded.record.configuration.width)) over \(loaded.patterns.rows) patterns of dimension \(loaded.patterns.columns)")
    } else if let path = patterns {
      patternMatrix = try Recall.loadMatrix(path, role: "patterns", as: Scalar.self)
      guard patternMatrix.rows >= 1 && patternMatrix.columns >= 1 else {
        throw CommandFailure("the patterns file \(path) holds a \(patternMatrix.rows) × \(patternMatrix.columns) array; it needs at least one pattern of dimension at least 1")
      }
    } else {
      let d = dimension ?? 64
      var rng = root.derived(0)
      patternMatrix = rng.gaussianMatrix(
        rows: count ?? 64, columns: d, standardDeviation: 1 / Double(d).squareRoot(), as: Scalar.self)
    }
    let n = patternMatrix.rows
    let d = patternMatrix.columns
    if model == .classical {
      try Recall.checkSize(rows: d, columns: d, what: "the classical weight matrix d × d", duringValidation: false)
    }
    var patternsBinarized = false
    if model == .classical && !Binarization.isBinary(patternMatrix) {
      patternMatrix = Binarization.binarized(patternMatrix)
      patternsBinarized = true
      if let path = patterns {
        notes.append("--model classical stores ±1 patterns: binarised the \(n) × \(d) patterns of \(path) with sign (0 ↦ +1)")
      }
    }
    if model == .classical && Double(n) > 0.138 * Double(d) {
      notes.append("N = \(n) patterns exceed the classical network's capacity of about 0.138·d = \(String(format: "%.1f", 0.138 * Double(d))); expect spurious states")
    }
    if model == .classical && beta != nil {
      notes.append("--beta is ignored by --model classical")
    }

    // Queries.
    var queryMatrix: Matrix<Scalar>
    var targetList: [Int]?
    var corruptionUsed: Corruption?
    if let path = queries {
      queryMatrix = try Recall.loadMatrix(path, role: "queries", as: Scalar.self)
      guard queryMatrix.columns == d else {
        throw CommandFailure("queries have \(queryMatrix.columns) columns but patterns have \(d); each query must be a state of dimension d = \(d)")
      }
      guard queryMatrix.rows >= 1 else { throw CommandFailure("the queries file \(path) holds no queries (0 rows)") }
      if let targetsPath = targets {
        targetList = try Recall.loadTargets(targetsPath, queryCount: queryMatrix.rows, patternCount: n)
      }
    } else {
      let kind = effectiveCorruption
      let corruptionValue = Corruption(kind: kind.kind, level: level ?? kind.defaultLevel)
      if kind == .none, level != nil { notes.append("--level is not used by --corruption none") }
      var targetRNG = root.derived(1)
      let chosen = Corruption.randomTargets(count: queryCount ?? 256, patternCount: n, using: &targetRNG)
      var corruptionRNG = root.derived(2)
      let made: CorruptedQueries<Scalar>
      do {
        made = try corruptionValue.queries(from: patternMatrix, targets: chosen, using: &corruptionRNG)
      } catch {
        throw CommandFailure("cannot make queries: \(error)")
      }
      queryMatrix = made.queries
      targetList = made.targets
      corruptionUsed = corruptionValue
    }
    try Recall.checkSize(
      rows: queryMatrix.rows, columns: n, what: "queries × patterns (similarities)", duringValidation: false)
    var queriesBinarized = false
    if model == .classical && !Binarization.isTernary(queryMatrix) {
      queryMatrix = Binarization.binarized(queryMatrix, keepingZeros: true)
      queriesBinarized = true
      notes.append("--model classical runs on ±1 states: binarised the queries with sign (zeros, i.e. masked units, kept as 0)")
    }

    // Dynamics.
    var orderRNG = root.derived(3)
    let schedule: RecallExperiment.Schedule = asynchronous ? .asynchronous(seed: orderRNG.next()) : .synchronous
    let experiment = RecallExperiment(steps: steps, tolerance: tolerance, schedule: schedule)
    let model = folderModel != nil ? ModelKind.iterativeAttention : self.model
    let usedBeta: Double? = model == .modern ? (beta ?? Recall.defaultBeta) : nil
    let run: RecallRun<Scalar>
    do {
      switch model {
      case .modern:
        let network = try ModernHopfield(patterns: patternMatrix, beta: Scalar(usedBeta ?? Recall.defaultBeta))
        run = try experiment.run(network, queries: queryMatrix, targets: targetList)
      case .classical:
        let network = try ClassicalHopfield(patterns: patternMatrix)
        run = try experiment.run(network, queries: queryMatrix, targets: targetList)
      case .iterativeAttention:
        // Set in the folder branch above (validation requires --model-folder), which runs in Float.
        guard let network = folderModel, let floatQueries = queryMatrix as? Matrix<Float> else {
          throw CommandFailure("--model iterative-attention needs --model-folder")
        }
        let padded = floatQueries.zeroPadded(toColumns: network.dimension)
        guard let converted = try experiment.run(network, queries: padded, targets: targetList) as? RecallRun<Scalar> else {
          throw CommandFailure("internal error: iterative attention runs in float precision")
        }
        run = converted
      }
    } catch let error as RecallError {
      if case .targetOutOfRange = error, let path = targets { throw CommandFailure("--targets \(path): \(error)") }
      throw CommandFailure("recall failed: \(error)")
    } catch {
      throw CommandFailure("cannot build the \(model.displayName) network: \(error)")
    }

    if let path = output {
      do {
        try NumPyFile.write(Tensor(run.finalStates), to: URL(fileURLWithPath: path))
      } catch {
        throw CommandFailure("cannot write the final states: \(error)")
      }
    }

    let configuration = RecallReport.Configuration(
      model: model, beta: usedBeta, precision: folderModel != nil ? .float : precision, seed: seed, blasThreads: BLAS.threadCount,
      patterns: .init(
        file: modelFolder ?? patterns, count: n, dimension: d, generated: patterns == nil && modelFolder == nil,
        binarized: patternsBinarized),
      queries: .init(
        file: queries, targetsFile: targets, count: queryMatrix.rows, corruption: corruptionUsed,
        binarized: queriesBinarized),
      experiment: experiment)
    let summary = run.result.stepsToConvergeSummary
    let report = RecallReport(
      version: Attractor.version, configuration: configuration, steps: run.result.steps,
      finalAccuracy: run.result.finalAccuracy, convergedFraction: run.result.convergedFraction,
      convergedCount: run.result.stepsToConverge.compactMap { $0 }.count, stepsToConverge: summary,
      output: output, notes: notes)
    return RecallOutput(report: report, notes: notes, finalStateShape: (run.finalStates.rows, run.finalStates.columns))
  }

  // MARK: - Files

  static func loadMatrix<Scalar: LinearAlgebraScalar>(_ path: String, role: String, as _: Scalar.Type) throws -> Matrix<Scalar> {
    let tensor: Tensor
    do {
      tensor = try NumPyFile.read(from: URL(fileURLWithPath: path))
    } catch {
      throw CommandFailure("cannot read the \(role) file \(path): \(error)")
    }
    guard tensor.rank == 2 else {
      throw CommandFailure("the \(role) file \(path) holds an array of shape \(tensor.shape); it must be 2-D, one \(role == "patterns" ? "pattern" : "query") per row")
    }
    do {
      return try tensor.matrix(as: Scalar.self)
    } catch {
      throw CommandFailure("cannot use the \(role) file \(path): \(error)")
    }
  }

  static func loadTargets(_ path: String, queryCount: Int, patternCount: Int) throws -> [Int] {
    let tensor: Tensor
    do {
      tensor = try NumPyFile.read(from: URL(fileURLWithPath: path))
    } catch {
      throw CommandFailure("cannot read the targets file \(path): \(error)")
    }
    guard tensor.shape == [queryCount] else {
      throw CommandFailure("the targets file \(path) holds an array of shape \(tensor.shape); it must be 1-D with one pattern index per query, shape [\(queryCount)]")
    }
    let values: [Int64]
    do {
      values = try tensor.int64Values()
    } catch {
      throw CommandFailure("the targets file \(path) must hold integers (int32 or int64) pattern indices: \(error)")
    }
    var result: [Int] = []
    result.reserveCapacity(values.count)
    for (k, v) in values.enumerated() {
      guard v >= 0 && v < Int64(patternCount) else {
        throw CommandFailure("--targets \(path): target \(k) is \(v), but there are \(patternCount) patterns (valid targets are 0..<\(patternCount))")
      }
      result.append(Int(v))
    }
    return result
  }
}

/// What `attractor recall` prints: the report, rendered as a table or JSON.
public struct RecallOutput: Sendable {
  /// Everything measured, with the configuration.
  public let report: RecallReport
  /// Notes and warnings (printed to standard error).
  public let notes: [String]
  /// Shape of the final states (B × d).
  public let finalStateShape: (rows: Int, columns: Int)

  /// The report as pretty-printed JSON with sorted keys (non-finite numbers as "NaN"/"Infinity").
  public func jsonText() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return String(decoding: try encoder.encode(report), as: UTF8.self)
  }

  /// The human-readable header, per-step table and summary.
  public var table: String {
    let c = report.configuration
    var lines: [String] = []
    var head = "# \(c.model.displayName)"
    head += c.patterns.generated
      ? "  N = \(c.patterns.count) random \(c.model == .classical ? "±1 (signs of N(0, 1/d))" : "N(0, 1/d)") patterns"
      : "  N = \(c.patterns.count) patterns from \(c.patterns.file ?? "?")"
    head += "  d = \(c.patterns.dimension)"
    if let beta = c.beta { head += "  β = \(Format.compact(beta))" }
    lines.append(head)
    var queriesLine = "# queries B = \(c.queries.count)"
    if let corruption = c.queries.corruption {
      queriesLine += " from random targets, corruption: \(corruption)"
    } else {
      queriesLine += " from \(c.queries.file ?? "?")" + (c.queries.targetsFile.map { ", targets \($0)" } ?? ", no targets")
    }
    queriesLine += "  seed \(c.seed)"
    lines.append(queriesLine)
    let schedule = if case .asynchronous = c.experiment.schedule { "asynchronous" } else { "synchronous" }
    lines.append(
      "# \(schedule)  T = \(c.experiment.steps)  ε = \(c.experiment.tolerance)  precision \(c.precision.rawValue)  BLAS threads \(c.blasThreads)")
    lines.append("")
    lines.append("step  accuracy   mean energy  mean step size  converged")
    for s in report.steps {
      lines.append(
        Format.pad("\(s.step)", 4) + Format.fixed(s.accuracy, decimals: 4, width: 10)
          + Format.general(s.meanEnergy, significant: 7, width: 14) + Format.scientific(s.meanStepSize, decimals: 3, width: 16)
          + Format.fixed(s.convergedFraction, decimals: 4, width: 11))
    }
    lines.append("")
    var summary = ""
    if let accuracy = report.finalAccuracy { summary += "final accuracy \(String(format: "%.4f", accuracy)); " }
    summary += "converged \(report.convergedCount)/\(c.queries.count)"
    if let s = report.stepsToConverge {
      summary += ", steps to converge \(String(format: "%.2f", s.mean))"
      if let se = s.standardError { summary += " ± \(String(format: "%.2f", se)) (mean ± SE over converged queries)" }
    }
    lines.append(summary)
    if let path = report.output {
      lines.append("final states (\(finalStateShape.rows) × \(finalStateShape.columns), \(c.precision == .float ? "float32" : "float64")) written to \(path)")
    }
    return lines.joined(separator: "\n")
  }
}

/// The machine-readable record of one `attractor recall` run (`--json`). Keys with no value
/// (accuracy without targets, energy of a rule without one, the step size at t = 0) are omitted.
public struct RecallReport: Codable, Sendable, Equatable {
  public struct Configuration: Codable, Sendable, Equatable {
    public struct Patterns: Codable, Sendable, Equatable {
      /// The .npy file, or `nil` for random patterns.
      public var file: String?
      public var count: Int
      public var dimension: Int
      /// Whether the patterns are random N(0, 1/d) vectors (their signs with the classical model).
      public var generated: Bool
      /// Whether the patterns were turned into ±1 for the classical model.
      public var binarized: Bool
    }

    public struct Queries: Codable, Sendable, Equatable {
      public var file: String?
      public var targetsFile: String?
      public var count: Int
      /// The corruption of generated queries; `nil` for queries from a file.
      public var corruption: Corruption?
      /// Whether the queries were binarised for the classical model.
      public var binarized: Bool
    }

    public var model: ModelKind
    /// β of the modern network; `nil` for the classical one.
    public var beta: Double?
    public var precision: Precision
    public var seed: UInt64
    public var blasThreads: Int
    public var patterns: Patterns
    public var queries: Queries
    public var experiment: RecallExperiment

  }

  /// Version of the tool that produced the report.
  public var version: String
  public var configuration: Configuration
  /// Metrics for t = 0 … T.
  public var steps: [RecallStepMetrics]
  public var finalAccuracy: Double?
  public var convergedFraction: Double
  public var convergedCount: Int
  /// Mean ± standard error of the steps to converge, over the queries that converged.
  public var stepsToConverge: MeanAndStandardError?
  /// Where the final states were written.
  public var output: String?
  public var notes: [String]
}
