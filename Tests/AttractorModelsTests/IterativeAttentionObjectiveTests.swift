import AttractorCore
import AttractorLinearAlgebra
import Testing
@testable import AttractorModels

@Suite("Iterative attention objectives and blocks")
struct IterativeAttentionObjectiveTests {
  func model(
    _ config: IterativeAttentionConfiguration, memory m: Int = 7, seed: UInt64
  ) throws -> IterativeAttention<Double> {
    var rng = SeededGenerator(seed: seed)
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: m, columns: config.width)
    return try IterativeAttention.random(configuration: config, keys: keys, values: keys, generator: &rng)
  }

  /// The configurations the gradient checks run on: plain, residual, mixture readout, LayerNorm,
  /// feed-forward, and standard pre-LN blocks with either readout.
  static let configurations: [IterativeAttentionConfiguration] = [
    .init(layers: 2, heads: 2, width: 6, temperature: 0.8),
    .init(layers: 2, heads: 2, width: 6, temperature: 0.8, residual: true),
    .init(layers: 2, heads: 3, width: 6, temperature: 0.8, readout: .mixture),
    .init(layers: 3, heads: 2, width: 6, temperature: 1.2, residual: true, readout: .mixture),
    .init(layers: 2, heads: 2, width: 6, layerNorm: true),
    .init(layers: 2, heads: 2, width: 6, feedForwardWidth: 3),
    .init(layers: 2, heads: 2, width: 6, residual: true, layerNorm: true, feedForwardWidth: 5),
    .init(layers: 2, heads: 3, width: 6, residual: true, layerNorm: true, feedForwardWidth: 4, readout: .mixture),
  ]

  /// Central finite differences of `objective`'s loss at sampled entries of every parameter,
  /// against the analytic gradient.
  func checkGradients(
    _ model: IterativeAttention<Double>, objective: IterativeAttentionObjective, seed: UInt64
  ) throws {
    var rng = SeededGenerator(seed: seed)
    let b = 5
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: b, columns: model.dimension)
    let slots = (0..<b).map { _ in Int(rng.next(upperBound: UInt64(model.memorySize))) }
    let targets = model.keys.rows(at: slots)
    let (loss, gradients) = model.lossAndGradients(
      objective: objective, queries: queries, targets: targets, targetIndices: slots)
    let reference = model.loss(objective: objective, queries: queries, targets: targets, targetIndices: slots)
    #expect(abs(Double(loss) - reference) < 1e-12 * max(1, abs(reference)), "\(objective.name): loss")
    let all = gradients.all
    let parameters = model.parameters
    let h = 1e-6
    for (k, p) in parameters.enumerated() {
      for _ in 0..<3 {
        let i = Int(rng.next(upperBound: UInt64(p.rows))), j = Int(rng.next(upperBound: UInt64(p.columns)))
        func lossAt(_ delta: Double) throws -> Double {
          var changed = parameters
          changed[k][i, j] += delta
          return try model.replacingParameters(changed).loss(
            objective: objective, queries: queries, targets: targets, targetIndices: slots)
        }
        let numeric = (try lossAt(h) - lossAt(-h)) / (2 * h)
        #expect(
          abs(all[k][i, j] - numeric) < 1e-7 * max(1, abs(numeric)),
          "\(objective.name), \(model.configuration), parameter \(k) (\(i), \(j)): \(all[k][i, j]) vs \(numeric)")
      }
    }
  }

  @Test("every objective's gradient agrees with central finite differences, on every block option")
  func gradientsMatchFiniteDifferences() throws {
    for (n, config) in Self.configurations.enumerated() {
      let m = try model(config, seed: UInt64(50 + n))
      try checkGradients(m, objective: .regression, seed: UInt64(60 + n))
      try checkGradients(m, objective: .unrolledRegression(steps: 3), seed: UInt64(70 + n))
      if config.readout == .mixture { try checkGradients(m, objective: .retrieval, seed: UInt64(80 + n)) }
    }
  }

  @Test("on the plain stack the general pass equals the first test's fast path (loss, gradients, update)")
  func generalPassEqualsFastPath() throws {
    let m = try model(.init(layers: 2, heads: 2, width: 6), seed: 3)
    var rng = SeededGenerator(seed: 4)
    let q: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 6)
    let t: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 6)
    let fast = m.lossAndGradients(queries: q, targets: t)
    let general = m.lossAndGradients(objective: .regression, queries: q, targets: t, targetIndices: [])
    #expect(abs(fast.loss - general.loss) < 1e-13)
    for (a, b) in zip(fast.gradients.flatMap(\.all), general.gradients.all) { #expect(a.maxAbsDifference(b) < 1e-12) }
    // The general forward pass (a residual stack with the residual removed by hand) matches too.
    var ws = m.makeWorkspace(batchSize: 4)
    var general1 = Matrix<Double>(rows: 4, columns: 6)
    m.generalUpdate(q, into: &general1, workspace: &ws)
    #expect(general1.maxAbsDifference(m.update(q)) < 1e-13)
  }

  @Test(
    "the mixture readout with one head and identity projections is the modern Hopfield update; outputs are convex mixtures"
  )
  func mixtureReadout() throws {
    var rng = SeededGenerator(seed: 9)
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 10, columns: 8)
    let config = IterativeAttentionConfiguration(layers: 1, heads: 1, width: 8, readout: .mixture)
    let attention = try IterativeAttention.identity(configuration: config, keys: keys, values: keys)
    let hopfield = try ModernHopfield(patterns: keys, beta: 1 / Double(8).squareRoot())
    let q: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 8)
    #expect(attention.update(q).maxAbsDifference(hopfield.update(q)) < 1e-13)
    // Two layers, four heads, random projections: with values = the identity rows, the output
    // row is p̄ itself — non-negative and summing to one.
    let identityValues = Matrix<Double>.identity(8)
    let deep = try IterativeAttention.random(
      configuration: .init(layers: 2, heads: 4, width: 8, readout: .mixture), keys: identityValues,
      values: identityValues, generator: &rng)
    let out = deep.update(q)
    for r in 0..<out.rows {
      let row = out.row(r)
      #expect(row.allSatisfy { $0 >= 0 })
      #expect(abs(row.reduce(0, +) - 1) < 1e-12)
    }
    #expect(deep.parameterIsUsed == [true, true, true, true, true, true, false, false])
  }

  @Test("the finite-difference Jacobian agrees with the closed form on plain stacks and is used for the others")
  func finiteDifferenceJacobian() throws {
    let plain = try model(.init(layers: 2, heads: 2, width: 6, temperature: 0.9), memory: 9, seed: 12)
    var rng = SeededGenerator(seed: 13)
    let states: Matrix<Double> = rng.gaussianMatrix(rows: 3, columns: 6)
    #expect(plain.finiteDifferenceJacobians(at: states).maxAbsDifference(plain.jacobians(at: states)) < 1e-8)
    let residual = try model(.init(layers: 2, heads: 2, width: 6, residual: true), memory: 9, seed: 12)
    // x + Attn(x) in one layer pair: with the residual the Jacobian is not that of the plain stack.
    let j = residual.jacobians(at: states)
    #expect(j.maxAbsDifference(residual.finiteDifferenceJacobians(at: states)) == 0)
    #expect(j.maxAbsDifference(plain.jacobians(at: states)) > 0.1)
  }

  @Test("objective names round-trip; retrieval needs the mixture readout")
  func objectiveNames() throws {
    for o in [IterativeAttentionObjective.regression, .retrieval, .unrolledRegression(steps: 3)] {
      #expect(IterativeAttentionObjective(name: o.name) == o)
    }
    #expect(IterativeAttentionObjective(name: "unrolled-0") == nil)
    #expect(IterativeAttentionObjective(name: "bogus") == nil)
    let plain = try model(.init(layers: 1, heads: 1, width: 4), seed: 1)
    let pair = IterativeAttentionExamples(queries: plain.keys, targets: plain.keys, targetIndices: Array(0..<7))
    #expect(throws: ModelError.self) {
      try IterativeAttentionTrainer(objective: .retrieval).train(plain, examples: { _ in pair }, validation: pair)
    }
  }

  @Test("retrieval training raises the target's attention weight on a small task, reproducibly")
  func retrievalTrainingHelps() throws {
    var rng = SeededGenerator(seed: 21)
    let d = 8
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 12, columns: d, standardDeviation: 0.5)
    let config = IterativeAttentionConfiguration(layers: 1, heads: 2, width: d, readout: .mixture)
    let start = try IterativeAttention.identity(configuration: config, keys: keys, values: keys)
    func examples(_ seed: UInt64, _ n: Int) -> IterativeAttentionExamples<Double> {
      var g = SeededGenerator(seed: seed)
      let slots = (0..<n).map { _ in Int(g.next(upperBound: UInt64(12))) }
      let t = keys.rows(at: slots)
      return IterativeAttentionExamples(
        queries: t + g.gaussianMatrix(rows: n, columns: d, standardDeviation: 0.3), targets: t, targetIndices: slots)
    }
    let trainer = IterativeAttentionTrainer(
      epochs: 15, batchSize: 32, patience: 5, learningRate: 0.02, seed: 3, objective: .retrieval)
    let validation = examples(2, 64)
    let (trained, history) = try trainer.train(
      start, examples: { examples(100 + UInt64($0), 128) }, validation: validation)
    #expect(history.bestEpoch >= 1)
    #expect(history.validationLoss.min()! < 0.7 * history.initialValidationLoss)
    let again = try trainer.train(start, examples: { examples(100 + UInt64($0), 128) }, validation: validation)
    #expect(again.history == history)
    #expect(again.model.parameters == trained.parameters)
    // W_V and W_O of the mixture layer are not used and stay as they were.
    #expect(trained.layers[0].value == start.layers[0].value && trained.layers[0].output == start.layers[0].output)
  }
}
