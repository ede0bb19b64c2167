import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

/// The classification's two speed-ups checked against the slow way: Hessian eigenvalues read off
/// the Jacobian's (H = I − J, one decomposition) against a separate decomposition of I − J, and
/// points classified on several threads against a sequential run.
@Suite("Classification: one decomposition, parallel points")
struct ParallelClassificationTests {
  /// Fixed points of the dynamics from noisy patterns plus random states (saddles and unstable
  /// points among them), so every label and both Hessian signs occur.
  static func states(_ model: ModernHopfield<Double>, count: Int, seed: UInt64) throws -> Matrix<Double> {
    let d = model.dimension
    var rng = SeededGenerator(seed: seed)
    let noisy = Matrix<Double>(rows: count / 2, columns: d) { i, j in
      model.patterns[i % model.patternCount, j] + 0.2 / Double(d).squareRoot() * rng.nextGaussian()
    }
    let run = try SynchronousDynamics(maxSteps: 500, tolerance: 1e-12, recordEnergies: false).run(model, from: noisy)
    let random: Matrix<Double> = rng.gaussianMatrix(
      rows: count - count / 2, columns: d, standardDeviation: 0.3 / Double(d).squareRoot())
    return Matrix(
      rows: count, columns: d, elements: run.finalStates.elements + random.elements)
  }

