import Foundation

/// Reads and writes single arrays in NumPy's `.npy` format.
///
/// ## On-disk layout
///
/// ```
/// offset  size   content
/// 0       6      magic: 0x93 'N' 'U' 'M' 'P' 'Y'
/// 6       1      major version (1, 2 or 3)
/// 7       1      minor version (0)
/// 8       2 | 4  header length H, little-endian: u16 in version 1.0, u32 in 2.0 and 3.0
/// 10|12   H      header: a Python dict literal, Latin-1 (1.0, 2.0) or UTF-8 (3.0), e.g.
///                {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
///                padded with spaces and ending in '\n'
/// …       rest   the elements, row-major, product(shape) × element size bytes
/// ```
///
/// ## What is supported
///
/// The descriptors `<f4`, `<f8`, `<i4` and `<i8` (and, on little-endian hosts, their native-order
/// spellings `=f4`, `=f8`, `=i4`, `=i8`), C order only, any rank including 0-d scalars and empty
/// dimensions.
///
/// ## What is validated
///
/// Before any element storage is allocated the reader checks the magic string, the version, the
/// header length against a cap (``defaultMaxHeaderLength`` unless given), that the header and data
/// are present in full, that the header parses as a dict literal with exactly the keys `descr`,
/// `fortran_order` and `shape` (parsed by a small hand-written parser for this grammar, never
/// evaluated), that the dtype is supported (pickled object arrays `|O` are refused), that the
/// array is not Fortran-ordered, that every dimension is non-negative and that the byte count
/// `product(shape) × element size` does not overflow, and that no bytes follow the data. Every
/// failure is a ``NumPyError`` naming what was wrong. No input makes the reader trap.
public enum NumPyFile {
  /// The default limit on the header length in bytes (1 MiB). NumPy's own headers are a few
  /// hundred bytes; the limit stops a corrupt length field from demanding a huge read.
  public static let defaultMaxHeaderLength = 1 << 20

  /// The magic string that starts every `.npy` file.
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

  /// NumPy's alignment of the data start (`numpy.lib.format.ARRAY_ALIGN`).
  static let alignment = 64

  /// Spare header space NumPy reserves for growing the first axis in place
  /// (`numpy.lib.format.GROWTH_AXIS_MAX_DIGITS`).
  static let growthAxisMaxDigits = 21

  // MARK: - Reading

  /// Reads the `.npy` file at `url`.
  ///
  /// The file is memory-mapped when Foundation considers it safe, then validated and decoded as
  /// described for ``read(data:maxHeaderLength:)``.
  ///
  /// - Parameters:
  ///   - url: A file URL.
  ///   - maxHeaderLength: The largest header length accepted, in bytes.
  /// - Throws: ``NumPyError/readFailed(path:reason:)`` if the file cannot be read, otherwise any
  ///   validation error of ``read(data:maxHeaderLength:)``.
  public static func read(
    from url: URL, maxHeaderLength: Int = defaultMaxHeaderLength
  ) throws(NumPyError) -> Tensor {
    let data = try contents(of: url) { NumPyError.readFailed(path: $0, reason: $1) }
    return try read(data: data, maxHeaderLength: maxHeaderLength)
  }

  /// Decodes a complete `.npy` file held in memory.
  ///
  /// The whole of `data` must be one array: bytes after the element data are refused.
  ///
  /// - Parameters:
  ///   - data: The file's bytes.
  ///   - maxHeaderLength: The largest header length accepted, in bytes.
  /// - Returns: The array, with the dtype it was stored in.
  /// - Throws: A ``NumPyError`` describing the first problem found.
  public static func read(
    data: Data, maxHeaderLength: Int = defaultMaxHeaderLength
  ) throws(NumPyError) -> Tensor {
    try withBytes(of: data) { (bytes) throws(NumPyError) -> Tensor in
      try decode(bytes, maxHeaderLength: maxHeaderLength)
    }
  }

  private static func decode(
    _ bytes: UnsafeRawBufferPointer, maxHeaderLength: Int
  ) throws(NumPyError) -> Tensor {
    let (header, headerEnd) = try validatedLayout(bytes, maxHeaderLength: maxHeaderLength)
    let storage = Tensor.Storage.decode(header.dtype, count: header.elementCount, from: bytes, at: headerEnd)
    return Tensor(validatedShape: header.shape, storage: storage)
  }

