import AttractorCore
import AttractorLinearAlgebra
import Testing

@testable import AttractorModels

@Suite("Modern Hopfield update paths")
struct ModernHopfieldUpdatePathTests {
  @Test(
    "the online (blocked) update equals the materialised one to rounding; the workspace still serves the energy",
    arguments: [(300, 1025, 64), (1, 10, 3), (257, 700, 33)])
  func pathsAgree(shape: (Int, Int, Int)) throws {
    let (b, n, d) = shape
    for beta in [1.0, 8.0, 40.0] {
      let model = try ModernHopfield(patterns: gaussianPatterns(n, d, seed: 1, as: Float.self), beta: Float(beta))
      let queries: Matrix<Float> = gaussianPatterns(b, d, seed: 2)
      var plain = model.makeWorkspace(batchSize: b, path: .materialized)
      var blocked = model.makeWorkspace(batchSize: b, path: .online)
      #expect(plain.updatePath == .materialized && blocked.updatePath == .online)
      var a = Matrix<Float>(rows: b, columns: d)
      var c = Matrix<Float>(rows: b, columns: d)
      model.update(queries, into: &a, workspace: &plain)
      model.update(queries, into: &c, workspace: &blocked)
      let scale = a.elements.map { abs($0) }.max()!
      #expect(maxAbs(a.elements, c.elements) <= 4e-6 * max(scale, 1), "β = \(beta)")
      // The workspace's other uses still work after an online update (logits allocated on demand).
      var e1 = [Float](repeating: 0, count: b)
      var e2 = [Float](repeating: 0, count: b)
      model.energy(c, into: &e1, workspace: &blocked)
      model.energy(c, into: &e2, workspace: &plain)
      #expect(maxAbs(e1, e2) == 0)
    }
  }

  @Test("the chosen path follows the measured table: materialised for small N, online for large")
  func preferredPath() {
    typealias M = ModernHopfield<Float>
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 1024, dimension: 64, threads: 2) == .materialized)
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 65_536, dimension: 64, threads: 2) == .online)
    #expect(M.preferredUpdatePath(batchSize: 8, patternCount: 65_536, dimension: 64, threads: 2) == .materialized)
    // Two threads: the blocked path only where it measured faster (or the B × N buffer is large).
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 8_192, dimension: 64, threads: 2) == .materialized)
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 8_192, dimension: 64, threads: 1) == .online)
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 16_384, dimension: 128, threads: 2) == .materialized)
    #expect(M.preferredUpdatePath(batchSize: 1024, patternCount: 65_536, dimension: 128, threads: 2) == .online)
  }
}
