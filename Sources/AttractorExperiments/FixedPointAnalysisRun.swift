import AttractorAnalysis
import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// A fixed-point analysis as `attractor analyze` runs it: the patterns (random, correlated random,
/// from a file, or a trained model folder), the modern Hopfield network f(ξ) = Xᵀ softmax(β X ξ)
/// on them (or the folder's iterative-attention stack, in double precision), and a
/// ``/AttractorAnalysis/FixedPointAnalyzer``.
///
/// Random patterns have N(0, 1/d) entries (stream 0 of `seed`); with correlation c,
/// xᵢ = √c·z + √(1 − c)·gᵢ with a shared z from stream 4, so xᵢᵀxⱼ ≈ c for i ≠ j.
public struct FixedPointAnalysisRun: Sendable {
  /// Where the patterns (or the model) come from.
  public enum Patterns: Sendable, Equatable {
    /// `count` random patterns of dimension `dimension`, optionally with correlation c in [0, 1).
    case random(count: Int, dimension: Int, correlation: Double?)
    /// A 2-D `.npy` file, one pattern per row.
    case file(String)
    /// A trained iterative-attention model folder; its memory gives the starts.
    case modelFolder(String)
  }

  /// Default inverse temperature β.
  public static let defaultBeta = 8.0
  /// Largest dimension analysed (each fixed point needs d × d Jacobian and Hessian eigenproblems).
  public static let maxDimension = 1024

  /// Default of ``maxPatternStarts``: at most this many stored patterns start the search.
  public static let defaultMaxPatternStarts = 200
  /// Largest estimated working memory of the dynamics, in bytes (1 GiB); a run above it is refused
  /// before any work with the options that shrink it.
  public static let maxWorkingBytes = 1 << 30
  /// Work budget of a model-folder analysis run with the default start options: 10¹¹ operations
  /// of ``workPerStart(memory:width:heads:layers:)`` (calibrated on the slowest shipped folder,
  /// `iterative-attention-synthetic-gaussian-transformer-medium`: about 30 s of one core of the
  /// development machine; the others take less). With more stored patterns than fit, the default
  /// takes a smaller seeded sample of them as starts, and when even the mixtures, the mean and
  /// the random starts exceed it, fewer of those too (``fitsWorkBudget``).
  public static let folderWorkBudget = 1e11
  /// Largest estimated work of a model-folder analysis whose start options were set explicitly
  /// (10 × ``folderWorkBudget``, a few minutes); a run above it is refused before any work with a
  /// smaller analysis that fits.
  public static let maxFolderWork = 1e12
  /// Steps per start assumed by the work estimate (the shipped folders' starts take 5 to about 60
  /// on average with the default tolerance, the four-layer one the most).
  public static let plannedSteps = 60.0
  /// Share of starts assumed to end at a fixed point of their own (about 0.4 in the shipped folders).
  public static let plannedFixedPointShare = 0.5

  public var patterns: Patterns
  /// Most stored patterns used as starts (each with its noisy copies). With more patterns than
  /// this, a seeded sample of this many (stream 5 of the seed) stands in for "every pattern"; its
  /// starts are reported as `given`. nil: every pattern.
  public var maxPatternStarts: Int? = FixedPointAnalysisRun.defaultMaxPatternStarts
  /// For a model folder: take fewer stored patterns as starts than ``maxPatternStarts`` when
  /// the estimated work would exceed ``folderWorkBudget`` (the most that fit; the sample of a
  /// smaller count is a prefix of the same seeded order). Default `true`; the command turns it
  /// off when --max-starts is given.
  public var fitsWorkBudget = true
  /// The work budget of this run (default ``folderWorkBudget``); explicit runs are refused above
  /// ten times it (``maxFolderWork`` for the default).
  public var workBudget = FixedPointAnalysisRun.folderWorkBudget
  /// β of the modern network (default ``defaultBeta``; not used with a model folder).
  public var beta: Double?
  /// How starts are made and end points merged (its seed is the run's seed).
  public var search: FixedPointSearch
  public var thresholds: ClassificationThresholds
  /// Version recorded in the reports.
  public var version: String