  /// Validates a complete `.npy` file's bytes (everything listed under "What is validated") and
  /// returns its header and the offset of the element data, without reading the elements.
  static func validatedLayout(
    _ bytes: UnsafeRawBufferPointer, maxHeaderLength: Int
  ) throws(NumPyError) -> (header: Header, dataOffset: Int) {
    let size = bytes.count

    // Magic string.
    let magicPresent = min(size, magic.count)
    for i in 0..<magicPresent where bytes[i] != magic[i] {
      throw .badMagic(found: Array(bytes[0..<magicPresent]))
    }
    guard size >= magic.count + 2 else {
      throw .truncatedHeader(expected: 10, actual: size)
    }

    // Version and header length.
    let major = bytes[6]
    let minor = bytes[7]
    let lengthFieldSize: Int
    switch (major, minor) {
    case (1, 0): lengthFieldSize = 2
    case (2, 0), (3, 0): lengthFieldSize = 4
    default: throw .unsupportedVersion(major: major, minor: minor)
    }
    let preambleLength = 8 + lengthFieldSize
    guard size >= preambleLength else {
      throw .truncatedHeader(expected: preambleLength, actual: size)
    }
    let rawHeaderLength: UInt64 =
      lengthFieldSize == 2
      ? UInt64(bytes.littleEndianInteger(at: 8, as: UInt16.self))
      : UInt64(bytes.littleEndianInteger(at: 8, as: UInt32.self))
    guard let headerLength = Int(exactly: rawHeaderLength), headerLength <= maxHeaderLength else {
      throw .headerTooLarge(length: rawHeaderLength, limit: maxHeaderLength)
    }
    guard let headerEnd = checkedAdd(preambleLength, headerLength), headerEnd <= size else {
      throw .truncatedHeader(expected: checkedAdd(preambleLength, headerLength) ?? Int.max, actual: size)
    }

    // Header.
    let header = try parseHeader(
      Array(bytes[preambleLength..<headerEnd]), headerOffset: preambleLength, version: major)

    // Data.
    let available = size - headerEnd
    guard header.byteCount == available else {
      if available < header.byteCount {
        throw .truncatedData(expected: header.byteCount, actual: available)
      }
      throw .trailingData(expected: header.byteCount, actual: available)
    }
    return (header, headerEnd)
  }

  /// The validated content of a header.
  struct Header {
    var dtype: DType
    var shape: [Int]
    var elementCount: Int
    var byteCount: Int
  }

  /// Parses and validates the header dict. `headerOffset` turns parser offsets into file offsets.
  static func parseHeader(_ header: [UInt8], headerOffset: Int, version: UInt8) throws(NumPyError) -> Header {
    let literal: PythonLiteral
    do {
      literal = try PythonLiteralParser.parse(header, utf8: version >= 3, allowLongSuffix: version < 3)
    } catch {
      throw .malformedHeader(reason: error.reason, offset: headerOffset + error.offset)
    }
    guard case .dictionary(let entries) = literal else {
      throw .headerNotADictionary(found: literal.typeName)
    }

    var descr: PythonLiteral?
    var fortranOrder: PythonLiteral?
    var shapeValue: PythonLiteral?
    for entry in entries {
      switch entry.key {
      case "descr":
        guard descr == nil else { throw .duplicateHeaderKey(entry.key) }
        descr = entry.value
      case "fortran_order":
        guard fortranOrder == nil else { throw .duplicateHeaderKey(entry.key) }
        fortranOrder = entry.value
      case "shape":
        guard shapeValue == nil else { throw .duplicateHeaderKey(entry.key) }
        shapeValue = entry.value
      default:
        throw .unexpectedHeaderKey(entry.key)
      }
    }
    guard let descr else { throw .missingHeaderKey("descr") }
    guard let fortranOrder else { throw .missingHeaderKey("fortran_order") }
    guard let shapeValue else { throw .missingHeaderKey("shape") }

    // dtype
    let dtype: DType
    switch descr {
    case .string(let text):
      guard let d = NumPyFile.dtype(forDescriptor: text) else { throw .unsupportedDType(descr: text) }
      dtype = d
    case .list, .tuple:
      throw .unsupportedDType(descr: descr.repr)  // structured or sub-array dtype
    default:
      throw .invalidHeaderValue(key: "descr", found: descr.repr)
    }

    // fortran_order
    guard case .boolean(let isFortran) = fortranOrder else {
      throw .invalidHeaderValue(key: "fortran_order", found: fortranOrder.repr)
    }
    guard !isFortran else { throw .fortranOrderNotSupported }

    // shape
    guard case .tuple(let items) = shapeValue else {
      throw .invalidHeaderValue(key: "shape", found: shapeValue.repr)
    }
    var texts: [String] = []
    for item in items {
      guard case .integer(let text) = item else {
        throw .invalidHeaderValue(key: "shape", found: shapeValue.repr)
      }
      texts.append(text)
    }
    if texts.contains(where: { $0.hasPrefix("-") }) {
      throw .negativeDimension(shape: shapeValue.repr)
    }
    var shape: [Int] = []
    for text in texts {
      guard let d = Int(text) else { throw .shapeOverflow(shape: shapeValue.repr) }
      shape.append(d)
    }
    guard let elementCount = checkedProduct(shape) else { throw .shapeOverflow(shape: shapeValue.repr) }
    guard let byteCount = checkedMultiply(elementCount, dtype.byteWidth) else {
      throw .shapeOverflow(shape: shapeValue.repr)
    }
    return Header(dtype: dtype, shape: shape, elementCount: elementCount, byteCount: byteCount)
  }

