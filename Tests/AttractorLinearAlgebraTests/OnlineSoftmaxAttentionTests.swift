import Testing

@testable import AttractorLinearAlgebra

@Suite("Blocked attention with an online softmax")
struct OnlineSoftmaxAttentionTests {
  /// softmax(β Q Xᵀ) X by the materialised path: GEMM, row softmax, GEMM.
  func materialized<S: LinearAlgebraScalar>(_ q: Matrix<S>, _ x: Matrix<S>, beta: S) -> Matrix<S> {
    var logits = Matrix<S>(rows: q.rows, columns: x.rows)
    Matrix.multiply(q, x, transposeB: true, alpha: beta, into: &logits)
    logits.softmaxRows()
    var out = Matrix<S>(rows: q.rows, columns: x.columns)
    Matrix.multiply(logits, x, into: &out)
    return out
  }

  /// The same in double precision with scalar loops: the independent reference.
  func reference<S: LinearAlgebraScalar>(_ q: Matrix<S>, _ x: Matrix<S>, beta: S) -> [[Double]] {
    (0..<q.rows).map { r in
      let z = (0..<x.rows).map { j in
        Double(beta) * (0..<q.columns).reduce(0.0) { $0 + Double(q[r, $1]) * Double(x[j, $1]) }
      }
      let m = z.max()!
      let w = z.map { Double.exp($0 - m) }
      let total = w.reduce(0, +)
      return (0..<x.columns).map { c in (0..<x.rows).reduce(0.0) { $0 + w[$1] * Double(x[$1, c]) } / total }
    }
  }

