import Foundation

// What `attractor compare` prints: the summary of a run or a merge, the model catalogue, and the
// progress line on standard error. Built here so the command only parses and calls.

/// The text printed after a study run (``StudyRunner/run(into:resume:progress:)``) or a merge.
public enum StudyRunSummary {
  /// The summary of a run into `folder` that took `seconds`: the accuracy table after the largest T
  /// for a complete unsharded run, a one-line note for a finished shard, and how to continue for a
  /// run stopped by the cell limit.
  public static func text(runner: StudyRunner, outcome: StudyRunner.Outcome, folder: URL, seconds: Double) -> String {
    let study = runner.study
    let assigned = runner.assignedCells.count
    let shard = runner.shard
    let repaired =
      outcome.damaged == 0
      ? ""
      : "\n\(outcome.damaged) damaged line\(outcome.damaged == 1 ? "" : "s") of the earlier run dropped; their cells were run again"
    if !outcome.complete {
      return
        "stopped after \(outcome.results.count - outcome.resumed) new cells: \(outcome.results.count) of \(assigned) cells"
        + "\(shard.map { " of shard \($0)" } ?? "") done, kept in \(folder.path)/\(StudyRunner.partialName); "
        + "continue with the same command and --output-dir \(folder.path) --resume" + repaired
    }
    guard let report = outcome.report else {
      return [
        String(
          format: "shard %@ done: %d cells (%d resumed) in %@, wall time %.1f s", shard?.description ?? "?", assigned,
          outcome.resumed, folder.path, seconds),
        "combine the shards with: attractor compare merge <shard folders…> --output-dir <dir>",
      ].joined(separator: "\n") + repaired
    }
    let t = study.spec.steps.last ?? 0
    let figures = report.figureCount
    return [
      "## \(study.spec.name): accuracy and dynamics after T = \(t) steps (all T in report.md)", "",
      report.markdownTable(steps: t), "",
      String(
        format:
          "%d cells (%d resumed), %d queries each, seeds %@; %@ precision; %d workers, OpenBLAS threads %@; wall time %.1f s",
        assigned, outcome.resumed, study.spec.queries, study.spec.seeds.map(String.init).joined(separator: ","),
        study.spec.precision.rawValue, runner.workers, report.blasThreads.map(String.init).joined(separator: ","),
        seconds),
      "report: \(folder.path)/report.md (results.csv, results.json, cells.jsonl, \(figures) SVG figures)",
    ].joined(separator: "\n") + repaired
  }

  /// The summary of a merge of `folderCount` shard folders into `output`.
  public static func mergeText(_ report: StudyReport, folderCount: Int, output: URL) -> String {
    let t = report.study.steps.last ?? 0
    return [
      "## \(report.study.name) (merged from \(folderCount) folders): after T = \(t) steps (all T in report.md)", "",
      report.markdownTable(steps: t), "",
      "report: \(output.path)/report.md (results.csv, results.json, cells.jsonl, SVG figures)",
    ].joined(separator: "\n")
  }
}

/// One model of a ``StudyModelRegistry`` as `attractor compare list-models` prints it.
public struct StudyModelDescription: Sendable, Codable, Equatable {
  /// One parameter of the model.
  public struct Parameter: Sendable, Codable, Equatable {
    public var name: String
    public var summary: String
    /// "a number", "an integer", "true or false", "a string", or the choices joined by " | ".
    public var kind: String
    public var requirement: String?
    /// The default value as written in a study file; `nil` when the parameter is required.
    public var defaultValue: String?
  }

  public var name: String
  public var summary: String
  public var parameters: [Parameter]
}

extension StudyModelRegistry {
  /// Every model with its parameters, for `--json`.
  public var descriptions: [StudyModelDescription] {
    factories.map { f in
      StudyModelDescription(
        name: f.name, summary: f.summary,
        parameters: f.parameters.map { p in
          let kind: String =
            switch p.kind {
            case .number: "a number"
            case .integer: "an integer"
            case .boolean: "true or false"
            case .choice(let options): options.joined(separator: " | ")
            case .string: "a string"
            }
          return .init(
            name: p.name, summary: p.summary, kind: kind, requirement: p.requirement,
            defaultValue: p.defaultValue.map { "\($0)" })
        })
    }
  }

  /// Every model with its parameters, one line each, and the `label` every model takes.
  public var listing: String {
    var out: [String] = []
    for f in descriptions {
      out.append("\(f.name): \(f.summary)")
      for p in f.parameters {
        var line = "    \(p.name): \(p.summary); \(p.kind)"
        if let r = p.requirement { line += ", \(r)" }
        line += p.defaultValue.map { "; default \($0)" } ?? "; required"
        out.append(line)
      }
    }
    out.append("every model also takes \"label\": a name for tables and legends")
    return out.joined(separator: "\n")
  }
}

/// Progress of a study run on standard error: a bar with the time left on a terminal (redrawn at
/// most ten times a second), plain lines (at most one every two seconds, and the last) otherwise.
public final class StudyProgressPrinter: @unchecked Sendable {
  let isTerminal = isatty(STDERR_FILENO) != 0
  var lastPrint = -Double.infinity
  var printedBar = false

  public init() {}

  /// Shows `p` (or skips it if the last line is too recent).
  public func update(_ p: StudyProgress) {
    let left = p.remaining.map { Self.duration($0) } ?? "?"
    if isTerminal {
      guard p.elapsed - lastPrint >= 0.1 || p.done == p.total else { return }
      lastPrint = p.elapsed
      let width = 30
      let filled = p.total > 0 ? width * p.done / p.total : width
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      let text = "\r[\(bar)] \(p.done)/\(p.total) cells  \(Self.duration(p.elapsed)) elapsed  ~\(left) left  \(p.cell)"
      write(text.count > 150 ? String(text.prefix(150)) : text + "\u{1B}[K")
      printedBar = true
    } else if p.elapsed - lastPrint >= 2 || p.done == p.total {
      lastPrint = p.elapsed
      write(
        "progress: \(p.done)/\(p.total) cells (\(p.resumed) resumed), \(Self.duration(p.elapsed)) elapsed, ~\(left) left; last: \(p.cell)\n"
      )
    }
  }

  /// Ends the bar's line (after the last update).
  public func finish() {
    if printedBar { write("\n") }
    printedBar = false
  }

  func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

  static func duration(_ s: Double) -> String {
    if s < 60 { return String(format: "%.1f s", s) }
    if s < 3600 { return String(format: "%d min %02d s", Int(s) / 60, Int(s) % 60) }
    return String(format: "%d h %02d min", Int(s) / 3600, (Int(s) % 3600) / 60)
  }
}
