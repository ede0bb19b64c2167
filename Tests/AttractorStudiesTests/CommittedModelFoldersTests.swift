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
}
