import Foundation

/// The contents of a `.safetensors` file: named tensors and string metadata.
public struct SafeTensors: Equatable, Sendable {
  /// The tensors by name.
  public var tensors: [String: Tensor]
  /// The `__metadata__` entries (empty if the file has none).
  public var metadata: [String: String]

  /// A collection of named tensors with optional metadata.
  public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor names in ascending order (the order ``SafeTensorsFile`` lays them out in).
  public var names: [String] { tensors.keys.sorted() }

  /// The tensor called `name`, or `nil`.
  public subscript(name: String) -> Tensor? { tensors[name] }

  /// The tensor called `name`.
  ///
  /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)`` listing the names present.
  public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
    guard let t = tensors[name] else { throw .tensorNotFound(name: name, available: names) }
    return t
  }
}

/// Reads and writes the safetensors format (Hugging Face).
///
/// ## On-disk layout
///
/// ```
/// offset  size  content
/// 0       8     N, the header length, little-endian u64
/// 8       N     header: UTF-8 JSON object, possibly padded with trailing spaces
///               { "__metadata__": {"key": "value", …},              (optional)
///                 "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
///                 … }
/// 8 + N   rest  the byte buffer; each tensor occupies buffer[begin..<end], row-major,
///               little-endian
/// ```
///
/// ## What is supported
///
/// dtypes `F32`, `F64`, `I32`, `I64`. Other safetensors dtypes (`F16`, `BF16`, `I8`, `U8`,
/// `BOOL`, …) are refused by name with ``SafeTensorsError/unsupportedDType(tensor:dtype:)``.
///
/// ## What is validated
///
/// Before any element storage is allocated the reader checks: the file holds the 8-byte length;
/// the header length is at most the cap (100 MB by default, as in the reference implementation)
/// and within the file; the header is valid UTF-8 and valid JSON (parsed by a strict hand-written
/// parser that sees duplicate keys); the top level is an object with no duplicate tensor names;
/// `__metadata__`, if present, maps strings to strings; each tensor entry has a known dtype, a
/// shape of non-negative integers, and two integer `data_offsets` with `begin ≤ end ≤` buffer
/// size; `end - begin` equals `product(shape) × element size` (overflow-checked); and the tensors
/// tile the buffer exactly — no overlaps, no gaps, no trailing bytes — as the reference
/// implementation requires. Unknown keys inside a tensor entry are ignored, as the reference
/// implementation does. No input makes the reader trap.
public enum SafeTensorsFile {
  /// The default header-length cap, 100 MB, matching the reference implementation.
  public static let defaultMaxHeaderLength = 100_000_000

  /// Dtype names of the safetensors specification that this reader does not decode.
  static let knownUnsupportedDTypes: Set<String> = [
    "BOOL", "U8", "I8", "I16", "U16", "U32", "U64", "F16", "BF16",
    "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
  ]

  // MARK: - Reading

  /// Reads the `.safetensors` file at `url`.
  ///
  /// The file is memory-mapped when Foundation considers it safe, then validated and decoded as
  /// described for ``read(data:maxHeaderLength:)``.
  ///
  /// - Throws: ``SafeTensorsError/readFailed(path:reason:)`` if the file cannot be read,
  ///   otherwise any validation error of ``read(data:maxHeaderLength:)``.
  public static func read(
    from url: URL, maxHeaderLength: Int = defaultMaxHeaderLength
  ) throws(SafeTensorsError) -> SafeTensors {
    let data = try contents(of: url) { SafeTensorsError.readFailed(path: $0, reason: $1) }
    return try read(data: data, maxHeaderLength: maxHeaderLength)
  }

  /// Decodes a complete `.safetensors` file held in memory.
  ///
  /// - Parameters:
  ///   - data: The file's bytes.
  ///   - maxHeaderLength: The largest header length `N` accepted, in bytes.
  /// - Throws: A ``SafeTensorsError`` describing the first problem found.
  public static func read(
    data: Data, maxHeaderLength: Int = defaultMaxHeaderLength
  ) throws(SafeTensorsError) -> SafeTensors {
    try withBytes(of: data) { (bytes) throws(SafeTensorsError) -> SafeTensors in
      try decode(bytes, maxHeaderLength: maxHeaderLength)
    }
  }

