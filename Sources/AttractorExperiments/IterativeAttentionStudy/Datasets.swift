import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// Errors raised while building a dataset.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A size parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// A data file is missing; `hint` says how to get it.
  case missingFile(path: String, hint: String)
  /// A data file could not be read or has the wrong contents.
  case badFile(path: String, reason: String)
  /// A linear-algebra step (the PCA eigen-decomposition) failed.
  case numerics(String)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      return "dataset parameter \(name) = \(value) is invalid: it must be \(requirement)"
    case .missingFile(let path, let hint):
      return "the data file \(path) does not exist; \(hint)"
    case .badFile(let path, let reason):
      return "the data file \(path) is unusable: \(reason)"
    case .numerics(let reason):
      return "a linear-algebra step failed while building the dataset: \(reason)"
    }
  }
}

/// Seed 000's Synthetic-Gaussian task: `count` vectors with independent N(0, 1) entries, keys =
/// values, split into training, validation and test targets.
///
/// ```
/// ξ_μ ~ N(0, I_d),  μ = 1 … count;   split of a seeded permutation: first 80 %, next 10 %, last 10 %
/// ```
///
/// Every vector is stored in the memory; the split decides which stored vectors are used as
/// targets of training, validation and test queries. So test queries ask for stored vectors that
/// training never asked for. With entries of unit variance, the noise level σ of
/// ``Corruption/gaussianNoise(sigma:)`` is the noise-to-signal ratio per coordinate.
public struct SyntheticGaussianDataset<Scalar: LinearAlgebraScalar>: Sendable {
  /// The stored vectors, one per row (count × d).
  public let patterns: Matrix<Scalar>
  /// Row indices used as targets while training (80 %).
  public let training: [Int]
  /// Row indices used for early stopping (10 %).
  public let validation: [Int]
  /// Row indices used for every reported number (the rest, about 10 %).
  public let test: [Int]

  /// Draws the dataset from `seed` (the vectors and the split use separate derived streams).
  ///
  /// - Throws: ``DatasetError/invalidParameter(name:value:requirement:)`` unless count ≥ 10 and d ≥ 1.
  public init(count: Int = 10_000, dimension: Int = 64, seed: UInt64) throws(DatasetError) {
    guard count >= 10 else { throw .invalidParameter(name: "count", value: "\(count)", requirement: "at least 10") }
    guard dimension >= 1 else { throw .invalidParameter(name: "dimension", value: "\(dimension)", requirement: "at least 1") }
    let root = SeededGenerator(seed: seed)
    var vectors = root.derived(0)
    patterns = vectors.gaussianMatrix(rows: count, columns: dimension, standardDeviation: 1)
    var splitter = root.derived(1)
    var order = [Int](repeating: 0, count: count)
    splitter.shuffle(&order)
    let trainingCount = count * 8 / 10, validationCount = count / 10
    training = Array(order[0..<trainingCount])
    validation = Array(order[trainingCount..<(trainingCount + validationCount)])
    test = Array(order[(trainingCount + validationCount)...])
  }
}

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

  /// The standard IDX file names inside the data folder.
  public static var fileNames: [String] {
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
  }

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
    guard (1...784).contains(dimension) else {
      throw .invalidParameter(name: "dimension", value: "\(dimension)", requirement: "in 1…784")
    }
    guard (10...50_000).contains(trainingCount) else {
      throw .invalidParameter(name: "trainingCount", value: "\(trainingCount)", requirement: "in 10…50,000")
    }
    guard (1...10_000).contains(validationCount) else {
      throw .invalidParameter(name: "validationCount", value: "\(validationCount)", requirement: "in 1…10,000")
    }
    guard (1...10_000).contains(testCount) else {
      throw .invalidParameter(name: "testCount", value: "\(testCount)", requirement: "in 1…10,000")
    }
    let (trainPixels, trainLabels) = try Self.read(directory: directory, images: Self.fileNames[0], labels: Self.fileNames[1], count: 60_000)
    let (testPixels, testLabels) = try Self.read(directory: directory, images: Self.fileNames[2], labels: Self.fileNames[3], count: 10_000)

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
    guard counts.allSatisfy({ $0 > 0 }) else {
      throw .invalidParameter(name: "trainingCount", value: "\(trainingCount)", requirement: "large enough to hold every digit")
    }
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

  /// Reads `count` images (count × 784, scaled to [0, 1]) and labels (digits 0…9), validating shapes.
  static func read(
    directory: URL, images: String, labels: String, count: Int
  ) throws(DatasetError) -> (Matrix<Double>, [Int]) {
    let hint = "fetch MNIST with `python3 Scripts/fetch_mnist.py` (it writes the IDX files into Data/mnist)"
    let imageURL = directory.appendingPathComponent(images)
    let labelURL = directory.appendingPathComponent(labels)
    for url in [imageURL, labelURL] where !FileManager.default.fileExists(atPath: url.path) {
      throw .missingFile(path: url.path, hint: hint)
    }
    let imageTensor: Tensor, labelTensor: Tensor
    do {
      imageTensor = try IDXFile.read(from: imageURL)
      labelTensor = try IDXFile.read(from: labelURL)
    } catch {
      throw .badFile(path: imageURL.deletingLastPathComponent().path, reason: "\(error)")
    }
    guard imageTensor.shape == [count, 28, 28] else {
      throw .badFile(path: imageURL.path, reason: "shape \(imageTensor.shape), expected [\(count), 28, 28]")
    }
    guard labelTensor.shape == [count] else {
      throw .badFile(path: labelURL.path, reason: "shape \(labelTensor.shape), expected [\(count)]")
    }
    let pixels: [Double]
    switch imageTensor.storage {
    case .int32(let v): pixels = v.map { Double($0) / 255 }
    case .int64(let v): pixels = v.map { Double($0) / 255 }
    case .float32(let v): pixels = v.map { Double($0) / 255 }
    case .float64(let v): pixels = v.map { $0 / 255 }
    }
    guard pixels.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
      throw .badFile(path: imageURL.path, reason: "pixel values outside 0…255")
    }
    let labelValues: [Int64]
    do { labelValues = try labelTensor.int64Values() } catch { throw .badFile(path: labelURL.path, reason: "\(error)") }
    guard labelValues.allSatisfy({ (0...9).contains($0) }) else {
      throw .badFile(path: labelURL.path, reason: "labels outside 0…9")
    }
    return (Matrix(rows: count, columns: 784, elements: pixels), labelValues.map { Int($0) })
  }
}

extension Matrix {
  /// The matrix with zero columns appended up to `width` columns (a copy; `width ≥ columns`).
  ///
  /// Zero padding is an isometric embedding of ℝ^d in ℝ^width: dot products, norms and cosine
  /// similarities of padded vectors equal those of the originals.
  public func zeroPadded(toColumns width: Int) -> Matrix {
    precondition(width >= columns, "zeroPadded: \(width) < \(columns) columns")
    if width == columns { return self }
    var out = Matrix(rows: rows, columns: width)
    let d = columns
    withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for r in 0..<rows { for j in 0..<d { dst[r * width + j] = src[r * d + j] } }
      }
    }
    return out
  }
}
