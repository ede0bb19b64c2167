import Attractors
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Starts the tool on OpenBLAS kernels that match the CPU.
///
/// OpenBLAS fixes its kernel set when the library loads, from the CPU's model number; an OpenBLAS
/// older than the CPU falls back to SSE3 kernels several times slower (``BLAS/recommendedCoreType(environment:)``).
/// When that happened, the tool runs itself again, once, with `OPENBLAS_CORETYPE` set to the kernel
/// set the CPU's feature flags allow; the arguments and the rest of the environment are unchanged,
/// and no output has been written yet. Setting `OPENBLAS_CORETYPE` yourself (to any value) turns
/// this off. If the new start fails, the tool goes on with the kernels it has.
public enum FastBLASKernels {
  /// Re-executes the current binary with `OPENBLAS_CORETYPE` set when ``BLAS/recommendedCoreType(environment:)``
  /// asks for it; returns only when it does not (or when `execv` fails).
  public static func relaunchIfNeeded() {
    #if os(Linux)
      guard let core = BLAS.recommendedCoreType() else { return }
      setenv("OPENBLAS_CORETYPE", core, 1)
      execv("/proc/self/exe", CommandLine.unsafeArgv)
      // Still here: the new start failed; carry on with the current kernels.
      unsetenv("OPENBLAS_CORETYPE")
    #endif
  }
}
