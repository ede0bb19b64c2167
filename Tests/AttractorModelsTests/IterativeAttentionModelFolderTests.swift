import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorModels

/// A copy of the shipped MNIST single-head folder (stored memory) in a new temporary folder.
private func copyOfShippedFolder() throws -> URL {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let source = root.appendingPathComponent("Models/iterative-attention-mnist-pca-single-head")
  let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ia-folder-\(UUID().uuidString)")
  try FileManager.default.copyItem(at: source, to: copy)
  return copy
}

private func load(_ folder: URL) throws {
  _ = try IterativeAttentionModelFolder.load(from: folder) { _, _, _ in
    throw ModelFolderError.invalidConfig(path: folder.path, reason: "no recipe expected")
  }
}

@Suite("Iterative-attention model folders refuse what their config does not describe (issue 16, item 7)")
struct IterativeAttentionModelFolderTests {
  @Test("The shipped folder loads")
  func shippedFolderLoads() throws {
    let folder = try copyOfShippedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try load(folder)
  }

  @Test("A tensor the config's layers do not use is refused by name")
  func unusedTensorRefused() throws {
    let folder = try copyOfShippedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let weights = folder.appendingPathComponent("weights.safetensors")
    var file = try SafeTensorsFile.read(from: weights)
    file.tensors["layers.7.query"] = file.tensors["layers.0.query"]
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect(
      throws: ModelFolderError.tensorMismatch(
        path: weights.path, name: "layers.7.query",
        reason: "no place in this model (its configuration expects no such tensor)")
    ) {
      try load(folder)
    }
  }

  @Test("Weights stored as I32 are refused with the dtype named")
  func int32WeightsRefused() throws {
    let folder = try copyOfShippedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let weights = folder.appendingPathComponent("weights.safetensors")
    var file = try SafeTensorsFile.read(from: weights)
    let query = try #require(file.tensors["layers.0.query"])
    file.tensors["layers.0.query"] = try Tensor(
      shape: query.shape, storage: .int32(Array(repeating: 1, count: query.elementCount)))
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect { try load(folder) } throws: { "\($0)".contains("layers.0.query has dtype I32, expected F32") }
  }

  @Test("A tensor deleted from the header (its bytes left as a gap) is reported as missing, by name")
  func missingTensorNamedNotGap() throws {
    let folder = try copyOfShippedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let weights = folder.appendingPathComponent("weights.safetensors")
    let data = try Data(contentsOf: weights)
    let length = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
    var header = try #require(
      try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
    header["layers.0.value"] = nil
    let newHeader = try JSONSerialization.data(withJSONObject: header)
    var out = Data()
    withUnsafeBytes(of: UInt64(newHeader.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(newHeader)
    out.append(data.subdata(in: (8 + length)..<data.count))
    try out.write(to: weights)
    #expect(throws: ModelFolderError.missingTensor(path: weights.path, name: "layers.0.value")) { try load(folder) }
  }
}

@Suite("Iterative-attention model folders with blocks and a stored memory (issue 17)")
struct IterativeAttentionBlockFolderTests {
  @Test("a pre-LN stack with feed-forward sublayers and the mixture readout round-trips, memory included")
  func blocksRoundTrip() throws {
    var rng = SeededGenerator(seed: 5)
    let patterns: Matrix<Float> = rng.gaussianMatrix(rows: 9, columns: 6)
    let config = IterativeAttentionConfiguration(
      layers: 2, heads: 2, width: 8, residual: true, layerNorm: true, feedForwardWidth: 5, readout: .mixture)
    let padded = patterns.zeroPadded(toColumns: 8)
    let model = try IterativeAttention<Float>.random(
      configuration: config, keys: padded, values: padded, generator: &rng)
    let record = IterativeAttentionModelFolder(
      configuration: config, dataDimension: 6, memory: .stored, task: "test", seed: 0, command: "test",
      history: .init(initialValidationLoss: 1), trainingSeconds: 0)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ia-blocks-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try IterativeAttentionModelFolder.save(model, record: record, memoryKeys: patterns, card: "test\n", to: folder)
    let loaded = try IterativeAttentionModelFolder.load(from: folder) { _, _, _ in
      throw ModelFolderError.invalidConfig(path: folder.path, reason: "no recipe expected")
    }
    #expect(loaded.record.configuration == config)
    #expect(loaded.patterns == patterns)
    #expect(loaded.model.parameters == model.parameters)
    let q: Matrix<Float> = rng.gaussianMatrix(rows: 3, columns: 8)
    #expect(loaded.model.update(q) == model.update(q))
    // A block tensor missing from the file is refused by name.
    let weights = folder.appendingPathComponent("weights.safetensors")
    var file = try SafeTensorsFile.read(from: weights)
    file.tensors["layers.0.feed_forward.input_bias"] = nil
    try SafeTensorsFile.write(file.tensors, metadata: file.metadata, to: weights)
    #expect { try load(folder) } throws: { "\($0)".contains("layers.0.feed_forward.input_bias") }
  }

  @Test("a version-1 folder (no block keys in its configuration) still loads as the plain stack")
  func versionOneLoads() throws {
    let folder = try copyOfShippedFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let config = try String(contentsOf: folder.appendingPathComponent("config.json"), encoding: .utf8)
    #expect(config.contains("\"formatVersion\" : 1") && !config.contains("layerNorm"))
    let loaded = try IterativeAttentionModelFolder.load(from: folder) { _, _, _ in
      throw ModelFolderError.invalidConfig(path: folder.path, reason: "no recipe expected")
    }
    #expect(loaded.model.configuration.isPlain)
  }
}
