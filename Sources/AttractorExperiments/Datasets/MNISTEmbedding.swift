import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// MNIST digits embedded by principal component analysis of the pixels, with one prototype per
/// class: the stand-in for seed 000's ResNet-18 embeddings, which cannot be obtained here.
///
/// ```
/// x ∈ [0, 1]^784 (pixel / 255);   μ = mean of the training images
/// P = the top-k eigenvectors of the training covariance (1/(n−1)) Σ (x − μ)(x − μ)ᵀ   (LAPACK dsyevd)
/// e(x) = c · (x − μ) P                         (k = 128)
/// prototype_y = mean of e(x) over training images of class y
/// c chosen so that the prototypes' entries have root mean square 1
/// ```
///
/// PCA is the linear embedding that keeps the most pixel variance in k dimensions, needs no
/// trained network, and is reproducible from the data alone; unlike ResNet-18 features it is not
/// trained to separate the classes, so nearest-prototype retrieval is harder. The scale c puts the
/// stored prototypes on the same scale as the unit-variance Gaussian patterns, so a noise level σ
/// means the same noise-to-signal ratio in both tasks. Each eigenvector's sign is fixed by making
/// its largest-magnitude entry positive.
///
/// Splits: training = the first `trainingCount` of MNIST's first 50,000 training images;
/// validation = training images 50,000–59,999; test = the 10,000 test images (the split of the
/// `mnist.pkl.gz` that `Scripts/fetch_mnist.py` converts).
public struct MNISTEmbedding<Scalar: LinearAlgebraScalar>: Sendable {
  /// Embedding dimension k.
  public let dimension: Int
  /// The class prototypes, row y for digit y (10 × k): the stored patterns.
  public let prototypes: Matrix<Scalar>
  /// Embedded training images and their labels.
  public let training: (embeddings: Matrix<Scalar>, labels: [Int])
  /// Embedded validation images and their labels.
  public let validation: (embeddings: Matrix<Scalar>, labels: [Int])
  /// Embedded test images and their labels.
  public let test: (embeddings: Matrix<Scalar>, labels: [Int])
  /// Fraction of the training pixel variance the k components keep.
  public let explainedVariance: Double
  /// The scale c.
  public let scale: Double

  /// The standard IDX file names inside the data folder (``MNIST/fileNames``).
  public static var fileNames: [String] { MNIST.fileNames }

