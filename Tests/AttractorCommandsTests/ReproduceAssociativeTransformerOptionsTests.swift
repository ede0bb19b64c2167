import ArgumentParser
@testable import AttractorCommands
import Attractors
import Foundation
import Testing

private func reproduceRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(["reproduce", "ait"] + arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

@Suite("reproduce ait: --dataset and --workers")
struct ReproduceAssociativeTransformerOptionsTests {
  @Test("--dataset takes mnist or fashion-mnist; --workers is at least 1 and runs on one OpenBLAS thread")
  func options() {
    #expect(reproduceRejection(["--quick", "--dataset", "fashion-mnist", "--workers", "2"]) == nil)
    #expect(reproduceRejection(["--workers", "2", "--threads", "1"]) == nil)
    #expect(reproduceRejection(["--dataset", "cifar"])?.contains("--dataset") == true)
    #expect(reproduceRejection(["--workers", "0"])?.contains("--workers") == true)
    #expect(reproduceRejection(["--workers", "2", "--threads", "2"])?.contains("--threads 2") == true)
  }

  @Test("--retrain-seeds: a seed list or none; by default the first seed (none with --quick)")
  func retrainSeeds() throws {
    func settings(_ arguments: [String]) throws -> [UInt64] {
      let command = try #require(
        try Attractor.parseAsRoot(["reproduce", "ait"] + arguments) as? ReproduceAssociativeTransformer)
      return command.settings.retrainSeeds
    }
    #expect(try settings([]) == [0])
    #expect(try settings(["--seeds", "4,5"]) == [4])
    #expect(try settings(["--retrain-seeds", "none"]) == [])
    #expect(try settings(["--retrain-seeds", "1,2"]) == [1, 2])
    #expect(try settings(["--quick"]) == [])
    #expect(reproduceRejection(["--retrain-seeds", "1,1"])?.contains("repeats") == true)
    #expect(reproduceRejection(["--retrain-seeds", "x"])?.contains("--retrain-seeds") == true)
  }

  @Test("a missing Fashion-MNIST folder names its fetch script")
  func missingFashion() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ait-repro-fashion-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    let command = try #require(
      try Attractor.parseAsRoot([
        "reproduce", "ait", "--quick", "--dataset", "fashion-mnist", "--mnist", empty.path, "--output-dir",
        empty.appendingPathComponent("out").path,
      ]) as? ReproduceAssociativeTransformer)
    #expect { try command.run() } throws: { "\($0)".contains("fetch_fashion_mnist.sh") }
  }
}
