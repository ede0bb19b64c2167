import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import PropertyBased
import Testing

@testable import AttractorAnalysis

/// Laws as properties (issue 16): the fixed points the analysis reports are fixed points.
///
/// Each case draws a small modern Hopfield network (N ∈ 1…3 patterns, d ∈ 1…3, entries in
/// [−2, 2], β ∈ [0.1, 8]) and a search seed, analyses it with a reduced search (patterns, one
/// noisy copy each, two pair and two triple mixtures, the mean, two random starts), and checks
/// every reported point x: ‖f(x) − x‖ ≤ 1e-9 · s, with s = maxᵢ ‖xᵢ‖ the search's scale, and that
/// the reported residual is that small too. Cases are seeded by the property checker (a failure
/// prints its `.fixedSeed`) and shrink to a small failing network.
@Suite("Fixed-point analysis: properties")
struct FixedPointPropertyTests {
  @Test(
    "FixedPointAnalyzer on ModernHopfield<Double>: every reported x has ‖f(x) − x‖ ≤ 1e-9·s (1,000 cases)", .shrinking)
  func reportedPointsAreFixed() async throws {
    await propertyCheck(
      count: 1000, input: Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.double(in: -2...2).array(of: 9),
      Gen.double(in: 0.1...8), Gen.uint64(in: 0...1000)
    ) { n, d, x, beta, seed in
      let patterns = Matrix(rows: n, columns: d, elements: Array(x.prefix(n * d)))
      let model = try ModernHopfield(patterns: patterns, beta: beta)
      let search = FixedPointSearch(
        noisyStartsPerPattern: 1, pairMixtures: 2, tripleMixtures: 2, randomStarts: 2, seed: seed, maxSteps: 2000)
      let report = try FixedPointAnalyzer(search: search).analyze(model)
      let scale = FixedPointSearch.scale(of: patterns)
      for point in report.fixedPoints {
        let image = model.update(at: point.state)
        let distance = zip(image, point.state).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(distance <= 1e-9 * scale, "‖f(x) − x‖ = \(distance) at \(point.state) (\(point.label))")
        #expect(point.residual <= 1e-9 * scale, "reported residual \(point.residual)")
      }
    }
  }
}
