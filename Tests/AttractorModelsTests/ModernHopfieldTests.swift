import AttractorCore
import AttractorLinearAlgebra
import Testing
@testable import AttractorModels

@Suite("Modern Hopfield network")
struct ModernHopfieldTests {
  static let betas: [Double] = [0.01, 0.1, 1, 3, 10, 30, 100]

  @Test("energy never increases under the update (many seeds, β from 0.01 to 100, Double)", arguments: betas)
  func energyNonIncreasingDouble(beta: Double) throws {
    try energyNeverIncreases(Double.self, beta: beta, relativeSlack: 1e-12)
  }

  @Test("energy never increases under the update (many seeds, β from 0.01 to 100, Float)", arguments: betas)
  func energyNonIncreasingFloat(beta: Double) throws {
    try energyNeverIncreases(Float.self, beta: beta, relativeSlack: 2e-5)
  }

  func energyNeverIncreases<S: LinearAlgebraScalar>(_: S.Type, beta: Double, relativeSlack: S) throws {
    for seed in UInt64(0)..<12 {
      var rng = SeededGenerator(seed: seed &* 7919 &+ UInt64(beta * 1000))
      let n = 2 + Int(rng.next(upperBound: UInt64(40)))
      let d = 1 + Int(rng.next(upperBound: UInt64(24)))
      let scale = [0.3, 1, 3][Int(seed % 3)]
      let patterns: Matrix<S> = rng.gaussianMatrix(
        rows: n, columns: d, standardDeviation: scale / Double(d).squareRoot())
      let queries: Matrix<S> = rng.gaussianMatrix(
        rows: 16, columns: d, standardDeviation: 2 * scale / Double(d).squareRoot())
      let model = try ModernHopfield(patterns: patterns, beta: S(beta))
      let result = try SynchronousDynamics(maxSteps: 20, tolerance: 0).run(model, from: queries)
      let bound = 2 * model.maxPatternNorm * model.maxPatternNorm
      for (r, trajectory) in result.trajectories.enumerated() {
        let energies = try #require(trajectory.energies)
        for t in 1..<energies.count {
          let slack = relativeSlack * max(1, abs(energies[t - 1]))
          #expect(energies[t] <= energies[t - 1] + slack, "seed \(seed) β \(beta) N \(n) d \(d) row \(r) step \(t)")
          // After one update the state is in the convex hull of the patterns: 0 ≤ E ≤ 2M².
          #expect(energies[t] >= -slack && energies[t] <= bound + slack, "bounds, seed \(seed) row \(r) step \(t)")
        }
      }
    }
  }

