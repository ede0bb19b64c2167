import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

private func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-ia-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A study small enough for the test suite: 200 vectors in d = 8, two tiny models, 3 epochs.
private func tinySettings() -> IterativeAttentionStudy.Settings {
  var s = IterativeAttentionStudy.Settings.quick
  s.syntheticCount = 200
  s.syntheticDimension = 8
  s.seeds = [0, 1]
  s.models = [
    .init(name: "Single-Head", layers: 1, heads: 1, width: 8),
    .init(name: "Transformer-Small", layers: 2, heads: 2, width: 16),
  ]
  s.noiseLevels = [0.3]
  s.epochs = 3
  s.batchSize = 32
  s.steps = 3
  s.memorySizes = [50, 200]
  s.costSteps = [1, 2]
  s.costBatch = 16
  s.classicalSweeps = 5
  return s
}

private let mnistDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Data/mnist")

/// One tiny study shared by the tests that only read its results (models saved into a temporary folder).
private let sharedRun: Result<(results: IterativeAttentionStudy.Results, models: URL), any Error> = Result {
  let models = try temporaryDirectory()
  let results = try IterativeAttentionStudy(settings: tinySettings()).run(
    mnistDirectory: nil, modelsDirectory: models, command: "test")
  return (results, models)
}

@Suite("Iterative-attention study")
struct IterativeAttentionStudyTests {
  @Test("Synthetic-Gaussian: 80/10/10 disjoint split covering every vector, N(0, 1) entries, seeded")
  func synthetic() throws {
    let a = try SyntheticGaussianDataset<Float>(count: 1000, dimension: 32, seed: 3)
    let b = try SyntheticGaussianDataset<Float>(count: 1000, dimension: 32, seed: 3)
    let c = try SyntheticGaussianDataset<Float>(count: 1000, dimension: 32, seed: 4)
    #expect(a.patterns == b.patterns && a.training == b.training)
    #expect(a.patterns != c.patterns)
    #expect(a.training.count == 800 && a.validation.count == 100 && a.test.count == 100)
    #expect(Set(a.training + a.validation + a.test) == Set(0..<1000))
    let values = a.patterns.elements.map(Double.init)
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.03)
    #expect(throws: DatasetError.self) { try SyntheticGaussianDataset<Float>(count: 5, dimension: 4, seed: 0) }
  }

  @Test("Zero padding keeps dot products and cosines; corruption of other cues blends them with stored distractors")
  func paddingAndCues() throws {
    var rng = SeededGenerator(seed: 1)
    let p: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 3, standardDeviation: 1)
    let padded = p.zeroPadded(toColumns: 7)
    #expect(padded.columns == 7)
    #expect(
      padded.multiplied(by: padded, transposeOther: true).elements.elementsEqual(
        p.multiplied(by: p, transposeOther: true).elements
      ) { abs($0 - $1) < 1e-12 })
    // With the stored patterns as cues, the general form equals queries(from:targets:using:).
    var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
    for corruption in [Corruption.gaussianNoise(sigma: 0.4), .mask(fraction: 0.5), .overlap(alpha: 0.7)] {
      let a = try corruption.queries(from: p, targets: [0, 3, 4], using: &g1)
      let b = try corruption.queries(corrupting: p.rows(at: [0, 3, 4]), patterns: p, targets: [0, 3, 4], using: &g2)
      #expect(a == b)
    }
    // Overlap of another cue: α·cue + (1 − α)·distractor.
    let cue = Matrix<Double>(rows: 1, columns: 3, elements: [10, 20, 30])
    var g = SeededGenerator(seed: 2)
    let q = try Corruption.overlap(alpha: 0.25).queries(corrupting: cue, patterns: p, targets: [1], using: &g)
    let other = try #require(q.distractors?.first)
    #expect(other != 1)
    for j in 0..<3 { #expect(abs(q.queries[0, j] - (0.25 * cue[0, j] + 0.75 * p[other, j])) < 1e-12) }
    #expect(throws: CorruptionError.self) {
      try Corruption.none.queries(corrupting: cue, patterns: p, targets: [1, 2], using: &g)
    }
  }

  @Test(
    "A tiny study end to end: shapes, shared cues, training lowers the loss, and a fixed seed reproduces every number")
  func tinyStudy() throws {
    let study = IterativeAttentionStudy(settings: tinySettings())
    let a = try sharedRun.get().results
    let settings = tinySettings()
    let models =
      settings.models.map(\.name) + [IterativeAttentionStudy.untrainedName, IterativeAttentionStudy.classicalName]
    let corruptions = study.testCorruptions
    #expect(a.curves.count == settings.seeds.count * models.count * corruptions.count)
    for c in a.curves where c.model != IterativeAttentionStudy.classicalName {
      #expect(c.accuracy.count == settings.steps + 1 && c.meanStepSize.count == settings.steps)
      #expect(c.accuracy.allSatisfy { (0...1).contains($0) })
    }
    // Every attention model starts from the same cues: equal accuracy at t = 0.
    for seed in settings.seeds {
      for corruption in corruptions {
        let starts = Set(
          a.curves.filter {
            $0.seed == seed && $0.corruption == corruption && $0.model != IterativeAttentionStudy.classicalName
          }.map { $0.accuracy[0] })
        #expect(starts.count == 1)
      }
    }
    // Training lowered the validation loss in every run.
    #expect(a.trainings.count == settings.seeds.count * settings.models.count)
    for r in a.trainings { #expect((r.history.validationLoss.min() ?? .infinity) < r.history.initialValidationLoss) }
    #expect(a.memorySizes.count == settings.seeds.count * settings.memorySizes.count * 2 * 3)
    #expect(a.costs.count == settings.models.count * settings.costSteps.count)
    // Same seed, same numbers (timings aside).
    let b = try study.run(mnistDirectory: nil, modelsDirectory: nil, command: "test")
    #expect(a.curves == b.curves && a.memorySizes == b.memorySizes)
    #expect(a.trainings.map(\.history) == b.trainings.map(\.history))
  }

  @Test("The report: tables with the paper's numbers, CSV, JSON that decodes to the results, and SVG figures")
  func report() throws {
    let results = try sharedRun.get().results
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try IterativeAttentionReport(results: results).write(to: dir)
    let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(
      readme.contains("Table 1") && readme.contains("68.2 ± 0.5") && readme.contains("Table 2")
        && readme.contains("62.4"))
    let table1 = try String(contentsOf: dir.appendingPathComponent("table1-synthetic-gaussian.csv"), encoding: .utf8)
    #expect(table1.split(separator: "\n").count == 1 + 4)  // header + untrained, two models, classical
    let decoded = try JSONDecoder().decode(
      IterativeAttentionStudy.Results.self, from: Data(contentsOf: dir.appendingPathComponent("results.json")))
    #expect(decoded == results)
    for name in [
      "figure1-synthetic-gaussian-sigma0.3.svg", "figure3-energy-synthetic-gaussian.svg", "memory-size.svg",
      "inference-cost.svg",
    ] {
      let svg = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
      #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
    }
  }

  @Test("Model folders: save and load give the same model; missing and damaged files are reported")
  func folders() throws {
    // A copy of the shared run's models, so damaging them does not affect other tests.
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for name in try FileManager.default.contentsOfDirectory(atPath: try sharedRun.get().models.path) {
      try FileManager.default.copyItem(
        at: try sharedRun.get().models.appendingPathComponent(name), to: dir.appendingPathComponent(name))
    }
    let folders = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(
      folders == [
        "iterative-attention-synthetic-gaussian-single-head",
        "iterative-attention-synthetic-gaussian-transformer-small",
      ])
    let folder = dir.appendingPathComponent(folders[1])
    let loaded = try IterativeAttentionModelFolder.load(from: folder)
    #expect(loaded.model.configuration == IterativeAttentionConfiguration(layers: 2, heads: 2, width: 16))
    let original = try #require(folders.isEmpty ? nil : folders[1])
    #expect(original.hasSuffix("transformer-small"))
    #expect(loaded.patterns.rows == 200 && loaded.patterns.columns == 8)
    #expect(loaded.patterns == (try SyntheticGaussianDataset<Float>(count: 200, dimension: 8, seed: 0)).patterns)
    // The memory is stored in the folder (issue 17), not regenerated from a recipe.
    #expect(loaded.record.memory == .stored)
    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("CARD.md").path))
    // Damage: drop a tensor, then remove the config.
    let weights = folder.appendingPathComponent("weights.safetensors")
    var tensors = try SafeTensorsFile.read(from: weights).tensors
    tensors["layers.1.key"] = nil
    try SafeTensorsFile.write(tensors, to: weights)
    #expect { try IterativeAttentionModelFolder.load(from: folder) } throws: { error in
      "\(error)".contains("layers.1.key is missing")
    }
    try FileManager.default.removeItem(at: folder.appendingPathComponent("config.json"))
    #expect { try IterativeAttentionModelFolder.load(from: folder) } throws: { error in
      "\(error)".contains("config.json does not exist")
    }
  }

  @Test("MNIST embedding: missing files name the fetch command; a wrong shape is refused")
  func mnistErrors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect { try MNISTEmbedding<Float>(directory: dir) } throws: { error in
      "\(error)".contains("Scripts/fetch_mnist.py")
    }
    try IDXFile.writeUnsignedBytes(
      [UInt8](repeating: 0, count: 2 * 28 * 28), shape: [2, 28, 28],
      to: dir.appendingPathComponent("train-images-idx3-ubyte"))
    try IDXFile.writeUnsignedBytes([0, 1], shape: [2], to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
    try IDXFile.writeUnsignedBytes(
      [UInt8](repeating: 0, count: 2 * 28 * 28), shape: [2, 28, 28],
      to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
    try IDXFile.writeUnsignedBytes([0, 1], shape: [2], to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
    #expect { try MNISTEmbedding<Float>(directory: dir) } throws: { error in
      "\(error)".contains("expected [60000, 28, 28]")
    }
    #expect(throws: DatasetError.self) { try MNISTEmbedding<Float>(directory: dir, dimension: 0) }
  }

  @Test(
    "MNIST embedding on the real files: PCA keeps most variance, prototypes have unit RMS, nearest prototype beats chance",
    .enabled(
      if: ProcessInfo.processInfo.environment["ATTRACTOR_DATA_TESTS"] == "1"
        && FileManager.default.fileExists(atPath: mnistDirectory.appendingPathComponent("t10k-labels-idx1-ubyte").path),
      "reads all 70,000 MNIST images (about a minute in a debug build): set ATTRACTOR_DATA_TESTS=1 after Scripts/fetch_mnist.py"
    ))
  func mnistReal() throws {
    let data = try MNISTEmbedding<Float>(
      directory: mnistDirectory, dimension: 32, trainingCount: 5000, validationCount: 100, testCount: 1000)
    #expect(data.explainedVariance > 0.6 && data.explainedVariance < 1)
    let rms = (data.prototypes.elements.map { Double($0 * $0) }.reduce(0, +) / Double(data.prototypes.elements.count))
      .squareRoot()
    #expect(abs(rms - 1) < 1e-4)
    let accuracy = RetrievalMetrics.accuracy(
      of: data.test.embeddings, patterns: data.prototypes, targets: data.test.labels)
    #expect((accuracy ?? 0) > 0.6)
  }
}
