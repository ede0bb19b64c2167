import AttractorCore
import AttractorLinearAlgebra
import RealModule
import Testing
@testable import AttractorModels

/// Issue 16, item 9: Float energies at large β. With norm-100 patterns the terms ½ξᵀξ + ½M² and
/// β⁻¹ lse(βXξ) are each about 10⁴ and cancel to an energy of about (log N)/β, so the Float
/// energy must be computed from the Float state and patterns without rounding them through Float
/// arithmetic. The reference is the energy of the same (widened) Float numbers, computed in the
/// test in Double from the definition.
@Suite("Modern Hopfield Float energy at large β")
struct ModernHopfieldLargeBetaEnergyTests {
  @Test("Float energy of norm-100 states matches the Double energy of the same numbers", arguments: [1e4, 1e8])
  func floatEnergyMatchesDouble(beta: Double) throws {
    let n = 32
    let d = 64
    var rng = SeededGenerator(seed: 16_009)
    let raw: Matrix<Double> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1)
    // Norm-100 patterns, rounded to Float once; the Double model stores the very same numbers.
    let norms = raw.rowNorms()
    let floatPatterns = Matrix<Float>(rows: n, columns: d) { i, j in Float(100 * raw[i, j] / norms[i]) }
    let doublePatterns = Matrix<Double>(rows: n, columns: d) { i, j in Double(floatPatterns[i, j]) }
    // States: each stored pattern, and each pattern moved by a small Float perturbation.
    let noise: Matrix<Double> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1e-3)
    let floatStates = Matrix<Float>(rows: 2 * n, columns: d) { r, j in
      r < n ? floatPatterns[r, j] : floatPatterns[r - n, j] + Float(noise[r - n, j])
    }
    let doubleStates = Matrix<Double>(rows: 2 * n, columns: d) { r, j in Double(floatStates[r, j]) }

    let floatModel = try ModernHopfield(patterns: floatPatterns, beta: Float(beta))
    let floatEnergies = floatModel.energy(floatStates)
    let doubleEnergies = Self.referenceEnergies(patterns: doublePatterns, beta: beta, states: doubleStates)
    // Near a pattern the energy is about (log N)/β (3.5e-4 at β = 1e4, 3.5e-8 at β = 1e8), far
    // below the 1e4-sized terms that cancel. Tolerance: a few Float roundings of the result, plus
    // the cancellation error of the Double reference itself, at most about d·ε_double·M² ≈ 1e-10
    // (1e-11 seen). Before the fix the Float error was 1e-4 to 5e-3.
    for r in 0..<(2 * n) {
      let reference = doubleEnergies[r]
      let error = abs(Double(floatEnergies[r]) - reference)
      #expect(
        error <= 4 * Double(Float.ulpOfOne) * abs(reference) + 1e-10,
        "β \(beta) row \(r): Float \(floatEnergies[r]) Double \(reference) error \(error)")
    }
  }

  /// E(ξ) = −β⁻¹ log Σ_μ exp(β x_μᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M², term by term in Double (its
  /// cancellation error is at most about d·ε_double·M² ≈ 1e-10).
  static func referenceEnergies(patterns: Matrix<Double>, beta: Double, states: Matrix<Double>) -> [Double] {
    let n = patterns.rows
    let d = patterns.columns
    var maxSquaredNorm = 0.0
    for i in 0..<n {
      var s = 0.0
      for j in 0..<d { s += patterns[i, j] * patterns[i, j] }
      maxSquaredNorm = max(maxSquaredNorm, s)
    }
    return (0..<states.rows).map { r in
      let logits = (0..<n).map { i in
        var s = 0.0
        for j in 0..<d { s += patterns[i, j] * states[r, j] }
        return beta * s
      }
      let top = logits.max()!
      let lse = top + Double.log(logits.reduce(0) { $0 + Double.exp($1 - top) })
      var squaredNorm = 0.0
      for j in 0..<d { squaredNorm += states[r, j] * states[r, j] }
      return -lse / beta + squaredNorm / 2 + Double.log(Double(n)) / beta + maxSquaredNorm / 2
    }
  }
}
