import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

/// Gaussian patterns with N(0, 1/d) entries (norm ≈ 1), as `attractor recall` makes them.
func unitGaussianPatterns<Scalar: LinearAlgebraScalar>(_ n: Int, _ d: Int, seed: UInt64, as: Scalar.Type = Scalar.self)
  -> Matrix<Scalar>
{
  var rng = SeededGenerator(seed: seed)
  return rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
}

/// An update rule with no energy: x ← x / 2.
struct Halving: UpdateRule {
  let dimension: Int
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    states.withUnsafeBufferPointer { x in
      next.withUnsafeMutableBufferPointer { n in for k in n.indices { n[k] = x[k] / 2 } }
    }
  }
}

/// An update rule that overflows after one step: x ← 1e300 · x, then ∞.
struct Exploding: UpdateRule {
  let dimension: Int
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    states.withUnsafeBufferPointer { x in
      next.withUnsafeMutableBufferPointer { n in for k in n.indices { n[k] = 1e300 * 1e300 * x[k] } }
    }
  }
}

/// Halves as a whole, but its coordinate-wise form zeroes the coordinate, so a run shows which
/// form the asynchronous schedule used.
struct ZeroingCoordinates: CoordinateUpdatable {
  typealias Scalar = Double
  typealias Workspace = Void
  let dimension: Int
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    Halving(dimension: dimension).update(states, into: &next, workspace: &workspace)
  }
  func updateCoordinate(_ i: Int, of state: inout Matrix<Double>, workspace: inout Void) {
    state[0, i] = 0
  }
}

/// Runs `rule` knowing only that it is an update rule.
func runPlain<R: UpdateRule>(_ experiment: RecallExperiment, _ rule: R, _ x: Matrix<R.Scalar>) throws -> RecallRun<
  R.Scalar
> {
  try experiment.run(rule, patterns: x, queries: x, targets: nil)
}

