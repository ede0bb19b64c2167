import AttractorCore
import AttractorLinearAlgebra

extension IterativeAttention: BatchLinearizable {
  /// The Jacobians of the update at every row of `states` (``jacobians(at:)``); no Hessian, since
  /// the stack descends no energy.
  public func linearizationStacks(at states: Matrix<Scalar>) -> (jacobians: Matrix<Scalar>, hessians: Matrix<Scalar>?) {
    (jacobians(at: states), nil)
  }

  /// The Jacobian J = J_L ⋯ J_1 of one step at every row of `states`, as a `K × d²` stack (row k
  /// holds J(xₖ) row-major), in closed form from BLAS-3 products.
  ///
  /// For layer l and head h, with pₕ the head's attention weights at the layer's input q,
  /// Kₕ = (K W_K)[:, h] and Vₕ = (V W_V)[:, h] (M × d_h), and s = 1/(τ√d_h):
  ///
  /// ```
  /// Gₕ  = s (Vₕᵀ diag(pₕ) Kₕ − v̄ₕ k̄ₕᵀ),   v̄ₕ = Vₕᵀ pₕ (the head's output), k̄ₕ = Kₕᵀ pₕ   (d_h × d_h)
  /// J_l = W_Oᵀ [G₁ W_Q[:, 1]ᵀ; …; G_H W_Q[:, H]ᵀ]                                        (d × d)
  /// J   = J_L ⋯ J_1
  /// ```
  ///
  /// Gₕ is Vₕᵀ (diag pₕ − pₕpₕᵀ) Kₕ with the softmax Jacobian's rank-one part applied as a
  /// d_h × d_h outer product of two means. The M-sized work per head is, for a chunk of states,
  /// one GEMM of their attention weights (chunk × M) against the row-wise Khatri–Rao product of
  /// Vₕ and Kₕ (M × d_h², row μ = vec(vμ kμᵀ), formed in blocks of at most 2²¹ elements, 16 MiB
  /// in Double), or, for fewer than max(4, d_h/2) states, one scaled copy of Kₕ and one
  /// d_h × M × d_h GEMM per state; k̄ₕ
  /// for the whole chunk is one GEMM. The states go through
  /// the stack in chunks (the attention weights of a chunk are kept for one layer at a time, at
  /// most about 2²² values), every scratch buffer is allocated once per call, and the projected
  /// memory comes from the model's cache. Cost per state: about L (2 M d d_h + 6 d³) operations.
  ///
  /// Stacks that are not plain (residual connections, LayerNorm, feed-forward sublayers or the
  /// mixture readout; ``IterativeAttentionConfiguration/isPlain``) have no closed form here: their
  /// Jacobians are central finite differences of the update (``finiteDifferenceJacobians(at:)``),
  /// which the tests check against this closed form on plain stacks.
  public func jacobians(at states: Matrix<Scalar>) -> Matrix<Scalar> {
    guard configuration.isPlain else { return finiteDifferenceJacobians(at: states) }
    return jacobians(at: states, bufferLimit: 1 << 22, khatriRaoLimit: 1 << 21)
  }

