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
/// preallocated in the ``Workspace``.
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

    mutating func fit(batchSize: Int, patternCount: Int) {
      if logits.rows != batchSize || logits.columns != patternCount {
        logits.reshape(rows: batchSize, columns: patternCount)
      }
    }
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(
      logits: Matrix(rows: batchSize, columns: patternCount),
      rowLogits: [Scalar](repeating: 0, count: patternCount),
      rowWeights: [Scalar](repeating: 0, count: patternCount),
      patternColumns: nil)
  }

  /// logits ← β Ξ Xᵀ.
  @inline(__always)
  func computeLogits(_ states: Matrix<Scalar>, workspace: inout Workspace) {
    workspace.fit(batchSize: states.rows, patternCount: patternCount)
    Matrix.multiply(states, patterns, transposeB: true, alpha: beta, beta: 0, into: &workspace.logits)
  }

  /// Computed per row as −(lse(βXξ) − log N)/β + ½ξᵀξ + ½M² with the log-sum-exp accumulated in
  /// double precision: lse/β and (log N)/β are each about (log N)/β and cancel at small β, which in
  /// Float arithmetic would swamp the energy's variation along the dynamics.
  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    computeLogits(states, workspace: &workspace)
    let n = patternCount
    let d = dimension
    let logN = Double.log(Double(n))
    let betaD = Double(beta)
    let halfMSquared = Double(maxPatternNorm) * Double(maxPatternNorm) / 2
    states.withUnsafeBufferPointer { x in
      workspace.logits.withUnsafeBufferPointer { z in
        for r in 0..<states.rows {
          let lse = Scalar.logSumExp(z.baseAddress! + r * n, count: n)
          let row = x.baseAddress! + r * d
          let squaredNorm = Double(Scalar.dot(n: d, x: row, incx: 1, y: row, incy: 1))
          energies[r] = Scalar(-(lse - logN) / betaD + squaredNorm / 2 + halfMSquared)
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
