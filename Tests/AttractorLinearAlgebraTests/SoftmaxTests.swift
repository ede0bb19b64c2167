import Testing
@testable import AttractorLinearAlgebra

@Suite("Softmax and log-sum-exp")
struct SoftmaxTests {
  @Test("rows sum to one and extreme logits stay finite (Float and Double)")
  func extremeLogits() {
    run(Float.self)
    run(Double.self)
  }

  func run<S: LinearAlgebraScalar>(_: S.Type) {
    let rows: [[S]] = [
      [1e4, -1e4, 0, 1e4], [-1e4, -1e4, -1e4], [1e4], [0, 0, 0, 0], [3, 1, -2, 1e4 - 1], [-1e4, -9999, 5],
    ]
    for row in rows {
      var m = Matrix(rows: 1, columns: row.count, elements: row)
      m.softmaxRows()
      #expect(m.isFinite, "softmax of \(row)")
      let total = m.elements.reduce(0, +)
      #expect(abs(total - 1) < 10 * S.ulpOfOne * S(row.count))
      #expect(m.elements.allSatisfy { $0 >= 0 })

      let lse = logSumExp(row)
      let maximum = row.max()!
      #expect(lse.isFinite)
      #expect(lse >= maximum && lse <= maximum + S.log(S(row.count)) * (1 + S.ulpOfOne) + S.ulpOfOne * abs(maximum))
    }
    // Closed form: lse of n equal logits c is c + log n, softmax uniform.
    let c: S = 1e4
    #expect(abs(logSumExp([S](repeating: c, count: 8)) - (c + S.log(8))) <= S.ulpOfOne * c * 2)
  }

  @Test("batched softmax equals the vector form row by row, including the parallel path")
  func batchedMatchesVector() {
    var rng = TestRNG(seed: 3)
    var m: Matrix<Double> = rng.matrix(300, 400)  // 120,000 entries: the parallel path
    m = 50 * m
    let original = m
    m.softmaxRows()
    let lse = original.logSumExpRows()
    for i in stride(from: 0, to: 300, by: 37) {
      let expected = softmax(original.row(i))
      for j in 0..<400 { #expect(abs(m[i, j] - expected[j]) < 1e-15) }
      #expect(abs(lse[i] - logSumExp(original.row(i))) < 1e-12)
      // log softmax_j = z_j − lse
      #expect(abs(Double.log(m[i, 5]) - (original[i, 5] - lse[i])) < 1e-9)
    }
  }
}
