import CAttractorKernels
import Foundation
import CLinearAlgebra
import RealModule

/// A floating-point type with BLAS and LAPACK kernels: `Float` (the `s` routines) or `Double` (the `d` routines).
///
/// The static requirements are thin, typed wrappers over single CBLAS / LAPACKE calls on row-major
/// storage. Library code reaches them through ``Matrix``; they are public so that a model can call a
/// kernel on a slice of a preallocated buffer without copying.
///
/// Conforming types beyond `Float` and `Double` are not supported: OpenBLAS has no kernels for them.
public protocol LinearAlgebraScalar: BinaryFloatingPoint, Real, Sendable, Codable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
  /// Name of the type in NumPy's vocabulary (`"float32"`, `"float64"`).
  static var numpyName: String { get }

  /// `C ← α op(A) op(B) + β C` (row-major; `op` transposes when asked). `C` is `m × n`, `op(A)` is `m × k`.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Self, a: UnsafePointer<Self>, lda: Int,
    b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

  /// `y ← α op(A) x + β y` for a row-major `m × n` matrix `A`.
  static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
    x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)

  /// `Σ xᵢ yᵢ` over `n` elements.
  static func dot(n: Int, x: UnsafePointer<Self>, incx: Int, y: UnsafePointer<Self>, incy: Int) -> Self

  /// `y ← α x + y` over `n` elements.
  static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int, y: UnsafeMutablePointer<Self>, incy: Int)

  /// Softmax of `count ≥ 1` contiguous values in place (vectorised C kernel; see
  /// `attractor_kernels.h` for its accuracy).
  static func softmaxInPlace(_ x: UnsafeMutablePointer<Self>, count: Int)

  /// Softmax of each of `rows` rows of `count ≥ 1` contiguous values in place, split into `parts`
  /// row ranges run on a persistent thread pool (C; allocates nothing after its first use).
  static func softmaxRowsInPlace(_ x: UnsafeMutablePointer<Self>, rows: Int, count: Int, parts: Int)

  /// log Σᵢ exp(xᵢ) of `count ≥ 1` contiguous values, accumulated in double precision.
  static func logSumExp(_ x: UnsafePointer<Self>, count: Int) -> Double

  /// Softmax backward pass in place on `rows` contiguous rows of `count` values:
  /// gᵢ ← pᵢ (gᵢ − Σⱼ pⱼ gⱼ) (vectorised C kernel; the dot product is accumulated in double).
  static func softmaxBackwardInPlace(
    probabilities p: UnsafePointer<Self>, gradients g: UnsafeMutablePointer<Self>, rows: Int, count: Int)

  /// One AdamW step on `count` contiguous parameters, moments updated in place (vectorised C kernel).
  /// `c1`, `c2` are the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.
  static func adamWStep(
    parameters: UnsafeMutablePointer<Self>, gradients: UnsafePointer<Self>, firstMoments: UnsafeMutablePointer<Self>,
    secondMoments: UnsafeMutablePointer<Self>, count: Int, beta1: Self, beta2: Self, learningRate: Self, epsilon: Self,
    weightDecay: Self, c1: Self, c2: Self)

  /// LAPACK `?syevd` on a row-major symmetric matrix (upper triangle read). Returns LAPACK's `info`.
  static func syevd(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, w: UnsafeMutablePointer<Self>
  ) -> Int32

  /// LAPACK `?geev` on a row-major general matrix, right eigenvectors only. Returns LAPACK's `info`.
  static func geev(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Self>, lda: Int,
    wr: UnsafeMutablePointer<Self>, wi: UnsafeMutablePointer<Self>,
    vr: UnsafeMutablePointer<Self>?, ldvr: Int
  ) -> Int32
}

@inline(__always)
func blasInt(_ value: Int, _ what: StaticString = "dimension") -> Int32 {
  precondition(value >= 0 && value <= Int(Int32.max), "\(what) \(value) does not fit a 32-bit BLAS integer")
  return Int32(value)
}

