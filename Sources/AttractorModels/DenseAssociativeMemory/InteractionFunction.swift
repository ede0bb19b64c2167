import Foundation

/// The interaction function F of a dense associative memory: the energy is E(σ) = −Σ_μ F(ξ^μ·σ).
///
/// ```
/// E(σ) = −Σ_μ F(m_μ),   m_μ = ξ^μ · σ
/// D(x) = F(x + 1) − F(x − 1)        (the only quantity the sign update needs)
/// ```
///
/// Conform to this protocol to try a new interaction; ``DenseAssociativeMemory`` tabulates D once
/// for the integers |x| ≤ N − 1 (the overlaps a ±1 state can produce with one unit left out), so
/// the dynamics never call back into the conformer. Only ``value(_:)`` and ``derivative(_:)`` are
/// required:
///
/// - ``difference(at:)`` defaults to `value(x + 1) − value(x − 1)`; override it when that
///   subtraction loses precision (large polynomials) or overflows.
/// - ``logDifference(at:)`` defaults to `nil`. Return log D(x) (D must then be positive) when D
///   itself overflows: the model then makes its sign decisions in log space, relative to the
///   largest term (``Exponential`` does this).
/// - ``reportedEnergy(overlaps:)`` defaults to −Σ F(m_μ). A conformer whose energy overflows may
///   report any strictly increasing function of it instead and say so (``Exponential`` reports
///   −β⁻¹ log Σ exp(β m_μ)); dynamics only need the ordering.
/// - ``separationWeights(overlaps:into:)`` defaults to max(F(m_μ), 0) normalised (each pattern's
///   share of the energy it lowers).
///
/// Reference: D. Krotov and J. J. Hopfield, "Dense Associative Memory for Pattern Recognition",
/// NeurIPS 2016, arXiv:1606.01164; M. Demircigil et al., "On a model of associative memory with
/// huge storage capacity", J. Stat. Phys. 168 (2017).
public protocol InteractionFunction: Sendable, CustomStringConvertible {
  /// F(x).
  func value(_ x: Double) -> Double
  /// F′(x) (used for the gradient of the energy on real states).
  func derivative(_ x: Double) -> Double
  /// D(x) = F(x + 1) − F(x − 1) at an integer x, as accurately as possible.
  func difference(at x: Int) -> Double
  /// log D(x) when D is positive and grows too fast to tabulate directly; `nil` otherwise.
  func logDifference(at x: Int) -> Double?
  /// The energy the model reports for overlaps m: −Σ F(m_μ) by default, or a documented strictly
  /// increasing function of it.
  func reportedEnergy(overlaps m: UnsafeBufferPointer<Double>) -> Double
  /// ∂(reported energy)/∂m_μ for each μ, written into `weights` (used for the gradient).
  func reportedEnergyDerivatives(
    overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>)
  /// Non-negative weights summing to 1 saying how strongly a state draws on each pattern.
  func separationWeights(overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>)
}

extension InteractionFunction {
  public func difference(at x: Int) -> Double { value(Double(x + 1)) - value(Double(x - 1)) }

  public func logDifference(at x: Int) -> Double? { nil }

  public func reportedEnergy(overlaps m: UnsafeBufferPointer<Double>) -> Double {
    var s = 0.0
    for v in m { s += value(v) }
    return -s
  }

  public func reportedEnergyDerivatives(
    overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>
  ) {
    for k in m.indices { weights[k] = -derivative(m[k]) }
  }

  /// w_μ = max(F(m_μ), 0) / Σ_ν max(F(m_ν), 0); uniform when every F(m_μ) ≤ 0.
  public func separationWeights(
    overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>
  ) {
    var total = 0.0
    for k in m.indices {
      let f = max(value(m[k]), 0)
      weights[k] = f
      total += f
    }
    let count = Double(m.count)
    for k in m.indices { weights[k] = total > 0 && total.isFinite ? weights[k] / total : 1 / count }
  }
}

/// `degree` when it is an integer from 1 to 64, the range of the polynomial interactions.
func checkedDegree(_ degree: Int) throws(ModelError) -> Int {
  guard degree >= 1 && degree <= 64 else {
    throw .invalidParameter(name: "degree", value: "\(degree)", requirement: "an integer from 1 to 64")
  }
  return degree
}

/// Coefficients of D(x) = (x + 1)ⁿ − (x − 1)ⁿ = 2 Σ_{k odd} C(n, k) xⁿ⁻ᵏ, highest power first
/// (degree n − 1, every other power), for Horner evaluation without cancellation.
func polynomialDifference(degree n: Int, at x: Int) -> Double {
  // Terms 2·C(n, k)·x^(n−k) for odd k all have the sign of x^(n−1): no cancellation, and exact
  // while the value stays below 2⁵³.
  var binomial = 1.0  // C(n, 0)
  var coefficients: [Double] = []  // coefficient of x^(n−k) for k = 0…n
  for k in 0...n {
    coefficients.append(binomial)
    binomial = binomial * Double(n - k) / Double(k + 1)
  }
  var result = 0.0
  let xd = Double(x)
  for power in stride(from: n - 1, through: 0, by: -1) {
    let k = n - power
    result = result * xd + (k % 2 == 1 ? 2 * coefficients[k] : 0)
  }
  return result
}

