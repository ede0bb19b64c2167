import AttractorLinearAlgebra
import AttractorModels
import Foundation

extension AttentionHeadMemory: AnalyzableRule {}

/// Ramsauer et al.'s (2020, §4 and appendix) classes of attention heads by how many keys hold
/// 90 % of a query's attention: k̄ (the median k₉₀) against the sequence length N.
///
/// ```
/// I    k̄ > N/2           global averaging over (nearly) all tokens
/// II   N/8 < k̄ ≤ N/2     averaging over large subsets
/// III  N/32 < k̄ ≤ N/8    averaging over small subsets (metastable)
/// IV   k̄ ≤ N/32          a few tokens (close to single-pattern retrieval)
/// ```
///
/// With sentences of different lengths the class is taken from the median of k₉₀/N over queries
/// (``init(fraction:)``). Since k₉₀ ≥ 1, class IV needs N ≥ 32 and class III N ≥ 9.
public enum RamsauerHeadClass: String, Codable, Sendable, Equatable, CaseIterable {
  case I, II, III, IV

  /// The class of a head whose median k₉₀/N is `fraction`.
  public init(fraction: Double) {
    if fraction > 0.5 {
      self = .I
    } else if fraction > 1.0 / 8 {
      self = .II
    } else if fraction > 1.0 / 32 {
      self = .III
    } else {
      self = .IV
    }
  }
}

/// Statistics of one query's attention distribution and logits.
public enum AttentionStatistics {
  /// k: the fewest probabilities whose sum reaches `mass` (k₉₀ for 0.9), counting the largest
  /// first; at least 1 and at most `p.count`.
  public static func k(_ p: [Double], mass: Double = 0.9) -> Int {
    let sorted = p.sorted(by: >)
    var sum = 0.0
    for (i, x) in sorted.enumerated() {
      sum += x
      if sum >= mass * (1 - 1e-12) { return i + 1 }
    }
    return max(1, p.count)
  }

  /// −Σ pᵢ log pᵢ in nats (0 for one token, log n for uniform attention).
  public static func entropy(_ p: [Double]) -> Double {
    -p.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
  }

  /// The effective inverse temperature of one query: the least-squares slope β of the head's
  /// logits zⱼ = qᵀkⱼ/√d_h against the cosines cⱼ = qᵀkⱼ / (‖q‖ ‖kⱼ‖), with an intercept (softmax
  /// ignores a constant), and the fit's R².
  ///
  /// ```
  /// zⱼ ≈ β cⱼ + const,   β = cov(z, c) / var(c),   R² = cov(z, c)² / (var z · var c)
  /// ```
  ///
  /// β is the inverse temperature of a modern Hopfield memory with unit-norm state and patterns
  /// (softmax(β X̂ ξ̂)) that best matches the head's logits; when all keys have the same norm,
  /// β = ‖q‖ ‖k‖ / √d_h exactly and R² = 1. Nil for fewer than 2 keys or constant cosines.
  public static func effectiveBeta(logits z: [Double], cosines c: [Double]) -> (beta: Double, r2: Double)? {
    let n = Double(z.count)
    guard z.count >= 2, z.count == c.count else { return nil }
    let mz = z.reduce(0, +) / n
    let mc = c.reduce(0, +) / n
    var szc = 0.0
    var scc = 0.0
    var szz = 0.0
    for (a, b) in zip(z, c) {
      szc += (a - mz) * (b - mc)
      scc += (b - mc) * (b - mc)
      szz += (a - mz) * (a - mz)
    }
    guard scc > 1e-14 * max(1, n) else { return nil }
    let r2 = szz > 0 ? szc * szc / (szz * scc) : 1
    return (szc / scc, r2)
  }

  /// The median of `values` (the mean of the middle two for an even count); NaN when empty.
  public static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
  }
}
