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

  public var patterns: Patterns
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
  /// and `fixed-points.json` are written there.
  public func analyze(writingTo directory: URL?) throws(InputError) -> FixedPointAnalysisOutput {
    let record: FixedPointAnalysisRecord
    let title: String
    if case .modelFolder(let folder) = patterns {
      (record, title) = try analyzeFolder(folder)
    } else {
      let x = try patternMatrix()
      let usedBeta = beta ?? Self.defaultBeta
      let network: ModernHopfield<Double>
      do { network = try ModernHopfield(patterns: x, beta: usedBeta) } catch {
        throw InputError("cannot build the modern Hopfield network: \(error)")
      }
      let report: FixedPointReport
      do { report = try analyzer.analyze(network) } catch { throw InputError("analysis failed: \(error)") }
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
  func analyzeFolder(_ folder: String) throws(InputError) -> (FixedPointAnalysisRecord, String) {
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
    let report: FixedPointReport
    do { report = try analyzer.analyze(network) } catch { throw InputError("analysis failed: \(error)") }
    let c = loaded.record.configuration
    let record = FixedPointAnalysisRecord(
      version: version, patternsFile: folder, correlation: nil, patternCount: network.memorySize,
      dimension: network.dimension,
      beta: c.logitScale, seed: search.seed, blasThreads: BLAS.threadCount, report: report)
    let title =
      "Fixed points of the iterative-attention model \(folder) (\(loaded.record.task), \(c.layers) layer(s) × \(c.heads) head(s), "
      + "width \(c.width), logit scale 1/(τ√d_head) = \(NumberFormat.compact(c.logitScale)))"
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

/// The result of ``FixedPointAnalysisRun/analyze(writingTo:)``: the record, its table and the
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
