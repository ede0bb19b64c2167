import ArgumentParser
import Attractors
import Foundation

/// `attractor bench iterative-attention`: ``IterativeAttentionBenchmark``.
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
      (Scripts/bench_iterative.py checks NumPy against them). Float.
      """)

  @Option(help: ArgumentHelp("Attention layers L.", valueName: "L"))
  var layers = 4

  @Option(help: ArgumentHelp("Heads per layer H (must divide --dimension).", valueName: "H"))
  var heads = 8

  @Option(help: ArgumentHelp("Model width d.", valueName: "d"))
  var dimension = 256

  @Option(help: ArgumentHelp("Memory size M (keys and values).", valueName: "M"))
  var count = 10_000

  @Option(name: .customLong("query-count"), help: ArgumentHelp("Number B of queries.", valueName: "B"))
  var queryCount = 1024

  @Option(parsing: .unconditional, help: ArgumentHelp("Temperature τ (logits scaled by 1/(τ √d_h)).", valueName: "τ"))
  var temperature = 1.0

  @Option(name: .customLong("save-inputs"), help: ArgumentHelp("Folder to write the model, memory, queries and one iteration's output into as .npy.", valueName: "dir"))
  var saveInputs: String?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  /// The benchmark these options describe.
  public var benchmark: IterativeAttentionBenchmark {
    var b = IterativeAttentionBenchmark()
    b.layers = layers
    b.heads = heads
    b.dimension = dimension
    b.count = count
    b.queryCount = queryCount
    b.temperature = temperature
    b.repetitions = bench.repetitions.repetitions
    b.seed = bench.seed.seed
    b.inputsFolder = saveInputs.map { URL(fileURLWithPath: $0) }
    return b
  }

  public func validate() throws {
    try BenchLimits.check("--layers", layers, 1...64)
    try BenchLimits.check("--heads", heads, 1...1024)
    try BenchLimits.check("--dimension", dimension, 1...65_536)
    guard dimension % heads == 0 else { throw ValidationError("--dimension (\(dimension)) must be a multiple of --heads (\(heads))") }
    try BenchLimits.check("--count", count, 1...10_000_000)
    try BenchLimits.check("--query-count", queryCount, 1...1_000_000)
    guard temperature.isFinite && temperature > 0 else { throw ValidationError("--temperature must be finite and positive, got \(temperature)") }
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a folder path") }
    try BenchLimits.checkMemory(benchmark.bufferBytes, reduce: "--query-count, --count, --heads or --dimension")
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark.run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}
