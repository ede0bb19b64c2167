import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

private func aitRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

@Suite("train ait: options")
struct AssociativeTransformerCommandTests {
  @Test("--memory-update takes ema or residual-norm; anything else is refused with the option named")
  func memoryUpdate() {
    let train = ["train", "ait"]
    #expect(aitRejection(train) == nil)
    #expect(aitRejection(train + ["--memory-update", "ema"]) == nil)
    #expect(aitRejection(train + ["--memory-update", "residual-norm"]) == nil)
    #expect(aitRejection(train + ["--memory-update", "layernorm"])?.contains("--memory-update") == true)
  }

  @Test("--dataset takes mnist or fashion-mnist; a missing Fashion-MNIST folder names its fetch script")
  func dataset() throws {
    let train = ["train", "ait"]
    #expect(aitRejection(train + ["--dataset", "fashion-mnist"]) == nil)
    #expect(aitRejection(train + ["--dataset", "cifar"])?.contains("--dataset") == true)
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ait-fashion-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    let out = empty.appendingPathComponent("out")
    let command = try #require(
      try Attractor.parseAsRoot(
        train + ["--dataset", "fashion-mnist", "--mnist", empty.path, "--output-dir", out.path, "--epochs", "1"])
        as? TrainAssociativeTransformer)
    #expect { try command.run() } throws: { "\($0)".contains("fetch_fashion_mnist.sh") }
  }
}
