import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A 2-D float `.npy` file memory-mapped read-only, for matrices larger than memory: rows are read
/// in place, block by block, and the pages of a finished block can be handed back.
///
/// Opening validates the file exactly as ``NumPyFile/read(from:maxHeaderLength:)`` does (magic,
/// version, header length and syntax, dtype, C order, shape, that the data fills the file to the
/// byte), reading only the header: the elements are touched when a caller asks for rows. On top of
/// that it requires two dimensions, a float dtype (`<f4` or `<f8`) and a data offset aligned to the
/// element size (NumPy aligns to 64 bytes). The mapping is `PROT_READ`, `MAP_PRIVATE`, advised
/// `MADV_SEQUENTIAL`; ``release(rows:)`` advises `MADV_DONTNEED` on the pages of a row range, so a
/// pass over the file keeps only the current block resident in this process (the kernel's page
/// cache may keep the file; that memory is not the process's).
///
/// Rows are read as `Float` or `Double`: in place when the file's dtype is that type, converted
/// into a caller's buffer otherwise (``withRows(_:as:buffer:_:)``).
public final class MappedNumPyMatrix: @unchecked Sendable {
  /// The file's path.
  public let path: String
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// `float32` or `float64`.
  public let dtype: DType
  /// Byte offset of the first element.
  public let dataOffset: Int
  let base: UnsafeRawPointer
  let length: Int
  let pageSize: Int

