import ArgumentParser
import Attractors
import Foundation

// The option groups of the timed `bench` subcommands.

/// `--repetitions`: timed repetitions of a benchmark after one warm-up run.
struct RepetitionOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Timed repetitions after one warm-up (the median is reported).", valueName: "r"))
  var repetitions: Int = 5

  func validate() throws {
    if repetitions < 1 { throw ValidationError("--repetitions must be at least 1, got \(repetitions)") }
  }
}

/// The options of a timed `bench` subcommand: `--repetitions`, `--seed`, `--threads` and `--json`;
/// and how its benchmark is run and printed with them.
struct BenchmarkRunOptions: ParsableArguments {
  @OptionGroup var repetitions: RepetitionOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var output: JSONOutputOptions

  /// What the command prints: applies `--threads`, runs `measure` (its errors end the command with
  /// `Error: …`) and renders the report as its table, or one JSON object with `--json`.
  func printed(_ measure: () throws -> some BenchmarkReport) throws -> String {
    execution.apply()
    let report = try BenchLimits.running(measure)
    return try output.text(report)
  }

  /// `benchmark` with `--repetitions` and `--seed` in place.
  func configured<Benchmark: RepeatedBenchmark>(_ benchmark: Benchmark) -> Benchmark {
    var b = benchmark
    b.repetitions = repetitions.repetitions
    b.seed = seed.seed
    return b
  }
}

/// A benchmark that `--repetitions` and `--seed` configure (``BenchmarkRunOptions/configured(_:)``).
protocol RepeatedBenchmark {
  var repetitions: Int { get set }
  var seed: UInt64 { get set }
}

extension UpdateBenchmark: RepeatedBenchmark {}
extension DenseSweepBenchmark: RepeatedBenchmark {}
extension IterativeAttentionBenchmark: RepeatedBenchmark {}
extension ClassificationBenchmark: RepeatedBenchmark {}
extension InContextTrainingBenchmark: RepeatedBenchmark {}
