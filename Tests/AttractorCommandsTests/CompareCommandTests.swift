import ArgumentParser
@testable import AttractorCommands
import Attractors
import Foundation
import Testing

/// The message ArgumentParser would print for `attractor <arguments>`, or nil if they parse.
private func rootRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

private func parse<C: ParsableCommand>(_ arguments: [String], as _: C.Type) throws -> C {
  try #require(try Attractor.parseAsRoot(arguments) as? C)
}

private let tinyStudy = """
  {"name": "tiny", "queries": 12, "steps": [1, 2], "seeds": [0, 1],
   "models": [{"model": "modern", "beta": 1}, {"model": "dense-exponential"}],
   "datasets": [{"kind": "gaussian", "count": 5, "dimension": 16}],
   "corruptions": [{"kind": "overlap", "levels": [0.8, 0.6]}]}
  """

@Suite("attractor compare and merge")
struct CompareCommandTests {
  @Test("a study file runs in process; shards merged print the same table")
  func runShardAndMerge() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("tiny.json")
    try tinyStudy.write(to: spec, atomically: true, encoding: .utf8)
    let whole = dir.appendingPathComponent("whole").path
    let command = try parse(["compare", "--study", spec.path, "--output-dir", whole, "--quiet"], as: CompareRun.self)
    let text = try command.execute(study: try command.loadStudy())
    #expect(text.contains("| modern β=1 | overlap | 0.8 | 2 |") && text.contains("| dense exp | overlap | 0.6 | 2 |"))
    #expect(text.contains("8 cells (0 resumed), 12 queries each") && text.contains("report: \(whole)/report.md"))