  /// A tensor entry after validation of its own fields.
  private struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var elementCount: Int
    var begin: Int
    var end: Int
  }

  private static func decode(
    _ bytes: UnsafeRawBufferPointer, maxHeaderLength: Int
  ) throws(SafeTensorsError) -> SafeTensors {
    let size = bytes.count
    guard size >= 8 else { throw .fileTooSmall(size: size) }
    let rawLength = bytes.littleEndianInteger(at: 0, as: UInt64.self)
    guard let headerLength = Int(exactly: rawLength), headerLength <= maxHeaderLength else {
      throw .headerTooLarge(length: rawLength, limit: maxHeaderLength)
    }
    guard headerLength <= size - 8 else {
      throw .headerPastEndOfFile(headerLength: rawLength, fileSize: size)
    }
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
    let bufferStart = 8 + headerLength
    let bufferSize = size - bufferStart

    // Header JSON.
    guard String(validating: headerBytes, as: UTF8.self) != nil else { throw .headerNotUTF8 }
    let root: JSONValue
    do {
      root = try JSONParser.parse(headerBytes)
    } catch {
      throw .invalidJSON(reason: error.reason, offset: 8 + error.offset)
    }
    guard case .object(let members) = root else { throw .headerNotAnObject(found: root.typeName) }

    var metadata: [String: String] = [:]
    var sawMetadata = false
    var seen = Set<String>()
    var entries: [Entry] = []
    entries.reserveCapacity(members.count)
    for member in members {
      if member.key == "__metadata__" {
        guard !sawMetadata else { throw .duplicateTensorName("__metadata__") }
        sawMetadata = true
        metadata = try parseMetadata(member.value)
        continue
      }
      guard seen.insert(member.key).inserted else { throw .duplicateTensorName(member.key) }
      entries.append(try parseEntry(name: member.key, member.value, bufferSize: bufferSize))
    }

    // The tensors must tile the buffer: sorted by offsets, each begins where the previous ended.
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var cursor = 0
    var previous: Entry?
    for entry in entries {
      if entry.begin > cursor {
        throw .uncoveredBytes(begin: cursor, end: entry.begin, after: previous?.name, before: entry.name)
      }
      if entry.begin < cursor, let previous {
        throw .overlappingTensors(
          first: previous.name, firstOffsets: [previous.begin, previous.end],
          second: entry.name, secondOffsets: [entry.begin, entry.end])
      }
      cursor = entry.end
      previous = entry
    }
    if cursor < bufferSize {
      throw .uncoveredBytes(begin: cursor, end: bufferSize, after: previous?.name, before: nil)
    }

    // Everything is validated; decode.
    var tensors: [String: Tensor] = [:]
    tensors.reserveCapacity(entries.count)
    for entry in entries {
      let storage = Tensor.Storage.decode(
        entry.dtype, count: entry.elementCount, from: bytes, at: bufferStart + entry.begin)
      tensors[entry.name] = Tensor(validatedShape: entry.shape, storage: storage)
    }
    return SafeTensors(tensors: tensors, metadata: metadata)
  }

  private static func parseMetadata(_ value: JSONValue) throws(SafeTensorsError) -> [String: String] {
    switch value {
    case .null:
      return [:]
    case .object(let members):
      var metadata: [String: String] = [:]
      for member in members {
        guard case .string(let text) = member.value else {
          throw .invalidMetadata(
            reason: "the value of '\(quotedForMessage(member.key))' is a \(member.value.typeName), not a string")
        }
        guard metadata.updateValue(text, forKey: member.key) == nil else {
          throw .invalidMetadata(reason: "the key '\(quotedForMessage(member.key))' appears more than once")
        }
      }
      return metadata
    default:
      throw .invalidMetadata(reason: "__metadata__ is a \(value.typeName), not an object")
    }
  }

  private static func parseEntry(
    name: String, _ value: JSONValue, bufferSize: Int
  ) throws(SafeTensorsError) -> Entry {
    guard case .object(let members) = value else {
      throw .invalidTensorInfo(tensor: name, reason: "the entry is a \(value.typeName), not an object")
    }
    var dtypeValue: JSONValue?
    var shapeValue: JSONValue?
    var offsetsValue: JSONValue?
    for member in members {
      switch member.key {
      case "dtype", "shape", "data_offsets":
        let existing = member.key == "dtype" ? dtypeValue : member.key == "shape" ? shapeValue : offsetsValue
        guard existing == nil else {
          throw .invalidTensorInfo(tensor: name, reason: "the key '\(member.key)' appears more than once")
        }
        switch member.key {
        case "dtype": dtypeValue = member.value
        case "shape": shapeValue = member.value
        default: offsetsValue = member.value
        }
      default:
        continue  // Unknown fields are ignored, like the reference implementation.
      }
    }
    guard let dtypeValue else { throw .invalidTensorInfo(tensor: name, reason: "missing \"dtype\"") }
    guard let shapeValue else { throw .invalidTensorInfo(tensor: name, reason: "missing \"shape\"") }
    guard let offsetsValue else { throw .invalidTensorInfo(tensor: name, reason: "missing \"data_offsets\"") }

    // dtype
    guard case .string(let dtypeName) = dtypeValue else {
      throw .invalidTensorInfo(tensor: name, reason: "\"dtype\" is a \(dtypeValue.typeName), not a string")
    }
    let dtype: DType
    switch dtypeName {
    case "F32": dtype = .float32
    case "F64": dtype = .float64
    case "I32": dtype = .int32
    case "I64": dtype = .int64
    default:
      if knownUnsupportedDTypes.contains(dtypeName) {
        throw .unsupportedDType(tensor: name, dtype: dtypeName)
      }
      throw .unknownDType(tensor: name, dtype: dtypeName)
    }

    // shape
    guard case .array(let shapeItems) = shapeValue else {
      throw .invalidShape(tensor: name, found: shapeValue.summary)
    }
    var shape: [Int] = []
    shape.reserveCapacity(shapeItems.count)
    for item in shapeItems {
      guard case .number(let text, true) = item, !text.hasPrefix("-") else {
        throw .invalidShape(tensor: name, found: shapeValue.summary)
      }
      guard let d = Int(text) else { throw .shapeOverflow(tensor: name, shape: shapeValue.summary) }
      shape.append(d)
    }
    guard let elementCount = checkedProduct(shape) else {
      throw .shapeOverflow(tensor: name, shape: shapeValue.summary)
    }
    guard let expectedBytes = checkedMultiply(elementCount, dtype.byteWidth) else {
      throw .shapeOverflow(tensor: name, shape: shapeValue.summary)
    }

    // data_offsets
    guard case .array(let offsetItems) = offsetsValue, offsetItems.count == 2 else {
      throw .invalidTensorInfo(
        tensor: name, reason: "\"data_offsets\" must be an array of two integers, found \(offsetsValue.summary)")
    }
    var offsets: [Int] = []
    for item in offsetItems {
      guard case .number(let text, true) = item, !text.hasPrefix("-") else {
        throw .invalidTensorInfo(
          tensor: name,
          reason: "\"data_offsets\" must hold non-negative integers, found \(offsetsValue.summary)")
      }
      guard let o = Int(text) else {
        throw .invalidTensorInfo(
          tensor: name, reason: "the data offset \(quotedForMessage(text, limit: 40)) is too large")
      }
      offsets.append(o)
    }
    let begin = offsets[0]
    let end = offsets[1]
    guard begin <= end else { throw .invalidOffsets(tensor: name, begin: begin, end: end) }
    guard end <= bufferSize else {
      throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, bufferSize: bufferSize)
    }
    guard end - begin == expectedBytes else {
      throw .byteCountMismatch(
        tensor: name, dtype: dtype, shape: shape, expected: expectedBytes, actual: end - begin)
    }
    return Entry(name: name, dtype: dtype, shape: shape, elementCount: elementCount, begin: begin, end: end)
  }

  // MARK: - Writing

  /// Encodes tensors and metadata as a complete `.safetensors` file.
  ///
  /// Tensors are laid out contiguously in ascending name order; the header is compact JSON with
  /// `__metadata__` first (omitted when empty) and the tensors in the same order, padded with
  /// spaces so that the buffer starts at a multiple of 8 bytes.
  ///
  /// - Throws: ``SafeTensorsError/reservedTensorName(_:)`` if a tensor is named `__metadata__`.
  public static func encode(
    _ tensors: [String: Tensor], metadata: [String: String] = [:]
  ) throws(SafeTensorsError) -> Data {
    if tensors["__metadata__"] != nil { throw .reservedTensorName("__metadata__") }
    let names = tensors.keys.sorted()

    var json = "{"
    var first = true
    if !metadata.isEmpty {
      json += "\"__metadata__\":{"
      json += metadata.keys.sorted().map { key in
        jsonQuoted(key) + ":" + jsonQuoted(metadata[key] ?? "")
      }.joined(separator: ",")
      json += "}"
      first = false
    }
    var offset = 0
    for name in names {
      guard let tensor = tensors[name] else { continue }
      if !first { json += "," }
      first = false
      let end = offset + tensor.byteCount
      json += jsonQuoted(name) + ":{\"dtype\":\"\(tensor.dtype.safeTensorsName)\",\"shape\":["
      json += tensor.shape.map(String.init).joined(separator: ",")
      json += "],\"data_offsets\":[\(offset),\(end)]}"
      offset = end
    }
    json += "}"

    var header = Array(json.utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    let bufferStart = 8 + header.count

    var data = Data(count: bufferStart + offset)
    data.withUnsafeMutableBytes { out in
      out.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
      for (i, b) in header.enumerated() { out[8 + i] = b }
      var position = bufferStart
      for name in names {
        guard let tensor = tensors[name] else { continue }
        tensor.storage.encode(into: out, at: position)
        position += tensor.byteCount
      }
    }
    return data
  }

  /// Encodes a ``SafeTensors`` value; see ``encode(_:metadata:)``.
  public static func encode(_ file: SafeTensors) throws(SafeTensorsError) -> Data {
    try encode(file.tensors, metadata: file.metadata)
  }

  /// Writes tensors and metadata to `url` as a `.safetensors` file (see ``encode(_:metadata:)``),
  /// atomically.
  ///
  /// The bytes go to a temporary file in the destination's directory which is then renamed over
  /// `url`, so a reader never sees a partial file and a failed write leaves any old file intact.
  ///
  /// - Throws: ``SafeTensorsError/reservedTensorName(_:)`` or
  ///   ``SafeTensorsError/writeFailed(path:reason:)``.
  public static func write(
    _ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL
  ) throws(SafeTensorsError) {
    let data = try encode(tensors, metadata: metadata)
    do {
      try writeAtomically(data, to: url)
    } catch {
      throw .writeFailed(path: url.path, reason: error.reason)
    }
  }

  /// Writes a ``SafeTensors`` value to `url`; see ``write(_:metadata:to:)``.
  public static func write(_ file: SafeTensors, to url: URL) throws(SafeTensorsError) {
    try write(file.tensors, metadata: file.metadata, to: url)
  }

  /// `text` as a JSON string literal.
  static func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}

