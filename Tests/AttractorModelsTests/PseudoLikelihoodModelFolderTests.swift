import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorModels

@Suite("Pseudo-likelihood model folders")
struct PseudoLikelihoodModelFolderTests {
  func savedFolder() throws -> (URL, PseudoLikelihoodAttractor<Float>) {
    let configuration = PseudoLikelihoodConfiguration(
      tokens: 3, tokenWidth: 2, inverseTemperature: 2, selfCoupling: 0.1)
    var rng = SeededGenerator(seed: 1)
    let model = try PseudoLikelihoodAttractor<Float>.random(configuration: configuration, generator: &rng)
    let trainer = PseudoLikelihoodTrainer(epochs: 3)
    let record = PseudoLikelihoodModelFolder(
      configuration: configuration, trainer: trainer, history: .init(initialCost: -1), data: "test", command: "test")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pl-folder-\(UUID().uuidString)")
    let examples: Matrix<Float> = unitTokenStates(4, tokens: 3, width: 2, seed: 2)
    try PseudoLikelihoodModelFolder.save(model, record: record, examples: examples, card: "# test\n", to: folder)
    return (folder, model)
  }

  @Test("save then load gives the same couplings, record and examples")
  func roundTrip() throws {
    let (folder, model) = try savedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let loaded = try PseudoLikelihoodModelFolder.load(from: folder)
    #expect(loaded.model.sourceMajorCouplings == model.sourceMajorCouplings)
    #expect(loaded.record.configuration == model.configuration)
    #expect(loaded.record.isCheckpoint)
    #expect(loaded.examples?.rows == 4)
  }

  @Test("a missing or mis-shaped couplings tensor, or NaN couplings, is refused with the tensor named")
  func badTensors() throws {
    let (folder, _) = try savedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let weights = folder.appendingPathComponent("weights.safetensors")
    let original = try SafeTensorsFile.read(from: weights)
    var file = original
    file.tensors["couplings"] = nil
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect { try PseudoLikelihoodModelFolder.load(from: folder) } throws: { "\($0)".contains("couplings") }
    file = original
    file.tensors["couplings"] = try Tensor(shape: [3, 3, 2, 3], storage: .float32(Array(repeating: 0, count: 54)))
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect { try PseudoLikelihoodModelFolder.load(from: folder) } throws: { "\($0)".contains("couplings") }
    file = original
    var values = Array(repeating: Float(0), count: 36)
    values[5] = .nan
    file.tensors["couplings"] = try Tensor(shape: [3, 3, 2, 2], storage: .float32(values))
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect { try PseudoLikelihoodModelFolder.load(from: folder) } throws: { "\($0)".contains("finite") }
  }
}
