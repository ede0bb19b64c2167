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
}