  @Test("asynchronous (coordinate-wise) updates never increase the energy either")
  func asynchronousEnergyNonIncreasing() throws {
    for seed in UInt64(0)..<6 {
      let patterns: Matrix<Double> = gaussianPatterns(20, 12, seed: seed)
      var rng = SeededGenerator(seed: seed + 100)
      let queries: Matrix<Double> = rng.gaussianMatrix(rows: 8, columns: 12, standardDeviation: 0.5)
      let model = try ModernHopfield(patterns: patterns, beta: [0.5, 5, 50][Int(seed % 3)])
      let result = try AsynchronousDynamics(maxSteps: 30, tolerance: 1e-10, seed: seed).run(model, from: queries)
      for trajectory in result.trajectories {
        let e = try #require(trajectory.energies)
        for t in 1..<e.count { #expect(e[t] <= e[t - 1] + 1e-12 * max(1, abs(e[t - 1]))) }
      }
      // The coordinate-wise fast path agrees with the generic fallback (full update per coordinate).
      let fallback = try AsynchronousDynamics(maxSteps: 30, tolerance: 1e-10, seed: seed)
        .run(WithoutCoordinateForm(model: model), from: queries)
      #expect(fallback.finalStates.maxAbsDifference(result.finalStates) < 1e-9)
    }
  }

  @Test("gradient, Jacobian and Hessian agree with finite differences; H = I − J; J symmetric")
  func derivativesMatchFiniteDifferences() throws {
    for (seed, beta) in zip(UInt64(0)..<5, [0.2, 1.0, 4.0, 10.0, 25.0]) {
      let patterns: Matrix<Double> = gaussianPatterns(15, 7, seed: seed)
      let model = try ModernHopfield(patterns: patterns, beta: beta)
      var rng = SeededGenerator(seed: seed + 50)
      let state = rng.gaussianMatrix(rows: 1, columns: 7, standardDeviation: 0.4, as: Double.self).elements

      let analyticGradient = model.gradient(Matrix(rows: 1, columns: 7, elements: state)).elements
      let numericGradient = FiniteDifferences.gradient(of: model, at: state, step: 1e-5)
      #expect(maxAbs(analyticGradient, numericGradient) < 1e-7, "gradient, β \(beta)")

      let j = model.jacobian(at: state)
      #expect(
        j.maxAbsDifference(FiniteDifferences.jacobian(of: model, at: state, step: 1e-5)) < 1e-6, "Jacobian, β \(beta)")
      #expect(j.maxAbsDifference(j.transposed()) < 1e-12)

      let h = model.hessian(at: state)
      #expect(
        h.maxAbsDifference(FiniteDifferences.hessian(of: model, at: state, step: 1e-5)) < 1e-6, "Hessian, β \(beta)")
      #expect(h.maxAbsDifference(Matrix.identity(7) - j) == 0)
      // ‖J‖₂ ≤ β M² and J is positive semi-definite.
      let eigenvalues = try j.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues
      #expect(eigenvalues.first! > -1e-12)
      #expect(eigenvalues.last! <= beta * model.maxPatternNorm * model.maxPatternNorm + 1e-12)
    }
  }

  @Test("Float derivatives agree with finite differences at Float tolerance")
  func floatDerivatives() throws {
    let patterns: Matrix<Float> = gaussianPatterns(10, 6, seed: 9)
    let model = try ModernHopfield(patterns: patterns, beta: 2)
    let state: [Float] = [0.1, -0.2, 0.3, 0.05, -0.1, 0.2]
    let analytic = model.gradient(Matrix(rows: 1, columns: 6, elements: state)).elements
    #expect(maxAbs(analytic, FiniteDifferences.gradient(of: model, at: state, step: 1e-2)) < 2e-3)
    #expect(
      model.jacobian(at: state).maxAbsDifference(FiniteDifferences.jacobian(of: model, at: state, step: 1e-2)) < 2e-3)
  }

  @Test("β·M² < 1: every start converges to one and the same fixed point (Lemma A3)")
  func lemmaA3SingleFixedPoint() throws {
    for seed in UInt64(0)..<5 {
      let patterns: Matrix<Double> = gaussianPatterns(25, 10, seed: seed)
      let m = patterns.rowNorms().max()!
      let beta = 0.9 / (m * m)
      let model = try ModernHopfield(patterns: patterns, beta: beta)
      var rng = SeededGenerator(seed: seed + 1000)
      var starts: Matrix<Double> = rng.gaussianMatrix(rows: 40, columns: 10, standardDeviation: 5)
      for r in 0..<10 { starts.copyRow(r, of: patterns, to: r) }  // patterns themselves as starts too
      let result = try SynchronousDynamics(maxSteps: 2000, tolerance: 1e-12).run(model, from: starts)
      #expect(result.allConverged)
      for r in 1..<starts.rows {
        #expect(result.finalStates.rowDistance(r, to: result.finalStates, row: 0) < 1e-9, "seed \(seed) start \(r)")
      }
      // The fixed point is stable: spectral radius of J below 1.
      let j = model.jacobian(at: result.finalStates.row(0))
      let rho = try j.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues.map(abs).max()!
      #expect(rho < 1)
    }
  }

  @Test("well-separated patterns, large β: one step lands within the paper's error bound (Theorem 5)")
  func oneStepRetrievalBound() throws {
    let n = 20
    let d = 64
    var rng = SeededGenerator(seed: 42)
    var checkedNonTrivial = 0
    for beta in [8.0, 16.0, 32.0] {
      let patterns: Matrix<Double> = rng.gaussianMatrix(
        rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
      let model = try ModernHopfield(patterns: patterns, beta: beta)
      let bigM = model.maxPatternNorm
      for i in 0..<n {
        let xi = patterns.row(i)
        var separation = Double.infinity
        for j in 0..<n where j != i { separation = min(separation, dot(xi, xi) - dot(xi, patterns.row(j))) }
        // Fixed point near pattern i.
        let fixedPoint = try SynchronousDynamics(maxSteps: 500, tolerance: 1e-14, recordEnergies: false)
          .run(model, from: Matrix(rows: 1, columns: d, elements: xi)).finalStates.row(0)
        let fixedPointDistance = zip(fixedPoint, xi).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let noise = rng.gaussianMatrix(
          rows: 1, columns: d, standardDeviation: 0.02 / Double(d).squareRoot(), as: Double.self
        ).elements
        let query = zip(xi, noise).map { $0 + $1 }
        let queryDistance = zip(query, xi).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let out = model.update(at: query)
        let error = zip(out, xi).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let bound =
          2 * Double(n - 1) * bigM
          * Double.exp(-beta * (separation - 2 * max(queryDistance, fixedPointDistance) * bigM))
        #expect(error <= bound, "β \(beta) pattern \(i): error \(error) > bound \(bound)")
        if bound < 0.1 * bigM { checkedNonTrivial += 1 }
      }
    }
    // The check must have bitten: for most patterns the bound is far below the pattern scale.
    #expect(checkedNonTrivial >= 20)
  }

  @Test("as an EnergyDescending rule it records its own energy; separation rows are softmax distributions")
  func protocolWiring() throws {
    let patterns: Matrix<Float> = gaussianPatterns(5, 4, seed: 1)
    let model = try ModernHopfield(patterns: patterns, beta: 3)
    func energiesThroughGenericRule<R: EnergyDescending>(_ rule: R, _ x: Matrix<R.Scalar>) throws -> [R.Scalar]? {
      try SynchronousDynamics(maxSteps: 3).run(rule, from: x).trajectories[0].energies
    }
    // The overload follows the static type: a context that knows only UpdateRule records none.
    func energiesThroughUpdateRule<R: UpdateRule>(_ rule: R, _ x: Matrix<R.Scalar>) throws -> [R.Scalar]? {
      try SynchronousDynamics(maxSteps: 3).run(rule, from: x).trajectories[0].energies
    }
    let e = try #require(try energiesThroughGenericRule(model, patterns))
    #expect(abs(e[0] - model.energy(patterns)[0]) < 1e-6)
    #expect(try energiesThroughUpdateRule(model, patterns) == nil)
    let s = model.separation(patterns)
    for r in 0..<5 { #expect(abs((0..<5).reduce(Float(0)) { $0 + s[r, $1] } - 1) < 1e-5) }
  }

  @Test("invalid construction throws typed errors")
  func invalidConstruction() {
    #expect(throws: ModelError.invalidParameter(name: "beta", value: "-1.0", requirement: "finite and positive")) {
      try ModernHopfield(patterns: Matrix<Double>(rows: 2, columns: 2), beta: -1)
    }
    #expect(throws: ModelError.emptyPatterns(count: 0, dimension: 3)) {
      try ModernHopfield(patterns: Matrix<Double>(rows: 0, columns: 3), beta: 1)
    }
    #expect(throws: ModelError.nonFinitePattern(row: 1, column: 0)) {
      try ModernHopfield(patterns: Matrix<Double>(rowArrays: [[1, 2], [.nan, 0]]), beta: 1)
    }
    let model = try? ModernHopfield(patterns: Matrix<Double>(rowArrays: [[1, 2]]), beta: 1)
    #expect(throws: DynamicsError.dimensionMismatch(expected: 2, actual: 3)) {
      try SynchronousDynamics().run(model!, from: Matrix<Double>(rows: 1, columns: 3))
    }
    #expect(throws: DynamicsError.nonFiniteInitialState(row: 0)) {
      try SynchronousDynamics().run(model!, from: Matrix<Double>(rowArrays: [[.infinity, 0]]))
    }
    // The first offending row is named, by both dynamics.
    let laterRow = Matrix<Double>(rowArrays: [[1, 0], [0, 1], [0, .nan], [.nan, 0]])
    #expect(throws: DynamicsError.nonFiniteInitialState(row: 2)) {
      try SynchronousDynamics().run(model!, from: laterRow)
    }
    #expect(throws: DynamicsError.nonFiniteInitialState(row: 2)) {
      try AsynchronousDynamics().run(model!, from: laterRow)
    }
  }
}

