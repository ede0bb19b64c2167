import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// How an MNIST digit becomes N unit tokens of a ``/AttractorModels/PseudoLikelihoodAttractor``, and
/// back (the choices the sources leave open, Docs/PseudoLikelihood.md).
///
/// ```
/// crop       the central 20 × 20 pixels (rows and columns 4 … 23; MNIST digits are centred there)
/// pixel      v ∈ [0, 1]  ↦  (cos(πv/2), sin(πv/2)) ∈ S¹        (a quarter circle: invertible)
/// patches    non-overlapping p × p patches, row-major: N = (20/p)² tokens
/// token      u ∈ ℝ^{2p²} (the pixels' unit vectors, ‖u‖ = p), x = Q u / p with Q a seeded random
///            orthogonal 2p² × 2p² matrix (Gram–Schmidt of a Gaussian matrix): d = 2p², ‖x‖ = 1 exactly
/// decoding   u = p Qᵀ x; each pixel's pair (a, b) ↦ clamp((2/π) atan2(b, a), 0, 1)
/// ```
///
/// The projection is square and orthogonal, so decoding a state made by the embedding returns the
/// pixels exactly (up to rounding), and any other state (a token the dynamics moved) decodes to
/// valid pixels: the angle does not depend on the length of the pair.
public struct PixelTokenEmbedding: Sendable, Equatable {
  /// Side of the central crop.
  public static let cropSide = 20
  /// Offset of the crop in the 28 × 28 image.
  public static let cropOffset = 4
  /// Patch side p (divides 20).
  public let patchSide: Int
  /// The orthogonal projection Q (d × d, row-major).
  public let projection: Matrix<Double>

  public init(patchSide: Int = 4, seed: UInt64) throws(InvalidParameter) {
    guard patchSide >= 1, Self.cropSide % patchSide == 0 else {
      throw InvalidParameter("patch side \(patchSide) must divide \(Self.cropSide)")
    }
    self.patchSide = patchSide
    let d = 2 * patchSide * patchSide
    var rng = SeededGenerator(seed: seed)
    var q: Matrix<Double> = rng.gaussianMatrix(rows: d, columns: d)
    // Gram–Schmidt on the rows (twice, for orthogonality to rounding).
    for _ in 0..<2 {
      for i in 0..<d {
        for k in 0..<i {
          var s = 0.0
          for a in 0..<d { s += q[i, a] * q[k, a] }
          for a in 0..<d { q[i, a] -= s * q[k, a] }
        }
        var n = 0.0
        for a in 0..<d { n += q[i, a] * q[i, a] }
        let inv = 1 / n.squareRoot()
        for a in 0..<d { q[i, a] *= inv }
      }
    }
    projection = q
  }

  /// A parameter error of the embedding.
  public struct InvalidParameter: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
  }

  /// Patches per side.
  public var patchesPerSide: Int { Self.cropSide / patchSide }
  /// Number of tokens N.
  public var tokens: Int { patchesPerSide * patchesPerSide }
  /// Token width d = 2p².
  public var tokenWidth: Int { 2 * patchSide * patchSide }
  /// Pixels of the crop, 400.
  public static var cropPixels: Int { cropSide * cropSide }

  /// The central crops (B × 400, values in [0, 1]) of 28 × 28 images with values 0 … 255 (B × 784).
  public static func crop(_ images: Matrix<Double>) -> Matrix<Double> {
    var out = Matrix<Double>(rows: images.rows, columns: cropPixels)
    for r in 0..<images.rows {
      for y in 0..<cropSide {
        for x in 0..<cropSide {
          out[r, y * cropSide + x] = images[r, (y + cropOffset) * 28 + x + cropOffset] / 255
        }
      }
    }
    return out
  }

  /// Index in the crop of pixel k (0 ..< p²) of patch t.
  @inline(__always)
  func pixelIndex(patch t: Int, pixel k: Int) -> Int {
    let py = t / patchesPerSide, px = t % patchesPerSide
    let y = py * patchSide + k / patchSide, x = px * patchSide + k % patchSide
    return y * Self.cropSide + x
  }

  /// States (B × N·d) of crops (B × 400, values in [0, 1]; values outside are clamped): one GEMM
  /// of all B·N patch vectors (B·N × d) with Qᵀ/p.
  public func embed<Scalar: LinearAlgebraScalar>(_ crops: Matrix<Double>, as: Scalar.Type = Scalar.self) -> Matrix<
    Scalar
  > {
    let n = tokens, d = tokenWidth, pp = patchSide * patchSide
    var u = Matrix<Double>(rows: crops.rows * n, columns: d)
    let index = (0..<n).map { t in (0..<pp).map { pixelIndex(patch: t, pixel: $0) } }
    crops.withUnsafeBufferPointer { c in
      u.withUnsafeMutableBufferPointer { out in
        for r in 0..<crops.rows {
          for t in 0..<n {
            let base = (r * n + t) * d
            for k in 0..<pp {
              let v = min(max(c[r * Self.cropPixels + index[t][k]], 0), 1)
              out[base + 2 * k] = Foundation.cos(Double.pi / 2 * v)
              out[base + 2 * k + 1] = Foundation.sin(Double.pi / 2 * v)
            }
          }
        }
      }
    }
    var x = Matrix<Double>(rows: crops.rows * n, columns: d)
    Matrix.multiply(u, projection, transposeB: true, alpha: 1 / Double(patchSide), into: &x)
    return Matrix(rows: crops.rows, columns: n * d, elements: x.elements.map { Scalar($0) })
  }

  /// Crops (B × 400, values in [0, 1]) decoded from states (B × N·d): one GEMM X Q, then an angle
  /// per pixel.
  public func decode<Scalar: LinearAlgebraScalar>(_ states: Matrix<Scalar>) -> Matrix<Double> {
    let n = tokens, d = tokenWidth, pp = patchSide * patchSide
    let x = Matrix<Double>(rows: states.rows * n, columns: d, elements: states.elements.map { Double($0) })
    var u = Matrix<Double>(rows: states.rows * n, columns: d)
    Matrix.multiply(x, projection, into: &u)
    var out = Matrix<Double>(rows: states.rows, columns: Self.cropPixels)
    let index = (0..<n).map { t in (0..<pp).map { pixelIndex(patch: t, pixel: $0) } }
    u.withUnsafeBufferPointer { up in
      out.withUnsafeMutableBufferPointer { o in
        for r in 0..<states.rows {
          for t in 0..<n {
            let base = (r * n + t) * d
            for k in 0..<pp {
              let angle = Foundation.atan2(up[base + 2 * k + 1], up[base + 2 * k])
              o[r * Self.cropPixels + index[t][k]] = min(max(angle / (Double.pi / 2), 0), 1)
            }
          }
        }
      }
    }
    return out
  }

  /// The pixels (indices in the crop) of patch t.
  public func pixels(ofPatch t: Int) -> [Int] { (0..<(patchSide * patchSide)).map { pixelIndex(patch: t, pixel: $0) } }
}
