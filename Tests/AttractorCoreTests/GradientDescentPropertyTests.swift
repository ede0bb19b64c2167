import AttractorLinearAlgebra
import PropertyBased
import Testing
@testable import AttractorCore

/// Laws as properties (issue 16): gradient descent with η ≤ 1/L never increases the energy.
///
/// Each case draws d ∈ 1…4, a matrix M, a vector b, a state x and a fraction c ∈ (0, 1]; the
/// energy is E(x) = ½ xᵀAx − bᵀx with A = MᵀM + I (so ∇E is L-Lipschitz with L = λ_max(A) ≤ ‖A‖_F)
/// and the step is η = c / ‖A‖_F ≤ 1/L. Cases are seeded by the property checker (a failure prints
/// its `.fixedSeed`) and shrink to a small failing input.
@Suite("Gradient descent: properties")
struct GradientDescentPropertyTests {
  @Test("E(x − η∇E(x)) ≤ E(x) − (η/2)‖∇E(x)‖² for η ≤ 1/L (1,000 cases)", .shrinking)
  func sufficientDecrease() async {
    await propertyCheck(
      count: 1000, input: Gen.int(in: 1...4), Gen.double(in: -3...3).array(of: 16),
      Gen.double(in: -3...3).array(of: 4), Gen.double(in: -10...10).array(of: 4), Gen.double(in: 0.01...1)
    ) { d, m, b, x, c in
      let mm = Matrix(rows: d, columns: d, elements: Array(m.prefix(d * d)))
      var a = mm.multiplied(by: mm, transposeSelf: true)
      for i in 0..<d { a[i, i] += 1 }
      let energy = Quadratic(a: a, b: Array(b.prefix(d)))
      let state = Array(x.prefix(d))
      let frobenius = a.elements.reduce(0) { $0 + $1 * $1 }.squareRoot()
      let eta = c / frobenius
      let rule = GradientDescent(energy, stepSize: eta)
      let next = rule.update(at: state)
      let g = energy.gradient(Matrix(rows: 1, columns: d, elements: state)).elements
      let g2 = g.reduce(0) { $0 + $1 * $1 }
      let before = energy.energy(at: state)
      let after = energy.energy(at: next)
      // Tolerance: 1e-12 times the energy's scale ½‖A‖_F‖x‖² + ‖b‖‖x‖ + 1 (rounding of the sums).
      let norm = state.reduce(0) { $0 + $1 * $1 }.squareRoot()
      let bNorm = energy.b.reduce(0) { $0 + $1 * $1 }.squareRoot()
      let tolerance = 1e-12 * (0.5 * frobenius * norm * norm + bNorm * norm + 1)
      #expect(after <= before + tolerance, "E rose from \(before) to \(after)")
      #expect(after <= before - eta / 2 * g2 + tolerance, "decrease \(before - after) < (η/2)‖∇E‖² = \(eta / 2 * g2)")
    }
  }
}
