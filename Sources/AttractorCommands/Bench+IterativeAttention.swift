import ArgumentParser
import Attractors
import Foundation

/// `attractor bench iterative-attention`: `IterativeAttentionBenchmark`.
public struct BenchIterativeAttention: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "iterative-attention",
    abstract: "One iteration of an attention stack against its own cblas_sgemm calls.",
    discussion: """
      One iteration (one pass through L layers of H heads, width d, memory of M keys and values) of \
      a seeded random IterativeAttention model on B queries. Per layer: 2·B·d² (q W_Q) + \
      H·2·B·M·d_h (logits) + H·2·B·M·d_h (attention × values) + 2·B·d² (output W_O) GEMM \
      operations, i.e. L·(4·B·d² + 4·B·M·d) in all, plus a row softmax over L·H·B·M logits (not \
      counted in GFLOP/s). The reference runs the same cblas_sgemm calls (same shapes, same \
      strides) without the softmax; ratio = GEMM time / update time. --save-inputs DIR writes the \
      model, memory, queries and the output of one iteration as .npy files \
      (Scripts/bench_iterative.py checks NumPy against them). Float. Defaults: --layers 4, \
      --heads 8, --dimension 256, --temperature 1.
      """)

  @OptionGroup var shape: AttentionShapeOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Memory size M (keys and values).", valueName: "M"))
  var count = 10_000

  @Option(parsing: .unconditional, help: ArgumentHelp("Number B of queries.", valueName: "B"))
  var queryCount = 1024

  @Option(
    help: ArgumentHelp(
      "Folder to write the model, memory, queries and one iteration's output into as .npy.", valueName: "dir"))
  var saveInputs: String?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  /// The benchmark these options describe.
  public var benchmark: IterativeAttentionBenchmark {
    var b = IterativeAttentionBenchmark()
    if let layers = shape.layers { b.layers = layers }
    if let heads = shape.heads { b.heads = heads }
    if let dimension = shape.dimension { b.dimension = dimension }
    if let temperature = shape.temperature { b.temperature = temperature }
    b.count = count
    b.queryCount = queryCount
    b.inputsFolder = saveInputs.map { URL(fileURLWithPath: $0) }
    return bench.configured(b)
  }

  public func validate() throws {
    let (heads, dimension) = (benchmark.heads, benchmark.dimension)
    try BenchLimits.check("--heads", heads, 1...1024)
    try BenchLimits.check("--dimension", dimension, 1...65_536)
    guard dimension % heads == 0 else {
      throw ValidationError("--dimension (\(dimension)) must be a multiple of --heads (\(heads))")
    }
    try BenchLimits.check("--count", count, 1...10_000_000)
    try BenchLimits.check("--query-count", queryCount, 1...1_000_000)
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a folder path") }
    try BenchLimits.checkMemory(benchmark.bufferBytes, reduce: "--query-count, --count, --heads or --dimension")
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark.run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}