  public init(
    patterns: Patterns, beta: Double?, search: FixedPointSearch, thresholds: ClassificationThresholds, version: String
  ) {
    self.patterns = patterns
    self.beta = beta
    self.search = search
    self.thresholds = thresholds
    self.version = version
  }

  /// The analyzer of this run.
  public var analyzer: FixedPointAnalyzer {
    FixedPointAnalyzer(search: search, classifier: Classifier(thresholds: thresholds))
  }

  /// Checks the sizes known before any file is read: starts × max(N, d) within ``MatrixSizeLimit``.
  public func validate() throws(InputError) {
    guard case .random(let n, let d, _) = patterns else { return }
    let starts =
      n * (1 + search.noisyStartsPerPattern) + search.pairMixtures + search.tripleMixtures + 1 + search.randomStarts
    try MatrixSizeLimit.check(rows: starts, columns: max(n, d), what: "starts × max(N, d)")
  }

  /// Estimated operations of one start of a model-folder analysis (an iterative-attention stack of
  /// `layers` layers × `heads` heads, width d, memory M, d_h = d/heads):
  ///
  /// ```
  /// T̂ · L (4 M d + 4 d²)                       the dynamics, T̂ = plannedSteps steps
  /// + 2 φ (L (2 M d d_h + 6 d³) + 10 d³)        two closed-form Jacobians (polish, classification)
  ///                                             and an eigenvalue problem per fixed point,
  ///                                             φ = plannedFixedPointShare fixed points per start
  /// ```
  public static func workPerStart(memory m: Int, width d: Int, heads: Int, layers: Int) -> Double {
    let mm = Double(m), dd = Double(d), l = Double(layers), dh = dd / Double(max(1, heads))
    let dynamics = plannedSteps * l * (4 * mm * dd + 4 * dd * dd)
    let jacobian = l * (2 * mm * dd * dh + 6 * dd * dd * dd) + 10 * dd * dd * dd
    return dynamics + 2 * plannedFixedPointShare * jacobian
  }

