import AttractorExperiments
import AttractorModels
import Foundation
import Testing

/// The committed Synthetic-Gaussian model folders under `Models/` keep their memory in the folder
/// (issue 17), and the stored memory is exactly the one the folder's seeded recipe names: a reader
/// without this code can check it, and this code can check that nothing was lost in the conversion.
@Suite("Committed model folders store their memory")
struct CommittedModelFoldersTests {
  static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models")

  @Test(
    "Synthetic-Gaussian folders: memory stored, equal to SyntheticGaussianDataset(10,000 × 64, seed 0)",
    arguments: ["single-head", "transformer-small", "transformer-medium"])
  func storedMemory(name: String) throws {
    let folder = Self.models.appendingPathComponent("iterative-attention-synthetic-gaussian-\(name)")
    let loaded = try IterativeAttentionModelFolder.load(from: folder) { _, _, _ in
      Issue.record("the folder asked to regenerate its memory")
      throw CancellationError()
    }
    #expect(loaded.record.memory == .stored)
    #expect(loaded.record.formatVersion == 2)
    let recipe = try SyntheticGaussianDataset<Float>(count: 10_000, dimension: 64, seed: 0).patterns
    #expect(loaded.patterns == recipe)
  }

  /// The committed AiT folders: finished, the memory update their cards name, unit prior rows, and
  /// the memory's state the docs describe: the `ema` model's 32 priors are 3 distinct vectors, the
  /// `kmeans` model's are all distinct.
  @Test(
    "AiT folders: finished, their memory update, unit priors; ema: 3 distinct priors, kmeans: 32",
    arguments: [("ait-mnist", MemoryUpdate.ema, 3), ("ait-mnist-kmeans", .kmeans, 32)])
  func aitFolders(name: String, update: MemoryUpdate, distinct: Int) throws {
    let loaded = try VisionTransformerModelFolder.load(from: Self.models.appendingPathComponent(name))
    #expect(!loaded.record.isCheckpoint && loaded.optimizer == nil)
    #expect(loaded.record.configuration.workspace?.memoryUpdate == update)
    #expect(loaded.record.command.contains("--output-dir Models/\(name)"))
    let gamma = try #require(loaded.model.workspace).memory
    let rows = (0..<gamma.rows).map { i in (0..<gamma.columns).map { Double(gamma[i, $0]) } }
    for row in rows { #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5) }
    // Groups of priors with |cosine| > 0.99 (the docs' "distinct priors").
    var representatives: [[Double]] = []
    for row in rows
    where !representatives.contains(where: { r in abs(zip(r, row).reduce(0) { $0 + $1.0 * $1.1 }) > 0.99 }) {
      representatives.append(row)
    }
    #expect(representatives.count == distinct, "\(name): \(representatives.count) distinct priors")
  }
}