  /// The element type for a NumPy descriptor, or `nil` if it is not supported.
  static func dtype(forDescriptor descriptor: String) -> DType? {
    switch descriptor {
    case "<f4": return .float32
    case "<f8": return .float64
    case "<i4": return .int32
    case "<i8": return .int64
    default: break
    }
    #if _endian(little)
      switch descriptor {
      case "=f4": return .float32
      case "=f8": return .float64
      case "=i4": return .int32
      case "=i8": return .int64
      default: break
      }
    #endif
    return nil
  }

  // MARK: - Writing

  /// Encodes `tensor` as a complete `.npy` file, byte-for-byte as `numpy.save` would.
  ///
  /// The header is `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` followed by NumPy's
  /// spare space for growing the first axis, then spaces and a final `'\n'` so the element data
  /// starts at a multiple of 64 bytes. Format version 1.0 is used unless the header is longer
  /// than its 16-bit length field allows, in which case 2.0 is used.
  public static func encode(_ tensor: Tensor) -> Data {
    var dict = "{'descr': '\(tensor.dtype.numpyDescriptor)', 'fortran_order': False, 'shape': "
    switch tensor.shape.count {
    case 0: dict += "()"
    case 1: dict += "(\(tensor.shape[0]),)"
    default: dict += "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
    }
    dict += ", }"
    if let first = tensor.shape.first {
      dict += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
    }

    let dictBytes = Array(dict.utf8)
    let textLength = dictBytes.count + 1  // + '\n'
    var lengthFieldSize = 2
    var padding = alignment - ((8 + lengthFieldSize + textLength) % alignment)
    if textLength + padding > Int(UInt16.max) {
      lengthFieldSize = 4
      padding = alignment - ((8 + lengthFieldSize + textLength) % alignment)
    }
    let headerLength = textLength + padding
    let dataStart = 8 + lengthFieldSize + headerLength

    var data = Data(count: dataStart + tensor.byteCount)
    data.withUnsafeMutableBytes { out in
      for (i, b) in magic.enumerated() { out[i] = b }
      out[6] = lengthFieldSize == 2 ? 1 : 2
      out[7] = 0
      if lengthFieldSize == 2 {
        out.storeBytes(of: UInt16(headerLength).littleEndian, toByteOffset: 8, as: UInt16.self)
      } else {
        out.storeBytes(of: UInt32(headerLength).littleEndian, toByteOffset: 8, as: UInt32.self)
      }
      var k = 8 + lengthFieldSize
      for b in dictBytes {
        out[k] = b
        k += 1
      }
      for _ in 0..<padding {
        out[k] = 0x20
        k += 1
      }
      out[k] = 0x0A
      tensor.storage.encode(into: out, at: dataStart)
    }
    return data
  }

  /// Writes `tensor` to `url` as a `.npy` file (see ``encode(_:)``), atomically.
  ///
  /// The bytes go to a temporary file in the destination's directory which is then renamed over
  /// `url`, so a reader never sees a partial file and a failed write leaves any old file intact.
  ///
  /// - Throws: ``NumPyError/writeFailed(path:reason:)``.
  public static func write(_ tensor: Tensor, to url: URL) throws(NumPyError) {
    do {
      try writeAtomically(encode(tensor), to: url)
    } catch {
      throw .writeFailed(path: url.path, reason: error.reason)
    }
  }
}

