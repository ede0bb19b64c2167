import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// ``/AttractorModels/ClassicalHopfield`` in studies: `{"model": "classical"}`.
///
/// ```
/// W = (1/d) Σ_μ ξ^μ ξ^μᵀ (zero diagonal),  x ← sign(W x)      (±1 states)
/// ```
///
/// Runs on sign-binarised patterns and queries (``StateEncoding/binary``); capacity about 0.138·d.
/// Reference: J. J. Hopfield, PNAS 79 (1982).
public struct ClassicalHopfieldFactory: StudyModelFactory {
  public static let name = "classical"
  public static let summary =
    "classical Hopfield network: Hebbian W = ξᵀξ/d, x ← sign(Wx), on ±1 (sign-binarised) states"
  public static let parameters: [StudyParameter] = []

  public init(parameters: StudyParameterValues) throws(StudyParameterError) {}

  public var label: String { "classical" }
  public var encoding: StateEncoding { .binary }

  /// 0.138·d: the largest load with retrieval states (Amit, Gutfreund & Sompolinsky 1985).
  public func capacity(dimension: Int) -> StudyCapacity? {
    StudyCapacity(patterns: 0.138 * Double(dimension), formula: "0.138·d (Amit, Gutfreund & Sompolinsky 1985)")
  }

  public func check(dimension: Int, patternCount: Int) -> [String] {
    let (size, overflow) = dimension.multipliedReportingOverflow(by: dimension)
    return overflow || size > 1 << 31 ? ["the d × d weight matrix (d = \(dimension)) is more than 2³¹ values"] : []
  }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> ClassicalHopfield<Double> {
    try ClassicalHopfield(patterns: patterns)
  }
}

/// ``/AttractorModels/ModernHopfield`` in studies: `{"model": "modern", "beta": 0.25}`.
///
/// ```
/// ξ ← Xᵀ softmax(β X ξ)
/// ```
///
/// Real states; the regime of end states comes from the softmax weights (``RegimeRule/attentionWeights``).
/// Reference: Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021.
public struct ModernHopfieldFactory: StudyModelFactory {
  public static let name = "modern"
  public static let summary = "modern Hopfield network (Ramsauer et al.): ξ ← Xᵀ softmax(β X ξ), real states"
  public static let parameters: [StudyParameter] = [
    .positiveNumber("beta", summary: "inverse temperature β")
  ]

  /// β.
  public let beta: Double

  public init(parameters: StudyParameterValues) throws(StudyParameterError) { beta = parameters.number("beta") }

  public var label: String { "modern β=\(compactNumber(beta))" }
  public var encoding: StateEncoding { .real }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> ModernHopfield<Double> {
    try ModernHopfield(patterns: patterns, beta: beta)
  }
}

/// ``/AttractorModels/DenseAssociativeMemory`` with F(x) = xⁿ in studies:
/// `{"model": "dense-polynomial", "degree": 3}`.
///
/// ```
/// σᵢ ← Sign[ Σ_μ ( F(ξ^μᵢ + Σ_{j≠i} ξ^μⱼσⱼ) − F(−ξ^μᵢ + Σ_{j≠i} ξ^μⱼσⱼ) ) ],  F(x) = xⁿ
/// ```
///
/// Applied synchronously (every unit decided from the same state) on ±1 states; capacity about
/// dⁿ⁻¹/(2(2n−3)!! ln d). Reference: Krotov & Hopfield, NeurIPS 2016.
public struct DensePolynomialFactory: StudyModelFactory {
  public static let name = "dense-polynomial"
  public static let summary =
    "dense associative memory F(x) = x^n (Krotov & Hopfield), synchronous sign updates on ±1 states"
  public static let parameters: [StudyParameter] = [
    .integer("degree", summary: "interaction degree n", default: 3, range: 1...64)
  ]

  /// n.
  public let degree: Int

  public init(parameters: StudyParameterValues) throws(StudyParameterError) { degree = parameters.integer("degree") }

  public var label: String { "dense x^\(degree)" }

  /// Krotov & Hopfield's no-error estimate d^(n−1)/(2(2n−3)!! ln d) (n ≥ 2).
  public func capacity(dimension: Int) -> StudyCapacity? {
    CapacityModel.polynomial(degree: degree).formulaKMax(units: dimension).map {
      StudyCapacity(patterns: $0, formula: "d^(n−1)/(2(2n−3)!! ln d) (Krotov & Hopfield 2016)")
    }
  }
  public var encoding: StateEncoding { .binary }

  /// The decision table holds F(x + 1) − F(x − 1) up to |x| = d − 1, which must stay finite.
  public func check(dimension: Int, patternCount: Int) -> [String] {
    Foundation.pow(Double(dimension), Double(degree)).isFinite
      ? []
      : [
        "F(x) = x^\(degree) overflows double precision at the overlaps of d = \(dimension) units; use a smaller degree"
      ]
  }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> DenseAssociativeMemory<Double, Polynomial> {
    try DenseAssociativeMemory(patterns: patterns, interaction: Polynomial(degree: degree))
  }
}

/// ``/AttractorModels/DenseAssociativeMemory`` with F(x) = exp(βx) in studies:
/// `{"model": "dense-exponential", "beta": 1}`.
///
/// ```
/// σᵢ ← Sign[ Σ_μ ξ^μᵢ exp(β (m_μ − ξ^μᵢσᵢ)) ]   (the F(x+1) − F(x−1) rule for F = exp(βx))
/// ```
///
/// On ±1 states, synchronously. Reference: Demircigil et al., J. Stat. Phys. 168 (2017).
public struct DenseExponentialFactory: StudyModelFactory {
  public static let name = "dense-exponential"
  public static let summary =
    "dense associative memory F(x) = exp(βx) (Demircigil et al.), synchronous sign updates on ±1 states"
  public static let parameters: [StudyParameter] = [
    .positiveNumber("beta", summary: "β of F(x) = exp(βx)", default: 1)
  ]

  /// β.
  public let beta: Double

  public init(parameters: StudyParameterValues) throws(StudyParameterError) { beta = parameters.number("beta") }

  public var label: String { beta == 1 ? "dense exp" : "dense exp β=\(compactNumber(beta))" }

  /// 2^(d/2), the exponential capacity of Demircigil et al. (2017) in the form REFERENCES.md quotes.
  public func capacity(dimension: Int) -> StudyCapacity? {
    StudyCapacity(patterns: Foundation.pow(2, Double(dimension) / 2), formula: "2^(d/2) (Demircigil et al. 2017)")
  }
  public var encoding: StateEncoding { .binary }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> DenseAssociativeMemory<Double, Exponential> {
    try DenseAssociativeMemory(patterns: patterns, interaction: Exponential(beta: beta))
  }
}

/// `8`, not `8.0`; otherwise the shortest round-tripping text.
func compactNumber(_ x: Double) -> String {
  if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
  return "\(x)"
}
