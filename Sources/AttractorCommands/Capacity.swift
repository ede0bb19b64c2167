import ArgumentParser
import Attractors
import Foundation

/// `--model` values of `attractor capacity`.
public enum CapacityModelOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case classical, polynomial, rectified, exponential
}

/// `--start` values of `attractor capacity`.
public enum CapacityStartOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case stored, random
}

/// `attractor capacity`: capacity scans of dense associative memories (and the classical network),
/// the XOR truth table (`--xor`) and the asynchronous-sweep benchmark (`--bench`).
public struct Capacity: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "capacity",
    abstract: "Measure how many patterns dense associative memories recall (K_max, K½), the XOR table, or the sweep speed.",
    discussion: """
      For each model, N in --units and K in --patterns, K random ±1 patterns are stored and \
      asynchronous dynamics (one unit at a time, random order per sweep, the energy-difference rule of \
      Krotov & Hopfield) run from --starts starts until a sweep changes no unit (or --max-sweeps). \
      --start stored: start s is pattern s mod K with round(f·N) units flipped (--flip-fraction f); \
      errors = units differing from that pattern. --start random: uniform ±1 states; errors = units \
      differing from the nearest stored pattern or its negation. Reported: the fraction of starts \
      with no error and with at most --max-errors errors; K_max = largest scanned K with no error at \
      any start (and at every smaller K); K½ = K where the error-free fraction crosses ½ (linear \
      interpolation). --model classical is F(x) = x², exactly the classical Hopfield decisions.

      --relative-patterns c1,c2,… scans K = round(c·K_max(N)) with the formula \
      K_max = N^(n−1)/(2(2n−3)!! ln N) of each polynomial model, for scans over several N.

      --xor prints the XOR truth table (N = 3, K = 4) for each model and degree. --bench times the \
      asynchronous sweep (unit updates per second) on one (N, K) from random starts.
      """)

  @Option(help: ArgumentHelp("Models, comma-separated: classical, polynomial, rectified, exponential.", valueName: "list"))
  var model: String = "polynomial"

  @Option(help: ArgumentHelp("Degrees n of the polynomial and rectified models, comma-separated (each ≥ 1).", valueName: "n-list"))
  var degree: String = "3"

  @Option(parsing: .unconditional, help: ArgumentHelp("β of the exponential model F(x) = exp(βx).", valueName: "β"))
  var beta: Double = 1

  @Option(help: ArgumentHelp("Numbers of units N, comma-separated (default 100; with a --patterns file, its N).", valueName: "N-list"))
  var units: String?

  @Option(help: ArgumentHelp("Numbers of stored patterns K, comma-separated, or a .npy file of ±1 patterns (K × N) to use instead of random ones.", valueName: "K-list|file.npy"))
  var patterns: String = "10,20,50,100,200,500,1000,2000"

  @Option(name: .customLong("relative-patterns"), help: ArgumentHelp("Scan K = round(c·K_max(N)) for these multiples c of the formula (polynomial models with n ≥ 2).", valueName: "c-list"))
  var relativePatterns: String?

  @Option(help: ArgumentHelp("Starts per (N, K).", valueName: "S"))
  var starts: Int = 1000

  @Option(help: "Where the dynamics start: stored patterns (with --flip-fraction) or random ±1 states.")
  var start: CapacityStartOption = .stored

  @Option(name: .customLong("flip-fraction"), parsing: .unconditional, help: ArgumentHelp("Fraction of units flipped in stored starts, in [0, 1].", valueName: "f"))
  var flipFraction: Double = 0

  @Option(name: .customLong("max-errors"), help: ArgumentHelp("Also report the fraction of starts ending with at most e wrong units.", valueName: "e"))
  var maxErrors: Int = 0

  @Option(name: .customLong("max-sweeps"), help: ArgumentHelp("Most asynchronous sweeps per start.", valueName: "T"))
  var maxSweeps: Int = 1000

  @Option(help: "Seed of patterns, starts and update orders.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Worker threads for the starts (default: all cores).", valueName: "t"))
  var threads: Int?

  @Option(name: .customLong("output-dir"), help: ArgumentHelp("Write capacity.csv, capacity.json and SVG plots here (atomically).", valueName: "dir"))
  var outputDirectory: String?

  @Option(help: ArgumentHelp("File name prefix of the outputs.", valueName: "name"))
  var prefix: String = "capacity"

  @Flag(help: "Print the XOR truth table (N = 3, K = 4) for each model and degree instead of a scan.")
  var xor = false

  @Flag(help: "Time the asynchronous sweep (unit updates per second) on the first N and K instead of a scan.")
  var bench = false

  @Flag(help: "Print the report as JSON.")
  var json = false

  public init() {}

  // MARK: - Parsing and validation

  static func list<T>(_ text: String, name: String, _ parse: (String) -> T?) throws -> [T] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var values: [T] = []
    for p in parts {
      guard let v = parse(p) else { throw ValidationError("\(name) takes a comma-separated list, and '\(p)' in '\(text)' is not a valid entry") }
      values.append(v)
    }
    return values
  }

  var patternsFile: String? { patterns.hasSuffix(".npy") ? patterns : nil }

  func parsedModels() throws -> [CapacityModel] {
    let kinds = try Capacity.list(model, name: "--model") { CapacityModelOption(rawValue: $0) }
    let degrees = try parsedDegrees()
    var models: [CapacityModel] = []
    for kind in kinds {
      switch kind {
      case .classical: models.append(.classical)
      case .polynomial: models += degrees.map { .polynomial(degree: $0) }
      case .rectified: models += degrees.map { .rectified(degree: $0) }
      case .exponential: models.append(.exponential(beta: beta))
      }
    }
    return models
  }

  func parsedDegrees() throws -> [Int] {
    let degrees = try Capacity.list(degree, name: "--degree") { Int($0) }
    for n in degrees where n < 1 || n > 64 {
      throw ValidationError("--degree n must be an integer from 1 to 64 (F(x) = x^n), got \(n)")
    }
    return degrees
  }

  func parsedUnits() throws -> [Int] {
    let values = try Capacity.list(units ?? "100", name: "--units") { Int($0) }
    for n in values where n < 1 || n > 1 << 20 { throw ValidationError("--units N must be between 1 and 1048576, got \(n)") }
    return values
  }

  func parsedPatternCounts() throws -> [Int] {
    if patternsFile != nil { return [] }
    let values = try Capacity.list(patterns, name: "--patterns") { Int($0) }
    for k in values where k < 1 || k > 1 << 24 { throw ValidationError("--patterns K must be between 1 and 16777216, got \(k)") }
    return values
  }

  func parsedRelative() throws -> [Double] {
    guard let relativePatterns else { return [] }
    let values = try Capacity.list(relativePatterns, name: "--relative-patterns") { Double($0) }
    for c in values where !(c.isFinite && c > 0) { throw ValidationError("--relative-patterns multiples must be finite and > 0, got \(c)") }
    return values
  }

  public func validate() throws {
    let models = try parsedModels()
    _ = try parsedUnits()
    _ = try parsedPatternCounts()
    let relative = try parsedRelative()
    if !relative.isEmpty {
      if patternsFile != nil { throw ValidationError("--relative-patterns and a --patterns file are mutually exclusive") }
      if models.contains(where: { $0.formulaKMax(units: 100) == nil }) {
        throw ValidationError("--relative-patterns scales the K_max formula, which exists only for polynomial, rectified and classical models of degree ≥ 2")
      }
    }
    if !(beta.isFinite && beta > 0) { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
    if starts < 1 || starts > 1 << 24 { throw ValidationError("--starts must be between 1 and 16777216, got \(starts)") }
    if !(flipFraction >= 0 && flipFraction <= 1) { throw ValidationError("--flip-fraction must be a fraction in [0, 1], got \(flipFraction)") }
    if start == .random && flipFraction != 0 { throw ValidationError("--flip-fraction applies to --start stored; random starts flip nothing") }
    if maxErrors < 0 { throw ValidationError("--max-errors must be at least 0, got \(maxErrors)") }
    if maxSweeps < 1 { throw ValidationError("--max-sweeps must be at least 1, got \(maxSweeps)") }
    if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
    if xor && bench { throw ValidationError("--xor and --bench are mutually exclusive") }
  }

  var experiment: CapacityExperiment {
    get throws {
      CapacityExperiment(
        units: try parsedUnits(), patternCounts: try parsedPatternCounts(), relativePatterns: try parsedRelative(),
        starts: starts, start: start == .stored ? .stored(flipFraction: flipFraction) : .random, maxErrors: maxErrors,
        seed: seed, maxSweeps: maxSweeps)
    }
  }

  // MARK: - Running

  public func run() throws {
    if xor {
      print(try xorTable())
    } else if bench {
      print(try benchmark())
    } else {
      let report = try scan(progress: { line in printToStandardError(line) })
      print(json ? String(decoding: try report.jsonData(), as: UTF8.self) : Capacity.table(report))
    }
  }

  /// Loads ±1 patterns from the --patterns file.
  func loadPatterns(_ path: String) throws -> Matrix<Double> {
    let matrix = try Recall.loadMatrix(path, role: "patterns", as: Double.self)
    guard matrix.rows >= 1 && matrix.columns >= 1 else {
      throw CommandFailure("the patterns file \(path) holds a \(matrix.rows) × \(matrix.columns) array; it needs at least one pattern of at least one unit")
    }
    for i in 0..<matrix.rows {
      for j in 0..<matrix.columns where matrix[i, j] != 1 && matrix[i, j] != -1 {
        throw CommandFailure("the patterns file \(path) has \(matrix[i, j]) in pattern \(i), unit \(j); capacity runs store ±1 patterns (binarise with sign first)")
      }
    }
    return matrix
  }

  /// Runs the scan and writes the outputs; returns the report.
  public func scan(progress: (String) -> Void = { _ in }) throws -> CapacityReport {
    let models = try parsedModels()
    let experiment = try self.experiment
    let given = try patternsFile.map { try loadPatterns($0) }
    if let given, let units {
      if try parsedUnits() != [given.columns] {
        throw CommandFailure("--units \(units) does not match the patterns file, whose patterns have N = \(given.columns) units")
      }
    }
    let clock = ContinuousClock()
    let begin = clock.now
    var curves: [CapacityCurve] = []
    let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
    for m in models {
      do {
        curves += try experiment.run(model: m, patterns: given, threads: threadCount) { curve, p in
          progress(
            "\(curve.model)  N = \(p.units)  K = \(p.patterns): error-free \(String(format: "%.4f", p.errorFreeFraction)), \(String(format: "%.2f", p.seconds)) s")
        }
      } catch {
        throw CommandFailure("capacity run failed for \(m): \(error)")
      }
    }
    let elapsed = clock.now - begin
    let report = CapacityReport(
      version: Attractor.version, experiment: experiment, models: models, curves: curves, threads: threadCount,
      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    if let outputDirectory {
      do {
        let written = try report.write(to: URL(fileURLWithPath: outputDirectory), prefix: prefix)
        for url in written { progress("wrote \(url.path)") }
      } catch {
        throw CommandFailure("\(error)")
      }
    }
    return report
  }

  /// The human-readable table and the K_max / K½ summary.
  static func table(_ report: CapacityReport) -> String {
    let e = report.experiment
    var lines: [String] = []
    lines.append("# capacity: \(e.start), \(e.starts) starts per K, seed \(e.seed), max sweeps \(e.maxSweeps), threads \(report.threads)")
    lines.append("")
    lines.append("| model | N | K | error-free | ≤ \(e.maxErrors) wrong | mean errors | on +ξ | converged | mean sweeps | seconds |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in report.curves {
      for p in c.points {
        lines.append(
          "| \(c.model) | \(p.units) | \(p.patterns) | \(String(format: "%.4f", p.errorFreeFraction)) | \(String(format: "%.4f", p.withinMaxErrorsFraction)) | "
            + "\(String(format: "%.3f", p.meanErrors)) | \(String(format: "%.4f", p.endedOnPatternFraction)) | \(String(format: "%.4f", p.convergedFraction)) | "
            + "\(String(format: "%.2f", p.meanSweeps)) | \(String(format: "%.2f", p.seconds)) |")
      }
    }
    lines.append("")
    lines.append("| model | N | K_max (measured, scanned K) | K½ (measured) | K_max formula N^(n−1)/(2(2n−3)!! ln N) |")
    lines.append("|---|---:|---:|---:|---:|")
    for c in report.curves {
      let kMax = c.kMax.map { "\($0)" } ?? (c.points.first.map { "< \($0.patterns)" } ?? "—")
      let kHalf = c.kHalf.map { String(format: "%.1f", $0) } ?? "—"
      let formula = c.formulaKMax.map { String(format: "%.1f", $0) } ?? "—"
      lines.append("| \(c.model) | \(c.units) | \(kMax) | \(kHalf) | \(formula) |")
    }
    lines.append("")
    lines.append("total \(String(format: "%.1f", report.seconds)) s")
    return lines.joined(separator: "\n")
  }

  /// The XOR truth table for every model and degree.
  public func xorTable() throws -> String {
    var lines: [String] = ["# XOR with N = 3, K = 4 memories (x, y, z = −xy in ±1); one update of z with x, y held", ""]
    lines.append("| interaction | (x,y)=(−,−) | (−,+) | (+,−) | (+,+) | solved |")
    lines.append("|---|---:|---:|---:|---:|---|")
    for m in try parsedModels() {
      let result: XORExperiment.Result
      do {
        switch m {
        case .classical: result = try XORExperiment.run(interaction: try Polynomial(degree: 2))
        case .polynomial(let n): result = try XORExperiment.run(interaction: try Polynomial(degree: n))
        case .rectified(let n): result = try XORExperiment.run(interaction: try RectifiedPolynomial(degree: n))
        case .exponential(let b): result = try XORExperiment.run(interaction: try Exponential(beta: b))
        }
      } catch {
        throw CommandFailure("XOR failed for \(m): \(error)")
      }
      let cells = result.rows.map { r -> String in
        let z = r.zFromPlus == r.zFromMinus ? (r.zFromPlus > 0 ? "+" : "−") : "keeps z"
        return "sum \(String(format: "%.6g", r.decisionSum)) → \(z)"
      }
      lines.append("| \(result.interaction) | " + cells.joined(separator: " | ") + " | \(result.solved ? "yes" : "no") |")
    }
    lines.append("")
    lines.append("expected z = −xy: (−,−) → −, (−,+) → +, (+,−) → +, (+,+) → −; a zero sum keeps z's initial value (both ±1 tried)")
    return lines.joined(separator: "\n")
  }

  /// Times the asynchronous sweep: unit updates per second from random starts on the first N, K
  /// and model, single-threaded and with all threads.
  public func benchmark() throws -> String {
    guard let n = try parsedUnits().first, let k = try parsedPatternCounts().first, let m = try parsedModels().first else {
      throw CommandFailure("--bench needs one N (--units), one K (--patterns, a list) and a model")
    }
    let experiment = CapacityExperiment(units: [n], patternCounts: [k], starts: starts, start: .random, seed: seed, maxSweeps: maxSweeps)
    let stored = experiment.randomPatterns(units: n, count: k)
    var lines = [
      "# asynchronous sweep: \(m), N = \(n), K = \(k), \(starts) random starts, up to \(maxSweeps) sweeps, seed \(seed); cores \(ProcessInfo.processInfo.activeProcessorCount)",
      "",
      "| threads | unit updates | seconds | unit updates / s | pattern terms / s |",
      "|---:|---:|---:|---:|---:|",
    ]
    var counts = [1]
    let all = threads ?? ProcessInfo.processInfo.activeProcessorCount
    if all > 1 { counts.append(all) }
    for t in counts {
      _ = try experiment.measure(model: m, patterns: stored, threads: t)  // warm-up
      let p = try experiment.measure(model: m, patterns: stored, threads: t)
      let rate = Double(p.unitUpdates) / p.seconds
      lines.append(
        "| \(t) | \(p.unitUpdates) | \(String(format: "%.3f", p.seconds)) | \(String(format: "%.4g", rate)) | \(String(format: "%.4g", rate * Double(k))) |")
    }
    return lines.joined(separator: "\n")
  }
}
