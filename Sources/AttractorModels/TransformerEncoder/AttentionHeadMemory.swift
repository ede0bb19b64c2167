import AttractorCore
import AttractorLinearAlgebra

/// One attention head on one sentence, seen as an associative memory: the head re-reads what it
/// retrieved.
///
/// ```
/// stored patterns   the sentence's queries qᵢ = W_Q xᵢ + b_Q (rows of Q, n × d_h)
/// keys              kⱼ = W_K xⱼ + b_K (rows of K, n × d_h);   β = 1/√d_h
/// state             u ∈ ℝ^{d_h}, a point in the head's query space
/// separation        p(u) = softmax(β K u)             (the head's attention from query u)
/// update            u ← Qᵀ p(u)                       (the query of the attended token mixture)
/// Jacobian          J(u) = β Qᵀ (diag p − p pᵀ) K
/// ```
///
/// Why this map: attention from token i is p(qᵢ); the mixture of the head's inputs it attends to,
/// ξ = Σⱼ pⱼ xⱼ, has the query W_Q ξ + b_Q = Σⱼ pⱼ qⱼ = Qᵀ p, because a convex combination commutes
/// with the affine projection. Iterating the update is therefore exactly "attend, take the attended
/// mixture of tokens as the new input, attend again" in the head's own bilinear form
/// β (W_Q x + b_Q)ᵀ(W_K y + b_K), written in the d_h-dimensional query space. Starting from
/// pattern i, the first step is the head's real attention for token i; the fixed points u* = Qᵀ p(u*)
/// are the mixtures of tokens whose attention retrieves themselves. When W_Q = W_K and Q = K this
/// is Ramsauer et al.'s modern Hopfield update u ← Kᵀ softmax(β K u) on the keys.
///
/// The stored patterns are the queries (so fixed-point starts from patterns are the sentence's
/// tokens), and the separation weights are indexed by the same tokens (over the keys), so a
/// fixed point's heaviest weights name the tokens the head blends there.
public struct AttentionHeadMemory: UpdateRule, LinearizableUpdateRule, AssociativeMemory {
  public typealias Scalar = Double
  public typealias Workspace = Matrix<Double>

  /// The sentence's queries in this head, n × d_h.
  public let queries: Matrix<Double>
  /// The sentence's keys in this head, n × d_h.
  public let keys: Matrix<Double>
  /// The head's inverse temperature 1/√d_h.
  public let beta: Double

  /// - Throws: ``ModelError`` for empty, mismatched or non-finite matrices, or a bad β.
  public init(queries: Matrix<Double>, keys: Matrix<Double>, beta: Double) throws(ModelError) {
    guard queries.rows >= 1, queries.columns >= 1 else {
      throw .emptyPatterns(count: queries.rows, dimension: queries.columns)
    }
    guard keys.rows == queries.rows, keys.columns == queries.columns else {
      throw .invalidParameter(
        name: "keys", value: "\(keys.rows) × \(keys.columns)",
        requirement: "the queries' shape \(queries.rows) × \(queries.columns)")
    }
    guard queries.isFinite, keys.isFinite else {
      let bad = (queries.elements + keys.elements).firstIndex { !$0.isFinite } ?? 0
      let index = bad % (queries.rows * queries.columns)
      throw .nonFinitePattern(row: index / queries.columns, column: index % queries.columns)
    }
    guard beta.isFinite, beta > 0 else {
      throw .invalidParameter(name: "beta", value: "\(beta)", requirement: "finite and > 0")
    }
    self.queries = queries
    self.keys = keys
    self.beta = beta
  }

  public var dimension: Int { queries.columns }
  public var patterns: Matrix<Double> { queries }

  public func makeWorkspace(batchSize: Int) -> Matrix<Double> { Matrix(rows: batchSize, columns: keys.rows) }

  public func separation(_ states: Matrix<Double>) -> Matrix<Double> {
    var p = Matrix<Double>(rows: states.rows, columns: keys.rows)
    Matrix.multiply(states, keys, transposeB: true, alpha: beta, into: &p)
    p.softmaxRows()
    return p
  }

  public func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Matrix<Double>) {
    if workspace.rows != states.rows { workspace = makeWorkspace(batchSize: states.rows) }
    Matrix.multiply(states, keys, transposeB: true, alpha: beta, into: &workspace)
    workspace.softmaxRows()
    Matrix.multiply(workspace, queries, into: &next)
  }

  public func jacobian(at state: [Double]) -> Matrix<Double> {
    let n = keys.rows
    let d = dimension
    let p = separation(Matrix(rows: 1, columns: d, elements: state)).elements
    let mean = keys.multiplied(byVector: p, transpose: true)  // Kᵀ p
    // A = diag(p) K − p (Kᵀp)ᵀ, then J = β Qᵀ A.
    var a = Matrix<Double>(rows: n, columns: d)
    for i in 0..<n {
      for j in 0..<d { a[i, j] = p[i] * (keys[i, j] - mean[j]) }
    }
    var j = Matrix<Double>(rows: d, columns: d)
    Matrix.multiply(queries, a, transposeA: true, alpha: beta, into: &j)
    return j
  }
}
