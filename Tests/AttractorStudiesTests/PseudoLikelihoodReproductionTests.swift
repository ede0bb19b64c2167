import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

/// A fake MNIST folder of `train` and `test` 28 × 28 images: a bright seeded bar per digit.
private func fakeMNIST(train: Int, test: Int) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("pl-mnist-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  var rng = SeededGenerator(seed: 3)
  func images(_ n: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: n * 784)
    for r in 0..<n {
      let row = 6 + Int(rng.next() % 16), column = 6 + Int(rng.next() % 16)
      for k in 0..<12 {
        out[r * 784 + row * 28 + min(27, 6 + k)] = 255
        out[r * 784 + min(27, 6 + k) * 28 + column] = 200
      }
    }
    return out
  }
  try IDXFile.writeUnsignedBytes(
    images(train), shape: [train, 28, 28], to: url.appendingPathComponent(MNIST.trainingImages))
  try IDXFile.writeUnsignedBytes(images(test), shape: [test, 28, 28], to: url.appendingPathComponent(MNIST.testImages))
  try IDXFile.writeUnsignedBytes(
    Array(repeating: 1, count: train), shape: [train], to: url.appendingPathComponent(MNIST.trainingLabels))
  try IDXFile.writeUnsignedBytes(
    Array(repeating: 1, count: test), shape: [test], to: url.appendingPathComponent(MNIST.testLabels))
  return url
}

@Suite("Pseudo-likelihood reproduction: embedding, images, report")
struct PseudoLikelihoodReproductionTests {
  @Test("the pixel-token embedding gives unit tokens and decodes back to the pixels exactly")
  func embeddingRoundTrip() throws {
    let embedding = try PixelTokenEmbedding(patchSide: 4, seed: 5)
    #expect(embedding.tokens == 25 && embedding.tokenWidth == 32)
    var rng = SeededGenerator(seed: 1)
    let crops = Matrix<Double>(rows: 3, columns: 400) { _, _ in rng.nextUniform() }
    let states: Matrix<Double> = embedding.embed(crops)
    for t in 0..<(3 * 25) {
      let norm = (0..<32).reduce(0.0) { $0 + states.elements[t * 32 + $1] * states.elements[t * 32 + $1] }
      #expect(abs(norm - 1) < 1e-12)
    }
    let back = embedding.decode(states)
    for k in crops.elements.indices { #expect(abs(back.elements[k] - crops.elements[k]) < 1e-9) }
    #expect(throws: PixelTokenEmbedding.InvalidParameter.self) { try PixelTokenEmbedding(patchSide: 3, seed: 0) }
  }

  @Test("missing MNIST files give the fetch hint, not a crash")
  func missingMNIST() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("pl-none-\(UUID().uuidString)")
    let run = PseudoLikelihoodReproduction(
      settings: .quick, seed: 0, dataDirectory: empty, command: "test", log: { _ in })
    #expect { try run.run(into: empty) } throws: { "\($0)".contains("fetch_mnist.py") }
  }

