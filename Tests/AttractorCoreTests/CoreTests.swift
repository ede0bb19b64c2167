import AttractorLinearAlgebra
import Testing
@testable import AttractorCore

/// E(x) = ½ xᵀ A x − bᵀx with A symmetric positive definite: a closed-form test energy whose
/// minimiser is A⁻¹b and whose gradient is L-Lipschitz with L = λ_max(A).
struct Quadratic: TwiceDifferentiableEnergy {
  let a: Matrix<Double>
  let b: [Double]
  var dimension: Int { b.count }

  func energy(_ states: Matrix<Double>, into energies: inout [Double], workspace: inout Void) {
    let ax = states.multiplied(by: a)
    for r in 0..<states.rows {
      energies[r] = (0..<dimension).reduce(0) { $0 + 0.5 * states[r, $1] * ax[r, $1] - b[$1] * states[r, $1] }
    }
  }

  func gradient(_ states: Matrix<Double>, into gradient: inout Matrix<Double>, workspace: inout Void) {
    Matrix.multiply(states, a, into: &gradient)
    for r in 0..<states.rows { for j in 0..<dimension { gradient[r, j] -= b[j] } }
  }

  func hessian(at state: [Double]) -> Matrix<Double> { a }
}

/// An energy whose gradient overflows, to check that dynamics catch non-finite states.
struct Exploding: EnergyFunction {
  var dimension: Int { 2 }
  func energy(_ states: Matrix<Double>, into energies: inout [Double], workspace: inout Void) {
    for r in 0..<states.rows { energies[r] = -Double.exp(states[r, 0]) }
  }
  func gradient(_ states: Matrix<Double>, into gradient: inout Matrix<Double>, workspace: inout Void) {
    for r in 0..<states.rows {
      gradient[r, 0] = -Double.exp(states[r, 0] * 50)
      gradient[r, 1] = 0
    }
  }
}

func quadratic(seed: UInt64, d: Int) -> Quadratic {
  var rng = SeededGenerator(seed: seed)
  let m: Matrix<Double> = rng.gaussianMatrix(rows: d, columns: d)
  var a = m.multiplied(by: m, transposeSelf: true)
  for i in 0..<d { a[i, i] += 1 }
  return Quadratic(a: a, b: rng.gaussianMatrix(rows: 1, columns: d, as: Double.self).elements)
}

@Suite("Seeded generator")
struct SeededGeneratorTests {
  @Test("same seed, same stream; derived streams differ")
  func repeatable() {
    var a = SeededGenerator(seed: 5)
    var b = SeededGenerator(seed: 5)
    #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    var c = SeededGenerator(seed: 5).derived(1)
    var d = SeededGenerator(seed: 5).derived(2)
    #expect(c.next() != d.next())
  }

  @Test("Gaussian samples have mean 0 and variance 1 within sampling error")
  func gaussianMoments() {
    var rng = SeededGenerator(seed: 1)
    let n = 200_000
    let x = (0..<n).map { _ in rng.nextGaussian() }
    let mean = x.reduce(0, +) / Double(n)
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
    let fourth = x.reduce(0) { $0 + $1 * $1 * $1 * $1 } / Double(n)
    #expect(abs(mean) < 5 / Double(n).squareRoot())
    #expect(abs(variance - 1) < 5 * (2 / Double(n)).squareRoot())
    #expect(abs(fourth - 3) < 0.1)  // Gaussian kurtosis
  }

  @Test("shuffle produces a permutation")
  func shuffleIsPermutation() {
    var rng = SeededGenerator(seed: 2)
    var order = [Int](repeating: 0, count: 50)
    rng.shuffle(&order)
    #expect(order.sorted() == Array(0..<50))
    #expect(order != Array(0..<50))
  }
}

