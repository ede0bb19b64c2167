import AttractorCore
import AttractorLinearAlgebra

/// The stored pattern nearest to each state by cosine similarity, with buffers reused across
/// calls (one GEMM per call, no allocation once the batch size is fixed).
///
/// ```
/// nearest(s) = argmax_μ  cos(s, ξ^μ) = argmax_μ  sᵀξ^μ / (‖s‖ ‖ξ^μ‖)
/// ```
///
/// Why cosine: seed 000 scores retrieval by "argmax similarity to the target key" without saying
/// which similarity. The argmax of raw dot products sᵀξ^μ is biased towards long patterns: a
/// pattern twice as long as the target wins against an exact copy of the target whenever its
/// cosine with the state exceeds ½. Cosine is invariant to each pattern's length, so a state equal
/// to a stored pattern is always nearest to that pattern (barring a collinear duplicate). For
/// patterns of equal norm the two rules agree.
///
/// Conventions: a state has no nearest pattern (−1 in ``assign(_:into:)``, `nil` in
/// ``nearest(_:)``, a failure for accuracy) when its norm is zero or when two patterns tie for the
/// largest cosine within the rounding error of the computed cosines, d·ε (ε = `Scalar.ulpOfOne`).
/// Ties are not broken by index because that would credit, say, every `.overlap(0.5)` query of ±1
/// patterns to whichever of target and distractor comes first. Patterns with zero norm are never
/// nearest.
public struct NearestPatternSearch<Scalar: LinearAlgebraScalar>: Sendable {
  /// Stored patterns, each scaled to unit norm (zero rows stay zero).
  public let unitPatterns: Matrix<Scalar>
  private let usable: [Bool]
  private var similarities: Matrix<Scalar>
  private let tieTolerance: Scalar

  /// A search over the rows of `patterns` (N × d).
  public init(patterns: Matrix<Scalar>) {
    var unit = patterns
    let norms = patterns.rowNorms()
    let d = patterns.columns
    unit.withUnsafeMutableBufferPointer { p in
      for i in 0..<patterns.rows where norms[i] > 0 {
        for j in 0..<d { p[i * d + j] /= norms[i] }
      }
    }
    unitPatterns = unit
    usable = norms.map { $0 > 0 && $0.isFinite }
    similarities = Matrix(rows: 0, columns: patterns.rows)
    tieTolerance = Scalar(max(1, d)) * Scalar.ulpOfOne
  }

  /// Number of stored patterns N.
  public var patternCount: Int { unitPatterns.rows }

  /// Writes the index of the nearest pattern of each row of `states` into `indices`
  /// (`indices.count == states.rows`), −1 for a zero (or non-finite) state.
  public mutating func assign(_ states: Matrix<Scalar>, into indices: inout [Int]) {
    precondition(
      states.columns == unitPatterns.columns,
      "nearest pattern: states have \(states.columns) columns, patterns \(unitPatterns.columns)")
    precondition(indices.count == states.rows, "nearest pattern: \(indices.count) slots for \(states.rows) states")
    let b = states.rows
    let n = unitPatterns.rows
    if similarities.rows != b { similarities.reshape(rows: b, columns: n) }
    Matrix.multiply(states, unitPatterns, transposeB: true, into: &similarities)
    let d = states.columns
    let tolerance = tieTolerance
    // Generic arithmetic called from another module goes through witness tables; this loop
    // touches B × N values, so it is specialised by hand for the two scalar types.
    states.withUnsafeBufferPointer { x in
      similarities.withUnsafeBufferPointer { s in
        usable.withUnsafeBufferPointer { ok in
          indices.withUnsafeMutableBufferPointer { out in
            if Scalar.self == Double.self {
              x.withMemoryRebound(to: Double.self) { x in
                s.withMemoryRebound(to: Double.self) { s in
                  Self.scan(x, s, ok, Double(tolerance), rows: b, patterns: n, columns: d, into: out)
                }
              }
            } else if Scalar.self == Float.self {
              x.withMemoryRebound(to: Float.self) { x in
                s.withMemoryRebound(to: Float.self) { s in
                  Self.scan(x, s, ok, Float(tolerance), rows: b, patterns: n, columns: d, into: out)
                }
              }
            } else {
              Self.scan(x, s, ok, tolerance, rows: b, patterns: n, columns: d, into: out)
            }
          }
        }
      }
    }
  }

