import ArgumentParser
import Attractors
import Foundation

/// `attractor bench online-softmax`: `OnlineSoftmaxBenchmark`.
public struct BenchOnlineSoftmax: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "online-softmax",
    abstract: "The modern Hopfield update by its materialised and blocked (online softmax) paths, alternating.",
    discussion: """
      For each OpenBLAS thread count (--thread-counts), dimension d and pattern count N, times one \
      update of B queries (--query-count) by the materialised path (B × N logits, row softmax, two \
      GEMMs), by the blocked path with an online softmax, and the two GEMMs alone, in turn in one \
      process (the order rotates each repetition); prints the medians, materialised / online, GEMM \
      / faster path, the path the library chooses, and the largest difference between the paths. Float.
      """)

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Pattern counts N, comma-separated.", valueName: "N-list"),
    transform: IntList.parse)
  var count = IntList([1024, 2048, 4096, 8192, 16_384, 32_768, 65_536])

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Dimensions d, comma-separated.", valueName: "d-list"),
    transform: IntList.parse)
  var dimension = IntList([64, 256])

  @Option(
    parsing: .unconditional, help: ArgumentHelp("OpenBLAS thread counts, comma-separated.", valueName: "t-list"),
    transform: IntList.parse)
  var threadCounts = IntList([1, 2])

  @Option(parsing: .unconditional, help: ArgumentHelp("Number B of queries.", valueName: "B"))
  var queryCount = 1024

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  var benchmark: OnlineSoftmaxBenchmark {
    var b = OnlineSoftmaxBenchmark()
    b.counts = count.values
    b.dimensions = dimension.values
    b.threads = threadCounts.values
    b.queryCount = queryCount
    return bench.configured(b)
  }

  public func validate() throws {
    for n in count.values { try BenchLimits.check("--count", n, 1...10_000_000) }
    for d in dimension.values { try BenchLimits.check("--dimension", d, 1...65_536) }
    for t in threadCounts.values { try BenchLimits.check("--thread-counts", t, 1...256) }
    try BenchLimits.check("--query-count", queryCount, 1...1_000_000)
    try BenchLimits.checkMemory(benchmark.bufferBytes, reduce: "--query-count, --count or --dimension")
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark.run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}

extension OnlineSoftmaxBenchmark: RepeatedBenchmark {}
