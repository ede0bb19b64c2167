import AttractorExperiments
import AttractorIO
import Foundation
import Testing

@Suite("Image data sets: MNIST and Fashion-MNIST through one IDX reader")
struct ImageDatasetTests {
  /// A folder with `train` and `test` images of 28 × 28 (pixel k of image r = (r + k) mod 256) and labels r mod 10.
  func folder(train: Int, test: Int, testLabels: Int? = nil) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("images-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    func images(_ n: Int) -> [UInt8] { (0..<(n * 784)).map { UInt8(($0 / 784 + $0 % 784) % 256) } }
    func labels(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 10) } }
    try IDXFile.writeUnsignedBytes(
      images(train), shape: [train, 28, 28], to: url.appendingPathComponent(MNIST.trainingImages))
    try IDXFile.writeUnsignedBytes(labels(train), shape: [train], to: url.appendingPathComponent(MNIST.trainingLabels))
    try IDXFile.writeUnsignedBytes(
      images(test), shape: [test, 28, 28], to: url.appendingPathComponent(MNIST.testImages))
    let t = testLabels ?? test
    try IDXFile.writeUnsignedBytes(labels(t), shape: [t], to: url.appendingPathComponent(MNIST.testLabels))
    return url
  }

  @Test("a split loads as images (one row of 784 raw values each) with their labels, for either data set")
  func load() throws {
    let url = try folder(train: 12, test: 5)
    defer { try? FileManager.default.removeItem(at: url) }
    for dataset in ImageDataset.allCases {
      let test = try dataset.load(.test, in: url)
      #expect(test.count == 5 && test.images.rows == 5 && test.images.columns == 784)
      #expect(test.height == 28 && test.width == 28)
      #expect(test.labels == [0, 1, 2, 3, 4])
      #expect(test.images[3, 10] == 13)
      let train = try dataset.load(.training, in: url)
      #expect(train.count == 12 && train.labels[11] == 1)
      #expect(dataset.classNames.count == 10 && dataset.missingFiles(in: url).isEmpty)
    }
    #expect(ImageDataset.fashionMNIST.classNames[9] == "Ankle boot")
    #expect(ImageDataset(rawValue: "fashion-mnist") == .fashionMNIST)
  }

  @Test("missing files name the right fetch script; wrong counts and non-standard sizes are typed errors")
  func errors() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("images-none-\(UUID().uuidString)")
    #expect { try ImageDataset.fashionMNIST.load(.test, in: empty) } throws: {
      "\($0)".contains("Scripts/fetch_fashion_mnist.sh")
    }
    #expect { try ImageDataset.mnist.checkFiles(in: empty) } throws: { "\($0)".contains("Scripts/fetch_mnist.py") }
    let url = try folder(train: 3, test: 4, testLabels: 3)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect { try ImageDataset.fashionMNIST.load(.test, in: url) } throws: { "\($0)".contains("3 labels for 4 images") }
    #expect(throws: DatasetError.self) { try ImageDataset.fashionMNIST.load(.training, in: url, standardSize: true) }
  }

  @Test("the real Fashion-MNIST files, when fetched, have the standard sizes and ten balanced classes")
  func realFiles() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let url = root.appendingPathComponent("Data/fashion-mnist")
    guard ImageDataset.fashionMNIST.missingFiles(in: url).isEmpty else { return }  // not fetched: nothing to check
    let test = try ImageDataset.fashionMNIST.load(.test, in: url, standardSize: true)
    var counts = [Int](repeating: 0, count: 10)
    for label in test.labels { counts[label] += 1 }
    #expect(counts == [Int](repeating: 1_000, count: 10))  // Fashion-MNIST's test set has 1,000 per class
  }
}
