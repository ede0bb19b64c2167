import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing
@testable import AttractorModels

/// How the exponential dense memory and the modern Hopfield network relate on ±1 states.
///
/// With x_μ = ξ^μ·σ − ξ^μᵢσᵢ (overlap without unit i), A = Σ_{ξ^μᵢ = σᵢ} e^{βx_μ} and
/// B = Σ_{ξ^μᵢ ≠ σᵢ} e^{βx_μ}:
/// - the dense memory keeps σᵢ iff A ≥ B (its decision leaves the unit's own term out);
/// - the modern update's coordinate i is σᵢ (e^{β} A − e^{−β} B) / Z, so sign(f(σ))ᵢ keeps σᵢ iff
///   e^{2β} A > B (the own term stays in and favours keeping).
/// Hence: wherever the dense memory keeps a unit, so does sign∘modern; where the dense memory flips,
/// sign∘modern flips iff B > e^{2β} A. Energies: E_modern(σ) = E_dense(σ) + N + β⁻¹ log K with the
/// dense memory's reported energy −β⁻¹ log Σ_μ exp(β ξ^μ·σ).
@Suite("Dense associative memory and the modern Hopfield network")
struct DenseAssociativeMemoryModernTests {
  @Test("energies differ by exactly N + β⁻¹ log K on ±1 states")
  func energies() throws {
    var rng = SeededGenerator(seed: 31)
    for beta in [0.05, 0.3, 1.0, 2.5] {
      let n = 40, k = 25
      let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
      let dense = try DenseAssociativeMemory(patterns: patterns, interaction: try Exponential(beta: beta))
      let modern = try ModernHopfield(patterns: patterns, beta: beta)
      let states: Matrix<Double> = rng.signMatrix(rows: 10, columns: n)
      let a = dense.energy(states), b = modern.energy(states)
      for r in 0..<10 {
        #expect(
          abs(b[r] - (a[r] + Double(n) + log(Double(k)) / beta)) < 1e-9 * max(1, abs(b[r])), "β = \(beta) row \(r)")
      }
    }
  }

  @Test(
    "sign of the modern update vs the dense synchronous update: agree wherever the dense memory keeps a unit; disagree exactly when A < B ≤ e^{2β}A"
  )
  func signOfModernUpdate() throws {
    var rng = SeededGenerator(seed: 32)
    var agreements = 0, predictedDisagreements = 0
    for beta in [0.1, 0.5, 1.0] {
      for _ in 0..<8 {
        let n = 12 + Int(rng.next(upperBound: UInt64(20)))
        let k = 2 + Int(rng.next(upperBound: UInt64(30)))
        let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
        let dense = try DenseAssociativeMemory(patterns: patterns, interaction: try Exponential(beta: beta))
        let modern = try ModernHopfield(patterns: patterns, beta: beta)
        let states: Matrix<Double> = rng.signMatrix(rows: 5, columns: n)
        let d = dense.update(states)
        let f = modern.update(states)
        for r in 0..<states.rows {
          let sigma = states.row(r)
          let m = (0..<k).map { mu in (0..<n).reduce(0.0) { $0 + patterns[mu, $1] * sigma[$1] } }
          for i in 0..<n {
            // log A and log B relative to a common shift.
            let xs = (0..<k).map { m[$0] - patterns[$0, i] * sigma[i] }
            let top = beta * xs.max()!
            var a = 0.0, b = 0.0
            for mu in 0..<k {
              let w = exp(beta * xs[mu] - top)
              if patterns[mu, i] == sigma[i] { a += w } else { b += w }
            }
            let denseKeeps = a >= b
            let modernKeeps = exp(2 * beta) * a > b
            #expect(d[r, i] == (denseKeeps ? sigma[i] : -sigma[i]), "dense decision, β = \(beta)")
            let modernSign: Double = f[r, i] > 0 ? 1 : -1
            #expect(modernSign == (modernKeeps ? sigma[i] : -sigma[i]), "modern sign, β = \(beta)")
            if denseKeeps { #expect(modernSign == sigma[i], "dense keeps ⇒ modern keeps") }
            if modernSign == d[r, i] { agreements += 1 } else { predictedDisagreements += 1 }
          }
        }
      }
    }
    // Both cases occur in this sample, so the characterisation is exercised, not vacuous.
    #expect(agreements > 0 && predictedDisagreements > 0)
  }

  @Test(
    "well-separated patterns, 10 % flipped start: one dense synchronous step and the sign of one modern step both give the pattern"
  )
  func oneStepRetrievalAgrees() throws {
    var rng = SeededGenerator(seed: 33)
    let n = 64, k = 10
    let patterns: Matrix<Double> = rng.signMatrix(rows: k, columns: n)
    for beta in [0.25, 1.0] {
      let dense = try DenseAssociativeMemory(patterns: patterns, interaction: try Exponential(beta: beta))
      let modern = try ModernHopfield(patterns: patterns, beta: beta)
      var states = patterns
      for r in 0..<k {
        var order = [Int](repeating: 0, count: n)
        rng.shuffle(&order)
        for j in order.prefix(6) { states[r, j] = -states[r, j] }
      }
      let d = dense.update(states)
      let f = modern.update(states)
      let signs = Matrix(rows: k, columns: n, elements: f.elements.map { $0 > 0 ? 1.0 : -1.0 })
      #expect(d == patterns, "β = \(beta)")
      #expect(signs == patterns, "β = \(beta)")
    }
  }
}