  /// The Jacobian of one step at every row of `states` (a `K × d²` stack, row-major J per row) by
  /// central differences, J[:, j] ≈ (f(x + h eⱼ) − f(x − h eⱼ)) / 2h, with all 2d probes of a state
  /// in one batched forward pass. The step is h = c · max(1, RMS(x)) with c = 10⁻⁵ in Double and
  /// 3·10⁻³ in Float: the truncation error is O(h²) and the rounding error O(ε_mach/h), so entries
  /// are accurate to about 10⁻⁹ (Double) or 10⁻⁴ (Float) of the Jacobian's scale.
  public func finiteDifferenceJacobians(at states: Matrix<Scalar>) -> Matrix<Scalar> {
    precondition(
      states.columns == dimension, "jacobians: states have \(states.columns) columns, the model needs \(dimension)")
    let k = states.rows, d = dimension
    var stack = Matrix<Scalar>(rows: k, columns: d * d)
    if k == 0 { return stack }
    let c: Double = Scalar.self == Double.self ? 1e-5 : 3e-3
    var workspace = makeWorkspace(batchSize: 2 * d)
    var probes = Matrix<Scalar>(rows: 2 * d, columns: d)
    var out = Matrix<Scalar>(rows: 2 * d, columns: d)
    for r in 0..<k {
      let x = states.row(r)
      let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(d)).squareRoot()
      let h = Scalar(c * max(1, rms))
      for j in 0..<d {
        probes.setRow(2 * j, to: x)
        probes.setRow(2 * j + 1, to: x)
        probes[2 * j, j] += h
        probes[2 * j + 1, j] -= h
      }
      update(probes, into: &out, workspace: &workspace)
      for j in 0..<d {
        for i in 0..<d { stack[r, i * d + j] = (out[2 * j, i] - out[2 * j + 1, i]) / (2 * h) }
      }
    }
    return stack
  }

  /// ``jacobians(at:)`` with the buffer limits as parameters (tests exercise chunks and blocks):
  /// a chunk's attention weights and head Jacobians hold at most `bufferLimit` elements each, a
  /// block of the Khatri–Rao product at most `khatriRaoLimit`.
  func jacobians(at states: Matrix<Scalar>, bufferLimit: Int, khatriRaoLimit: Int) -> Matrix<Scalar> {
    precondition(
      states.columns == dimension, "jacobians: states have \(states.columns) columns, the model needs \(dimension)")
    let k = states.rows, d = dimension
    var stack = Matrix<Scalar>(rows: k, columns: d * d)
    if k == 0 { return stack }
    let chunk = max(1, min(k, bufferLimit / max(1, memorySize * configuration.heads), bufferLimit / (d * d)))
    let scratch = JacobianScratch<Scalar>(
      memory: memorySize, width: d, headWidth: configuration.headWidth, batch: chunk, khatriRaoLimit: khatriRaoLimit)
    let projected = projectedMemory
    var buffers = LayerBuffers(batch: 0, width: d, memory: memorySize, headCount: configuration.heads)
    var start = 0
    while start < k {
      let end = min(k, start + chunk)
      let part = start == 0 && end == k ? states : states.rows(at: start..<end)
      if buffers.queries.rows != part.rows {
        buffers = LayerBuffers(batch: part.rows, width: d, memory: memorySize, headCount: configuration.heads)
      }
      stack.withUnsafeMutableBufferPointer { s in
        fillJacobians(
          part, into: s.baseAddress! + start * d * d, buffers: &buffers, projected: projected, scratch: scratch)
      }
      start = end
    }
    return stack
  }

  /// The Jacobians of the rows of `states` into consecutive d × d blocks at `out`.
  private func fillJacobians(
    _ states: Matrix<Scalar>, into out: UnsafeMutablePointer<Scalar>, buffers: inout LayerBuffers,
    projected: (keys: [Matrix<Scalar>], values: [Matrix<Scalar>]), scratch: JacobianScratch<Scalar>
  ) {
    let b = states.rows, d = dimension, m = memorySize, dh = configuration.headWidth
    let s = Scalar(configuration.logitScale)
    // With many states, Vₕᵀ diag(pₖ) Kₕ for all of them is one GEMM against the row-wise
    // Khatri–Rao product (row μ: vec(vμ kμᵀ), d_h² columns), built block by block of memory rows.
    // Building and packing it costs about what d_h²-wide work on one state costs, and the
    // per-state path's copies about 1/d_h of its GEMM, so it pays from about d_h/2 states on.
    let khatriRao = b >= max(4, dh / 2)
    let blockRows = scratch.khatriRaoRows
    var input = states
    var output = Matrix<Scalar>(rows: b, columns: d)
    var meanKeys = Matrix<Scalar>(rows: b, columns: d)
    for l in 0..<layers.count {
      applyLayer(
        l, input: input, output: &output, buffers: &buffers, projectedKeys: projected.keys[l],
        projectedValues: projected.values[l])
      projected.keys[l].withUnsafeBufferPointer { kp in
        projected.values[l].withUnsafeBufferPointer { vp in
          layers[l].query.withUnsafeBufferPointer { wq in
            layers[l].output.withUnsafeBufferPointer { wo in
              buffers.heads.withUnsafeBufferPointer { heads in
                meanKeys.withUnsafeMutableBufferPointer { mk in
                  let keys = kp.baseAddress!, values = vp.baseAddress!
                  for h in 0..<configuration.heads {
                    buffers.weights[h].withUnsafeBufferPointer { pp in
                      let p = pp.baseAddress!
                      // k̄ₕ for every state: Pₕ Kₕ (b × d_h), into column block h.
                      Scalar.gemm(
                        transposeA: false, transposeB: false, m: b, n: dh, k: m, alpha: 1, a: p, lda: m,
                        b: keys + h * dh, ldb: d, beta: 0, c: mk.baseAddress! + h * dh, ldc: d)
                      // gs row k: vec(Vₕᵀ diag(pₖ) Kₕ)   (b × d_h²)
                      if khatriRao {
                        var first = 0
                        while first < m {
                          let rows = min(blockRows, m - first)
                          AttentionKernels.khatriRao(
                            values + first * d + h * dh, keys + first * d + h * dh, rows: rows, width: dh, stride: d,
                            into: scratch.khatriRao)
                          Scalar.gemm(
                            transposeA: false, transposeB: false, m: b, n: dh * dh, k: rows, alpha: 1, a: p + first,
                            lda: m, b: scratch.khatriRao, ldb: dh * dh, beta: first == 0 ? 0 : 1, c: scratch.blocks,
                            ldc: dh * dh)
                          first += rows
                        }
                      } else {
                        for r in 0..<b {
                          AttentionKernels.scaleRows(
                            keys + h * dh, rows: m, columns: dh, stride: d, by: p + r * m, into: scratch.weighted)
                          Scalar.gemm(
                            transposeA: true, transposeB: false, m: dh, n: dh, k: m, alpha: 1, a: values + h * dh,
                            lda: d, b: scratch.weighted, ldb: dh, beta: 0, c: scratch.blocks + r * dh * dh, ldc: dh)
                        }
                      }
                    }
                    for r in 0..<b {
                      let g = scratch.blocks + r * dh * dh
                      // G/s = Vₕᵀ diag(p) Kₕ − v̄ k̄ᵀ
                      Scalar.gemm(
                        transposeA: false, transposeB: false, m: dh, n: dh, k: 1, alpha: -1,
                        a: heads.baseAddress! + r * d + h * dh, lda: 1, b: mk.baseAddress! + r * d + h * dh, ldb: dh,
                        beta: 1, c: g, ldc: dh)
                      // Rows h·d_h … of ∂(heads)/∂q: G W_Q[:, h]ᵀ (d_h × d).
                      Scalar.gemm(
                        transposeA: false, transposeB: true, m: dh, n: d, k: dh, alpha: s, a: g, lda: dh,
                        b: wq.baseAddress! + h * dh, ldb: d, beta: 0, c: scratch.heads + r * d * d + h * dh * d, ldc: d)
                    }
                  }
                  for r in 0..<b {
                    let total = out + r * d * d
                    let headJacobian = scratch.heads + r * d * d
                    if l == 0 {
                      Scalar.gemm(
                        transposeA: true, transposeB: false, m: d, n: d, k: d, alpha: 1, a: wo.baseAddress!, lda: d,
                        b: headJacobian, ldb: d, beta: 0, c: total, ldc: d)
                    } else {
                      Scalar.gemm(
                        transposeA: true, transposeB: false, m: d, n: d, k: d, alpha: 1, a: wo.baseAddress!, lda: d,
                        b: headJacobian, ldb: d, beta: 0, c: scratch.layer, ldc: d)
                      Scalar.gemm(
                        transposeA: false, transposeB: false, m: d, n: d, k: d, alpha: 1, a: scratch.layer, lda: d,
                        b: total, ldb: d, beta: 0, c: scratch.product, ldc: d)
                      total.update(from: scratch.product, count: d * d)
                    }
                  }
                }
              }
            }
          }
        }
      }
      swap(&input, &output)
    }
  }
}

