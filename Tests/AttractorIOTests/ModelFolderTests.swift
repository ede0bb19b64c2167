import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("model folders")
struct ModelFolderTests {
  let kind = ModelFolder.Kind(key: "model", name: "toy", versionKey: "formatVersion", versions: 1...2)

  func tensors() -> [String: Tensor] {
    ["w": Tensor(Matrix<Float>(rows: 2, columns: 3, elements: [1, 2, 3, 4, 5, 6]))]
  }

  @Test(
    "write then read: kind, version and tensor expectations are checked; writing replaces a model folder, never a folder holding other files"
  )
  func roundTrip() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.cleanUp() }
    let url = tmp.file("toy")
    let config = Data(#"{"model": "toy", "formatVersion": 2, "size": 3}"#.utf8)
    try ModelFolder.write(to: url, config: config, tensors: tensors(), card: "# Toy\n")
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    #expect(names == ["CARD.md", "config.json", "weights.safetensors"])
    let folder = try ModelFolder(opening: url)
    struct Config: Decodable { var size: Int }
    #expect(try folder.config(Config.self, kind: kind).size == 3)
    let read = try folder.tensors(expecting: [.init("w", shape: [nil, 3])])
    #expect(read == tensors())
    #expect(throws: ModelFolderError.missingTensor(path: folder.weightsURL.path, name: "v")) {
      try folder.tensors(expecting: [.init("v", shape: [2, 3])])
    }
    _ = try folder.tensors(expecting: [.init("v", shape: [2, 3], isOptional: true)])
    #expect { try folder.tensors(expecting: [.init("w", shape: [3, 2])]) } throws: {
      "\($0)".contains("shape [2, 3], expected [3, 2]")
    }
    #expect { try folder.tensors(expecting: [.init("w", shape: [2, 3], dtype: .float64)]) } throws: {
      "\($0)".contains("dtype F32, expected F64")
    }
    #expect { try folder.tensors(expecting: [], allowingOthers: false) } throws: {
      "\($0)".contains("has no place in this model")
    }
    // Writing again replaces the model folder as a whole and leaves no staging folder.
    try ModelFolder.write(to: url, config: config, tensors: tensors(), card: nil)
    let replaced = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    #expect(replaced == ["config.json", "weights.safetensors"])
    #expect(try tmp.contents() == ["toy"])
    // A folder holding anything else is not replaced: nothing is lost, nothing is written.
    try Data("keep".utf8).write(to: url.appendingPathComponent("notes.txt"))
    #expect { try ModelFolder.write(to: url, config: config, tensors: tensors(), card: nil) } throws: {
      "\($0)".contains("holds other files (notes.txt)")
    }
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() == [
        "config.json", "notes.txt", "weights.safetensors",
      ])
    #expect(try tmp.contents() == ["toy"])
    // Nor is a file of that name.
    let file = tmp.file("plain")
    try Data("x".utf8).write(to: file)
    #expect { try ModelFolder.write(to: file, config: config, tensors: tensors(), card: nil) } throws: {
      "\($0)".contains("a file of that name exists")
    }
    #expect(try Data(contentsOf: file) == Data("x".utf8))
  }

  @Test("configuration bytes in memory get the same checks as config.json (the fuzz target's entry)")
  func configInMemory() throws {
    struct Config: Decodable { var size: Int }
    let good = Data(#"{"model": "toy", "formatVersion": 1, "size": 4}"#.utf8)
    #expect(try ModelFolder.decodeConfig(Config.self, from: good, kind: kind, path: "c.json").size == 4)
    #expect(try ModelFolder.checkConfig(good, kind: kind, path: "c.json") == good)
    let old = Data(#"{"model": "toy", "formatVersion": 3, "size": 4}"#.utf8)
    #expect(throws: ModelFolderError.self) { try ModelFolder.checkConfig(old, kind: kind, path: "c.json") }
    let noSize = Data(#"{"model": "toy", "formatVersion": 1}"#.utf8)
    #expect(throws: ModelFolderError.self) {
      try ModelFolder.decodeConfig(Config.self, from: noSize, kind: kind, path: "c.json")
    }
  }

  @Test("missing files, unreadable JSON, wrong kind and unsupported versions are typed errors")
  func errors() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.cleanUp() }
    let url = tmp.file("toy")
    #expect(throws: ModelFolderError.notAFolder(path: url.path, reason: "it does not exist")) {
      try ModelFolder(opening: url)
    }
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    #expect(throws: ModelFolderError.missingFile(path: url.appendingPathComponent("config.json").path)) {
      try ModelFolder(opening: url)
    }
    func check(_ json: String, _ matches: (ModelFolderError) -> Bool) throws {
      try ModelFolder.write(to: url, config: Data(json.utf8), tensors: tensors(), card: nil)
      #expect { try ModelFolder(opening: url).configData(kind: kind) } throws: { error in
        (error as? ModelFolderError).map(matches) ?? false
      }
    }
    try check("{not json") { if case .unreadableConfig = $0 { true } else { false } }
    try check("[1]") { if case .unreadableConfig = $0 { true } else { false } }
    try check(#"{"model": "other", "formatVersion": 1}"#) { if case .wrongKind = $0 { true } else { false } }
    try check(#"{"formatVersion": 1}"#) { if case .wrongKind = $0 { true } else { false } }
    try check(#"{"model": "toy", "formatVersion": 3}"#) { if case .unsupportedVersion = $0 { true } else { false } }
    try check(#"{"model": "toy"}"#) { if case .unsupportedVersion = $0 { true } else { false } }
  }

  @Test("a Hugging Face layout: model.safetensors, vocab.txt required, kind in an array under architectures")
  func huggingFace() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.cleanUp() }
    let url = tmp.file("bert")
    let config = Data(#"{"architectures": ["BertForMaskedLM"], "model_type": "bert"}"#.utf8)
    try ModelFolder.write(to: url, layout: .huggingFace, config: config, tensors: tensors(), card: nil)
    #expect(throws: ModelFolderError.missingFile(path: url.appendingPathComponent("vocab.txt").path)) {
      try ModelFolder(opening: url, layout: .huggingFace)
    }
    try ModelFolder.write(
      to: url, layout: .huggingFace, config: config, tensors: tensors(), card: nil,
      extraFiles: ["vocab.txt": Data("[PAD]\n".utf8)])
    let folder = try ModelFolder(opening: url, layout: .huggingFace)
    _ = try folder.configData(kind: .init(key: "architectures", name: "BertForMaskedLM"))
    _ = try folder.configData(kind: .init(key: "model_type", name: "bert"))
    #expect(try folder.tensors(expecting: [.init("w", shape: [2, 3])]).count == 1)
  }
}
