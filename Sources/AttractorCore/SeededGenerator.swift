import AttractorLinearAlgebra
import RealModule

/// A seeded, portable pseudo-random number generator (xoshiro256**), with Gaussian sampling.
///
/// Every random quantity in the package comes from one of these, so a result is reproduced by its
/// seed on any machine. The state is expanded from the 64-bit seed with SplitMix64, as its authors
/// recommend; ``derived(_:)`` gives independent streams for sub-tasks (a row, a shard) so that
/// results do not depend on batch composition or order of work.
///
/// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
  /// The seed this generator was created from.
  public let seed: UInt64

  /// A generator whose whole stream is determined by `seed`.
  public init(seed: UInt64) {
    self.seed = seed
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  /// An independent generator for sub-task `index`, determined by this generator's seed and `index`.
  public func derived(_ index: Int) -> SeededGenerator {
    SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
  }

  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// A uniform sample in [0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal sample (Box–Muller; both variates are used, the second one cached is not kept
  /// so that the stream position depends only on the number of calls).
  public mutating func nextGaussian() -> Double {
    var u1 = nextUniform()
    while u1 <= 0 { u1 = nextUniform() }
    let u2 = nextUniform()
    return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
  }

  /// A `rows × columns` matrix of independent N(mean, standardDeviation²) samples.
  public mutating func gaussianMatrix<Scalar: LinearAlgebraScalar>(
    rows: Int, columns: Int, mean: Double = 0, standardDeviation: Double = 1, as: Scalar.Type = Scalar.self
  ) -> Matrix<Scalar> {
    var m = Matrix<Scalar>(rows: rows, columns: columns)
    m.withUnsafeMutableBufferPointer { p in
      for k in p.indices { p[k] = Scalar(mean + standardDeviation * nextGaussian()) }
    }
    return m
  }

  /// A `rows × columns` matrix of independent ±1 entries, each sign with probability ½.
  public mutating func signMatrix<Scalar: LinearAlgebraScalar>(
    rows: Int, columns: Int, as: Scalar.Type = Scalar.self
  ) -> Matrix<Scalar> {
    var m = Matrix<Scalar>(rows: rows, columns: columns)
    m.withUnsafeMutableBufferPointer { p in
      for k in p.indices { p[k] = next() & 1 == 0 ? 1 : -1 }
    }
    return m
  }

  /// A uniformly random permutation of `0..<indices.count` written into `indices` (Fisher–Yates).
  public mutating func shuffle(_ indices: inout [Int]) {
    for k in indices.indices { indices[k] = k }
    var i = indices.count - 1
    while i > 0 {
      let j = Int(next(upperBound: UInt64(i + 1)))
      indices.swapAt(i, j)
      i -= 1
    }
  }
}
