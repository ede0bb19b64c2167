import ArgumentParser
import Attractors
import Foundation

/// `attractor compare`: every model on the same patterns and the same corrupted queries; a
/// table on stdout and a report folder.
public struct Compare: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare associative memories on the same patterns and corrupted queries; write a report folder.",
    discussion: """
      Without --study, runs the built-in study (no download): 32 Gaussian patterns with N(0, 1) \
      entries in d = 64 (past the classical network's capacity of about 9); classical Hopfield, \
      modern Hopfield β = 1/8 and 1/2, dense associative memories x³ and exp (on sign-binarised \
      states), one-layer identity attention (1/√d); noise, mask and overlap corruptions at three \
      levels; T = 1, 5, 10; seeds 0, 1, 2; 128 queries per cell. --print-study prints it as a study \
      file to start your own from (Docs/Studies.md).

      A cell is one model × dataset × corruption × level × seed, run once for the largest T with \
      measurements at every T. Each finished cell is appended to <output>/cells.partial.jsonl, so \
      an interrupted run loses nothing: run the same command with --resume. --shard i/n runs the \
      cells whose number is ≡ i − 1 (mod n); `attractor merge` combines the shard folders.

      Spec errors are all listed before any work starts (exit status 64).
      """)

  @Option(help: ArgumentHelp("A study file (JSON): models × datasets × corruptions × levels × steps × seeds.", valueName: "spec.json"))
  var study: String?

  @Option(help: ArgumentHelp("Report folder (created; an unfinished run there needs --resume).", valueName: "dir"))
  var output: String = "report-compare"

  @Flag(help: "Continue an interrupted run in --output: finished cells of the same study are kept.")
  var resume = false

  @Option(help: ArgumentHelp("Run part i of n (1 ≤ i ≤ n): the cells whose number is ≡ i − 1 mod n.", valueName: "i/n"))
  var shard: String?

  @Option(name: .customLong("max-cells"), help: ArgumentHelp("Stop after running this many cells (resume later with --resume).", valueName: "k"))
  var maxCells: Int?

  @Option(help: ArgumentHelp("OpenBLAS threads (default: OpenBLAS's choice).", valueName: "t"))
  var threads: Int?

  @Flag(name: .customLong("print-study"), help: "Print the study (the built-in one, or --study checked and normalised) as a study file and exit.")
  var printStudy = false

  @Flag(name: .customLong("list-models"), help: "List the models a study file can name, with their parameters, and exit.")
  var listModels = false

  @Flag(help: "Measure throughput (queries per second per model) on the study's first dataset instead of running the study.")
  var benchmark = false

  @Option(name: .customLong("benchmark-queries"), help: ArgumentHelp("Queries per batch in --benchmark.", valueName: "B"))
  var benchmarkQueries: Int = 1024

  @Option(name: .customLong("benchmark-repetitions"), help: ArgumentHelp("Timed repetitions per model in --benchmark (median reported).", valueName: "r"))
  var benchmarkRepetitions: Int = 5

  @Flag(help: "No progress on standard error.")
  var quiet = false

  public init() {}

  public func validate() throws {
    if let shard {
      do { _ = try StudyShard(parsing: shard) } catch { throw ValidationError("--shard: \(error)") }
      if benchmark { throw ValidationError("--shard and --benchmark cannot be combined: the benchmark is not split into cells") }
    }
    if let maxCells, maxCells < 1 { throw ValidationError("--max-cells must be at least 1, got \(maxCells)") }
    if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
    if benchmarkQueries < 1 || benchmarkQueries > 1 << 20 {
      throw ValidationError("--benchmark-queries must be from 1 to 1048576, got \(benchmarkQueries)")
    }
    if benchmarkRepetitions < 1 || benchmarkRepetitions > 1000 {
      throw ValidationError("--benchmark-repetitions must be from 1 to 1000, got \(benchmarkRepetitions)")
    }
    if resume && benchmark { throw ValidationError("--resume and --benchmark cannot be combined") }
  }

  /// Exit status for a study file with mistakes (EX_USAGE-like, as sysexits' EX_DATAERR family).
  public static let specErrorStatus: Int32 = 64

  public func run() throws {
    if listModels {
      print(Compare.modelList(StudyModelRegistry.standard))
      return
    }
    let study = try loadStudy()
    if printStudy {
      print(study.spec.studyFileJSON(), terminator: "")
      return
    }
    if let threads { BLAS.setThreadCount(threads) }
    if benchmark {
      print(try Compare.benchmark(study, queries: benchmarkQueries, repetitions: benchmarkRepetitions))
      return
    }
    let result = try execute(study: study, progress: quiet ? nil : ProgressPrinter())
    print(result)
  }

  /// The study of --study or the built-in one. A study file with problems is reported through
  /// `report` (standard error by default), all of them, and ends the command with exit status 64.
  public func loadStudy(report: ((String) -> Void)? = nil) throws -> Study {
    guard let path = study else { return Study.standard }
    do {
      return try StudySpec.load(from: URL(fileURLWithPath: path), baseDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    } catch {
      (report ?? { printToStandardError($0) })("error: \(error)")
      throw ExitCode(Compare.specErrorStatus)
    }
  }

  /// Runs the study and returns what is printed on stdout.
  public func execute(study: Study, progress: ProgressPrinter? = nil) throws -> String {
    let shardValue = try shard.map { (text: String) throws -> StudyShard in
      do { return try StudyShard(parsing: text) } catch { throw CommandFailure("--shard: \(error)") }
    }
    let runner = StudyRunner(study: study, shard: shardValue, cellLimit: maxCells, version: Attractor.version)
    let folder = URL(fileURLWithPath: output)
    let clock = ContinuousClock()
    let start = clock.now
    let outcome: StudyRunner.Outcome
    do {
      outcome = try runner.run(into: folder, resume: resume) { p in progress?.update(p) }
    } catch {
      progress?.finish()
      throw CommandFailure("\(error)")
    }
    progress?.finish()
    let wall = seconds(clock.now - start)
    let assigned = runner.assignedCells.count
    var lines: [String] = []
    if !outcome.complete {
      lines.append(
        "stopped after \(outcome.results.count - outcome.resumed) new cells: \(outcome.results.count) of \(assigned) cells\(shardValue.map { " of shard \($0)" } ?? "") done, kept in \(folder.path)/\(StudyRunner.partialName); continue with the same command and --resume")
      return lines.joined(separator: "\n")
    }
    if let report = outcome.report {
      let t = study.spec.steps.last ?? 0
      lines.append("## \(study.spec.name): accuracy and dynamics after T = \(t) steps (all T in report.md)")
      lines.append("")
      lines.append(report.markdownTable(steps: t))
      lines.append("")
      lines.append(
        String(
          format: "%d cells (%d resumed), %d queries each, seeds %@; OpenBLAS threads %@; wall time %.1f s",
          assigned, outcome.resumed, study.spec.queries, study.spec.seeds.map(String.init).joined(separator: ","),
          report.blasThreads.map(String.init).joined(separator: ","), wall))
      lines.append("report: \(folder.path)/report.md (results.csv, results.json, cells.jsonl, \(study.spec.corruptions.count * 2 * study.spec.datasets.count) SVG figures)")
    } else {
      lines.append(
        String(format: "shard %@ done: %d cells (%d resumed) in %@, wall time %.1f s", shardValue!.description, assigned, outcome.resumed, folder.path, wall))
      lines.append("combine the shards with: attractor merge <shard folders…> --output <dir>")
    }
    return lines.joined(separator: "\n")
  }

  /// What `--benchmark` prints for `command` (its study, queries and repetitions).
  public static func benchmarkText(_ command: Compare) throws -> String {
    try benchmark(try command.loadStudy(), queries: command.benchmarkQueries, repetitions: command.benchmarkRepetitions)
  }

  // MARK: - Listing

  static func modelList(_ registry: StudyModelRegistry) -> String {
    var out: [String] = []
    for f in registry.factories {
      out.append("\(f.name): \(f.summary)")
      for p in f.parameters {
        var line = "    \(p.name): \(p.summary); \(p.kind.summaryText)"
        if let r = p.requirement { line += ", \(r)" }
        line += p.defaultValue.map { "; default \($0)" } ?? "; required"
        out.append(line)
      }
    }
    out.append("every model also takes \"label\": a name for tables and legends")
    return out.joined(separator: "\n")
  }

  // MARK: - Benchmark

  /// Queries per second of every model of `study` on its first dataset (first seed): B queries
  /// with the first corruption at its first level, run for the largest T steps; the median of
  /// `repetitions` timed runs after one warm-up, dynamics only (monotonic clock).
  static func benchmark(_ study: Study, queries: Int, repetitions: Int) throws -> String {
    var spec = study.spec
    spec.queries = queries
    let sized = Study(spec: spec, factories: study.factories, sources: study.sources)
    let t = spec.steps.last ?? 1
    var lines = [
      "# compare --benchmark: \(spec.datasets[0].label), B = \(queries) queries, T = \(t) steps, double precision, OpenBLAS threads \(BLAS.threadCount), median of \(repetitions)",
      "",
      "| model | ms per batch | queries / s | µs / query |",
      "|---|---:|---:|---:|",
    ]
    for (m, factory) in sized.factories.enumerated() {
      let timing: Double
      do {
        timing = try sized.benchmark(model: m, factory: factory, repetitions: repetitions)
      } catch {
        throw CommandFailure("benchmark of \(spec.models[m].label) failed: \(error)")
      }
      lines.append(
        String(format: "| %@ | %.2f | %.0f | %.2f |", spec.models[m].label, timing * 1e3, Double(queries) / timing, timing / Double(queries) * 1e6))
    }
    return lines.joined(separator: "\n")
  }
}

