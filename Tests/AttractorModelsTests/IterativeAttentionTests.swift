import AttractorCore
import AttractorLinearAlgebra
import Testing
@testable import AttractorModels

@Suite("Iterative attention")
struct IterativeAttentionTests {
  func memory(_ m: Int, _ d: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SeededGenerator(seed: seed)
    return rng.gaussianMatrix(rows: m, columns: d)
  }

  @Test(
    "identity projections, one head, one layer: exactly the modern Hopfield update with β = 1/(τ√d)",
    arguments: [0.5, 1.0, 2.0])
  func equalsModernHopfield(temperature: Double) throws {
    let d = 8
    let keys = memory(20, d, seed: 1)
    let config = IterativeAttentionConfiguration(layers: 1, heads: 1, width: d, temperature: temperature)
    let attention = try IterativeAttention.identity(configuration: config, keys: keys, values: keys)
    let hopfield = try ModernHopfield(patterns: keys, beta: 1 / (temperature * Double(d).squareRoot()))
    var rng = SeededGenerator(seed: 2)
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: 6, columns: d)
    #expect(attention.update(queries).maxAbsDifference(hopfield.update(queries)) < 1e-13)
    #expect(attention.jacobian(at: queries.row(0)).maxAbsDifference(hopfield.jacobian(at: queries.row(0))) < 1e-12)
    // Iterated: the same trajectory under SynchronousDynamics.
    let a = try SynchronousDynamics(maxSteps: 5, tolerance: 0, recordEnergies: false).run(attention, from: queries)
    let b = try SynchronousDynamics(maxSteps: 5, tolerance: 0, recordEnergies: false).run(hopfield, from: queries)
    #expect(a.finalStates.maxAbsDifference(b.finalStates) < 1e-12)
  }

  @Test("the chain-rule Jacobian of a multi-head, multi-layer stack agrees with finite differences")
  func jacobianMatchesFiniteDifferences() throws {
    let d = 8
    let keys = memory(12, d, seed: 3)
    let values = memory(12, d, seed: 4)
    for (layers, heads) in [(1, 2), (2, 2), (3, 4), (2, 1)] {
      var rng = SeededGenerator(seed: UInt64(10 * layers + heads))
      let config = IterativeAttentionConfiguration(layers: layers, heads: heads, width: d, temperature: 0.7)
      let model = try IterativeAttention.random(configuration: config, keys: keys, values: values, generator: &rng)
      let state = rng.gaussianMatrix(rows: 1, columns: d, as: Double.self).elements
      let analytic = model.jacobian(at: state)
      let numeric = FiniteDifferences.jacobian(of: model, at: state, step: 1e-5)
      #expect(analytic.maxAbsDifference(numeric) < 1e-7, "\(layers) layers × \(heads) heads")
    }
  }

  @Test(
    "the batched closed-form Jacobians (Khatri–Rao GEMM path, per-state path, chunks and blocks) agree with finite differences"
  )
  func batchedJacobiansMatchFiniteDifferences() throws {
    let d = 8
    let keys = memory(30, d, seed: 11)
    let values = memory(30, d, seed: 12)
    for (layers, heads) in [(1, 1), (2, 2), (3, 4)] {
      var rng = SeededGenerator(seed: UInt64(100 + 10 * layers + heads))
      let config = IterativeAttentionConfiguration(layers: layers, heads: heads, width: d, temperature: 0.8)
      let model = try IterativeAttention.random(configuration: config, keys: keys, values: values, generator: &rng)
      let states: Matrix<Double> = rng.gaussianMatrix(rows: 7, columns: d)
      let whole = model.jacobians(at: states)
      // A chunk of 4 states (the Khatri–Rao path, in blocks of 3 memory rows), then one of 3 (fewer
      // than four states: the per-state path); `whole` is one chunk of 7 and one Khatri–Rao block.
      let chunked = model.jacobians(
        at: states, bufferLimit: 4 * max(30 * heads, d * d), khatriRaoLimit: 3 * (d / heads) * (d / heads))
      #expect(whole.maxAbsDifference(chunked) < 1e-12, "\(layers) × \(heads)")
      for r in 0..<states.rows {
        let numeric = FiniteDifferences.jacobian(of: model, at: states.row(r), step: 1e-5)
        let block = Matrix(rows: d, columns: d, elements: whole.row(r))
        #expect(block.maxAbsDifference(numeric) < 1e-7, "\(layers) layers × \(heads) heads, state \(r)")
        #expect(model.jacobian(at: states.row(r)).maxAbsDifference(block) < 1e-12)
      }
    }
    // Float: the same formulas, to Float accuracy.
    var rng = SeededGenerator(seed: 5)
    let config = IterativeAttentionConfiguration(layers: 2, heads: 2, width: d, temperature: 1)
    let wide = try IterativeAttention.random(configuration: config, keys: keys, values: values, generator: &rng)
    func narrow(_ m: Matrix<Double>) -> Matrix<Float> {
      Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map(Float.init))
    }
    let model = try IterativeAttention<Float>(
      configuration: config, keys: narrow(keys), values: narrow(values),
      layers: wide.layers.map {
        AttentionLayerParameters(
          query: narrow($0.query), key: narrow($0.key), value: narrow($0.value), output: narrow($0.output))
      })
    let states: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: d)
    let single = model.jacobians(at: narrow(states))
    let double = wide.jacobians(at: states)
    #expect(single.elements.indices.allSatisfy { abs(Double(single.elements[$0]) - double.elements[$0]) < 1e-4 })
  }

  @Test("a stack equals its layers applied one after another")
  func stackComposes() throws {
    let d = 6
    let keys = memory(9, d, seed: 5)
    var rng = SeededGenerator(seed: 6)
    let config = IterativeAttentionConfiguration(layers: 3, heads: 3, width: d, temperature: 1)
    let stack = try IterativeAttention.random(configuration: config, keys: keys, values: keys, generator: &rng)
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: d)
    var x = queries
    for layer in stack.layers {
      let single = try IterativeAttention(
        configuration: IterativeAttentionConfiguration(layers: 1, heads: 3, width: d, temperature: 1),
        keys: keys, values: keys, layers: [layer])
      x = single.update(x)
    }
    #expect(stack.update(queries).maxAbsDifference(x) < 1e-12)
    // Reusing one workspace over many steps and batch sizes gives the same result.
    var workspace = stack.makeWorkspace(batchSize: 4)
    var next = Matrix<Double>(rows: 4, columns: d)
    stack.update(queries, into: &next, workspace: &workspace)
    stack.update(queries, into: &next, workspace: &workspace)
    #expect(next.maxAbsDifference(x) < 1e-12)
    var one = Matrix<Double>(rows: 1, columns: d)
    stack.update(queries.rows(at: [2]), into: &one, workspace: &workspace)
    #expect(one.maxAbsDifference(x.rows(at: [2])) < 1e-12)
  }

  @Test("separate query and key projections make the Jacobian non-symmetric, with complex eigenvalues")
  func nonSymmetricJacobian() throws {
    let d = 6
    let keys = memory(10, d, seed: 7)
    var found = false
    for seed in UInt64(0)..<20 where !found {
      var rng = SeededGenerator(seed: seed)
      let config = IterativeAttentionConfiguration(layers: 1, heads: 2, width: d, temperature: 0.5)
      let model = try IterativeAttention.random(configuration: config, keys: keys, values: keys, generator: &rng)
      let j = model.jacobian(at: rng.gaussianMatrix(rows: 1, columns: d, as: Double.self).elements)
      #expect(j.maxAbsDifference(j.transposed()) > 1e-6)
      let eig = try j.generalEigendecomposition()
      found = eig.eigenvalues.contains { abs($0.imaginary) > 1e-8 }
    }
    #expect(found)
  }

  @Test("the diagnostic energy is −log Σ exp(q·kᵢ/√d)")
  func diagnosticEnergy() throws {
    let d = 4
    let keys = memory(5, d, seed: 8)
    let model = try IterativeAttention.identity(
      configuration: IterativeAttentionConfiguration(layers: 2, heads: 2, width: d), keys: keys, values: keys)
    let q: [Double] = [0.3, -1, 0.2, 2]
    var workspace = model.makeWorkspace(batchSize: 1)
    var e = [0.0]
    model.diagnosticEnergy(Matrix(rows: 1, columns: d, elements: q), into: &e, workspace: &workspace)
    let direct = -Double.log((0..<5).reduce(0) { $0 + Double.exp(dot(q, keys.row($1)) / 2) })
    #expect(abs(e[0] - direct) < 1e-12)
  }

  @Test("invalid configurations and shapes are refused")
  func invalid() {
    let keys = memory(3, 4, seed: 9)
    #expect(
      throws: ModelError.invalidParameter(name: "width", value: "4", requirement: "a positive multiple of heads (3)")
    ) {
      try IterativeAttention.identity(configuration: .init(layers: 1, heads: 3, width: 4), keys: keys, values: keys)
    }
    #expect(throws: ModelError.invalidParameter(name: "temperature", value: "0.0", requirement: "finite and positive"))
    {
      try IterativeAttention.identity(
        configuration: .init(layers: 1, heads: 1, width: 4, temperature: 0), keys: keys, values: keys)
    }
    #expect(throws: ModelError.invalidParameter(name: "layers", value: "0", requirement: "at least 1")) {
      try IterativeAttention.identity(configuration: .init(layers: 0, heads: 1, width: 4), keys: keys, values: keys)
    }
    #expect(throws: ModelError.self) {
      try IterativeAttention.identity(
        configuration: .init(layers: 1, heads: 1, width: 4), keys: keys, values: memory(2, 4, seed: 1))
    }
  }
}