@inline(__always) private func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
@inline(__always) private func lapackChar(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

extension Float: LinearAlgebraScalar {
  public static var numpyName: String { "float32" }

  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
      blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
  }

  public static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int
  ) {
    cblas_sgemv(
      CblasRowMajor, cblasTranspose(transpose), blasInt(m), blasInt(n), alpha, a, blasInt(lda),
      x, blasInt(incx), beta, y, blasInt(incy))
  }

  public static func dot(n: Int, x: UnsafePointer<Float>, incx: Int, y: UnsafePointer<Float>, incy: Int) -> Float {
    cblas_sdot(blasInt(n), x, blasInt(incx), y, blasInt(incy))
  }

  public static func axpy(
    n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int, y: UnsafeMutablePointer<Float>, incy: Int
  ) {
    cblas_saxpy(blasInt(n), alpha, x, blasInt(incx), y, blasInt(incy))
  }

  public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    attractor_softmax_f32(x, count)
  }

  public static func softmaxRowsInPlace(_ x: UnsafeMutablePointer<Float>, rows: Int, count: Int, parts: Int) {
    attractor_softmax_rows_f32(x, rows, count, Int32(clamping: parts))
  }

  public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
    attractor_log_sum_exp_f32(x, count)
  }

  public static func softmaxBackwardInPlace(
    probabilities p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>, rows: Int, count: Int
  ) {
    attractor_softmax_backward_f32(p, g, rows, count)
  }

  public static func adamWStep(
    parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, firstMoments: UnsafeMutablePointer<Float>,
    secondMoments: UnsafeMutablePointer<Float>, count: Int, beta1: Float, beta2: Float, learningRate: Float,
    epsilon: Float,
    weightDecay: Float, c1: Float, c2: Float
  ) {
    attractor_adamw_f32(
      parameters, gradients, firstMoments, secondMoments, count, beta1, beta2, learningRate, epsilon, weightDecay, c1,
      c2)
  }

  public static func syevd(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, w: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_ssyevd(
      /*matrix_layout=*/LAPACK_ROW_MAJOR, /*jobz=*/ lapackChar(computeVectors ? "V" : "N"),
      /*uplo=*/lapackChar("U"), /*n=*/ blasInt(n), /*a=*/ a, /*lda=*/ blasInt(lda), /*w=*/ w)
  }

  public static func geev(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Float>, lda: Int,
    wr: UnsafeMutablePointer<Float>, wi: UnsafeMutablePointer<Float>,
    vr: UnsafeMutablePointer<Float>?, ldvr: Int
  ) -> Int32 {
    LAPACKE_sgeev(
      /*matrix_layout=*/LAPACK_ROW_MAJOR, /*jobvl=*/ lapackChar("N"),
      /*jobvr=*/lapackChar(computeVectors ? "V" : "N"), /*n=*/ blasInt(n), /*a=*/ a, /*lda=*/ blasInt(lda),
      /*wr=*/wr, /*wi=*/ wi, /*vl=*/ nil, /*ldvl=*/ 1, /*vr=*/ vr, /*ldvr=*/ blasInt(ldvr))
  }
}

