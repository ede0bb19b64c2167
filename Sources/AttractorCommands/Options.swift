import ArgumentParser
import Attractors
import Foundation

// The option groups every command shares, so that one concept has one name across the tool. The
// vocabulary (one name per concept) is written down in Docs/CommandLine.md; keep the two in step.

/// Where stored patterns come from: `--patterns FILE.npy`, or `--count` random patterns of
/// dimension `--dimension` (defaults chosen by the command).
struct PatternOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Stored patterns: a 2-D .npy array, one pattern per row (float32, float64, int32 or int64).",
      valueName: "file.npy"))
  var patterns: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Number N of random patterns (default: see the command's description).", valueName: "N"))
  var count: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Dimension d of the random patterns (default: see the command's description).", valueName: "d"))
  var dimension: Int?

  func validate() throws {
    if patterns != nil {
      if count != nil {
        throw ValidationError("--patterns and --count are mutually exclusive: the file sets the number of patterns")
      }
      if dimension != nil {
        throw ValidationError("--patterns and --dimension are mutually exclusive: the file sets the dimension")
      }
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
  @Option(
    parsing: .unconditional,
    help: "Seed of every random choice (patterns, queries, starts, update orders, initialisations).",
    transform: { try parseSeed($0, option: "--seed") })
  var seed: UInt64 = 0
}

/// A seed typed on the command line: a whole number from 0 to 2⁶⁴ − 1, or a `ValidationError`
/// that names `option` and the range (a negative seed is read as a value, not as an option).
func parseSeed(_ text: String, option: String) throws -> UInt64 {
  guard let seed = UInt64(text) else {
    throw ValidationError("\(option) must be a whole number from 0 to \(UInt64.max), got \(text)")
  }
  return seed
}

/// `--threads`: OpenBLAS threads. Always BLAS threads; worker threads are `--workers`.
struct ExecutionOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "OpenBLAS threads (default: OpenBLAS's own choice). Results differ in the last bits between thread counts.",
      valueName: "n"))
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
struct OutputFolderOptions: OutputFolderOption {
  @Option(
    outputFolderHelp:
      "Folder for the files written (created if missing; default report-<command> in the current directory).")
  var outputDirectory: String?

  /// The folder to write into: `--output-dir`, or `report-<defaultName>` in the current directory.
  func folder(defaultName: String) -> URL {
    URL(fileURLWithPath: outputDirectory ?? "report-\(defaultName)")
  }

  /// The folder, created if missing; a file in its place is a ``CommandFailure``.
  func createFolder(defaultName: String) throws -> URL {
    try createOutputFolder(folder(defaultName: defaultName))
  }

  /// `--output-dir`, or else a new folder: `report-<defaultName>` when it does not exist or is
  /// empty, otherwise the first `report-<defaultName>-2`, `-3`, … that does not exist. For
  /// commands that refuse to write over an earlier run, so that running them again with no option
  /// starts a fresh report instead of failing.
  /// `base` is the folder the default goes into (the current directory unless a test says).
  func newFolder(defaultName: String, in base: URL? = nil) -> URL {
    if let outputDirectory { return URL(fileURLWithPath: outputDirectory) }
    let manager = FileManager.default
    func url(_ name: String) -> URL { base.map { $0.appendingPathComponent(name) } ?? URL(fileURLWithPath: name) }
    func isFree(_ url: URL) -> Bool {
      guard manager.fileExists(atPath: url.path) else { return true }
      return (try? manager.contentsOfDirectory(atPath: url.path).isEmpty) ?? false
    }
    var candidate = url("report-\(defaultName)")
    var n = 2
    while !isFree(candidate) {
      candidate = url("report-\(defaultName)-\(n)")
      n += 1
    }
    return candidate
  }
}

/// `--output-dir` for a command that prints its result and writes files only when asked: without
/// the option nothing is written.
struct OptionalOutputFolderOptions: OutputFolderOption {
  @Option(
    outputFolderHelp:
      "Also write the result's files into this folder (created if missing; without it nothing is written).")
  var outputDirectory: String?

  /// The folder, created if missing, or `nil` without `--output-dir`.
  func createFolder() throws -> URL? {
    try outputDirectory.map { try createOutputFolder(URL(fileURLWithPath: $0)) }
  }
}

/// What the two `--output-dir` groups share: the option's value and its check.
protocol OutputFolderOption: ParsableArguments {
  var outputDirectory: String? { get }
}

extension OutputFolderOption {
  func validate() throws {
    if let outputDirectory, outputDirectory.isEmpty { throw ValidationError("--output-dir must not be empty") }
  }
}

extension Option where Value == String? {
  /// `--output-dir dir`, with `help` saying what the folder is for.
  init(outputFolderHelp help: String) {
    self.init(name: .customLong("output-dir"), help: ArgumentHelp(help, valueName: "dir"))
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