@Suite("Iterative attention training")
struct IterativeAttentionTrainingTests {
  @Test("loss gradients agree with central finite differences for every parameter of every layer")
  func gradientsMatchFiniteDifferences() throws {
    let d = 6
    var rng = SeededGenerator(seed: 31)
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 7, columns: d)
    let values: Matrix<Double> = rng.gaussianMatrix(rows: 7, columns: d)
    let config = IterativeAttentionConfiguration(layers: 2, heads: 2, width: d, temperature: 0.8)
    let model = try IterativeAttention.random(configuration: config, keys: keys, values: values, generator: &rng)
    let queries: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: d)
    let targets: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: d)
    let (_, gradients) = model.lossAndGradients(queries: queries, targets: targets)
    let h = 1e-6
    for l in 0..<2 {
      for which in 0..<4 {
        for (i, j) in [(0, 0), (1, 4), (5, 2), (3, 3)] {
          func loss(_ delta: Double) throws -> Double {
            var layers = model.layers
            switch which {
            case 0: layers[l].query[i, j] += delta
            case 1: layers[l].key[i, j] += delta
            case 2: layers[l].value[i, j] += delta
            default: layers[l].output[i, j] += delta
            }
            return try model.replacingLayers(layers).lossAndGradients(queries: queries, targets: targets).loss
          }
          let numeric = (try loss(h) - loss(-h)) / (2 * h)
          let analytic = gradients[l].all[which][i, j]
          #expect(abs(analytic - numeric) < 1e-7 * max(1, abs(numeric)), "layer \(l) parameter \(which) (\(i), \(j))")
        }
      }
    }
  }

  @Test("AdamW on a quadratic moves every coordinate towards the minimum; weight decay shrinks it")
  func adamW() {
    var parameters = [Matrix<Double>(rowArrays: [[3, -2]])]
    var optimizer = AdamW<Double>(learningRate: 0.1, weightDecay: 0)
    for _ in 0..<300 { optimizer.update(&parameters, gradients: [parameters[0]]) }  // ∇(½‖θ‖²) = θ
    #expect(parameters[0].elements.allSatisfy { abs($0) < 0.05 })
    var decayed = [Matrix<Double>(rowArrays: [[1]])]
    var decay = AdamW<Double>(learningRate: 0.1, weightDecay: 0.5)
    decay.update(&decayed, gradients: [Matrix(rowArrays: [[0]])])
    #expect(abs(decayed[0][0, 0] - (1 - 0.1 * 0.5)) < 1e-12)
  }
}

