import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing
@testable import AttractorModels

/// Random states whose tokens are unit vectors, seeded.
func unitTokenStates<S: LinearAlgebraScalar>(_ b: Int, tokens n: Int, width d: Int, seed: UInt64) -> Matrix<S> {
  var rng = SeededGenerator(seed: seed)
  var x: Matrix<S> = rng.gaussianMatrix(rows: b, columns: n * d)
  PseudoLikelihoodAttractor<S>.normalizeTokens(&x, tokenWidth: d)
  return x
}

func randomModel<S: LinearAlgebraScalar>(
  tokens n: Int, width d: Int, lambda: Double = 1.3, gamma: Double = 0.2, scale: Double = 1.5, seed: UInt64
) throws -> PseudoLikelihoodAttractor<S> {
  var rng = SeededGenerator(seed: seed)
  return try PseudoLikelihoodAttractor<S>.random(
    configuration: PseudoLikelihoodConfiguration(
      tokens: n, tokenWidth: d, inverseTemperature: lambda, selfCoupling: gamma),
    scale: scale, generator: &rng)
}

@Suite("Pseudo-likelihood attractor: update, local energies, derivatives")
struct PseudoLikelihoodModelTests {
  @Test("the field h_i equals −∂e_i/∂x_i (central differences), and the update is normalise((1−γ)h_i + γx_i)")
  func fieldIsMinusLocalGradient() throws {
    let (n, d) = (4, 3)
    let model: PseudoLikelihoodAttractor<Double> = try randomModel(tokens: n, width: d, seed: 7)
    let x: Matrix<Double> = unitTokenStates(3, tokens: n, width: d, seed: 8)
    let h = model.attentionFields(x)
    let next = model.update(x)
    let step = 1e-6
    for r in 0..<x.rows {
      for i in 0..<n {
        for a in 0..<d {
          var plus = x, minus = x
          plus[r, i * d + a] += step
          minus[r, i * d + a] -= step
          let derivative = (model.localEnergies(plus)[r, i] - model.localEnergies(minus)[r, i]) / (2 * step)
          #expect(abs(h[r, i * d + a] + derivative) < 1e-7, "row \(r) token \(i) coordinate \(a)")
        }
        let v = (0..<d).map { 0.8 * h[r, i * d + $0] + 0.2 * x[r, i * d + $0] }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for a in 0..<d { #expect(abs(next[r, i * d + a] - v[a] / norm) < 1e-12) }
      }
    }
  }

  @Test("∂⟨e_i⟩/∂J_ij = −⟨α_{i←j} x_i x_jᵀ⟩ agrees with central differences")
  func couplingGradient() throws {
    let (n, d) = (3, 2)
    let model: PseudoLikelihoodAttractor<Double> = try randomModel(tokens: n, width: d, seed: 11)
    let x: Matrix<Double> = unitTokenStates(4, tokens: n, width: d, seed: 12)
    let g = model.localEnergyCouplingGradient(x)
    let j0 = model.couplings
    let step = 1e-6
    for k in 0..<j0.elements.count {
      let block = k / (d * d)
      if block / n == block % n {
        #expect(g.elements[k] == 0)
        continue
      }
      var plus = j0, minus = j0
      plus[k / d, k % d] += step
      minus[k / d, k % d] -= step
      let mp = try PseudoLikelihoodAttractor(configuration: model.configuration, couplings: plus)
      let mm = try PseudoLikelihoodAttractor(configuration: model.configuration, couplings: minus)
      let fd = (mp.meanCost(x) - mm.meanCost(x)) / (2 * step)
      #expect(abs(g.elements[k] - fd) < 1e-7, "coupling entry \(k)")
    }
  }

  @Test("the pseudo-likelihood F = Σ e_i has the stated full gradient (central differences)")
  func costGradient() throws {
    let (n, d) = (4, 3)
    let model: PseudoLikelihoodAttractor<Double> = try randomModel(tokens: n, width: d, seed: 21)
    let x: Matrix<Double> = unitTokenStates(2, tokens: n, width: d, seed: 22)
    let cost = model.pseudoLikelihood
    let g = cost.gradient(x)
    for r in 0..<x.rows {
      let fd = FiniteDifferences.gradient(of: cost, at: x.row(r), step: 1e-6)
      for k in 0..<fd.count { #expect(abs(g[r, k] - fd[k]) < 1e-6) }
    }
    let e = cost.energy(x)
    let local = model.localEnergies(x)
    for r in 0..<x.rows { #expect(abs(e[r] - (0..<n).reduce(0) { $0 + local[r, $1] }) < 1e-12) }
  }

  @Test("a token's own step never raises its e_i (γ = 0), yet a synchronous step can raise F = Σ e_i")
  func localDescentButNoGlobalEnergy() throws {
    let (n, d) = (5, 3)
    var foundRise = false
    for seed in UInt64(1)...20 {
      let model: PseudoLikelihoodAttractor<Double> = try randomModel(
        tokens: n, width: d, lambda: 2, gamma: 0, scale: 2, seed: seed)
      let x: Matrix<Double> = unitTokenStates(4, tokens: n, width: d, seed: seed + 100)
      let before = model.localEnergies(x)
      let next = model.update(x)
      let after = model.localEnergies(next)
      for r in 0..<x.rows {
        // Each token alone: x_i replaced by its update, the others held.
        var ownStepLowers = true
        for i in 0..<n {
          var y = x.rows(at: [r])
          for a in 0..<d { y[0, i * d + a] = next[r, i * d + a] }
          let ei = model.localEnergies(y)[0, i]
          #expect(ei <= before[r, i] + 1e-12, "own step raised e_\(i)")
          if ei > before[r, i] + 1e-12 { ownStepLowers = false }
        }
        let fBefore = (0..<n).reduce(0) { $0 + before[r, $1] }
        let fAfter = (0..<n).reduce(0) { $0 + after[r, $1] }
        if ownStepLowers && fAfter > fBefore + 1e-9 { foundRise = true }
      }
    }
    #expect(foundRise, "expected at least one synchronous step that raises Σ e_i among 80 random cases")
  }

  @Test("a token update (asynchronous form) equals that token of the synchronous update")
  func tokenUpdateMatchesSynchronous() throws {
    let (n, d) = (5, 4)
    let model: PseudoLikelihoodAttractor<Float> = try randomModel(tokens: n, width: d, seed: 31)
    let x: Matrix<Float> = unitTokenStates(1, tokens: n, width: d, seed: 32)
    let sync = model.update(x)
    var ws = model.makeWorkspace(batchSize: 1)
    for i in 0..<n {
      var y = x
      model.updateToken(i, of: &y, workspace: &ws)
      for k in 0..<(n * d) {
        let expected = k / d == i ? sync.elements[k] : x.elements[k]
        #expect(abs(y.elements[k] - expected) < 1e-5)
      }
    }
  }

  @Test("block-asynchronous dynamics: seeded, reproducible, token by token; refuses rules without blocks")
  func asynchronousDynamics() throws {
    let model: PseudoLikelihoodAttractor<Double> = try randomModel(tokens: 4, width: 3, gamma: 0, seed: 41)
    let x: Matrix<Double> = unitTokenStates(3, tokens: 4, width: 3, seed: 42)
    let dynamics = BlockAsynchronousDynamics(maxSteps: 30, seed: 5, recordStates: true)
    let a = try dynamics.run(model, from: x)
    let b = try dynamics.run(model, from: x)
    #expect(a.finalStates == b.finalStates)
    #expect(a.trajectories[0].states?.count == a.trajectories[0].stepsTaken + 1)
    // Every token stays on the sphere; own-energy descent per token step (γ = 0) gives Σ e_i no guarantee,
    // but the final states are finite unit tokens.
    for r in 0..<3 {
      for i in 0..<4 {
        let norm = (0..<3).reduce(0.0) { $0 + a.finalStates[r, i * 3 + $1] * a.finalStates[r, i * 3 + $1] }
        #expect(abs(norm - 1) < 1e-12)
      }
    }
    let sync = try SynchronousDynamics(maxSteps: 30).run(model, from: x)
    #expect(sync.finalStates.isFinite)
    let hopfield = try ModernHopfield<Double>(patterns: Matrix(rows: 2, columns: 12, repeating: 0.5), beta: 1)
    #expect(throws: DynamicsError.self) { try dynamics.run(hopfield, from: Matrix(rows: 1, columns: 12)) }
  }

  @Test("bad parameters and couplings are refused with a typed error")
  func badInput() throws {
    func config(_ n: Int, _ d: Int, _ l: Double, _ g: Double) -> PseudoLikelihoodConfiguration {
      PseudoLikelihoodConfiguration(tokens: n, tokenWidth: d, inverseTemperature: l, selfCoupling: g)
    }
    for c in [
      config(0, 3, 1, 0), config(1, 3, 1, 0), config(3, 0, 1, 0), config(3, 2, 0, 0), config(3, 2, -1, 0),
      config(3, 2, .nan, 0), config(3, 2, .infinity, 0), config(3, 2, 1, -0.1), config(3, 2, 1, 1.5),
      config(3, 2, 1, .nan),
    ] {
      #expect(throws: ModelError.self) { try PseudoLikelihoodAttractor<Double>.zero(configuration: c) }
    }
    let good = config(3, 2, 1, 0)
    #expect(throws: ModelError.self) {
      try PseudoLikelihoodAttractor<Double>(configuration: good, couplings: Matrix(rows: 17, columns: 2))
    }
    var nan = Matrix<Double>(rows: 18, columns: 2)
    nan[5, 1] = .nan
    #expect(throws: ModelError.self) { try PseudoLikelihoodAttractor<Double>(configuration: good, couplings: nan) }
    var diagonal = Matrix<Double>(rows: 18, columns: 2)
    diagonal[0, 0] = 1  // J_00
    #expect(throws: ModelError.self) { try PseudoLikelihoodAttractor<Double>(configuration: good, couplings: diagonal) }
    let model = try PseudoLikelihoodAttractor<Double>.zero(configuration: good)
    var data: Matrix<Double> = unitTokenStates(2, tokens: 3, width: 2, seed: 1)
    data[1, 3] = .nan
    #expect(throws: ModelError.self) { try PseudoLikelihoodTrainer().train(model, data: data) }
    var notUnit: Matrix<Double> = unitTokenStates(2, tokens: 3, width: 2, seed: 1)
    notUnit[0, 0] *= 2
    #expect(throws: ModelError.self) { try PseudoLikelihoodTrainer().train(model, data: notUnit) }
    #expect(throws: ModelError.self) {
      try PseudoLikelihoodTrainer(weightDecay: 0).train(model, data: unitTokenStates(2, tokens: 3, width: 2, seed: 1))
    }
    #expect(throws: ModelError.self) {
      try PseudoLikelihoodTrainer(rule: .contrastive(steps: 0)).train(
        model, data: unitTokenStates(2, tokens: 3, width: 2, seed: 1))
    }
  }
}

