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

  @Test("identity projections, one head, one layer: exactly the modern Hopfield update with β = 1/(τ√d)",
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
    #expect(model.descentEnergy(Matrix(rows: 1, columns: d, elements: q), into: &e, workspace: &workspace))
    let direct = -Double.log((0..<5).reduce(0) { $0 + Double.exp(dot(q, keys.row($1)) / 2) })
    #expect(abs(e[0] - direct) < 1e-12)
  }

  @Test("invalid configurations and shapes are refused")
  func invalid() {
    let keys = memory(3, 4, seed: 9)
    #expect(throws: ModelError.invalidParameter(name: "width", value: "4", requirement: "a positive multiple of heads (3)")) {
      try IterativeAttention.identity(configuration: .init(layers: 1, heads: 3, width: 4), keys: keys, values: keys)
    }
    #expect(throws: ModelError.invalidParameter(name: "temperature", value: "0.0", requirement: "finite and positive")) {
      try IterativeAttention.identity(configuration: .init(layers: 1, heads: 1, width: 4, temperature: 0), keys: keys, values: keys)
    }
    #expect(throws: ModelError.invalidParameter(name: "layers", value: "0", requirement: "at least 1")) {
      try IterativeAttention.identity(configuration: .init(layers: 0, heads: 1, width: 4), keys: keys, values: keys)
    }
    #expect(throws: ModelError.self) {
      try IterativeAttention.identity(configuration: .init(layers: 1, heads: 1, width: 4), keys: keys, values: memory(2, 4, seed: 1))
    }
  }
}
