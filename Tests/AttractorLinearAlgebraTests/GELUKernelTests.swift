import AttractorLinearAlgebra
import Foundation
import Testing

/// The GELU kernel against the definition h = z Φ(z), φ' = Φ(z) + z e^{−z²/2}/√(2π) with
/// Φ(z) = ½ erfc(−z/√2), evaluated here in double precision with the C library's erfc.
@Suite("GELU kernel")
struct GELUKernelTests {
  static let grid: [Double] = (0...4000).map { -10 + 20 * Double($0) / 4000 } + [0, -0.0, 1e-30, -1e-30, 40, -40]

  static func reference(_ z: Double) -> (h: Double, derivative: Double) {
    let cdf = 0.5 * erfc(-z / 2.0.squareRoot())
    return (z * cdf, cdf + z * exp(-z * z / 2) / (2 * Double.pi).squareRoot())
  }

  func run<S: LinearAlgebraScalar>(_ z: [S]) -> (h: [S], derivative: [S]) {
    var h = [S](repeating: 0, count: z.count), d = h
    z.withUnsafeBufferPointer { zp in
      h.withUnsafeMutableBufferPointer { hp in
        d.withUnsafeMutableBufferPointer { dp in
          S.gelu(zp.baseAddress!, output: hp.baseAddress!, derivative: dp.baseAddress!, count: z.count)
        }
      }
    }
    return (h, d)
  }

  @Test("Float: within 4.5e-7 of the double-precision definition (value and derivative) on [-10, 10] and beyond")
  func float() {
    let (h, d) = run(Self.grid.map(Float.init))
    var worstH = 0.0, worstD = 0.0
    for (k, z) in Self.grid.enumerated() {
      let r = Self.reference(Double(Float(z)))
      worstH = max(worstH, abs(Double(h[k]) - r.h))
      worstD = max(worstD, abs(Double(d[k]) - r.derivative))
    }
    #expect(worstH < 4.5e-7 && worstD < 4.5e-7, "worst |Δh| \(worstH), |Δφ'| \(worstD)")
    // Odd symmetry of z − 2φ(z) = z (1 − 2Φ(z)) … i.e. φ(z) − φ(−z) = z, to rounding.
    let pairs = run([Float(1.5), -1.5])
    #expect(abs(pairs.h[0] - pairs.h[1] - 1.5) < 1e-6)
    #expect(run([Float.nan]).h[0].isNaN)
  }

  @Test("Double: the definition to about one ulp; the tail keeps its relative precision")
  func double() {
    let (h, d) = run(Self.grid)
    for (k, z) in Self.grid.enumerated() {
      let r = Self.reference(z)
      #expect(abs(h[k] - r.h) <= 1e-15 * max(1, abs(r.h)))
      #expect(abs(d[k] - r.derivative) <= 1e-15 * max(1, abs(r.derivative)))
    }
    // φ(−8) = −8 Φ(−8) ≈ −4.9e-15: computed as ½ erfc, not 1 + erf (which would give 0 or noise).
    let tail = run([-8.0]).h[0]
    #expect(abs(tail / Self.reference(-8).h - 1) < 1e-12)
  }
}
