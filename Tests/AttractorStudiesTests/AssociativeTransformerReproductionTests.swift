import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

@testable import AttractorStudies

// The fake MNIST folders come from `workspaceFakeImages` (GlobalWorkspaceStudyTests.swift).

@Suite("Associative Transformer reproduction and training")
struct AssociativeTransformerReproductionTests {
  @Test("Hungarian assignment equals brute force on small cost matrices")
  func hungarian() {
    var rng = SeededGenerator(seed: 1)
    for n in 1...6 {
      let cost = (0..<n).map { _ in (0..<n).map { _ in rng.nextUniform() } }
      let assignment = AssociativeTransformerReproduction.hungarian(cost)
      #expect(Set(assignment).count == n)
      func total(_ a: [Int]) -> Double { a.enumerated().reduce(0) { $0 + cost[$1.offset][$1.element] } }
      var best = Double.infinity
      func permute(_ prefix: [Int], _ rest: Set<Int>) {
        if rest.isEmpty { best = min(best, total(prefix)) }
        for r in rest { permute(prefix + [r], rest.subtracting([r])) }
      }
      permute([], Set(0..<n))
      #expect(abs(total(assignment) - best) < 1e-12)
    }
    // Identical rows in another order match with cosine 1.
    let a = Matrix<Double>(rowArrays: [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 1]])
    let b = Matrix<Double>(rowArrays: [[0.5, 0.5, 1], [1, 0, 0], [0, 1, 0]])
    #expect(abs(AssociativeTransformerReproduction.matchedCosine(a, b) - 1) < 1e-12)
  }

  @Test("statistics: hypergeometric probabilities sum to 1, entropy bounds, Spearman of a monotone pair")
  func statistics() {
    let p = (0...4).map {
      AssociativeTransformerReproduction.hypergeometric($0, population: 16, successes: 4, draws: 4)
    }
    #expect(abs(p.reduce(0, +) - 1) < 1e-12)
    #expect(abs(AssociativeTransformerReproduction.normalizedEntropy([3, 3, 3, 3]) - 1) < 1e-12)
    #expect(AssociativeTransformerReproduction.normalizedEntropy([5, 0, 0, 0]) == 0)
    #expect(abs(AssociativeTransformerReproduction.spearman([1, 2, 3, 4], [10, 20, 30, 50]) - 1) < 1e-12)
    #expect(abs(AssociativeTransformerReproduction.spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12)
  }

  @Test("the quick reproduction runs every check and writes its report")
  func quickRun() throws {
    let mnist = try workspaceFakeImages(train: 128, test: 64)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ait-report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let results = try AssociativeTransformerReproduction(settings: .quick, mnistDirectory: mnist, command: "test")
      .run(into: folder)
    let s = AssociativeTransformerReproduction.Settings.quick
    #expect(results.hopfield.count == 3 + s.steps.count + s.betas.count)
    #expect(results.hopfield.allSatisfy { $0.accuracies.count == s.seeds.count && (0...1).contains($0.mean) })
    #expect(results.landscapes.count == s.seeds.count)
    for l in results.landscapes {
      #expect(l.priorRegime.count == s.priorCount)
      #expect(l.priorEndRegime.count == s.priorCount)
      #expect(l.priorEndRegime.allSatisfy { AssociativeTransformerReport.regimeOrder.contains($0) })
      let total = l.basinShare.reduce(0, +) + l.patchesToMetastable + l.patchesToGlobal + l.patchesElsewhere
      #expect(abs(total - 1) < 1e-9)
    }
    #expect(results.seedPairs.count == 1)
    // One memory record per trained AiT: the seeds', then the sweep's other k.
    #expect(results.memoryCurves.map(\.name) == ["AiT seed 0", "AiT seed 1", "AiT k = 8"])
    for c in results.memoryCurves {
      #expect(!c.steps.isEmpty && c.steps.count == c.priorCosine.count && c.steps.count == c.selectionOverlap.count)
      #expect(c.priorCosine.allSatisfy { (-1.0001...1.0001).contains($0) })
      #expect(c.epochAccuracy.count == s.epochs)
    }
    let record = AssociativeTransformerReproduction.MemoryCurve(
      name: "x", seed: 0, bottleneck: 4,
      history: {
        var h = VisionTransformerTrainer.History()
        h.curveSteps = [50, 100, 150, 200]
        h.curvePriorCosine = [0.5, 0.995, 1.0, 0.3]
        h.curveSelectionOverlap = [0.4, 0.9, 1.0, 0.4]
        return h
      }())
    #expect(record.separationStep() == 200)
    #expect(results.competition.map(\.bottleneck) == s.bottlenecks)
    for c in results.competition {
      #expect((0...1).contains(c.patchEntropy) && (0...1).contains(c.priorEntropy) && (0...1).contains(c.headOverlap))
    }
    for name in [
      "README.md", "results.json", "loss-curve.svg", "memory-curves.svg", "accuracy-steps.svg", "accuracy-beta.svg",
      "accuracy-bottleneck.svg", "regime-per-prior.svg",
    ] {
      #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
    }
  }

  @Test("where the retrieval from each prior ends: itself for separated patterns at large β, the average at small β")
  func priorEnds() throws {
    // Four orthogonal patterns of norm 2 in 6 dimensions.
    var u = Matrix<Double>(rows: 4, columns: 6)
    for r in 0..<4 { u[r, r] = 2 }
    func ends(beta: Double) throws -> [String] {
      let network = try ModernHopfield<Double>(patterns: u, beta: beta)
      let search = FixedPointSearch(
        noisyStartsPerPattern: 1, pairMixtures: 4, tripleMixtures: 2, randomStarts: 4, seed: 3, maxSteps: 500)
      let report = try FixedPointAnalyzer(search: search).analyze(network)
      return try AssociativeTransformerReproduction.priorEnds(network, report: report, maxSteps: 500)
    }
    #expect(try ends(beta: 8) == ["itself", "itself", "itself", "itself"])
    #expect(try ends(beta: 0.05) == ["globalAverage", "globalAverage", "globalAverage", "globalAverage"])
  }

  @Test("retrained variants: one AiT trained per other T and β, kept under its own folder name, in the tables")
  func retrainedVariants() throws {
    let mnist = try workspaceFakeImages(train: 128, test: 64)
    let temporary = FileManager.default.temporaryDirectory
    let models = temporary.appendingPathComponent("ait-retrained-models-\(UUID().uuidString)")
    let out = temporary.appendingPathComponent("ait-retrained-out-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    var s = AssociativeTransformerReproduction.Settings.quick
    s.seeds = [0]
    s.bottlenecks = [s.bottleneck]
    s.steps = [1, 3]
    s.betas = [1, 2]
    s.retrainSeeds = [0]
    #expect(
      s.retrainedVariants == [
        .init(seed: 0, hopfieldSteps: 1, beta: 1), .init(seed: 0, hopfieldSteps: 3, beta: 2),
      ])
    let results = try AssociativeTransformerReproduction(
      settings: s, mnistDirectory: mnist, modelsDirectory: models, command: "test"
    ).run(into: out)
    let names = try FileManager.default.contentsOfDirectory(atPath: models.path).sorted()
    #expect(names == ["ait-seed0-k4", "ait-seed0-k4-T1", "ait-seed0-k4-beta2", "vit-seed0"])
    // The reference row (the seed's own AiT), then one row per variant, each trained at its own T and β.
    #expect(results.retrained.map(\.variant) == [false, true, true])
    #expect(results.retrained.map(\.hopfieldSteps) == [3, 1, 3])
    #expect(results.retrained.map(\.beta) == [1, 1, 2])
    let stored = try VisionTransformerModelFolder.load(from: models.appendingPathComponent("ait-seed0-k4-beta2"))
    #expect(stored.model.workspace?.configuration.beta == 2)
    #expect(stored.model.workspace?.configuration.hopfieldSteps == 3)
    for v in results.retrained {
      let total = v.patchesToPriors + v.patchesToMetastable + v.patchesToGlobal + v.patchesElsewhere
      #expect(abs(total - 1) < 1e-9)
      #expect((0...1).contains(v.accuracy) && (0...1).contains(v.retrievalRemovedAccuracy))
    }
    // The retrained accuracy is the variant model's own (its last epoch), listed as a retrained condition.
    let t1 = try #require(results.hopfield.first { $0.name == "T = 1 (retrained)" })
    #expect(t1.retrained && t1.accuracies == [results.retrained[1].accuracy])
    #expect(results.hopfield.contains { $0.name == "β = 2.0 (retrained)" })
    #expect(results.memoryCurves.map(\.name).suffix(2) == s.retrainedVariants.map(\.name))
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("## 4. Retrained at other T and β"))
    // A variant model trained at another β is not taken for the seed's AiT: the names differ.
    #expect(
      AssociativeTransformerReproduction.modelFolderName(s.associative(bottleneck: 16, beta: 0.5), seed: 2)
        == "ait-seed2-k16-beta0.5")
    #expect(
      AssociativeTransformerReproduction.modelFolderName(s.associative(bottleneck: 16), seed: 2) == "ait-seed2-k16")
  }

  @Test("--models-dir: the models are kept as folders, reused by a second run, and other settings are refused")
  func modelsDirectory() throws {
    let mnist = try workspaceFakeImages(train: 128, test: 64)
    let temporary = FileManager.default.temporaryDirectory
    func folder(_ name: String) throws -> URL {
      let url = temporary.appendingPathComponent("ait-\(name)-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      return url
    }
    let models = try folder("models")
    let plain = try AssociativeTransformerReproduction(settings: .quick, mnistDirectory: mnist, command: "test")
      .run(into: try folder("plain"))
    let kept = try AssociativeTransformerReproduction(
      settings: .quick, mnistDirectory: mnist, modelsDirectory: models, command: "test"
    ).run(into: try folder("kept"))
    // Training through the model folders gives the same models as training in memory.
    #expect(kept.hopfield == plain.hopfield)
    #expect(kept.landscapes == plain.landscapes)
    #expect(kept.competition == plain.competition)
    let names = try FileManager.default.contentsOfDirectory(atPath: models.path).sorted()
    #expect(names == ["ait-seed0-k4", "ait-seed0-k8", "ait-seed1-k4", "vit-seed0", "vit-seed1"])
    // A second run loads them: the same results, and the folders are not rewritten.
    let config = models.appendingPathComponent("vit-seed1/config.json")
    let written = try FileManager.default.attributesOfItem(atPath: config.path)[.modificationDate] as? Date
    let again = try AssociativeTransformerReproduction(
      settings: .quick, mnistDirectory: mnist, modelsDirectory: models, command: "test"
    ).run(into: try folder("again"))
    #expect(again.hopfield == plain.hopfield && again.competition == plain.competition)
    #expect(try FileManager.default.attributesOfItem(atPath: config.path)[.modificationDate] as? Date == written)
    // Other training settings are refused, not overwritten.
    var other = AssociativeTransformerReproduction.Settings.quick
    other.epochs = 2
    #expect(throws: AssociativeTransformerError.self) {
      try AssociativeTransformerReproduction(
        settings: other, mnistDirectory: mnist, modelsDirectory: models, command: "t"
      )
      .run(into: try folder("other"))
    }
    #expect(try FileManager.default.attributesOfItem(atPath: config.path)[.modificationDate] as? Date == written)
  }

  @Test(
    "train ait: the model folder round-trips, --resume continues exactly, a finished model is not resumed",
    arguments: [MemoryUpdate.ema, .gradient])
  func trainingFolder(update: MemoryUpdate) throws {
    let mnist = try workspaceFakeImages(train: 64, test: 32)
    let base = VisionTransformerConfiguration(patchSize: 7, width: 16, depth: 1, heads: 2, hidden: 16)
    let c = AssociativeTransformer.configuration(
      base: base, priorCount: 4, priorWidth: 8, heads: 2, bottleneck: 4, memoryUpdate: update)
    let trainer = VisionTransformerTrainer(epochs: 2, batchSize: 16, learningRate: 3e-3, warmupSteps: 1, seed: 2)
    let training = try AssociativeTransformerTraining(
      configuration: c, trainer: trainer, modelSeed: 3, trainCount: 64, testCount: 32, mnistDirectory: mnist,
      command: "test", log: { _ in })
    let straight = FileManager.default.temporaryDirectory.appendingPathComponent("ait-a-\(UUID().uuidString)")
    let full = try training.run(into: straight)
    let loaded = try VisionTransformerModelFolder.load(from: straight)
    #expect(loaded.model.parameters == full.model.parameters)
    #expect(loaded.model.workspace!.memory == full.model.workspace!.memory)
    #expect(loaded.optimizer == nil && !loaded.record.isCheckpoint)
    #expect(loaded.record.configuration.workspace?.memoryUpdate == update)
    #expect(loaded.model.trainsMemory == (update == .gradient))
    if update == .ema {
      // A folder written before memoryUpdate existed (no such key in config.json) loads as ema.
      let config = straight.appendingPathComponent("config.json")
      var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
      var configuration = try #require(object["configuration"] as? [String: Any])
      var workspace = try #require(configuration["workspace"] as? [String: Any])
      #expect(workspace["memoryUpdate"] as? String == "ema")
      workspace["memoryUpdate"] = nil
      configuration["workspace"] = workspace
      object["configuration"] = configuration
      try JSONSerialization.data(withJSONObject: object).write(to: config)
      let old = try VisionTransformerModelFolder.load(from: straight)
      #expect(old.record.configuration.workspace?.memoryUpdate == .ema)
      #expect(old.model.parameters == full.model.parameters)
      #expect(old.model.workspace!.memory == full.model.workspace!.memory)
    }
    #expect(throws: (any Error).self) { try training.run(into: straight, resume: true) }
    // Interrupted after the first epoch, then resumed: the same model as the uninterrupted run.
    let interrupted = FileManager.default.temporaryDirectory.appendingPathComponent("ait-b-\(UUID().uuidString)")
    _ = try training.run(into: interrupted, stopAfterEpoch: 1)
    let checkpoint = try VisionTransformerModelFolder.load(from: interrupted)
    #expect(checkpoint.record.isCheckpoint && checkpoint.optimizer != nil)
    // The optimiser's moments cover every parameter, γ's too when it is trained.
    #expect(checkpoint.optimizer?.firstMoments.count == checkpoint.model.parameters.count)
    if update == .gradient {
      let at = try #require(checkpoint.model.memoryParameterIndex)
      #expect(checkpoint.model.parameterNames[at] == "workspace.memory")
      #expect(checkpoint.optimizer!.secondMoments[at].contains { $0 > 0 }, "γ has AdamW moments")
    }
    let resumed = try training.run(into: interrupted, resume: true)
    #expect(resumed.summary.resumedFromEpoch == 1)
    #expect(resumed.model.parameters == full.model.parameters)
    #expect(resumed.model.workspace!.memory == full.model.workspace!.memory)
    // A different command cannot resume it.
    var other = training
    other.trainer.learningRate = 1e-3
    _ = try training.run(into: interrupted, stopAfterEpoch: 1)
    #expect(throws: (any Error).self) { try other.run(into: interrupted, resume: true) }
  }
}
