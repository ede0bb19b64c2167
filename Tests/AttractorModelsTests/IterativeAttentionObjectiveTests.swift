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

  @Test("a pre-LN residual stack shifts with its input: f(x + c·1) = f(x) + c·1, so J·1 = 1 and ρ(J) ≥ 1 everywhere")
  func preLayerNormShiftEquivariance() throws {
    // Every LayerNorm removes the row mean, so adding c to every entry of the residual stream changes
    // no sublayer's input and passes through to the output; the mixture readout (p̄ V) breaks this.
    let config = IterativeAttentionConfiguration(
      layers: 3, heads: 2, width: 6, residual: true, layerNorm: true, feedForwardWidth: 4)
    let stack = try model(config, memory: 9, seed: 21)
    var rng = SeededGenerator(seed: 22)
    let x: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 6)
    let shift = Matrix<Double>(rows: 4, columns: 6, repeating: 0.7)
    var ws = stack.makeWorkspace(batchSize: 4)
    var fx = Matrix<Double>(rows: 4, columns: 6), fShifted = Matrix<Double>(rows: 4, columns: 6)
    stack.update(x, into: &fx, workspace: &ws)
    stack.update(x + shift, into: &fShifted, workspace: &ws)
    #expect(fShifted.maxAbsDifference(fx + shift) < 1e-12)
    let j = stack.finiteDifferenceJacobians(at: x)
    for r in 0..<4 {
      let jr = Matrix<Double>(rows: 6, columns: 6, elements: j.row(r))
      let ones = Matrix<Double>(rows: 6, columns: 1, repeating: 1)
      #expect(jr.multiplied(by: ones).maxAbsDifference(ones) < 1e-6)
      #expect(try jr.generalEigendecomposition().spectralRadius >= 1 - 1e-6)
    }
    var mixture = config
    mixture.readout = .mixture
    let readout = try model(mixture, memory: 9, seed: 21)
    var wm = readout.makeWorkspace(batchSize: 4)
    readout.update(x, into: &fx, workspace: &wm)
    readout.update(x + shift, into: &fShifted, workspace: &wm)
    #expect(fShifted.maxAbsDifference(fx + shift) > 0.1)
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

  @Test(
    "zero residual branches: the block stack starts as the identity, and its gradients still match finite differences")
  func zeroResidualBranches() throws {
    let config = IterativeAttentionConfiguration(
      layers: 2, heads: 2, width: 6, residual: true, layerNorm: true, feedForwardWidth: 5)
    let random = try model(config, seed: 90)
    let blocks = IterativeAttentionBlock<Double>.initial(configuration: config, seed: 4, zeroFeedForwardOutput: true)
    for b in blocks {
      let f = try #require(b.feedForward)
      #expect(f.outputWeights == Matrix(rows: 5, columns: 6) && f.outputBias == Matrix(rows: 1, columns: 6))
      #expect(f.inputWeights != Matrix(rows: 6, columns: 5))
    }
    let layers = random.layers.map {
      AttentionLayerParameters(
        query: $0.query, key: $0.key, value: $0.value, output: Matrix<Double>(rows: 6, columns: 6))
    }
    let start = try IterativeAttention(
      configuration: config, keys: random.keys, values: random.values, layers: layers, blocks: blocks)
    var rng = SeededGenerator(seed: 91)
    let q: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 6)
    var out = Matrix<Double>(rows: 4, columns: 6)
    var workspace = start.makeWorkspace(batchSize: 4)
    start.update(q, into: &out, workspace: &workspace)
    #expect(out == q)
    // Zero W_O and W₂ leave their own gradients non-zero (training leaves the identity start).
    let t = random.keys.rows(at: [0, 1, 2, 3])
    let (_, gradients) = start.lossAndGradients(objective: .regression, queries: q, targets: t, targetIndices: [])
    let all = gradients.all
    let outputIndex = 3  // W_O of layer 0 (order W_Q, W_K, W_V, W_O, then the blocks)
    #expect(all[outputIndex].elements.contains { $0 != 0 })
    try checkGradients(start, objective: .regression, seed: 92)
    try checkGradients(start, objective: .unrolledRegression(steps: 2), seed: 93)
    // The default keeps the random W₂.
    let plain = IterativeAttentionBlock<Double>.initial(configuration: config, seed: 4)
    #expect(plain[0].feedForward!.outputWeights != blocks[0].feedForward!.outputWeights)
    #expect(plain[0].feedForward!.inputWeights == blocks[0].feedForward!.inputWeights)
  }

  @Test("a minimum relative improvement stops training earlier, keeps the best epoch, and is validated")
  func minimumImprovement() throws {
    var rng = SeededGenerator(seed: 31)
    let d = 6
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 10, columns: d, standardDeviation: 0.5)
    let config = IterativeAttentionConfiguration(layers: 1, heads: 1, width: d, readout: .mixture)
    let start = try IterativeAttention.identity(configuration: config, keys: keys, values: keys)
    func examples(_ seed: UInt64, _ n: Int) -> IterativeAttentionExamples<Double> {
      var g = SeededGenerator(seed: seed)
      let slots = (0..<n).map { _ in Int(g.next(upperBound: UInt64(10))) }
      let t = keys.rows(at: slots)
      return IterativeAttentionExamples(
        queries: t + g.gaussianMatrix(rows: n, columns: d, standardDeviation: 0.3), targets: t, targetIndices: slots)
    }
    let validation = examples(2, 64)
    func run(_ delta: Double) throws -> IterativeAttentionTrainer.History {
      let trainer = IterativeAttentionTrainer(
        epochs: 60, batchSize: 32, patience: 3, learningRate: 0.01, seed: 3, objective: .retrieval,
        minimumImprovement: delta)
      return try trainer.train(start, examples: { examples(100 + UInt64($0), 64) }, validation: validation).history
    }
    let any = try run(0), strict = try run(0.05)
    #expect(strict.stoppedEarly)
    #expect(strict.validationLoss.count < any.validationLoss.count)
    // The losses up to the earlier stop are the same run; the kept epoch is the lowest loss seen.
    #expect(Array(any.validationLoss.prefix(strict.validationLoss.count)) == strict.validationLoss)
    let lowest = strict.validationLoss.indices.min { strict.validationLoss[$0] < strict.validationLoss[$1] }!
    #expect(strict.bestEpoch == lowest + 1)
    let bad = IterativeAttentionTrainer(epochs: 3, objective: .retrieval, minimumImprovement: 1)
    #expect(throws: ModelError.self) {
      try bad.train(start, examples: { examples(UInt64($0), 8) }, validation: validation)
    }
  }
}
