import Testing
@testable import AttractorLinearAlgebra

@Suite("BLAS products")
struct MatrixBLASTests {
  @Test(
    "gemm matches a naive product for every transpose combination (Float and Double)",
    arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmMatchesNaive(transposeA: Bool, transposeB: Bool) {
    check(Double.self, transposeA, transposeB, tolerance: 1e-12)
    check(Float.self, transposeA, transposeB, tolerance: 1e-4)
  }

  func check<S: LinearAlgebraScalar>(_: S.Type, _ ta: Bool, _ tb: Bool, tolerance: S) {
    var rng = TestRNG(seed: 7)
    for (m, n, k) in [(1, 1, 1), (3, 5, 4), (17, 9, 33), (64, 65, 31)] {
      let a: Matrix<S> = ta ? rng.matrix(k, m) : rng.matrix(m, k)
      let b: Matrix<S> = tb ? rng.matrix(n, k) : rng.matrix(k, n)
      let c0: Matrix<S> = rng.matrix(m, n)
      var c = c0
      Matrix.multiply(a, b, transposeA: ta, transposeB: tb, alpha: 2, beta: -0.5, into: &c)
      let expected = naiveProduct(ta ? a.transposed() : a, tb ? b.transposed() : b)
      for i in 0..<m {
        for j in 0..<n {
          let e = 2 * expected[i, j] - 0.5 * c0[i, j]
          #expect(abs(c[i, j] - e) <= tolerance * S(k), "m=\(m) n=\(n) k=\(k) at (\(i), \(j))")
        }
      }
    }
  }

  @Test("beta = 0 ignores NaN already in the result")
  func betaZeroIgnoresGarbage() {
    let a = Matrix<Double>(rowArrays: [[1, 2], [3, 4]])
    var c = Matrix<Double>(rows: 2, columns: 2, repeating: .nan)
    Matrix.multiply(a, a, into: &c)
    #expect(c == Matrix(rowArrays: [[7, 10], [15, 22]]))
  }

  @Test("gemv and dot match naive sums")
  func gemvMatchesNaive() {
    var rng = TestRNG(seed: 11)
    let a: Matrix<Double> = rng.matrix(7, 5)
    let x = (0..<5).map { _ in rng.uniform() }
    let xt = (0..<7).map { _ in rng.uniform() }
    let y = a.multiplied(byVector: x)
    let yt = a.multiplied(byVector: xt, transpose: true)
    for i in 0..<7 { #expect(abs(y[i] - (0..<5).reduce(0) { $0 + a[i, $1] * x[$1] }) < 1e-12) }
    for j in 0..<5 { #expect(abs(yt[j] - (0..<7).reduce(0) { $0 + a[$1, j] * xt[$1] }) < 1e-12) }
    #expect(abs(dot(x, x) - x.reduce(0) { $0 + $1 * $1 }) < 1e-12)
  }

  @Test("empty inner dimension gives β C")
  func emptyInnerDimension() {
    let a = Matrix<Float>(rows: 2, columns: 0)
    let b = Matrix<Float>(rows: 0, columns: 3)
    var c = Matrix<Float>(rows: 2, columns: 3, repeating: 4)
    Matrix.multiply(a, b, beta: 0.5, into: &c)
    #expect(c == Matrix(rows: 2, columns: 3, repeating: 2))
  }
}
