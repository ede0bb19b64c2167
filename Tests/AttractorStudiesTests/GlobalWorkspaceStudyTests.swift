import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

@testable import AttractorStudies

/// A fake MNIST folder (`train` and `test` images): image r is a bright horizontal bar in row
/// 4 + 2(r mod 10) over seeded noise, labelled r mod 10.
func workspaceFakeImages(train: Int, test: Int, seed: UInt64 = 4) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("gw-images-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  var rng = SeededGenerator(seed: seed)
  func images(_ n: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: n * 784)
    for r in 0..<n {
      for k in 0..<784 { out[r * 784 + k] = UInt8(rng.next() % 40) }
      for c in 4..<24 { out[r * 784 + (4 + 2 * (r % 10)) * 28 + c] = 255 }
    }
    return out
  }
  try IDXFile.writeUnsignedBytes(
    images(train), shape: [train, 28, 28], to: url.appendingPathComponent(MNIST.trainingImages))
  try IDXFile.writeUnsignedBytes(images(test), shape: [test, 28, 28], to: url.appendingPathComponent(MNIST.testImages))
  try IDXFile.writeUnsignedBytes(
    (0..<train).map { UInt8($0 % 10) }, shape: [train], to: url.appendingPathComponent(MNIST.trainingLabels))
  try IDXFile.writeUnsignedBytes(
    (0..<test).map { UInt8($0 % 10) }, shape: [test], to: url.appendingPathComponent(MNIST.testLabels))
  return url
}

/// A model folder written by a quick `train ait` (two training steps of a small AiT, so the
/// priors are still distinct), or of the plain transformer with `workspace` false.
func quickWorkspaceFolder(workspace: Bool = true, seed: UInt64 = 3, beta: Double = 1.5, steps: Int = 2) throws -> URL {
  let images = try workspaceFakeImages(train: 32, test: 16)
  defer { try? FileManager.default.removeItem(at: images) }
  let base = VisionTransformerConfiguration(patchSize: 7, width: 16, depth: 1, heads: 2, hidden: 16)
  let c =
    workspace
    ? AssociativeTransformer.configuration(
      base: base, priorCount: 6, priorWidth: 8, heads: 2, bottleneck: 4, beta: beta, hopfieldSteps: steps)
    : base
  let trainer = VisionTransformerTrainer(epochs: 1, batchSize: 16, learningRate: 3e-3, warmupSteps: 1, seed: seed)
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gw-model-\(UUID().uuidString)")
  _ = try AssociativeTransformerTraining(
    configuration: c, trainer: trainer, modelSeed: seed, trainCount: 32, testCount: 16, mnistDirectory: images,
    command: "test", log: { _ in }
  ).run(into: folder)
  return folder
}

@Suite("global-workspace: the AiT's retrieval with its trained priors in comparative studies")
struct GlobalWorkspaceStudyTests {
  func factory(_ folder: URL, beta: Double = 0, steps: Int = 0) throws -> GlobalWorkspaceFactory {
    try GlobalWorkspaceFactory(
      parameters: StudyParameterValues([
        "folder": .string(folder.path), "beta": .number(beta), "steps": .number(Double(steps)),
      ]))
  }

