import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

/// A fold of the global fixed point at a β known independently of the code under test.
///
/// Four collinear patterns xᵢ = Pᵢ e₁ in d = 2: every state on the line stays on it, and the
/// modern Hopfield update reduces to the scalar map y ↦ m(y) = Σ pᵢ Pᵢ with pᵢ ∝ exp(β Pᵢ y),
/// whose slope is m′(y) = β Var_p(P). The global fixed point (continued from the mean at small β)
/// vanishes in a saddle-node where y = m(y) and β Var_p(P) = 1: two equations in (y, β), solved
/// here by Newton's method with the closed-form derivatives ∂m/∂y = β v, ∂m/∂β = y v,
/// ∂(βv)/∂y = β² κ₃, ∂(βv)/∂β = v + β y κ₃ (v, κ₃: variance and third central moment under p).
@Suite("Phase diagram: a closed-form fold")
struct PhaseDiagramFoldTests {
  static let positions = [-1.0, -0.6, -0.2, 1.9]

  /// (m, v, κ₃) of the positions under p ∝ exp(β P y).
  static func moments(_ y: Double, _ beta: Double) -> (Double, Double, Double) {
    let e = positions.map { beta * $0 * y }
    let top = e.max()!
    let w = e.map { exp($0 - top) }
    let z = w.reduce(0, +)
    let p = w.map { $0 / z }
    let m = zip(p, positions).reduce(0) { $0 + $1.0 * $1.1 }
    let v = zip(p, positions).reduce(0) { $0 + $1.0 * ($1.1 - m) * ($1.1 - m) }
    let k3 = zip(p, positions).reduce(0) { $0 + $1.0 * pow($1.1 - m, 3) }
    return (m, v, k3)
  }

  /// The fold (y*, β*) by Newton on {m(y) − y = 0, β v − 1 = 0}.
  static func fold() -> (y: Double, beta: Double) {
    var y = 0.34
    var beta = 0.67
    for _ in 0..<50 {
      let (m, v, k3) = moments(y, beta)
      let g1 = m - y
      let g2 = beta * v - 1
      let a11 = beta * v - 1, a12 = y * v
      let a21 = beta * beta * k3, a22 = v + beta * y * k3
      let det = a11 * a22 - a12 * a21
      y -= (a22 * g1 - a12 * g2) / det
      beta -= (-a21 * g1 + a11 * g2) / det
    }
    return (y, beta)
  }

  @Test("The reported bracket contains the closed-form β* of a saddle-node, and the kind is a fold")
  func bracketContainsTheFold() throws {
    let (yStar, betaStar) = Self.fold()
    let (m, v, _) = Self.moments(yStar, betaStar)
    #expect(abs(m - yStar) < 1e-14 && abs(betaStar * v - 1) < 1e-14)
    let patterns = Matrix(rowArrays: Self.positions.map { [$0, 0] })
    let betas = try PhaseDiagram.logSpaced(from: 0.2, to: 2, count: 9)
    let search = FixedPointSearch(noisyStartsPerPattern: 1, pairMixtures: 2, tripleMixtures: 2, randomStarts: 4)
    let diagram = try PhaseDiagram.sweep(betas: betas, analyzer: FixedPointAnalyzer(search: search)) { beta in
      try ModernHopfield(patterns: patterns, beta: beta)
    }
    let t = try #require(diagram.transition)
    #expect(t.kind == .fold)
    #expect(t.lower <= betaStar && betaStar <= t.upper, "bracket \(t.lower) – \(t.upper), closed form \(betaStar)")
    #expect((t.upper - t.lower) / betaStar < 1e-8)
    // ρ(J) → 1 like c √(β* − β): on the line J has the single non-zero eigenvalue m′(y) = β v.
    let c = try #require(t.foldCoefficient)
    #expect(c > 0.1 && c < 10)
    #expect(abs((t.spectralRadiusAtLower ?? 0) - 1) < 1e-3)
  }

  @Test("The dynamics alone stop short near a fold; continuation does not")
  func dynamicsStopShort() throws {
    let (_, betaStar) = Self.fold()
    let patterns = Matrix(rowArrays: Self.positions.map { [$0, 0] })
    // Just below β*: the fixed point exists, but the map's slope there is 1 − O(√(β* − β)) and the
    // dynamics from the mean crawl; continuation finds it and calls it stable.
    let beta = betaStar * (1 - 1e-9)
    let model = try ModernHopfield(patterns: patterns, beta: beta)
    var search = FixedPointSearch()
    search.maxSteps = 200
    let probe = try PhaseDiagram.probeGlobal(model, analyzer: FixedPointAnalyzer(search: search))
    #expect(!probe.found || (probe.spectralRadius ?? 0) < 0.999)
    let diagram = try PhaseDiagram.sweep(
      betas: [0.2, beta], analyzer: FixedPointAnalyzer(search: search), bisectionSteps: 40
    ) { try ModernHopfield(patterns: patterns, beta: $0) }
    #expect(diagram.transition == nil)
    let last = try #require(diagram.points.last?.global)
    #expect(last.onBranch == true && last.found && (last.spectralRadius ?? 1) < 1)
    #expect((last.spectralRadius ?? 0) > 0.999)
  }
}
