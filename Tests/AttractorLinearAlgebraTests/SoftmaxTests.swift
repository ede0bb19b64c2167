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

@Suite("Vectorised Float softmax")
struct FloatSoftmaxKernelTests {
  @Test("agrees with a Double softmax to a few ulp over a wide range of logits, underflow gives exact zeros")
  func agreesWithDouble() {
    var rng = TestRNG(seed: 21)
    for (rows, columns, scale) in [(3, 1, 1.0), (5, 7, 10.0), (4, 33, 100.0), (2, 1000, 30.0), (1, 17, 1e4)] {
      let logits: Matrix<Double> = rng.matrix(rows, columns)
      let scaled = scale * logits
      var reference = scaled
      for i in 0..<rows { reference.setRow(i, to: softmax(scaled.row(i))) }  // Double, libm exp
      var fast = Matrix<Float>(rows: rows, columns: columns, elements: scaled.elements.map { Float($0) })
      fast.softmaxRows()
      for k in 0..<(rows * columns) {
        let r = reference.elements[k]
        let f = Double(fast.elements[k])
        if r < 1e-37 {
          #expect(f < 1e-37)
        } else {
          // Float rounding of the logits themselves contributes |z|·2⁻²⁴ to the relative error.
          let allowed = 8e-7 + 2 * scale * 6e-8
          #expect(abs(f - r) <= allowed * r, "scale \(scale) entry \(k): \(f) vs \(r)")
        }
      }
    }
    var extreme = Matrix<Float>(rowArrays: [[0, -1e4, -100, -87.4]])
    extreme.softmaxRows()
    #expect(extreme.elements == [1, 0, 0, 0])
  }
}

@Suite("Training kernels")
struct TrainingKernelTests {
  @Test("softmax backward equals p ⊙ (g − ⟨p, g⟩) row by row, Float and Double, odd lengths")
  func softmaxBackward() {
    for count in [1, 7, 16, 33, 1000] {
      let rows = 3
      var p = [Double](repeating: 0, count: rows * count), g = p
      for r in 0..<rows {
        var sum = 0.0
        for i in 0..<count {
          p[r * count + i] = Double((i * 37 + r * 11) % 17 + 1)
          sum += p[r * count + i]
          g[r * count + i] = Double((i * 13 + r * 5) % 11) / 5 - 1
        }
        for i in 0..<count { p[r * count + i] /= sum }
      }
      var expected = g
      for r in 0..<rows {
        var dot = 0.0
        for i in 0..<count { dot += p[r * count + i] * g[r * count + i] }
        for i in 0..<count { expected[r * count + i] = p[r * count + i] * (g[r * count + i] - dot) }
      }
      var gd = g
      p.withUnsafeBufferPointer { pp in
        gd.withUnsafeMutableBufferPointer { gp in
          Double.softmaxBackwardInPlace(
            probabilities: pp.baseAddress!, gradients: gp.baseAddress!, rows: rows, count: count)
        }
      }
      #expect(zip(gd, expected).allSatisfy { abs($0 - $1) < 1e-15 })
      let pf = p.map(Float.init)
      var gf = g.map(Float.init)
      pf.withUnsafeBufferPointer { pp in
        gf.withUnsafeMutableBufferPointer { gp in
          Float.softmaxBackwardInPlace(
            probabilities: pp.baseAddress!, gradients: gp.baseAddress!, rows: rows, count: count)
        }
      }
      #expect(zip(gf, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    }
  }

  @Test("one AdamW step: first step moves each parameter by about −η·sign(g) − ηλθ")
  func adamW() {
    var theta: [Float] = [1, -2, 0.5, 3]
    let g: [Float] = [0.1, -4, 0, 2]
    var m = [Float](repeating: 0, count: 4), v = m
    let before = theta
    theta.withUnsafeMutableBufferPointer { t in
      g.withUnsafeBufferPointer { gp in
        m.withUnsafeMutableBufferPointer { mp in
          v.withUnsafeMutableBufferPointer { vp in
            Float.adamWStep(
              parameters: t.baseAddress!, gradients: gp.baseAddress!, firstMoments: mp.baseAddress!,
              secondMoments: vp.baseAddress!,
              count: 4, beta1: 0.9, beta2: 0.999, learningRate: 0.01, epsilon: 1e-8, weightDecay: 0.1, c1: 0.1,
              c2: 0.001)
          }
        }
      }
    }
    for i in 0..<4 {
      let sign: Float = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
      #expect(abs(theta[i] - (before[i] - 0.01 * sign - 0.01 * 0.1 * before[i])) < 1e-5)
      #expect(abs(m[i] - 0.1 * g[i]) < 1e-6 && abs(v[i] - 0.001 * g[i] * g[i]) < 1e-6)
    }
  }
}

@Suite("Row softmax split over the thread pool")
struct PooledSoftmaxTests {
  /// Row by row on the calling thread: what the pool must reproduce bit for bit.
  static func rowByRow<S: LinearAlgebraScalar>(_ m: Matrix<S>) -> Matrix<S> {
    var out = m
    out.withUnsafeMutableBufferPointer { p in
      for i in 0..<m.rows { S.softmaxInPlace(p.baseAddress! + i * m.columns, count: m.columns) }
    }
    return out
  }

  @Test("A batch large enough to be split equals the row-by-row softmax exactly, Float and Double")
  func splitEqualsSequential() {
    var rng = TestRNG(seed: 5)
    for (rows, columns) in [(300, 400), (7, 20_000), (2, 40_000)] {
      let logits: Matrix<Double> = 8 * rng.matrix(rows, columns)
      var pooled = logits
      pooled.softmaxRows()
      #expect(pooled == Self.rowByRow(logits), "\(rows) × \(columns), Double")
      let logitsF = Matrix<Float>(rows: rows, columns: columns, elements: logits.elements.map { Float($0) })
      var pooledF = logitsF
      pooledF.softmaxRows()
      #expect(pooledF == Self.rowByRow(logitsF), "\(rows) × \(columns), Float")
    }
  }

  @Test("Callers on several threads at once (one gets the pool, the others run alone) all get the right rows")
  func concurrentCallers() async {
    var rng = TestRNG(seed: 6)
    let inputs: [Matrix<Double>] = (0..<6).map { _ in 4 * rng.matrix(200, 400) }
    let expected = inputs.map { Self.rowByRow($0) }
    let results = await withTaskGroup(of: (Int, Matrix<Double>).self) { group in
      for (i, m) in inputs.enumerated() {
        group.addTask {
          var out = m
          for _ in 0..<5 {
            out = m
            out.softmaxRows()
          }
          return (i, out)
        }
      }
      var all = [Matrix<Double>?](repeating: nil, count: inputs.count)
      for await (i, m) in group { all[i] = m }
      return all
    }
    for i in inputs.indices { #expect(results[i] == expected[i], "caller \(i)") }
  }
}
