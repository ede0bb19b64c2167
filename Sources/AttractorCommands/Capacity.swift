import ArgumentParser
import Attractors
import Foundation

/// `attractor capacity`: capacity scans of dense associative memories and the classical network
/// (`CapacityScan`), and Krotov & Hopfield's XOR table (`XORTable`).
public struct Capacity: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "capacity",
    abstract: "Measure how many patterns dense associative memories recall (K_max, K½); the XOR table.",
    subcommands: [Scan.self, XOR.self],
    defaultSubcommand: Scan.self)

  public init() {}
}

/// `--model`, `--degree`, `--beta`: the capacity models, by family.
struct CapacityModelOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Models, comma-separated: classical, dense-polynomial, dense-rectified, dense-exponential.", valueName: "list"),
    transform: ArgumentList<CapacityModelFamily>.parse)
  var model = ArgumentList<CapacityModelFamily>([.densePolynomial])

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Degrees n of the polynomial and rectified models, comma-separated (each 1 … 64).", valueName: "n-list"),
    transform: IntList.parse)
  var degree = IntList([3])

  @Option(parsing: .unconditional, help: ArgumentHelp("β of the exponential model F(x) = exp(βx).", valueName: "β"))
  var beta: Double = 1

  func validate() throws {
    for n in degree.values where n < 1 || n > 64 {
      throw ValidationError("--degree n must be an integer from 1 to 64 (F(x) = x^n), got \(n)")
    }
    if !(beta.isFinite && beta > 0) {
      throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))")
    }
  }

  var models: [CapacityModel] { CapacityModelFamily.models(model.values, degrees: degree.values, beta: beta) }
}

