import AttractorCore
import AttractorIO
import AttractorStudies
import Foundation
import Testing

/// The lines of a cells file (without line breaks).
private func lines(of url: URL) throws -> [String] {
  try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}

private func write(_ lines: [String], to url: URL) throws {
  try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
}

/// `line` with its `checksum` member removed (a line of an older run).
private func withoutChecksum(_ line: String) -> String {
  guard let r = line.range(of: ",\"checksum\":\"") else { return line }
  return String(line[..<r.lowerBound]) + "}"
}

@Suite("resume integrity and folder safety")
struct ResumeIntegrityTests {
  @Test("a cell line whose index was edited is damaged: its cell runs again and the report is right")
  func editedIndex() throws {
    let study = try smallStudy()
    let whole = try temporaryFolder(), folder = try temporaryFolder()
    defer {
      try? FileManager.default.removeItem(at: whole)
      try? FileManager.default.removeItem(at: folder)
    }
    let reference = try #require(try StudyRunner(study: study).run(into: whole).report)
    _ = try StudyRunner(study: study, cellLimit: 6).run(into: folder)
    let partial = folder.appendingPathComponent(StudyRunner.partialName)
    // Several workers append cells in the order they finish: put lines 1 … 6 in cell order (the
    // order of a partial file does not matter to resume).
    func cellIndex(_ line: String) -> Int {
      ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["index"] as? Int ?? -1
    }
    var text = try lines(of: partial)
    text = [text[0]] + text.dropFirst().sorted { cellIndex($0) < cellIndex($1) }
    #expect(text[1].hasSuffix("\"}") && text[1].contains(",\"checksum\":\""))
    // Cell 0 claims to be cell 7 (valid JSON, checksum kept); cell 1 (no checksum, an older
    // line) claims to be cell 9; cell 2 keeps its index but its seed changed, checksum dropped.
    text[1] = text[1].replacingOccurrences(of: "\"index\":0,", with: "\"index\":7,")
    text[2] = withoutChecksum(text[2]).replacingOccurrences(of: "\"index\":1,", with: "\"index\":9,")
    text[3] = withoutChecksum(text[3]).replacingOccurrences(of: "\"seed\":0", with: "\"seed\":1")
    // An older line that is what it claims is kept.
    text[4] = withoutChecksum(text[4])
    try write(text, to: partial)
    let outcome = try StudyRunner(study: study).run(into: folder, resume: true)
    #expect(outcome.complete && outcome.damaged == 3 && outcome.resumed == 3)
    #expect(try #require(outcome.report).withoutTimings == reference.withoutTimings)
    // The finished file is written with checksums and verifies.
    let cells = try lines(of: folder.appendingPathComponent(StudyRunner.cellsName))
    #expect(cells.count == 33 && cells.dropFirst().allSatisfy { $0.contains(",\"checksum\":\"") })
    let again = try StudyRunner(study: study).run(into: folder, resume: true)
    #expect(again.resumed == 32 && again.damaged == 0)
  }

  @Test("a tampered value with the old checksum is damaged; one damaged middle line costs one cell")
  func checksumAndMiddleLine() throws {
    let study = try smallStudy()
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try StudyRunner(study: study, cellLimit: 10).run(into: folder)
    let partial = folder.appendingPathComponent(StudyRunner.partialName)
    var text = try lines(of: partial)
    text[2] = text[2].replacingOccurrences(of: "\"initialAccuracy\":", with: "\"initialAccuracy\":0.5,\"x\":")
    text[5] = "not json at all"
    try write(text, to: partial)
    let outcome = try StudyRunner(study: study, cellLimit: 0).run(into: folder, resume: true)
    #expect(!outcome.complete && outcome.damaged == 2 && outcome.resumed == 8 && outcome.results.count == 8)
    let summary = StudyRunSummary.text(
      runner: StudyRunner(study: study), outcome: outcome, folder: folder, seconds: 0)
    #expect(summary.contains("2 damaged lines of the earlier run dropped; their cells were run again"))
    // The damaged lines are gone from the partial file; finishing gives every cell once.
    #expect(try lines(of: partial).count == 9)
    let done = try StudyRunner(study: study).run(into: folder, resume: true)
    #expect(done.complete && done.resumed == 8 && done.damaged == 0 && Set(done.results.map(\.index)).count == 32)
  }