extension Double: LinearAlgebraScalar {
  public static var numpyName: String { "float64" }

  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
      blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
  }

  public static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
    x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int
  ) {
    cblas_dgemv(
      CblasRowMajor, cblasTranspose(transpose), blasInt(m), blasInt(n), alpha, a, blasInt(lda),
      x, blasInt(incx), beta, y, blasInt(incy))
  }

  public static func dot(n: Int, x: UnsafePointer<Double>, incx: Int, y: UnsafePointer<Double>, incy: Int) -> Double {
    cblas_ddot(blasInt(n), x, blasInt(incx), y, blasInt(incy))
  }

  public static func axpy(
    n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int, y: UnsafeMutablePointer<Double>, incy: Int
  ) {
    cblas_daxpy(blasInt(n), alpha, x, blasInt(incx), y, blasInt(incy))
  }

  public static func softmaxInPlace(_ x: UnsafeMutablePointer<Double>, count: Int) {
    attractor_softmax_f64(x, count)
  }

  public static func softmaxRowsInPlace(_ x: UnsafeMutablePointer<Double>, rows: Int, count: Int, parts: Int) {
    attractor_softmax_rows_f64(x, rows, count, Int32(clamping: parts))
  }

  public static func logSumExp(_ x: UnsafePointer<Double>, count: Int) -> Double {
    attractor_log_sum_exp_f64(x, count)
  }

  public static func softmaxBackwardInPlace(
    probabilities p: UnsafePointer<Double>, gradients g: UnsafeMutablePointer<Double>, rows: Int, count: Int
  ) {
    attractor_softmax_backward_f64(p, g, rows, count)
  }

  public static func adamWStep(
    parameters: UnsafeMutablePointer<Double>, gradients: UnsafePointer<Double>,
    firstMoments: UnsafeMutablePointer<Double>,
    secondMoments: UnsafeMutablePointer<Double>, count: Int, beta1: Double, beta2: Double, learningRate: Double,
    epsilon: Double,
    weightDecay: Double, c1: Double, c2: Double
  ) {
    attractor_adamw_f64(
      parameters, gradients, firstMoments, secondMoments, count, beta1, beta2, learningRate, epsilon, weightDecay, c1,
      c2)
  }

  public static func syevd(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, w: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dsyevd(
      /*matrix_layout=*/LAPACK_ROW_MAJOR, /*jobz=*/ lapackChar(computeVectors ? "V" : "N"),
      /*uplo=*/lapackChar("U"), /*n=*/ blasInt(n), /*a=*/ a, /*lda=*/ blasInt(lda), /*w=*/ w)
  }

  public static func geev(
    computeVectors: Bool, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
    wr: UnsafeMutablePointer<Double>, wi: UnsafeMutablePointer<Double>,
    vr: UnsafeMutablePointer<Double>?, ldvr: Int
  ) -> Int32 {
    LAPACKE_dgeev(
      /*matrix_layout=*/LAPACK_ROW_MAJOR, /*jobvl=*/ lapackChar("N"),
      /*jobvr=*/lapackChar(computeVectors ? "V" : "N"), /*n=*/ blasInt(n), /*a=*/ a, /*lda=*/ blasInt(lda),
      /*wr=*/wr, /*wi=*/ wi, /*vl=*/ nil, /*ldvl=*/ 1, /*vr=*/ vr, /*ldvr=*/ blasInt(ldvr))
  }
}

/// Threading of the OpenBLAS library the package links.
///
/// OpenBLAS results differ bitwise with the thread count; benchmarks report it and tests compare
/// with tolerances.
public enum BLAS {
  /// Number of threads OpenBLAS uses for level-3 calls.
  public static var threadCount: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of OpenBLAS threads for the rest of the process (at least 1).
  public static func setThreadCount(_ count: Int) {
    openblas_set_num_threads(Int32(clamping: max(1, count)))
  }
}

extension BLAS {
  /// The kernel set OpenBLAS chose when it was loaded ("Prescott", "Haswell", "SkylakeX", …), as
  /// reported by `openblas_get_corename`.
  public static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// OpenBLAS's configuration string (`openblas_get_config`: version, build options, kernel set).
  public static var configuration: String {
    guard let text = openblas_get_config() else { return "unknown" }
    return String(cString: text)
  }

  /// Kernel sets that use neither AVX2 nor AVX-512: what a `DYNAMIC_ARCH` OpenBLAS falls back to
  /// when it does not recognise a newer CPU model.
  static let legacyCores: Set<String> = [
    "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias",
  ]

  /// The `OPENBLAS_CORETYPE` this process should have been started with, or `nil` when OpenBLAS's
  /// own choice is already right.
  ///
  /// A `DYNAMIC_ARCH` OpenBLAS picks its kernels from the CPU's model number, and a release older
  /// than the CPU does not know it: Debian's OpenBLAS 0.3.21 on a Sapphire Rapids Xeon falls back to
  /// its SSE3 `Prescott` kernels, about 3× slower for SGEMM than the AVX-512 `SkylakeX` kernels the
  /// CPU runs (Docs/Benchmarks.md). This looks at the CPU's feature flags instead of its model
  /// number: `SkylakeX` when it has AVX-512 F/CD/BW/DQ/VL, `Haswell` when it has AVX2 and FMA. It
  /// returns `nil` when `OPENBLAS_CORETYPE` is already set (the user's choice wins), when OpenBLAS
  /// chose anything other than a legacy kernel set, or when the CPU has neither feature set.
  ///
  /// The kernel set is fixed when the library loads, so the answer only takes effect in a new
  /// process (`attractor` re-executes itself once with the variable set).
  public static func recommendedCoreType(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> String?
  {
    guard environment["OPENBLAS_CORETYPE"] == nil, legacyCores.contains(coreName.lowercased()) else { return nil }
    if attractor_cpu_has_avx512_skylakex() != 0 { return "SkylakeX" }
    if attractor_cpu_has_avx2_fma() != 0 { return "Haswell" }
    return nil
  }
}
