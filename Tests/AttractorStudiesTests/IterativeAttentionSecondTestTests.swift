import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
@testable import AttractorStudies
import Foundation
import Testing

/// A second test small enough for the suite: 200 vectors in d = 8, two tiny models, 3 epochs.
private func tinySettings() -> IterativeAttentionSecondTest.Settings {
  var s = IterativeAttentionSecondTest.Settings.quick
  s.syntheticCount = 200
  s.syntheticDimension = 8
  s.syntheticWidth = 8
  s.seeds = [0, 1]
  s.models = [
    .init(name: "Single-Head", layers: 1, heads: 1, width: 8),
    .init(name: "Transformer-Small", layers: 2, heads: 2, width: 8),
  ]
  s.maxEpochs = 3
  s.batchSize = 32
  s.steps = 3
  s.longSteps = 6
  s.noiseLevels = [0.1, 0.3, 2.0]
  s.fixedPointStarts = 10
  s.jacobianStarts = 1
  s.literalModels = ["Single-Head"]
  return s
}

private let sharedRun: Result<IterativeAttentionSecondTest.Results, any Error> = Result {
  try IterativeAttentionSecondTest(settings: tinySettings()).run(mnistDirectory: nil, command: "test")
}

@Suite("Iterative-attention second test (issue 17)")
struct IterativeAttentionSecondTestTests {
  @Test("the calibrated scale gives the target cue accuracy at σ = 0.3, and is found again exactly")
  func calibration() throws {
    var s = tinySettings()
    s.syntheticCount = 400
    s.syntheticDimension = 16
    let test = IterativeAttentionSecondTest(settings: s)
    let c = try test.calibrateScale(seed: 0)
    #expect(abs(c.accuracy - s.calibrationTarget) < 0.01, "accuracy \(c.accuracy) at c = \(c.scale)")
    #expect(c.scale > 0.01 && c.scale < 1)
    #expect(try test.calibrateScale(seed: 0) == c)
    // Larger scales only make the cue easier: the bisection's record is monotone.
    let sorted = c.steps.sorted { $0[0] < $1[0] }
    for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a[1] <= b[1]) }
  }

  @Test("configurations: blocks for the block models, mixture readout exactly for retrieval")
  func configurations() {
    let test = IterativeAttentionSecondTest(settings: .init())
    let small = test.configuration(.small, objective: .retrieval)
    #expect(small.residual && small.layerNorm && small.feedForwardWidth == 256 && small.readout == .mixture)
    let single = test.configuration(.singleHead, objective: .regression)
    #expect(single.isPlain)
    #expect(test.configuration(.medium, objective: .unrolledRegression(steps: 3)).readout == .projection)
  }

  @Test("the block models start as the identity with zero residual branches, and not without them")
  func zeroResidualBranches() throws {
    var s = tinySettings()
    let test = IterativeAttentionSecondTest(settings: s)
    var rng = SeededGenerator(seed: 5)
    let memory: Matrix<Float> = rng.gaussianMatrix(rows: 20, columns: 8, standardDeviation: 0.2)
    let q: Matrix<Float> = rng.gaussianMatrix(rows: 6, columns: 8, standardDeviation: 0.2)
    func oneStep(_ test: IterativeAttentionSecondTest, _ spec: IterativeAttentionStudy.ModelSpec) throws -> Matrix<
      Float
    > {
      var r = SeededGenerator(seed: 6)
      let model = try test.initialModel(
        test.configuration(spec, objective: .regression), memory: memory, scale: 0.2, rng: &r)
      return test.iterate(model, from: q, steps: 1).state
    }
    let small = s.models[1]
    #expect(try oneStep(test, small) == q)
    s.zeroResidualBranches = false
    let moved = try oneStep(IterativeAttentionSecondTest(settings: s), small) - q
    #expect(moved.rowNorms().max()! > 0.01 * q.rowNorms().max()!)
    // Single-Head has no residual connection: the option leaves it alone.
    s.zeroResidualBranches = true
    let a = try oneStep(IterativeAttentionSecondTest(settings: s), s.models[0])
    s.zeroResidualBranches = false
    #expect(try oneStep(IterativeAttentionSecondTest(settings: s), s.models[0]) == a)
    #expect(IterativeAttentionSecondTest.Settings().zeroResidualBranches)
  }

  @Test("the defaults run every configuration in every setting; the minimum improvement is validated")
  func defaults() throws {
    let s = IterativeAttentionSecondTest.Settings()
    #expect(s.unrolledModels == nil && s.literalModels == nil && s.mnistModels == nil)
    #expect(s.models.map(\.name) == ["Single-Head", "Transformer-Small", "Transformer-Medium"])
    var bad = tinySettings()
    bad.minimumImprovement = 1
    #expect(throws: DatasetError.self) {
      try IterativeAttentionSecondTest(settings: bad).run(mnistDirectory: nil, command: "test")
    }
  }

  @Test("runs of single seeds merge into the run of both seeds; a repeated seed or other settings are refused")
  func mergeSeeds() throws {
    let both = try sharedRun.get()
    func run(_ seed: UInt64) throws -> IterativeAttentionSecondTest.Results {
      var s = tinySettings()
      s.seeds = [seed]
      return try IterativeAttentionSecondTest(settings: s).run(mnistDirectory: nil, command: "seed \(seed)")
    }
    let one = try run(1), zero = try run(0)
    let merged = try IterativeAttentionSecondTestReproduction.merge([one, zero])
    func timeless(_ r: IterativeAttentionSecondTest.Results) -> [IterativeAttentionSecondTest.ModelResult] {
      r.results.map {
        var m = $0
        m.seconds = 0
        return m
      }
    }
    #expect(merged.settings == both.settings && merged.calibration == both.calibration)
    #expect(timeless(merged) == timeless(both))
    #expect(merged.command == "seed 1 && seed 0")
    #expect(throws: IterativeAttentionReproductionError.self) {
      try IterativeAttentionSecondTestReproduction.merge([zero, zero])
    }
    var other = one
    other.settings.patience += 1
    #expect(throws: IterativeAttentionReproductionError.self) {
      try IterativeAttentionSecondTestReproduction.merge([zero, other])
    }
  }

  @Test("parts of the grid merge into the whole run: cells unchanged, settings joined; a repeated cell is refused")
  func mergeParts() throws {
    let whole = try sharedRun.get()
    func run(_ objectives: [IterativeAttentionObjective], _ other: [IterativeAttentionObjective]) throws
      -> IterativeAttentionSecondTest.Results
    {
      var s = tinySettings()
      s.objectives = objectives
      s.otherObjectives = other
      return try IterativeAttentionSecondTest(settings: s).run(mnistDirectory: nil, command: "part")
    }
    let retrieval = try run([.retrieval], [.retrieval])
    let rest = try run([.regression, .unrolledRegression(steps: 2)], [.regression])
    let merged = try IterativeAttentionSecondTestReproduction.merge([retrieval, rest])
    func keyed(_ r: IterativeAttentionSecondTest.Results) -> [String: IterativeAttentionSecondTest.ModelResult] {
      Dictionary(
        uniqueKeysWithValues: r.results.map {
          var m = $0
          m.seconds = 0
          return ("\(m.setting)|\(m.objective)|\(m.model)|\(m.seed)", m)
        })
    }
    #expect(merged.results.count == whole.results.count)
    #expect(keyed(merged) == keyed(whole))
    #expect(merged.settings == whole.settings && merged.calibration == whole.calibration)
    // The report's rows come in the whole run's order.
    let report = IterativeAttentionSecondTestReport(results: merged)
    let wholeReport = IterativeAttentionSecondTestReport(results: whole)
    for setting in [IterativeAttentionSecondTest.calibratedName, IterativeAttentionSecondTest.literalName] {
      #expect(report.rows(setting).map { "\($0)" } == wholeReport.rows(setting).map { "\($0)" })
      #expect(
        report.stepTable(setting: setting, sigma: 0.3).rows == wholeReport.stepTable(setting: setting, sigma: 0.3).rows)
    }
    // A cell in two parts, or parts measured differently, cannot be merged.
    #expect(throws: IterativeAttentionReproductionError.self) {
      try IterativeAttentionSecondTestReproduction.merge([whole, retrieval])
    }
    var other = rest
    other.settings.noiseLevels = [0.3]
    #expect(throws: IterativeAttentionReproductionError.self) {
      try IterativeAttentionSecondTestReproduction.merge([retrieval, other])
    }
    var renamed = rest
    renamed.settings.models[1].layers += 1
    #expect(throws: IterativeAttentionReproductionError.self) {
      try IterativeAttentionSecondTestReproduction.merge([retrieval, renamed])
    }
  }

  @Test("the Synthetic settings can be skipped (not together with MNIST); results without the option still decode")
  func skipSynthetic() throws {
    var s = tinySettings()
    s.includesSynthetic = false
    s.includesMNIST = false
    #expect(throws: DatasetError.self) {
      try IterativeAttentionSecondTest(settings: s).run(mnistDirectory: nil, command: "test")
    }
    // results.json written before `includesSynthetic` existed has no such key: it decodes as true.
    let whole = try sharedRun.get()
    var object =
      try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(whole)) as! [String: Any]
    var settings = object["settings"] as! [String: Any]
    settings.removeValue(forKey: "includesSynthetic")
    object["settings"] = settings
    let old = try JSONCoding.decoder().decode(
      IterativeAttentionSecondTest.Results.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(old.settings.includesSynthetic == nil && old.settings.runsSynthetic)
    #expect(try IterativeAttentionSecondTestReproduction.merge([old]).results == whole.results)
  }

  @Test("a tiny run fills every cell: each objective × model × seed, curves to T, long-run accuracy, fixed points")
  func tinyRun() throws {
    let results = try sharedRun.get()
    let s = results.settings
    let calibrated = results.results.filter { $0.setting == IterativeAttentionSecondTest.calibratedName }
    #expect(calibrated.count == s.seeds.count * (1 + s.objectives.count * s.models.count))
    let literal = results.results.filter { $0.setting == IterativeAttentionSecondTest.literalName }
    #expect(literal.count == s.seeds.count * (1 + s.otherObjectives.count * 1))
    #expect(!literal.contains { $0.model == "Transformer-Small" })
    for r in results.results {
      #expect(r.curves.count == s.noiseLevels.count + s.maskLevels.count + s.overlapLevels.count)
      #expect(r.curves.allSatisfy { $0.accuracy.count == s.steps + 1 })
      #expect(r.longAccuracy.count == s.noiseLevels.count)
      #expect((r.history != nil) == (r.objective != "none"))
      if let f = r.fixedPoints {
        #expect(f.starts == 10 && f.spectralRadii.count == 1)
        #expect(f.singlePattern <= f.atTarget && f.singlePattern <= f.converged)
      }
    }
    // At the literal scale the cue is nearly always right at σ = 0.1: T = 0 is the cue itself.
    let cue = literal[0].curves.first { $0.corruption == .gaussianNoise(sigma: 0.1) }!
    #expect(cue.accuracy[0] > 0.95)
  }

  @Test("the report renders every table and figure from the results, and re-renders from results.json")
  func report() throws {
    let results = try sharedRun.get()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ia2-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let report = IterativeAttentionSecondTestReport(results: results)
    try report.write(to: dir)
    let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
    for needle in [
      "retrieval · Transformer-Small", "regression · Single-Head", "unrolled-2 · Single-Head", "σ½", "ρ(J)",
      "under every noise level",
    ] {
      #expect(readme.contains(needle), "\(needle)")
    }
    #expect(
      FileManager.default.fileExists(atPath: dir.appendingPathComponent("basins-synthetic--calibrated-scale.svg").path))
    // One row per objective · model × noise level, each with T = 1, the last step and their difference.
    let noise = report.noiseStepTable(setting: IterativeAttentionSecondTest.calibratedName).rows
    #expect(noise.count == 1 + report.rows(IterativeAttentionSecondTest.calibratedName).count * 3)
    #expect(noise.dropFirst().allSatisfy { $0.count == 7 && $0[3] != "—" })
    let again = try IterativeAttentionSecondTestReproduction.render(
      resultsFile: dir.appendingPathComponent("results.json"), into: dir)
    #expect(again.results == results)
  }
}
