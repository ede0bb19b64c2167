import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The MNIST digits in their IDX files: the one reader of MNIST-format data, used by
/// ``MNISTEmbedding``, by the `mnist` datasets of comparative studies and, through ``ImageDataset``,
/// for Fashion-MNIST (the same layout and file names).
///
/// ```
/// <directory>/train-images-idx3-ubyte   60,000 × 28 × 28 unsigned bytes
/// <directory>/train-labels-idx1-ubyte   60,000 digits 0…9
/// <directory>/t10k-images-idx3-ubyte    10,000 × 28 × 28
/// <directory>/t10k-labels-idx1-ubyte    10,000 digits
/// ```
///
/// `python3 Scripts/fetch_mnist.py` writes these files into `Data/mnist`. Files are parsed by
/// `AttractorIO`'s `IDXFile`; any image size h × w is read (a study may use small test images).
public enum MNIST {
  /// The standard IDX file names: training images and labels, test images and labels.
  public static var fileNames: [String] {
    [trainingImages, trainingLabels, testImages, testLabels]
  }
  public static let trainingImages = "train-images-idx3-ubyte"
  public static let trainingLabels = "train-labels-idx1-ubyte"
  public static let testImages = "t10k-images-idx3-ubyte"
  public static let testLabels = "t10k-labels-idx1-ubyte"

  /// How to get the files, quoted by ``DatasetError/missingFile(path:hint:)``.
  public static let fetchHint =
    "fetch MNIST with `python3 Scripts/fetch_mnist.py` (it writes the IDX files into Data/mnist)"

  /// The file names of `directory` that do not exist.
  public static func missingFiles(in directory: URL) -> [String] {
    fileNames.filter { !FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
  }

  /// Reads an IDX image file as one row per image: N × (h·w) raw pixel values 0…255 as doubles.
  ///
  /// Validates that the file exists, parses as IDX, has rank 3 with N ≥ 1 (and N = `count` when
  /// given), and that every value is in 0…255. `hint` is quoted when the file is missing (Fashion-MNIST,
  /// read by the same code through ``ImageDataset``, has its own).
  ///
  /// - Throws: ``DatasetError/missingFile(path:hint:)`` with ``fetchHint``, or
  ///   ``DatasetError/badFile(path:reason:)`` naming what is wrong.
  public static func images(at url: URL, count: Int? = nil, hint: String = fetchHint) throws(DatasetError)
    -> Matrix<Double>
  {
    let tensor = try read(url, hint: hint)
    guard tensor.rank == 3, tensor.shape[0] >= 1 else {
      throw .badFile(path: url.path, reason: "an array of shape \(tensor.shape); MNIST images are N × 28 × 28")
    }
    if let count, tensor.shape != [count, 28, 28] {
      throw .badFile(path: url.path, reason: "shape \(tensor.shape), expected [\(count), 28, 28]")
    }
    let pixels: Matrix<Double>
    do {
      let flat = try Tensor(shape: [tensor.shape[0], tensor.shape[1] * tensor.shape[2]], storage: tensor.storage)
      pixels = try flat.matrix(as: Double.self)
    } catch {
      throw .badFile(path: url.path, reason: "\(error)")
    }
    guard pixels.elements.allSatisfy({ $0 >= 0 && $0 <= 255 }) else {
      throw .badFile(path: url.path, reason: "pixel values outside 0…255")
    }
    return pixels
  }

  /// Reads an IDX label file: N digits 0…9 (N = `count` when given).
  ///
  /// - Throws: ``DatasetError/missingFile(path:hint:)`` with ``fetchHint``, or
  ///   ``DatasetError/badFile(path:reason:)`` for a wrong shape or labels outside 0…9.
  public static func labels(at url: URL, count: Int? = nil, hint: String = fetchHint) throws(DatasetError) -> [Int] {
    let tensor = try read(url, hint: hint)
    guard tensor.rank == 1, count.map({ tensor.shape == [$0] }) ?? true else {
      throw .badFile(path: url.path, reason: "shape \(tensor.shape), expected [\(count.map(String.init) ?? "N")]")
    }
    let values: [Int64]
    do { values = try tensor.int64Values() } catch { throw .badFile(path: url.path, reason: "\(error)") }
    guard values.allSatisfy({ (0...9).contains($0) }) else {
      throw .badFile(path: url.path, reason: "labels outside 0…9")
    }
    return values.map { Int($0) }
  }

  private static func read(_ url: URL, hint: String) throws(DatasetError) -> Tensor {
    guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path, hint: hint) }
    do {
      return try IDXFile.read(from: url)
    } catch {
      throw .badFile(path: url.path, reason: "\(error)")
    }
  }
}
