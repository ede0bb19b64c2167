import AttractorCore
import AttractorLinearAlgebra

/// The classical Hopfield network: binary ±1 states, Hebbian weights, sign updates.
///
/// Patterns ξ¹ … ξᴺ ∈ {±1}ᵈ are the rows of `patterns`.
///
/// ```
/// W = (1/d) Σ_μ ξ^μ ξ^μᵀ  with Wᵢᵢ = 0
/// E(x) = −½ xᵀ W x,        ∇E(x) = −W x,       Hessian −W
/// xᵢ ← sign(Σⱼ Wᵢⱼ xⱼ)     (a zero field keeps xᵢ)
/// ```
///
/// Mathematical properties: W is symmetric with zero diagonal, so an asynchronous update (one unit
/// at a time) never increases E, and asynchronous dynamics reach a fixed point in finitely many
/// sweeps. The synchronous update may instead end in a 2-cycle. Capacity without errors is about
/// d / (2 ln d) patterns; with a small fraction of errors about 0.138 d.
///
/// The energy and update accept any real states (the gradient and Hessian are those of the
/// quadratic form); the update itself always produces ±1 values.
///
/// Capabilities: ``/AttractorCore/EnergyDescending`` (E never increases under the coordinate-wise,
/// asynchronous updates; synchronous runs record it too, without that guarantee),
/// ``/AttractorCore/CoordinateUpdatable``, ``/AttractorCore/TwiceDifferentiableEnergy``.
///
/// Reference: J. J. Hopfield, "Neural networks and physical systems with emergent collective
/// computational abilities", PNAS 79 (1982).
public struct ClassicalHopfield<Scalar: LinearAlgebraScalar>: EnergyDescending, CoordinateUpdatable,
  TwiceDifferentiableEnergy, AssociativeMemory
{
  /// Stored ±1 patterns, one per row (N × d).
  public let patterns: Matrix<Scalar>
  /// Hebbian weights W (d × d, symmetric, zero diagonal).
  public let weights: Matrix<Scalar>
  /// d·W = Σ_μ ξ^μ ξ^μᵀ with zero diagonal: integers, exact in floating point, so a field that is
  /// exactly zero is seen as zero (W itself would round 1/d and turn ties into ±tiny values).
  @usableFromInline let couplings: Matrix<Scalar>

  /// A network storing the rows of `patterns`, which must be ±1.
  ///
  /// - Throws: ``ModelError`` if there are no patterns or an entry is not ±1.
  public init(patterns: Matrix<Scalar>) throws(ModelError) {
    try ModelError.validatePatterns(patterns)
    for i in 0..<patterns.rows {
      for j in 0..<patterns.columns where patterns[i, j] != 1 && patterns[i, j] != -1 {
        throw .notBinary(row: i, column: j, value: Double(patterns[i, j]))
      }
    }
    let d = patterns.columns
    var c = Matrix<Scalar>(rows: d, columns: d)
    Matrix.multiply(patterns, patterns, transposeA: true, into: &c)
    for i in 0..<d { c[i, i] = 0 }
    self.patterns = patterns
    self.couplings = c
    self.weights = (1 / Scalar(d)) * c
  }

  /// Binarises real vectors: +1 where the entry is ≥ 0, −1 elsewhere.
  public static func binarized(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    Matrix(rows: states.rows, columns: states.columns, elements: states.elements.map { $0 >= 0 ? 1 : -1 })
  }

  public var dimension: Int { patterns.columns }

  /// Scratch: the local fields d·W x for a batch.
  public struct Workspace: Sendable {
    @usableFromInline var fields: Matrix<Scalar>
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(fields: Matrix(rows: batchSize, columns: dimension))
  }

  @inlinable @inline(__always)
  func computeFields(_ states: Matrix<Scalar>, workspace: inout Workspace) {
    if workspace.fields.rows != states.rows { workspace.fields.reshape(rows: states.rows, columns: dimension) }
    // The couplings are symmetric, so X C = X Cᵀ: row r of the result is d·W x_r.
    Matrix.multiply(states, couplings, into: &workspace.fields)
  }

  @inlinable
  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    computeFields(states, workspace: &workspace)
    let d = dimension
    let scale = 1 / (2 * Scalar(d))
    states.withUnsafeBufferPointer { x in
      workspace.fields.withUnsafeBufferPointer { h in
        for r in 0..<states.rows {
          var s: Scalar = 0
          for j in 0..<d { s += x[r * d + j] * h[r * d + j] }
          energies[r] = -s * scale
        }
      }
    }
  }

  public func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace) {
    Matrix.multiply(states, weights, alpha: -1, into: &gradient)
  }

  public func hessian(at state: [Scalar]) -> Matrix<Scalar> { -1 * weights }

  @inlinable
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    computeFields(states, workspace: &workspace)
    states.withUnsafeBufferPointer { x in
      workspace.fields.withUnsafeBufferPointer { h in
        next.withUnsafeMutableBufferPointer { n in
          for k in n.indices { n[k] = h[k] > 0 ? 1 : (h[k] < 0 ? -1 : (x[k] >= 0 ? 1 : -1)) }
        }
      }
    }
  }

  /// xᵢ ← sign(Wᵢ · x), O(d); a zero field keeps the sign of xᵢ.
  @inlinable
  public func updateCoordinate(_ i: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace) {
    let d = dimension
    // `elements` and `[i]` rather than `Matrix` methods, which are not inlinable: one `Matrix`
    // call per coordinate (the write) instead of four.
    let old = state.elements[i]
    let field: Scalar = state.elements.withUnsafeBufferPointer { x in
      couplings.elements.withUnsafeBufferPointer { w in
        Scalar.dot(n: d, x: w.baseAddress! + i * d, incx: 1, y: x.baseAddress!, incy: 1)
      }
    }
    state[0, i] = field > 0 ? 1 : (field < 0 ? -1 : (old >= 0 ? 1 : -1))
  }

  /// Share of each pattern in the state's squared overlaps: m_μ² / Σ_ν m_ν² with m_μ = ξ^μ·x / d
  /// (uniform when every overlap is zero). A retrieved pattern (orthogonal-ish memories) has
  /// weight near 1; a mixture state spreads it.
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var overlaps = Matrix<Scalar>(rows: states.rows, columns: patterns.rows)
    Matrix.multiply(states, patterns, transposeB: true, into: &overlaps)
    let n = patterns.rows
    overlaps.withUnsafeMutableBufferPointer { m in
      for r in 0..<states.rows {
        var total: Scalar = 0
        for mu in 0..<n {
          m[r * n + mu] *= m[r * n + mu]
          total += m[r * n + mu]
        }
        for mu in 0..<n { m[r * n + mu] = total > 0 ? m[r * n + mu] / total : 1 / Scalar(n) }
      }
    }
    return overlaps
  }
}
