import ArgumentParser
import Attractors
import Foundation

/// `attractor bench classify`: `ClassificationBenchmark`.
public struct BenchClassify: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "classify",
    abstract: "Fixed-point classification of the modern Hopfield network (Jacobians, LAPACK, weights).",
    discussion: """
      Times the classification (Jacobians in batched GEMMs; per point one LAPACK eigenvalue call, \
      the Hessian's eigenvalues being 1 − the Jacobian's since H = I − J; weight statistics and \
      nearest pattern; points on --threads threads) of --points fixed points of the modern Hopfield network at --beta: the end \
      points of the dynamics from noisy copies of the patterns, found before timing. Patterns: \
      --patterns FILE.npy, or --count N random patterns of dimension --dimension d with N(0, 1/d) \
      entries (default N = 1000, d = 64; the patterns `attractor analyze` draws for the same seed). \
      Double precision. --save-inputs DIR writes patterns.npy, points.npy and swift_results.json for \
      Scripts/bench_analysis.py, which runs the same computation in NumPy beside it.
      """)

  @OptionGroup var patterns: PatternOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Inverse temperature β.", valueName: "β"))
  var beta = 8.0

  @Option(parsing: .unconditional, help: ArgumentHelp("Number K of fixed points classified per run.", valueName: "K"))
  var points = 1000

  @Option(
    help: ArgumentHelp("Folder to write patterns.npy, points.npy and swift_results.json into.", valueName: "dir"))
  var saveInputs: String?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  var dimension: Int { patterns.dimension ?? 64 }

  public func validate() throws {
    try BenchLimits.check("--dimension", dimension, 1...1024)
    try BenchLimits.check("--points", points, 1...100_000)
    guard beta.isFinite && beta > 0 else { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a folder path") }
    try BenchLimits.checkMemory(16 * Double(points) * Double(dimension * dimension), reduce: "--points or --dimension")
  }

  /// The benchmark these options describe (reads --patterns).
  public func benchmark() throws -> ClassificationBenchmark {
    let matrix: Matrix<Double>
    if let path = patterns.patterns {
      do {
        matrix = try NumPyFile.read(from: URL(fileURLWithPath: path)).matrix(as: Double.self)
      } catch {
        throw CommandFailure("cannot read the patterns file \(path): \(error)")
      }
      guard matrix.rows >= 1, (1...1024).contains(matrix.columns) else {
        throw CommandFailure(
          "the patterns in \(path) are \(matrix.rows) × \(matrix.columns); bench classify needs N ≥ 1 and 1 ≤ d ≤ 1024")
      }
    } else {
      matrix = ClassificationBenchmark.randomPatterns(
        count: patterns.count ?? 1000, dimension: dimension, seed: bench.seed.seed)
    }
    var b = ClassificationBenchmark(patterns: matrix)
    b.beta = beta
    b.points = points
    b.inputsFolder = saveInputs.map { URL(fileURLWithPath: $0) }
    return bench.configured(b)
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark().run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}
