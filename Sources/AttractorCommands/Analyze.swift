import ArgumentParser
import Attractors
import Foundation

/// `attractor analyze`: find, linearise and classify the fixed points of a modern Hopfield network;
/// `--phase-diagram` sweeps β; `--benchmark` times the classification of many fixed points.
public struct Analyze: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "analyze",
    abstract: "Find and classify fixed points (global average, metastable, single pattern, unstable); sweep β.",
    discussion: """
      Patterns come from --patterns FILE.npy (N × d) or are random: --count N Gaussian vectors in \
      dimension --dimension d with independent N(0, 1/d) entries (norms ≈ 1), optionally sharing a \
      common component so that their overlaps are ≈ --correlation. The model is the modern \
      Hopfield network f(ξ) = Xᵀ softmax(β X ξ) at --beta, in double precision.

      The dynamics run from seeded starts (every pattern, --noisy-starts noisy copies of each, \
      --mixtures averages of two and of three patterns, the mean, --random-starts random states) \
      until a step is ≤ 1e-10·s (s = largest pattern norm) or --max-steps; end points within \
      --merge-tolerance·s are one fixed point, polished by Newton steps. At each fixed point: the \
      eigenvalues of the Jacobian (LAPACK syevd when symmetric, geev otherwise) and of the energy's \
      Hessian; the pattern weights p = softmax(β X x*) give k (the fewest patterns holding --mass of \
      the weight, k₉₀ by default). Class: unstable if ρ(J) ≥ 1 or the Hessian has a negative \
      eigenvalue; else single pattern if k = 1, global average if k > --global-fraction·N, \
      metastable otherwise. Basin: the share of all starts ending there.

      --phase-diagram repeats this over log-spaced β (--beta-range lo:hi:count), probes the fixed \
      point reached from the mean, bisects where it stops being a stable global average, and writes \
      phase-diagram.csv, .json, -shares.svg and -stability.svg to --output-dir.

      --benchmark times the classification (Jacobians, LAPACK eigenvalues, weight statistics) of \
      --points fixed points (default: N = 1000, d = 64, 1000 points), median of --repetitions runs; \
      Scripts/bench_analysis.py runs it beside the same computation in NumPy.
      """)

  // MARK: Patterns and model

  @Option(help: ArgumentHelp("Stored patterns: a 2-D .npy array, one pattern per row.", valueName: "file.npy"))
  var patterns: String?

  @Option(help: ArgumentHelp("Number N of random Gaussian patterns (default 16; 1000 with --benchmark).", valueName: "N"))
  var count: Int?

  @Option(help: ArgumentHelp("Dimension d of the random patterns (default 32; 64 with --benchmark).", valueName: "d"))
  var dimension: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Correlation c of the random patterns: xᵢ = √c·z + √(1 − c)·gᵢ with z, gᵢ ~ N(0, I/d), so xᵢᵀxⱼ ≈ c for i ≠ j (default 0).", valueName: "c"))
  var correlation: Double?

  @Option(help: "Seed of the random patterns and of every random start.")
  var seed: UInt64 = 0

  @Option(parsing: .unconditional, help: ArgumentHelp("Inverse temperature β (default \(Analyze.defaultBeta)).", valueName: "β"))
  var beta: Double?

  static let defaultBeta = 8.0

  // MARK: Search and thresholds

  @Option(name: .customLong("noisy-starts"), help: ArgumentHelp("Noisy starts per pattern.", valueName: "n"))
  var noisyStarts = 2

  @Option(parsing: .unconditional, help: ArgumentHelp("Noise of the noisy starts, relative to the largest pattern norm.", valueName: "σ"))
  var noise = 0.3

  @Option(help: ArgumentHelp("Number of two-pattern and of three-pattern mixture starts (each).", valueName: "n"))
  var mixtures = 16

  @Option(name: .customLong("random-starts"), help: ArgumentHelp("Number of random starts.", valueName: "n"))
  var randomStarts = 16

  @Option(name: .customLong("max-steps"), help: ArgumentHelp("Step limit of the dynamics.", valueName: "T"))
  var maxSteps = 2000

  @Option(name: .customLong("merge-tolerance"), parsing: .unconditional, help: ArgumentHelp("End points closer than this times the largest pattern norm are one fixed point.", valueName: "ε"))
  var mergeTolerance = 1e-4

  @Option(parsing: .unconditional, help: ArgumentHelp("Weight mass that k must hold (0.9 gives k₉₀).", valueName: "m"))
  var mass = 0.9

  @Option(name: .customLong("global-fraction"), parsing: .unconditional, help: ArgumentHelp("k above this fraction of N is a global average.", valueName: "f"))
  var globalFraction = 0.5

  // MARK: Modes and output

  @Flag(name: .customLong("phase-diagram"), help: "Sweep β and write the phase diagram to --output-dir.")
  var phaseDiagram = false

  @Option(name: .customLong("beta-range"), help: ArgumentHelp("β sweep: lowest, highest, number of log-spaced values (default 0.5:64:15).", valueName: "lo:hi:count"))
  var betaRange: String?

  @Option(name: .customLong("output-dir"), help: ArgumentHelp("Directory for the files (created if missing). With --phase-diagram it is required; otherwise fixed-points.csv and fixed-points.json go there.", valueName: "dir"))
  var outputDirectory: String?

  @Option(name: .customLong("file-prefix"), help: ArgumentHelp("--phase-diagram: names of the files written (<prefix>.csv, .json, -shares.svg, -stability.svg).", valueName: "name"))
  var filePrefix = "phase-diagram"

  @Flag(help: "Time the classification of --points fixed points instead of listing fixed points.")
  var benchmark = false

  @Option(help: ArgumentHelp("--benchmark: number of fixed points classified (default 1000).", valueName: "K"))
  var points: Int?

  @Option(help: ArgumentHelp("--benchmark: timed repetitions after one warm-up (default 5).", valueName: "n"))
  var repetitions: Int?

  @Option(help: ArgumentHelp("OpenBLAS threads (default: the library's own choice).", valueName: "n"))
  var threads: Int?

  @Option(name: .customLong("save-inputs"), help: ArgumentHelp("--benchmark: write patterns.npy, points.npy and swift_results.json here (for Scripts/bench_analysis.py).", valueName: "dir"))
  var saveInputs: String?

  @Option(name: .customLong("model-folder"), help: ArgumentHelp("Analyse a trained iterative-attention model folder (see Models/README.md) instead of a modern Hopfield network; its memory gives the starts. Best with small memories (the MNIST models store 10 prototypes): every stored pattern is a start.", valueName: "dir"))
  var modelFolder: String?

  @Flag(help: "Print one JSON object instead of the table.")
  var json = false

  public init() {}

  // MARK: - Validation

  public func validate() throws {
    if modelFolder != nil {
      if patterns != nil || count != nil || dimension != nil || correlation != nil {
        throw ValidationError("--model-folder brings its own memory: leave out --patterns, --count, --dimension and --correlation")
      }
      if beta != nil { throw ValidationError("--beta is not used with --model-folder: the model's temperature is in its config.json") }
      if phaseDiagram || benchmark { throw ValidationError("--model-folder analyses the model's fixed points; --phase-diagram and --benchmark are for the modern Hopfield network") }
    }
    if patterns != nil {
      if count != nil { throw ValidationError("--patterns and --count are mutually exclusive: the file sets the number of patterns") }
      if dimension != nil { throw ValidationError("--patterns and --dimension are mutually exclusive: the file sets the dimension") }
    }
    if let count, !(1...100_000).contains(count) { throw ValidationError("--count must be between 1 and 100000, got \(count)") }
    if let dimension, !(1...1024).contains(dimension) {
      throw ValidationError("--dimension must be between 1 and 1024 (each fixed point needs d × d Jacobian and Hessian eigenproblems), got \(dimension)")
    }
    if let correlation {
      if patterns != nil { throw ValidationError("--correlation shapes random patterns; it cannot be used with --patterns") }
      if !(correlation >= 0 && correlation < 1) {
        throw ValidationError("--correlation must be in [0, 1), got \(Format.compact(correlation))")
      }
    }
    if let beta, !(beta.isFinite && beta > 0) {
      throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))")
    }
    if phaseDiagram && beta != nil {
      throw ValidationError("--phase-diagram sweeps β: give --beta-range lo:hi:count instead of --beta")
    }
    if betaRange != nil && !phaseDiagram { throw ValidationError("--beta-range needs --phase-diagram") }
    if filePrefix.isEmpty || filePrefix.contains("/") || filePrefix.hasPrefix(".") {
      throw ValidationError("--file-prefix must be a plain file name (no '/', not starting with '.'), got '\(filePrefix)'")
    }
    if phaseDiagram && benchmark { throw ValidationError("--phase-diagram and --benchmark are separate modes: choose one") }
    if phaseDiagram && outputDirectory == nil {
      throw ValidationError("--phase-diagram writes CSV, JSON and SVG files: give --output-dir DIR (created if missing)")
    }
    _ = try parsedBetaRange()
    if noisyStarts < 0 || noisyStarts > 1000 { throw ValidationError("--noisy-starts must be between 0 and 1000, got \(noisyStarts)") }
    if !(noise.isFinite && noise >= 0) { throw ValidationError("--noise must be a finite number ≥ 0, got \(Format.compact(noise))") }
    if mixtures < 0 || mixtures > 100_000 { throw ValidationError("--mixtures must be between 0 and 100000, got \(mixtures)") }
    if randomStarts < 0 || randomStarts > 100_000 { throw ValidationError("--random-starts must be between 0 and 100000, got \(randomStarts)") }
    if !(1...1_000_000).contains(maxSteps) { throw ValidationError("--max-steps must be between 1 and 1000000, got \(maxSteps)") }
    if !(mergeTolerance.isFinite && mergeTolerance > 0) {
      throw ValidationError("--merge-tolerance must be a finite number > 0, got \(Format.compact(mergeTolerance))")
    }
    if !(mass > 0 && mass <= 1) { throw ValidationError("--mass must be in (0, 1], got \(Format.compact(mass))") }
    if !(globalFraction > 0 && globalFraction < 1) {
      throw ValidationError("--global-fraction must be in (0, 1), got \(Format.compact(globalFraction))")
    }
    if !benchmark {
      if points != nil { throw ValidationError("--points needs --benchmark") }
      if repetitions != nil { throw ValidationError("--repetitions needs --benchmark") }
      if saveInputs != nil { throw ValidationError("--save-inputs needs --benchmark") }
    }
    if let points, !(1...100_000).contains(points) { throw ValidationError("--points must be between 1 and 100000, got \(points)") }
    if let repetitions, !(1...1000).contains(repetitions) { throw ValidationError("--repetitions must be between 1 and 1000, got \(repetitions)") }
    if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
    if patterns == nil {
      let n = count ?? (benchmark ? 1000 : 16)
      let d = dimension ?? (benchmark ? 64 : 32)
      let starts = n * (1 + noisyStarts) + 2 * mixtures + 1 + randomStarts
      try Recall.checkSize(rows: starts, columns: max(n, d), what: "starts × max(N, d)")
      if benchmark { try Recall.checkSize(rows: points ?? 1000, columns: d * d, what: "--points × d² (the Jacobians)") }
    }
  }

  /// The parsed `--beta-range` (default 0.5:64:15).
  func parsedBetaRange() throws -> (lower: Double, upper: Double, count: Int) {
    guard let text = betaRange else { return (0.5, 64, 15) }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else {
      throw ValidationError("--beta-range takes lo:hi:count, for example 0.5:64:15, got '\(text)'")
    }
    guard lo.isFinite, hi.isFinite, lo > 0, hi > lo else {
      throw ValidationError("--beta-range needs 0 < lo < hi (finite), got \(text)")
    }
    guard (2...200).contains(n) else { throw ValidationError("--beta-range count must be between 2 and 200, got \(n)") }
    return (lo, hi, n)
  }

  var analyzer: FixedPointAnalyzer {
    let search = FixedPointSearch(
      noisyStartsPerPattern: noisyStarts, noiseLevel: noise, pairMixtures: mixtures, tripleMixtures: mixtures,
      randomStarts: randomStarts, seed: seed, maxSteps: maxSteps, mergeTolerance: mergeTolerance)
    let thresholds = ClassificationThresholds(mass: mass, globalFraction: globalFraction)
    return FixedPointAnalyzer(search: search, classifier: Classifier(thresholds: thresholds))
  }

  // MARK: - Running

  public func run() throws {
    print(try execute().text)
  }

  /// What `run()` prints, plus the files written (for tests and callers).
  public struct Output {
    /// The table or JSON text.
    public var text: String
    /// The fixed-point report (analysis mode).
    public var report: FixedPointReport?
    /// The phase diagram (`--phase-diagram`).
    public var diagram: PhaseDiagram?
    /// The benchmark record (`--benchmark`).
    public var benchmark: AnalyzeBenchmarkReport?
    /// Files written.
    public var files: [String]
  }

  public func execute() throws -> Output {
    if let threads { BLAS.setThreadCount(threads) }
    if let modelFolder { return try runFolderAnalysis(modelFolder) }
    let patternMatrix = try loadPatterns()
    if benchmark { return try runBenchmark(patternMatrix) }
    if phaseDiagram { return try runPhaseDiagram(patternMatrix) }
    return try runAnalysis(patternMatrix)
  }

  func loadPatterns() throws -> Matrix<Double> {
    if let path = patterns {
      let m = try Recall.loadMatrix(path, role: "patterns", as: Double.self)
      guard m.rows >= 1 && m.columns >= 1 else {
        throw CommandFailure("the patterns file \(path) holds a \(m.rows) × \(m.columns) array; it needs at least one pattern of dimension at least 1")
      }
      guard m.columns <= 1024 else {
        throw CommandFailure("the patterns in \(path) have dimension \(m.columns); analyze handles d ≤ 1024 (each fixed point needs d × d eigenproblems)")
      }
      try Recall.checkSize(rows: m.rows, columns: m.columns * (m.columns + 1) / 2, what: "N × d(d+1)/2 (patterns file)", duringValidation: false)
      return m
    }
    let d = dimension ?? (benchmark ? 64 : 32)
    var rng = SeededGenerator(seed: seed).derived(0)
    let independent: Matrix<Double> = rng.gaussianMatrix(
      rows: count ?? (benchmark ? 1000 : 16), columns: d, standardDeviation: 1 / Double(d).squareRoot())
    guard let c = correlation, c > 0 else { return independent }
    // A shared component z from its own stream, so c = 0 and c > 0 share the gᵢ.
    var shared = SeededGenerator(seed: seed).derived(4)
    let z: Matrix<Double> = shared.gaussianMatrix(rows: 1, columns: d, standardDeviation: 1 / Double(d).squareRoot())
    let a = c.squareRoot()
    let b = (1 - c).squareRoot()
    return Matrix(rows: independent.rows, columns: d) { i, j in a * z[0, j] + b * independent[i, j] }
  }

  func model(_ patterns: Matrix<Double>, beta: Double) throws -> ModernHopfield<Double> {
    do {
      return try ModernHopfield(patterns: patterns, beta: beta)
    } catch {
      throw CommandFailure("cannot build the modern Hopfield network: \(error)")
    }
  }

  var patternDescription: String {
    if let path = patterns { return "patterns from \(path)" }
    if let c = correlation, c > 0 { return "random N(0, 1/d) patterns with correlation \(Format.compact(c)), seed \(seed)" }
    return "random N(0, 1/d) patterns, seed \(seed)"
  }

  func outputURL() throws -> URL? {
    guard let path = outputDirectory else { return nil }
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw CommandFailure("--output-dir \(path) exists and is not a directory; give a directory path") }
    } else {
      do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
        throw CommandFailure("cannot create --output-dir \(path): \(error.localizedDescription)")
      }
    }
    return url
  }

  // MARK: Analysis

  /// The `--json` record of an analysis.
  public struct AnalysisRecord: Codable {
    /// Version of the tool.
    public var version: String
    /// The patterns file, or `nil` for random patterns.
    public var patternsFile: String?
    /// Correlation of the random patterns (`nil`: independent or from a file).
    public var correlation: Double?
    /// Number of patterns N.
    public var patternCount: Int
    /// Dimension d.
    public var dimension: Int
    /// Inverse temperature β.
    public var beta: Double
    /// Seed of patterns and starts.
    public var seed: UInt64
    /// OpenBLAS threads.
    public var blasThreads: Int
    /// The analysis.
    public var report: FixedPointReport
  }

  /// The record as JSON text, also written with the CSV table into --output-dir when given
  /// (atomically); returns the text and the files written.
  func writeRecord(_ record: AnalysisRecord) throws -> (json: String, files: [String]) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let jsonText = String(decoding: try encoder.encode(record), as: UTF8.self)
    guard let dir = try outputURL() else { return (jsonText, []) }
    let csvURL = dir.appendingPathComponent("fixed-points.csv")
    let jsonURL = dir.appendingPathComponent("fixed-points.json")
    do {
      try Data(record.report.csv().utf8).write(to: csvURL, options: .atomic)
      try Data(jsonText.utf8).write(to: jsonURL, options: .atomic)
    } catch {
      throw CommandFailure("cannot write to --output-dir \(dir.path): \(error.localizedDescription)")
    }
    return (jsonText, [csvURL.path, jsonURL.path])
  }

  func runAnalysis(_ patternMatrix: Matrix<Double>) throws -> Output {
    let usedBeta = beta ?? Analyze.defaultBeta
    let network = try model(patternMatrix, beta: usedBeta)
    let report: FixedPointReport
    do { report = try analyzer.analyze(network) } catch { throw CommandFailure("analysis failed: \(error)") }
    let record = AnalysisRecord(
      version: Attractor.version, patternsFile: patterns, correlation: correlation, patternCount: patternMatrix.rows, dimension: patternMatrix.columns,
      beta: usedBeta, seed: seed, blasThreads: BLAS.threadCount, report: report)
    let (jsonText, files) = try writeRecord(record)
    let text = json ? jsonText : table(report, beta: usedBeta, n: patternMatrix.rows, d: patternMatrix.columns, files: files)
    return Output(text: text, report: report, diagram: nil, benchmark: nil, files: files)
  }

  /// Fixed points of a trained iterative-attention stack, analysed in double precision.
  func runFolderAnalysis(_ folder: String) throws -> Output {
    let loaded: (record: IterativeAttentionModelFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>)
    do {
      loaded = try IterativeAttentionModelFolder.load(from: URL(fileURLWithPath: folder))
    } catch {
      throw CommandFailure("cannot load the model folder \(folder): \(error)")
    }
    func wide(_ m: Matrix<Float>) -> Matrix<Double> { Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map(Double.init)) }
    let network: IterativeAttention<Double>
    do {
      network = try IterativeAttention(
        configuration: loaded.model.configuration, keys: wide(loaded.model.keys), values: wide(loaded.model.values),
        layers: loaded.model.layers.map {
          AttentionLayerParameters(query: wide($0.query), key: wide($0.key), value: wide($0.value), output: wide($0.output))
        })
    } catch {
      throw CommandFailure("cannot build the model of \(folder): \(error)")
    }
    let report: FixedPointReport
    do { report = try analyzer.analyze(network) } catch { throw CommandFailure("analysis failed: \(error)") }
    let c = loaded.record.configuration
    let record = AnalysisRecord(
      version: Attractor.version, patternsFile: folder, correlation: nil, patternCount: network.memorySize,
      dimension: network.dimension, beta: c.logitScale, seed: seed, blasThreads: BLAS.threadCount, report: report)
    let (jsonText, files) = try writeRecord(record)
    let title = "Fixed points of the iterative-attention model \(folder) (\(loaded.record.task), \(c.layers) layer(s) × \(c.heads) head(s), "
      + "width \(c.width), logit scale 1/(τ√d_head) = \(Format.compact(c.logitScale)))"
    let text = json ? jsonText : table(report, beta: c.logitScale, n: network.memorySize, d: network.dimension, files: files, title: title)
    return Output(text: text, report: report, diagram: nil, benchmark: nil, files: files)
  }

  static let classNames: [FixedPointClass: String] = [
    .singlePattern: "single pattern", .metastable: "metastable", .globalAverage: "global average",
    .unstable: "unstable", .stable: "stable",
  ]

  func table(_ report: FixedPointReport, beta: Double, n: Int, d: Int, files: [String], title: String? = nil) -> String {
    var lines: [String] = []
    lines.append(title ?? "Fixed points of the modern Hopfield network: N = \(n) patterns, d = \(d), β = \(Format.compact(beta)) (\(patternDescription))")
    let kinds = StartKind.allCases.compactMap { k in report.startCounts[k.rawValue].map { "\(k.rawValue) \($0)" } }
    lines.append("starts: \(report.totalStarts) (\(kinds.joined(separator: ", "))); not converged: \(report.nonConverged.count)")
    if let first = report.fixedPoints.first {
      let h = first.classification.hessian?.source.rawValue ?? "none"
      lines.append("derivatives: Jacobian \(first.classification.jacobian.source.rawValue), Hessian \(h); k = k\(Int((mass * 100).rounded())) (weight mass \(Format.compact(mass)))")
    }
    lines.append("")
    lines.append("  id  class           pattern or subset          k     ρ(J)   min λ(H)  index  basin")
    for p in report.fixedPoints {
      let c = p.classification
      let e = c.evidence
      let regime = c.regime ?? c.label
      var what = "—"
      if let e {
        switch regime {
        case .singlePattern: what = "\(e.heaviest.first?.pattern ?? e.nearestPattern)"
        case .globalAverage: what = "all (\(e.k) of \(e.patternCount))"
        default:
          let s = "{" + e.subset.map(String.init).joined(separator: ",") + "}"
          what = s.count > 24 ? String(s.prefix(22)) + "…}" : s
        }
      }
      var label = Analyze.classNames[c.label] ?? c.label.rawValue
      if c.label == .unstable, let r = c.regime { label += " (\(Analyze.classNames[r] ?? r.rawValue))" }
      let line =
        Format.pad("\(p.id)", 4) + "  " + label.padding(toLength: max(14, label.count), withPad: " ", startingAt: 0) + "  "
        + what.padding(toLength: 24, withPad: " ", startingAt: 0) + Format.pad(e.map { "\($0.k)" } ?? "—", 4)
        + Format.fixed(c.jacobian.spectralRadius, decimals: 4, width: 9)
        + Format.fixed(c.hessian?.smallest, decimals: 4, width: 11) + Format.pad(c.hessian.map { "\($0.index)" } ?? "—", 7)
        + Format.fixed(p.basinShare, decimals: 3, width: 7)
      lines.append(line)
    }
    if !report.nonConverged.isEmpty {
      lines.append("")
      lines.append("\(report.nonConverged.count) starts did not converge within --max-steps \(maxSteps) (share \(String(format: "%.3f", report.nonConvergedShare))); raise --max-steps to follow them further")
    }
    let shares = FixedPointClass.allCases.compactMap { c -> String? in
      let s = report.shareByClass[c.rawValue] ?? 0
      return s > 0 ? "\(Analyze.classNames[c]!) \(String(format: "%.3f", s))" : nil
    }
    lines.append("")
    lines.append("share of starts by class: " + shares.joined(separator: ", "))
    for f in files { lines.append("wrote \(f)") }
    return lines.joined(separator: "\n")
  }

  // MARK: Phase diagram

  func runPhaseDiagram(_ patternMatrix: Matrix<Double>) throws -> Output {
    let range = try parsedBetaRange()
    let betas = try PhaseDiagram.logSpaced(from: range.lower, to: range.upper, count: range.count)
    let diagram: PhaseDiagram
    do {
      diagram = try PhaseDiagram.sweep(betas: betas, analyzer: analyzer) { b in try ModernHopfield(patterns: patternMatrix, beta: b) }
    } catch {
      throw CommandFailure("phase diagram failed: \(error)")
    }
    guard let dir = try outputURL() else { throw CommandFailure("--phase-diagram needs --output-dir") }
    let urls: [URL]
    do {
      urls = try diagram.write(
        to: dir, prefix: filePrefix,
        title: "Modern Hopfield, N = \(patternMatrix.rows), d = \(patternMatrix.columns)"
          + (correlation.map { $0 > 0 ? ", c = \(Format.compact($0))" : "" } ?? ""))
    } catch {
      throw CommandFailure("cannot write the phase diagram: \(error)")
    }
    let files = urls.map(\.path)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      return Output(text: String(decoding: try encoder.encode(diagram), as: UTF8.self), report: nil, diagram: diagram, benchmark: nil, files: files)
    }
    var lines = [
      "Phase diagram of the modern Hopfield network: N = \(patternMatrix.rows), d = \(patternMatrix.columns), β from \(Format.compact(range.lower)) to \(Format.compact(range.upper)) (\(range.count) log-spaced values; \(patternDescription))",
      "",
      "       β  fixed points  global  metastable  single  unstable  not conv.   mean flows to    ρ(J) there",
    ]
    for p in diagram.points {
      func s(_ c: FixedPointClass) -> String { Format.fixed(p.shareByClass[c.rawValue] ?? 0, decimals: 3, width: 8) }
      lines.append(
        Format.general(p.beta, significant: 4, width: 8) + Format.pad("\(p.fixedPointCount)", 14) + s(.globalAverage)
          + Format.fixed(p.shareByClass["metastable"] ?? 0, decimals: 3, width: 12) + s(.singlePattern)
          + Format.fixed(p.shareByClass["unstable"] ?? 0, decimals: 3, width: 10)
          + Format.fixed(p.nonConvergedShare, decimals: 3, width: 11)
          + Format.pad(p.global.found ? (p.global.regime.map { Analyze.classNames[$0] ?? $0.rawValue } ?? "—") : "no fixed point", 16)
          + Format.fixed(p.global.spectralRadius, decimals: 4, width: 13))
    }
    lines.append("")
    if let t = diagram.transition {
      let radius = t.spectralRadiusAtLower
      let how: String
      if let radius, radius >= 0.99 {
        how = "an eigenvalue of J crosses 1 (ρ(J) = \(String(format: "%.4f", radius)) just below): the global fixed point loses stability"
      } else {
        let after = t.regimeAtUpper.map { Analyze.classNames[$0] ?? $0.rawValue } ?? "no fixed point"
        how = "not by an eigenvalue crossing 1 (ρ(J) = \(radius.map { String(format: "%.4f", $0) } ?? "—") just below): just above, the mean flows to a \(after) point"
      }
      lines.append("the fixed point reached from the mean stops being a stable global average at β ≈ \(String(format: "%.4g", t.beta)) (bracket \(String(format: "%.6g", t.lower)) – \(String(format: "%.6g", t.upper)))")
      lines.append(how)
    } else {
      lines.append("the fixed point reached from the mean does not stop being a stable global average inside this β range (or never is one); widen --beta-range")
    }
    lines.append("(shares: fraction of all starts ending in a fixed point of each class)")
    for f in files { lines.append("wrote \(f)") }
    return Output(text: lines.joined(separator: "\n"), report: nil, diagram: diagram, benchmark: nil, files: files)
  }

  // MARK: Benchmark

  func runBenchmark(_ patternMatrix: Matrix<Double>) throws -> Output {
    let usedBeta = beta ?? Analyze.defaultBeta
    let network = try model(patternMatrix, beta: usedBeta)
    let k = points ?? 1000
    let reps = repetitions ?? 5
    // Fixed points to classify: the end points of the dynamics from noisy copies of the patterns
    // (pattern i mod N, noise 0.3·s); not timed.
    let n = patternMatrix.rows
    let d = patternMatrix.columns
    let scale = patternMatrix.rowNorms().max() ?? 1
    var rng = SeededGenerator(seed: seed).derived(1)
    var starts = Matrix<Double>(rows: k, columns: d)
    for r in 0..<k {
      for j in 0..<d { starts[r, j] = patternMatrix[r % n, j] + 0.3 * scale / Double(d).squareRoot() * rng.nextGaussian() }
    }
    let dynamics = SynchronousDynamics(maxSteps: maxSteps, tolerance: 1e-10 * scale, recordEnergies: false)
    let result: DynamicsResult<Double>
    do { result = try dynamics.run(network, from: starts) } catch { throw CommandFailure("dynamics failed: \(error)") }
    let fixedPoints = result.finalStates
    let converged = result.trajectories.filter(\.converged).count
    let classifier = analyzer.classifier

    var classified: [ClassifiedState] = []
    let classify = { () throws -> Void in classified = try classifier.classify(network, at: fixedPoints) }
    do {
      try classify()  // warm-up
    } catch {
      throw CommandFailure("classification failed: \(error)")
    }
    let clock = ContinuousClock()
    var times: [Double] = []
    for _ in 0..<reps {
      var failure: Error? = nil
      let elapsed = clock.measure {
        do { try classify() } catch { failure = error }
      }
      if let failure { throw CommandFailure("classification failed: \(failure)") }
      times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    var counts: [String: Int] = [:]
    for c in classified { counts[c.label.rawValue, default: 0] += 1 }
    let report = AnalyzeBenchmarkReport(
      patternCount: n, dimension: d, points: k, beta: usedBeta, convergedPoints: converged, repetitions: reps,
      blasThreads: BLAS.threadCount, cores: ProcessInfo.processInfo.activeProcessorCount, statistic: "median",
      seconds: median(times), allSeconds: times, countByClass: counts)

    var files: [String] = []
    if let path = saveInputs {
      let dir = URL(fileURLWithPath: path)
      do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try NumPyFile.write(Tensor(patternMatrix), to: dir.appendingPathComponent("patterns.npy"))
        try NumPyFile.write(Tensor(fixedPoints), to: dir.appendingPathComponent("points.npy"))
        let results = AnalyzeBenchmarkResults(
          beta: usedBeta, mass: mass, spectralRadius: classified.map(\.jacobian.spectralRadius),
          hessianSmallest: classified.map { $0.hessian?.smallest ?? .nan }, k: classified.map { $0.evidence?.k ?? 0 },
          nearestPattern: classified.map { $0.evidence?.nearestPattern ?? -1 }, report: report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(results).write(to: dir.appendingPathComponent("swift_results.json"), options: .atomic)
      } catch {
        throw CommandFailure("cannot write --save-inputs \(path): \(error)")
      }
      files = ["patterns.npy", "points.npy", "swift_results.json"].map { dir.appendingPathComponent($0).path }
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      return Output(text: String(decoding: try encoder.encode(report), as: UTF8.self), report: nil, diagram: nil, benchmark: report, files: files)
    }
    var lines = [
      "Classification of \(k) fixed points of the modern Hopfield network, Double: N = \(n), d = \(d), β = \(Format.compact(usedBeta))",
      "OpenBLAS threads: \(report.blasThreads), cores: \(report.cores), median of \(reps) runs after a warm-up",
      "(per point: Jacobian and Hessian, LAPACK eigenvalues of both, weight statistics and nearest pattern)",
      "",
      "total: \(String(format: "%.1f", report.seconds * 1e3)) ms, per point: \(String(format: "%.1f", report.seconds * 1e6 / Double(k))) µs",
      "points converged before timing: \(converged) of \(k); classes: "
        + FixedPointClass.allCases.compactMap { c in counts[c.rawValue].map { "\(Analyze.classNames[c]!) \($0)" } }.joined(separator: ", "),
    ]
    for f in files { lines.append("wrote \(f)") }
    return Output(text: lines.joined(separator: "\n"), report: nil, diagram: nil, benchmark: report, files: files)
  }
}