/// The scratch buffers of one ``IterativeAttention/jacobians(at:)`` call, allocated once.
final class JacobianScratch<Scalar: LinearAlgebraScalar> {
  /// Memory rows in one block of the Khatri–Rao product.
  let khatriRaoRows: Int
  /// diag(p) Kₕ (M × d_h), for one state at a time.
  let weighted: UnsafeMutablePointer<Scalar>
  /// A block of memory rows of the Khatri–Rao product (rows × d_h²).
  let khatriRao: UnsafeMutablePointer<Scalar>
  /// Vₕᵀ diag(pₖ) Kₕ, then Gₕ/s, for every state of a chunk (b × d_h²).
  let blocks: UnsafeMutablePointer<Scalar>
  /// ∂(concatenated heads)/∂q for every state of a chunk (b × d²).
  let heads: UnsafeMutablePointer<Scalar>
  /// J_l and J_l · (J_{l−1} ⋯ J_1) (d × d each).
  let layer: UnsafeMutablePointer<Scalar>
  let product: UnsafeMutablePointer<Scalar>
  private let all: [UnsafeMutablePointer<Scalar>]

  init(memory m: Int, width d: Int, headWidth dh: Int, batch b: Int, khatriRaoLimit: Int) {
    khatriRaoRows = max(1, min(m, khatriRaoLimit / max(1, dh * dh)))
    let sizes = [m * dh, khatriRaoRows * dh * dh, b * dh * dh, b * d * d, d * d, d * d]
    all = sizes.map { count in
      let p = UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, count))
      p.initialize(repeating: 0, count: max(1, count))
      return p
    }
    weighted = all[0]
    khatriRao = all[1]
    blocks = all[2]
    heads = all[3]
    layer = all[4]
    product = all[5]
  }

  deinit {
    for p in all { p.deallocate() }
  }
}