    var shards: [String] = []
    for i in 1...2 {
      let out = dir.appendingPathComponent("s\(i)").path
      let shard = try parse(
        ["compare", "run", "--study", spec.path, "--output-dir", out, "--shard", "\(i)/2"], as: CompareRun.self)
      let printed = try shard.execute(study: try shard.loadStudy())
      #expect(printed.contains("shard \(i)/2 done: 4 cells"))
      shards.append(out)
    }
    let merged = dir.appendingPathComponent("merged").path
    let mergeText = try parse(["compare", "merge"] + shards + ["--output-dir", merged], as: Merge.self).execute()
    // Same accuracy table as the unsharded run (the time column differs between runs).
    func accuracyColumns(_ s: String) -> [String] {
      s.split(separator: "\n").filter { $0.hasPrefix("| modern") || $0.hasPrefix("| dense") }.map {
        $0.split(separator: "|").prefix(5).joined(separator: "|")
      }
    }
    #expect(accuracyColumns(mergeText) == accuracyColumns(text) && accuracyColumns(text).count == 4)
    #expect(throws: CommandFailure.self) {
      _ = try parse(["compare", "merge", shards[0], "--output-dir", merged + "2"], as: Merge.self).execute()
    }

    // --json: the run and the merge print one JSON object with the same rows.
    func rows(_ text: String) throws -> [[String: Any]] {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
      #expect(object["complete"] as? Bool == true)
      return try #require(object["rows"] as? [[String: Any]])
    }
    let jsonRun = try parse(
      ["compare", "run", "--study", spec.path, "--output-dir", dir.appendingPathComponent("json").path, "--json"],
      as: CompareRun.self)
    let runRows = try rows(try jsonRun.execute(study: try jsonRun.loadStudy()))
    let mergeRows = try rows(
      try parse(["compare", "merge"] + shards + ["--output-dir", merged + "-json", "--json"], as: Merge.self).execute())
    #expect(runRows.count == mergeRows.count && runRows.count == 2 * 2 * 2)  // models × levels × T
    for (a, b) in zip(runRows, mergeRows) {
      #expect(a["model"] as? String == b["model"] as? String)
      #expect(
        (a["accuracy"] as? [String: Any])?["mean"] as? Double == (b["accuracy"] as? [String: Any])?["mean"] as? Double)
    }

    // --max-cells stops early and says how to continue; --resume finishes.
    let partial = dir.appendingPathComponent("partial").path
    let stopped = try parse(
      ["compare", "--study", spec.path, "--output-dir", partial, "--max-cells", "3"], as: CompareRun.self)
    #expect(try stopped.execute(study: try stopped.loadStudy()).contains("3 of 8 cells done"))
    // Without --resume, a folder holding a run is refused before any work (exit 64), and so is
    // a folder holding another study's run, with or without --resume.
    let again = try parse(["compare", "--study", spec.path, "--output-dir", partial], as: CompareRun.self)
    #expect(throws: ExitCode(64)) { _ = try again.execute(study: try again.loadStudy()) }
    let other = dir.appendingPathComponent("other.json")
    try tinyStudy.replacingOccurrences(of: "\"queries\": 12", with: "\"queries\": 13")
      .write(to: other, atomically: true, encoding: .utf8)
    for extra in [[], ["--resume"]] {
      let foreign = try parse(
        ["compare", "--study", other.path, "--output-dir", partial] + extra, as: CompareRun.self)
      #expect(throws: ExitCode(64)) { _ = try foreign.execute(study: try foreign.loadStudy()) }
    }
    let resumed = try parse(
      ["compare", "--study", spec.path, "--output-dir", partial, "--resume"], as: CompareRun.self)
    #expect(try resumed.execute(study: try resumed.loadStudy()).contains("8 cells (3 resumed)"))
  }

  @Test("a bad study file exits with status 64 before any work")
  func badStudyFile() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("bad.json")
    try #"{"models": [{"model": "modern"}], "datasets": [], "corruptions": [{"kind": "mask", "levels": [2]}]}"#
      .write(to: spec, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("out")
    let command = try parse(["compare", "--study", spec.path, "--output-dir", out.path], as: CompareRun.self)
    var printed: [String] = []
    #expect(throws: ExitCode(64)) { _ = try command.loadStudy { printed.append($0) } }
    let message = printed.joined(separator: "\n")
    #expect(message.hasPrefix("error: \(spec.path) has 3 problems:"))
    for fragment in [
      "$.models[0].beta: is required (inverse temperature β, a number)", "$.datasets: must not be empty",
      "$.corruptions[0].levels[0]: the level of a mask corruption must be a fraction in [0, 1], got 2.0",
    ] {
      #expect(message.contains(fragment), "missing \(fragment) in \(message)")
    }
    #expect(!FileManager.default.fileExists(atPath: out.path))
    let missing = try parse(["compare", "--study", dir.appendingPathComponent("none.json").path], as: CompareRun.self)
    printed = []
    #expect(throws: ExitCode(64)) { _ = try missing.loadStudy { printed.append($0) } }
    #expect(printed.count == 1 && printed[0].contains("cannot read the study file"))
  }

  @Test("option validation gives clear messages")
  func validation() throws {
    #expect(
      rootRejection(["compare", "--shard", "0/4"])?.contains(
        "--shard: the shard index i in i/n must be from 1 to n = 4, got 0") == true)
    #expect(rootRejection(["compare", "run", "--shard", "5/4"])?.contains("got 5") == true)
    #expect(rootRejection(["compare", "--shard", "two"])?.contains("a shard is written i/n") == true)
    #expect(rootRejection(["compare", "--shard", "1/0"])?.contains("at least 1") == true)
    #expect(rootRejection(["compare", "--max-cells", "0"])?.contains("--max-cells must be at least 1") == true)
    #expect(rootRejection(["compare", "--threads", "0"])?.contains("--threads must be at least 1") == true)
    #expect(rootRejection(["compare", "--benchmark"]) != nil)
    #expect(rootRejection(["compare", "--output", "x"]) != nil)
    #expect(rootRejection(["compare", "merge", "--output-dir", "x"])?.contains("give the shard folders") == true)
    #expect(
      rootRejection(["compare", "merge", "a", "b", "--output-dir", "a"])?.contains("is one of the shard folders")
        == true)
    #expect(rootRejection(["compare", "--shard", "2/3"]) == nil)
    #expect(rootRejection(["compare", "--study", "x.json", "--output-dir", "y", "--resume", "--quiet"]) == nil)
  }

  @Test("compare with no subcommand runs `run`, into report-compare by default; print-study and list-models")
  func defaultsAndHelpers() throws {
    let run = try parse(["compare"], as: CompareRun.self)
    // A new folder: report-compare, or report-compare-N when that one holds an earlier run (the
    // test runs wherever `swift test` was started, which may hold one); --resume names report-compare.
    #expect(run.folder.lastPathComponent.hasPrefix("report-compare"))
    #expect(
      !FileManager.default.fileExists(atPath: run.folder.path) || run.folder.lastPathComponent == "report-compare")
    let resumed = try parse(["compare", "--resume"], as: CompareRun.self)
    #expect(resumed.folder.path == URL(fileURLWithPath: "report-compare").path)
    // In a folder: report-compare while free (or empty), then report-compare-2, -3, ….
    let base = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: base) }
    let options = try OutputFolderOptions.parse([])
    #expect(options.newFolder(defaultName: "compare", in: base).lastPathComponent == "report-compare")
    try FileManager.default.createDirectory(
      at: base.appendingPathComponent("report-compare"), withIntermediateDirectories: true)
    #expect(options.newFolder(defaultName: "compare", in: base).lastPathComponent == "report-compare")
    try Data("x".utf8).write(to: base.appendingPathComponent("report-compare/cells.jsonl"))
    #expect(options.newFolder(defaultName: "compare", in: base).lastPathComponent == "report-compare-2")
    try FileManager.default.createDirectory(
      at: base.appendingPathComponent("report-compare-2"), withIntermediateDirectories: true)
    try Data("x".utf8).write(to: base.appendingPathComponent("report-compare-2/cells.jsonl"))
    #expect(options.newFolder(defaultName: "compare", in: base).lastPathComponent == "report-compare-3")
    #expect(
      try OutputFolderOptions.parse(["--output-dir", "/x/y"]).newFolder(defaultName: "compare", in: base).path == "/x/y"
    )
    #expect(
      try parse(["compare", "merge", "a", "b"], as: Merge.self).folder.lastPathComponent == "report-compare-merge")
    // The subcommands parse as their own types (`parse` requires the type).
    _ = try parse(["compare", "print-study"], as: ComparePrintStudy.self)
    _ = try parse(["compare", "list-models", "--json"], as: CompareListModels.self)
    let listing = StudyModelRegistry.standard.listing
    #expect(listing.contains("modern:") && listing.contains("    beta: inverse temperature β"))
    let json = try JSONCoding.string(StudyModelRegistry.standard.descriptions)
    let models = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
    #expect(models.compactMap { $0["name"] as? String } == StudyModelRegistry.standard.names)
  }

  @Test(
    "compare sets one OpenBLAS thread for its process when cells run side by side, unless --threads is given",
    .enabled(if: attractorBinary != nil, skipReason))
  func blasThreadsOfTheProcess() throws {
    // A child process each: the count is process-wide, and this process's tests share it.
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try tinyStudy.write(to: dir.appendingPathComponent("tiny.json"), atomically: true, encoding: .utf8)
    for (extra, expected) in [
      (["--workers", "2"], [1]), (["--workers", "2", "--threads", "2"], [2]),
      (["--workers", "1", "--threads", "2"], [2]),
    ] {
      let run = try runAttractor(
        ["compare", "run", "--study", "tiny.json", "--output-dir", "out-\(extra.joined())", "--quiet", "--json"]
          + extra,
        in: dir, environment: ProcessInfo.processInfo.environment.filter { $0.key != "OPENBLAS_NUM_THREADS" })
      #expect(run.status == 0, "\(extra): \(run.stderr)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
      #expect(object["blasThreads"] as? [Int] == expected, "\(extra)")
    }
  }
}