  @Test(
    "one step of the model is T calls of ModernHopfield.update on U at the trained β, and the layer's own retrieval")
  func recallIsTheLayersRetrieval() throws {
    let folder = try quickWorkspaceFolder(beta: 1.5, steps: 3)
    defer { try? FileManager.default.removeItem(at: folder) }
    let loaded = try VisionTransformerModelFolder.load(from: folder).model
    var layer = try #require(loaded.workspace)
    let f = try factory(folder)
    #expect(f.beta == 1.5 && f.steps == 3 && f.label.hasSuffix("β=1.5 T=3"))
    // U recomputed here from the stored memory and upscaling.
    let g = layer.memory, w = layer.parameters.upscale, bias = layer.parameters.upscaleBias
    let u = Matrix<Double>(rows: g.rows, columns: w.columns) { i, j in
      var s = Double(bias[0, j])
      for k in 0..<g.columns { s += Double(g[i, k]) * Double(w[k, j]) }
      return s
    }
    let priors = f.priors.upscaledDouble
    for i in 0..<u.rows { for j in 0..<u.columns { #expect(abs(priors[i, j] - u[i, j]) < 1e-5) } }
    #expect(f.priors.distinctCount == 6)
    // Double: T calls of the framework's update.
    var rng = SeededGenerator(seed: 11)
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: u.columns, standardDeviation: 1)
    let model = try f.make(patterns: priors, seed: 0)
    let network = try ModernHopfield(patterns: priors, beta: 1.5)
    var expected = queries
    for _ in 0..<3 { expected = network.update(expected) }
    #expect(model.update(queries) == expected)
    #expect(model.separation(queries) == network.separation(queries))
    // Float: the layer's own retrieval Y − X (Y = X + Ξᵀ, the memory left as it is).
    let n = layer.configuration.patchCount
    let tokens: Matrix<Double> = rng.gaussianMatrix(rows: 2 * n, columns: u.columns, standardDeviation: 1)
    let tokensFloat = Matrix<Float>(rows: tokens.rows, columns: tokens.columns) { i, j in Float(tokens[i, j]) }
    var ws = layer.makeWorkspace(batchSize: 2)
    let y = try layer.forward(tokensFloat, updateMemory: false, workspace: &ws)
    let single = try f.makeSingle(patterns: f.priors.upscaled, seed: 0)
    let recalled = single.update(tokensFloat)
    var largest: Float = 0
    for i in 0..<y.rows {
      for j in 0..<y.columns { largest = max(largest, abs((y[i, j] - tokensFloat[i, j]) - recalled[i, j])) }
    }
    #expect(largest < 1e-5, "largest difference \(largest)")
    let floatNetwork = try ModernHopfield(patterns: f.priors.upscaled, beta: Float(1.5))
    var expectedFloat = tokensFloat
    for _ in 0..<3 { expectedFloat = floatNetwork.update(expectedFloat) }
    #expect(recalled == expectedFloat)
    // The energy it reports does not increase over a study step (T CCCP steps).
    var e0 = [Double](repeating: 0, count: 5), e1 = e0
    var mw = model.makeWorkspace(batchSize: 5)
    model.descendedEnergy(queries, into: &e0, workspace: &mw)
    model.descendedEnergy(model.update(queries), into: &e1, workspace: &mw)
    for r in 0..<5 { #expect(e1[r] <= e0[r] + 1e-12) }
  }

  @Test("beta and steps replace the trained β and T; an even and an odd T both end in the result")
  func overrides() throws {
    let folder = try quickWorkspaceFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let priors = try GlobalWorkspacePriors(folder: folder.path)
    #expect(priors.beta == 1.5 && priors.steps == 2)
    var rng = SeededGenerator(seed: 2)
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: priors.upscaled.columns, standardDeviation: 1)
    for (beta, steps) in [(4.0, 1), (0.5, 4), (2.0, 7)] {
      let f = try factory(folder, beta: beta, steps: steps)
      #expect(f.beta == beta && f.steps == steps)
      let model = try f.make(patterns: priors.upscaledDouble, seed: 0)
      let network = try ModernHopfield(patterns: priors.upscaledDouble, beta: beta)
      var expected = queries
      for _ in 0..<steps { expected = network.update(expected) }
      var next = Matrix<Double>(rows: 4, columns: queries.columns)
      var ws = model.makeWorkspace(batchSize: 4)
      model.update(queries, into: &next, workspace: &ws)
      #expect(next == expected)
      model.update(queries, into: &next, workspace: &ws)  // the workspace is reusable
      #expect(next == expected)
    }
    #expect(throws: ModelError.self) {
      _ = try WorkspaceRetrieval(network: ModernHopfield(patterns: priors.upscaledDouble, beta: 1), steps: 0)
    }
  }

