import AttractorIO
import Foundation
import Testing

// MARK: - Fixtures and temporary files

/// The directory holding the committed fixtures, found relative to this source file.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixtureURL(_ name: String) -> URL {
  fixturesDirectory.appendingPathComponent(name)
}

func fixtureData(_ name: String) throws -> Data {
  try Data(contentsOf: fixtureURL(name))
}

/// A fresh temporary directory; removed by `cleanUp()`.
struct TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("AttractorIOTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  func contents() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
  }

  func cleanUp() {
    try? FileManager.default.removeItem(at: url)
  }
}

// MARK: - Sample tensors

/// Shapes exercised by the round-trip tests: scalar, vector, matrix, rank 3, empty dimensions.
let sampleShapes: [[Int]] = [[], [5], [2, 3], [2, 3, 4], [0], [3, 0, 2], [1, 1]]

/// A deterministic tensor of `dtype` and `shape` whose elements use many bit patterns.
func sampleTensor(_ dtype: DType, shape: [Int], seed: Int = 0) throws -> Tensor {
  let n = shape.reduce(1, *)
  let storage: Tensor.Storage
  switch dtype {
  case .float32: storage = .float32((0..<n).map { Float($0 + seed) * 0.3 - 1.7 })
  case .float64: storage = .float64((0..<n).map { Double($0 + seed) / 3 - 7.125 })
  case .int32: storage = .int32((0..<n).map { Int32($0 + seed) * -79_193 + 3 })
  case .int64: storage = .int64((0..<n).map { Int64($0 + seed) * 1_000_000_007 - (1 << 40) })
  }
  return try Tensor(shape: shape, storage: storage)
}

// MARK: - Hand-built files

/// A `.npy` file with the given header text (not padded) and payload.
func npyBytes(header: String, major: UInt8 = 1, minor: UInt8 = 0, payload: [UInt8] = []) -> Data {
  var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, minor]
  let h = Array(header.utf8)
  if major == 1 {
    bytes += [UInt8(h.count & 0xFF), UInt8(h.count >> 8)]
  } else {
    bytes += withUnsafeBytes(of: UInt32(h.count).littleEndian) { Array($0) }
  }
  return Data(bytes + h + payload)
}

/// Little-endian bytes of Float values.
func float32Bytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
}

/// A `.safetensors` file with the given header JSON and buffer; `length` overrides the length field.
func safetensorsBytes(header: String, buffer: [UInt8] = [], length: UInt64? = nil) -> Data {
  let h = Array(header.utf8)
  let n = length ?? UInt64(h.count)
  return Data(withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + buffer)
}

// MARK: - Error capture

/// The error `NumPyFile.read(data:)` throws, or `nil` if it succeeds.
func npyError(_ data: Data, maxHeaderLength: Int = NumPyFile.defaultMaxHeaderLength) -> NumPyError? {
  do {
    _ = try NumPyFile.read(data: data, maxHeaderLength: maxHeaderLength)
    return nil
  } catch {
    return error
  }
}

/// The error `SafeTensorsFile.read(data:)` throws, or `nil` if it succeeds.
func safetensorsError(
  _ data: Data, maxHeaderLength: Int = SafeTensorsFile.defaultMaxHeaderLength
) -> SafeTensorsError? {
  do {
    _ = try SafeTensorsFile.read(data: data, maxHeaderLength: maxHeaderLength)
    return nil
  } catch {
    return error
  }
}

/// The error a tensor conversion throws, or `nil` if it succeeds.
func tensorError<T>(_ body: () throws(TensorError) -> T) -> TensorError? {
  do {
    _ = try body()
    return nil
  } catch {
    return error
  }
}

// MARK: - Bitwise comparison

/// Whether two tensors have the same shape, dtype and bit-identical elements (NaN-safe).
func bitwiseEqual(_ a: Tensor, _ b: Tensor) -> Bool {
  guard a.shape == b.shape else { return false }
  switch (a.storage, b.storage) {
  case (.float32(let x), .float32(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
  case (.float64(let x), .float64(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
  case (.int32(let x), .int32(let y)): return x == y
  case (.int64(let x), .int64(let y)): return x == y
  default: return false
  }
}

// MARK: - Deterministic randomness

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, seedable generator for reproducible tests.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
