import AttractorCore
import AttractorLinearAlgebra

/// The modern (continuous) Hopfield network of Ramsauer et al.: transformer attention as an
/// associative memory.
///
/// Stored patterns x₁ … x_N ∈ ℝᵈ are the rows of `patterns` (X, N × d); β > 0 is the inverse
/// temperature; M = maxᵢ ‖xᵢ‖.
///
/// ```
/// E(ξ) = −β⁻¹ log Σᵢ exp(β xᵢᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M²
/// ∇E(ξ) = ξ − Xᵀ p,          p = softmax(β X ξ)
/// f(ξ) = Xᵀ softmax(β X ξ)   (the update; for a batch Ξ: softmax(β Ξ Xᵀ) X, i.e. attention)
/// J(ξ) = β Xᵀ (diag p − p pᵀ) X      (Jacobian of f, symmetric positive semi-definite)
/// H(ξ) = I − J(ξ)                    (Hessian of E)
/// ```
///
/// Mathematical properties:
/// - The update is a CCCP step (E = convex ½ξᵀξ + concave −lse), so E never increases, and
///   0 ≤ E ≤ 2M² along the dynamics from a state in the convex hull of the patterns.
/// - ‖J‖₂ ≤ β M²; if β M² < 1 the update is a contraction with a single, global fixed point near
///   the mean of the patterns (Lemma A3).
/// - With well-separated patterns and large β, one update lands exponentially close to a stored
///   pattern: ‖f(ξ) − xᵢ‖ ≤ 2(N−1) M exp(−β(Δᵢ − 2 max(‖ξ − xᵢ‖, ‖xᵢ* − xᵢ‖) M)), where
///   Δᵢ = minⱼ≠ᵢ (xᵢᵀxᵢ − xᵢᵀxⱼ) is the separation of pattern i (Theorem 5).
/// - Fixed points are global averages, metastable averages over a subset, or near single patterns.
///
/// One synchronous step of a batch costs two GEMMs (B×d×N each) and a row softmax, on buffers
/// preallocated in the ``Workspace``, by one of two paths (``UpdatePath``): the materialised one
/// (the B × N logits in one GEMM, the row softmax, the second GEMM) or the blocked one with an
/// online softmax (``/AttractorLinearAlgebra/OnlineSoftmaxAttention``: blocks of logits that stay
/// in cache, no B × N buffer). Both give the same states to Float (Double) rounding;
/// ``preferredUpdatePath(batchSize:patternCount:dimension:threads:)`` picks the one measured
/// faster for the shape (Docs/Benchmarks.md, "Blocked update with online softmax").
///
/// Reference: H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021, arXiv:2008.02217.
///
/// Capabilities: ``/AttractorCore/EnergyDescending`` (E, under synchronous and coordinate-wise
/// updates), ``/AttractorCore/CoordinateUpdatable``, ``/AttractorCore/LinearizableUpdateRule``,
/// ``/AttractorCore/TwiceDifferentiableEnergy``.
public struct ModernHopfield<Scalar: LinearAlgebraScalar>: LinearizableUpdateRule, TwiceDifferentiableEnergy,
  EnergyDescending, CoordinateUpdatable, AssociativeMemory
{
  /// Stored patterns X, one per row (N × d).
  public let patterns: Matrix<Scalar>
  /// Inverse temperature β.
  public let beta: Scalar
  /// M = maxᵢ ‖xᵢ‖, the largest pattern norm.
  public let maxPatternNorm: Scalar
  /// ½(M² − ‖xᵢ‖²) for each pattern, from the stored entries in double precision (0 for the
  /// longest pattern): the energy's constant once the winning logit has been taken out.
  let halfSquaredNormDeficits: [Double]

  /// A network storing the rows of `patterns` at inverse temperature `beta`.
  ///
  /// - Throws: ``ModelError`` if there are no patterns, a pattern entry is not finite, or β is not
  ///   finite and positive.
  public init(patterns: Matrix<Scalar>, beta: Scalar) throws(ModelError) {
    try ModelError.validatePatterns(patterns)
    guard beta.isFinite && beta > 0 else {
      throw .invalidParameter(name: "beta", value: "\(beta)", requirement: "finite and positive")
    }
    self.patterns = patterns
    self.beta = beta
    self.maxPatternNorm = patterns.rowNorms().max() ?? 0
    let d = patterns.columns
    var squaredNorms = [Double](repeating: 0, count: patterns.rows)
    patterns.withUnsafeBufferPointer { x in
      for i in squaredNorms.indices {
        for j in 0..<d {
          let v = Double(x[i * d + j])
          squaredNorms[i] += v * v
        }
      }
    }
    let maxSquaredNorm = squaredNorms.max() ?? 0
    self.halfSquaredNormDeficits = squaredNorms.map { (maxSquaredNorm - $0) / 2 }
  }

  /// Number of stored patterns N.
  public var patternCount: Int { patterns.rows }

  /// Dimension d of a state.
  public var dimension: Int { patterns.columns }

  /// Scratch buffers for a batch: the B × N logits/probabilities, plus
  /// one row of logits for coordinate-wise updates.
  public struct Workspace: Sendable {
    var logits: Matrix<Scalar>
    @usableFromInline var rowLogits: [Scalar]
    @usableFromInline var rowWeights: [Scalar]
    /// Xᵀ (d × N), built on the first coordinate-wise update so that coordinate i reads row i of
    /// it contiguously instead of a stride-d column of X.
    @usableFromInline var patternColumns: Matrix<Scalar>?
    /// Double-precision buffers of the energy, built on its first call.
    var energyBuffers: EnergyBuffers?
    /// The blocked update's buffers when the workspace uses ``UpdatePath/online``.
    var online: OnlineSoftmaxAttention<Scalar>?

    /// The path ``ModernHopfield/update(_:into:workspace:)`` takes with this workspace.
    public var updatePath: UpdatePath { online == nil ? .materialized : .online }

    mutating func fit(batchSize: Int, patternCount: Int) {
      if logits.rows != batchSize || logits.columns != patternCount {
        logits.reshape(rows: batchSize, columns: patternCount)
      }
    }
  }

  /// The energy's double-precision scratch: the logits (B × N) and, for Float models, widened
  /// copies of the states (B × d) and the patterns (N × d). Grown, never shrunk.
  struct EnergyBuffers: Sendable {
    var logits: [Double] = []
    var states: [Double] = []
    var patterns: [Double] = []
  }

  /// How a synchronous update is computed (same result to rounding, different speed).
  public enum UpdatePath: String, Sendable, Equatable, CaseIterable {
    /// logits ← β Ξ Xᵀ (B × N), row softmax in place, then P X: two large GEMMs, and the B × N
    /// buffer goes through memory three times.
    case materialized
    /// Blocks of queries against blocks of patterns with an online softmax
    /// (``/AttractorLinearAlgebra/OnlineSoftmaxAttention``): the logits stay in cache, and the
    /// workspace holds no B × N buffer.
    case online
  }

  /// The path measured faster for a shape (Docs/Benchmarks.md, "Blocked update with online
  /// softmax"; `attractor bench online-softmax`), for batches of at least 64 queries (the
  /// materialised one below that):
  ///
  /// - one BLAS thread: the blocked path from N ≥ 4,096 patterns at d ≤ 128 and from N ≥ 16,384 at
  ///   larger d;
  /// - more threads: the blocked path runs its GEMMs on OpenBLAS's threads block by block, which
  ///   costs more than it saves at small N (materialised / online 0.83–0.88 at d = 64, N ≤ 8,192;
  ///   0.90–0.97 at d = 128), so it is chosen from N ≥ 16,384 at d ≤ 64 (1.03–1.04) and, at larger d,
  ///   from N ≥ 65,536, where the materialised path's B × N buffer (256 MB at B = 1,024 in Float)
  ///   outweighs its few per cent.
  public static func preferredUpdatePath(batchSize: Int, patternCount: Int, dimension: Int, threads: Int)
    -> UpdatePath
  {
    if batchSize < 64 { return .materialized }
    let threshold: Int
    if threads <= 1 {
      threshold = dimension <= 128 ? 4_096 : 16_384
    } else {
      threshold = dimension <= 64 ? 16_384 : 65_536
    }
    return patternCount >= threshold ? .online : .materialized
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    makeWorkspace(
      batchSize: batchSize,
      path: Self.preferredUpdatePath(
        batchSize: batchSize, patternCount: patternCount, dimension: dimension, threads: BLAS.threadCount))
  }

  /// A workspace whose synchronous updates take `path`. The materialised path preallocates the
  /// B × N logits; the online one preallocates only its blocks (the logits of the energy,
  /// gradient and separation are then allocated on their first call).
  public func makeWorkspace(batchSize: Int, path: UpdatePath) -> Workspace {
    Workspace(
      logits: path == .materialized ? Matrix(rows: batchSize, columns: patternCount) : Matrix(rows: 0, columns: 0),
      rowLogits: [Scalar](repeating: 0, count: patternCount),
      rowWeights: [Scalar](repeating: 0, count: patternCount),
      patternColumns: nil,
      energyBuffers: nil,
      online: path == .online ? OnlineSoftmaxAttention(batchSize: batchSize, dimension: dimension) : nil)
  }

  /// logits ← β Ξ Xᵀ.
  @inline(__always)
  func computeLogits(_ states: Matrix<Scalar>, workspace: inout Workspace) {
    workspace.fit(batchSize: states.rows, patternCount: patternCount)
    Matrix.multiply(states, patterns, transposeB: true, alpha: beta, beta: 0, into: &workspace.logits)
  }

  /// Computed per row in double precision from the stored numbers, in a form without cancellation:
  ///
  /// ```
  /// E(ξ) = ½‖ξ − x_k‖² + ½(M² − ‖x_k‖²) − β⁻¹ log Σ_μ exp(β(x_μᵀξ − x_kᵀξ)) + β⁻¹ log N
  /// ```
  ///
  /// with k the pattern of the largest logit. The direct form subtracts β⁻¹ lse(βXξ) ≈ x_kᵀξ from
  /// ½ξᵀξ + ½M², all about M² (1e4 for norm-100 patterns), to leave about (log N)/β; and at small
  /// β, lse/β and (log N)/β cancel. Here every term is small near a pattern, the logits come from a
  /// dgemm (exact products of Float entries), and the log-sum-exp relative to the maximum is
  /// accumulated in double, so a Float energy is the rounding of the double result (see
  /// Docs/Architecture.md, "Numerics worth knowing"). Float states and patterns are widened into
  /// the workspace (the patterns once per workspace); the update itself stays in Float.
  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    let b = states.rows
    let n = patternCount
    let d = dimension
    let betaD = Double(beta)
    let logN = Double.log(Double(n))
    var buffers = workspace.energyBuffers ?? EnergyBuffers()
    workspace.energyBuffers = nil
    defer { workspace.energyBuffers = buffers }
    if buffers.logits.count < b * n { buffers.logits = [Double](repeating: 0, count: b * n) }
    let isDouble = Scalar.self == Double.self
    if !isDouble {
      if buffers.states.count < b * d { buffers.states = [Double](repeating: 0, count: b * d) }
      if buffers.patterns.count != n * d {
        buffers.patterns = [Double](repeating: 0, count: n * d)
        patterns.withUnsafeBufferPointer { widen($0.baseAddress!, into: &buffers.patterns, count: n * d) }
      }
      states.withUnsafeBufferPointer { widen($0.baseAddress!, into: &buffers.states, count: b * d) }
    }
    states.withUnsafeBufferPointer { rawStates in
      patterns.withUnsafeBufferPointer { rawPatterns in
        buffers.states.withUnsafeBufferPointer { wideStates in
          buffers.patterns.withUnsafeBufferPointer { widePatterns in
            buffers.logits.withUnsafeMutableBufferPointer { logits in
              let xs =
                isDouble
                ? UnsafeRawPointer(rawStates.baseAddress!).assumingMemoryBound(to: Double.self)
                : wideStates.baseAddress!
              let xp =
                isDouble
                ? UnsafeRawPointer(rawPatterns.baseAddress!).assumingMemoryBound(to: Double.self)
                : widePatterns.baseAddress!
              let z = logits.baseAddress!
              // z ← β Ξ Xᵀ
              Double.gemm(
                transposeA: false, transposeB: true, m: b, n: n, k: d, alpha: betaD, a: xs, lda: d, b: xp,
                ldb: d, beta: 0, c: z, ldc: n)
              for r in 0..<b {
                let (logSum, k) = logSumExpAboveMaximum(z + r * n, count: n)
                let state = xs + r * d
                let winner = xp + k * d
                var squaredDistance = 0.0
                for j in 0..<d {
                  let t = state[j] - winner[j]
                  squaredDistance += t * t
                }
                energies[r] = Scalar(squaredDistance / 2 + halfSquaredNormDeficits[k] + (logN - logSum) / betaD)
              }
            }
          }
        }
      }
    }
  }

  public func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace) {
    computeLogits(states, workspace: &workspace)
    workspace.logits.softmaxRows()
    gradient.assign(states)
    Matrix.multiply(workspace.logits, patterns, alpha: -1, beta: 1, into: &gradient)
  }

  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    if var online = workspace.online {
      precondition(
        states.columns == dimension && next.rows == states.rows && next.columns == dimension,
        "update: states \(states.rows) × \(states.columns), result \(next.rows) × \(next.columns), d = \(dimension)")
      if states.rows == 0 { return }
      workspace.online = nil
      if online.batchSize < states.rows {
        online = OnlineSoftmaxAttention(batchSize: states.rows, dimension: dimension)
      }
      let b = states.rows
      let n = patternCount
      states.withUnsafeBufferPointer { q in
        patterns.withUnsafeBufferPointer { x in
          next.withUnsafeMutableBufferPointer { out in
            online.attend(
              queries: q.baseAddress!, rows: b, patterns: x.baseAddress!, count: n, beta: beta,
              output: out.baseAddress!)
          }
        }
      }
      workspace.online = online
      return
    }
    computeLogits(states, workspace: &workspace)
    workspace.logits.softmaxRows()
    Matrix.multiply(workspace.logits, patterns, into: &next)
  }

  /// The attention weights p = softmax(β X ξ) of each state over the stored patterns (B × N).
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var workspace = makeWorkspace(batchSize: states.rows)
    computeLogits(states, workspace: &workspace)
    workspace.logits.softmaxRows()
    return workspace.logits
  }

  /// J(ξ) = β Xᵀ (diag p − p pᵀ) X with p = softmax(β X ξ).
  public func jacobian(at state: [Scalar]) -> Matrix<Scalar> {
    precondition(state.count == dimension, "jacobian: state has \(state.count) entries, needs \(dimension)")
    let p = separation(Matrix(rows: 1, columns: dimension, elements: state)).elements
    // W = diag(p) X; m = Xᵀ p; J = β (Xᵀ W − m mᵀ).
    var weighted = patterns
    let d = dimension
    weighted.withUnsafeMutableBufferPointer { w in
      for i in 0..<patternCount {
        for j in 0..<d { w[i * d + j] *= p[i] }
      }
    }
    let mean = patterns.multiplied(byVector: p, transpose: true)
    var j = Matrix<Scalar>(rows: d, columns: d)
    Matrix.multiply(patterns, weighted, transposeA: true, alpha: beta, into: &j)
    for a in 0..<d {
      for b in 0..<d { j[a, b] -= beta * mean[a] * mean[b] }
    }
    return j
  }

  /// H(ξ) = I − J(ξ).
  public func hessian(at state: [Scalar]) -> Matrix<Scalar> {
    var h = jacobian(at: state)
    h.withUnsafeMutableBufferPointer { p in for k in p.indices { p[k] = -p[k] } }
    for i in 0..<dimension { h[i, i] += 1 }
    return h
  }

  // MARK: Coordinate-wise (asynchronous) update

  /// Caches the logits β X ξ of `state` (O(N d)).
  public func prepareCoordinateUpdates(of state: Matrix<Scalar>, workspace: inout Workspace) {
    if workspace.patternColumns == nil { workspace.patternColumns = patterns.transposed() }
    let d = dimension
    state.withUnsafeBufferPointer { x in
      patterns.withUnsafeBufferPointer { xp in
        workspace.rowLogits.withUnsafeMutableBufferPointer { a in
          Scalar.gemv(
            transpose: false, m: patternCount, n: d, alpha: beta, a: xp.baseAddress!, lda: d,
            x: x.baseAddress!, incx: 1, beta: 0, y: a.baseAddress!, incy: 1)
        }
      }
    }
  }

  /// ξᵢ ← Σ_μ p_μ X_μᵢ with p = softmax(β X ξ) for the current ξ; the cached logits are then moved
  /// by β X_μᵢ Δξᵢ, so one coordinate costs O(N). This is a CCCP step in coordinate i alone, so E
  /// never increases under it either.
  @inlinable
  public func updateCoordinate(_ i: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace) {
    if workspace.patternColumns == nil { workspace.patternColumns = patterns.transposed() }
    let n = patternCount
    let old = state.elements[i]
    let columns = workspace.patternColumns!.elements
    let new: Scalar = workspace.rowLogits.withUnsafeBufferPointer { a in
      workspace.rowWeights.withUnsafeMutableBufferPointer { p in
        p.baseAddress!.update(from: a.baseAddress!, count: n)
        Scalar.softmaxInPlace(p.baseAddress!, count: n)
        return columns.withUnsafeBufferPointer { column in
          Scalar.dot(n: n, x: p.baseAddress!, incx: 1, y: column.baseAddress! + i * n, incy: 1)
        }
      }
    }
    state[0, i] = new
    let shift = beta * (new - old)
    workspace.rowLogits.withUnsafeMutableBufferPointer { a in
      columns.withUnsafeBufferPointer { column in
        Scalar.axpy(n: n, alpha: shift, x: column.baseAddress! + i * n, incx: 1, y: a.baseAddress!, incy: 1)
      }
    }
  }
}

/// dst[0..<count] ← src widened to Double (a concrete Float → Double loop, vectorised).
private func widen<S: LinearAlgebraScalar>(_ src: UnsafePointer<S>, into dst: inout [Double], count: Int) {
  dst.withUnsafeMutableBufferPointer { out in
    if S.self == Float.self {
      let x = UnsafeRawPointer(src).assumingMemoryBound(to: Float.self)
      for i in 0..<count { out[i] = Double(x[i]) }
    } else {
      for i in 0..<count { out[i] = Double(src[i]) }
    }
  }
}
