import AttractorLinearAlgebra

/// Layer normalisation of every row (Ba, Kiros & Hinton, arXiv:1607.06450), with its backward pass.
///
/// For a row x ∈ Rⁿ (one token or one example):
///
/// ```
/// μ = (1/n) Σⱼ xⱼ,   σ² = (1/n) Σⱼ (xⱼ − μ)²,   r = 1 / √(σ² + ε)
/// x̂ = (x − μ) r,    y = γ ⊙ x̂ + β
/// ```
///
/// Backward, with g = ∂L/∂y for the row:
///
/// ```
/// ∂γ += Σ_rows g ⊙ x̂,   ∂β += Σ_rows g
/// ∂x  = r (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)),   ĝ = g ⊙ γ
/// ```
///
/// Properties relied on: y does not change when a constant is added to x or when x is scaled by a
/// positive factor (up to ε), so ∂x is orthogonal to the all-ones vector and to x̂ (the tests check
/// both, and every gradient against central finite differences). Sums over a row are accumulated in
/// `Double` whatever `Scalar` is, so Float rows of a few thousand entries keep their precision.
///
/// Used by the pre-LN blocks of the vision transformer, the Associative Transformer and the
/// iterative-attention stack; the BERT encoder keeps its own post-LN Float forward pass.
public struct LayerNormalization<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// γ, 1 × width (1 at initialisation).
  public var gain: Matrix<Scalar>
  /// β, 1 × width (0 at initialisation).
  public var bias: Matrix<Scalar>
  /// ε added to the variance.
  public let epsilon: Double

  /// An identity-initialised normalisation (γ = 1, β = 0) of rows of `width` entries.
  public init(width: Int, epsilon: Double = 1e-5) {
    precondition(width > 0, "LayerNormalization: width must be positive")
    precondition(epsilon >= 0 && epsilon.isFinite, "LayerNormalization: epsilon must be finite and ≥ 0")
    gain = Matrix(rows: 1, columns: width, repeating: 1)
    bias = Matrix(rows: 1, columns: width)
    self.epsilon = epsilon
  }

  /// The number of entries in a row.
  public var width: Int { gain.columns }

  /// The parameters in a fixed order (γ, β), for optimisers and model folders.
  public var parameters: [Matrix<Scalar>] {
    get { [gain, bias] }
    set {
      precondition(newValue.count == 2, "LayerNormalization: expects [gain, bias]")
      precondition(newValue[0].elements.count == width && newValue[1].elements.count == width, "shapes changed")
      gain = Matrix(rows: 1, columns: width, elements: newValue[0].elements)
      bias = Matrix(rows: 1, columns: width, elements: newValue[1].elements)
    }
  }

  /// A gradient holder of the same shapes, all zero (``backward(_:cache:inputGradient:gradient:)``
  /// accumulates into it).
  public func zeroGradient() -> LayerNormalization {
    var g = self
    g.gain = Matrix(rows: 1, columns: width)
    g.bias = Matrix(rows: 1, columns: width)
    return g
  }

  /// What the forward pass keeps for the backward pass: x̂ and r of every row.
  public struct Cache: Sendable {
    /// x̂, batch × width.
    public var normalized: Matrix<Scalar>
    /// r = 1/√(σ² + ε) per row.
    public var inverseDeviation: [Scalar]
  }

  /// A cache for batches of exactly `batch` rows.
  public func makeCache(batch: Int) -> Cache {
    Cache(normalized: Matrix(rows: batch, columns: width), inverseDeviation: Array(repeating: 0, count: batch))
  }

  /// y = γ ⊙ x̂ + β for every row of `x` into `y` (same shape), filling `cache`. No allocation.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func forward(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>, cache: inout Cache) {
    let n = width, rows = x.rows
    precondition(x.columns == n, "LayerNormalization: input has \(x.columns) columns, needs \(n)")
    precondition(y.rows == rows && y.columns == n, "LayerNormalization: output shape differs from input")
    precondition(cache.normalized.rows == rows && cache.inverseDeviation.count == rows, "cache built for another batch")
    x.withUnsafeBufferPointer { px in
      gain.withUnsafeBufferPointer { pg in
        bias.withUnsafeBufferPointer { pb in
          y.withUnsafeMutableBufferPointer { py in
            cache.normalized.withUnsafeMutableBufferPointer { ph in
              cache.inverseDeviation.withUnsafeMutableBufferPointer { pr in
                for i in 0..<rows {
                  let o = i * n
                  var sum = 0.0
                  for j in 0..<n { sum += Double(px[o + j]) }
                  let mean = sum / Double(n)
                  var squares = 0.0
                  for j in 0..<n {
                    let c = Double(px[o + j]) - mean
                    squares += c * c
                  }
                  let r = 1 / (squares / Double(n) + epsilon).squareRoot()
                  pr[i] = Scalar(r)
                  for j in 0..<n {
                    let h = Scalar((Double(px[o + j]) - mean) * r)
                    ph[o + j] = h
                    py[o + j] = pg[j] * h + pb[j]
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// The backward pass: `dx` is overwritten with ∂L/∂x; ∂L/∂γ and ∂L/∂β are added to
  /// `gradient.gain` and `gradient.bias`. No allocation.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func backward(
    _ dy: Matrix<Scalar>, cache: Cache, inputGradient dx: inout Matrix<Scalar>, gradient: inout LayerNormalization
  ) {
    let n = width, rows = dy.rows
    precondition(dy.columns == n && cache.normalized.rows == rows, "LayerNormalization.backward: shapes differ")
    precondition(dx.rows == rows && dx.columns == n, "LayerNormalization.backward: input gradient shape differs")
    precondition(gradient.width == n, "LayerNormalization.backward: gradient built for another width")
    dy.withUnsafeBufferPointer { pdy in
      gain.withUnsafeBufferPointer { pg in
        cache.normalized.withUnsafeBufferPointer { ph in
          cache.inverseDeviation.withUnsafeBufferPointer { pr in
            dx.withUnsafeMutableBufferPointer { pdx in
              gradient.gain.withUnsafeMutableBufferPointer { dg in
                gradient.bias.withUnsafeMutableBufferPointer { db in
                  for i in 0..<rows {
                    let o = i * n
                    var meanG = 0.0, meanGH = 0.0
                    for j in 0..<n {
                      let g = pdy[o + j], h = ph[o + j]
                      dg[j] += g * h
                      db[j] += g
                      let gh = Double(g * pg[j])
                      meanG += gh
                      meanGH += gh * Double(h)
                    }
                    meanG /= Double(n)
                    meanGH /= Double(n)
                    let r = Double(pr[i])
                    for j in 0..<n {
                      let gh = Double(pdy[o + j] * pg[j])
                      pdx[o + j] = Scalar(r * (gh - meanG - Double(ph[o + j]) * meanGH))
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
