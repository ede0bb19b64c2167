import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

@Suite("Attention-head statistics")
struct AttentionHeadStatisticsTests {
  @Test("k₉₀ counts the largest probabilities first; entropy is 0 for one token and log n for uniform")
  func kAndEntropy() {
    #expect(AttentionStatistics.k([0.05, 0.9, 0.05]) == 1)
    #expect(AttentionStatistics.k([0.5, 0.1, 0.4]) == 2)
    #expect(AttentionStatistics.k([0.25, 0.25, 0.25, 0.25]) == 4)
    #expect(AttentionStatistics.k([0.2, 0.2, 0.2, 0.2, 0.2]) == 5)
    #expect(AttentionStatistics.entropy([0, 1, 0]) == 0)
    #expect(abs(AttentionStatistics.entropy([0.25, 0.25, 0.25, 0.25]) - log(4)) < 1e-12)
  }

  @Test("Ramsauer classes at their boundaries N/2, N/8, N/32")
  func classes() {
    #expect(RamsauerHeadClass(fraction: 0.51) == .I)
    #expect(RamsauerHeadClass(fraction: 0.5) == .II)
    #expect(RamsauerHeadClass(fraction: 0.126) == .II)
    #expect(RamsauerHeadClass(fraction: 0.125) == .III)
    #expect(RamsauerHeadClass(fraction: 1.0 / 32) == .IV)
    #expect(RamsauerHeadClass(fraction: 0.0) == .IV)
  }

  @Test("β_eff is ‖q‖‖k‖/√d_h with R² = 1 when all keys have the same norm; R² < 1 otherwise")
  func effectiveBeta() throws {
    var rng = SeededGenerator(seed: 3)
    let d = 8
    let q: [Double] = (0..<d).map { _ in Double.random(in: -1...1, using: &rng) }
    let keys: [[Double]] = (0..<6).map { _ in
      let k = (0..<d).map { _ in Double.random(in: -1...1, using: &rng) }
      let n = k.reduce(0) { $0 + $1 * $1 }.squareRoot()
      return k.map { 2.5 * $0 / n }  // norm 2.5
    }
    let qn = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let dots = keys.map { k in zip(q, k).reduce(0) { $0 + $1.0 * $1.1 } }
    let fit = try #require(
      AttentionStatistics.effectiveBeta(
        logits: dots.map { $0 / Double(d).squareRoot() }, cosines: dots.map { $0 / (qn * 2.5) }))
    #expect(abs(fit.beta - qn * 2.5 / Double(d).squareRoot()) < 1e-10)
    #expect(abs(fit.r2 - 1) < 1e-10)
    let uneven = try #require(AttentionStatistics.effectiveBeta(logits: [0, 1, 3, 2], cosines: [0, 0.5, 0.9, 0.2]))
    #expect(uneven.r2 < 1)
    #expect(AttentionStatistics.effectiveBeta(logits: [1, 2], cosines: [0.3, 0.3]) == nil)
  }

  func memory(seed: UInt64, n: Int = 7, d: Int = 4, scale: Double = 1.5) throws -> AttentionHeadMemory {
    var rng = SeededGenerator(seed: seed)
    let q: Matrix<Double> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: scale)
    let k: Matrix<Double> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: scale)
    return try AttentionHeadMemory(queries: q, keys: k, beta: 1 / Double(d).squareRoot())
  }

  @Test("the head memory's Jacobian matches central finite differences")
  func jacobian() throws {
    let m = try memory(seed: 5)
    for r in 0..<3 {
      let state = m.queries.row(r)
      let numeric = FiniteDifferences.jacobian(of: m, at: state, step: 1e-5)
      #expect(m.jacobian(at: state).maxAbsDifference(numeric) < 1e-7)
    }
  }

  @Test("with queries = keys the head memory is the modern Hopfield update on the keys")
  func reducesToModernHopfield() throws {
    var rng = SeededGenerator(seed: 9)
    let k: Matrix<Double> = rng.gaussianMatrix(rows: 6, columns: 5, standardDeviation: 1)
    let m = try AttentionHeadMemory(queries: k, keys: k, beta: 0.7)
    let hopfield = try ModernHopfield(patterns: k, beta: 0.7)
    let states: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 5, standardDeviation: 1)
    #expect(m.update(states).maxAbsDifference(hopfield.update(states)) < 1e-12)
  }

  @Test("the fixed-point analysis runs on a head memory and every fixed point is a fixed point")
  func analysis() throws {
    // Small weights: β ‖Q‖ ‖K‖ < 1 makes the map a contraction with one global fixed point.
    let m = try memory(seed: 11, scale: 0.4)
    let report = try FixedPointAnalyzer().analyze(m)
    #expect(report.fixedPoints.count == 1 && report.fixedPoints[0].label == .globalAverage)
    #expect(report.nonConverged.isEmpty)
    for fp in report.fixedPoints {
      let next = m.update(at: fp.state)
      #expect(zip(next, fp.state).allSatisfy { abs($0 - $1) < 1e-8 })
    }
  }

  @Test("bad head memories are refused")
  func badInput() {
    let q = Matrix<Double>(rows: 3, columns: 2)
    #expect(throws: ModelError.self) {
      _ = try AttentionHeadMemory(queries: q, keys: Matrix(rows: 2, columns: 2), beta: 1)
    }
    #expect(throws: ModelError.self) { _ = try AttentionHeadMemory(queries: q, keys: q, beta: 0) }
    #expect(throws: ModelError.self) {
      _ = try AttentionHeadMemory(queries: Matrix(rows: 0, columns: 2), keys: Matrix(rows: 0, columns: 2), beta: 1)
    }
  }
}
