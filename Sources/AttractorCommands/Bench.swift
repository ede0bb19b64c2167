import ArgumentParser
import Attractors
import Foundation

/// `attractor bench`: every timing of the tool, one subcommand each. Each prints its figures, the
/// ratio against its reference where it has one, and the OpenBLAS thread count (`--json`: one
/// JSON object). The measurements are library types in AttractorStudies/Benchmarks.
public struct Bench: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time the tool's kernels: the Hopfield update, attention, classification, dense sweeps, studies.",
    discussion: """
      Every benchmark runs one untimed warm-up, then --repetitions timed runs on a monotonic clock, \
      and reports the median. Docs/Benchmarks.md has measured figures and how to read them.
      """,
    subcommands: [
      BenchUpdate.self, BenchIterativeAttention.self, BenchClassify.self, BenchDenseSweep.self, BenchCompare.self,
      BenchEncoder.self,
      BenchInContextDenoising.self,
      BenchPseudoLikelihood.self,
      BenchOnlineSoftmax.self,
      BenchAssociativeTransformer.self,
    ])

  public init() {}
}

/// `attractor bench update`: `UpdateBenchmark`.
public struct BenchUpdate: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "update",
    abstract: "The modern Hopfield update against plain cblas_sgemm on the same shapes.",
    discussion: """
      One update of B queries (--query-count) against N stored patterns (--count) of dimension d is \
      two GEMMs (logits = β Q Xᵀ, then P X after a row softmax): 4·B·N·d floating-point operations. \
      The reference times the same two cblas_sgemm calls on the same preallocated buffers, in the \
      same process; ratio = GEMM time / update time isolates what the update adds (the softmax). \
      GFLOP/s counts the 4·B·N·d GEMM operations for both. Float.
      """)

  @Option(parsing: .unconditional, help: ArgumentHelp("Number N of stored patterns.", valueName: "N"))
  var count = 8192

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Dimensions d to run, comma-separated.", valueName: "d-list"),
    transform: IntList.parse)
  var dimension = IntList([64, 256])

  @Option(parsing: .unconditional, help: ArgumentHelp("Number B of queries.", valueName: "B"))
  var queryCount = 1024

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  var benchmark: UpdateBenchmark {
    var b = UpdateBenchmark()
    b.count = count
    b.dimensions = dimension.values
    b.queryCount = queryCount
    return bench.configured(b)
  }

  public func validate() throws {
    try BenchLimits.check("--count", count, 1...10_000_000)
    for d in dimension.values { try BenchLimits.check("--dimension", d, 1...65_536) }
    try BenchLimits.check("--query-count", queryCount, 1...1_000_000)
    try BenchLimits.checkMemory(benchmark.bufferBytes, reduce: "--query-count, --count or --dimension")
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark.run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}

/// Range and memory checks shared by the bench subcommands.
enum BenchLimits {
  static func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
      throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
    }
  }

  static func checkMemory(_ bytes: Double, reduce: String) throws {
    guard bytes < 8e9 else {
      throw ValidationError("these sizes need about \(Int((bytes / 1e9).rounded(.up))) GB of buffers; reduce \(reduce)")
    }
  }

  /// Runs a benchmark; its errors end the command with `Error: …`.
  static func running<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as CommandFailure { throw error } catch {
      throw CommandFailure("the benchmark failed: \(error)")
    }
  }
}

extension JSONOutputOptions {
  /// What a bench command prints for `report`: one JSON object with --json, else its table.
  func text(_ report: some BenchmarkReport) throws -> String {
    json ? try JSONCoding.string(WithBLASLibrary(report: report)) : report.markdown
  }
}

/// A report's JSON object with two more members: `blasCore` (``BLAS/coreName``, the kernel set
/// OpenBLAS chose) and `blasConfig` (``BLAS/configuration``).
struct WithBLASLibrary<Report: Encodable>: Encodable {
  let report: Report
  enum Keys: String, CodingKey { case blasCore, blasConfig }
  func encode(to encoder: any Encoder) throws {
    try report.encode(to: encoder)
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(BLAS.coreName, forKey: .blasCore)
    try c.encode(BLAS.configuration, forKey: .blasConfig)
  }
}

/// The median of `values`; Analyze.swift's `--benchmark` still calls it (remove with that mode).