extension StudyParameterKind {
  var summaryText: String {
    switch self {
    case .number: "a number"
    case .integer: "an integer"
    case .boolean: "true or false"
    case .choice(let options): options.joined(separator: " | ")
    case .string: "a string"
    }
  }
}

/// A duration in seconds.
func seconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Progress on standard error: a bar with the time left on a terminal (redrawn at most ten times
/// a second), plain lines (at most one every two seconds, and the last) otherwise.
public final class ProgressPrinter: @unchecked Sendable {
  let isTerminal = isatty(STDERR_FILENO) != 0
  var lastPrint = -Double.infinity
  var printedBar = false

  public init() {}

  func update(_ p: StudyProgress) {
    let left = p.remaining.map { Self.duration($0) } ?? "?"
    if isTerminal {
      // Redraw at most ten times a second (and for the last cell).
      guard p.elapsed - lastPrint >= 0.1 || p.done == p.total else { return }
      lastPrint = p.elapsed
      let width = 30
      let filled = p.total > 0 ? width * p.done / p.total : width
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      let text = "\r[\(bar)] \(p.done)/\(p.total) cells  \(Self.duration(p.elapsed)) elapsed  ~\(left) left  \(p.cell)"
      FileHandle.standardError.write(Data((text.count > 150 ? String(text.prefix(150)) : text + "\u{1B}[K").utf8))
      printedBar = true
    } else if p.elapsed - lastPrint >= 2 || p.done == p.total {
      lastPrint = p.elapsed
      printToStandardError("progress: \(p.done)/\(p.total) cells (\(p.resumed) resumed), \(Self.duration(p.elapsed)) elapsed, ~\(left) left; last: \(p.cell)")
    }
  }

  func finish() {
    if printedBar { FileHandle.standardError.write(Data("\n".utf8)) }
    printedBar = false
  }

  static func duration(_ s: Double) -> String {
    if s < 60 { return String(format: "%.1f s", s) }
    if s < 3600 { return String(format: "%d min %02d s", Int(s) / 60, Int(s) % 60) }
    return String(format: "%d h %02d min", Int(s) / 3600, (Int(s) % 3600) / 60)
  }
}

/// `attractor merge`: one report from the folders of `attractor compare --shard` runs.
public struct Merge: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Combine the report folders of `attractor compare --shard i/n` runs into one report.",
    discussion: """
      Every folder must hold a finished shard (cells.jsonl) of the same study (same spec hash) split \
      into the same number of shards; no shard may appear twice, and together they must hold every \
      cell. The merged folder gets the same files as an unsharded run.
      """)

  @Argument(help: ArgumentHelp("The --output folders of the shard runs.", valueName: "dir"))
  var folders: [String] = []

  @Option(help: ArgumentHelp("Folder for the merged report.", valueName: "dir"))
  var output: String

  public init() {}

  public func validate() throws {
    if folders.isEmpty { throw ValidationError("give the shard folders to merge: attractor merge <dir>… --output <dir>") }
    if folders.contains(output) { throw ValidationError("--output \(output) is one of the shard folders; write the merged report elsewhere") }
  }

  public func run() throws { print(try execute()) }

  /// Merges and returns what is printed.
  public func execute() throws -> String {
    let report: StudyReport
    do {
      report = try StudyRunner.merge(folders.map { URL(fileURLWithPath: $0) }, into: URL(fileURLWithPath: output), version: Attractor.version)
    } catch {
      throw CommandFailure("\(error)")
    }
    let t = report.study.steps.last ?? 0
    return [
      "## \(report.study.name) (merged from \(folders.count) folders): after T = \(t) steps (all T in report.md)", "",
      report.markdownTable(steps: t), "",
      "report: \(output)/report.md (results.csv, results.json, cells.jsonl, SVG figures)",
    ].joined(separator: "\n")
  }
}
