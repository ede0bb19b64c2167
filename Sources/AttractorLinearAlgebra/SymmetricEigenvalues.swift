import CAttractorKernels
import CLinearAlgebra

/// Eigenvalues of small symmetric matrices without BLAS, so that several threads can compute them at
/// once whatever OpenBLAS's thread count.
///
/// ```
/// A = Q T Qᵀ    Householder reduction to a tridiagonal T, in C (no BLAS, no lock)
/// λ(A) = λ(T)   LAPACK ?sterf on T, in double precision: Pal–Walker–Kahan's root-free QL/QR
///               iteration, which calls no BLAS
/// ```
///
/// Why: LAPACK's `?syevd` reduces A with `?sytrd`, whose BLAS calls (`?symv`, `?syr2`, `?gemv`,
/// `?syr2k`) OpenBLAS 0.3.21 hands to its own thread pool even at d = 64 whenever its process-wide
/// thread count is above one (`dsymv_thread_L` in a profile); two threads calling `?syevd` at once
/// then queue on that one pool (Docs/Benchmarks.md, "OpenBLAS and concurrent small calls").
/// Properties relied on: Householder reflections are orthogonal, so T has A's eigenvalues up to
/// rounding of about n·ε·‖A‖ (backward stable, as `?sytrd`); `?sterf` returns them ascending, and
/// its `info` becomes a ``LinearAlgebraError``. The reduction reads the upper triangle (row-major)
/// only, like ``LinearAlgebraScalar/syevd(computeVectors:n:a:lda:w:)`` with `uplo = 'U'`. Float
/// input is reduced in double precision, so its eigenvalues are as accurate as Double's.
///
/// The unblocked reduction does O(n³) level-2 work in one n × n buffer; above
/// ``largestDimension`` the blocked BLAS-3 `?syevd` is faster (measured, Docs/Benchmarks.md).
public struct SymmetricEigenvalueWorkspace: Sendable {
  /// Largest n for which callers use this path rather than `?syevd`: chosen by measurement
  /// (`Scripts/openblas_small_calls.c`, Docs/Benchmarks.md, "OpenBLAS and concurrent small calls"):
  /// on one thread the two cost the same CPU time at n = 128 and this path 16 % more at n = 192 and
  /// 40 % more at 256, where `?syevd`'s blocked BLAS-3 reduction pays; up to 128 this path also runs
  /// on several threads at once.
  public static var largestDimension: Int { 128 }

  /// The matrix order n.
  public let dimension: Int
  var scratch: [Double]
  var offDiagonal: [Double]
  var work: [Double]

  /// Buffers for n × n matrices (n² + 3n doubles), allocated once and reused by every call.
  public init(dimension n: Int) {
    precondition(n >= 1, "SymmetricEigenvalueWorkspace: needs n ≥ 1")
    dimension = n
    scratch = [Double](repeating: 0, count: n * n)
    offDiagonal = [Double](repeating: 0, count: n)
    work = [Double](repeating: 0, count: 2 * n)
  }

  /// The eigenvalues, ascending, of the symmetric n × n matrix whose upper triangle is at `a`
  /// (row-major, leading dimension `lda` ≥ n), written to `w[0..<n]` in double precision. `a` is
  /// not modified.
  ///
  /// - Throws: ``LinearAlgebraError/noConvergence(routine:info:)`` when `dsterf` does not converge
  ///   (its `info`: how many eigenvalues were not found), or
  ///   ``LinearAlgebraError/illegalArgument(routine:position:)``. The caller checks that `a` is
  ///   finite (NaN or ±∞ propagate into the result or make `dsterf` fail).
  public mutating func eigenvalues<Scalar: LinearAlgebraScalar>(
    upperTriangleOf a: UnsafePointer<Scalar>, leadingDimension lda: Int, into w: UnsafeMutablePointer<Double>
  ) throws(LinearAlgebraError) {
    let n = dimension
    precondition(lda >= n, "SymmetricEigenvalueWorkspace: leading dimension \(lda) < n = \(n)")
    scratch.withUnsafeMutableBufferPointer { s in
      offDiagonal.withUnsafeMutableBufferPointer { e in
        work.withUnsafeMutableBufferPointer { t in
          if Scalar.self == Double.self {
            let source = UnsafeRawPointer(a).assumingMemoryBound(to: Double.self)
            attractor_symmetric_tridiagonal_f64(source, n, lda, s.baseAddress!, w, e.baseAddress!, t.baseAddress!)
          } else {
            let source = UnsafeRawPointer(a).assumingMemoryBound(to: Float.self)
            attractor_symmetric_tridiagonal_f32(source, n, lda, s.baseAddress!, w, e.baseAddress!, t.baseAddress!)
          }
        }
      }
    }
    let info = offDiagonal.withUnsafeMutableBufferPointer { e in
      LAPACKE_dsterf_work(blasInt(n), w, e.baseAddress!)
    }
    try LinearAlgebraError.check(info, routine: "dsterf")
  }
}