/// The record of `attractor analyze --benchmark`.
public struct AnalyzeBenchmarkReport: Codable, Sendable, Equatable {
  /// Number of stored patterns N.
  public var patternCount: Int
  /// Dimension d.
  public var dimension: Int
  /// Number of fixed points classified per run.
  public var points: Int
  /// Inverse temperature β.
  public var beta: Double
  /// How many of the points the dynamics had converged to before timing.
  public var convergedPoints: Int
  /// Timed runs after one warm-up.
  public var repetitions: Int
  /// OpenBLAS threads during the runs.
  public var blasThreads: Int
  /// Cores of the machine.
  public var cores: Int
  /// The statistic of ``seconds`` ("median").
  public var statistic: String
  /// Median wall time of one classification of all points, in seconds.
  public var seconds: Double
  /// Every timed run, in seconds.
  public var allSeconds: [Double]
  /// Labels of the classified points.
  public var countByClass: [String: Int]
}

/// Per-point results written by `--save-inputs`, which Scripts/bench_analysis.py checks NumPy against.
struct AnalyzeBenchmarkResults: Codable {
  var beta: Double
  var mass: Double
  var spectralRadius: [Double]
  var hessianSmallest: [Double]
  var k: [Int]
  var nearestPattern: [Int]
  var report: AnalyzeBenchmarkReport
}