@Suite("Dynamics")
struct DynamicsTests {
  @Test("gradient descent on a user energy: energy never increases with η ≤ 1/L and reaches A⁻¹b")
  func gradientDescentConverges() throws {
    for seed in UInt64(0)..<5 {
      let e = quadratic(seed: seed, d: 6)
      let lipschitz = try e.a.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues.last!
      let rule = GradientDescent(e, stepSize: 1 / lipschitz)
      var rng = SeededGenerator(seed: seed + 9)
      let starts: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 6, standardDeviation: 3)
      let result = try SynchronousDynamics(maxSteps: 20_000, tolerance: 1e-12).run(rule, from: starts)
      #expect(result.allConverged)
      for trajectory in result.trajectories {
        let energies = try #require(trajectory.energies)
        #expect(energies.count == trajectory.stepsTaken + 1)
        for t in 1..<energies.count { #expect(energies[t] <= energies[t - 1] + 1e-12) }
        #expect(trajectory.stepSizes.last! <= 1e-12)
      }
      // At the minimiser the gradient A x − b vanishes.
      let g = e.gradient(result.finalStates)
      #expect(g.elements.allSatisfy { abs($0) < 1e-9 })
    }
  }

  @Test("finite differences recover the closed-form gradient and Hessian")
  func finiteDifferences() {
    let e = quadratic(seed: 3, d: 5)
    let x: [Double] = [0.3, -1, 2, 0.5, 0]
    let g = e.gradient(Matrix(rows: 1, columns: 5, elements: x)).elements
    let numeric = FiniteDifferences.gradient(of: e, at: x, step: 1e-4)
    #expect(zip(g, numeric).allSatisfy { abs($0 - $1) < 1e-7 })
    #expect(FiniteDifferences.hessian(of: e, at: x, step: 1e-4).maxAbsDifference(e.a) < 1e-7)
    let rule = GradientDescent(e, stepSize: 0.1)
    // Jacobian of x − η(Ax − b) is I − ηA.
    #expect(
      FiniteDifferences.jacobian(of: rule, at: x, step: 1e-4).maxAbsDifference(Matrix.identity(5) - 0.1 * e.a) < 1e-7)
  }

  @Test("a converged state is frozen while the others go on; step limit stops the rest")
  func freezingAndStepLimit() throws {
    let e = Quadratic(a: .identity(2), b: [0, 0])
    let rule = GradientDescent(e, stepSize: 0.5)  // halves the state each step
    let starts = Matrix<Double>(rowArrays: [[0, 0], [1, 0], [1e6, 0]])
    let result = try SynchronousDynamics(maxSteps: 10, tolerance: 1e-3).run(rule, from: starts)
    #expect(result.trajectories[0].converged && result.trajectories[0].stepsTaken == 1)
    #expect(result.finalStates.row(0) == [0, 0])
    // Row 1: step sizes 0.5, 0.25, … ≤ 1e-3 after 10 steps (2⁻¹⁰ < 1e-3).
    #expect(result.trajectories[1].converged && result.trajectories[1].stepsTaken == 10)
    #expect(!result.trajectories[2].converged && result.trajectories[2].stepsTaken == 10)
    #expect(abs(result.finalStates[2, 0] - 1e6 / 1024) < 1e-6)
    #expect(result.trajectories[2].stepSizes.first == 5e5)
  }

  @Test("the observer sees every step with the batch's states, energies, step sizes and convergence")
  func observer() throws {
    let e = Quadratic(a: .identity(2), b: [0, 0])
    let rule = GradientDescent(e, stepSize: 0.5)
    let starts = Matrix<Double>(rowArrays: [[0, 0], [1, 0], [1e6, 0]])
    var seen: [(step: Int, first: Double, sizes: [Double], converged: [Bool], energy: Double?)] = []
    let result = try SynchronousDynamics(maxSteps: 10, tolerance: 1e-3).run(rule, from: starts) { observed in
      seen.append((observed.step, observed.states[2, 0], observed.stepSizes, observed.converged, observed.energies?[1]))
    }
    #expect(seen.map(\.step) == Array(0...10))
    #expect(seen[0].first == 1e6 && seen[10].first == 1e6 / 1024)
    #expect(seen[1].sizes == [0, 0.5, 5e5] && seen[1].converged == [true, false, false])
    #expect(seen[2].sizes[0] == 0)  // frozen
    for t in 0...10 { #expect(seen[t].energy == result.trajectories[1].energies![t]) }
  }

  @Test("without freezing, converged states keep being updated and a run ends when all converge together")
  func withoutFreezing() throws {
    let e = Quadratic(a: .identity(1), b: [0])
    let rule = GradientDescent(e, stepSize: 0.5)
    let starts = Matrix<Double>(rowArrays: [[1e-4], [1]])
    let frozen = try SynchronousDynamics(maxSteps: 50, tolerance: 1e-3).run(rule, from: starts)
    let plain = try SynchronousDynamics(maxSteps: 50, tolerance: 1e-3, freezesConvergedStates: false).run(
      rule, from: starts)
    #expect(frozen.trajectories[0].stepsTaken == 1 && frozen.finalStates[0, 0] == 5e-5)
    // Row 1 needs 10 steps (2⁻¹⁰ < 1e-3); row 0 is halved every one of them.
    #expect(plain.trajectories[0].stepsTaken == 10 && plain.trajectories[1].stepsTaken == 10)
    #expect(plain.finalStates[0, 0] == 1e-4 / 1024)
    #expect(plain.allConverged)
  }

  @Test("asynchronous dynamics: seeded, independent of batch composition, records states")
  func asynchronousDeterminism() throws {
    let e = quadratic(seed: 4, d: 5)
    let rule = GradientDescent(e, stepSize: 0.05)
    var rng = SeededGenerator(seed: 1)
    let starts: Matrix<Double> = rng.gaussianMatrix(rows: 3, columns: 5)
    let dynamics = AsynchronousDynamics(maxSteps: 4, tolerance: 0, seed: 11, recordStates: true)
    let all = try dynamics.run(rule, from: starts)
    let again = try dynamics.run(rule, from: starts)
    #expect(all.finalStates == again.finalStates)
    let alone = try dynamics.run(rule, from: starts.rows(at: [0]))
    #expect(alone.finalStates.row(0) == all.finalStates.row(0))
    let states = try #require(all.trajectories[1].states)
    #expect(states.count == 5 && states[0] == starts.row(1) && states[4] == all.finalStates.row(1))
    let other = try AsynchronousDynamics(maxSteps: 4, tolerance: 0, seed: 12).run(rule, from: starts)
    #expect(other.finalStates != all.finalStates)
  }

  @Test("bad input and runaway states throw typed errors")
  func errors() {
    let rule = GradientDescent(Exploding(), stepSize: 1)
    #expect(throws: DynamicsError.nonFiniteState(row: 1, step: 1)) {
      try SynchronousDynamics(maxSteps: 5).run(rule, from: Matrix(rowArrays: [[-100, 0], [20, 0]]))
    }
    #expect(throws: DynamicsError.nonFiniteState(row: 0, step: 1)) {
      try AsynchronousDynamics(maxSteps: 5).run(rule, from: Matrix(rowArrays: [[20, 0]]))
    }
    #expect(throws: DynamicsError.invalidParameter(name: "maxSteps", value: "-1", requirement: "at least 0")) {
      try SynchronousDynamics(maxSteps: -1).run(rule, from: Matrix(rowArrays: [[0, 0]]))
    }
    #expect(
      throws: DynamicsError.invalidParameter(name: "tolerance", value: "nan", requirement: "finite and at least 0")
    ) {
      try AsynchronousDynamics(maxSteps: 1, tolerance: .nan).run(rule, from: Matrix(rowArrays: [[0, 0]]))
    }
    #expect(throws: DynamicsError.dimensionMismatch(expected: 2, actual: 1)) {
      try SynchronousDynamics().run(rule, from: Matrix(rowArrays: [[0]]))
    }
  }
}
