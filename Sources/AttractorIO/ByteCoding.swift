import Foundation

// Portable little-endian element coding shared by both file formats.
//
// Reading uses `loadUnaligned(fromByteOffset:as:)` followed by a little-endian conversion, so it
// is correct on any host byte order and at any alignment. Callers validate every bound before
// calling in here; these helpers only assert it.

extension UnsafeRawBufferPointer {
  /// The little-endian unsigned integer at `offset` (caller guarantees `offset + size ≤ count`).
  @inline(__always)
  func littleEndianInteger<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
    T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}

@inline(__always)
private func decodeArray<Raw: FixedWidthInteger, Value>(
  count: Int, bytes: UnsafeRawBufferPointer, offset: Int, raw: Raw.Type, convert: (Raw) -> Value
) -> [Value] {
  let width = MemoryLayout<Raw>.size
  precondition(
    offset >= 0 && count >= 0 && count <= (bytes.count - offset) / width, "decodeArray: bounds not validated")
  return [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
    for i in 0..<count {
      buffer.initializeElement(at: i, to: convert(bytes.littleEndianInteger(at: offset + i * width, as: Raw.self)))
      initialized = i + 1
    }
  }
}

extension Tensor.Storage {
  /// Decodes `count` little-endian elements of `dtype` starting at `offset` in `bytes`.
  ///
  /// The caller must have validated `offset + count × dtype.byteWidth ≤ bytes.count` with
  /// overflow-checked arithmetic.
  static func decode(_ dtype: DType, count: Int, from bytes: UnsafeRawBufferPointer, at offset: Int) -> Tensor.Storage {
    switch dtype {
    case .float32:
      .float32(
        decodeArray(count: count, bytes: bytes, offset: offset, raw: UInt32.self, convert: Float.init(bitPattern:)))
    case .float64:
      .float64(
        decodeArray(count: count, bytes: bytes, offset: offset, raw: UInt64.self, convert: Double.init(bitPattern:)))
    case .int32:
      .int32(decodeArray(count: count, bytes: bytes, offset: offset, raw: UInt32.self) { Int32(bitPattern: $0) })
    case .int64:
      .int64(decodeArray(count: count, bytes: bytes, offset: offset, raw: UInt64.self) { Int64(bitPattern: $0) })
    }
  }

  /// Writes the elements little-endian into `buffer` starting at `offset`.
  func encode(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
    precondition(offset >= 0 && buffer.count - offset >= count * dtype.byteWidth, "encode: buffer too small")
    switch self {
    case .float32(let v):
      for (i, x) in v.enumerated() {
        buffer.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self)
      }
    case .float64(let v):
      for (i, x) in v.enumerated() {
        buffer.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: offset + 8 * i, as: UInt64.self)
      }
    case .int32(let v):
      for (i, x) in v.enumerated() {
        buffer.storeBytes(of: x.littleEndian, toByteOffset: offset + 4 * i, as: Int32.self)
      }
    case .int64(let v):
      for (i, x) in v.enumerated() {
        buffer.storeBytes(of: x.littleEndian, toByteOffset: offset + 8 * i, as: Int64.self)
      }
    }
  }
}

/// Runs `body` over the bytes of `data`, preserving the body's typed error.
///
/// `Data.withUnsafeBytes` is `rethrows`, which erases a typed error, so the body's outcome travels
/// through a `Result`.
func withBytes<T, E: Error>(
  of data: Data, _ body: (UnsafeRawBufferPointer) throws(E) -> T
) throws(E) -> T {
  let result: Result<T, E> = data.withUnsafeBytes { raw in
    do throws(E) {
      return .success(try body(raw))
    } catch {
      return .failure(error)
    }
  }
  return try result.get()
}

/// `a + b`, or `nil` on overflow.
@inline(__always)
func checkedAdd(_ a: Int, _ b: Int) -> Int? {
  let (r, o) = a.addingReportingOverflow(b)
  return o ? nil : r
}

/// `a × b`, or `nil` on overflow.
@inline(__always)
func checkedMultiply(_ a: Int, _ b: Int) -> Int? {
  let (r, o) = a.multipliedReportingOverflow(by: b)
  return o ? nil : r
}

/// The product of non-negative `dimensions`, or `nil` on overflow. A zero dimension makes the
/// product zero whatever the other dimensions are.
func checkedProduct(_ dimensions: [Int]) -> Int? {
  if dimensions.contains(0) { return 0 }
  var product = 1
  for d in dimensions {
    guard let p = checkedMultiply(product, d) else { return nil }
    product = p
  }
  return product
}

/// Printable text for an error message: at most `limit` characters, control characters escaped.
func quotedForMessage(_ text: String, limit: Int = 80) -> String {
  var out = ""
  var n = 0
  for scalar in text.unicodeScalars {
    if n == limit {
      out += "…"
      break
    }
    if scalar.value < 0x20 || scalar.value == 0x7F {
      out += "\\u{\(String(scalar.value, radix: 16))}"
    } else {
      out.unicodeScalars.append(scalar)
    }
    n += 1
  }
  return out
}

/// What keeps the file at `url` from being read, in words ("it is a directory, not a file", "it
/// does not exist", "it is not readable …"), or nil when it is a readable regular file.
public func fileProblem(at url: URL) -> String? {
  let manager = FileManager.default
  var isDirectory: ObjCBool = false
  guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return "it does not exist" }
  if isDirectory.boolValue { return "it is a directory, not a file" }
  if !manager.isReadableFile(atPath: url.path) { return "it is not readable (check its permissions)" }
  return nil
}

/// The bytes of the file at `url` (memory-mapped when Foundation considers it safe), or the
/// reader's own typed error built from the path and the system's reason.
func contents<E: Error>(of url: URL, orThrow failure: (_ path: String, _ reason: String) -> E) throws(E) -> Data {
  if let problem = fileProblem(at: url) { throw failure(url.path, problem) }
  do {
    return try Data(contentsOf: url, options: .mappedIfSafe)
  } catch {
    throw failure(url.path, error.localizedDescription)
  }
}