  @Test("the quick reproduction on a small fake MNIST writes every file and consistent curves")
  func quickRun() throws {
    let mnist = try fakeMNIST(train: 60, test: 6)
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("pl-out-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    defer {
      try? FileManager.default.removeItem(at: mnist)
      try? FileManager.default.removeItem(at: output)
    }
    var settings = PseudoLikelihoodReproduction.Settings.quick
    settings.maxIterations = 4
    settings.trainCount = 60
    settings.testCount = 6
    settings.baselineMemory = 10
    settings.baselineTrainCount = 20
    settings.overlapReferences = 20
    let results = try PseudoLikelihoodReproduction(
      settings: settings, seed: 0, dataDirectory: mnist, command: "test", log: { _ in }
    ).run(into: output)
    for file in [
      "README.md", "results.json", "mse-masking.svg", "mse-denoising.svg", "overlaps.svg", "digits-masking.png",
      "digits-denoising.png", "digits-masking.svg", "digits-denoising.svg", "model/config.json",
      "model/weights.safetensors",
    ] {
      #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file)")
    }
    #expect(results.tasks.count == 2)
    for task in results.tasks {
      #expect(task.mse.count == 4 && task.baselineMSE.count == 4)
      #expect(task.mse.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }
    let loaded = try PseudoLikelihoodModelFolder.load(from: output.appendingPathComponent("model"))
    #expect(loaded.record.configuration.tokens == 25)
    // The grid: 6 rows × 3 tiles of 20 × 20 enlarged 3× with gaps of 2·3 pixels, labelled in the SVG.
    let png = try Data(contentsOf: output.appendingPathComponent("digits-masking.png"))
    let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
    #expect(width == 3 * 66 - 6 && height == 6 * 66 - 6)  // cue, t = 1, clean (T = 4)
    let svg = try String(contentsOf: output.appendingPathComponent("digits-masking.svg"), encoding: .utf8)
    for label in ["cue", "t = 1", "clean", "test #0: 1", "data:image/png;base64,"] {
      #expect(svg.contains(label), "\(label)")
    }
    #expect(results.dataset == .mnist)
  }

  @Test(
    "--dataset fashion-mnist: the same files read as Fashion-MNIST, named so in the report; missing files name its script"
  )
  func fashionMNIST() throws {
    let folder = try fakeMNIST(train: 40, test: 4)
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("pl-fashion-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    defer {
      try? FileManager.default.removeItem(at: folder)
      try? FileManager.default.removeItem(at: output)
    }
    var settings = PseudoLikelihoodReproduction.Settings.quick
    (settings.maxIterations, settings.trainCount, settings.testCount) = (2, 40, 4)
    (settings.baselineMemory, settings.baselineTrainCount, settings.overlapReferences) = (10, 20, 20)
    settings.contrastiveEpochs = 0
    let results = try PseudoLikelihoodReproduction(
      settings: settings, seed: 0, dataset: .fashionMNIST, dataDirectory: folder, command: "test", log: { _ in }
    ).run(into: output)
    #expect(results.dataset == .fashionMNIST)
    let readme = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("on Fashion-MNIST") && readme.contains("The paper reports MNIST only"))
    let svg = try String(contentsOf: output.appendingPathComponent("digits-denoising.svg"), encoding: .utf8)
    #expect(svg.contains("test #0: Trouser"))  // label 1
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("pl-none-\(UUID().uuidString)")
    #expect {
      try PseudoLikelihoodReproduction(
        settings: settings, seed: 0, dataset: .fashionMNIST, dataDirectory: empty, command: "test", log: { _ in }
      ).run(into: empty)
    } throws: { "\($0)".contains("fetch_fashion_mnist.sh") }
  }
}

@Suite("Pseudo-likelihood attractor in comparative studies")
struct PseudoLikelihoodFactoryTests {
  @Test("the standard registry knows it; a study runs it beside the modern network; bad shapes are refused")
  func study() throws {
    #expect(StudyModelRegistry.standard.factory(named: "pseudo-likelihood") != nil)
    let text = """
      {"queries": 16, "steps": [1, 3], "seeds": [0], "models": [{"model": "pseudo-likelihood", "tokens": 4, "epochs": 10},
       {"model": "modern", "beta": 0.125}],
       "datasets": [{"kind": "gaussian", "count": 6, "dimension": 32}],
       "corruptions": [{"kind": "noise", "levels": [0.5]}]}
      """
    let study = try StudySpec.parse(Data(text.utf8))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pl-study-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try #require(try StudyRunner(study: study).run(into: folder).report)
    #expect(report.markdownTable(steps: 3).contains("pseudo-likelihood N4"))
    let factory = try PseudoLikelihoodFactory(
      parameters: StudyParameterValues([
        "tokens": .number(5), "lambda": .number(4), "gamma": .number(0.5), "epochs": .number(2),
        "weightDecay": .number(1),
      ]))
    #expect(!factory.check(dimension: 32, patternCount: 4).isEmpty)
  }
}
