import AttractorAnalysis
import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The classification of many fixed points of a modern Hopfield network, timed
/// (`attractor bench classify`).
///
/// **Measured:** one `Classifier.classify(_:at:)` call on K points: the Jacobians in batched GEMMs,
/// per point the eigenvalues of J (the BLAS-free path for d ≤ 128: Householder reduction in C and
/// `dsterf`; `dsyevd` above), which also give the energy's Hessian (H = I − J), the pattern weights
/// (k, nearest pattern); the points on as many threads as OpenBLAS has (`--threads`). The points
/// are the end states of the dynamics from noisy copies of the patterns (pattern i mod N plus noise
/// 0.3·s/√d, s the largest pattern norm), computed before timing. Double precision.
///
/// **Ratio against:** nothing in the process; `Scripts/bench_analysis.py` runs the same computation
/// in NumPy on the files ``inputsFolder`` receives and prints the ratio.
///
/// **Threads:** the OpenBLAS thread count in force (recorded): the batch GEMMs use it, and the
/// per-point part runs on that many threads; median of ``repetitions``
/// runs after one warm-up.
public struct ClassificationBenchmark: Sendable {
  /// Stored patterns (N × d).
  public var patterns: Matrix<Double>
  /// Inverse temperature β.
  public var beta = 8.0
  /// Fixed points classified per run (K).
  public var points = 1000
  public var repetitions = 5
  /// Seed of the noisy starts.
  public var seed: UInt64 = 0
  /// Step limit of the dynamics that produce the points.
  public var maxSteps = 2000
  /// Class thresholds (k₉₀ and the global fraction ½ by default).
  public var thresholds = ClassificationThresholds()
  /// Where to write patterns.npy, points.npy and swift_results.json; `nil` writes nothing.
  public var inputsFolder: URL?

  public init(patterns: Matrix<Double>) { self.patterns = patterns }

  /// N random patterns of dimension d with independent N(0, 1/d) entries (norms ≈ 1), from `seed`:
  /// the patterns `attractor analyze` draws for the same seed.
  public static func randomPatterns(count: Int, dimension: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SeededGenerator(seed: seed).derived(0)
    return rng.gaussianMatrix(rows: count, columns: dimension, standardDeviation: 1 / Double(dimension).squareRoot())
  }

  /// What ``run()`` measured (the field names Scripts/bench_analysis.py reads).
  public struct Report: Sendable, Codable, Equatable {
    /// Stored patterns N.
    public var patternCount: Int
    public var dimension: Int
    public var points: Int
    public var beta: Double
    /// Points the dynamics had converged to before timing.
    public var convergedPoints: Int
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    /// "median".
    public var statistic: String
    /// Median seconds of one classification of all points.
    public var seconds: Double
    /// Every timed run, in seconds.
    public var allSeconds: [Double]
    /// Points per class label.
    public var countByClass: [String: Int]
    /// Files written (``ClassificationBenchmark/inputsFolder``).
    public var files: [String]

    /// The summary lines.
    public var markdown: String {
      let classes = FixedPointClass.allCases.compactMap { c in countByClass[c.rawValue].map { "\(c.rawValue) \($0)" } }
      let perPoint = seconds * 1e6 / Double(max(1, points))
      var lines = [
        "Classification of \(points) fixed points of the modern Hopfield network, Double: N = \(patternCount), d = \(dimension), "
          + "β = \(BenchmarkTable.compact(beta))",
        timing(),
        "(per point: Jacobian, one eigenvalue computation giving J's and H = I − J's eigenvalues, weight statistics "
          + "and nearest pattern; points on \(blasThreads) thread(s))",
        "",
        BenchmarkTable(
          header: ["points", "total (ms)", "per point (µs)"],
          rows: [["\(points)", BenchmarkTable.fixed(seconds * 1e3, 1), BenchmarkTable.fixed(perPoint, 1)]]
        ).markdown,
        "",
        "points converged before timing: \(convergedPoints) of \(points); classes: " + classes.joined(separator: ", "),
      ]
      lines += files.map { "wrote \($0)" }
      return lines.joined(separator: "\n") + "\n"
    }
  }

  /// Per-point results written to swift_results.json, which Scripts/bench_analysis.py checks NumPy
  /// against.
  struct PointResults: Codable {
    var beta: Double
    var mass: Double
    var spectralRadius: [Double]
    var hessianSmallest: [Double]
    var k: [Int]
    var nearestPattern: [Int]
    var report: Report
  }

  /// Finds the points (untimed), then times their classification.
  ///
  /// - Throws: ``/AttractorModels/ModelError``, ``/AttractorCore/DynamicsError`` or ``/AttractorAnalysis/AnalysisError`` from the model, the dynamics
  ///   or the classification; file errors from writing the inputs.
  public func run() throws -> Report {
    let network = try ModernHopfield(patterns: patterns, beta: beta)
    let n = patterns.rows, d = patterns.columns
    let scale = patterns.rowNorms().max() ?? 1
    var rng = SeededGenerator(seed: seed).derived(1)
    var starts = Matrix<Double>(rows: points, columns: d)
    for r in 0..<points {
      for j in 0..<d { starts[r, j] = patterns[r % n, j] + 0.3 * scale / Double(d).squareRoot() * rng.nextGaussian() }
    }
    let dynamics = SynchronousDynamics(maxSteps: maxSteps, tolerance: 1e-10 * scale, recordEnergies: false)
    let result = try dynamics.run(network, from: starts)
    let fixedPoints = result.finalStates
    // As many workers as OpenBLAS threads, so `--threads 1` compares one core with one core.
    let classifier = Classifier(thresholds: thresholds, workers: BLAS.threadCount)
    var classified: [ClassifiedState] = []
    let times = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(AnalysisError) in
      classified = try classifier.classify(network, at: fixedPoints)
    }
    var counts: [String: Int] = [:]
    for c in classified { counts[c.label.rawValue, default: 0] += 1 }
    let machine = BenchmarkMachine.current
    var report = Report(
      patternCount: n, dimension: d, points: points, beta: beta,
      convergedPoints: result.trajectories.filter(\.converged).count,
      repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores, statistic: "median",
      seconds: times.median, allSeconds: times.seconds, countByClass: counts, files: [])
    if let folder = inputsFolder {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try NumPyFile.write(Tensor(patterns), to: folder.appendingPathComponent("patterns.npy"))
      try NumPyFile.write(Tensor(fixedPoints), to: folder.appendingPathComponent("points.npy"))
      report.files = ["patterns.npy", "points.npy", "swift_results.json"].map { folder.appendingPathComponent($0).path }
      let results = PointResults(
        beta: beta, mass: thresholds.mass, spectralRadius: classified.map(\.jacobian.spectralRadius),
        hessianSmallest: classified.map { $0.hessian?.smallest ?? .nan }, k: classified.map { $0.evidence?.k ?? 0 },
        nearestPattern: classified.map { $0.evidence?.nearestPattern ?? -1 }, report: report)
      try JSONCoding.encode(results, pretty: false).write(
        to: folder.appendingPathComponent("swift_results.json"), options: .atomic)
    }
    return report
  }
}

extension ClassificationBenchmark.Report: BenchmarkReport {}
