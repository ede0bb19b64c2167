import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

extension ModernHopfield: BatchLinearizable, AnalyzableRule {
  /// The Jacobians and Hessians of K states in BLAS-3 form.
  ///
  /// ```
  /// J(ξₖ) = β (Xᵀ diag(pₖ) X − mₖ mₖᵀ),   pₖ = softmax(β X ξₖ),   mₖ = Xᵀ pₖ
  /// Xᵀ diag(pₖ) X = Σ_μ pₖμ xμ xμᵀ  ⇒  upper triangles of all K = P · U   (one K × N × d(d+1)/2 GEMM)
  /// H(ξₖ) = I − J(ξₖ)
  /// ```
  ///
  /// U is the upper half of the row-wise Khatri–Rao square (row μ holds xμᵢ xμⱼ for i ≤ j,
  /// N × d(d+1)/2); the symmetric blocks are unpacked from it. When U would exceed 2²⁶ elements
  /// the blocks are formed one state at a time instead (diag(pₖ)X, then one GEMM each).
  /// The rank-one correction is a k = 1 GEMM per block, so no per-element Swift loop touches the
  /// K × d² stack besides H = I − J.
  public func linearizationStacks(at states: Matrix<Scalar>) -> (jacobians: Matrix<Scalar>, hessians: Matrix<Scalar>?) {
    linearizationStacks(at: states, khatriRaoLimit: 1 << 26)
  }

  /// The same, with the size limit of the Khatri–Rao path as a parameter (tests exercise both paths).
  func linearizationStacks(at states: Matrix<Scalar>, khatriRaoLimit: Int) -> (
    jacobians: Matrix<Scalar>, hessians: Matrix<Scalar>?
  ) {
    let d = dimension
    let n = patternCount
    let k = states.rows
    let p = separation(states)  // K × N
    let means = p.multiplied(by: patterns)  // K × d, row k = Xᵀ pₖ
    var stack: Matrix<Scalar>
    if n * d * (d + 1) / 2 <= khatriRaoLimit {
      let upper = Kernels.khatriRaoUpper(patterns)
      var packed = Matrix<Scalar>(rows: k, columns: upper.columns)
      Matrix.multiply(p, upper, alpha: beta, into: &packed)
      stack = Kernels.symmetricBlocks(fromPacked: packed, dimension: d)
    } else {
      stack = Matrix<Scalar>(rows: k, columns: d * d)
      var weighted = Matrix<Scalar>(rows: n, columns: d)
      p.withUnsafeBufferPointer { pp in
        patterns.withUnsafeBufferPointer { x in
          weighted.withUnsafeMutableBufferPointer { w in
            stack.withUnsafeMutableBufferPointer { s in
              for r in 0..<k {
                Kernels.scaleRows(
                  x.baseAddress!, rows: n, columns: d, by: pp.baseAddress! + r * n, into: w.baseAddress!)
                Scalar.gemm(
                  transposeA: true, transposeB: false, m: d, n: d, k: n, alpha: beta, a: x.baseAddress!, lda: d,
                  b: w.baseAddress!, ldb: d, beta: 0, c: s.baseAddress! + r * d * d, ldc: d)
              }
            }
          }
        }
      }
    }
    // Rank-one correction −β mₖ mₖᵀ on each block.
    means.withUnsafeBufferPointer { m in
      stack.withUnsafeMutableBufferPointer { s in
        for r in 0..<k {
          let mk = m.baseAddress! + r * d
          Scalar.gemm(
            transposeA: false, transposeB: false, m: d, n: d, k: 1, alpha: -beta, a: mk, lda: 1, b: mk, ldb: d,
            beta: 1, c: s.baseAddress! + r * d * d, ldc: d)
        }
      }
    }
    return (stack, Kernels.identityMinus(stack, dimension: d))
  }
}
