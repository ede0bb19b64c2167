import Foundation

/// Errors raised when reading or writing an IDX file.
public enum IDXError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Fewer than the 4 magic bytes, or fewer than the dimension sizes the magic announces.
  case truncatedHeader(expected: Int, actual: Int)
  /// The first two bytes are not zero.
  case badMagic(found: [UInt8])
  /// The type code (third byte) is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.
  case unknownTypeCode(UInt8)
  /// Zero dimensions, or more than the cap.
  case invalidRank(Int)
  /// The product of the dimensions overflows.
  case shapeOverflow(shape: [Int])
  /// The data is shorter than the shape needs.
  case truncatedData(expected: Int, actual: Int)
  /// Bytes after the data.
  case trailingData(expected: Int, actual: Int)
  /// A float value is NaN or infinite.
  case nonFiniteValue(index: Int)
  /// The file could not be read or written.
  case readFailed(path: String, reason: String)
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .truncatedHeader(let expected, let actual):
      return "IDX header truncated: needs \(expected) bytes, the file has \(actual)"
    case .badMagic(let found):
      return "not an IDX file: the first two bytes must be 0, found \(found.map { String($0) }.joined(separator: " "))"
    case .unknownTypeCode(let code):
      return
        "unknown IDX type code 0x\(String(code, radix: 16)); expected 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32) or 0x0E (f64)"
    case .invalidRank(let rank): return "IDX rank \(rank) is invalid: must be 1 to \(IDXFile.maxRank)"
    case .shapeOverflow(let shape): return "IDX shape \(shape) has more elements than memory can address"
    case .truncatedData(let expected, let actual):
      return "IDX data truncated: the shape needs \(expected) bytes of data, the file has \(actual)"
    case .trailingData(let expected, let actual):
      return "IDX file has \(actual - expected) bytes after its \(expected) bytes of data"
    case .nonFiniteValue(let index): return "IDX element \(index) is NaN or infinite"
    case .readFailed(let path, let reason): return "cannot read the IDX file at \(path): \(reason)"
    case .writeFailed(let path, let reason): return "cannot write the IDX file at \(path): \(reason)"
    }
  }
}

/// Reader and writer of IDX files, the format of the MNIST distribution.
///
/// Layout (all integers big-endian):
///
/// ```
/// byte 0, 1   0, 0
/// byte 2      type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
/// byte 3      rank r
/// 4 r bytes   the r dimension sizes, u32 each
/// then        the elements in row-major order, big-endian
/// ```
///
/// Integer types are returned as `int32` tensors and floating-point ones as `float32`/`float64`.
/// Everything is checked before the element array is allocated: the magic, the type code, the rank
/// (1…``maxRank``), the shape product (overflow-checked), and that the file ends exactly where the
/// data does. `Scripts/fetch_mnist.py` writes MNIST in this format.
public enum IDXFile {
  /// Largest rank accepted.
  public static let maxRank = 16

  /// Reads the IDX file at `url`.
  public static func read(from url: URL) throws(IDXError) -> Tensor {
    let data = try contents(of: url) { IDXError.readFailed(path: $0, reason: $1) }
    return try read(data: data)
  }

  /// Decodes a complete IDX file held in memory.
  public static func read(data: Data) throws(IDXError) -> Tensor {
    try withBytes(of: data) { (bytes) throws(IDXError) -> Tensor in try decode(bytes) }
  }

  private static func elementSize(_ code: UInt8) -> Int? {
    switch code {
    case 0x08, 0x09: return 1
    case 0x0B: return 2
    case 0x0C, 0x0D: return 4
    case 0x0E: return 8
    default: return nil
    }
  }

  private static func decode(_ bytes: UnsafeRawBufferPointer) throws(IDXError) -> Tensor {
    let size = bytes.count
    guard size >= 4 else { throw .truncatedHeader(expected: 4, actual: size) }
    guard bytes[0] == 0 && bytes[1] == 0 else { throw .badMagic(found: [bytes[0], bytes[1]]) }
    let code = bytes[2]
    guard let width = elementSize(code) else { throw .unknownTypeCode(code) }
    let rank = Int(bytes[3])
    guard rank >= 1 && rank <= maxRank else { throw .invalidRank(rank) }
    let headerSize = 4 + 4 * rank
    guard size >= headerSize else { throw .truncatedHeader(expected: headerSize, actual: size) }
    let shape = (0..<rank).map {
      Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: UInt32.self)))
    }
    guard let count = checkedProduct(shape), let dataSize = checkedMultiply(count, width),
      let expected = checkedAdd(headerSize, dataSize)
    else { throw .shapeOverflow(shape: shape) }
    guard size >= expected else { throw .truncatedData(expected: dataSize, actual: size - headerSize) }
    guard size == expected else { throw .trailingData(expected: dataSize, actual: size - headerSize) }

    let base = headerSize
    let storage: Tensor.Storage
    switch code {
    case 0x08: storage = .int32((0..<count).map { Int32(bytes[base + $0]) })
    case 0x09: storage = .int32((0..<count).map { Int32(Int8(bitPattern: bytes[base + $0])) })
    case 0x0B:
      storage = .int32(
        (0..<count).map { Int32(Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 2 * $0, as: Int16.self))) })
    case 0x0C:
      storage = .int32(
        (0..<count).map { Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * $0, as: Int32.self)) })
    case 0x0D:
      let values = (0..<count).map {
        Float(bitPattern: UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * $0, as: UInt32.self)))
      }
      if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteValue(index: bad) }
      storage = .float32(values)
    default:
      let values = (0..<count).map {
        Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 8 * $0, as: UInt64.self)))
      }
      if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteValue(index: bad) }
      storage = .float64(values)
    }
    do {
      return try Tensor(shape: shape, storage: storage)
    } catch {
      throw .shapeOverflow(shape: shape)  // unreachable: count was checked above
    }
  }

  /// Encodes `values` (each in 0…255) as an unsigned-byte IDX file of the given shape.
  ///
  /// - Precondition: `values.count` is the product of `shape`, every dimension fits in a `UInt32`,
  ///   and the rank is 1…``maxRank``.
  public static func encodeUnsignedBytes(_ values: [UInt8], shape: [Int]) -> Data {
    precondition((1...maxRank).contains(shape.count), "IDX rank must be 1...\(maxRank)")
    precondition(shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "IDX dimensions must fit in UInt32")
    precondition(checkedProduct(shape) == values.count, "IDX shape \(shape) does not match \(values.count) values")
    var data = Data([0, 0, 0x08, UInt8(shape.count)])
    for d in shape { withUnsafeBytes(of: UInt32(d).bigEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: values)
    return data
  }

  /// Writes an unsigned-byte IDX file atomically.
  public static func writeUnsignedBytes(_ values: [UInt8], shape: [Int], to url: URL) throws(IDXError) {
    do {
      try writeAtomically(encodeUnsignedBytes(values, shape: shape), to: url)
    } catch {
      throw .writeFailed(path: url.path, reason: error.reason)
    }
  }
}