  /// The analysis of `model` with the starts capped by ``maxPatternStarts`` and its working memory
  /// checked against ``maxWorkingBytes``; `note` hears what will be done before it starts.
  func analyzeCapped<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, headCount: Int = 1, layerCount: Int = 1, isFolder: Bool = false, note: ((String) -> Void)?,
    progress: ((FixedPointProgress) -> Void)? = nil
  ) throws(InputError) -> FixedPointReport {
    let x = model.patterns
    let n = x.rows, d = x.columns
    var search = self.search
    let perStart = Self.workPerStart(memory: n, width: d, heads: headCount, layers: layerCount)
    var otherNote = ""
    if isFolder && fitsWorkBudget {
      // Even without pattern starts over the budget: fewer mixtures and random starts, in proportion.
      let fixed = (n >= 2 ? search.pairMixtures : 0) + (n >= 3 ? search.tripleMixtures : 0) + search.randomStarts
      let affordable = workBudget / perStart - 1
      if Double(fixed) > affordable && fixed > 0 {
        let f = max(0, affordable) / Double(fixed)
        let scaled = (
          Int((Double(search.pairMixtures) * f).rounded(.down)),
          Int((Double(search.tripleMixtures) * f).rounded(.down)),
          Int((Double(search.randomStarts) * f).rounded(.down))
        )
        otherNote =
          "; \(scaled.0) + \(scaled.1) mixtures and \(scaled.2) random starts instead of \(search.pairMixtures) + "
          + "\(search.tripleMixtures) and \(search.randomStarts), to fit the work budget"
        (search.pairMixtures, search.tripleMixtures, search.randomStarts) = scaled
      }
    }
    let others =
      (n >= 2 ? search.pairMixtures : 0) + (n >= 3 ? search.tripleMixtures : 0) + 1 + search.randomStarts
    var cap = maxPatternStarts
    var reason = "--max-starts sets how many"
    if isFolder && fitsWorkBudget && search.includesPatterns {
      let perPattern = Double(1 + search.noisyStartsPerPattern)
      let affordable = max(0, Int(((workBudget / perStart - Double(others)) / perPattern).rounded(.down)))
      if affordable < min(n, cap ?? n) {
        cap = affordable
        reason =
          "as many as fit the work budget of \(String(format: "%.0e", workBudget)) operations (Docs/Analysis.md); "
          + "--max-starts sets how many"
      }
    }
    var extra: Matrix<Model.Scalar>? = nil
    var sampledNote = ""
    if let cap, search.includesPatterns, n > cap {
      var rng = SeededGenerator(seed: search.seed).derived(5)
      var indices = Array(0..<n)
      rng.shuffle(&indices)
      let chosen = indices.prefix(cap).sorted()
      let scale = Double(x.rowNorms().max() ?? 0)
      let perCoordinate = (scale > 0 ? scale : 1) / Double(max(d, 1)).squareRoot()
      var noise = SeededGenerator(seed: search.seed).derived(6)
      var rows: [Model.Scalar] = []
      for i in chosen { rows += x.row(i) }
      for i in chosen {
        for _ in 0..<search.noisyStartsPerPattern {
          rows += x.row(i).map { $0 + Model.Scalar(search.noiseLevel * perCoordinate * noise.nextGaussian()) }
        }
      }
      extra = Matrix(rows: rows.count / max(d, 1), columns: d, elements: rows)
      search.includesPatterns = false
      search.noisyStartsPerPattern = 0
      sampledNote =
        " (\(cap) of the \(n) stored patterns, sampled with seed \(search.seed), and their noisy copies; \(reason))"
    }
    let patternStarts = (search.includesPatterns ? n * (1 + search.noisyStartsPerPattern) : 0) + (extra?.rows ?? 0)
    let starts = patternStarts + others
    // The dynamics run the starts in batches of at most 2²⁴ / (N × heads) rows: per layer and head
    // a batch × N score matrix, plus the states (a few starts × d buffers), in the model's scalar.
    let batch = max(1, (1 << 24) / max(1, n * headCount))
    let bytesPerScalar = MemoryLayout<Model.Scalar>.size
    let working =
      Double(min(starts, batch)) * Double(n) * Double(max(headCount, 1)) * Double(bytesPerScalar) * 2
      + Double(starts) * Double(d) * Double(bytesPerScalar) * Double(4 + 2 * layerCount)
    let mib = { (bytes: Double) in NumberFormat.compact((bytes / 1_048_576).rounded()) }
    if working > Double(Self.maxWorkingBytes) {
      throw InputError(
        "analyze would run \(starts) starts\(sampledNote) against \(n) stored patterns of dimension \(d), "
          + "about \(mib(working)) MiB of working memory (limit \(mib(Double(Self.maxWorkingBytes))) MiB); "
          + "run a smaller analysis with --max-starts (stored patterns used as starts), --noisy-starts, "
          + "--mixtures or --random-starts")
    }
    let work = Double(starts) * perStart
    let limit = 10 * workBudget
    if isFolder && work > limit {
      let fitting = Int(workBudget / perStart)
      let advice =
        fitting >= 5
        ? "run a smaller analysis, for example --max-starts \(fitting - 4) --noisy-starts 0 --mixtures 1 --random-starts 1 "
          + "(\(fitting) starts), or leave out --max-starts to take as many stored patterns as fit the work budget"
        : "even 5 starts exceed the limit; this model is too large for analyze"
      throw InputError(
        "analyze would run \(starts) starts\(sampledNote) on a model with \(n) stored patterns of dimension \(d) and "
          + "\(layerCount) layer(s) × \(headCount) head(s): about \(String(format: "%.1e", work)) operations "
          + "(\(String(format: "%.1e", perStart)) per start: its dynamics and, for each fixed point, two Jacobians and an "
          + "eigenvalue problem), more than the limit of \(String(format: "%.0e", limit)) "
          + "(a few minutes); \(advice)")
    }
    note?(
      "analyze: \(starts) starts\(sampledNote) against \(n) stored patterns of dimension \(d)"
        + "\(layerCount > 1 || headCount > 1 ? ", \(layerCount) layer(s) × \(headCount) head(s)" : ""); "
        + "≈ \(mib(working)) MiB working memory, at most \(search.maxSteps) steps; then each fixed point is linearised (d × d eigenproblems)"
        + (isFolder ? "; estimated work \(String(format: "%.1e", work)) operations" : "") + otherNote
    )
    var analyzer = FixedPointAnalyzer(search: search, classifier: Classifier(thresholds: thresholds))
    analyzer.batchSize = batch
    do { return try analyzer.analyze(model, additionalStarts: extra, progress: progress) } catch {
      throw InputError("analysis failed: \(error)")
    }
  }

  /// How the patterns were made, for titles.
  public var patternDescription: String {
    switch patterns {
    case .file(let path), .modelFolder(let path): return "patterns from \(path)"
    case .random(_, _, let c?) where c > 0:
      return "random N(0, 1/d) patterns with correlation \(NumberFormat.compact(c)), seed \(search.seed)"
    case .random: return "random N(0, 1/d) patterns, seed \(search.seed)"
    }
  }

  /// The stored patterns (not for a model folder).
  public func patternMatrix() throws(InputError) -> Matrix<Double> {
    switch patterns {
    case .modelFolder(let folder):
      throw InputError("the model folder \(folder) brings its own model; it has no pattern matrix to sweep")
    case .file(let path):
      let m: Matrix<Double> = try InputFiles.patterns(path)
      guard m.columns <= Self.maxDimension else {
        throw InputError(
          "the patterns in \(path) have dimension \(m.columns); analyze handles d ≤ \(Self.maxDimension) (each fixed point needs d × d eigenproblems)"
        )
      }
      try MatrixSizeLimit.check(
        rows: m.rows, columns: m.columns * (m.columns + 1) / 2, what: "N × d(d+1)/2 (patterns file)")
      return m
    case .random(let n, let d, let correlation):
      var rng = SeededGenerator(seed: search.seed).derived(0)
      let independent: Matrix<Double> = rng.gaussianMatrix(
        rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
      guard let c = correlation, c > 0 else { return independent }
      // A shared component z from its own stream, so c = 0 and c > 0 share the gᵢ.
      var shared = SeededGenerator(seed: search.seed).derived(4)
      let z: Matrix<Double> = shared.gaussianMatrix(rows: 1, columns: d, standardDeviation: 1 / Double(d).squareRoot())
      let a = c.squareRoot(), b = (1 - c).squareRoot()
      return Matrix(rows: independent.rows, columns: d) { i, j in a * z[0, j] + b * independent[i, j] }
    }
  }

  /// The fixed points of the model, as a record and a table; with `directory`, `fixed-points.csv`
  /// and `fixed-points.json` are written there. `note` hears what will be done before it starts,
  /// `progress` how far the run has got (``FixedPointProgressPrinter`` draws it).
  public func analyze(
    writingTo directory: URL?, note: ((String) -> Void)? = nil, progress: ((FixedPointProgress) -> Void)? = nil
  ) throws(InputError) -> FixedPointAnalysisOutput {
    let record: FixedPointAnalysisRecord
    let title: String
    if case .modelFolder(let folder) = patterns {
      (record, title) = try analyzeFolder(folder, note: note, progress: progress)
    } else {
      let x = try patternMatrix()
      let usedBeta = beta ?? Self.defaultBeta
      let network: ModernHopfield<Double>
      do { network = try ModernHopfield(patterns: x, beta: usedBeta) } catch {
        throw InputError("cannot build the modern Hopfield network: \(error)")
      }
      let report = try analyzeCapped(network, note: note, progress: progress)
      var patternsFile: String? = nil
      var correlation: Double? = nil
      switch patterns {
      case .file(let path): patternsFile = path
      case .random(_, _, let c): correlation = c
      case .modelFolder: break
      }
      record = FixedPointAnalysisRecord(
        version: version, patternsFile: patternsFile, correlation: correlation, patternCount: x.rows,
        dimension: x.columns,
        beta: usedBeta, seed: search.seed, blasThreads: BLAS.threadCount, report: report)
      title =
        "Fixed points of the modern Hopfield network: N = \(x.rows) patterns, d = \(x.columns), β = \(NumberFormat.compact(usedBeta)) (\(patternDescription))"
    }
    var files: [String] = []
    if let directory {
      do { files = try record.write(to: directory).map(\.path) } catch {
        throw InputError("cannot write to --output-dir \(directory.path): \(error)")
      }
    }
    return FixedPointAnalysisOutput(record: record, title: title, files: files)
  }

  /// Fixed points of a trained iterative-attention stack, analysed in double precision.
  func analyzeFolder(
    _ folder: String, note: ((String) -> Void)?, progress: ((FixedPointProgress) -> Void)?
  ) throws(InputError) -> (FixedPointAnalysisRecord, String) {
    let configURL = URL(fileURLWithPath: folder).appendingPathComponent("config.json")
    if let data = try? Data(contentsOf: configURL),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      object["format"] as? String == PseudoLikelihoodModelFolder.format
    {
      return try analyzePseudoLikelihoodFolder(folder, note: note)
    }
    let loaded: (record: IterativeAttentionModelFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>)
    do { loaded = try IterativeAttentionModelFolder.load(from: URL(fileURLWithPath: folder)) } catch {
      throw InputError("cannot load the model folder \(folder): \(error)")
    }
    func wide(_ m: Matrix<Float>) -> Matrix<Double> {
      Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map(Double.init))
    }
    let network: IterativeAttention<Double>
    do {
      network = try IterativeAttention(
        configuration: loaded.model.configuration, keys: wide(loaded.model.keys), values: wide(loaded.model.values),
        layers: loaded.model.layers.map {
          AttentionLayerParameters(
            query: wide($0.query), key: wide($0.key), value: wide($0.value), output: wide($0.output))
        })
    } catch {
      throw InputError("cannot build the model of \(folder): \(error)")
    }
    let c = loaded.record.configuration
    let report = try analyzeCapped(
      network, headCount: c.heads, layerCount: c.layers, isFolder: true, note: note, progress: progress)
    let record = FixedPointAnalysisRecord(
      version: version, patternsFile: folder, correlation: nil, patternCount: network.memorySize,
      dimension: network.dimension,
      beta: c.logitScale, seed: search.seed, blasThreads: BLAS.threadCount, report: report)
    let title =
      "Fixed points of the iterative-attention model \(folder) (\(loaded.record.task), \(c.layers) layer(s) × \(c.heads) head(s), "
      + "width \(c.width), logit scale 1/(τ√d_head) = \(NumberFormat.compact(c.logitScale)))"
    return (record, title)
  }

  /// Fixed points of a trained pseudo-likelihood attractor, analysed in double precision from its
  /// stored example states (at most ``maxPatternStarts``) and ``FixedPointSearch/randomStarts``
  /// random states: finite-difference Jacobians of the N·d-dimensional update, general (`?geev`)
  /// spectra, no Hessian (the model descends no energy). Labels are stable or unstable.
  func analyzePseudoLikelihoodFolder(
    _ folder: String, note: ((String) -> Void)?
  ) throws(InputError) -> (FixedPointAnalysisRecord, String) {
    let loaded: (record: PseudoLikelihoodModelFolder, model: PseudoLikelihoodAttractor<Float>, examples: Matrix<Float>?)
    do { loaded = try PseudoLikelihoodModelFolder.load(from: URL(fileURLWithPath: folder)) } catch {
      throw InputError("cannot load the model folder \(folder): \(error)")
    }
    let c = loaded.record.configuration
    guard c.stateDimension <= Self.maxDimension else {
      throw InputError("the state dimension N·d = \(c.stateDimension) exceeds the analysis limit \(Self.maxDimension)")
    }
    let network: PseudoLikelihoodAttractor<Double>
    do {
      let j = loaded.model.couplings
      network = try PseudoLikelihoodAttractor(
        configuration: c, couplings: Matrix(rows: j.rows, columns: j.columns, elements: j.elements.map(Double.init)))
    } catch {
      throw InputError("cannot build the model of \(folder): \(error)")
    }
    var starts: Matrix<Double>? = nil
    if let examples = loaded.examples {
      let count = min(examples.rows, maxPatternStarts ?? examples.rows)
      starts = Matrix(
        rows: count, columns: examples.columns, elements: examples.rows(at: 0..<count).elements.map(Double.init))
    }
    note?(
      "analyze: \(starts?.rows ?? 0) stored example states and \(search.randomStarts) random starts of dimension "
        + "\(c.stateDimension), at most \(search.maxSteps) steps; then each end point's Jacobian (finite differences, dgeev)"
    )
    let report: FixedPointReport
    do { report = try analyzer.analyze(network, starts: starts, scale: Double(c.tokens).squareRoot()) } catch {
      throw InputError("analysis failed: \(error)")
    }
    let record = FixedPointAnalysisRecord(
      version: version, patternsFile: folder, correlation: nil, patternCount: starts?.rows ?? 0,
      dimension: c.stateDimension, beta: c.inverseTemperature, seed: search.seed, blasThreads: BLAS.threadCount,
      report: report)
    let title =
      "Fixed points of the pseudo-likelihood attractor \(folder) (N = \(c.tokens) tokens of d = \(c.tokenWidth), "
      + "λ = \(NumberFormat.compact(c.inverseTemperature)), γ = \(NumberFormat.compact(c.selfCoupling)))"
    return (record, title)
  }

  /// Sweeps β over `count` log-spaced values from `lower` to `upper` (``/AttractorAnalysis/PhaseDiagram/sweep(betas:analyzer:bisectionSteps:model:)``) and
  /// writes `<prefix>.csv`, `.json`, `-shares.svg` and `-stability.svg` into `directory`.
  public func phaseDiagram(
    lower: Double, upper: Double, count: Int, writingTo directory: URL, prefix: String
  ) throws(InputError) -> PhaseDiagramOutput {
    let x = try patternMatrix()
    let diagram: PhaseDiagram
    do {
      let betas = try PhaseDiagram.logSpaced(from: lower, to: upper, count: count)
      diagram = try PhaseDiagram.sweep(betas: betas, analyzer: analyzer) { b in try ModernHopfield(patterns: x, beta: b)
      }
    } catch {
      throw InputError("phase diagram failed: \(error)")
    }
    var correlationNote = ""
    if case .random(_, _, let c?) = patterns, c > 0 { correlationNote = ", c = \(NumberFormat.compact(c))" }
    let urls: [URL]
    do {
      urls = try diagram.write(
        to: directory, prefix: prefix, title: "Modern Hopfield, N = \(x.rows), d = \(x.columns)" + correlationNote)
    } catch {
      throw InputError("cannot write the phase diagram: \(error)")
    }
    let title =
      "Phase diagram of the modern Hopfield network: N = \(x.rows), d = \(x.columns), β from \(NumberFormat.compact(lower)) to \(NumberFormat.compact(upper)) (\(count) log-spaced values; \(patternDescription))"
    return PhaseDiagramOutput(diagram: diagram, title: title, files: urls.map(\.path))
  }
}

/// The result of ``FixedPointAnalysisRun/analyze(writingTo:note:)``: the record, its table and the
/// files written.
public struct FixedPointAnalysisOutput: Sendable {
  public var record: FixedPointAnalysisRecord
  /// The table's first line.
  public var title: String
  /// Files written (empty without a folder).
  public var files: [String]

  /// The fixed-point table (``/AttractorAnalysis/FixedPointAnalysisRecord/table(title:files:)``).
  public var table: String { record.table(title: title, files: files) }
}

/// The result of ``FixedPointAnalysisRun/phaseDiagram(lower:upper:count:writingTo:prefix:)``.
public struct PhaseDiagramOutput: Sendable {
  public var diagram: PhaseDiagram
  /// The table's first line.
  public var title: String
  /// Files written.
  public var files: [String]

  /// The sweep table (``/AttractorAnalysis/PhaseDiagram/table(title:files:)``).
  public var table: String { diagram.table(title: title, files: files) }
}
