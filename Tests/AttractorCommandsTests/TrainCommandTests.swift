import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

private func train(_ arguments: [String]) throws -> TrainIterativeAttention {
  try #require(try Train.parseAsRoot(arguments) as? TrainIterativeAttention)
}

private func trainRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Train.parseAsRoot(arguments)
    return nil
  } catch {
    return Train.message(for: error)
  }
}

@Suite("attractor train")
struct TrainCommandTests {
  @Test("iterative-attention trains a tiny stack; the folder loads and recalls; the summary encodes as JSON")
  func tinyStack() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-train-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try train([
      "iterative-attention", "--config", "small", "--layers", "1", "--heads", "2", "--dimension", "16", "--count",
      "120",
      "--data-dimension", "8", "--epochs", "2", "--batch-size", "32", "--learning-rate", "0.003", "--seed", "3",
      "--output-dir", dir.path,
    ])
    let summary = try command.execute()
    #expect(summary.model.layers == 1 && summary.model.heads == 2 && summary.model.width == 16)
    #expect(summary.task == "Synthetic-Gaussian" && summary.seed == 3 && summary.folder == dir.path)
    #expect(
      summary.epochs.count >= 1 && summary.epochs.count <= 2 && summary.epochs.allSatisfy { $0.validationLoss.isFinite }
    )
    #expect(summary.evaluations.count == 2 && summary.evaluations[0].steps == [0, 1, 10])
    #expect(summary.markdown.contains("| epoch | training loss | validation loss |"))
    let json = try JSONCoding.string(summary)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect((object["epochs"] as? [[String: Any]])?.count == summary.epochs.count)

    for name in ["config.json", "weights.safetensors", "CARD.md"] {
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) missing")
    }
    let card = try String(contentsOf: dir.appendingPathComponent("CARD.md"), encoding: .utf8)
    #expect(card.contains("attractor train iterative-attention --config small --layers 1 --heads 2 --dimension 16"))
    let loaded = try IterativeAttentionModelFolder.load(from: dir)
    #expect(loaded.record.configuration.layers == 1 && loaded.record.seed == 3)
    #expect(loaded.patterns.rows == 120 && loaded.patterns.columns == 8 && loaded.model.dimension == 16)
    // Recall: stored patterns with a little noise, one step, nearest stored pattern by cosine.
    var rng = SeededGenerator(seed: 9)
    let rows = Array(0..<40)
    let noise: Matrix<Float> = rng.gaussianMatrix(rows: rows.count, columns: 8, standardDeviation: 0.1)
    let cues = Matrix<Float>(rows: rows.count, columns: 8) { i, j in loaded.patterns[rows[i], j] + noise[i, j] }
    let out = loaded.model.update(cues.zeroPadded(toColumns: 16))
    var hits = 0
    for (i, r) in rows.enumerated() {
      let q = (0..<8).map { out[i, $0] }
      let cosines = (0..<loaded.patterns.rows).map { p -> Float in
        let x = (0..<8).map { loaded.patterns[p, $0] }
        let dot = zip(q, x).reduce(0) { $0 + $1.0 * $1.1 }
        return dot / ((x.reduce(0) { $0 + $1 * $1 }).squareRoot() + 1e-12)
      }
      if cosines.indices.max(by: { cosines[$0] < cosines[$1] }) == r { hits += 1 }
    }
    #expect(hits >= 30, "recalled \(hits) of 40")
  }

  @Test("the default folder is report-train-iterative-attention; bad options are refused")
  func options() throws {
    #expect(
      try train(["iterative-attention"]).folder.path == URL(fileURLWithPath: "report-train-iterative-attention").path)
    #expect(
      trainRejection(["iterative-attention", "--config", "huge"])?.contains(
        "--config must be one of single-head, small, medium") == true)
    #expect(
      trainRejection(["iterative-attention", "--heads", "3"])?.contains("must be a multiple of the heads 3") == true)
    #expect(trainRejection(["iterative-attention", "--epochs", "0"])?.contains("--epochs must be at least 1") == true)
    #expect(trainRejection(["iterative-attention", "--count", "5"])?.contains("--count must be at least 10") == true)
    #expect(
      trainRejection(["iterative-attention", "--dimension", "32"])?.contains(
        "--data-dimension must be between 1 and the width 32") == true)
    #expect(
      trainRejection(["iterative-attention", "--task", "mnist", "--config", "single-head", "--dimension", "64"])?
        .contains("at least 128") == true)
    #expect(trainRejection(["iterative-attention", "--learning-rate", "0"])?.contains("--learning-rate") == true)
    #expect(trainRejection(["iterative-attention", "--config", "medium", "--json", "--threads", "1"]) == nil)
  }
}