/// F(x) = xⁿ: the polynomial interaction of Krotov & Hopfield (n = 2 is the classical network).
///
/// ```
/// F(x) = xⁿ,   D(x) = (x + 1)ⁿ − (x − 1)ⁿ = 2 Σ_{k odd} C(n, k) xⁿ⁻ᵏ
/// ```
///
/// D is evaluated from its expansion (all terms share one sign, so nothing cancels; exact in
/// double precision while |D| < 2⁵³, e.g. n ≤ 6 for N ≤ 1000). No-error capacity
/// K_max ≈ Nⁿ⁻¹ / (2 (2n − 3)!! ln N). Odd n: −ξ is not an attractor; even n: ±ξ both are.
public struct Polynomial: InteractionFunction, Hashable, Codable {
  /// The degree n ≥ 1.
  public let degree: Int

  /// F(x) = xⁿ.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` if n < 1 or n > 64.
  public init(degree: Int) throws(ModelError) {
    self.degree = try checkedDegree(degree)
  }

  public func value(_ x: Double) -> Double { intPower(x, degree) }
  public func derivative(_ x: Double) -> Double { Double(degree) * intPower(x, degree - 1) }
  public func difference(at x: Int) -> Double { polynomialDifference(degree: degree, at: x) }
  public var description: String { "polynomial F(x) = x^\(degree)" }
}

/// F(x) = max(x, 0)ⁿ: the rectified polynomial interaction of Krotov & Hopfield.
///
/// ```
/// F(x) = max(x, 0)ⁿ
/// D(x) = (x + 1)ⁿ − (x − 1)ⁿ for x ≥ 1,   D(0) = 1,   D(x) = 0 for x ≤ −1
/// ```
///
/// Only patterns with a positive overlap interact, so −ξ is never an attractor; slightly higher
/// capacity than xⁿ in the paper's experiments, and it solves XOR for n ≥ 2.
public struct RectifiedPolynomial: InteractionFunction, Hashable, Codable {
  /// The degree n ≥ 1.
  public let degree: Int

  /// F(x) = max(x, 0)ⁿ.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` if n < 1 or n > 64.
  public init(degree: Int) throws(ModelError) {
    self.degree = try checkedDegree(degree)
  }

  public func value(_ x: Double) -> Double { x > 0 ? intPower(x, degree) : 0 }
  public func derivative(_ x: Double) -> Double { x > 0 ? Double(degree) * intPower(x, degree - 1) : 0 }
  public func difference(at x: Int) -> Double {
    if x >= 1 { return polynomialDifference(degree: degree, at: x) }
    return x == 0 ? 1 : 0
  }
  public var description: String { "rectified polynomial F(x) = max(x, 0)^\(degree)" }
}

/// F(x) = exp(βx): the exponential interaction of Demircigil et al. (β = 1 in their paper).
///
/// ```
/// F(x) = exp(β x),   D(x) = 2 sinh(β) exp(β x),   log D(x) = β x + log(2 sinh β)
/// reported energy: −β⁻¹ log Σ_μ exp(β m_μ)  =  −β⁻¹ log(−E)     (E = −Σ_μ exp(β m_μ))
/// ```
///
/// E overflows a `Double` once β m exceeds about 709 (and a `Float` at about 88), so sign
/// decisions are made in log space (each term relative to the largest) and the reported energy
/// is the log-sum-exp form, a strictly increasing function of E: it orders states as E does, and
/// it is the −β⁻¹ lse term of the modern Hopfield energy (``ModernHopfield``). Separation weights
/// are softmax(β m), as for the modern network. Capacity grows exponentially in N (about 2^{N/2}
/// patterns with a fixed fraction of corrupted bits, Demircigil et al. 2017).
public struct Exponential: InteractionFunction, Hashable, Codable {
  /// The inverse temperature β > 0.
  public let beta: Double

  /// F(x) = exp(βx).
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` unless β is finite and > 0.
  public init(beta: Double = 1) throws(ModelError) {
    guard beta.isFinite && beta > 0 else {
      throw .invalidParameter(name: "beta", value: "\(beta)", requirement: "finite and positive")
    }
    self.beta = beta
  }

  public func value(_ x: Double) -> Double { exp(beta * x) }
  public func derivative(_ x: Double) -> Double { beta * exp(beta * x) }
  public func difference(at x: Int) -> Double { 2 * sinh(beta) * exp(beta * Double(x)) }
  public func logDifference(at x: Int) -> Double? { beta * Double(x) + log(2 * sinh(beta)) }

  /// −β⁻¹ log Σ_μ exp(β m_μ), computed relative to the largest term.
  public func reportedEnergy(overlaps m: UnsafeBufferPointer<Double>) -> Double {
    guard let top = m.max() else { return 0 }
    var s = 0.0
    for v in m { s += exp(beta * (v - top)) }
    return -(top + log(s) / beta)
  }

  /// −softmax(β m)_μ.
  public func reportedEnergyDerivatives(
    overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>
  ) {
    separationWeights(overlaps: m, into: weights)
    for k in weights.indices { weights[k] = -weights[k] }
  }

  /// softmax(β m).
  public func separationWeights(
    overlaps m: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>
  ) {
    guard let top = m.max() else { return }
    var s = 0.0
    for k in m.indices {
      weights[k] = exp(beta * (m[k] - top))
      s += weights[k]
    }
    for k in m.indices { weights[k] /= s }
  }

  public var description: String { beta == 1 ? "exponential F(x) = exp(x)" : "exponential F(x) = exp(\(beta)·x)" }
}

/// xⁿ by repeated squaring (exact for integers while the result is below 2⁵³).
@inline(__always)
func intPower(_ x: Double, _ n: Int) -> Double {
  var result = 1.0, base = x, e = n
  while e > 0 {
    if e & 1 == 1 { result *= base }
    base *= base
    e >>= 1
  }
  return result
}