/// Per-element loops of the attention Jacobian, specialised for Float and Double (generic code
/// called from another module would otherwise run unspecialised).
enum AttentionKernels {
  /// `out[i, j] = w[i] · x[i · stride + j]` for a `rows × columns` block (out is dense, `columns` wide).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func scaleRows<Scalar: LinearAlgebraScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, columns: Int, stride: Int, by w: UnsafePointer<Scalar>,
    into out: UnsafeMutablePointer<Scalar>
  ) {
    for i in 0..<rows {
      let scale = w[i]
      let source = x + i * stride
      let target = out + i * columns
      for j in 0..<columns { target[j] = scale * source[j] }
    }
  }

  /// Row μ of `out` (`rows × width²`) holds vec(vμ kμᵀ): `out[μ, a·width + c] = v[μ·stride + a] · k[μ·stride + c]`.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func khatriRao<Scalar: LinearAlgebraScalar>(
    _ v: UnsafePointer<Scalar>, _ k: UnsafePointer<Scalar>, rows: Int, width: Int, stride: Int,
    into out: UnsafeMutablePointer<Scalar>
  ) {
    for mu in 0..<rows {
      let vr = v + mu * stride, kr = k + mu * stride
      let target = out + mu * width * width
      for a in 0..<width {
        let va = vr[a]
        let row = target + a * width
        for c in 0..<width { row[c] = va * kr[c] }
      }
    }
  }
}
