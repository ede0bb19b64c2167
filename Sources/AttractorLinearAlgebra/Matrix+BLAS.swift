// BLAS-backed products. Shapes are checked with preconditions: a mismatch here is a bug in the
// caller, and user-facing entry points validate their inputs before they get this far.

extension Matrix {
  /// General matrix product into a preallocated result: `C ← α op(A) op(B) + β C`.
  ///
  /// ```
  /// op(A) = A or Aᵀ,  op(B) = B or Bᵀ,  C is (rows of op(A)) × (columns of op(B))
  /// ```
  ///
  /// One call to `cblas_sgemm` / `cblas_dgemm`; no allocation. With `beta = 0` the previous
  /// contents of `c` are ignored (BLAS does not read them, so NaN there does not leak).
  public static func multiply(
    _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Scalar = 1, beta: Scalar = 0, into c: inout Matrix
  ) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kb = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    precondition(k == kb, "multiply: inner dimensions differ (\(k) vs \(kb))")
    precondition(c.rows == m && c.columns == n, "multiply: result is \(c.rows) × \(c.columns), needs \(m) × \(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
      c.withUnsafeMutableBufferPointer { cc in for i in cc.indices { cc[i] = beta == 0 ? 0 : beta * cc[i] } }
      return
    }
    a.elements.withUnsafeBufferPointer { pa in
      b.elements.withUnsafeBufferPointer { pb in
        c.elements.withUnsafeMutableBufferPointer { pc in
          Scalar.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: pa.baseAddress!, lda: max(1, a.columns),
            b: pb.baseAddress!, ldb: max(1, b.columns),
            beta: beta, c: pc.baseAddress!, ldc: max(1, n))
        }
      }
    }
  }

  /// The product `op(self) op(other)` as a new matrix.
  public func multiplied(by other: Matrix, transposeSelf: Bool = false, transposeOther: Bool = false) -> Matrix {
    var c = Matrix(
      rows: transposeSelf ? columns : rows, columns: transposeOther ? other.rows : other.columns)
    Matrix.multiply(self, other, transposeA: transposeSelf, transposeB: transposeOther, into: &c)
    return c
  }

  /// Matrix product `lhs · rhs`.
  public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.multiplied(by: rhs) }

  /// Matrix–vector product into a preallocated result: `y ← α op(A) x + β y`.
  public static func multiply(
    _ a: Matrix, vector x: [Scalar], transpose: Bool = false, alpha: Scalar = 1, beta: Scalar = 0,
    into y: inout [Scalar]
  ) {
    let outCount = transpose ? a.columns : a.rows
    let inCount = transpose ? a.rows : a.columns
    precondition(x.count == inCount, "multiply(vector:): vector has \(x.count) entries, needs \(inCount)")
    precondition(y.count == outCount, "multiply(vector:): result has \(y.count) entries, needs \(outCount)")
    if outCount == 0 { return }
    if inCount == 0 {
      for i in y.indices { y[i] = beta == 0 ? 0 : beta * y[i] }
      return
    }
    a.elements.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          Scalar.gemv(
            transpose: transpose, m: a.rows, n: a.columns, alpha: alpha, a: pa.baseAddress!,
            lda: max(1, a.columns), x: px.baseAddress!, incx: 1, beta: beta, y: py.baseAddress!, incy: 1)
        }
      }
    }
  }

  /// `op(self) x` as a new array.
  public func multiplied(byVector x: [Scalar], transpose: Bool = false) -> [Scalar] {
    var y = [Scalar](repeating: 0, count: transpose ? columns : rows)
    Matrix.multiply(self, vector: x, transpose: transpose, into: &y)
    return y
  }
}

/// Dot product of two equal-length vectors (BLAS `?dot`).
public func dot<Scalar: LinearAlgebraScalar>(_ x: [Scalar], _ y: [Scalar]) -> Scalar {
  precondition(x.count == y.count, "dot: lengths differ (\(x.count) vs \(y.count))")
  if x.isEmpty { return 0 }
  return x.withUnsafeBufferPointer { px in
    y.withUnsafeBufferPointer { py in
      Scalar.dot(n: x.count, x: px.baseAddress!, incx: 1, y: py.baseAddress!, incy: 1)
    }
  }
}