  /// Maps and validates the file at `path`.
  ///
  /// - Throws: ``MappedNumPyError``: the file cannot be opened or mapped, fails the `.npy`
  ///   validation (the ``NumPyError``), or is not a 2-D float array with aligned data.
  public init(path: String, maxHeaderLength: Int = NumPyFile.defaultMaxHeaderLength) throws(MappedNumPyError) {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .openFailed(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .openFailed(path: path, reason: String(cString: strerror(errno))) }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw .openFailed(path: path, reason: "not a regular file") }
    let size = Int(info.st_size)
    guard size > 0 else { throw .invalid(path: path, .badMagic(found: [])) }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw .mapFailed(path: path, reason: String(cString: strerror(errno)))
    }
    let raw = UnsafeRawPointer(mapped)
    let layout: (header: NumPyFile.Header, dataOffset: Int)
    do {
      layout = try NumPyFile.validatedLayout(
        UnsafeRawBufferPointer(start: raw, count: size), maxHeaderLength: maxHeaderLength)
    } catch {
      munmap(mapped, size)
      throw .invalid(path: path, error)
    }
    let header = layout.header
    guard header.shape.count == 2 else {
      munmap(mapped, size)
      throw .notAMatrix(path: path, shape: header.shape)
    }
    guard header.dtype == .float32 || header.dtype == .float64 else {
      munmap(mapped, size)
      throw .notFloat(path: path, dtype: header.dtype)
    }
    guard layout.dataOffset % header.dtype.byteWidth == 0 else {
      munmap(mapped, size)
      throw .misaligned(path: path, offset: layout.dataOffset)
    }
    _ = madvise(mapped, size, MADV_SEQUENTIAL)
    base = raw
    length = size
    rows = header.shape[0]
    columns = header.shape[1]
    dtype = header.dtype
    dataOffset = layout.dataOffset
    pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

  /// Bytes of the element data.
  public var dataBytes: Int { rows * columns * dtype.byteWidth }

  /// Calls `body` with rows `range` as contiguous `Scalar`s (row-major, `range.count × columns`):
  /// the mapped bytes themselves when the file holds `Scalar`, else `buffer` (grown if needed) with
  /// the rows converted.
  public func withRows<Scalar: BinaryFloatingPoint, R>(
    _ range: Range<Int>, as _: Scalar.Type, buffer: inout [Scalar], _ body: (UnsafePointer<Scalar>) throws -> R
  ) rethrows -> R {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
    let count = range.count * columns
    let start = base + dataOffset + range.lowerBound * columns * dtype.byteWidth
    if (Scalar.self == Float.self && dtype == .float32) || (Scalar.self == Double.self && dtype == .float64) {
      return try body(start.assumingMemoryBound(to: Scalar.self))
    }
    if buffer.count < count { buffer = [Scalar](repeating: 0, count: count) }
    buffer.withUnsafeMutableBufferPointer { out in
      // The two conversions a stream needs, on concrete types (generic code called from another
      // module runs unspecialised, a witness-table call per entry).
      if Scalar.self == Double.self && dtype == .float32 {
        let x = start.assumingMemoryBound(to: Float.self)
        let o = UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: Double.self)
        for i in 0..<count { o[i] = Double(x[i]) }
      } else if Scalar.self == Float.self && dtype == .float64 {
        let x = start.assumingMemoryBound(to: Double.self)
        let o = UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: Float.self)
        for i in 0..<count { o[i] = Float(x[i]) }
      } else if dtype == .float32 {
        let x = start.assumingMemoryBound(to: Float.self)
        for i in 0..<count { out[i] = Scalar(x[i]) }
      } else {
        let x = start.assumingMemoryBound(to: Double.self)
        for i in 0..<count { out[i] = Scalar(x[i]) }
      }
    }
    return try buffer.withUnsafeBufferPointer { try body($0.baseAddress!) }
  }

  /// Calls `body` with the stored bytes of rows `range` (in the file's dtype, little-endian), in place.
  public func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
    let rowBytes = columns * dtype.byteWidth
    return try body(
      UnsafeRawBufferPointer(start: base + dataOffset + range.lowerBound * rowBytes, count: range.count * rowBytes))
  }

  /// Row `i` as an array of `Scalar`.
  public func row<Scalar: BinaryFloatingPoint>(_ i: Int, as _: Scalar.Type) -> [Scalar] {
    var buffer: [Scalar] = []
    return withRows(i..<(i + 1), as: Scalar.self, buffer: &buffer) { p in
      Array(UnsafeBufferPointer(start: p, count: columns))
    }
  }

  /// Hands the pages that hold only rows of `range` back to the kernel (`MADV_DONTNEED`): they
  /// leave this process's resident set and are read again from the file (or page cache) if touched.
  public func release(rows range: Range<Int>) {
    let rowBytes = columns * dtype.byteWidth
    let first = dataOffset + range.lowerBound * rowBytes
    let end = dataOffset + range.upperBound * rowBytes
    let alignedFirst = (first + pageSize - 1) / pageSize * pageSize
    let alignedEnd = end / pageSize * pageSize
    guard alignedEnd > alignedFirst else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: base + alignedFirst), alignedEnd - alignedFirst, MADV_DONTNEED)
  }
}

/// Why a `.npy` file could not be memory-mapped as a matrix.
public enum MappedNumPyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file could not be opened or is not a regular file.
  case openFailed(path: String, reason: String)
  /// `mmap` failed.
  case mapFailed(path: String, reason: String)
  /// The file fails the `.npy` validation.
  case invalid(path: String, NumPyError)
  /// The array is not 2-D.
  case notAMatrix(path: String, shape: [Int])
  /// The dtype is not float32 or float64.
  case notFloat(path: String, dtype: DType)
  /// The data offset is not a multiple of the element size.
  case misaligned(path: String, offset: Int)

  public var description: String {
    switch self {
    case .openFailed(let path, let reason): return "Cannot open the .npy file at \(path): \(reason)"
    case .mapFailed(let path, let reason): return "Cannot memory-map the .npy file at \(path): \(reason)"
    case .invalid(let path, let error): return "\(path): \(error)"
    case .notAMatrix(let path, let shape):
      return "\(path) holds an array of shape \(shape); streaming needs a 2-D array (one pattern per row)"
    case .notFloat(let path, let dtype):
      return "\(path) holds \(dtype) elements; streaming reads float32 or float64 (convert with numpy astype)"
    case .misaligned(let path, let offset):
      return
        "\(path): its data starts at byte \(offset), not a multiple of the element size; re-save it with numpy.save"
    }
  }
}