@Suite("Recall experiment")
struct RecallExperimentTests {
  @Test("Modern Hopfield, large β, mildly noisy queries: accuracy 1 and the mean energy never increases")
  func modernRetrieves() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(32, 64, seed: 20)
    let network = try ModernHopfield(patterns: patterns, beta: 32)
    var rng = SeededGenerator(seed: 21)
    let targets = Corruption.randomTargets(count: 100, patternCount: 32, using: &rng)
    let made = try Corruption.gaussianNoise(sigma: 0.05).queries(from: patterns, targets: targets, using: &rng)
    let run = try RecallExperiment(steps: 5, tolerance: 1e-9).run(
      network, patterns: network.patterns, queries: made.queries, targets: made.targets)
    let result = run.result
    #expect(result.steps.count == 6)
    #expect(result.steps.map(\.step) == Array(0...5))
    #expect(result.finalAccuracy == 1)
    #expect(result.steps[0].meanStepSize == nil)
    #expect(result.steps.allSatisfy { $0.meanEnergy != nil })
    #expect(result.meanEnergyIsNonIncreasing(slack: 1e-12))
    let e = result.steps.compactMap(\.meanEnergy)
    #expect(e[1] < e[0])
    #expect(result.finalNearestPatterns.compactMap { $0 } == targets)
    #expect(run.finalStates.rows == 100 && run.finalStates.columns == 64)
    // Converged fraction is cumulative, so non-decreasing.
    let c = result.steps.map(\.convergedFraction)
    #expect(zip(c, c.dropFirst()).allSatisfy { $0 <= $1 })
    #expect(result.convergedFraction == 1)
    #expect(result.stepsToConvergeSummary != nil)
  }

  @Test("Final states agree with SynchronousDynamics (converged states frozen)")
  func agreesWithSynchronousDynamics() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(10, 16, seed: 22)
    let network = try ModernHopfield(patterns: patterns, beta: 4)
    var rng = SeededGenerator(seed: 23)
    let made = try Corruption.mask(fraction: 0.5).queries(
      from: patterns, targets: Corruption.randomTargets(count: 20, patternCount: 10, using: &rng), using: &rng)
    let run = try RecallExperiment(steps: 15, tolerance: 1e-4).run(
      network, patterns: network.patterns, queries: made.queries, targets: made.targets)
    let reference = try SynchronousDynamics(maxSteps: 15, tolerance: 1e-4).run(network, from: made.queries)
    #expect(run.finalStates.maxAbsDifference(reference.finalStates) == 0)
    for (r, trajectory) in reference.trajectories.enumerated() {
      #expect(run.result.stepsToConverge[r] == RetrievalMetrics.stepsToConverge(trajectory, tolerance: 1e-4))
      let energies = try #require(trajectory.energies)
      #expect(energies.count <= 16)
    }
    let unfrozen = try RecallExperiment(steps: 15, tolerance: 1e-4, freezesConvergedStates: false)
      .run(network, patterns: network.patterns, queries: made.queries, targets: made.targets)
    #expect(unfrozen.result.stepsToConverge == run.result.stepsToConverge)
  }

  @Test("Classical Hopfield recovers flip-corrupted patterns (N = 3, d = 100), synchronous and asynchronous")
  func classicalRecovers() throws {
    var rng = SeededGenerator(seed: 24)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 3, columns: 100)
    let network = try ClassicalHopfield(patterns: patterns)
    let targets = Array(repeating: [0, 1, 2], count: 10).flatMap { $0 }
    let made = try Corruption.flip(fraction: 0.15).queries(from: patterns, targets: targets, using: &rng)
    #expect(RetrievalMetrics.accuracy(of: made.queries, patterns: patterns, targets: targets) == 1)
    for schedule in [RecallExperiment.Schedule.synchronous, .asynchronous(seed: 3)] {
      let run = try RecallExperiment(steps: 10, tolerance: 0, schedule: schedule).run(
        network, patterns: network.patterns, queries: made.queries, targets: targets)
      #expect(run.finalStates == patterns.rows(at: targets), "\(schedule)")
      #expect(run.result.finalAccuracy == 1)
      #expect(run.result.convergedFraction == 1)
      #expect(run.result.meanEnergyIsNonIncreasing(slack: 1e-12), "\(schedule)")
    }
  }

  @Test("Asynchronous modern Hopfield: energy per sweep never increases")
  func asynchronousModern() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(8, 12, seed: 25)
    let network = try ModernHopfield(patterns: patterns, beta: 8)
    var rng = SeededGenerator(seed: 26)
    let made = try Corruption.gaussianNoise(sigma: 0.1).queries(
      from: patterns, targets: [0, 1, 2, 3, 4, 5, 6, 7], using: &rng)
    let run = try RecallExperiment(steps: 6, schedule: .asynchronous(seed: 1)).run(
      network, patterns: network.patterns, queries: made.queries, targets: made.targets)
    #expect(run.result.steps.count == 7)
    #expect(run.result.meanEnergyIsNonIncreasing(slack: 1e-12))
    let again = try RecallExperiment(steps: 6, schedule: .asynchronous(seed: 1)).run(
      network, patterns: network.patterns, queries: made.queries, targets: made.targets)
    #expect(again.finalStates == run.finalStates)
  }

  @Test("Works through the protocols: gradient descent on an energy, a rule without energy, Float")
  func generic() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(6, 10, seed: 27)
    let energy = try ModernHopfield(patterns: patterns, beta: 2)
    let descent = GradientDescent(energy, stepSize: 0.5)
    let run = try RecallExperiment(steps: 4).run(descent, patterns: patterns, queries: patterns, targets: Array(0..<6))
    #expect(run.result.steps.allSatisfy { $0.meanEnergy != nil })
    #expect(run.result.meanEnergyIsNonIncreasing(slack: 1e-12))

    for schedule in [RecallExperiment.Schedule.synchronous, .asynchronous(seed: 2)] {
      let silent = try RecallExperiment(steps: 2, schedule: schedule, recordsEnergies: false)
        .run(energy, patterns: energy.patterns, queries: patterns, targets: Array(0..<6))
      #expect(silent.result.steps.allSatisfy { $0.meanEnergy == nil && $0.accuracy != nil }, "\(schedule)")
    }

    // The asynchronous schedule uses the coordinate form when the static type has one.
    let asynchronous = RecallExperiment(steps: 1, tolerance: 0, schedule: .asynchronous(seed: 4))
    let zeroing = ZeroingCoordinates(dimension: 10)
    #expect(
      try asynchronous.run(zeroing, patterns: patterns, queries: patterns, targets: nil).finalStates.elements.allSatisfy
      { $0 == 0 })
    #expect(try runPlain(asynchronous, zeroing, patterns).finalStates == 0.5 * patterns)
    // Energies only where the static type descends one.
    #expect(
      try runPlain(RecallExperiment(steps: 2), descent, patterns).result.steps.allSatisfy { $0.meanEnergy == nil })

    let halving = try RecallExperiment(steps: 3, tolerance: 0).run(
      Halving(dimension: 10), patterns: patterns, queries: patterns, targets: nil)
    #expect(halving.result.steps.allSatisfy { $0.meanEnergy == nil && $0.accuracy == nil })
    #expect(halving.result.finalNearestPatterns.compactMap { $0 } == Array(0..<6))
    #expect(halving.result.convergedFraction == 0)
    let m = try #require(halving.result.steps[1].meanStepSize)
    let expected = patterns.rowNorms().reduce(0, +) / 2 / 6
    #expect(abs(m - expected) < 1e-12)

    // Float and Double runs of the same experiment agree.
    let f: Matrix<Float> = unitGaussianPatterns(6, 32, seed: 27)
    let g: Matrix<Double> = unitGaussianPatterns(6, 32, seed: 27)
    let fr = try RecallExperiment(steps: 3).run(
      try ModernHopfield(patterns: f, beta: 16), patterns: f, queries: f, targets: Array(0..<6))
    let gr = try RecallExperiment(steps: 3).run(
      try ModernHopfield(patterns: g, beta: 16), patterns: g, queries: g, targets: Array(0..<6))
    #expect(fr.result.finalAccuracy == 1)
    #expect(fr.result.finalAccuracy == gr.result.finalAccuracy)
    for (a, b) in zip(fr.result.steps, gr.result.steps) {
      #expect(abs(try #require(a.meanEnergy) - (try #require(b.meanEnergy))) < 1e-4)
    }
  }

  @Test("Zero steps records only the queries")
  func zeroSteps() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(4, 5, seed: 28)
    let run = try RecallExperiment(steps: 0).run(
      try ModernHopfield(patterns: patterns, beta: 1), patterns: patterns, queries: patterns, targets: [0, 1, 2, 3])
    #expect(run.result.steps.count == 1)
    #expect(run.finalStates == patterns)
  }

  @Test("Invalid input throws a RecallError naming the problem")
  func invalid() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(4, 5, seed: 29)
    let network = try ModernHopfield(patterns: patterns, beta: 1)
    #expect(throws: RecallError.invalidParameter(name: "steps", value: "-3", requirement: "at least 0")) {
      try RecallExperiment(steps: -3).run(network, patterns: network.patterns, queries: patterns, targets: nil)
    }
    #expect(throws: RecallError.self) {
      try RecallExperiment(tolerance: .nan).run(network, patterns: network.patterns, queries: patterns, targets: nil)
    }
    #expect(throws: RecallError.dimensionMismatch(what: "queries", columns: 3, expected: 5)) {
      try RecallExperiment().run(
        network, patterns: network.patterns, queries: Matrix(rows: 2, columns: 3), targets: nil)
    }
    #expect(throws: RecallError.targetCountMismatch(targets: 1, queries: 4)) {
      try RecallExperiment().run(network, patterns: network.patterns, queries: patterns, targets: [0])
    }
    #expect(throws: RecallError.targetOutOfRange(position: 2, value: 4, patternCount: 4)) {
      try RecallExperiment().run(network, patterns: network.patterns, queries: patterns, targets: [0, 1, 4, 0])
    }
    #expect(throws: RecallError.noQueries) {
      try RecallExperiment().run(
        network, patterns: network.patterns, queries: Matrix(rows: 0, columns: 5), targets: nil)
    }
    var bad = patterns
    bad[1, 2] = .nan
    #expect(throws: RecallError.nonFiniteQuery(row: 1)) {
      try RecallExperiment().run(network, patterns: network.patterns, queries: bad, targets: nil)
    }
    // A rule that overflows is reported with the row and step, not carried on as NaN.
    #expect(throws: RecallError.dynamics(.nonFiniteState(row: 0, step: 1))) {
      try RecallExperiment(steps: 5).run(Exploding(dimension: 5), patterns: patterns, queries: patterns, targets: nil)
    }
  }

  @Test("The result encodes to JSON")
  func json() throws {
    let patterns: Matrix<Double> = unitGaussianPatterns(4, 5, seed: 30)
    let run = try RecallExperiment(steps: 2).run(
      try ModernHopfield(patterns: patterns, beta: 1), patterns: patterns, queries: patterns, targets: nil)
    let data = try JSONEncoder().encode(run.result)
    #expect(try JSONDecoder().decode(RecallResult.self, from: data) == run.result)
    for schedule in [RecallExperiment.Schedule.synchronous, .asynchronous(seed: 9)] {
      let config = RecallExperiment(steps: 3, schedule: schedule)
      let encoded = try JSONEncoder().encode(config)
      #expect(try JSONDecoder().decode(RecallExperiment.self, from: encoded) == config)
      #expect(String(decoding: encoded, as: UTF8.self).contains("\"kind\""))
    }
  }
}