extension Capacity {
  /// `attractor capacity scan` (the default): K_max and K½ over N and K.
  public struct Scan: ParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "scan",
      abstract: "K_max and K½ of dense associative memories (and the classical network) over N and K.",
      discussion: """
        For each model, N in --dimension and K in --count, K random ±1 patterns are stored and \
        asynchronous dynamics (one unit at a time, random order per sweep, the energy-difference rule \
        of Krotov & Hopfield) run from --starts starts until a sweep changes no unit (or --max-steps \
        sweeps). --start stored: start s is pattern s mod K with round(f·N) units flipped \
        (--flip-fraction f); errors = units differing from that pattern. --start random: uniform ±1 \
        states; errors = units differing from the nearest stored pattern or its negation. Reported: \
        the fraction of starts with no error and with at most --max-errors errors; K_max = largest \
        scanned K with no error at any start (and at every smaller K); K½ = K where the error-free \
        fraction crosses ½ (linear interpolation). --draws D repeats every (N, K) on D independent \
        pattern draws: the table then gives K_max and K½ per draw (mean ± sd and range) and, per K, \
        the share of draws in which every start ended error-free. --model classical is F(x) = x², exactly the \
        classical Hopfield decisions. --patterns FILE.npy stores the ±1 patterns of a file instead.

        --relative-count c1,c2,… scans K = round(c·K_max(N)) with the formula \
        K_max = N^(n−1)/(2(2n−3)!! ln N) of each polynomial model, for scans over several N.
        """)

    @OptionGroup var models: CapacityModelOptions

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Numbers of units N, comma-separated (default 100; with --patterns, the file's N).", valueName: "N-list"),
      transform: IntList.parse)
    var dimension: IntList?

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Numbers of stored patterns K, comma-separated.", valueName: "K-list"),
      transform: IntList.parse)
    var count = IntList([10, 20, 50, 100, 200, 500, 1000, 2000])

    @Option(
      help: ArgumentHelp("±1 patterns (K × N .npy array) to store instead of random ones.", valueName: "file.npy"))
    var patterns: String?

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Scan K = round(c·K_max(N)) for these multiples c of the formula (polynomial models with n ≥ 2).",
        valueName: "c-list"),
      transform: DoubleList.parse)
    var relativeCount: DoubleList?

    @Option(parsing: .unconditional, help: ArgumentHelp("Starts per (N, K).", valueName: "S"))
    var starts: Int = 1000

    @Option(help: "Where the dynamics start: stored patterns (with --flip-fraction) or random ±1 states.")
    var start: CapacityStartOption = .stored

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Fraction of units flipped in stored starts, in [0, 1].", valueName: "f"))
    var flipFraction: Double = 0

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Also report the fraction of starts ending with at most e wrong units.", valueName: "e"))
    var maxErrors: Int = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Most asynchronous sweeps per start.", valueName: "T"))
    var maxSteps: Int = 1000

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Independent pattern draws per (N, K), each with its own starts; K_max and K½ are reported per draw (mean ± sd, range) with the share of draws in which every start is error-free.",
        valueName: "D"))
    var draws: Int = 1

    @OptionGroup var seed: SeedOptions

    @Option(
      parsing: .unconditional, help: ArgumentHelp("Worker threads for the starts (default: all cores).", valueName: "n")
    )
    var workers: Int?

    @OptionGroup var outputFolder: OptionalOutputFolderOptions

    @Option(
      help: ArgumentHelp(
        "Names of the files written with --output-dir (<prefix>.csv, .json, -recall.svg, …).", valueName: "name"))
    var filePrefix = "capacity"

    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    public func validate() throws {
      for n in dimension?.values ?? [] where n < 1 || n > 1 << 20 {
        throw ValidationError("--dimension N must be between 1 and 1048576, got \(n)")
      }
      for k in count.values where k < 1 || k > 1 << 24 {
        throw ValidationError("--count K must be between 1 and 16777216, got \(k)")
      }
      for c in relativeCount?.values ?? [] where !(c.isFinite && c > 0) {
        throw ValidationError("--relative-count multiples must be finite and > 0, got \(c)")
      }
      if starts < 1 || starts > 1 << 24 {
        throw ValidationError("--starts must be between 1 and 16777216, got \(starts)")
      }
      if !(flipFraction >= 0 && flipFraction <= 1) {
        throw ValidationError("--flip-fraction must be a fraction in [0, 1], got \(flipFraction)")
      }
      if start == .random && flipFraction != 0 {
        throw ValidationError("--flip-fraction applies to --start stored; random starts flip nothing")
      }
      if maxErrors < 0 { throw ValidationError("--max-errors must be at least 0, got \(maxErrors)") }
      if maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
      if draws < 1 || draws > 10_000 { throw ValidationError("--draws must be between 1 and 10000, got \(draws)") }
      if draws > 1 && patterns != nil {
        throw ValidationError("--draws draws random patterns; a --patterns file is one draw")
      }
      if let workers, workers < 1 || workers > 1024 {
        throw ValidationError("--workers must be between 1 and 1024, got \(workers)")
      }
      if let patterns, IntList(argument: patterns) != nil {
        throw ValidationError(
          "--patterns takes a .npy file of ±1 patterns; give numbers of patterns with --count \(patterns)")
      }
      try validateFilePrefix(filePrefix)
      let scan = self.scan
      try failingAsValidation { try scan.validate() }
    }

    /// The scan these options describe.
    var scan: CapacityScan {
      let experiment = CapacityExperiment(
        units: dimension?.values ?? [100], patternCounts: patterns == nil ? count.values : [],
        relativePatterns: relativeCount?.values ?? [], starts: starts,
        start: start == .stored ? .stored(flipFraction: flipFraction) : .random, maxErrors: maxErrors, seed: seed.seed,
        maxSweeps: maxSteps, draws: draws)
      return CapacityScan(
        models: models.models, experiment: experiment, patternsFile: patterns, unitsRequested: dimension != nil,
        workers: workers ?? ProcessInfo.processInfo.activeProcessorCount, version: Attractor.version)
    }

    public func run() throws {
      printOutput(try render(execute(progress: { printToStandardError($0) })))
    }

    /// What `run()` prints: the Markdown tables, or the report as JSON with --json.
    public func render(_ report: CapacityReport) throws -> String {
      try jsonOutput.text(report) { report.table }
    }

    /// Runs the scan (writing the files when --output-dir is given) without printing the report.
    public func execute(progress: (String) -> Void = { _ in }) throws -> CapacityReport {
      let folder = try outputFolder.createFolder()
      return try failingAsCommand { try scan.run(writingTo: folder, prefix: filePrefix, progress: progress) }
    }
  }

  /// `attractor capacity xor`: the XOR truth table (N = 3, K = 4) for each model and degree.
  public struct XOR: ResultPrintingCommand {
    public static let configuration = CommandConfiguration(
      commandName: "xor",
      abstract: "Krotov & Hopfield's XOR table (N = 3, K = 4) for each model and degree.",
      discussion:
        "One update of z with x and y held, from z = +1 and z = −1; the memory solves XOR when z ends at −x·y for all four inputs."
    )

    @OptionGroup var models: CapacityModelOptions
    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    /// What `run()` prints: the Markdown table, or the table as JSON with --json.
    public func render(_ table: XORTable) throws -> String {
      try jsonOutput.text(table) { table.markdown }
    }

    /// The table, without printing.
    public func execute() throws -> XORTable {
      try failingAsCommand { try XORTable(models: models.models) }
    }
  }
}

/// `--start` values of `attractor capacity scan`.
public enum CapacityStartOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case stored, random
}