@Suite("Iterative attention trainer")
struct IterativeAttentionTrainerTests {
  /// Noisy copies of stored keys mapped to the clean keys.
  func task(seed: UInt64, count: Int, keys: Matrix<Double>, sigma: Double) -> (
    queries: Matrix<Double>, targets: Matrix<Double>
  ) {
    var rng = SeededGenerator(seed: seed)
    let targets = keys.rows(at: (0..<count).map { _ in Int(rng.next(upperBound: UInt64(keys.rows))) })
    let noise: Matrix<Double> = rng.gaussianMatrix(rows: count, columns: keys.columns, standardDeviation: sigma)
    return (targets + noise, targets)
  }

  @Test("training lowers the validation loss on a small denoising task, and a fixed seed reproduces it exactly")
  func trainingHelps() throws {
    let d = 8
    var rng = SeededGenerator(seed: 40)
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 16, columns: d)
    let config = IterativeAttentionConfiguration(layers: 1, heads: 2, width: d)
    let start = try IterativeAttention.random(configuration: config, keys: keys, values: keys, generator: &rng)
    let training = task(seed: 1, count: 128, keys: keys, sigma: 0.3)
    let validation = task(seed: 2, count: 64, keys: keys, sigma: 0.3)
    let trainer = IterativeAttentionTrainer(epochs: 12, batchSize: 32, patience: 5, learningRate: 0.01, seed: 7)
    let (trained, history) = try trainer.train(start, training: training, validation: validation)
    #expect(history.bestEpoch >= 1)
    let best = history.validationLoss[history.bestEpoch - 1]
    #expect(best < 0.5 * history.initialValidationLoss, "validation loss \(history.initialValidationLoss) → \(best)")
    #expect(abs(trained.lossAndGradients(queries: validation.queries, targets: validation.targets).loss - best) < 1e-12)
    let again = try trainer.train(start, training: training, validation: validation)
    #expect(again.history == history)
    #expect(again.model.layers == trained.layers)
  }

  @Test("bad settings and shapes are refused")
  func invalid() throws {
    var rng = SeededGenerator(seed: 1)
    let keys: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 4)
    let model = try IterativeAttention.identity(
      configuration: .init(layers: 1, heads: 1, width: 4), keys: keys, values: keys)
    let pair = (keys, keys)
    #expect(throws: ModelError.self) {
      try IterativeAttentionTrainer(batchSize: 0).train(model, training: pair, validation: pair)
    }
    #expect(throws: ModelError.self) {
      try IterativeAttentionTrainer(learningRate: -1).train(model, training: pair, validation: pair)
    }
    #expect(throws: ModelError.self) {
      try IterativeAttentionTrainer().train(model, training: (keys, Matrix(rows: 3, columns: 4)), validation: pair)
    }
  }
}
