import CAttractorKernels
import RealModule

extension Matrix {
  /// Replaces each row by its softmax, in place and without allocation.
  ///
  /// ```
  /// softmax(z)_j = exp(z_j − m) / Σ_k exp(z_k − m),   m = max_k z_k
  /// ```
  ///
  /// Mathematical properties: each row sums to 1 and is invariant to adding a constant to the
  /// logits. Subtracting the row maximum keeps every exponent ≤ 0, so finite logits of any size
  /// (±1e4 included) give finite results with no overflow; the largest entry is at least 1/columns.
  /// The exponentials come from vectorised C kernels (under one ulp for Float, about one ulp for
  /// Double); weights below the type's smallest normal number are flushed to exactly 0. Large
  /// batches are split across cores.
  public mutating func softmaxRows() {
    let c = columns
    guard c > 0 else { return }
    let r = rows
    // Split over the cores when the work pays for the hand-off (a C thread pool: libdispatch's
    // concurrentPerform allocates on every call, and a dynamics step must not allocate).
    let parts = r * c >= 1 << 16 && r >= 2 ? min(r, parallelism) : 1
    elements.withUnsafeMutableBufferPointer { buffer in
      Scalar.softmaxRowsInPlace(buffer.baseAddress!, rows: r, count: c, parts: parts)
    }
  }

  /// Log-sum-exp of each row into a preallocated array, without overflow.
  ///
  /// ```
  /// lse(z) = m + log Σ_k exp(z_k − m),   m = max_k z_k
  /// ```
  ///
  /// Mathematical properties: `max z ≤ lse(z) ≤ max z + log n`; finite for any finite logits. The
  /// sum is accumulated in double precision, so Float logits lose nothing before the final rounding.
  public func logSumExpRows(into result: inout [Scalar]) {
    precondition(result.count == rows, "logSumExpRows: result has \(result.count) entries, needs \(rows)")
    let c = columns
    elements.withUnsafeBufferPointer { buffer in
      for i in 0..<rows {
        result[i] = c == 0 ? -Scalar.infinity : Scalar(Scalar.logSumExp(buffer.baseAddress! + i * c, count: c))
      }
    }
  }

  /// Log-sum-exp of each row as a new array.
  public func logSumExpRows() -> [Scalar] {
    var result = [Scalar](repeating: 0, count: rows)
    logSumExpRows(into: &result)
    return result
  }
}

private let parallelism = max(1, ProcessInfoCores.count)

enum ProcessInfoCores {
  static let count: Int = {
    #if canImport(Glibc)
      return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
      return 2
    #endif
  }()
}

#if canImport(Glibc)
  import Glibc
#endif

/// Numerically stable softmax of a vector.
public func softmax<Scalar: LinearAlgebraScalar>(_ z: [Scalar]) -> [Scalar] {
  var out = z
  if out.isEmpty { return out }
  out.withUnsafeMutableBufferPointer { Scalar.softmaxInPlace($0.baseAddress!, count: $0.count) }
  return out
}

/// Numerically stable log-sum-exp of a vector (`-∞` for an empty one).
public func logSumExp<Scalar: LinearAlgebraScalar>(_ z: [Scalar]) -> Scalar {
  if z.isEmpty { return -Scalar.infinity }
  return z.withUnsafeBufferPointer { Scalar(Scalar.logSumExp($0.baseAddress!, count: $0.count)) }
}

/// The log-sum-exp of `count ≥ 1` contiguous double logits relative to their maximum, and where
/// that maximum is:
///
/// ```
/// logSum = log Σᵢ exp(xᵢ − x_k) = lse(x) − x_k,   k = argmax (the first index of the maximum)
/// ```
///
/// Mathematical properties: 0 ≤ logSum ≤ log count, computed in double precision (vectorised C
/// kernel) without forming lse(x), so it keeps its relative precision when the logits are huge and
/// lse(x) − x_k would cancel. Returns the maximum itself as `logSum` when that is ±∞ or NaN.
public func logSumExpAboveMaximum(_ x: UnsafePointer<Double>, count: Int) -> (logSum: Double, argmax: Int) {
  precondition(count >= 1, "logSumExpAboveMaximum: needs at least one value")
  var k = 0
  let logSum = attractor_log_sum_exp_above_max_f64(x, count, &k)
  return (logSum, k)
}
