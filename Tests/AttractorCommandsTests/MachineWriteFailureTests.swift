import Foundation
import Testing

/// Failures of the machine rather than of the input: a write that fails part-way (a full disk)
/// and a study stopped while its report is being written.
///
/// A full disk is simulated without root: the `attractor` binary of the test build runs in a child
/// shell with `ulimit -f` (RLIMIT_FSIZE), so a write past the limit fails with EFBIG ("File too
/// large") as a write to a full disk fails with ENOSPC; SIGXFSZ is ignored in the child so the
/// write returns the error instead of killing the process.

/// Every file under `folder` (relative path → bytes), hidden ones included.
private func snapshot(_ folder: URL) throws -> [String: Data] {
  let manager = FileManager.default
  var files: [String: Data] = [:]
  guard let walker = manager.enumerator(atPath: folder.path) else { return files }
  while let relative = walker.nextObject() as? String {
    let url = folder.appendingPathComponent(relative)
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
      files[relative] = try Data(contentsOf: url)
    }
  }
  return files
}

/// The names in `folder`, hidden ones included.
private func names(in folder: URL) throws -> Set<String> {
  Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
}

private func saysWriteFailed(_ text: String) -> Bool {
  let lower = text.lowercased()
  return (lower.contains("write") || lower.contains("writ") || lower.contains("save"))
    && (lower.contains("file too large") || lower.contains("no space"))
}

private let tinyStudy = """
  {"name": "tiny", "queries": 12, "steps": [1, 2], "seeds": [0, 1],
   "models": [{"model": "modern", "beta": 1}, {"model": "dense-exponential"}],
   "datasets": [{"kind": "gaussian", "count": 5, "dimension": 16}],
   "corruptions": [{"kind": "overlap", "levels": [0.8, 0.6]}]}
  """

@Suite("failures of the machine: a full disk, a study stopped while writing its report")
struct MachineWriteFailureTests {
  @Test(
    ".npy output of recall: a write past the disk's room fails clearly and keeps the old file",
    .enabled(if: attractorBinary != nil, skipReason))
  func recallOutput() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arguments = ["recall", "--max-steps", "1", "--query-count", "64", "--output", "states.npy"]
    let first = try runAttractor(arguments + ["--seed", "1"], in: dir)
    #expect(first.status == 0, "\(first.stderr)")
    let before = try snapshot(dir)
    #expect(before.keys.sorted() == ["states.npy"])
    #expect(try #require(before["states.npy"]).count > 16 * 1024)

    let failed = try runAttractor(arguments + ["--seed", "2"], in: dir, fileSizeKiB: 8)
    #expect(failed.status != 0)
    #expect(saysWriteFailed(failed.stderr), "\(failed.stderr)")
    let after = try snapshot(dir)
    #expect(after == before, "the old file changed or a temporary file was left: \(after.keys.sorted())")
  }

  @Test(
    "compare report folder: a report write past the disk's room fails clearly and keeps the old report",
    .enabled(if: attractorBinary != nil, skipReason))
  func compareReport() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (arguments, out, before) = try finishedTinyStudy(in: dir)
    #expect(before["report.md"] != nil && before["results.json"] != nil && before["cells.jsonl"] != nil)

    // Writing the report again (--resume of a finished run) on a disk with 4 KiB of room per file.
    let failed = try runAttractor(arguments + ["--resume"], in: dir, fileSizeKiB: 4)
    #expect(failed.status != 0)
    #expect(saysWriteFailed(failed.stderr), "\(failed.stderr)")
    let after = try snapshot(out)
    #expect(after == before, "the old report changed or a file was left: \(after.keys.sorted())")

    // With room again, --resume writes the same report.
    let again = try runAttractor(arguments + ["--resume"], in: dir)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try snapshot(out) == before)
  }

  @Test(
    "compare cells: a cell write past the disk's room fails clearly; --resume then gives the report of an uninterrupted run",
    .enabled(if: attractorBinary != nil, skipReason))
  func compareCells() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try tinyStudy.write(to: dir.appendingPathComponent("tiny.json"), atomically: true, encoding: .utf8)
    let whole = try runAttractor(
      ["compare", "run", "--study", "tiny.json", "--output-dir", "whole", "--quiet"], in: dir)
    #expect(whole.status == 0, "\(whole.stderr)")

    let arguments = ["compare", "run", "--study", "tiny.json", "--output-dir", "cut", "--quiet"]
    // 2 KiB of room: the partial file fills up after a few cells, its last line torn.
    let failed = try runAttractor(arguments, in: dir, fileSizeKiB: 2)
    #expect(failed.status != 0)
    #expect(saysWriteFailed(failed.stderr) && failed.stderr.contains("cells.partial.jsonl"), "\(failed.stderr)")
    let cut = dir.appendingPathComponent("cut")
    let left = try names(in: cut)
    #expect(left == ["study.json", "cells.partial.jsonl"], "\(left.sorted())")
    let resumed = try runAttractor(arguments + ["--resume"], in: dir)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    try expectSameReport(dir.appendingPathComponent("whole"), cut)
  }

  @Test(
    "model folder of train iterative-attention: a write past the disk's room fails clearly and keeps the old folder",
    .enabled(if: attractorBinary != nil, skipReason))
  func trainedModelFolder() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arguments = [
      "train", "iterative-attention", "--config", "small", "--layers", "1", "--heads", "2", "--dimension", "16",
      "--count", "120", "--data-dimension", "8", "--epochs", "1", "--batch-size", "32", "--output-dir", "model",
    ]
    let first = try runAttractor(arguments + ["--seed", "3"], in: dir)
    #expect(first.status == 0, "\(first.stderr)")
    let before = try snapshot(dir)
    #expect(Set(before.keys) == ["model/config.json", "model/weights.safetensors", "model/CARD.md"])
    #expect(try #require(before["model/weights.safetensors"]).count > 4 * 1024)

    let failed = try runAttractor(arguments + ["--seed", "4"], in: dir, fileSizeKiB: 4)
    #expect(failed.status != 0)
    #expect(saysWriteFailed(failed.stderr), "\(failed.stderr)")
    let after = try snapshot(dir)
    let left = try names(in: dir)
    #expect(after == before, "the old folder changed or a staging folder was left: \(left.sorted())")
  }

  @Test(
    "compare: a run stopped after its cells but before or while writing the report resumes to the same report",
    .enabled(if: attractorBinary != nil, skipReason))
  func stoppedWhileWritingReport() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (arguments, out, before) = try finishedTinyStudy(in: dir)
    let manager = FileManager.default
    let reportFiles = before.keys.filter { $0 != "cells.jsonl" && $0 != "study.json" }
    #expect(reportFiles.contains("report.md") && reportFiles.contains { $0.hasSuffix(".svg") })

    // Stopped before cells.jsonl replaced the partial file: every cell in cells.partial.jsonl, no report.
    for name in reportFiles { try manager.removeItem(at: out.appendingPathComponent(name)) }
    try manager.moveItem(
      at: out.appendingPathComponent("cells.jsonl"), to: out.appendingPathComponent("cells.partial.jsonl"))
    var resumed = try runAttractor(arguments + ["--resume"], in: dir)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.output.contains("8 cells (8 resumed)"), "\(resumed.output)")
    #expect(try snapshot(out) == before)

    // Stopped while writing the report: cells.jsonl done, some report files written, others not,
    // and a temporary file of the interrupted write left behind.
    for name in ["results.csv", "results.json"] + reportFiles.filter({ $0.hasSuffix(".svg") }).prefix(1) {
      try manager.removeItem(at: out.appendingPathComponent(name))
    }
    try Data("half a report".utf8).write(to: out.appendingPathComponent("report.md"))
    resumed = try runAttractor(arguments + ["--resume"], in: dir)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try snapshot(out) == before)

    // Stopped in the middle of the run (after two cells, by --max-cells) and resumed: the same
    // report as the uninterrupted run except for the timings.
    let partial = ["compare", "run", "--study", "tiny.json", "--output-dir", "cut", "--quiet"]
    let stopped = try runAttractor(partial + ["--max-cells", "2"], in: dir)
    #expect(stopped.status == 0, "\(stopped.stderr)")
    let finished = try runAttractor(partial + ["--resume"], in: dir)
    #expect(finished.status == 0, "\(finished.stderr)")
    try expectSameReport(out, dir.appendingPathComponent("cut"))
  }
}