  /// The argmax with tie and zero-state checks over precomputed similarities `s` (B × N).
  @inline(__always)
  private static func scan<T: LinearAlgebraScalar>(
    _ x: UnsafeBufferPointer<T>, _ s: UnsafeBufferPointer<T>, _ usable: UnsafeBufferPointer<Bool>, _ tieTolerance: T,
    rows b: Int, patterns n: Int, columns d: Int, into indices: UnsafeMutableBufferPointer<Int>
  ) {
    for r in 0..<b {
      var squared: T = 0
      for j in 0..<d { squared += x[r * d + j] * x[r * d + j] }
      guard squared > 0 && squared.isFinite else {
        indices[r] = -1
        continue
      }
      var best = -1
      var bestValue = -T.infinity
      for mu in 0..<n where usable[mu] && s[r * n + mu] > bestValue {
        best = mu
        bestValue = s[r * n + mu]
      }
      // Whether another pattern is as close within the rounding error of the cosines.
      let threshold = bestValue - tieTolerance * squared.squareRoot()
      for mu in 0..<n where usable[mu] && mu != best && s[r * n + mu] >= threshold {
        best = -1
        break
      }
      indices[r] = best
    }
  }

  /// The nearest pattern of each row of `states`; `nil` where it is undefined (zero state).
  public mutating func nearest(_ states: Matrix<Scalar>) -> [Int?] {
    var indices = [Int](repeating: -1, count: states.rows)
    assign(states, into: &indices)
    return indices.map { $0 >= 0 ? $0 : nil }
  }
}

/// Retrieval metrics shared by every model and study.
public enum RetrievalMetrics {
  /// The nearest stored pattern (by cosine similarity, see ``NearestPatternSearch``) of each row of
  /// `states`; `nil` for a zero state.
  public static func nearestPatterns<Scalar: LinearAlgebraScalar>(
    of states: Matrix<Scalar>, among patterns: Matrix<Scalar>
  ) -> [Int?] {
    var search = NearestPatternSearch(patterns: patterns)
    return search.nearest(states)
  }

  /// Fraction of states whose nearest pattern is their target (a state with no nearest pattern
  /// counts as a failure); `nil` for an empty batch.
  public static func accuracy(nearest: [Int?], targets: [Int]) -> Double? {
    precondition(nearest.count == targets.count, "accuracy: \(nearest.count) states, \(targets.count) targets")
    guard !targets.isEmpty else { return nil }
    let hits = zip(nearest, targets).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    return Double(hits) / Double(targets.count)
  }

  /// Retrieval accuracy of `states` against `targets` (rows of `patterns`); `nil` for an empty batch.
  public static func accuracy<Scalar: LinearAlgebraScalar>(
    of states: Matrix<Scalar>, patterns: Matrix<Scalar>, targets: [Int]
  ) -> Double? {
    accuracy(nearest: nearestPatterns(of: states, among: patterns), targets: targets)
  }

  /// Steps until a trajectory converged: the first t ≥ 1 with ‖x_t − x_{t−1}‖ ≤ `tolerance`,
  /// or `nil` if no step was that small.
  ///
  /// Uses ≤, like ``/AttractorCore/StoppingCriterion`` (seed 000 writes `< ε`; the two differ only when a step
  /// equals ε exactly, and ≤ lets a tolerance of 0 detect exact fixed points).
  public static func stepsToConverge<Scalar: LinearAlgebraScalar>(
    _ trajectory: Trajectory<Scalar>, tolerance: Double
  ) -> Int? {
    let eps = Scalar(tolerance)  // compared in Scalar, as the dynamics do
    return trajectory.stepSizes.firstIndex { $0 <= eps }.map { $0 + 1 }
  }
}

/// Mean of a sample with its standard error, as reported over seeds.
///
/// ```
/// mean = (1/n) Σ xᵢ
/// s    = sqrt( Σ (xᵢ − mean)² / (n − 1) )      (sample standard deviation)
/// SE   = s / √n
/// ```
///
/// With one value the standard deviation and error are undefined (`nil`), not 0.
public struct MeanAndStandardError: Sendable, Equatable, Codable, CustomStringConvertible {
  /// Number of values n.
  public let count: Int
  /// Arithmetic mean.
  public let mean: Double
  /// Sample standard deviation (n − 1 denominator); `nil` when n < 2.
  public let standardDeviation: Double?
  /// Standard error of the mean, s / √n; `nil` when n < 2.
  public let standardError: Double?

  /// The summary of `values`; `nil` when there are none.
  public init?(_ values: some Collection<Double>) {
    guard !values.isEmpty else { return nil }
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    count = values.count
    self.mean = mean
    if values.count >= 2 {
      let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
      let s = (squares / (n - 1)).squareRoot()
      standardDeviation = s
      standardError = s / n.squareRoot()
    } else {
      standardDeviation = nil
      standardError = nil
    }
  }

  /// `mean ± SE (n = …)`.
  public var description: String {
    if let standardError { return "\(mean) ± \(standardError) (n = \(count))" }
    return "\(mean) (n = \(count))"
  }
}
