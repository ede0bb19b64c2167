import ArgumentParser
import Attractors
import Foundation

/// `attractor bench compare`: `StudyThroughputBenchmark`.
public struct BenchCompare: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Queries per second of every model of a comparative study.",
    discussion: """
      Times the dynamics of every model of the study (--study, or the built-in one of `attractor \
      compare`) on its first dataset, first seed, first corruption at its first level: a batch of \
      --query-count queries run for the largest T with converged states frozen and no energies \
      recorded, what a study cell runs without the measurements. Model construction and query \
      generation are not timed. In the study's precision (single for the built-in study; double for a \
      model without a single-precision path), as in studies; × fastest = time / the fastest model's time.
      """)

  @Option(help: ArgumentHelp("A study file (JSON); default: the built-in study.", valueName: "spec.json"))
  var study: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Queries per batch B.", valueName: "B"))
  var queryCount = 1024

  @OptionGroup var repetitions: RepetitionOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var output: JSONOutputOptions

  public init() {}

  public func validate() throws {
    try BenchLimits.check("--query-count", queryCount, 1...1 << 20)
  }

  /// The report of these options (the study loaded as `attractor compare run` loads it).
  public func measure() throws -> StudyThroughputBenchmark.Report {
    var benchmark = StudyThroughputBenchmark(study: try CompareRun.loadStudy(study))
    benchmark.queryCount = queryCount
    benchmark.repetitions = repetitions.repetitions
    return try BenchLimits.running { try benchmark.run() }
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    execution.apply()
    let report = try measure()
    return try output.text(report)
  }

  public func run() throws { print(try printed(), terminator: "") }
}
