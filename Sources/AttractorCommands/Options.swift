import ArgumentParser
import Attractors
import Foundation

// The option groups every command shares, so that one concept has one name across the tool. The
// vocabulary (one name per concept) is written down in Docs/CommandLine.md; keep the two in step.

/// Where stored patterns come from: `--patterns FILE.npy`, or `--count` random patterns of
/// dimension `--dimension` (defaults chosen by the command).
struct PatternOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Stored patterns: a 2-D .npy array, one pattern per row (float32, float64, int32 or int64).", valueName: "file.npy"))
  var patterns: String?

  @Option(help: ArgumentHelp("Number N of random patterns (default: see the command's description).", valueName: "N"))
  var count: Int?

  @Option(help: ArgumentHelp("Dimension d of the random patterns (default: see the command's description).", valueName: "d"))
  var dimension: Int?

  func validate() throws {
    if patterns != nil {
      if count != nil { throw ValidationError("--patterns and --count are mutually exclusive: the file sets the number of patterns") }
      if dimension != nil { throw ValidationError("--patterns and --dimension are mutually exclusive: the file sets the dimension") }
    }
    if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if let dimension, dimension < 1 { throw ValidationError("--dimension must be at least 1, got \(dimension)") }
  }

  /// The number and dimension of random patterns: `--count` and `--dimension`, or the command's
  /// `defaults`.
  func randomShape(defaults: RandomPatternDefaults) -> (count: Int, dimension: Int) {
    (count ?? defaults.count, dimension ?? defaults.dimension)
  }
}

/// A command's default number and dimension of random patterns, and how its description says
/// where patterns come from.
struct RandomPatternDefaults {
  var count: Int
  var dimension: Int

  /// "Patterns come from … entries": the opening of the command's description.
  var sentence: String {
    "Patterns come from --patterns FILE.npy (N × d) or are random: --count N (default \(count)) Gaussian "
      + "vectors in dimension --dimension d (default \(dimension)) with independent N(0, 1/d) entries"
  }
}

/// `--seed`: the seed of every random choice of a run.
struct SeedOptions: ParsableArguments {
  @Option(help: "Seed of every random choice (patterns, queries, starts, update orders, initialisations).")
  var seed: UInt64 = 0
}

/// `--threads`: OpenBLAS threads. Always BLAS threads; worker threads are `--workers`.
struct ExecutionOptions: ParsableArguments {
  @Option(help: ArgumentHelp("OpenBLAS threads (default: OpenBLAS's own choice). Results differ in the last bits between thread counts.", valueName: "n"))
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  /// Sets the OpenBLAS thread count when `--threads` was given; returns the count in force.
  @discardableResult
  func apply() -> Int {
    if let threads { BLAS.setThreadCount(threads) }
    return BLAS.threadCount
  }
}

/// `--output-dir`: the folder a command writes its files into. Without it a command writes into
/// `report-<name>` under the current directory (git-ignored in the repository), never into a
/// tracked folder such as Docs/: regenerating a committed report takes an explicit `--output-dir`.
struct OutputFolderOptions: ParsableArguments {
  @Option(name: .customLong("output-dir"), help: ArgumentHelp("Folder for the files written (created if missing; default report-<command> in the current directory).", valueName: "dir"))
  var outputDirectory: String?

  func validate() throws {
    if let outputDirectory, outputDirectory.isEmpty { throw ValidationError("--output-dir must not be empty") }
  }

  /// The folder to write into: `--output-dir`, or `report-<defaultName>` in the current directory.
  func folder(defaultName: String) -> URL {
    URL(fileURLWithPath: outputDirectory ?? "report-\(defaultName)")
  }

  /// The folder, created if missing; a file in its place is a ``CommandFailure``.
  func createFolder(defaultName: String) throws -> URL {
    try createOutputFolder(folder(defaultName: defaultName))
  }
}

/// `--output-dir` for a command that prints its result and writes files only when asked: without
/// the option nothing is written.
struct OptionalOutputFolderOptions: ParsableArguments {
  @Option(name: .customLong("output-dir"), help: ArgumentHelp("Also write the result's files into this folder (created if missing; without it nothing is written).", valueName: "dir"))
  var outputDirectory: String?

  func validate() throws {
    if let outputDirectory, outputDirectory.isEmpty { throw ValidationError("--output-dir must not be empty") }
  }

  /// The folder, created if missing, or `nil` without `--output-dir`.
  func createFolder() throws -> URL? {
    try outputDirectory.map { try createOutputFolder(URL(fileURLWithPath: $0)) }
  }
}