  /// Reads the four IDX files in `directory`, fits the PCA on the training images and embeds all
  /// splits.
  ///
  /// - Parameters:
  ///   - directory: The folder holding the four IDX files.
  ///   - dimension: The embedding dimension k (1…784).
  ///   - trainingCount: How many of the first 50,000 training images to use (fit and training
  ///     pairs).
  ///   - validationCount: How many of training images 50,000–59,999 form the validation split.
  ///   - testCount: How many of the 10,000 test images form the test split.
  /// - Throws: ``DatasetError`` for missing or malformed files (with the command that fetches
  ///   them), bad counts, or a failed eigen-decomposition.
  public init(
    directory: URL, dimension: Int = 128, trainingCount: Int = 50_000, validationCount: Int = 10_000,
    testCount: Int = 10_000
  ) throws(DatasetError) {
    try DatasetError.check((1...784).contains(dimension), "dimension", dimension, "in 1…784")
    try DatasetError.check((10...50_000).contains(trainingCount), "trainingCount", trainingCount, "in 10…50,000")
    try DatasetError.check((1...10_000).contains(validationCount), "validationCount", validationCount, "in 1…10,000")
    try DatasetError.check((1...10_000).contains(testCount), "testCount", testCount, "in 1…10,000")
    let (trainPixels, trainLabels) = try Self.read(
      directory: directory, images: MNIST.trainingImages, labels: MNIST.trainingLabels, count: 60_000)
    let (testPixels, testLabels) = try Self.read(
      directory: directory, images: MNIST.testImages, labels: MNIST.testLabels, count: 10_000)

    let fitRows = Array(0..<trainingCount)
    let x = trainPixels.rows(at: fitRows)
    let n = x.rows, p = x.columns
    var mean = [Double](repeating: 0, count: p)
    x.withUnsafeBufferPointer { v in
      for r in 0..<n { for j in 0..<p { mean[j] += v[r * p + j] } }
    }
    for j in 0..<p { mean[j] /= Double(n) }
    let centred = Self.centre(x, mean: mean)
    var covariance = Matrix<Double>(rows: p, columns: p)
    Matrix.multiply(centred, centred, transposeA: true, alpha: 1 / Double(max(1, n - 1)), into: &covariance)
    let eigen: SymmetricEigendecomposition<Double>
    do {
      eigen = try covariance.symmetricEigendecomposition()
    } catch {
      throw .numerics("PCA eigen-decomposition: \(error)")
    }
    guard let vectors = eigen.eigenvectors else { throw .numerics("PCA eigen-decomposition returned no eigenvectors") }
    // Eigenvalues ascend: the top k are the last k columns, largest first.
    var components = Matrix<Double>(rows: p, columns: dimension)
    for c in 0..<dimension {
      let source = p - 1 - c
      var largest = 0.0
      for j in 0..<p where abs(vectors[j, source]) > abs(largest) { largest = vectors[j, source] }
      let sign: Double = largest < 0 ? -1 : 1
      for j in 0..<p { components[j, c] = sign * vectors[j, source] }
    }
    let total = eigen.eigenvalues.reduce(0, +)
    let kept = eigen.eigenvalues.suffix(dimension).reduce(0, +)
    explainedVariance = total > 0 ? kept / total : 0

    func embed(_ pixels: Matrix<Double>) -> Matrix<Double> {
      var out = Matrix<Double>(rows: pixels.rows, columns: dimension)
      Matrix.multiply(Self.centre(pixels, mean: mean), components, into: &out)
      return out
    }
    let trainingEmbedding = embed(x)
    let fitLabels = Array(trainLabels[0..<trainingCount])
    var sums = Matrix<Double>(rows: 10, columns: dimension)
    var counts = [Int](repeating: 0, count: 10)
    for r in 0..<n {
      counts[fitLabels[r]] += 1
      for j in 0..<dimension { sums[fitLabels[r], j] += trainingEmbedding[r, j] }
    }
    try DatasetError.check(
      counts.allSatisfy { $0 > 0 }, "trainingCount", trainingCount, "large enough to hold every digit")
    var squares = 0.0
    for y in 0..<10 {
      for j in 0..<dimension {
        sums[y, j] /= Double(counts[y])
        squares += sums[y, j] * sums[y, j]
      }
    }
    let rms = (squares / Double(10 * dimension)).squareRoot()
    let c = rms > 0 ? 1 / rms : 1
    scale = c
    func converted(_ m: Matrix<Double>) -> Matrix<Scalar> {
      Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map { Scalar(c * $0) })
    }
    self.dimension = dimension
    prototypes = converted(sums)
    training = (converted(trainingEmbedding), fitLabels)
    let validationRows = Array(50_000..<(50_000 + validationCount))
    validation = (converted(embed(trainPixels.rows(at: validationRows))), validationRows.map { trainLabels[$0] })
    let testRows = Array(0..<testCount)
    test = (converted(embed(testPixels.rows(at: testRows))), testRows.map { testLabels[$0] })
  }

  private static func centre(_ x: Matrix<Double>, mean: [Double]) -> Matrix<Double> {
    var out = x
    let p = x.columns
    out.withUnsafeMutableBufferPointer { v in
      for r in 0..<x.rows { for j in 0..<p { v[r * p + j] -= mean[j] } }
    }
    return out
  }

  /// Reads `count` images (count × 784, scaled to [0, 1]) and their labels with ``MNIST``.
  static func read(
    directory: URL, images: String, labels: String, count: Int
  ) throws(DatasetError) -> (Matrix<Double>, [Int]) {
    var pixels = try MNIST.images(at: directory.appendingPathComponent(images), count: count)
    let digits = try MNIST.labels(at: directory.appendingPathComponent(labels), count: count)
    pixels.withUnsafeMutableBufferPointer { p in
      for k in p.indices { p[k] /= 255 }
    }
    return (pixels, digits)
  }
}
