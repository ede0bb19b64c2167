import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

private let tinyBERT = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("AttractorModelsTests/Reference/TinyBERT")

private func temporaryFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("heads-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

@Suite("attractor heads and attractor embed")
struct HeadsEmbedCommandTests {
  @Test("heads: a corpus with empty lines is read with a note; JSON, table and figures are written")
  func heads() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let corpus = dir.appendingPathComponent("corpus.txt")
    try "hello world.\n\n   \nwait (really) yes!\n".write(to: corpus, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("out")
    let command = try #require(
      try Attractor.parseAsRoot([
        "heads", "--model-folder", tinyBERT.path, "--corpus", corpus.path, "--output-dir", out.path, "--map-layer",
        "1", "--map-head", "2", "--map-sentence", "2", "--json",
      ]) as? Heads)
    var notes: [String] = []
    let report = try command.execute(note: { notes.append($0) })
    #expect(report.sentences == 2)
    #expect(notes.contains { $0.contains("skipped 2 empty lines") && $0.contains("2, 3") })
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
    for name in [
      "heads.json", "heads.md", "heads-k90.svg", "heads-beta.svg", "heads-class.svg",
      "heads-regime-metastable.svg", "attention-L1-H2-S2.svg",
    ] {
      #expect(files.contains(name), "\(name)")
    }
    let json = try JSONSerialization.jsonObject(with: Data(command.render(report).utf8)) as? [String: Any]
    #expect((json?["heads"] as? [Any])?.count == 8)
  }

  @Test("heads: bad options and a folder that is not a model are errors")
  func headsErrors() throws {
    #expect(throws: (any Error).self) {
      _ = try Attractor.parseAsRoot(["heads", "--model-folder", "x", "--map-sentence", "0"])
    }
    #expect(throws: (any Error).self) {
      _ = try Attractor.parseAsRoot(["heads", "--model-folder", "x", "--text", "a", "--corpus", "c.txt"])
    }
    let command = try #require(
      try Attractor.parseAsRoot(["heads", "--model-folder", "/nonexistent", "--text", "a"]) as? Heads)
    #expect(throws: CommandFailure.self) { _ = try command.execute() }
  }

  @Test("embed: cosines of unit vectors, --output writes a .npy, an over-long text is cut with a warning")
  func embed() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let npy = dir.appendingPathComponent("e.npy")
    let long = Array(repeating: "hello world", count: 30).joined(separator: " ")
    let command = try #require(
      try Attractor.parseAsRoot([
        "embed", "--model-folder", tinyBERT.path, "--text", "hello world", "--text", long, "--output", npy.path,
      ]) as? Embed)
    var notes: [String] = []
    let record = try command.execute(note: { notes.append($0) })
    #expect(record.cosine.count == 2 && abs(record.cosine[0][0] - 1) < 1e-5)
    #expect(record.truncatedSentences == [1])
    #expect(notes.contains { $0.contains("text 2 is longer than the model's 40 tokens") })
    #expect(record.tokens[1].count == 40)
    let tensor = try NumPyFile.read(from: npy)
    #expect(tensor.shape == [2, 16])
    #expect(throws: (any Error).self) { _ = try Attractor.parseAsRoot(["embed", "--model-folder", "x"]) }
  }
}
