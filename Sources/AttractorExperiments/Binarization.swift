import AttractorLinearAlgebra

/// Turning real patterns and queries into the ±1 states of binary models (the classical Hopfield
/// network refuses patterns that are not ±1).
///
/// ```
/// sign(x) = +1 if x ≥ 0, −1 if x < 0        (0 ↦ +1, the convention of ClassicalHopfield.binarized)
/// ```
///
/// With `keepingZeros: true`, an exact 0 stays 0 instead. For queries this keeps the meaning of a
/// masked coordinate (`Corruption.mask`): a 0 unit is "unknown", adds nothing to the local fields
/// W x, and the first update sets it to ±1; and in an `.overlap(0.5)` query, coordinates where the
/// target and distractor disagree stay undecided rather than being broken towards +1.
public enum Binarization {
  /// The entrywise sign of `matrix` (0 ↦ +1, or 0 ↦ 0 with `keepingZeros`).
  public static func binarized<Scalar: LinearAlgebraScalar>(
    _ matrix: Matrix<Scalar>, keepingZeros: Bool = false
  ) -> Matrix<Scalar> {
    var result = matrix
    result.withUnsafeMutableBufferPointer { p in
      for k in p.indices {
        let x = p[k]
        p[k] = x > 0 ? 1 : (x < 0 ? -1 : (keepingZeros ? 0 : 1))
      }
    }
    return result
  }

  /// Both patterns and queries binarised with the same convention (0 ↦ +1, or kept with
  /// `keepingZeros`; patterns never keep zeros, since a binary model stores only ±1).
  public static func binarized<Scalar: LinearAlgebraScalar>(
    patterns: Matrix<Scalar>, queries: Matrix<Scalar>, keepingZerosInQueries: Bool = false
  ) -> (patterns: Matrix<Scalar>, queries: Matrix<Scalar>) {
    (binarized(patterns), binarized(queries, keepingZeros: keepingZerosInQueries))
  }

  /// Whether every entry is +1 or −1.
  public static func isBinary<Scalar: LinearAlgebraScalar>(_ matrix: Matrix<Scalar>) -> Bool {
    matrix.withUnsafeBufferPointer { p in p.allSatisfy { $0 == 1 || $0 == -1 } }
  }

  /// Whether every entry is +1, −1 or 0.
  public static func isTernary<Scalar: LinearAlgebraScalar>(_ matrix: Matrix<Scalar>) -> Bool {
    matrix.withUnsafeBufferPointer { p in p.allSatisfy { $0 == 1 || $0 == -1 || $0 == 0 } }
  }
}