  @Test("refused with clear errors: no folder, not a model folder, a plain transformer, other patterns")
  func refusals() throws {
    let missing = FileManager.default.temporaryDirectory.appendingPathComponent("gw-missing-\(UUID().uuidString)")
    #expect {
      _ = try GlobalWorkspacePriors(folder: missing.path)
    } throws: {
      guard case .unreadable(let path, _) = $0 as? GlobalWorkspaceFolderError else { return false }
      return path == missing.path
    }
    // A folder that is not a model folder (a config.json of something else).
    let other = try temporaryFolder("gw-other")
    defer { try? FileManager.default.removeItem(at: other) }
    try Data(#"{"format": "something-else", "formatVersion": 1}"#.utf8).write(
      to: other.appendingPathComponent("config.json"))
    #expect(throws: GlobalWorkspaceFolderError.self) { _ = try GlobalWorkspacePriors(folder: other.path) }
    // A plain vision transformer has no priors.
    let plain = try quickWorkspaceFolder(workspace: false)
    defer { try? FileManager.default.removeItem(at: plain) }
    #expect(throws: GlobalWorkspaceFolderError.noWorkspace(path: plain.path)) {
      _ = try GlobalWorkspacePriors(folder: plain.path)
    }
    // In a study file: every problem with its JSON path.
    let text = """
      {"models": [{"model": "global-workspace", "folder": "\(plain.path)"},
                  {"model": "global-workspace", "folder": "\(missing.path)", "beta": -1},
                  {"model": "global-workspace"}],
       "datasets": [{"kind": "ait-priors", "folder": "\(plain.path)"}, {"kind": "ait-priors"}],
       "corruptions": [{"kind": "noise", "levels": [0.5]}]}
      """
    let error = try #require(throws: StudySpecError.self) { _ = try StudySpec.parse(Data(text.utf8)) }
    let paths = error.issues.map(\.path)
    #expect(paths.contains("$.models[0].folder") && paths.contains("$.models[1].beta"))
    #expect(paths.contains("$.models[2].folder") && paths.contains("$.datasets[0].folder"))
    #expect(paths.contains("$.datasets[1].folder"))
    #expect(error.issues.contains { $0.message.contains("plain vision transformer") })
    // Patterns of another shape are refused when the study is checked, other patterns of the
    // same shape when the cell's model is built.
    let a = try quickWorkspaceFolder(seed: 3)
    let b = try quickWorkspaceFolder(seed: 5)
    defer {
      try? FileManager.default.removeItem(at: a)
      try? FileManager.default.removeItem(at: b)
    }
    let shapes = """
      {"models": [{"model": "global-workspace", "folder": "\(a.path)"}],
       "datasets": [{"kind": "gaussian", "count": 6, "dimension": 8}],
       "corruptions": [{"kind": "noise", "levels": [0.5]}]}
      """
    let shapeError = try #require(throws: StudySpecError.self) { _ = try StudySpec.parse(Data(shapes.utf8)) }
    #expect(shapeError.issues.map(\.path) == ["$.models[0]"])
    #expect(shapeError.issues[0].message.contains("ait-priors"))
    let f = try factory(a)
    let otherPriors = try GlobalWorkspacePriors(folder: b.path)
    #expect(f.check(dimension: 16, patternCount: 6).isEmpty)
    #expect {
      _ = try f.make(patterns: otherPriors.upscaledDouble, seed: 0)
    } throws: {
      guard case .patternsDiffer = $0 as? GlobalWorkspaceFolderError else { return false }
      return true
    }
    #expect(throws: GlobalWorkspaceFolderError.self) { _ = try f.makeSingle(patterns: otherPriors.upscaled, seed: 0) }
  }

  @Test("a small study on a quick AiT's priors runs every model in both precisions")
  func smallStudy() throws {
    let folder = try quickWorkspaceFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for precision in ["float", "double"] {
      let text = """
        {"name": "workspace", "queries": 24, "steps": [1, 3], "seeds": [0, 1], "precision": "\(precision)",
         "models": [{"model": "global-workspace", "folder": "\(folder.path)"},
                    {"model": "modern", "beta": 1.5}, {"model": "classical"}],
         "datasets": [{"kind": "ait-priors", "folder": "\(folder.path)"}],
         "corruptions": [{"kind": "noise", "levels": [0.1]}, {"kind": "overlap", "levels": [0.7]}]}
        """
      let study = try StudySpec.parse(Data(text.utf8))
      let priors = try GlobalWorkspacePriors(folder: folder.path)
      #expect(study.spec.datasets[0].label == priors.datasetLabel)
      #expect(study.spec.datasets[0].label.hasPrefix("\(folder.lastPathComponent): 6 priors (6 distinct), ‖u‖ ≤ "))
      #expect(abs(priors.largestNorm - (priors.upscaledDouble.rowNorms().max() ?? 0)) < 1e-12)
      #expect(study.spec.models[0].label == "workspace \(folder.lastPathComponent) β=1.5 T=2")
      // The stored patterns are U, the same for every seed.
      for seed in study.spec.seeds.indices {
        let inputs = try study.inputs(dataset: 0, seed: seed, corruption: 0, level: 0, patterns: nil)
        #expect(inputs.patterns == priors.upscaledDouble)
      }
      let out = try temporaryFolder("gw-study")
      defer { try? FileManager.default.removeItem(at: out) }
      let outcome = try StudyRunner(study: study, workers: 1).run(into: out)
      let report = try #require(outcome.report)
      #expect(report.cells.count == 3 * 2 * 2)
      for cell in report.cells where cell.model == study.spec.models[0].label {
        #expect(cell.precision?.rawValue == precision)
        #expect(cell.steps.allSatisfy { (0...1).contains($0.accuracy) })
        #expect(cell.steps.allSatisfy { $0.energyReduction.map { $0 >= -1e-4 } ?? false })
      }
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))
    }
  }
}
