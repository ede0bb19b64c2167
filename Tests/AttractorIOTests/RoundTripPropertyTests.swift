import AttractorIO
import Foundation
import PropertyBased
import Testing

/// Laws as properties (issue 16): the `.npy` and safetensors writers and readers round-trip any
/// array they accept.
///
/// Generated tensors have every dtype the writers support (float32, float64, int32, int64), rank
/// 0…4 with dimensions 0…3 (zero-sized dimensions included) and elements drawn from raw bit
/// patterns, so every float value occurs: NaN (with payloads), ±∞, −0, subnormals. Equality is bit
/// for bit. Cases are seeded by the property checker (a failure prints its `.fixedSeed`) and shrink
/// to a small failing tensor.
@Suite("File formats: round-trip properties")
struct RoundTripPropertyTests {
  /// A tensor from a dtype index, a shape and enough raw 64-bit words for 3⁴ elements.
  static func tensor(dtype: Int, shape: [Int], words: [UInt64]) throws -> Tensor {
    let count = shape.reduce(1, *)
    let bits = Array(words.prefix(count))
    let storage: Tensor.Storage =
      switch dtype {
      case 0: .float32(bits.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
      case 1: .float64(bits.map { Double(bitPattern: $0) })
      case 2: .int32(bits.map { Int32(truncatingIfNeeded: $0) })
      default: .int64(bits.map { Int64(bitPattern: $0) })
      }
    return try Tensor(shape: shape, storage: storage)
  }

  static let tensors = zip(Gen.int(in: 0...3), Gen.int(in: 0...3).array(of: 0...4), Gen.uint64().array(of: 81)).map {
    try! tensor(dtype: $0, shape: $1, words: $2)
  }

  @Test(".npy: read(encode(t)) equals t bit for bit (1,000 cases)", .shrinking)
  func numpy() async throws {
    await propertyCheck(count: 1000, input: Self.tensors) { tensor in
      let back = try NumPyFile.read(data: NumPyFile.encode(tensor))
      #expect(bitwiseEqual(back, tensor), "\(tensor) came back as \(back)")
    }
  }

  /// The same through a temporary file (the atomic write and the file reader); fewer cases, as
  /// each costs a file write and rename.
  @Test(".npy: read(from: write(t)) equals t bit for bit (100 cases)", .shrinking)
  func numpyFile() async throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    await propertyCheck(count: 100, input: Self.tensors) { tensor in
      let url = dir.file("t.npy")
      try NumPyFile.write(tensor, to: url)
      #expect(bitwiseEqual(try NumPyFile.read(from: url), tensor))
    }
  }

  /// Up to three named tensors and up to two metadata entries; names and metadata are any
  /// strings of 1…6 characters from a range that includes quotes, backslashes, control
  /// characters and non-ASCII letters (JSON escaping).
  static let files = zip(
    zip(Self.name, Self.tensors).array(of: 0...3), zip(Self.name, Self.name).array(of: 0...2))

  static let name = Gen.character(in: "\u{01}"..."\u{17F}").string(of: 1...6)

  @Test("safetensors: read(encode(f)) equals f bit for bit (1,000 cases)", .shrinking)
  func safetensors() async throws {
    await propertyCheck(count: 1000, input: Self.files) { entries, meta in
      let (tensors, metadata) = Self.file(entries, meta)
      let back = try SafeTensorsFile.read(data: SafeTensorsFile.encode(tensors, metadata: metadata))
      #expect(Self.matches(back, tensors, metadata))
    }
  }

  @Test("safetensors: read(from: write(f)) equals f bit for bit (100 cases)", .shrinking)
  func safetensorsFile() async throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    await propertyCheck(count: 100, input: Self.files) { entries, meta in
      let (tensors, metadata) = Self.file(entries, meta)
      let url = dir.file("t.safetensors")
      try SafeTensorsFile.write(tensors, metadata: metadata, to: url)
      #expect(Self.matches(try SafeTensorsFile.read(from: url), tensors, metadata))
    }
  }

  /// The generated entries as a file's tensors (the reserved name `__metadata__` dropped, the
  /// first of equal names kept) and metadata.
  static func file(
    _ entries: [(String, Tensor)], _ meta: [(String, String)]
  ) -> ([String: Tensor], [String: String]) {
    (
      Dictionary(entries.filter { $0.0 != "__metadata__" }, uniquingKeysWith: { a, _ in a }),
      Dictionary(meta, uniquingKeysWith: { a, _ in a })
    )
  }

  static func matches(_ read: SafeTensors, _ tensors: [String: Tensor], _ metadata: [String: String]) -> Bool {
    read.metadata == metadata && read.names == tensors.keys.sorted()
      && tensors.allSatisfy { name, tensor in read[name].map { bitwiseEqual($0, tensor) } == true }
  }
}