/// Why a `.npy` file could not be read or written.
///
/// Every case's ``description`` is a sentence naming the problem and, where it applies, the byte
/// counts, offsets, key or descriptor involved.
public enum NumPyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file does not start with `\x93NUMPY`; `found` holds its first (up to six) bytes.
  case badMagic(found: [UInt8])
  /// The format version is not 1.0, 2.0 or 3.0.
  case unsupportedVersion(major: UInt8, minor: UInt8)
  /// The header length field exceeds the reader's limit.
  case headerTooLarge(length: UInt64, limit: Int)
  /// The file ends inside the preamble or the header: `expected` bytes are needed up to the end
  /// of the header, `actual` are present.
  case truncatedHeader(expected: Int, actual: Int)
  /// The header is not a well-formed literal; `offset` is the byte offset in the file.
  case malformedHeader(reason: String, offset: Int)
  /// The header is a literal, but not a dict; `found` is its Python type name.
  case headerNotADictionary(found: String)
  /// The header dict lacks one of `descr`, `fortran_order`, `shape`.
  case missingHeaderKey(String)
  /// The header dict has a key other than `descr`, `fortran_order`, `shape`.
  case unexpectedHeaderKey(String)
  /// The header dict names a key twice.
  case duplicateHeaderKey(String)
  /// A header value has the wrong type (for example a `shape` that is not a tuple of integers).
  case invalidHeaderValue(key: String, found: String)
  /// The descriptor is not `<f4`, `<f8`, `<i4` or `<i8`: big-endian, complex, object, structured…
  case unsupportedDType(descr: String)
  /// `fortran_order` is `True`; only C-order (row-major) arrays are read.
  case fortranOrderNotSupported
  /// A dimension of the shape is negative; `shape` is the shape as written in the header.
  case negativeDimension(shape: String)
  /// A dimension, the element count or the byte count overflows `Int`.
  case shapeOverflow(shape: String)
  /// The file ends inside the element data: `expected` data bytes, `actual` present.
  case truncatedData(expected: Int, actual: Int)
  /// Bytes follow the element data: `expected` data bytes, `actual` present.
  case trailingData(expected: Int, actual: Int)
  /// The file could not be read.
  case readFailed(path: String, reason: String)
  /// The file could not be written.
  case writeFailed(path: String, reason: String)

  /// A one-sentence explanation naming the problem.
  public var description: String {
    switch self {
    case .badMagic(let found):
      let hex = found.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
      return "Not a .npy file: expected the magic bytes 93 4e 55 4d 50 59 (\\x93NUMPY), found "
        + (hex.isEmpty ? "an empty file" : hex.joined(separator: " "))
    case .unsupportedVersion(let major, let minor):
      return ".npy format version \(major).\(minor) is not supported (only 1.0, 2.0 and 3.0)"
    case .headerTooLarge(let length, let limit):
      return ".npy header length \(length) bytes exceeds the limit of \(limit) bytes"
    case .truncatedHeader(let expected, let actual):
      return ".npy file is truncated inside its header: expected at least \(expected) bytes, the file has \(actual)"
    case .malformedHeader(let reason, let offset):
      return ".npy header is malformed at byte \(offset): \(reason)"
    case .headerNotADictionary(let found):
      return ".npy header must be a dict literal, found a \(found)"
    case .missingHeaderKey(let key):
      return ".npy header lacks the key '\(quotedForMessage(key))'"
    case .unexpectedHeaderKey(let key):
      return ".npy header has the unexpected key '\(quotedForMessage(key))' (allowed: descr, fortran_order, shape)"
    case .duplicateHeaderKey(let key):
      return ".npy header has the key '\(quotedForMessage(key))' more than once"
    case .invalidHeaderValue(let key, let found):
      let wanted =
        switch key {
        case "descr": "a dtype string"
        case "fortran_order": "True or False"
        case "shape": "a tuple of integers"
        default: "a different value"
        }
      return ".npy header value for '\(key)' must be \(wanted), found \(quotedForMessage(found))"
    case .unsupportedDType(let descr):
      let d = quotedForMessage(descr)
      if descr.hasPrefix("[") || descr.hasPrefix("(") {
        return ".npy structured or sub-array dtype \(d) is not supported (only <f4, <f8, <i4, <i8)"
      }
      if descr.hasSuffix("O") || descr.hasSuffix("O8") || descr.hasSuffix("O4") {
        return ".npy dtype '\(d)' is an object array: pickled object arrays are refused"
      }
      if descr.hasPrefix(">") {
        return ".npy dtype '\(d)' is big-endian: only little-endian <f4, <f8, <i4, <i8 are supported"
      }
      return ".npy dtype '\(d)' is not supported (only <f4, <f8, <i4, <i8)"
    case .fortranOrderNotSupported:
      return ".npy array is stored in Fortran (column-major) order, which is not supported; save it in C order"
    case .negativeDimension(let shape):
      return ".npy shape \(quotedForMessage(shape)) has a negative dimension"
    case .shapeOverflow(let shape):
      return ".npy shape \(quotedForMessage(shape)) describes more bytes than can be addressed"
    case .truncatedData(let expected, let actual):
      return ".npy file is truncated: the shape needs \(expected) data bytes, the file has \(actual)"
    case .trailingData(let expected, let actual):
      return
        ".npy file has \(actual - expected) trailing bytes: the shape needs \(expected) data bytes, the file has \(actual)"
    case .readFailed(let path, let reason):
      return "Cannot read the .npy file at \(path): \(reason)"
    case .writeFailed(let path, let reason):
      return "Cannot write the .npy file at \(path): \(reason)"
    }
  }
}
