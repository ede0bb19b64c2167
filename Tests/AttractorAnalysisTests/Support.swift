import AttractorAnalysis
import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Random patterns with entries N(0, 1/d) (norms near 1), seeded.
func gaussianPatterns<S: LinearAlgebraScalar>(_ n: Int, _ d: Int, seed: UInt64, as: S.Type = S.self) -> Matrix<S> {
  var rng = SeededGenerator(seed: seed)
  return rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
}

/// Rows scaled to unit norm.
func normalizedRows(_ m: Matrix<Double>) -> Matrix<Double> {
  let norms = m.rowNorms()
  return Matrix(rows: m.rows, columns: m.columns) { i, j in m[i, j] / norms[i] }
}

/// Attention with separate query and key projections, read out by the patterns themselves:
///
///     f(ξ) = Xᵀ softmax(β (X W_K)(W_Q ξ))      J = β Xᵀ (diag p − p pᵀ) X W_Kᵀ W_Q
///
/// Not the gradient of any energy when W_Kᵀ W_Q is not symmetric, so its Jacobian is not symmetric;
/// no closed forms are offered, so analysis falls back to finite differences.
struct ProjectedAttention: AnalyzableRule, AssociativeMemory {
  let patterns: Matrix<Double>  // N × d
  let keys: Matrix<Double>  // N × d: X W_Kᵀ... stored as K = X W_K
  let query: Matrix<Double>  // d × d: W_Q
  let beta: Double

  init(patterns: Matrix<Double>, keyProjection: Matrix<Double>, queryProjection: Matrix<Double>, beta: Double) {
    self.patterns = patterns
    self.keys = patterns * keyProjection
    self.query = queryProjection
    self.beta = beta
  }

  var dimension: Int { patterns.columns }

  func separation(_ states: Matrix<Double>) -> Matrix<Double> {
    let q = states.multiplied(by: query, transposeOther: true)  // rows W_Q ξ
    var logits = q.multiplied(by: keys, transposeOther: true)  // B × N
    logits = beta * logits
    logits.softmaxRows()
    return logits
  }

  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    Matrix.multiply(separation(states), patterns, into: &next)
  }

  /// The closed form, used by the tests only to check the finite-difference fallback.
  func analyticJacobian(at x: [Double]) -> Matrix<Double> {
    let p = separation(Matrix(rows: 1, columns: x.count, elements: x)).elements
    let n = patterns.rows
    var s = Matrix<Double>(rows: n, columns: n)
    for a in 0..<n {
      for b in 0..<n { s[a, b] = (a == b ? p[a] : 0) - p[a] * p[b] }
    }
    // J = β Xᵀ S K W_Q  (∂ logits/∂ξ = β K W_Q)
    return beta * (patterns.multiplied(by: s, transposeSelf: true) * keys * query)
  }
}

/// A rotation by `angle` in each coordinate pair (0,1), (2,3), … (d even).
func pairRotation(dimension d: Int, angle: Double) -> Matrix<Double> {
  var r = Matrix<Double>(rows: d, columns: d)
  for k in stride(from: 0, to: d - 1, by: 2) {
    r[k, k] = cos(angle)
    r[k, k + 1] = -sin(angle)
    r[k + 1, k] = sin(angle)
    r[k + 1, k + 1] = cos(angle)
  }
  return r
}

/// The modern network seen only through its update and energy (no closed-form derivatives), so
/// analysis must use finite differences (for the Jacobian, and for the Hessian of the energy it
/// descends).
struct OpaqueHopfield: EnergyDescending, EnergyFunction, AssociativeMemory, AnalyzableRule {
  typealias Scalar = Double
  typealias Workspace = Void
  let model: ModernHopfield<Double>
  func makeWorkspace(batchSize: Int) {}
  var dimension: Int { model.dimension }
  var patterns: Matrix<Double> { model.patterns }
  func separation(_ states: Matrix<Double>) -> Matrix<Double> { model.separation(states) }
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    next.assign(model.update(states))
  }
  func energy(_ states: Matrix<Double>, into energies: inout [Double], workspace: inout Void) {
    let e = model.energy(states)
    for i in e.indices { energies[i] = e[i] }
  }
  func gradient(_ states: Matrix<Double>, into gradient: inout Matrix<Double>, workspace: inout Void) {
    gradient.assign(model.gradient(states))
  }
}

/// A linear map x ← A x with its Jacobian A (for comparing eigenvalues with NumPy).
struct LinearMap: LinearizableUpdateRule, AnalyzableRule {
  let matrix: Matrix<Double>
  var dimension: Int { matrix.rows }
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    Matrix.multiply(states, matrix, transposeB: true, into: &next)
  }
  func jacobian(at state: [Double]) -> Matrix<Double> { matrix }
}

/// A rule that produces NaN (to check that analysis reports it instead of crashing).
struct ExplodingRule: AnalyzableRule {
  var dimension: Int { 3 }
  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    next.withUnsafeMutableBufferPointer { p in for k in p.indices { p[k] = .nan } }
  }
}
