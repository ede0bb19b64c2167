import AttractorCore
import AttractorLinearAlgebra
import Testing
@testable import AttractorModels

@Suite("Classical Hopfield network")
struct ClassicalHopfieldTests {
  @Test("weights are symmetric with a zero diagonal")
  func weights() throws {
    var rng = SeededGenerator(seed: 3)
    let model = try ClassicalHopfield(patterns: rng.signMatrix(rows: 6, columns: 30, as: Double.self))
    #expect(model.weights.maxAbsDifference(model.weights.transposed()) == 0)
    #expect((0..<30).allSatisfy { model.weights[$0, $0] == 0 })
  }

  @Test("energy never increases under asynchronous updates, flip by flip and sweep by sweep (Float and Double)")
  func asynchronousEnergyNonIncreasing() throws {
    try check(Double.self)
    try check(Float.self)
  }

  func check<S: LinearAlgebraScalar>(_: S.Type) throws {
    for seed in UInt64(0)..<20 {
      var rng = SeededGenerator(seed: seed)
      let n = 1 + Int(rng.next(upperBound: UInt64(30)))
      let d = 20 + Int(rng.next(upperBound: UInt64(60)))
      let model = try ClassicalHopfield(patterns: rng.signMatrix(rows: n, columns: d, as: S.self))
      let starts: Matrix<S> = rng.signMatrix(rows: 10, columns: d)
      let result = try AsynchronousDynamics(maxSteps: 100, tolerance: 0, seed: seed).run(model, from: starts)
      #expect(result.allConverged, "seed \(seed): asynchronous dynamics reach a fixed point")
      for trajectory in result.trajectories {
        let e = try #require(trajectory.energies)
        for t in 1..<e.count { #expect(e[t] <= e[t - 1] + S(1e-4), "seed \(seed) sweep \(t)") }
      }
      // Flip by flip, in exact arithmetic on the quadratic form.
      var state = Matrix(rows: 1, columns: d, elements: starts.row(0))
      var workspace = model.makeWorkspace(batchSize: 1)
      var previous = model.energy(state)[0]
      for i in 0..<d {
        model.updateCoordinate((i * 7) % d, of: &state, workspace: &workspace)
        let now = model.energy(state)[0]
        #expect(now <= previous + S(1e-4))
        previous = now
      }
      // Fixed points are fixed under the synchronous update too.
      #expect(model.update(result.finalStates) == result.finalStates)
    }
  }

  @Test("few orthogonal-ish patterns are retrieved from 20 % flipped bits")
  func retrieval() throws {
    var rng = SeededGenerator(seed: 8)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 3, columns: 200)
    let model = try ClassicalHopfield(patterns: patterns)
    var queries = patterns
    for r in 0..<3 { for j in 0..<200 where rng.nextUniform() < 0.2 { queries[r, j] = -queries[r, j] } }
    for dynamics in [AsynchronousDynamics(maxSteps: 20, seed: 1) as any Dynamics, SynchronousDynamics(maxSteps: 20)] {
      let result = try dynamics.run(model, from: queries)
      #expect(result.finalStates == patterns)
    }
  }

  @Test("gradient and Hessian of the quadratic form agree with finite differences")
  func derivatives() throws {
    var rng = SeededGenerator(seed: 4)
    let model = try ClassicalHopfield(patterns: rng.signMatrix(rows: 4, columns: 9, as: Double.self))
    let state = rng.gaussianMatrix(rows: 1, columns: 9, as: Double.self).elements
    let g = model.gradient(Matrix(rows: 1, columns: 9, elements: state)).elements
    #expect(maxAbs(g, FiniteDifferences.gradient(of: model, at: state, step: 1e-4)) < 1e-8)
    #expect(
      model.hessian(at: state).maxAbsDifference(FiniteDifferences.hessian(of: model, at: state, step: 1e-4)) < 1e-8)
  }

  @Test("non-±1 patterns are refused and binarized() fixes them")
  func refusesNonBinary() throws {
    let real = Matrix<Double>(rowArrays: [[1, -1, 0.5], [-1, 1, 1]])
    #expect(throws: ModelError.notBinary(row: 0, column: 2, value: 0.5)) { try ClassicalHopfield(patterns: real) }
    let model = try ClassicalHopfield(patterns: ClassicalHopfield.binarized(real))
    #expect(model.patterns.row(0) == [1, -1, 1])
  }
}