/// Expects the two report folders to hold the same files with the same contents except timings:
/// JSON members about time (`…Seconds`, `…PerQuery`, `checksum` of a cell line, which covers them)
/// the time columns of the tables (the last of report.md, the last two of results.csv) and report.md's
/// summed compute time.
private func expectSameReport(_ a: URL, _ b: URL) throws {
  let left = try snapshot(a)
  let right = try snapshot(b)
  #expect(left.keys.sorted() == right.keys.sorted())
  for name in left.keys.sorted() {
    let l = try #require(left[name], "\(name) missing")
    let r = try #require(right[name], "\(name) missing")
    #expect(try withoutTimings(l, name: name) == withoutTimings(r, name: name), "\(name) differs beyond timings")
  }
}

/// The file's contents with its timings left out (see ``expectSameReport(_:_:)``).
private func withoutTimings(_ data: Data, name: String) throws -> String {
  let text = String(decoding: data, as: UTF8.self)
  func strip(_ value: Any) -> Any {
    if let object = value as? [String: Any] {
      return object.filter { key, _ in
        !(key.lowercased().contains("seconds") || key.hasSuffix("PerQuery") || key == "checksum")
      }.mapValues(strip)
    }
    if let array = value as? [Any] { return array.map(strip) }
    return value
  }
  func canonical(_ line: Substring) throws -> String {
    let value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: strip(value), options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
  }
  switch name {
  case "results.json", "study.json": return try canonical(Substring(text))
  case "cells.jsonl": return try text.split(separator: "\n").map(canonical).joined(separator: "\n")
  case "results.csv":
    return text.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).dropLast(2).joined(separator: ",")
    }
    .joined(separator: "\n")
  case "report.md":
    // Table rows lose their last (time) column; the set-up line loses its summed compute time.
    return text.split(separator: "\n").map {
      if $0.hasPrefix("|") { return $0.split(separator: "|").dropLast().joined(separator: "|") }
      if let range = $0.range(of: "; compute summed over cells:") { return String($0[..<range.lowerBound]) }
      return String($0)
    }
    .joined(separator: "\n")
  default: return text
  }
}

/// Runs the tiny study to the end into `dir/out` and returns its arguments, the folder and a
/// snapshot of its files (the starting point of the report-folder tests).
private func finishedTinyStudy(in dir: URL) throws -> (arguments: [String], out: URL, before: [String: Data]) {
  try tinyStudy.write(to: dir.appendingPathComponent("tiny.json"), atomically: true, encoding: .utf8)
  let arguments = ["compare", "run", "--study", "tiny.json", "--output-dir", "out", "--quiet"]
  let first = try runAttractor(arguments, in: dir)
  #expect(first.status == 0, "\(first.stderr)")
  let out = dir.appendingPathComponent("out")
  return (arguments, out, try snapshot(out))
}
