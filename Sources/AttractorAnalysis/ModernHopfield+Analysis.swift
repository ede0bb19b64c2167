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
    let stack = batchJacobians(at: states, khatriRaoLimit: khatriRaoLimit)
    return (stack, Kernels.identityMinus(stack, dimension: dimension))
  }

  /// The Jacobians only, marked H = I − J: what analysis uses (the classification then reads the
  /// Hessian's eigenvalues off the Jacobian's, one decomposition per point). Finite differences of
  /// the update and of the energy's gradient when ``LinearizationOptions/forceFiniteDifferences``.
  ///
  /// H = I − J holds exactly for this network: E(ξ) = −β⁻¹ lse(β X ξ) + ½ ξᵀξ + const has
  /// ∇E(ξ) = ξ − Xᵀ softmax(β X ξ) = ξ − f(ξ), so ∇²E = I − ∂f/∂ξ (Ramsauer et al. 2020, A.1).
  public func linearization(at states: Matrix<Scalar>, options: LinearizationOptions) -> Linearization<Scalar> {
    if options.forceFiniteDifferences {
      let j = jacobianStack(at: states, options: options)
      let h = hessianStack(at: states, options: options)
      return Linearization(jacobians: j.stack, jacobianSource: j.source, hessians: h?.stack, hessianSource: h?.source)
    }
    let p = separation(states)  // K × N
    var result = Linearization(
      jacobiansWithHessianIdentityMinusJacobian: batchJacobians(at: states, weights: p, khatriRaoLimit: 1 << 26),
      source: .analytic)
    result.separation = p
    return result
  }

  /// J(ξₖ) = β (Xᵀ diag(pₖ) X − mₖ mₖᵀ) for every row: three GEMMs for the whole batch (weights,
  /// means, packed upper triangles) and one pass that unpacks the triangles and subtracts the
  /// rank-one term, so no allocation or BLAS call per state on the Khatri–Rao path.
  func batchJacobians(at states: Matrix<Scalar>, khatriRaoLimit: Int) -> Matrix<Scalar> {
    batchJacobians(at: states, weights: separation(states), khatriRaoLimit: khatriRaoLimit)
  }

  /// The same from the pattern weights p = separation(states) (K × N), already computed.
  func batchJacobians(at states: Matrix<Scalar>, weights p: Matrix<Scalar>, khatriRaoLimit: Int) -> Matrix<Scalar> {
    if let j = packedJacobians(weights: p, khatriRaoLimit: khatriRaoLimit) {
      return Kernels.jacobianBlocks(fromPacked: j.packed, means: j.means, beta: beta, dimension: dimension)
    }
    let d = dimension
    let n = patternCount
    let k = states.rows
    let means = p.multiplied(by: patterns)  // K × d, row k = Xᵀ pₖ
    var stack = Matrix<Scalar>(rows: k, columns: d * d)
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
    Kernels.subtractOuterProducts(&stack, means: means, beta: beta, dimension: d)
    return stack
  }

  /// The Jacobians before unpacking, from the pattern weights p = separation(states) (K × N): the
  /// means (K × d, one GEMM) and the packed upper triangles of β Xᵀ diag(pₖ) X (K × d(d+1)/2, one
  /// GEMM with the Khatri–Rao square U); `nil` when U would exceed `khatriRaoLimit` elements.
  func packedJacobians(weights p: Matrix<Scalar>, khatriRaoLimit: Int) -> PackedJacobians<Scalar>? {
    let d = dimension
    guard patternCount * d * (d + 1) / 2 <= khatriRaoLimit else { return nil }
    let means = p.multiplied(by: patterns)  // K × d, row k = Xᵀ pₖ
    let upper = Kernels.khatriRaoUpper(patterns)
    var packed = Matrix<Scalar>(rows: p.rows, columns: upper.columns)
    Matrix.multiply(p, upper, alpha: beta, into: &packed)
    return PackedJacobians(packed: packed, means: means, beta: beta, dimension: d)
  }

  /// What ``linearization(at:options:)`` gives, with the Jacobians left packed: the classification's
  /// workers unpack each point's block themselves (``PackedJacobians/unpack(row:into:)``, the same
  /// values bit for bit) instead of the calling thread forming the K × d² stack. `nil` where
  /// ``linearization(at:options:)`` takes another path (finite differences, or U too large).
  /// The returned linearisation's `jacobians` is empty.
  func packedLinearization(at states: Matrix<Scalar>, options: LinearizationOptions) -> (
    Linearization<Scalar>, PackedJacobians<Scalar>
  )? {
    guard !options.forceFiniteDifferences else { return nil }
    let p = separation(states)  // K × N
    guard let packed = packedJacobians(weights: p, khatriRaoLimit: 1 << 26) else { return nil }
    var result = Linearization(
      jacobiansWithHessianIdentityMinusJacobian: Matrix<Scalar>(rows: 0, columns: 0), source: .analytic)
    result.separation = p
    return (result, packed)
  }
}

/// K modern Hopfield Jacobians Jₖ = β (Xᵀ diag(pₖ) X − mₖ mₖᵀ) kept as the packed upper
/// triangles of β Xᵀ diag(pₖ) X and the means mₖ (d(d+1)/2 + d numbers per point instead of d²).
struct PackedJacobians<Scalar: LinearAlgebraScalar>: Sendable {
  /// K × d(d+1)/2: row k holds β Xᵀ diag(pₖ) X's upper triangle, row by row.
  var packed: Matrix<Scalar>
  /// K × d: row k is mₖ = Xᵀ pₖ.
  var means: Matrix<Scalar>
  var beta: Scalar
  var dimension: Int

  /// Writes Jₖ for k = `row` as a row-major d × d block (exactly symmetric): the values of the
  /// batch unpacking (``Kernels/jacobianBlock(fromPacked:mean:beta:dimension:into:)``).
  func unpack(row r: Int, into block: UnsafeMutablePointer<Scalar>) {
    let d = dimension
    packed.withUnsafeBufferPointer { src in
      means.withUnsafeBufferPointer { m in
        Kernels.jacobianBlock(
          fromPacked: src.baseAddress! + r * packed.columns, mean: m.baseAddress! + r * d, beta: beta, dimension: d,
          into: block)
      }
    }
  }
}
