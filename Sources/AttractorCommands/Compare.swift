import ArgumentParser
import Attractors
import Foundation

/// `attractor compare`: comparative studies. `run` (the default) runs one into a report folder;
/// `merge` combines the folders of a sharded run; `print-study` and `list-models` help write study
/// files. The work is `StudyRunner`'s; the text printed is `StudyRunSummary`'s.
public struct Compare: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare associative memories on the same patterns and corrupted queries; write a report folder.",
    subcommands: [CompareRun.self, Merge.self, ComparePrintStudy.self, CompareListModels.self],
    defaultSubcommand: CompareRun.self)

  public init() {}

  /// Exit status for a study file with mistakes (sysexits' EX_USAGE).
  public static let specErrorStatus: Int32 = 64
}

/// `attractor compare run` (also `attractor compare`): one study into a report folder.
public struct CompareRun: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run a comparative study (the built-in one without --study) into a report folder.",
    discussion: """
      Without --study, runs the built-in study (no download): a load sweep of K = 4, 8, …, 512 \
      Gaussian patterns with N(0, 1) entries in d = 64 (K/d from 1/16, below the classical limit \
      of about 0.14, to 8); classical Hopfield, modern Hopfield β = 1/8 and 1/2, dense associative \
      memories x³ and exp (on sign-binarised states); noise, mask and overlap corruptions at three \
      levels; T = 1, 5, 10; seeds 0, 1, 2; 128 queries per cell. The report plots accuracy against \
      K/d with each model's capacity formula and gives the corruption tables at K = 32. `attractor compare print-study` \
      prints it as a study file to start your own from (Docs/Studies.md).

      A cell is one model × dataset × corruption × level × seed, run once for the largest T with \
      measurements at every T; cells run on --workers threads at once (default: all cores). The \
      study file's "precision" (float by default, or double) is the precision the models run in. \
      Each finished cell is appended to <output-dir>/cells.partial.jsonl, \
      so an interrupted run loses nothing: run the same command with --resume. --shard i/n runs the \
      cells whose number is ≡ i − 1 (mod n); `attractor compare merge` combines the shard folders. \
      `attractor bench compare` times the models of a study.

      Study-file errors are all listed before any work starts (exit status 64).
      """)

  @Option(
    help: ArgumentHelp(
      "A study file (JSON): models × datasets × corruptions × levels × steps × seeds.", valueName: "spec.json"))
  var study: String?

  @OptionGroup var output: OutputFolderOptions

  @Flag(help: "Continue an interrupted run in --output-dir: finished cells of the same study are kept.")
  var resume = false

  @Option(help: ArgumentHelp("Run part i of n (1 ≤ i ≤ n): the cells whose number is ≡ i − 1 mod n.", valueName: "i/n"))
  var shard: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Stop after running this many cells (resume later with --resume).", valueName: "k"))
  var maxCells: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Cells run at the same time (default: all cores); with more than one, OpenBLAS runs on one thread unless --threads is given.",
      valueName: "n"))
  var workers: Int?

  @OptionGroup var execution: ExecutionOptions

  @Flag(help: "No progress on standard error.")
  var quiet = false

  @OptionGroup var format: JSONOutputOptions

  public init() {}

  public func validate() throws {
    if let shard {
      do { _ = try StudyShard(parsing: shard) } catch { throw ValidationError("--shard: \(error)") }
    }
    if let maxCells, maxCells < 1 { throw ValidationError("--max-cells must be at least 1, got \(maxCells)") }
    if let workers, workers < 1 || workers > 1024 {
      throw ValidationError("--workers must be between 1 and 1024, got \(workers)")
    }
  }

  public func run() throws {
    let study = try loadStudy()
    execution.apply()
    // The process's OpenBLAS thread count is this command's to choose (the library's runner
    // leaves it alone): cells side by side each get one thread, unless --threads said otherwise.
    if workerCount > 1 && execution.threads == nil { BLAS.setThreadCount(1) }
    print(
      try execute(study: study, progress: quiet ? nil : StudyProgressPrinter()), terminator: format.json ? "" : "\n")
  }

  /// The report folder: --output-dir; without it, report-compare in the current directory for
  /// `--resume`, and a new folder otherwise (report-compare, or report-compare-2, -3, … when that
  /// one holds an earlier run), so that running the command again starts a fresh report.
  public var folder: URL {
    resume ? output.folder(defaultName: "compare") : output.newFolder(defaultName: "compare")
  }

  /// The study of --study or the built-in one (see ``loadStudy(_:report:)``).
  public func loadStudy(report: ((String) -> Void)? = nil) throws -> Study {
    try Self.loadStudy(study, report: report)
  }

  /// The study file at `path`, or the built-in study. A study file with problems is reported
  /// through `report` (standard error by default), all of them, and ends the command with exit
  /// status 64.
  public static func loadStudy(_ path: String?, report: ((String) -> Void)? = nil) throws -> Study {
    guard let path else { return Study.standard }
    do {
      return try StudySpec.load(
        from: URL(fileURLWithPath: path), baseDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    } catch {
      (report ?? { printToStandardError($0) })("error: \(error)")
      throw ExitCode(Compare.specErrorStatus)
    }
  }

  /// Cells run at the same time: --workers, or the active processor count.
  var workerCount: Int { workers ?? ProcessInfo.processInfo.activeProcessorCount }

  /// Runs the study and returns what is printed on stdout. Leaves OpenBLAS's thread count as it
  /// is (``run()`` sets it).
  public func execute(study: Study, progress: StudyProgressPrinter? = nil) throws -> String {
    let shardValue = try shard.map { (text: String) throws -> StudyShard in
      do { return try StudyShard(parsing: text) } catch { throw CommandFailure("--shard: \(error)") }
    }
    let runner = StudyRunner(
      study: study, shard: shardValue, cellLimit: maxCells, version: Attractor.version,
      workers: workerCount)
    let folder = self.folder
    do {
      let (outcome, seconds) = try measureSeconds { () throws(StudyRunError) in
        try runner.run(into: folder, resume: resume) { progress?.update($0) }
      }
      progress?.finish()
      if format.json {
        return try JSONCoding.string(StudyRunRecord(runner: runner, outcome: outcome, folder: folder, seconds: seconds))
      }
      return StudyRunSummary.text(runner: runner, outcome: outcome, folder: folder, seconds: seconds)
    } catch StudyRunError.folderInUse(let message) {
      // A folder holding another run is a usage error, refused before any work (exit 64).
      progress?.finish()
      printToStandardError("error: \(message)")
      throw ExitCode(Compare.specErrorStatus)
    } catch {
      progress?.finish()
      throw CommandFailure("\(error)")
    }
  }
}
