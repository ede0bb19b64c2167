import AttractorCore
import AttractorLinearAlgebra

/// A batch of denoising prompts as the attention layer reads them: contexts (B·L) × n, prompt b's
/// tokens in rows b·L ..< (b+1)·L; queries and targets B × n.
public protocol AttentionPrompts<Scalar> {
  associatedtype Scalar: LinearAlgebraScalar
  /// The context tokens, (B·L) × n.
  var contexts: Matrix<Scalar> { get }
  /// The noisy queries x̃, B × n.
  var queries: Matrix<Scalar> { get }
  /// The clean tokens x, B × n.
  var targets: Matrix<Scalar> { get }
}

/// One-layer attention that denoises a query from its prompt's context (Smart, Bietti & Sengupta,
/// arXiv:2502.05164), with full key–query and projection–value matrices.
///
/// ```
/// softmax:  f(x̃) = W_PV Σ_t softmax_t(x_tᵀ W_KQ x̃) x_t   = W_PV Xᵀ softmax(X W_KQ x̃)
/// linear:   f(x̃) = W_PV (1/L) Σ_t (x_tᵀ W_KQ x̃) x_t    = W_PV (1/L) Xᵀ X W_KQ x̃
/// loss:     ℓ = (1/B) Σ_b ‖f(x̃_b) − x_b‖²
/// ```
///
/// The attention reads the L context tokens only (the query attends to the context, not to itself),
/// the paper's parameterisation. With W_KQ = β I and W_PV = α I the softmax layer is one gradient
/// step of size α on ``ContextEnergy`` from s = x̃; for the subspace task the Bayes-optimal linear
/// map needs w_KQ w_PV → 1/(σ₀² + σ_Z²) for scaled identities.
///
/// Gradients are analytic (``lossAndGradients(_:workspace:)``): with r = f − x, v = Xᵀ a, u = W_KQ x̃,
/// ∂ℓ/∂W_PV = (2/B) Σ r vᵀ, g_a = X W_PVᵀ (2/B) r, g_z = p ⊙ (g_a − ⟨p, g_a⟩) (softmax) or g_a/L
/// (linear), ∂ℓ/∂W_KQ = Σ (Xᵀ g_z) x̃ᵀ. The products over the batch are GEMMs; the per-prompt
/// products with X are GEMVs on the prompt's block; the softmax and its backward pass are the
/// C kernels shared with ``IterativeAttention``.
public struct OneLayerAttention<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// The two attention variants.
  public enum Variant: String, Sendable, Codable, CaseIterable {
    /// Linear attention: weights x_tᵀ W_KQ x̃ / L.
    case linear
    /// Softmax attention: weights softmax_t(x_tᵀ W_KQ x̃).
    case softmax
  }

  /// Linear or softmax.
  public let variant: Variant
  /// W_KQ (n × n).
  public internal(set) var keyQuery: Matrix<Scalar>
  /// W_PV (n × n).
  public internal(set) var projectionValue: Matrix<Scalar>

  /// A layer with the given square, same-sized, finite matrices.
  public init(variant: Variant, keyQuery: Matrix<Scalar>, projectionValue: Matrix<Scalar>) throws(ModelError) {
    let n = keyQuery.rows
    try ModelError.check(n >= 1 && keyQuery.isSquare, "W_KQ", "\(keyQuery.rows) × \(keyQuery.columns)", "square, n ≥ 1")
    try ModelError.check(
      projectionValue.rows == n && projectionValue.columns == n, "W_PV",
      "\(projectionValue.rows) × \(projectionValue.columns)", "\(n) × \(n) like W_KQ")
    try ModelError.check(keyQuery.isFinite && projectionValue.isFinite, "weights", "non-finite", "finite")
    self.variant = variant
    self.keyQuery = keyQuery
    self.projectionValue = projectionValue
  }

  /// W_KQ = β I, W_PV = α I.
  public static func scaledIdentity(
    variant: Variant, dimension n: Int, beta: Scalar, alpha: Scalar
  ) throws(ModelError) -> OneLayerAttention {
    try OneLayerAttention(variant: variant, keyQuery: beta * .identity(n), projectionValue: alpha * .identity(n))
  }

  /// Small random weights: every entry N(0, scale²/n), from `seed`.
  public static func random(variant: Variant, dimension n: Int, scale: Double, seed: UInt64) throws(ModelError)
    -> OneLayerAttention
  {
    try ModelError.check(scale.isFinite && scale >= 0, "scale", scale, "finite and ≥ 0")
    var rng = SeededGenerator(seed: seed)
    let s = scale / Double(n).squareRoot()
    let kq: Matrix<Scalar> = rng.gaussianMatrix(rows: n, columns: n, standardDeviation: s)
    let pv: Matrix<Scalar> = rng.gaussianMatrix(rows: n, columns: n, standardDeviation: s)
    return try OneLayerAttention(variant: variant, keyQuery: kq, projectionValue: pv)
  }

  /// The token dimension n.
  public var dimension: Int { keyQuery.rows }

  /// Activations and gradient buffers of one minibatch (no allocation per step once made).
  public struct Workspace: Sendable {
    var u: Matrix<Scalar>
    var weights: Matrix<Scalar>
    var gradWeights: Matrix<Scalar>
    var v: Matrix<Scalar>
    var f: Matrix<Scalar>
    var gf: Matrix<Scalar>
    var gv: Matrix<Scalar>
    var gu: Matrix<Scalar>
    /// ∂ℓ/∂W_KQ of the last ``lossAndGradients(_:workspace:)``.
    public internal(set) var keyQueryGradient: Matrix<Scalar>
    /// ∂ℓ/∂W_PV of the last ``lossAndGradients(_:workspace:)``.
    public internal(set) var projectionValueGradient: Matrix<Scalar>
    /// The outputs f(x̃) of the last forward pass, B × n.
    public var outputs: Matrix<Scalar> { f }

    mutating func fit(batchSize b: Int, contextLength l: Int, dimension n: Int) {
      if u.rows != b || weights.columns != l {
        u = Matrix(rows: b, columns: n)
        weights = Matrix(rows: b, columns: l)
        gradWeights = weights
        v = u
        f = u
        gf = u
        gv = u
        gu = u
      }
    }
  }

  /// A workspace for batches of `batchSize` prompts of `contextLength` tokens.
  public func makeWorkspace(batchSize: Int, contextLength: Int) -> Workspace {
    let n = dimension
    let bn = Matrix<Scalar>(rows: batchSize, columns: n)
    let bl = Matrix<Scalar>(rows: batchSize, columns: contextLength)
    return Workspace(
      u: bn, weights: bl, gradWeights: bl, v: bn, f: bn, gf: bn, gv: bn, gu: bn,
      keyQueryGradient: Matrix(rows: n, columns: n), projectionValueGradient: Matrix(rows: n, columns: n))
  }

  /// Checks a batch's shapes and values (the entry point for user-supplied prompts).
  public func validate(_ prompts: some AttentionPrompts<Scalar>) throws(ModelError) {
    let n = dimension
    let b = prompts.queries.rows
    try ModelError.check(b >= 1, "batch size", b, "at least 1")
    try ModelError.check(prompts.queries.columns == n, "query dimension", prompts.queries.columns, "\(n)")
    try ModelError.check(
      prompts.targets.rows == b && prompts.targets.columns == n, "targets",
      "\(prompts.targets.rows) × \(prompts.targets.columns)",
      "\(b) × \(n)")
    try ModelError.check(
      prompts.contexts.columns == n && prompts.contexts.rows % b == 0 && prompts.contexts.rows >= b, "contexts",
      "\(prompts.contexts.rows) × \(prompts.contexts.columns)", "(B·L) × \(n) with L ≥ 1")
    try ModelError.check(
      prompts.contexts.isFinite && prompts.queries.isFinite && prompts.targets.isFinite, "prompts", "non-finite",
      "finite")
  }

  /// f(x̃_b) for every prompt, into `workspace` (read it with ``Workspace/outputs``).
  public func forward<P: AttentionPrompts<Scalar>>(_ prompts: P, workspace: inout Workspace) {
    let n = dimension, b = prompts.queries.rows
    let l = prompts.contexts.rows / b
    workspace.fit(batchSize: b, contextLength: l, dimension: n)
    // u = X̃ W_KQᵀ (row b: W_KQ x̃_b)
    Matrix.multiply(prompts.queries, keyQuery, transposeB: true, into: &workspace.u)
    prompts.contexts.withUnsafeBufferPointer { x in
      workspace.u.withUnsafeBufferPointer { u in
        workspace.weights.withUnsafeMutableBufferPointer { w in
          workspace.v.withUnsafeMutableBufferPointer { v in
            let scale: Scalar = variant == .linear ? 1 / Scalar(l) : 1
            for r in 0..<b {
              let xb = x.baseAddress! + r * l * n
              let wb = w.baseAddress! + r * l
              Scalar.gemv(
                transpose: false, m: l, n: n, alpha: scale, a: xb, lda: n, x: u.baseAddress! + r * n, incx: 1, beta: 0,
                y: wb, incy: 1)
              if variant == .softmax { Scalar.softmaxInPlace(wb, count: l) }
              Scalar.gemv(
                transpose: true, m: l, n: n, alpha: 1, a: xb, lda: n, x: wb, incx: 1, beta: 0,
                y: v.baseAddress! + r * n, incy: 1)
            }
          }
        }
      }
    }
    // f = V W_PVᵀ
    Matrix.multiply(workspace.v, projectionValue, transposeB: true, into: &workspace.f)
  }

  /// f(x̃_b) for every prompt, as a new B × n matrix.
  public func denoise(_ prompts: some AttentionPrompts<Scalar>) -> Matrix<Scalar> {
    var ws = makeWorkspace(batchSize: prompts.queries.rows, contextLength: prompts.contexts.rows / prompts.queries.rows)
    forward(prompts, workspace: &ws)
    return ws.f
  }

  /// The loss ℓ = (1/B) Σ ‖f(x̃_b) − x_b‖², with ∂ℓ/∂W_KQ and ∂ℓ/∂W_PV left in the workspace.
  @discardableResult
  public func lossAndGradients<P: AttentionPrompts<Scalar>>(_ prompts: P, workspace: inout Workspace) -> Double {
    forward(prompts, workspace: &workspace)
    let n = dimension, b = prompts.queries.rows
    let l = prompts.contexts.rows / b
    var loss = 0.0
    let two = Scalar(2) / Scalar(b)
    workspace.f.withUnsafeBufferPointer { f in
      prompts.targets.withUnsafeBufferPointer { t in
        workspace.gf.withUnsafeMutableBufferPointer { g in
          for k in 0..<(b * n) {
            let r = f[k] - t[k]
            loss += Double(r) * Double(r)
            g[k] = two * r
          }
        }
      }
    }
    // ∂ℓ/∂W_PV = G_fᵀ V;  G_v = G_f W_PV
    Matrix.multiply(workspace.gf, workspace.v, transposeA: true, into: &workspace.projectionValueGradient)
    Matrix.multiply(workspace.gf, projectionValue, into: &workspace.gv)
    prompts.contexts.withUnsafeBufferPointer { x in
      workspace.gv.withUnsafeBufferPointer { gv in
        workspace.weights.withUnsafeBufferPointer { w in
          workspace.gradWeights.withUnsafeMutableBufferPointer { ga in
            workspace.gu.withUnsafeMutableBufferPointer { gu in
              // g_a = X g_v per prompt
              for r in 0..<b {
                Scalar.gemv(
                  transpose: false, m: l, n: n, alpha: 1, a: x.baseAddress! + r * l * n, lda: n,
                  x: gv.baseAddress! + r * n, incx: 1, beta: 0, y: ga.baseAddress! + r * l, incy: 1)
              }
              let back: Scalar
              if variant == .softmax {
                Scalar.softmaxBackwardInPlace(
                  probabilities: w.baseAddress!, gradients: ga.baseAddress!, rows: b, count: l)
                back = 1
              } else {
                back = 1 / Scalar(l)
              }
              // g_u = Xᵀ g_z per prompt
              for r in 0..<b {
                Scalar.gemv(
                  transpose: true, m: l, n: n, alpha: back, a: x.baseAddress! + r * l * n, lda: n,
                  x: ga.baseAddress! + r * l, incx: 1, beta: 0, y: gu.baseAddress! + r * n, incy: 1)
              }
            }
          }
        }
      }
    }
    // ∂ℓ/∂W_KQ = G_uᵀ X̃
    Matrix.multiply(workspace.gu, prompts.queries, transposeA: true, into: &workspace.keyQueryGradient)
    return loss / Double(b)
  }

  /// The mean loss over `prompts` without gradients.
  public func loss(_ prompts: some AttentionPrompts<Scalar>) -> Double {
    let f = denoise(prompts)
    var total = 0.0
    f.withUnsafeBufferPointer { fp in
      prompts.targets.withUnsafeBufferPointer { t in
        for k in fp.indices {
          let r = Double(fp[k]) - Double(t[k])
          total += r * r
        }
      }
    }
    return total / Double(prompts.queries.rows)
  }

  /// The weights' structure: mean diagonal entry and the spread (standard deviation) of the
  /// diagonal and off-diagonal entries of W_KQ and W_PV.
  public var structure: WeightStructure {
    WeightStructure(keyQuery: .init(keyQuery), projectionValue: .init(projectionValue))
  }
}

