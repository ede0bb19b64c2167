import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

private func plRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

@Suite("train / reproduce pseudo-likelihood: options")
struct PseudoLikelihoodCommandTests {
  @Test("bad options are refused with the option named")
  func badOptions() {
    let train = ["train", "pseudo-likelihood"]
    #expect(plRejection(train) == nil)
    #expect(plRejection(train + ["--rule", "backprop"])?.contains("--rule") == true)
    #expect(plRejection(train + ["--gamma", "1.5"])?.contains("--gamma") == true)
    #expect(plRejection(train + ["--beta", "0"])?.contains("--beta") == true)
    #expect(plRejection(train + ["--weight-decay", "0"])?.contains("--weight-decay") == true)
    #expect(plRejection(train + ["--count", "0"])?.contains("--count") == true)
    #expect(plRejection(["reproduce", "pseudo-likelihood", "--quick"]) == nil)
  }

  @Test("a missing MNIST folder gives the fetch hint")
  func missingData() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pl-cmd-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try #require(
      try Attractor.parseAsRoot([
        "reproduce", "pseudo-likelihood", "--quick", "--mnist", dir.appendingPathComponent("none").path, "--output-dir",
        dir.path,
      ]) as? ReproducePseudoLikelihood)
    #expect { try command.run() } throws: { "\($0)".contains("fetch_mnist.py") }
    let train = try #require(
      try Attractor.parseAsRoot([
        "train", "pseudo-likelihood", "--mnist", dir.appendingPathComponent("none").path, "--output-dir", dir.path,
      ]) as? TrainPseudoLikelihood)
    #expect { try train.run() } throws: { "\($0)".contains("fetch_mnist.py") }
    let fashion = try #require(
      try Attractor.parseAsRoot([
        "train", "pseudo-likelihood", "--dataset", "fashion-mnist", "--mnist", dir.appendingPathComponent("none").path,
        "--output-dir", dir.path,
      ]) as? TrainPseudoLikelihood)
    #expect { try fashion.run() } throws: { "\($0)".contains("fetch_fashion_mnist.sh") }
    #expect(throws: (any Error).self) {
      try Attractor.parseAsRoot(["reproduce", "pseudo-likelihood", "--dataset", "cifar"])
    }
  }
}
