import ComplexModule

/// Eigenvalues (ascending) and optionally eigenvectors of a real symmetric matrix.
///
/// ```
/// A = V diag(λ) Vᵀ,   λ₁ ≤ λ₂ ≤ … ≤ λₙ,   VᵀV = I
/// ```
///
/// Computed by LAPACK `?syevd` (divide and conquer). Only the upper triangle of the input is read.
public struct SymmetricEigendecomposition<Scalar: LinearAlgebraScalar>: Sendable {
  /// Eigenvalues in ascending order.
  public let eigenvalues: [Scalar]
  /// Orthonormal eigenvectors as the columns of an `n × n` matrix (column `j` belongs to
  /// `eigenvalues[j]`), or `nil` when they were not requested.
  public let eigenvectors: Matrix<Scalar>?
}

/// Eigenvalues and optionally right eigenvectors of a real general (non-symmetric) matrix.
///
/// ```
/// A vⱼ = λⱼ vⱼ,   λⱼ ∈ ℂ
/// ```
///
/// Computed by LAPACK `?geev`. Complex eigenvalues of a real matrix come in conjugate pairs, the one
/// with positive imaginary part first; LAPACK's order is kept (it is not sorted).
public struct GeneralEigendecomposition<Scalar: LinearAlgebraScalar>: Sendable {
  /// Eigenvalues, complex conjugate pairs adjacent.
  public let eigenvalues: [Complex<Scalar>]
  /// Right eigenvectors, `eigenvectors[j]` for `eigenvalues[j]`, each of Euclidean norm 1 and largest
  /// component real; `nil` when not requested.
  public let eigenvectors: [[Complex<Scalar>]]?

  /// Largest modulus among the eigenvalues (the spectral radius).
  public var spectralRadius: Scalar { eigenvalues.map { $0.length }.max() ?? 0 }
}

extension Matrix {
  /// What an eigen-decomposition asks of its matrix: square, and no NaN or infinity.
  private func checkSquareAndFinite(operation: String) throws(LinearAlgebraError) {
    guard isSquare else { throw .notSquare(operation: operation, rows: rows, columns: columns) }
    guard isFinite else { throw .nonFinite(operation: operation) }
  }

  /// Symmetric eigen-decomposition with LAPACK `?syevd`.
  ///
  /// - Parameter computeEigenvectors: also return the eigenvectors (costs about three times more).
  /// - Throws: ``LinearAlgebraError/notSquare(operation:rows:columns:)``,
  ///   ``LinearAlgebraError/nonFinite(operation:)``, or the error matching LAPACK's `info`.
  /// - Note: symmetry is not checked; the upper triangle is used.
  public func symmetricEigendecomposition(
    computeEigenvectors: Bool = true
  ) throws(LinearAlgebraError) -> SymmetricEigendecomposition<Scalar> {
    try checkSquareAndFinite(operation: "symmetricEigendecomposition")
    let n = rows
    if n == 0 { return SymmetricEigendecomposition(eigenvalues: [], eigenvectors: computeEigenvectors ? self : nil) }
    var a = elements
    var w = [Scalar](repeating: 0, count: n)
    let info = a.withUnsafeMutableBufferPointer { pa in
      w.withUnsafeMutableBufferPointer { pw in
        Scalar.syevd(computeVectors: computeEigenvectors, n: n, a: pa.baseAddress!, lda: n, w: pw.baseAddress!)
      }
    }
    try LinearAlgebraError.check(info, routine: Scalar.self == Float.self ? "ssyevd" : "dsyevd")
    return SymmetricEigendecomposition(
      eigenvalues: w, eigenvectors: computeEigenvectors ? Matrix(rows: n, columns: n, elements: a) : nil)
  }

  /// General eigen-decomposition with LAPACK `?geev` (right eigenvectors).
  ///
  /// - Throws: ``LinearAlgebraError/notSquare(operation:rows:columns:)``,
  ///   ``LinearAlgebraError/nonFinite(operation:)``, or the error matching LAPACK's `info`.
  public func generalEigendecomposition(
    computeEigenvectors: Bool = true
  ) throws(LinearAlgebraError) -> GeneralEigendecomposition<Scalar> {
    try checkSquareAndFinite(operation: "generalEigendecomposition")
    let n = rows
    if n == 0 { return GeneralEigendecomposition(eigenvalues: [], eigenvectors: computeEigenvectors ? [] : nil) }
    var a = elements
    var wr = [Scalar](repeating: 0, count: n)
    var wi = [Scalar](repeating: 0, count: n)
    var vr = [Scalar](repeating: 0, count: computeEigenvectors ? n * n : 1)
    let info = a.withUnsafeMutableBufferPointer { pa in
      wr.withUnsafeMutableBufferPointer { pwr in
        wi.withUnsafeMutableBufferPointer { pwi in
          vr.withUnsafeMutableBufferPointer { pvr in
            Scalar.geev(
              computeVectors: computeEigenvectors, n: n, a: pa.baseAddress!, lda: n,
              wr: pwr.baseAddress!, wi: pwi.baseAddress!,
              vr: computeEigenvectors ? pvr.baseAddress! : nil, ldvr: computeEigenvectors ? n : 1)
          }
        }
      }
    }
    try LinearAlgebraError.check(info, routine: Scalar.self == Float.self ? "sgeev" : "dgeev")
    let values = (0..<n).map { Complex(wr[$0], wi[$0]) }
    guard computeEigenvectors else { return GeneralEigendecomposition(eigenvalues: values, eigenvectors: nil) }
    // Row-major VR: column j is eigenvector j; a conjugate pair (wi[j] > 0) stores the real part in
    // column j and the imaginary part in column j + 1.
    var vectors: [[Complex<Scalar>]] = []
    vectors.reserveCapacity(n)
    var j = 0
    while j < n {
      if wi[j] != 0 && j + 1 < n {
        let v = (0..<n).map { Complex(vr[$0 * n + j], vr[$0 * n + j + 1]) }
        vectors.append(v)
        vectors.append(v.map { $0.conjugate })
        j += 2
      } else {
        vectors.append((0..<n).map { Complex(vr[$0 * n + j], 0) })
        j += 1
      }
    }
    return GeneralEigendecomposition(eigenvalues: values, eigenvectors: vectors)
  }
}
