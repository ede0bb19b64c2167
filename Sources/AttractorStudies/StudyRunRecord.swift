import Foundation

/// What `attractor compare run --json` and `compare merge --json` print: the state of a run and,
/// once it is complete, every row of its report (the numbers of `results.json`, without the cells).
public struct StudyRunRecord: Sendable, Codable, Equatable {
  /// The study's name.
  public var study: String
  /// The report folder.
  public var folder: String
  /// Whether every cell assigned to this run (or shard) is finished.
  public var complete: Bool
  /// The shard, as `i/n`, for a sharded run.
  public var shard: String?
  /// Cells finished in the folder, and how many of them came from an earlier run.
  public var cells: Int
  public var resumed: Int
  /// Lines of an earlier run that failed their checks on resume; their cells were run again.
  public var damaged: Int
  /// Wall time of this run in seconds.
  public var seconds: Double
  /// OpenBLAS threads of the cells (several values after a merge of runs with different counts).
  public var blasThreads: [Int]
  /// Cells run at the same time (``StudyRunner/workers``); `nil` for a merge.
  public var workers: Int?
  /// Every model × condition summarised over the seeds; empty until the report exists (a shard
  /// or an interrupted run).
  public var rows: [StudyRow]

  /// The record of a run (``StudyRunner/run(into:resume:progress:)``) into `folder`.
  public init(runner: StudyRunner, outcome: StudyRunner.Outcome, folder: URL, seconds: Double) {
    study = runner.study.spec.name
    self.folder = folder.path
    complete = outcome.complete
    shard = runner.shard?.description
    cells = outcome.results.count
    resumed = outcome.resumed
    damaged = outcome.damaged
    self.seconds = seconds
    blasThreads = outcome.report?.blasThreads ?? Array(Set(outcome.results.map(\.blasThreads))).sorted()
    workers = runner.workers
    rows = outcome.report?.rows ?? []
  }

  /// The record of a merge into `folder`.
  public init(merged report: StudyReport, folder: URL, seconds: Double) {
    study = report.study.name
    self.folder = folder.path
    complete = true
    shard = nil
    cells = report.cells.count
    resumed = 0
    damaged = 0
    self.seconds = seconds
    blasThreads = report.blasThreads
    rows = report.rows
  }
}
