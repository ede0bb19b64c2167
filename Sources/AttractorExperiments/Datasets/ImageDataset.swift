import AttractorLinearAlgebra
import Foundation

/// The 28 × 28 grey-scale image data sets stored in MNIST's IDX layout: MNIST (handwritten digits)
/// and Fashion-MNIST (Zalando's clothing images, Xiao, Rasul & Vollgraf 2017). Both have ten classes,
/// 60,000 training and 10,000 test images and the same four file names, so the one IDX reader
/// (``MNIST/images(at:count:hint:)``, ``MNIST/labels(at:count:hint:)``) reads both; this type adds
/// which data set a folder holds, where it lives by default, how to get it, and the class names.
///
/// ```
/// <directory>/train-images-idx3-ubyte   60,000 × 28 × 28 unsigned bytes
/// <directory>/train-labels-idx1-ubyte   60,000 labels 0…9
/// <directory>/t10k-images-idx3-ubyte    10,000 × 28 × 28
/// <directory>/t10k-labels-idx1-ubyte    10,000 labels
/// ```
///
/// MNIST: `python3 Scripts/fetch_mnist.py` → `Data/mnist`. Fashion-MNIST: `bash
/// Scripts/fetch_fashion_mnist.sh` installs the Debian package `dataset-fashion-mnist` (files in
/// `/usr/share/datasets/fashion-mnist`, gzipped) and unpacks them into `Data/fashion-mnist`.
public enum ImageDataset: String, CaseIterable, Sendable, Codable {
  case mnist
  case fashionMNIST = "fashion-mnist"

  /// The training or the test split.
  public enum Split: String, CaseIterable, Sendable, Codable {
    case training, test

    /// Images in the standard split: 60,000 or 10,000.
    public var standardCount: Int { self == .training ? 60_000 : 10_000 }
    /// File name of the split's images.
    public var imagesFile: String { self == .training ? MNIST.trainingImages : MNIST.testImages }
    /// File name of the split's labels.
    public var labelsFile: String { self == .training ? MNIST.trainingLabels : MNIST.testLabels }
  }

  /// Images of one split, one row per image (N × 784, raw values 0…255), with their labels 0…9.
  public struct LabelledImages: Sendable {
    public var images: Matrix<Double>
    public var labels: [Int]
    /// Image height and width (28 × 28 for the real files).
    public var height: Int
    public var width: Int
    /// The number of images N.
    public var count: Int { labels.count }
  }

  /// The name in reports: "MNIST" or "Fashion-MNIST".
  public var displayName: String { self == .mnist ? "MNIST" : "Fashion-MNIST" }

  /// What one image shows, in prose ("digit", "clothing image").
  public var itemName: String { self == .mnist ? "digit" : "clothing image" }

  /// The folder the fetch script writes (relative to the package root).
  public var defaultDirectory: String { self == .mnist ? "Data/mnist" : "Data/fashion-mnist" }

  /// How to get the files, quoted by ``DatasetError/missingFile(path:hint:)``.
  public var fetchHint: String {
    switch self {
    case .mnist: MNIST.fetchHint
    case .fashionMNIST:
      "get Fashion-MNIST with `bash Scripts/fetch_fashion_mnist.sh` (it installs the Debian package "
        + "dataset-fashion-mnist and writes the IDX files into Data/fashion-mnist)"
    }
  }

  /// The names of the ten classes, label 0 first.
  public var classNames: [String] {
    switch self {
    case .mnist: (0...9).map(String.init)
    case .fashionMNIST:
      ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    }
  }

  /// The four file names (``MNIST/fileNames``).
  public static var fileNames: [String] { MNIST.fileNames }

  /// The file names of `directory` that do not exist.
  public func missingFiles(in directory: URL) -> [String] { MNIST.missingFiles(in: directory) }

  /// Throws ``DatasetError/missingFile(path:hint:)`` (with this data set's ``fetchHint``) for the first
  /// of the four files missing from `directory`.
  public func checkFiles(in directory: URL) throws(DatasetError) {
    if let name = missingFiles(in: directory).first {
      throw .missingFile(path: directory.appendingPathComponent(name).path, hint: fetchHint)
    }
  }

  /// The images of a split: N × (h·w) raw pixel values 0…255 (N = `count` when given, else any N ≥ 1).
  ///
  /// - Throws: ``DatasetError`` for a missing file (with ``fetchHint``) or a malformed one.
  public func images(_ split: Split, in directory: URL, count: Int? = nil) throws(DatasetError) -> Matrix<Double> {
    try MNIST.images(at: directory.appendingPathComponent(split.imagesFile), count: count, hint: fetchHint)
  }

  /// The labels 0…9 of a split (N = `count` when given).
  ///
  /// - Throws: ``DatasetError`` for a missing file (with ``fetchHint``) or a malformed one.
  public func labels(_ split: Split, in directory: URL, count: Int? = nil) throws(DatasetError) -> [Int] {
    try MNIST.labels(at: directory.appendingPathComponent(split.labelsFile), count: count, hint: fetchHint)
  }

  /// The images and labels of a split, checked to be the same number.
  ///
  /// - Parameters:
  ///   - split: Training or test.
  ///   - directory: The folder of the four IDX files.
  ///   - standardSize: If true, the split must have its standard size (60,000 or 10,000 images of
  ///     28 × 28); if false any N ≥ 1 and image size are accepted (small test files).
  /// - Throws: ``DatasetError`` for missing or malformed files, or images and labels of different counts.
  public func load(_ split: Split, in directory: URL, standardSize: Bool = false) throws(DatasetError)
    -> LabelledImages
  {
    let count = standardSize ? split.standardCount : nil
    let images = try images(split, in: directory, count: count)
    let labels = try labels(split, in: directory, count: count)
    guard labels.count == images.rows else {
      throw .badFile(
        path: directory.appendingPathComponent(split.labelsFile).path,
        reason: "\(labels.count) labels for \(images.rows) images")
    }
    let side = Int(Double(images.columns).squareRoot().rounded())
    let square = side * side == images.columns
    return LabelledImages(
      images: images, labels: labels, height: square ? side : 1, width: square ? side : images.columns)
  }
}
