import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorModels

/// The unit-by-unit decision for unit i, from the coordinate update (the O(K) table kernel with
/// exact overlaps), applied to a copy of the row: the batched update's reference.
private func coordinateDecision<F: InteractionFunction>(
  _ memory: DenseAssociativeMemory<Double, F>, row: [Double], unit i: Int,
  workspace: inout DenseAssociativeMemory<Double, F>.Workspace
) -> Double {
  var single = Matrix(rows: 1, columns: row.count, elements: row)
  memory.prepareCoordinateUpdates(of: single, workspace: &workspace)
  memory.updateCoordinate(i, of: &single, workspace: &workspace)
  return single[0, i]
}

@Suite("Dense associative memory: batched synchronous update")
struct DenseBatchedUpdateTests {
  @Test("polynomial and exp(x) run batched; exp(5x) and non-integer tables do not")
  func batchedWhereExact() throws {
    var rng = SeededGenerator(seed: 1)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 20, columns: 16)
    #expect(try DenseAssociativeMemory(patterns: patterns, interaction: Polynomial(degree: 3)).kernel.batchable)
    #expect(
      try DenseAssociativeMemory(patterns: patterns, interaction: RectifiedPolynomial(degree: 4)).kernel.batchable)
    #expect(try DenseAssociativeMemory(patterns: patterns, interaction: Exponential(beta: 1)).kernel.batchable)
    // |log D(x + 2) − log D(x)| = 2β = 10 > 8: unit by unit.
    #expect(try !DenseAssociativeMemory(patterns: patterns, interaction: Exponential(beta: 5)).kernel.batchable)
    // D(x) = (x + 1)^60 − (x − 1)^60 is far above 2⁵¹ at |x| = 15: unit by unit.
    #expect(try !DenseAssociativeMemory(patterns: patterns, interaction: Polynomial(degree: 60)).kernel.batchable)
  }

  @Test("every state of 8 units: batched decisions equal the exact sign of Σ_μ ξ^μᵢ D(m_μ − ξ^μᵢσᵢ), ties kept")
  func exhaustive() throws {
    var rng = SeededGenerator(seed: 7)
    let n = 8, k = 6
    // Three random patterns and their copies with unit 0 flipped: at unit 0 the terms of each pair
    // have the same x and opposite ξ, so every state ties there (exactly, also for exp).
    let base: Matrix<Double> = rng.signMatrix(rows: k / 2, columns: n)
    var patterns = Matrix<Double>(rows: k, columns: n)
    for mu in 0..<(k / 2) {
      for j in 0..<n {
        patterns[mu, j] = base[mu, j]
        patterns[mu + k / 2, j] = j == 0 ? -base[mu, j] : base[mu, j]
      }
    }
    var states = Matrix<Double>(rows: 1 << n, columns: n)
    for s in 0..<(1 << n) {
      for i in 0..<n { states[s, i] = (s >> i) & 1 == 1 ? 1 : -1 }
    }
    let cubic = try DenseAssociativeMemory(patterns: patterns, interaction: Polynomial(degree: 3))
    let exponential = try DenseAssociativeMemory(patterns: patterns, interaction: Exponential(beta: 1))
    #expect(cubic.kernel.batchable && exponential.kernel.batchable)
    let cubicNext = cubic.update(states)
    let expNext = exponential.update(states)
    var ties = (cubic: 0, exp: 0)
    for s in 0..<(1 << n) {
      for i in 0..<n {
        let sigma = states[s, i]
        // Integer terms for F = x³: D(x) = (x + 1)³ − (x − 1)³ = 6x² + 2, summed exactly.
        // For F = exp(x): D(x) = 2 sinh(1) eˣ; group the terms by x (x ≡ N − 1 mod 2, spaced by 2):
        // with at most 6 terms and e² > 6, the sign is that of the largest x whose coefficients
        // Σ ξ do not cancel; all cancel = a tie.
        var cubicSum = 0
        var byX: [Int: Int] = [:]
        for mu in 0..<k {
          var m = 0
          for j in 0..<n { m += Int(patterns[mu, j] * states[s, j]) }
          let xi = Int(patterns[mu, i])
          let x = m - xi * Int(sigma)
          cubicSum += xi * (6 * x * x + 2)
          byX[x, default: 0] += xi
        }
        let cubicExpected = cubicSum > 0 ? 1.0 : (cubicSum < 0 ? -1.0 : sigma)
        if cubicSum == 0 { ties.cubic += 1 }
        let top = byX.filter { $0.value != 0 }.max { $0.key < $1.key }
        let expExpected = top.map { $0.value > 0 ? 1.0 : -1.0 } ?? sigma
        if top == nil { ties.exp += 1 }
        #expect(cubicNext[s, i] == cubicExpected, "x^3 state \(s) unit \(i)")
        #expect(expNext[s, i] == expExpected, "exp state \(s) unit \(i)")
      }
    }
    // The enumeration reaches exact ties, which must keep σᵢ.
    #expect(ties.cubic > 0 && ties.exp > 0)
  }

  @Test("large batches (K up to 512, d = 64): batched decisions equal the unit-by-unit kernel, in Float and Double")
  func largeBatches() throws {
    var rng = SeededGenerator(seed: 3)
    for (k, b) in [(4, 37), (64, 16), (512, 8)] {
      let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: 64)
      // Starts near stored patterns (a quarter of the units flipped) and at random.
      var states: Matrix<Double> = rng.signMatrix(rows: b, columns: 64)
      for r in 0..<(b / 2) {
        for j in 0..<64 { states[r, j] = patterns[r % k, j] * (rng.next(upperBound: UInt64(4)) == 0 ? -1 : 1) }
      }
      try check(Polynomial(degree: 3), patterns: patterns, states: states, label: "x^3 K=\(k)")
      try check(Exponential(beta: 1), patterns: patterns, states: states, label: "exp K=\(k)")
      try check(Exponential(beta: 0.25), patterns: patterns, states: states, label: "exp(x/4) K=\(k)")
    }
  }

  private func check<F: InteractionFunction>(
    _ f: F, patterns: Matrix<Double>, states: Matrix<Double>, label: String
  ) throws {
    let memory = try DenseAssociativeMemory(patterns: patterns, interaction: f)
    #expect(memory.kernel.batchable, "\(label)")
    let next = memory.update(states)
    var workspace = memory.makeWorkspace(batchSize: 1)
    var mismatches = 0
    for r in 0..<states.rows {
      let row = states.row(r)
      for i in 0..<states.columns
      where next[r, i] != coordinateDecision(memory, row: row, unit: i, workspace: &workspace) {
        mismatches += 1
      }
    }
    #expect(mismatches == 0, "\(label): \(mismatches) decisions differ from the unit-by-unit kernel")
    // The same decisions on Float states, and the same after a second step with a reused workspace.
    let single = try DenseAssociativeMemory(
      patterns: Matrix(rows: patterns.rows, columns: patterns.columns, elements: patterns.elements.map { Float($0) }),
      interaction: f)
    let floatStates = Matrix(rows: states.rows, columns: states.columns, elements: states.elements.map { Float($0) })
    var floatWorkspace = single.makeWorkspace(batchSize: states.rows)
    var floatNext = floatStates
    single.update(floatStates, into: &floatNext, workspace: &floatWorkspace)
    #expect(floatNext.elements.map { Double($0) } == next.elements, "\(label): Float")
    var again = floatNext
    single.update(floatNext, into: &again, workspace: &floatWorkspace)
    #expect(again.elements.map { Double($0) } == memory.update(next).elements, "\(label): second step")
  }
}
