import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

/// Compares with values computed independently by NumPy (numpy.linalg.eigh / eig) in
/// Scripts/analysis_reference.py (Reference/analysis_reference.json, marked GENERATED).
@Suite("NumPy reference values for the analysis")
struct AnalysisReferenceTests {
  struct ModernCase: Decodable {
    let seed: Int, beta: Double, patterns: [[Double]], state: [Double]
    let jacobian_eigenvalues: [Double], hessian_eigenvalues: [Double]
    let k90: Int, entropy: Double, participation_ratio: Double
    let nearest_pattern: Int, distance_to_nearest: Double, distance_to_mean: Double
  }
  struct ProjectedCase: Decodable {
    let seed: Int, beta: Double, angle: Double, patterns: [[Double]], key_projection: [[Double]]
    let query_projection: [[Double]], state: [Double], jacobian: [[Double]]
    let eigenvalues_re: [Double], eigenvalues_im: [Double]
  }
  struct Document: Decodable {
    let GENERATED: String
    let modern: [ModernCase]
    let projected: [ProjectedCase]
  }

  static func load() throws -> Document {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Reference/analysis_reference.json")
    return try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
  }

  @Test("Modern Hopfield: Jacobian and Hessian eigenvalues (eigh) and the weight evidence match NumPy")
  func modern() throws {
    let doc = try Self.load()
    #expect(doc.GENERATED.contains("NumPy"))
    #expect(doc.modern.count == 3)
    for c in doc.modern {
      let model = try ModernHopfield(patterns: Matrix(rowArrays: c.patterns), beta: c.beta)
      let result = try Classifier().classify(model, at: Matrix(rows: 1, columns: c.state.count, elements: c.state))[0]
      #expect(result.jacobian.solver == .symmetric)
      let j = result.jacobian.eigenvalues.map(\.re)
      #expect(j.count == c.jacobian_eigenvalues.count)
      for (a, b) in zip(j, c.jacobian_eigenvalues) { #expect(abs(a - b) < 1e-10, "seed \(c.seed)") }
      let h = try #require(result.hessian).eigenvalues
      for (a, b) in zip(h, c.hessian_eigenvalues) { #expect(abs(a - b) < 1e-10, "seed \(c.seed)") }
      let e = try #require(result.evidence)
      #expect(e.k == c.k90, "seed \(c.seed)")
      #expect(abs(e.entropy - c.entropy) < 1e-10)
      #expect(abs(e.participationRatio - c.participation_ratio) < 1e-9)
      #expect(e.nearestPattern == c.nearest_pattern)
      #expect(abs(e.distanceToNearest - c.distance_to_nearest) < 1e-10)
      #expect(abs(e.distanceToMean - c.distance_to_mean) < 1e-12)
    }
  }

  @Test("Separate query and key projections: general-solver eigenvalues (complex pairs) match numpy.linalg.eig")
  func projected() throws {
    let doc = try Self.load()
    #expect(doc.projected.count == 2)
    for c in doc.projected {
      let expected = zip(c.eigenvalues_re, c.eigenvalues_im).map { ($0, $1) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
      #expect(expected.contains { $0.1 != 0 }, "the reference case must have complex eigenvalues")
      let state = Matrix(rows: 1, columns: c.state.count, elements: c.state)

      // The exact NumPy matrix through a linear map (analytic Jacobian): agreement to rounding.
      let linear = try Classifier().classify(LinearMap(matrix: Matrix(rowArrays: c.jacobian)), at: state)[0]
      // The attention rule itself through finite differences: agreement to the FD error.
      let rule = ProjectedAttention(
        patterns: Matrix(rowArrays: c.patterns), keyProjection: Matrix(rowArrays: c.key_projection),
        queryProjection: Matrix(rowArrays: c.query_projection), beta: c.beta)
      let fd = try Classifier().classify(rule, at: state)[0]
      for (spectrum, tolerance) in [(linear.jacobian, 1e-12), (fd.jacobian, 1e-8)] {
        #expect(spectrum.solver == .general)
        #expect(spectrum.complexPairCount == expected.filter { $0.1 > 0 }.count)
        let found = spectrum.eigenvalues.map { ($0.re, $0.im) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        #expect(found.count == expected.count)
        for (a, b) in zip(found, expected) {
          #expect(abs(a.0 - b.0) < tolerance && abs(a.1 - b.1) < tolerance, "seed \(c.seed): \(a) vs \(b)")
        }
      }
      #expect(linear.jacobian.source == .analytic && fd.jacobian.source == .finiteDifferences)
    }
  }
}