  @Test("a folder holding another study's run is refused before any work, untouched")
  func foreignFolder() throws {
    let study = try smallStudy()
    let other = try StudySpec.parse(
      Data(smallStudyJSON.replacingOccurrences(of: "\"queries\": 24", with: "\"queries\": 25").utf8))
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try StudyRunner(study: study).run(into: folder)
    let names = ["study.json", "cells.jsonl", "report.md", "results.json"]
    let before = try names.map { try Data(contentsOf: folder.appendingPathComponent($0)) }
    for resume in [false, true] {
      var ran = 0
      do {
        _ = try StudyRunner(study: other).run(into: folder, resume: resume) { _ in ran += 1 }
        Issue.record("ran another study into a finished folder (resume: \(resume))")
      } catch {
        guard case .folderInUse(let message) = error else {
          Issue.record("wrong error \(error)")
          continue
        }
        #expect(message.contains("belongs to a different study") && message.contains("another --output-dir"))
        #expect(message.contains("delete \(folder.path)"))
      }
      #expect(ran == 0)
    }
    #expect(try names.map { try Data(contentsOf: folder.appendingPathComponent($0)) } == before)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(StudyRunner.partialName).path))

    // An unfinished run of another study is refused the same way.
    let unfinished = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: unfinished) }
    _ = try StudyRunner(study: study, cellLimit: 2).run(into: unfinished)
    #expect(throws: StudyRunError.self) { _ = try StudyRunner(study: other).run(into: unfinished) }
    do { _ = try StudyRunner(study: other).run(into: unfinished, resume: true) } catch {
      #expect(error.description.contains("belongs to a different study"))
    }
  }

  @Test("the same study again without --resume into a finished folder is refused, naming --resume")
  func sameStudyFinished() throws {
    let study = try smallStudy()
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try StudyRunner(study: study).run(into: folder)
    let before = try Data(contentsOf: folder.appendingPathComponent(StudyRunner.cellsName))
    do {
      _ = try StudyRunner(study: study).run(into: folder)
      Issue.record("replaced a finished run")
    } catch {
      guard case .folderInUse(let message) = error else {
        Issue.record("wrong error \(error)")
        return
      }
      #expect(message.contains("finished run of this study") && message.contains("--resume"))
    }
    #expect(try Data(contentsOf: folder.appendingPathComponent(StudyRunner.cellsName)) == before)
    let again = try StudyRunner(study: study).run(into: folder, resume: true)
    #expect(again.resumed == 32 && again.report != nil)
  }

  @Test("merge refuses a shard whose cell line was edited")
  func mergeChecksLines() throws {
    let study = try smallStudy()
    let folder = try temporaryFolder(), output = try temporaryFolder()
    defer {
      try? FileManager.default.removeItem(at: folder)
      try? FileManager.default.removeItem(at: output)
    }
    _ = try StudyRunner(study: study).run(into: folder)
    let cells = folder.appendingPathComponent(StudyRunner.cellsName)
    var text = try lines(of: cells)
    text[4] = text[4].replacingOccurrences(of: "\"index\":3,", with: "\"index\":30,")
    try write(text, to: cells)
    do {
      _ = try StudyRunner.merge([folder], into: output)
      Issue.record("merged an edited line")
    } catch {
      #expect(error.description.contains("line 5 is damaged"))
    }
  }
}

@Suite("study files: duplicate keys and levels checked before any work")
struct StudySpecStrictnessTests {
  @Test("a key given twice is a spec error naming the key and its path")
  func duplicateKeys() throws {
    let text = """
      {"name": "d", "queries": 8, "queries": 9, "steps": [1], "seeds": [0],
       "models": [{"model": "modern", "beta": 0.25, "beta": 4}],
       "datasets": [{"kind": "gaussian", "count": 4, "dimension": 8}], "corruptions": [{"kind": "none"}]}
      """
    do {
      _ = try StudySpec.parse(Data(text.utf8))
      Issue.record("accepted duplicate keys")
    } catch {
      #expect(error.issues.map(\.path) == ["$.queries", "$.models[0].beta"])
      #expect(error.description.contains("appears more than once"))
    }
    #expect(
      JSONDuplicateKeys.find(in: Array(#"{"a b": 1, "a b": 2, "c": [{"x": 1, "x": 1}]}"#.utf8))
        == [#"$["a b"]"#, "$.c[0].x"])
    #expect(JSONDuplicateKeys.find(in: Array(#"{"a": 1, "b": {"a": 2}}"#.utf8)) == [])
  }

  @Test("a noise level or pattern σ that would overflow the queries is a spec error")
  func hugeNoise() throws {
    let text = """
      {"queries": 8, "steps": [1], "seeds": [0], "models": [{"model": "modern", "beta": 1}],
       "datasets": [{"kind": "gaussian", "count": 4, "dimension": 8, "standardDeviation": 1e300}],
       "corruptions": [{"kind": "noise", "levels": [0.5, 1e308, 1e6]}]}
      """
    do {
      _ = try StudySpec.parse(Data(text.utf8))
      Issue.record("accepted σ = 1e308")
    } catch {
      #expect(error.issues.map(\.path) == ["$.datasets[0].standardDeviation", "$.corruptions[0].levels[1]"])
      #expect(error.description.contains("at most 1000000"))
    }
  }

  @Test("IDX images with no pixels (50 × 0 × 28) are a spec error")
  func emptyImages() throws {
    let folder = try temporaryFolder("idx")
    defer { try? FileManager.default.removeItem(at: folder) }
    try IDXFile.writeUnsignedBytes(
      [], shape: [50, 0, 28], to: folder.appendingPathComponent("train-images-idx3-ubyte"))
    let text = """
      {"queries": 8, "steps": [1], "seeds": [0], "models": [{"model": "modern", "beta": 1}],
       "datasets": [{"kind": "mnist", "count": 5, "directory": "."}], "corruptions": [{"kind": "none"}]}
      """
    do {
      _ = try StudySpec.parse(Data(text.utf8), baseDirectory: folder)
      Issue.record("accepted images without pixels")
    } catch {
      #expect(error.issues.map(\.path) == ["$.datasets[0].directory"])
    }
  }
}

@Suite("study files: unreadable paths are described in words")
struct StudyFilePathTests {
  @Test("a directory, a missing file: the message says which, not a Foundation error code")
  func paths() throws {
    let directory = URL(fileURLWithPath: NSTemporaryDirectory())
    let missing = directory.appendingPathComponent("no-such-study-\(UUID().uuidString).json")
    for (url, fragment) in [(directory, "it is a directory, not a file"), (missing, "it does not exist")] {
      #expect {
        _ = try StudySpec.load(from: url)
      } throws: { error in
        "\(error)".contains("cannot read the study file: \(fragment)") && !"\(error)".contains("NSCocoaErrorDomain")
      }
    }
  }
}
