import AttractorCore
import AttractorLinearAlgebra

/// The position-wise feed-forward layer of a transformer block, with its backward pass.
///
/// For a batch of rows X (batch × width):
///
/// ```
/// Z = X W₁ + 1 b₁,   H = φ(Z),   Y = H W₂ + 1 b₂
/// ```
///
/// with W₁ width × hidden, W₂ hidden × width and φ applied entry-wise: exact GELU
/// φ(z) = z Φ(z) = z (1 + erf(z/√2))/2 (Hendrycks & Gimpel, arXiv:1606.08415) or ReLU. Backward, with
/// G = ∂L/∂Y:
///
/// ```
/// ∂W₂ += Hᵀ G,   ∂b₂ += 1ᵀ G,   ∂Z = (G W₂ᵀ) ⊙ φ'(Z)
/// ∂W₁ += Xᵀ ∂Z,  ∂b₁ += 1ᵀ ∂Z,  ∂X = ∂Z W₁ᵀ
/// ```
///
/// with φ'(z) = Φ(z) + z e^{−z²/2}/√(2π) for GELU and 1[z > 0] for ReLU. Every product is one BLAS
/// GEMM on the caller's preallocated cache; φ and φ' are computed together in the forward pass (GELU:
/// one vectorised C pass, ``/AttractorLinearAlgebra/LinearAlgebraScalar/gelu(_:output:derivative:count:)``,
/// whose Float erfc approximation is within 3·10⁻⁷ of Φ) and φ' is kept in the cache for the backward
/// pass. The tests check every gradient against central finite differences.
public struct FeedForwardLayer<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// The entry-wise non-linearity φ.
  public enum Activation: String, Sendable, Codable, CaseIterable {
    /// Exact GELU, z (1 + erf(z/√2))/2.
    case gelu
    /// max(0, z).
    case relu
  }

  /// W₁, width × hidden.
  public var inputWeights: Matrix<Scalar>
  /// b₁, 1 × hidden.
  public var inputBias: Matrix<Scalar>
  /// W₂, hidden × width.
  public var outputWeights: Matrix<Scalar>
  /// b₂, 1 × width.
  public var outputBias: Matrix<Scalar>
  /// φ.
  public let activation: Activation

  /// A layer with W ~ N(0, 1/fan_in) entries (seeded) and zero biases.
  public init(width: Int, hidden: Int, activation: Activation = .gelu, seed: UInt64) {
    precondition(width > 0 && hidden > 0, "FeedForwardLayer: width and hidden must be positive")
    var rng = SeededGenerator(seed: seed)
    inputWeights = rng.gaussianMatrix(rows: width, columns: hidden, standardDeviation: 1 / Double(width).squareRoot())
    outputWeights = rng.gaussianMatrix(
      rows: hidden, columns: width, standardDeviation: 1 / Double(hidden).squareRoot())
    inputBias = Matrix(rows: 1, columns: hidden)
    outputBias = Matrix(rows: 1, columns: width)
    self.activation = activation
  }

  /// The width of a row (input and output).
  public var width: Int { inputWeights.rows }
  /// The hidden width.
  public var hidden: Int { inputWeights.columns }

  /// The parameters in a fixed order (W₁, b₁, W₂, b₂), for optimisers and model folders.
  public var parameters: [Matrix<Scalar>] {
    get { [inputWeights, inputBias, outputWeights, outputBias] }
    set {
      precondition(newValue.count == 4, "FeedForwardLayer: expects [W₁, b₁, W₂, b₂]")
      let shapes = parameters.map { ($0.rows, $0.columns) }
      for (k, m) in newValue.enumerated() {
        precondition(
          m.rows == shapes[k].0 && m.columns == shapes[k].1, "FeedForwardLayer: parameter \(k) changed shape")
      }
      inputWeights = newValue[0]
      inputBias = newValue[1]
      outputWeights = newValue[2]
      outputBias = newValue[3]
    }
  }

  /// A gradient holder of the same shapes, all zero (the backward pass accumulates into it).
  public func zeroGradient() -> FeedForwardLayer {
    var g = self
    g.inputWeights = Matrix(rows: width, columns: hidden)
    g.inputBias = Matrix(rows: 1, columns: hidden)
    g.outputWeights = Matrix(rows: hidden, columns: width)
    g.outputBias = Matrix(rows: 1, columns: width)
    return g
  }

  /// Buffers of one forward and backward pass on `batch` rows.
  public struct Cache: Sendable {
    /// Z, batch × hidden.
    public var preActivation: Matrix<Scalar>
    /// H = φ(Z), batch × hidden.
    public var activated: Matrix<Scalar>
    /// φ'(Z), batch × hidden (computed in the forward pass with φ, used by the backward pass).
    public var activationDerivative: Matrix<Scalar>
    /// ∂L/∂Z, batch × hidden (backward scratch).
    public var preActivationGradient: Matrix<Scalar>
  }

  /// A cache for batches of exactly `batch` rows.
  public func makeCache(batch: Int) -> Cache {
    Cache(
      preActivation: Matrix(rows: batch, columns: hidden), activated: Matrix(rows: batch, columns: hidden),
      activationDerivative: Matrix(rows: batch, columns: hidden),
      preActivationGradient: Matrix(rows: batch, columns: hidden))
  }

  /// Y = φ(X W₁ + b₁) W₂ + b₂ into `y` (batch × width), filling `cache`. Two GEMMs, no allocation.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func forward(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>, cache: inout Cache) {
    precondition(x.columns == width, "FeedForwardLayer: input has \(x.columns) columns, needs \(width)")
    precondition(cache.preActivation.rows == x.rows, "FeedForwardLayer: cache built for another batch")
    Self.broadcastRows(inputBias, into: &cache.preActivation)
    Matrix.multiply(x, inputWeights, beta: 1, into: &cache.preActivation)
    let act = activation
    cache.preActivation.withUnsafeBufferPointer { z in
      cache.activated.withUnsafeMutableBufferPointer { h in
        cache.activationDerivative.withUnsafeMutableBufferPointer { d in
          switch act {
          case .gelu: Scalar.gelu(z.baseAddress!, output: h.baseAddress!, derivative: d.baseAddress!, count: z.count)
          case .relu:
            for k in z.indices {
              h[k] = z[k] > 0 ? z[k] : 0
              d[k] = z[k] > 0 ? 1 : 0
            }
          }
        }
      }
    }
    Self.broadcastRows(outputBias, into: &y)
    Matrix.multiply(cache.activated, outputWeights, beta: 1, into: &y)
  }

  /// The backward pass: `dx` is overwritten with ∂L/∂X; the parameter gradients are added to
  /// `gradient`'s matrices. `x` must be the forward pass's input. Four GEMMs, no allocation.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func backward(
    _ dy: Matrix<Scalar>, input x: Matrix<Scalar>, cache: inout Cache, inputGradient dx: inout Matrix<Scalar>,
    gradient: inout FeedForwardLayer
  ) {
    precondition(dy.rows == x.rows && dy.columns == width, "FeedForwardLayer.backward: upstream shape differs")
    precondition(dx.rows == x.rows && dx.columns == width, "FeedForwardLayer.backward: input gradient shape differs")
    Matrix.multiply(cache.activated, dy, transposeA: true, beta: 1, into: &gradient.outputWeights)
    Self.addColumnSums(dy, into: &gradient.outputBias)
    Matrix.multiply(dy, outputWeights, transposeB: true, into: &cache.preActivationGradient)
    cache.activationDerivative.withUnsafeBufferPointer { d in
      cache.preActivationGradient.withUnsafeMutableBufferPointer { g in
        for k in d.indices { g[k] *= d[k] }
      }
    }
    Matrix.multiply(x, cache.preActivationGradient, transposeA: true, beta: 1, into: &gradient.inputWeights)
    Self.addColumnSums(cache.preActivationGradient, into: &gradient.inputBias)
    Matrix.multiply(cache.preActivationGradient, inputWeights, transposeB: true, into: &dx)
  }

  // MARK: - Kernels

  /// φ(z) of one value with the C library's erf (the reference the tests hold the kernel to).
  @inline(__always) static func apply(_ a: Activation, _ z: Scalar) -> Scalar {
    switch a {
    case .relu: return z > 0 ? z : 0
    case .gelu: return z * (1 + Scalar.erf(z * Scalar(0.707_106_781_186_547_5))) / 2
    }
  }

  /// φ'(z) of one value with the C library's erf and exp (the tests' reference).
  @inline(__always) static func derivative(_ a: Activation, _ z: Scalar) -> Scalar {
    switch a {
    case .relu: return z > 0 ? 1 : 0
    case .gelu:
      let cdf = (1 + Scalar.erf(z * Scalar(0.707_106_781_186_547_5))) / 2
      return cdf + z * Scalar.exp(-z * z / 2) * Scalar(0.398_942_280_401_432_7)
    }
  }

  /// Every row of `m` ← the single row `row`.
  static func broadcastRows(_ row: Matrix<Scalar>, into m: inout Matrix<Scalar>) {
    let n = m.columns, rows = m.rows
    precondition(row.elements.count == n, "broadcast: row has \(row.elements.count) entries, needs \(n)")
    row.withUnsafeBufferPointer { r in
      m.withUnsafeMutableBufferPointer { p in
        for i in 0..<rows { for j in 0..<n { p[i * n + j] = r[j] } }
      }
    }
  }

  /// `row` += the column sums of `m` (accumulated in Double, row by row so that memory is read in order).
  static func addColumnSums(_ m: Matrix<Scalar>, into row: inout Matrix<Scalar>) {
    let n = m.columns, rows = m.rows
    precondition(row.elements.count == n, "column sums: row has \(row.elements.count) entries, needs \(n)")
    withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { s in
      for j in 0..<n { s[j] = 0 }
      m.withUnsafeBufferPointer { p in
        for i in 0..<rows { for j in 0..<n { s[j] += Double(p[i * n + j]) } }
      }
      row.withUnsafeMutableBufferPointer { r in for j in 0..<n { r[j] += Scalar(s[j]) } }
    }
  }
}