/// Why a `.safetensors` file could not be read or written.
///
/// Every case's ``description`` is a sentence naming the problem and, where it applies, the
/// tensor, offsets and sizes involved. Offsets of tensors are relative to the start of the byte
/// buffer (after the header), as in the file.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file is shorter than the 8-byte header length.
  case fileTooSmall(size: Int)
  /// The header length exceeds the reader's cap.
  case headerTooLarge(length: UInt64, limit: Int)
  /// The header length points past the end of the file.
  case headerPastEndOfFile(headerLength: UInt64, fileSize: Int)
  /// The header is not valid UTF-8.
  case headerNotUTF8
  /// The header is not valid JSON; `offset` is the byte offset in the file.
  case invalidJSON(reason: String, offset: Int)
  /// The header's top-level JSON value is not an object; `found` is its JSON type.
  case headerNotAnObject(found: String)
  /// Two header entries have the same name.
  case duplicateTensorName(String)
  /// `__metadata__` is not an object mapping strings to strings.
  case invalidMetadata(reason: String)
  /// A tensor entry is not an object, lacks a field, or a field has the wrong type.
  case invalidTensorInfo(tensor: String, reason: String)
  /// A tensor's dtype is a safetensors dtype this reader does not decode (`F16`, `BF16`, …).
  case unsupportedDType(tensor: String, dtype: String)
  /// A tensor's dtype is not a safetensors dtype at all.
  case unknownDType(tensor: String, dtype: String)
  /// A tensor's shape is not an array of non-negative integers; `found` renders it.
  case invalidShape(tensor: String, found: String)
  /// A tensor's shape describes more bytes than `Int` can count.
  case shapeOverflow(tensor: String, shape: String)
  /// A tensor's `data_offsets` have `end < begin`.
  case invalidOffsets(tensor: String, begin: Int, end: Int)
  /// A tensor's `data_offsets` end beyond the byte buffer.
  case offsetsOutOfRange(tensor: String, begin: Int, end: Int, bufferSize: Int)
  /// A tensor's byte range does not have `product(shape) × element size` bytes.
  case byteCountMismatch(tensor: String, dtype: DType, shape: [Int], expected: Int, actual: Int)
  /// Two tensors' byte ranges overlap.
  case overlappingTensors(first: String, firstOffsets: [Int], second: String, secondOffsets: [Int])
  /// Bytes `begin..<end` of the buffer belong to no tensor (a gap, or trailing bytes when
  /// `before` is `nil`); `after` and `before` name the neighbouring tensors.
  case uncoveredBytes(begin: Int, end: Int, after: String?, before: String?)
  /// A tensor to be written is named `__metadata__`, which the format reserves.
  case reservedTensorName(String)
  /// ``SafeTensors/tensor(named:)`` found no tensor of that name.
  case tensorNotFound(name: String, available: [String])
  /// The file could not be read.
  case readFailed(path: String, reason: String)
  /// The file could not be written.
  case writeFailed(path: String, reason: String)

  /// A one-sentence explanation naming the problem.
  public var description: String {
    func q(_ s: String) -> String { "'\(quotedForMessage(s))'" }
    switch self {
    case .fileTooSmall(let size):
      return "Not a .safetensors file: it has \(size) bytes, fewer than the 8-byte header length"
    case .headerTooLarge(let length, let limit):
      return ".safetensors header length \(length) bytes exceeds the limit of \(limit) bytes"
    case .headerPastEndOfFile(let length, let fileSize):
      return
        ".safetensors header length \(length) reaches past the end of the file: 8 + \(length) bytes needed, the file has \(fileSize)"
    case .headerNotUTF8:
      return ".safetensors header is not valid UTF-8"
    case .invalidJSON(let reason, let offset):
      return ".safetensors header is not valid JSON at byte \(offset): \(reason)"
    case .headerNotAnObject(let found):
      return ".safetensors header must be a JSON object, found a \(found)"
    case .duplicateTensorName(let name):
      return ".safetensors header names \(q(name)) more than once"
    case .invalidMetadata(let reason):
      return ".safetensors __metadata__ must map strings to strings: \(reason)"
    case .invalidTensorInfo(let tensor, let reason):
      return ".safetensors entry for tensor \(q(tensor)) is invalid: \(reason)"
    case .unsupportedDType(let tensor, let dtype):
      return ".safetensors tensor \(q(tensor)) has dtype \(q(dtype)), which is not supported (only F32, F64, I32, I64)"
    case .unknownDType(let tensor, let dtype):
      return ".safetensors tensor \(q(tensor)) has unknown dtype \(q(dtype))"
    case .invalidShape(let tensor, let found):
      return
        ".safetensors tensor \(q(tensor)) has shape \(quotedForMessage(found)); a shape must be an array of non-negative integers"
    case .shapeOverflow(let tensor, let shape):
      return
        ".safetensors tensor \(q(tensor)) has shape \(quotedForMessage(shape)), which describes more bytes than can be addressed"
    case .invalidOffsets(let tensor, let begin, let end):
      return ".safetensors tensor \(q(tensor)) has data_offsets [\(begin), \(end)] with end before begin"
    case .offsetsOutOfRange(let tensor, let begin, let end, let bufferSize):
      return
        ".safetensors tensor \(q(tensor)) has data_offsets [\(begin), \(end)] beyond the \(bufferSize)-byte data buffer"
    case .byteCountMismatch(let tensor, let dtype, let shape, let expected, let actual):
      return
        ".safetensors tensor \(q(tensor)) of dtype \(dtype.safeTensorsName) and shape \(shape) needs \(expected) bytes, but its data_offsets span \(actual)"
    case .overlappingTensors(let first, let firstOffsets, let second, let secondOffsets):
      return ".safetensors tensors \(q(first)) at \(firstOffsets) and \(q(second)) at \(secondOffsets) overlap"
    case .uncoveredBytes(let begin, let end, let after, let before):
      let place: String
      switch (after, before) {
      case (let a?, let b?): place = "between tensors \(q(a)) and \(q(b))"
      case (nil, let b?): place = "before the first tensor \(q(b))"
      case (let a?, nil): place = "after the last tensor \(q(a))"
      case (nil, nil): place = "in a file without tensors"
      }
      return ".safetensors data buffer bytes \(begin)..<\(end) (\(end - begin) bytes) \(place) belong to no tensor"
    case .reservedTensorName(let name):
      return "A tensor cannot be named \(q(name)): safetensors reserves that key for metadata"
    case .tensorNotFound(let name, let available):
      let list = available.prefix(20).map { q($0) }.joined(separator: ", ")
      return
        "No tensor named \(q(name)) in the .safetensors file (it has: \(list.isEmpty ? "none" : list)\(available.count > 20 ? ", …" : ""))"
    case .readFailed(let path, let reason):
      return "Cannot read the .safetensors file at \(path): \(reason)"
    case .writeFailed(let path, let reason):
      return "Cannot write the .safetensors file at \(path): \(reason)"
    }
  }
}