/// Creates the folder `url` if missing; a file in its place is a ``CommandFailure``.
@discardableResult
func createOutputFolder(_ url: URL) throws -> URL {
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
    throw CommandFailure("\(url.path) exists and is not a folder; choose another --output-dir")
  }
  do {
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  } catch {
    throw CommandFailure("cannot create the folder \(url.path): \(error.localizedDescription)")
  }
  return url
}

/// `--json`: print one JSON object (the project's encoding, ``JSONCoding``) instead of a table.
struct JSONOutputOptions: ParsableArguments {
  @Flag(help: "Print one JSON object instead of the table.")
  var json = false

  /// Prints `value` as pretty JSON on standard output.
  func printJSON<T: Encodable>(_ value: T) throws {
    print(try JSONCoding.string(value), terminator: "")
  }

  /// What a table-printing command prints: `value` as pretty JSON with `--json`, else `table()`.
  func text<T: Encodable>(_ value: T, table: () -> String) throws -> String {
    json ? try JSONCoding.string(value) : table()
  }
}

/// `--repetitions`: timed repetitions of a benchmark after one warm-up run.
struct RepetitionOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Timed repetitions after one warm-up (the median is reported).", valueName: "r"))
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

/// `--epochs`, `--learning-rate`, `--batch-size`: how a model is trained. An option left out keeps
/// the command's training settings (each command states its defaults in its description).
struct TrainingOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Most training epochs (default: see the command's description).", valueName: "n"))
  var epochs: Int?

  @Option(name: .customLong("learning-rate"), help: ArgumentHelp("Peak AdamW learning rate, cosine-decayed to 0.05× over the epochs (default: see the command's description).", valueName: "η"))
  var learningRate: Double?

  @Option(name: .customLong("batch-size"), help: ArgumentHelp("Training minibatch (default: see the command's description).", valueName: "B"))
  var batchSize: Int?

  func validate() throws {
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if let learningRate, !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
    }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
  }

  /// Puts the options given into `settings`.
  func apply(to settings: inout IterativeAttentionStudy.Settings) {
    if let epochs { settings.epochs = epochs }
    if let learningRate { settings.learningRate = learningRate }
    if let batchSize { settings.batchSize = batchSize }
  }

  /// The options given, as typed, for a rebuilt command line.
  var arguments: [String] {
    var parts: [String] = []
    if let epochs { parts += ["--epochs", "\(epochs)"] }
    if let learningRate { parts += ["--learning-rate", "\(learningRate)"] }
    if let batchSize { parts += ["--batch-size", "\(batchSize)"] }
    return parts
  }
}

/// `--layers`, `--heads`, `--dimension`, `--temperature`: the shape of an attention stack (L layers
/// of H heads, width d, logits scaled by 1/(τ √d_h)). An option left out keeps the command's
/// default (each command states it in its description).
struct AttentionShapeOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Attention layers L (default: see the command's description).", valueName: "L"))
  var layers: Int?

  @Option(help: ArgumentHelp("Heads per layer H (must divide the width d; default: see the command's description).", valueName: "H"))
  var heads: Int?

  @Option(help: ArgumentHelp("Model width d (default: see the command's description).", valueName: "d"))
  var dimension: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Temperature τ (logits scaled by 1/(τ √d_h); default 1).", valueName: "τ"))
  var temperature: Double?

  /// The limits every attention stack has; a command adds its own (upper bounds, the width a
  /// multiple of the heads).
  func validate() throws {
    if let layers, !(1...64).contains(layers) { throw ValidationError("--layers must be between 1 and 64, got \(layers)") }
    if let heads, heads < 1 { throw ValidationError("--heads must be at least 1, got \(heads)") }
    if let dimension, dimension < 1 { throw ValidationError("--dimension must be at least 1, got \(dimension)") }
    if let temperature, !(temperature.isFinite && temperature > 0) {
      throw ValidationError("--temperature must be finite and positive, got \(temperature)")
    }
  }

  /// The options given, as typed, for a rebuilt command line.
  var arguments: [String] {
    var parts: [String] = []
    if let layers { parts += ["--layers", "\(layers)"] }
    if let heads { parts += ["--heads", "\(heads)"] }
    if let dimension { parts += ["--dimension", "\(dimension)"] }
    if let temperature { parts += ["--temperature", "\(temperature)"] }
    return parts
  }
}

// MARK: - Typed lists

/// A comma-separated list typed as `Element` (`--dimension 64,256`, `--count 10,100,1000`), parsed
/// in one place: empty items, unparsable items and duplicates are refused with the item named.
struct ArgumentList<Element: LosslessStringConvertible & Hashable & Sendable>: ExpressibleByArgument, Sendable {
  var values: [Element]

  init(_ values: [Element]) { self.values = values }