/// The model with its coordinate-wise form hidden, to check the generic asynchronous fallback.
struct WithoutCoordinateForm: UpdateRule {
  let model: ModernHopfield<Double>
  var dimension: Int { model.dimension }
  func makeWorkspace(batchSize: Int) -> ModernHopfield<Double>.Workspace { model.makeWorkspace(batchSize: batchSize) }
  func update(
    _ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout ModernHopfield<Double>.Workspace
  ) {
    model.update(states, into: &next, workspace: &workspace)
  }
}

@Suite("Coordinate-wise forms and energies of the built-in models")
struct CapabilityResolutionTests {
  /// Coordinate i after `updateCoordinate` equals coordinate i of the full update of the same state.
  func checkCoordinates<R: CoordinateUpdatable>(_ rule: R, state: [R.Scalar], tolerance: Double) {
    let d = rule.dimension
    var workspace = rule.makeWorkspace(batchSize: 1)
    var current = Matrix(rows: 1, columns: d, elements: state)
    rule.prepareCoordinateUpdates(of: current, workspace: &workspace)
    for i in [0, d / 2, d - 1] {
      let full = rule.update(current)
      rule.updateCoordinate(i, of: &current, workspace: &workspace)
      #expect(abs(Double(current[0, i] - full[0, i])) <= tolerance, "\(R.self) coordinate \(i)")
    }
  }