  func online<S: LinearAlgebraScalar>(
    _ q: Matrix<S>, _ x: Matrix<S>, beta: S, queryBlock: Int, patternBlock: Int, workers: Int, chunks: [Int]? = nil
  ) -> Matrix<S> {
    var attention = OnlineSoftmaxAttention<S>(
      batchSize: q.rows, dimension: q.columns, queryBlock: queryBlock, patternBlock: patternBlock, workers: workers)
    var out = Matrix<S>(rows: q.rows, columns: q.columns, repeating: .nan)
    let d = q.columns
    q.withUnsafeBufferPointer { qp in
      x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
          attention.begin(rows: q.rows, output: op.baseAddress!)
          var start = 0
          for size in chunks ?? [x.rows] {
            attention.accumulate(
              queries: qp.baseAddress!, rows: q.rows, patterns: xp.baseAddress! + start * d, count: size,
              firstIndex: start, beta: beta, output: op.baseAddress!)
            start += size
          }
          attention.finish(rows: q.rows, output: op.baseAddress!)
        }
      }
    }
    return out
  }

  func largestDifference<S: LinearAlgebraScalar>(_ a: Matrix<S>, _ b: [[Double]]) -> Double {
    var worst = 0.0
    for r in 0..<a.rows {
      for c in 0..<a.columns { worst = max(worst, abs(Double(a[r, c]) - b[r][c])) }
    }
    return worst
  }

  @Test(
    "equals the materialised update to rounding, block sizes dividing the shapes or not, 1 or 2 workers, in chunks",
    arguments: [
      // (B, N, d, query block, pattern block)
      (64, 512, 16, 32, 128), (37, 301, 7, 16, 64), (5, 1000, 3, 8, 999), (1, 130, 4, 256, 512),
    ])
  func matchesMaterialized(shape: (Int, Int, Int, Int, Int)) {
    check(Float.self, shape, tolerance: 2e-6)
    check(Double.self, shape, tolerance: 1e-14)
  }

  func check<S: LinearAlgebraScalar>(_: S.Type, _ shape: (Int, Int, Int, Int, Int), tolerance: Double) {
    let (b, n, d, qb, pb) = shape
    var rng = TestRNG(seed: UInt64(b * 1000 + n))
    let x: Matrix<S> = rng.matrix(n, d)
    let q: Matrix<S> = rng.matrix(b, d)
    let beta = S(6)  // peaked weights: the running maximum moves between blocks
    let expected = reference(q, x, beta: beta)
    let plain = materialized(q, x, beta: beta)
    let plainError = largestDifference(plain, expected)
    for workers in [1, 2] {
      let blocked = online(q, x, beta: beta, queryBlock: qb, patternBlock: pb, workers: workers)
      let error = largestDifference(blocked, expected)
      #expect(error <= max(tolerance, 4 * plainError), "B=\(b) N=\(n) d=\(d) workers \(workers): \(error)")
    }
    let third = n / 3
    let chunked = online(
      q, x, beta: beta, queryBlock: qb, patternBlock: pb, workers: 2, chunks: [third, n - 2 * third, third])
    #expect(largestDifference(chunked, expected) <= max(tolerance, 4 * plainError))
  }

  @Test("NaN and infinite logits give the materialised path's result: NaN rows stay NaN, −∞ logits weigh 0")
  func nonFinite() {
    // d = 1; patterns 0..<64 are 1e30, the others 1 and 2. Query rows: finite, NaN, +huge (logits
    // +∞ on the first block), −huge (logits −∞ on the first block, finite after).
    let n = 200
    let x = Matrix<Float>(rows: n, columns: 1) { i, _ in i < 64 ? 1e30 : (i % 2 == 0 ? 1 : 2) }
    let q = Matrix<Float>(rows: 4, columns: 1, elements: [0.5, .nan, 1e20, -1e20])
    let plain = materialized(q, x, beta: 1)
    let blocked = online(q, x, beta: 1, queryBlock: 2, patternBlock: 64, workers: 2)
    for r in 0..<4 {
      #expect(plain[r, 0].isNaN == blocked[r, 0].isNaN, "row \(r): \(plain[r, 0]) vs \(blocked[r, 0])")
      if !plain[r, 0].isNaN { #expect(abs(plain[r, 0] - blocked[r, 0]) <= 1e-6 * abs(plain[r, 0])) }
    }
    #expect(blocked[1, 0].isNaN && blocked[2, 0].isNaN)
    // Row 3: the first block's logits are −∞ (weight 0); the rest weigh exp(−1e20·x_j), dominated by x = 1.
    #expect(blocked[3, 0] == 1)
    #expect(abs(blocked[0, 0] - 1e30) <= 1e24)
  }

  @Test("scores: the largest logit and the best cosine with its runner-up, across blocks and chunks")
  func scores() {
    var rng = TestRNG(seed: 9)
    let n = 333
    let d = 5
    let x: Matrix<Double> = rng.matrix(n, d)
    let q: Matrix<Double> = rng.matrix(7, d)
    let norms = x.rowNorms()
    var inverse = norms.map { 1 / $0 }
    inverse[17] = .nan  // an unusable pattern is never chosen
    var attention = OnlineSoftmaxAttention<Double>(
      batchSize: 7, dimension: d, queryBlock: 3, patternBlock: 50, workers: 2, tracksScores: true)
    var out = Matrix<Double>(rows: 7, columns: d)
    q.withUnsafeBufferPointer { qp in
      x.withUnsafeBufferPointer { xp in
        inverse.withUnsafeBufferPointer { w in
          out.withUnsafeMutableBufferPointer { op in
            attention.begin(rows: 7, output: op.baseAddress!)
            for (start, size) in [(0, 100), (100, 233)] {
              attention.accumulate(
                queries: qp.baseAddress!, rows: 7, patterns: xp.baseAddress! + start * d, count: size,
                firstIndex: start, beta: 2, inverseNorms: w.baseAddress! + start, output: op.baseAddress!)
            }
            attention.finish(rows: 7, output: op.baseAddress!)
          }
        }
      }
    }
    let scores = attention.scores!
    for r in 0..<7 {
      let z = (0..<n).map { j in 2 * (0..<d).reduce(0.0) { $0 + q[r, $1] * x[j, $1] } }
      let k = z.indices.max { z[$0] < z[$1] }!
      #expect(scores.logitArgmax[r] == k)
      #expect(abs(scores.logitMax[r] - z[k]) <= 1e-12)
      #expect(abs(scores.logitMin[r] - z.min()!) <= 1e-12)
      let cosines = z.indices.map { $0 == 17 ? -Double.infinity : z[$0] / norms[$0] }
      let sorted = cosines.indices.sorted { cosines[$0] > cosines[$1] }
      #expect(scores.bestIndex[r] == sorted[0])
      #expect(abs(scores.second[r] - cosines[sorted[1]]) <= 1e-12)
      let logSum = Double.log(z.reduce(0.0) { $0 + Double.exp($1 - z[k]) })
      #expect(abs(attention.logSumAboveMaximum(row: r) - logSum) <= 1e-12)
    }
  }
}