/// How close two trained matrices are to scaled identities.
public struct WeightStructure: Sendable, Codable, Equatable {
  /// Summary statistics of one square matrix.
  public struct Summary: Sendable, Codable, Equatable {
    /// ⟨w⟩: the mean of the diagonal.
    public var diagonalMean: Double
    /// The standard deviation of the diagonal entries.
    public var diagonalSpread: Double
    /// The mean of the off-diagonal entries.
    public var offDiagonalMean: Double
    /// The root-mean-square of the off-diagonal entries.
    public var offDiagonalRMS: Double

    /// The summary of `m` (square).
    public init<Scalar: LinearAlgebraScalar>(_ m: Matrix<Scalar>) {
      let n = m.rows
      var diag = [Double](), off = [Double]()
      for i in 0..<n {
        for j in 0..<n { if i == j { diag.append(Double(m[i, j])) } else { off.append(Double(m[i, j])) } }
      }
      diagonalMean = diag.reduce(0, +) / Double(max(n, 1))
      let mean = diagonalMean
      diagonalSpread = (diag.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(n, 1))).squareRoot()
      offDiagonalMean = off.isEmpty ? 0 : off.reduce(0, +) / Double(off.count)
      offDiagonalRMS = off.isEmpty ? 0 : (off.reduce(0) { $0 + $1 * $1 } / Double(off.count)).squareRoot()
    }
  }

  /// W_KQ's summary.
  public var keyQuery: Summary
  /// W_PV's summary.
  public var projectionValue: Summary
  /// ⟨w_KQ⟩⟨w_PV⟩.
  public var product: Double { keyQuery.diagonalMean * projectionValue.diagonalMean }
}