  @Test("a coordinate update equals the full update's coordinate (modern, classical, dense)")
  func coordinateEqualsFullUpdate() throws {
    let patterns: Matrix<Double> = gaussianPatterns(6, 8, seed: 5)
    checkCoordinates(
      try ModernHopfield(patterns: patterns, beta: 2), state: patterns.row(1).map { $0 * 0.7 }, tolerance: 1e-12)
    let binary = ClassicalHopfield.binarized(patterns)
    var cue = binary.row(2)
    cue[0] = -cue[0]
    cue[5] = -cue[5]
    checkCoordinates(try ClassicalHopfield(patterns: binary), state: cue, tolerance: 0)
    checkCoordinates(
      try DenseAssociativeMemory(patterns: binary, interaction: Polynomial(degree: 3)), state: cue, tolerance: 0)
  }

  @Test("asynchronous dynamics use the coordinate form: the same states as the full-update fallback")
  func asynchronousUsesCoordinateForm() throws {
    let patterns: Matrix<Double> = gaussianPatterns(6, 8, seed: 6)
    let model = try ModernHopfield(patterns: patterns, beta: 4)
    let dynamics = AsynchronousDynamics(maxSteps: 4, seed: 3)
    let fast = try dynamics.run(model, from: patterns)
    let slow = try dynamics.run(WithoutCoordinateForm(model: model), from: patterns)
    #expect(fast.finalStates.maxAbsDifference(slow.finalStates) < 1e-10)
    #expect(fast.trajectories[0].energies != nil && slow.trajectories[0].energies == nil)
  }

  @Test("iterative attention is not EnergyDescending: no energies, even through any Dynamics")
  func attentionRecordsNoEnergy() throws {
    let keys: Matrix<Double> = gaussianPatterns(5, 4, seed: 9)
    let model = try IterativeAttention.identity(
      configuration: IterativeAttentionConfiguration(layers: 1, heads: 1, width: 4), keys: keys, values: keys)
    for dynamics in [SynchronousDynamics(maxSteps: 3) as any Dynamics, AsynchronousDynamics(maxSteps: 3)] {
      #expect(try dynamics.run(model, from: keys).trajectories.allSatisfy { $0.energies == nil })
    }
    #expect(try SynchronousDynamics(maxSteps: 3).run(model, from: keys).trajectories.allSatisfy { $0.energies == nil })
  }
}
