import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

@testable import AttractorStudies

@Suite("reproduce ait: parallel trainings and the Fashion-MNIST data set")
struct AssociativeTransformerWorkersTests {
  /// The quick settings with a single seed and k (fewer trainings, same code paths).
  var small: AssociativeTransformerReproduction.Settings {
    var s = AssociativeTransformerReproduction.Settings.quick
    s.trainCount = 64
    s.testCount = 32
    return s
  }

  @Test("two workers give exactly the results of one; each training keeps its own seed")
  func workersEqualSequential() throws {
    let images = try workspaceFakeImages(train: 64, test: 32)
    defer { try? FileManager.default.removeItem(at: images) }
    let settings = small
    func run(_ workers: Int) throws -> AssociativeTransformerReproduction.Results {
      let folder = try temporaryFolder("ait-workers-\(workers)")
      defer { try? FileManager.default.removeItem(at: folder) }
      var reproduction = try AssociativeTransformerReproduction(
        settings: settings, mnistDirectory: images, command: "test", workers: workers)
      // OpenBLAS's thread count is process-wide and belongs to the caller, so this test leaves it
      // alone; at these sizes the products do not depend on it (both runs are compared exactly).
      reproduction.assumedBLASThreads = 1
      return try reproduction.run(into: folder)
    }
    let one = try run(1)
    let two = try run(2)
    #expect(one.hopfield == two.hopfield)
    #expect(one.landscapes == two.landscapes)
    #expect(one.seedPairs == two.seedPairs)
    #expect(one.competition == two.competition)
    #expect(one.aitCurve == two.aitCurve && one.baselineCurve == two.baselineCurve)
    #expect(one.parameterCounts == two.parameterCounts)
    // The trainings differ from each other (so equality is not that of identical jobs).
    #expect(one.hopfield[0].accuracies != one.hopfield[1].accuracies || one.aitCurve != one.baselineCurve)
    let jobs = try AssociativeTransformerReproduction(
      settings: settings, mnistDirectory: images, command: "test", workers: 2
    ).trainingJobs
    #expect(jobs.map(\.name) == ["AiT seed 0", "baseline seed 0", "AiT seed 1", "baseline seed 1", "AiT k = 8"])
  }

  @Test("more than one worker is refused while OpenBLAS has several threads; workers < 1 is refused")
  func workersNeedOneBLASThread() throws {
    #expect(throws: AssociativeTransformerError.self) {
      _ = try AssociativeTransformerReproduction(
        settings: small, mnistDirectory: URL(fileURLWithPath: "/x"), command: "t", workers: 0)
    }
    let images = try workspaceFakeImages(train: 64, test: 32)
    defer { try? FileManager.default.removeItem(at: images) }
    let reproduction = try AssociativeTransformerReproduction(
      settings: small, mnistDirectory: images, command: "test", workers: 2)
    let data = try ScaledMNIST(directory: images, trainCount: 64, testCount: 32)
    // With several OpenBLAS threads in force the run is refused before any training.
    #expect { _ = try reproduction.runTrainings(reproduction.trainingJobs, data: data, blasThreads: 2) } throws: {
      "\($0)".contains("one OpenBLAS thread per training, but 2 are set")
    }
  }

  @Test("--dataset fashion-mnist: scaled with Fashion-MNIST's own mean and deviation, and the report says so")
  func fashion() throws {
    let images = try workspaceFakeImages(train: 64, test: 32, seed: 9)
    defer { try? FileManager.default.removeItem(at: images) }
    var settings = small
    settings.dataset = .fashionMNIST
    settings.seeds = [0]
    settings.bottlenecks = [4]
    let folder = try temporaryFolder("ait-fashion")
    defer { try? FileManager.default.removeItem(at: folder) }
    let results = try AssociativeTransformerReproduction(settings: settings, mnistDirectory: images, command: "test")
      .run(into: folder)
    #expect(results.settings.dataset == .fashionMNIST)
    let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("Scale: Fashion-MNIST, the first 64 training images and 32 test images"))
    let json = try String(contentsOf: folder.appendingPathComponent("results.json"), encoding: .utf8)
    #expect(json.contains("fashion-mnist"))
    // Fashion-MNIST's scaling, not MNIST's.
    let fashion = try ScaledMNIST(directory: images, dataset: .fashionMNIST, trainCount: 64, testCount: 32)
    let raw = try ImageDataset.fashionMNIST.images(.training, in: images)
    #expect(abs(Double(fashion.trainImages[0, 0]) - (raw[0, 0] / 255 - 0.2860) / 0.3530) < 1e-6)
    // A missing folder names Fashion-MNIST's fetch script.
    let empty = try temporaryFolder("ait-fashion-empty")
    defer { try? FileManager.default.removeItem(at: empty) }
    #expect {
      _ = try AssociativeTransformerReproduction(settings: settings, mnistDirectory: empty, command: "test")
        .run(into: folder)
    } throws: { "\($0)".contains("fetch_fashion_mnist.sh") }
  }
}