/// Compares with values computed independently by NumPy in Scripts/pseudo_likelihood_reference.py
/// (Reference/pseudo_likelihood_reference.json, marked GENERATED).
@Suite("Pseudo-likelihood attractor: NumPy reference values")
struct PseudoLikelihoodReferenceTests {
  struct Case: Decodable {
    let tokens: Int, width: Int, lambda: Double, gamma: Double, eta: Double, kappa: Double, bound: Double
    let couplings: [[Double]], states: [[Double]], attention: [[Double]], fields: [[Double]], update: [[Double]]
    let local_energies: [[Double]], cost: Double, local_step: [[Double]], contrastive_step: [[Double]]
  }
  struct Document: Decodable {
    let GENERATED: String
    let cases: [Case]
  }

  @Test("attention, fields, update, local energies, one local step and one contrastive step (Double and Float)")
  func reference() throws {
    let url = try #require(
      Bundle.module.url(forResource: "pseudo_likelihood_reference", withExtension: "json", subdirectory: "Reference"))
    let doc = try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
    #expect(doc.GENERATED.contains("pseudo_likelihood_reference.py"))
    #expect(doc.cases.count == 3)
    for c in doc.cases {
      try compare(c, as: Double.self, tolerance: 1e-10)
      try compare(c, as: Float.self, tolerance: 3e-4)
    }
  }

  func compare<S: LinearAlgebraScalar>(_ c: Case, as: S.Type, tolerance: Double) throws {
    func matrix(_ rows: [[Double]]) -> Matrix<S> { Matrix(rowArrays: rows.map { $0.map { S($0) } }) }
    func close(_ a: Matrix<S>, _ b: [[Double]], _ what: String) {
      let flat = b.flatMap { $0 }
      #expect(a.elements.count == flat.count, "\(what)")
      for (x, y) in zip(a.elements, flat) {
        #expect(abs(Double(x) - y) <= tolerance * max(1, abs(y)), "\(what) \(S.self): \(x) vs \(y)")
      }
    }
    let configuration = PseudoLikelihoodConfiguration(
      tokens: c.tokens, tokenWidth: c.width, inverseTemperature: c.lambda, selfCoupling: c.gamma)
    let model = try PseudoLikelihoodAttractor(configuration: configuration, couplings: matrix(c.couplings))
    let x = matrix(c.states)
    close(model.attention(x), c.attention, "attention")
    close(model.attentionFields(x), c.fields, "fields")
    close(model.update(x), c.update, "update")
    close(model.localEnergies(x), c.local_energies, "local energies")
    #expect(abs(model.meanCost(x) - c.cost) <= tolerance * max(1, abs(c.cost)))
    for (rule, expected) in [
      (PseudoLikelihoodLearningRule.local, c.local_step), (.contrastive(steps: 2), c.contrastive_step),
    ] {
      let trainer = PseudoLikelihoodTrainer(
        rule: rule, epochs: 1, batchSize: x.rows, learningRate: c.eta, weightDecay: c.kappa, couplingBound: c.bound)
      let trained = try trainer.train(model, data: x).model
      close(trained.couplings, expected, "\(rule) step")
    }
  }
}