  @Test("Parallel classification (2 and 3 workers, chunked or not) equals the sequential one exactly")
  func parallelEqualsSequential() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(40, 12, seed: 3) as Matrix<Double>, beta: 6)
    let states = try Self.states(model, count: 37, seed: 4)
    let sequential = try Classifier(workers: 1).classify(model, at: states)
    #expect(Set(sequential.map(\.label)).count >= 2)  // not all the same label
    // In chunks of 5 points (the batch GEMMs of a smaller chunk may round differently, so the
    // chunked runs are compared with each other).
    var chunkedSequential = Classifier(workers: 1)
    chunkedSequential.stackLimit = 5 * 144
    let chunked = try chunkedSequential.classify(model, at: states)
    for workers in [2, 3] {
      let parallel = try Classifier(workers: workers).classify(model, at: states)
      #expect(parallel == sequential, "workers \(workers)")
      var chunkedParallel = chunkedSequential
      chunkedParallel.workers = workers
      #expect(try chunkedParallel.classify(model, at: states) == chunked, "workers \(workers), chunked")
    }
    // Float too.
    let modelF = try ModernHopfield(patterns: gaussianPatterns(40, 12, seed: 3) as Matrix<Float>, beta: 6)
    let statesF = Matrix<Float>(rows: states.rows, columns: states.columns, elements: states.elements.map(Float.init))
    #expect(
      try Classifier(workers: 2).classify(modelF, at: statesF) == Classifier(workers: 1).classify(modelF, at: statesF))
    // The process-wide OpenBLAS thread count is left as it was.
    let before = BLAS.threadCount
    _ = try Classifier(workers: 2).classify(model, at: states)
    #expect(BLAS.threadCount == before)
  }

  @Test("Hessian eigenvalues as 1 − λ(J) equal a separate decomposition of I − J")
  func hessianFromJacobian() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(40, 12, seed: 5) as Matrix<Double>, beta: 6)
    let states = try Self.states(model, count: 24, seed: 6)
    let lin = model.linearization(at: states, options: LinearizationOptions())
    #expect(lin.hessianIsIdentityMinusJacobian && lin.hessianSource == .analytic)
    // `hessians` still gives the stack, equal to the model's closed-form Hessian.
    let stack = try #require(lin.hessians)
    for r in [0, 13, 23] {
      let h = Matrix(rows: 12, columns: 12, elements: stack.row(r))
      #expect(h.maxAbsDifference(model.hessian(at: states.row(r))) < 1e-12)
    }
    let fast = try Classifier(workers: 1).classify(model, at: states)
    // The slow way: the same Jacobians with I − J stored as its own stack, decomposed separately.
    let separate = Linearization(
      jacobians: lin.jacobians, jacobianSource: .analytic, hessians: stack, hessianSource: .analytic)
    let slow = try PointClassifier(
      stacks: separate, evidence: nil, dimension: 12, thresholds: ClassificationThresholds(),
      symmetryTolerance: 1e-6, hessianTolerance: 1e-6, keepEigenvalues: true
    ).classifyAll(count: states.rows, workers: 1)
    var saddles = 0
    for (a, b) in zip(fast, slow) {
      let ha = try #require(a.hessian), hb = try #require(b.hessian)
      #expect(a.jacobian.solver == .symmetric)
      #expect(ha.index == hb.index && ha.kind == hb.kind && ha.flatDirections == hb.flatDirections)
      #expect(ha.eigenvalues.count == 12)
      for (x, y) in zip(ha.eigenvalues, hb.eigenvalues) { #expect(abs(x - y) < 1e-12) }
      // Ascending, and λ(H) = 1 − λ(J) reversed.
      #expect(zip(ha.eigenvalues, ha.eigenvalues.dropFirst()).allSatisfy { $0 <= $1 })
      #expect(abs(ha.smallest - (1 - a.jacobian.eigenvalues.last!.re)) < 1e-15)
      if ha.index > 0 { saddles += 1 }
    }
    #expect(saddles >= 1 && saddles < states.rows)  // both kinds were compared
  }

  @Test("A Jacobian that fails the symmetry test gets its own decomposition of the symmetrised I − J")
  func asymmetricFallback() throws {
    let d = 6
    var rng = SeededGenerator(seed: 9)
    let j: Matrix<Double> = rng.gaussianMatrix(rows: 1, columns: d * d, standardDeviation: 0.3)
    let lin = Linearization(jacobiansWithHessianIdentityMinusJacobian: j, source: .analytic)
    let point = try PointClassifier(
      stacks: lin, evidence: nil, dimension: d, thresholds: ClassificationThresholds(), symmetryTolerance: 1e-6,
      hessianTolerance: 1e-6, keepEigenvalues: true
    ).classifyAll(count: 1, workers: 1)[0]
    #expect(point.jacobian.solver == .general)
    let h = Matrix<Double>(rows: d, columns: d) { a, b in
      (a == b ? 1 : 0) - (j[0, a * d + b] + j[0, b * d + a]) / 2
    }
    let expected = try h.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues
    let got = try #require(point.hessian).eigenvalues
    for (x, y) in zip(got, expected) { #expect(abs(x - y) < 1e-12) }
  }

  @Test("Jacobians unpacked point by point in the workers give exactly the results of the unpacked stack")
  func packedEqualsStack() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(40, 12, seed: 3) as Matrix<Double>, beta: 6)
    let states = try Self.states(model, count: 37, seed: 4)
    let modelF = try ModernHopfield(patterns: gaussianPatterns(40, 12, seed: 3) as Matrix<Float>, beta: 6)
    let statesF = Matrix<Float>(rows: states.rows, columns: states.columns, elements: states.elements.map(Float.init))
    for workers in [1, 2] {
      for limit in [1 << 24, 5 * 144] {  // one chunk, and chunks of 5 points
        var packed = Classifier(workers: workers)
        packed.stackLimit = limit
        var stack = packed
        stack.defersUnpacking = false
        #expect(try packed.classify(model, at: states) == stack.classify(model, at: states), "\(workers), \(limit)")
        #expect(try packed.classify(modelF, at: statesF) == stack.classify(modelF, at: statesF), "\(workers), \(limit)")
      }
    }
    // The packed form unpacks to the batch stack bit for bit, and the classification took it.
    let p = model.separation(states)
    let deferred = try #require(model.packedLinearization(at: states, options: LinearizationOptions()))
    #expect(
      deferred.0.separation == p && deferred.0.jacobians.elements.isEmpty && deferred.0.hessianIsIdentityMinusJacobian)
    let full = model.batchJacobians(at: states, khatriRaoLimit: 1 << 26)
    var block = [Double](repeating: .nan, count: 144)
    for r in 0..<states.rows {
      block.withUnsafeMutableBufferPointer { deferred.1.unpack(row: r, into: $0.baseAddress!) }
      #expect(block == Array(full.elements[(r * 144)..<((r + 1) * 144)]), "row \(r)")
    }
    // Finite differences, and patterns too many for the Khatri–Rao square, keep the stack path.
    #expect(model.packedLinearization(at: states, options: LinearizationOptions(forceFiniteDifferences: true)) == nil)
    #expect(model.packedJacobians(weights: p, khatriRaoLimit: 40 * 78 - 1) == nil)
  }

  @Test("workers < 1 is a typed error")
  func invalidWorkers() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(5, 3, seed: 1) as Matrix<Double>, beta: 2)
    #expect(throws: AnalysisError.self) {
      try Classifier(workers: 0).classify(model, at: Matrix(rows: 1, columns: 3, elements: [0.1, 0.2, 0.3]))
    }
  }
  @Test("The heaviest-k selection equals sorting all candidates (ties to the lower index), k small and large")
  func weightSelection() {
    var rng = SeededGenerator(seed: 11)
    for (n, sharpness) in [(50, 0.1), (200, 3.0), (1000, 8.0), (400, 30.0)] {
      for mass in [0.5, 0.9, 0.999] {
        // Softmax weights of random logits, with some exact ties.
        var z = (0..<n).map { _ in sharpness * rng.nextGaussian() }
        for i in stride(from: 0, to: n, by: 7) { z[i] = z[0] }
        let m = z.max()!
        let e = z.map { Foundation.exp($0 - m) }
        let sum = e.reduce(0, +)
        let p = e.map { $0 / sum }
        let got = p.withUnsafeBufferPointer { Kernels.weightStatistics($0.baseAddress!, count: n, mass: mass) }
        let sorted = p.enumerated().map { ($0.offset, $0.element) }.sorted {
          $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0)
        }
        var expected: [Int] = []
        var total = 0.0
        for c in sorted {
          expected.append(c.0)
          total += c.1
          if total >= mass * p.reduce(0, +) { break }
        }
        #expect(got.top.map(\.0) == expected, "n \(n), sharpness \(sharpness), mass \(mass)")
        #expect(got.smallest == p.min()!)
      }
    }
  }
}
