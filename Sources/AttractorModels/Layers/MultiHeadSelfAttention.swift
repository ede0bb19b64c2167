import AttractorCore
import AttractorLinearAlgebra

/// Multi-head self-attention over sequences of tokens, with its backward pass, on preallocated
/// buffers (batched BLAS-3: one GEMM for the fused query/key/value projection, one per head and
/// sequence for the logits and for the weighted values, one for the output projection).
///
/// For a sequence X (N × E, one row per token), heads h = 1 … H of width d = E/H and s = 1/√d:
///
/// ```
/// [Q K V] = X W_qkv + 1 b_qkv                     W_qkv: E × 3E, b_qkv: 1 × 3E
/// P_h = softmax_rows(s Q_h K_hᵀ)                  (N × N)
/// H   = [P_1 V_1 … P_H V_H]                        (N × E)
/// Y   = H W_o + 1 b_o                              W_o: E × E, b_o: 1 × E
/// ```
///
/// Backward (∂Y given): ∂W_o += Hᵀ ∂Y, ∂b_o += 1ᵀ ∂Y, ∂H = ∂Y W_oᵀ; per head ∂V_h = P_hᵀ ∂H_h,
/// ∂P_h = ∂H_h V_hᵀ, ∂A_h = P_h ⊙ (∂P_h − rowsum(∂P_h ⊙ P_h)), ∂Q_h = s ∂A_h K_h, ∂K_h = s ∂A_hᵀ Q_h;
/// ∂W_qkv += Xᵀ [∂Q ∂K ∂V], ∂b_qkv += 1ᵀ [∂Q ∂K ∂V], ∂X = [∂Q ∂K ∂V] W_qkvᵀ.
///
/// Conventions (those of the shared layers): row-major, a batch of B sequences of the same length
/// N stacked as B·N rows; `backward` overwrites the input gradient and ACCUMULATES (+=) the
/// parameter gradients into `gradient`; the residual connection is the caller's.
///
/// Reference: A. Vaswani et al., "Attention is all you need", NeurIPS 2017 (scaled dot-product
/// multi-head attention, without masking).
public struct MultiHeadSelfAttention<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// Token width E.
  public let width: Int
  /// Number of heads H (a divisor of E).
  public let heads: Int
  /// W_qkv (E × 3E): the query, key and value projections side by side.
  public var projectionWeights: Matrix<Scalar>
  /// b_qkv (1 × 3E).
  public var projectionBias: Matrix<Scalar>
  /// W_o (E × E): the output projection of the concatenated heads.
  public var outputWeights: Matrix<Scalar>
  /// b_o (1 × E).
  public var outputBias: Matrix<Scalar>

  /// Width of one head, E/H.
  public var headWidth: Int { width / heads }

  /// A seeded layer: weights N(0, 1/E), biases 0.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` unless E ≥ 1 and H divides E.
  public init(width: Int, heads: Int, seed: UInt64) throws(ModelError) {
    guard width >= 1 else {
      throw .invalidParameter(name: "width", value: "\(width)", requirement: "at least 1")
    }
    guard heads >= 1, width % heads == 0 else {
      throw .invalidParameter(name: "heads", value: "\(heads)", requirement: "at least 1 and a divisor of E = \(width)")
    }
    var rng = SeededGenerator(seed: seed)
    let sd = 1 / Double(width).squareRoot()
    self.width = width
    self.heads = heads
    projectionWeights = rng.gaussianMatrix(rows: width, columns: 3 * width, standardDeviation: sd)
    projectionBias = Matrix(rows: 1, columns: 3 * width)
    outputWeights = rng.gaussianMatrix(rows: width, columns: width, standardDeviation: sd)
    outputBias = Matrix(rows: 1, columns: width)
  }

  /// The parameters in a fixed order: W_qkv, b_qkv, W_o, b_o (for ``AdamW`` and finite differences).
  public var parameters: [Matrix<Scalar>] {
    get { [projectionWeights, projectionBias, outputWeights, outputBias] }
    set {
      precondition(newValue.count == 4, "MultiHeadSelfAttention: four parameter matrices")
      for (k, shape) in [(width, 3 * width), (1, 3 * width), (width, width), (1, width)].enumerated() {
        precondition(
          newValue[k].rows == shape.0 && newValue[k].columns == shape.1, "MultiHeadSelfAttention: shape changed")
      }
      projectionWeights = newValue[0]
      projectionBias = newValue[1]
      outputWeights = newValue[2]
      outputBias = newValue[3]
    }
  }

  /// Sets every parameter to zero (a gradient accumulator).
  public mutating func zeroGradient() {
    for k in 0..<4 {
      var all = parameters
      all[k].withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
      parameters = all
    }
  }

  /// The buffers of a forward and backward pass over `batch` sequences of `length` tokens.
  public struct Cache: Sendable {
    /// Sequences in the batch.
    public let batch: Int
    /// Tokens per sequence.
    public let length: Int
    var projected: Matrix<Scalar>  // [Q K V], B·N × 3E
    /// The attention weights P of every sequence and head, (B·H·N) × N, block (b, h) of N rows.
    public internal(set) var weights: Matrix<Scalar>
    var concatenated: Matrix<Scalar>  // H, B·N × E
    var dConcatenated: Matrix<Scalar>  // ∂H, B·N × E
    var dProjected: Matrix<Scalar>  // [∂Q ∂K ∂V], B·N × 3E
    var dWeights: Matrix<Scalar>  // ∂P of one block, N × N
  }

  /// Buffers for batches of exactly `batch` sequences of `length` tokens.
  public func makeCache(batch: Int, length: Int) -> Cache {
    let rows = batch * length
    return Cache(
      batch: batch, length: length, projected: Matrix(rows: rows, columns: 3 * width),
      weights: Matrix(rows: batch * heads * length, columns: length), concatenated: Matrix(rows: rows, columns: width),
      dConcatenated: Matrix(rows: rows, columns: width), dProjected: Matrix(rows: rows, columns: 3 * width),
      dWeights: Matrix(rows: length, columns: length))
  }

  /// Y = MHSA(X) for B·N tokens (B sequences of N, as the cache was made), into `y` (B·N × E).
  public func forward(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>, cache: inout Cache) {
    let n = cache.length, b = cache.batch, e = width, dh = headWidth, e3 = 3 * width
    precondition(x.rows == b * n && x.columns == e, "MultiHeadSelfAttention.forward: x must be B·N × E")
    precondition(y.rows == b * n && y.columns == e, "MultiHeadSelfAttention.forward: y must be B·N × E")
    Matrix.multiply(x, projectionWeights, into: &cache.projected)
    Self.addRow(projectionBias, to: &cache.projected)
    let s = Scalar(1 / Double(dh).squareRoot())
    cache.projected.withUnsafeBufferPointer { qkv in
      cache.weights.withUnsafeMutableBufferPointer { w in
        cache.concatenated.withUnsafeMutableBufferPointer { hc in
          for sequence in 0..<b {
            let base = qkv.baseAddress! + sequence * n * e3
            for h in 0..<heads {
              let block = w.baseAddress! + (sequence * heads + h) * n * n
              // A_h = s Q_h K_hᵀ
              Scalar.gemm(
                transposeA: false, transposeB: true, m: n, n: n, k: dh, alpha: s, a: base + h * dh, lda: e3,
                b: base + e + h * dh, ldb: e3, beta: 0, c: block, ldc: n)
              for r in 0..<n { Scalar.softmaxInPlace(block + r * n, count: n) }
              // H_h = P_h V_h
              Scalar.gemm(
                transposeA: false, transposeB: false, m: n, n: dh, k: n, alpha: 1, a: block, lda: n,
                b: base + 2 * e + h * dh, ldb: e3, beta: 0, c: hc.baseAddress! + sequence * n * e + h * dh, ldc: e)
            }
          }
        }
      }
    }
    Matrix.multiply(cache.concatenated, outputWeights, into: &y)
    Self.addRow(outputBias, to: &y)
  }

  /// The backward pass after ``forward(_:into:cache:)`` on the same `x`: ∂X into `dx` (overwritten),
  /// the parameter gradients added into `gradient`.
  public func backward(
    _ dy: Matrix<Scalar>, input x: Matrix<Scalar>, cache: inout Cache, inputGradient dx: inout Matrix<Scalar>,
    gradient: inout MultiHeadSelfAttention
  ) {
    let n = cache.length, b = cache.batch, e = width, dh = headWidth, e3 = 3 * width
    precondition(dy.rows == b * n && dy.columns == e, "MultiHeadSelfAttention.backward: ∂Y must be B·N × E")
    precondition(dx.rows == b * n && dx.columns == e, "MultiHeadSelfAttention.backward: ∂X must be B·N × E")
    precondition(gradient.width == width && gradient.heads == heads, "MultiHeadSelfAttention.backward: gradient shape")
    Matrix.multiply(cache.concatenated, dy, transposeA: true, beta: 1, into: &gradient.outputWeights)
    Self.addColumnSums(of: dy, to: &gradient.outputBias)
    Matrix.multiply(dy, outputWeights, transposeB: true, into: &cache.dConcatenated)
    let s = Scalar(1 / Double(dh).squareRoot())
    cache.projected.withUnsafeBufferPointer { qkv in
      cache.weights.withUnsafeBufferPointer { w in
        cache.dConcatenated.withUnsafeBufferPointer { dH in
          cache.dProjected.withUnsafeMutableBufferPointer { dqkv in
            cache.dWeights.withUnsafeMutableBufferPointer { dP in
              for sequence in 0..<b {
                let base = qkv.baseAddress! + sequence * n * e3
                let dBase = dqkv.baseAddress! + sequence * n * e3
                let dHBase = dH.baseAddress! + sequence * n * e
                for h in 0..<heads {
                  let block = w.baseAddress! + (sequence * heads + h) * n * n
                  // ∂V_h = P_hᵀ ∂H_h
                  Scalar.gemm(
                    transposeA: true, transposeB: false, m: n, n: dh, k: n, alpha: 1, a: block, lda: n,
                    b: dHBase + h * dh, ldb: e, beta: 0, c: dBase + 2 * e + h * dh, ldc: e3)
                  // ∂P_h = ∂H_h V_hᵀ, then ∂A_h
                  Scalar.gemm(
                    transposeA: false, transposeB: true, m: n, n: n, k: dh, alpha: 1, a: dHBase + h * dh, lda: e,
                    b: base + 2 * e + h * dh, ldb: e3, beta: 0, c: dP.baseAddress!, ldc: n)
                  Scalar.softmaxBackwardInPlace(probabilities: block, gradients: dP.baseAddress!, rows: n, count: n)
                  // ∂Q_h = s ∂A_h K_h
                  Scalar.gemm(
                    transposeA: false, transposeB: false, m: n, n: dh, k: n, alpha: s, a: dP.baseAddress!, lda: n,
                    b: base + e + h * dh, ldb: e3, beta: 0, c: dBase + h * dh, ldc: e3)
                  // ∂K_h = s ∂A_hᵀ Q_h
                  Scalar.gemm(
                    transposeA: true, transposeB: false, m: n, n: dh, k: n, alpha: s, a: dP.baseAddress!, lda: n,
                    b: base + h * dh, ldb: e3, beta: 0, c: dBase + e + h * dh, ldc: e3)
                }
              }
            }
          }
        }
      }
    }
    Matrix.multiply(x, cache.dProjected, transposeA: true, beta: 1, into: &gradient.projectionWeights)
    Self.addColumnSums(of: cache.dProjected, to: &gradient.projectionBias)
    Matrix.multiply(cache.dProjected, projectionWeights, transposeB: true, into: &dx)
  }

  /// Adds the 1 × C row `bias` to every row of `m`.
  static func addRow(_ bias: Matrix<Scalar>, to m: inout Matrix<Scalar>) {
    let c = m.columns, rows = m.rows
    bias.withUnsafeBufferPointer { bb in
      m.withUnsafeMutableBufferPointer { p in
        for r in 0..<rows { for j in 0..<c { p[r * c + j] += bb[j] } }
      }
    }
  }

  /// Adds the column sums of `m` to the 1 × C row `row`.
  static func addColumnSums(of m: Matrix<Scalar>, to row: inout Matrix<Scalar>) {
    let c = m.columns
    m.withUnsafeBufferPointer { p in
      row.withUnsafeMutableBufferPointer { out in
        for r in 0..<m.rows { for j in 0..<c { out[j] += p[r * c + j] } }
      }
    }
  }
}
