import CAttractorKernels

/// Statistics of one row of non-negative weights (pattern weights at a fixed point, attention
/// probabilities), in C with reusable buffers.
///
/// ```
/// total = Σ pᵢ,  squares = Σ pᵢ²,  entropy = −Σ_{pᵢ>0} pᵢ log pᵢ,  smallest = minᵢ pᵢ
/// k = min{ m : sum of the m largest pᵢ ≥ mass · total }     (k₉₀ for mass 0.9)
/// ```
///
/// Properties relied on: the sums run in index order in double precision with no fused
/// multiply-add, so they equal those of a plain Swift loop bit for bit; only weights
/// ≥ (1 − mass)/n can be among the k heaviest (all smaller ones together hold less than
/// (1 − mass)·total when the weights sum to about 1), and the k are exactly the first k of all such
/// candidates sorted heaviest first, equal weights by lower index: the first 16 are selected one
/// at a time, the rest by a stable radix sort on the weights' bit patterns (which order like
/// non-negative numbers). No sort of all n weights, no allocation per row.
public struct WeightStatisticsWorkspace: Sendable {
  /// Weights per row n.
  public let count: Int
  var indices: [UInt64]
  var weights: [Double]
  var scratch: [UInt64]
  var sums = [Double](repeating: 0, count: 4)
  /// k of the last row.
  public private(set) var k = 0

  /// Buffers for rows of `count` ≥ 1 weights (8n 64-bit words).
  public init(count n: Int) {
    precondition(n >= 1, "WeightStatisticsWorkspace: needs n ≥ 1")
    count = n
    indices = [UInt64](repeating: 0, count: n)
    weights = [Double](repeating: 0, count: n)
    scratch = [UInt64](repeating: 0, count: 6 * n)
  }

  /// The sums of the row at `p` (``count`` finite non-negative weights) and its ``k`` heaviest,
  /// read afterwards with ``heaviest(_:)``.
  public mutating func compute<Scalar: LinearAlgebraScalar>(_ p: UnsafePointer<Scalar>, mass: Double) -> (
    total: Double, squares: Double, entropy: Double, smallest: Double
  ) {
    let n = count
    k = indices.withUnsafeMutableBufferPointer { ti in
      weights.withUnsafeMutableBufferPointer { tw in
        sums.withUnsafeMutableBufferPointer { s in
          scratch.withUnsafeMutableBufferPointer { w in
            if Scalar.self == Double.self {
              let row = UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
              return attractor_weight_statistics_f64(
                row, n, mass, ti.baseAddress!, tw.baseAddress!, s.baseAddress!, w.baseAddress!)
            }
            let row = UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
            return attractor_weight_statistics_f32(
              row, n, mass, ti.baseAddress!, tw.baseAddress!, s.baseAddress!, w.baseAddress!)
          }
        }
      }
    }
    return (sums[0], sums[1], sums[2], sums[3])
  }

  /// The j-th heaviest weight of the last row (j < ``k``): its index and value.
  public func heaviest(_ j: Int) -> (index: Int, weight: Double) { (Int(indices[j]), weights[j]) }
}
