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