  init?(argument: String) {
    let items = argument.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    var values: [Element] = []
    var seen: Set<Element> = []
    for item in items {
      guard !item.isEmpty, let value = Element(item), seen.insert(value).inserted else { return nil }
      values.append(value)
    }
    guard !values.isEmpty else { return nil }
    self.values = values
  }

  var defaultValueDescription: String { values.map { "\($0)" }.joined(separator: ",") }
}

typealias IntList = ArgumentList<Int>
typealias DoubleList = ArgumentList<Double>
typealias SeedList = ArgumentList<UInt64>

/// Where queries come from: `--queries FILE.npy` (+ `--targets FILE.npy`), or `--query-count`
/// random targets corrupted by `--corruption` at `--level`.
struct QueryOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Queries: a 2-D .npy array, one query per row, with d columns.", valueName: "file.npy"))
  var queries: String?

  @Option(help: ArgumentHelp("With --queries: a 1-D integer .npy array of the pattern each query should retrieve (rows of the patterns, from 0). Without it accuracy is not reported.", valueName: "file.npy"))
  var targets: String?

  @Option(name: .customLong("query-count"), help: ArgumentHelp("Number B of queries made from random targets (default: see the command's description).", valueName: "B"))
  var queryCount: Int?

  @Option(help: ArgumentHelp("How queries are corrupted: noise, mask, overlap, flip or none (default noise; flip with --model classical).", valueName: "kind"))
  var corruption: Corruption.Kind?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Corruption level: σ for noise (default 0.1), fraction for mask (0.3) and flip (0.1), α for overlap (0.7).", valueName: "x"))
  var level: Double?

  func validate() throws {
    if queries != nil {
      if queryCount != nil { throw ValidationError("--queries and --query-count are mutually exclusive: the file sets the number of queries") }
      if corruption != nil { throw ValidationError("--queries and --corruption are mutually exclusive: queries from a file are used as given") }
      if level != nil { throw ValidationError("--queries and --level are mutually exclusive: queries from a file are used as given") }
    } else if targets != nil {
      throw ValidationError("--targets needs --queries: generated queries know their own targets")
    }
    if let queryCount, queryCount < 1 { throw ValidationError("--query-count must be at least 1, got \(queryCount)") }
  }

  /// Refuses a `--level` outside the range of `kind` (the corruption in force).
  func validateLevel(for kind: Corruption.Kind) throws {
    guard let level else { return }
    do { try Corruption(kind: kind, level: level).validate() } catch {
      throw ValidationError("--level for \(kind.rawValue) is \(kind.levelMeaning), got \(Format.compact(level))")
    }
  }
}

/// `--beta-range lo:hi:count`: `count` log-spaced values of β from `lo` to `hi`, parsed once.
struct BetaRange: ExpressibleByArgument, Sendable, Equatable {
  var lower: Double
  var upper: Double
  var count: Int

  init(lower: Double, upper: Double, count: Int) {
    self.lower = lower
    self.upper = upper
    self.count = count
  }

  init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else { return nil }
    self.init(lower: lo, upper: hi, count: n)
  }

  var defaultValueDescription: String { "\(Format.compact(lower)):\(Format.compact(upper)):\(count)" }

  /// Refuses a range that is not 0 < lo < hi (finite) with 2 … 200 values.
  func validate() throws {
    guard lower.isFinite, upper.isFinite, lower > 0, upper > lower else {
      throw ValidationError("--beta-range needs 0 < lo < hi (finite), got \(defaultValueDescription)")
    }
    guard (2...200).contains(count) else { throw ValidationError("--beta-range count must be between 2 and 200, got \(count)") }
  }
}

/// Refuses a `--file-prefix` that is not a plain file name.
func validateFilePrefix(_ prefix: String) throws {
  if prefix.isEmpty || prefix.contains("/") || prefix.hasPrefix(".") {
    throw ValidationError("--file-prefix must be a plain file name (no '/', not starting with '.'), got '\(prefix)'")
  }
}

/// Runs `body`, turning a library's ``InputError`` (and any other error) into a ``CommandFailure``.
func failingAsCommand<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let error as CommandFailure { throw error } catch { throw CommandFailure("\(error)") }
}

/// Runs `body` during validation, turning a library's ``InputError`` into a `ValidationError`.
func failingAsValidation(_ body: () throws -> Void) throws {
  do { try body() } catch let error as InputError { throw ValidationError(error.message) }
}

// Library enums used as option values (their raw values are the names on the command line).
extension Corruption.Kind: ExpressibleByArgument {}
extension RecallModel: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension CapacityModelFamily: ExpressibleByArgument, LosslessStringConvertible {
  public init?(_ description: String) { self.init(rawValue: description) }
  public var description: String { rawValue }
}
