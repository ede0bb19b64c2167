import CAttractorKernels
import RealModule

extension LinearAlgebraScalar {
  /// Exact GELU of `count` contiguous values in one pass, with its derivative:
  ///
  /// ```
  /// h = z Φ(z),   derivative = Φ(z) + z e^{−z²/2}/√(2π),   Φ(z) = ½ erfc(−z/√2)
  /// ```
  ///
  /// Float runs a vectorised C kernel (erfc by Abramowitz & Stegun 7.1.26, so |ΔΦ| < 3·10⁻⁷ and
  /// |Δh| < 4.2·10⁻⁷ against double precision, the size of Float's own rounding of z Φ(z) at
  /// |z| = 8); Double uses the C library's erfc and exp (about one ulp). Computing Φ as ½ erfc in
  /// the tail keeps its relative precision for negative z, where 1 + erf would cancel. Hendrycks &
  /// Gimpel, arXiv:1606.08415.
  public static func gelu(
    _ z: UnsafePointer<Self>, output h: UnsafeMutablePointer<Self>, derivative: UnsafeMutablePointer<Self>,
    count: Int
  ) {
    if Self.self == Float.self {
      attractor_gelu_f32(
        UnsafeRawPointer(z).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(h).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(derivative).assumingMemoryBound(to: Float.self), count)
    } else if Self.self == Double.self {
      attractor_gelu_f64(
        UnsafeRawPointer(z).assumingMemoryBound(to: Double.self),
        UnsafeMutableRawPointer(h).assumingMemoryBound(to: Double.self),
        UnsafeMutableRawPointer(derivative).assumingMemoryBound(to: Double.self), count)
    } else {
      for i in 0..<count {
        let x = Double(z[i])
        let cdf = 0.5 * Double.erfc(-x * 0.707_106_781_186_547_5)
        h[i] = Self(x * cdf)
        derivative[i] = Self(cdf + x * Double.exp(-0.5 * x * x) * 0.398_942_280_401_432_7)
      }
    }
  }
}
