import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("NumPy .npy round trips")
struct NumPyRoundTripTests {
  @Test("round trip through Data for every dtype and shape", arguments: DType.allCases, sampleShapes)
  func roundTripData(dtype: DType, shape: [Int]) throws {
    let tensor = try sampleTensor(dtype, shape: shape)
    let data = NumPyFile.encode(tensor)
    #expect((data.count - tensor.byteCount) % 64 == 0, "data must start on a 64-byte boundary")
    #expect(data[data.count - tensor.byteCount - 1] == 0x0A, "the header ends with a newline")
    let back = try NumPyFile.read(data: data)
    #expect(back == tensor)
    #expect(back.dtype == dtype)
  }

  @Test("round trip through a temporary file for every dtype and shape", arguments: DType.allCases, sampleShapes)
  func roundTripFile(dtype: DType, shape: [Int]) throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let tensor = try sampleTensor(dtype, shape: shape, seed: 11)
    let url = dir.file("t.npy")
    try NumPyFile.write(tensor, to: url)
    #expect(try NumPyFile.read(from: url) == tensor)
    #expect(try dir.contents() == ["t.npy"], "the atomic write leaves no temporary file behind")
  }

  @Test("reading Data slices with a non-zero start index")
  func dataSlice() throws {
    let tensor = try sampleTensor(.float64, shape: [3, 2])
    let padded = Data([1, 2, 3]) + NumPyFile.encode(tensor)
    let slice = padded[3...]
    #expect(slice.startIndex == 3)
    #expect(try NumPyFile.read(data: slice) == tensor)
  }

  @Test("NaN, infinities and signed zero survive bit for bit")
  func specialValues() throws {
    let payloadNaN = Float(bitPattern: 0x7FC0_1234)
    let t = try Tensor(
      shape: [5], storage: .float32([payloadNaN, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude]))
    #expect(bitwiseEqual(try NumPyFile.read(data: NumPyFile.encode(t)), t))
    let d = try Tensor(shape: [2], storage: .float64([.nan, -0.0]))
    #expect(bitwiseEqual(try NumPyFile.read(data: NumPyFile.encode(d)), d))
  }

  @Test("Matrix<Float> and Matrix<Double> round trip through .npy files")
  func matrixRoundTrip() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let mf = Matrix<Float>(rows: 3, columns: 4) { i, j in Float(i) - Float(j) * 0.125 }
    try NumPyFile.write(Tensor(mf), to: dir.file("f.npy"))
    #expect(try NumPyFile.read(from: dir.file("f.npy")).matrix(as: Float.self) == mf)

    let md = Matrix<Double>(rows: 2, columns: 5) { i, j in Double(i * 5 + j) / 7 }
    try NumPyFile.write(Tensor(md), to: dir.file("d.npy"))
    #expect(try NumPyFile.read(from: dir.file("d.npy")).matrix(as: Double.self) == md)
  }

  @Test("writing replaces an existing file and reports an unwritable path")
  func writeBehaviour() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("x.npy")
    try NumPyFile.write(try sampleTensor(.int32, shape: [100]), to: url)
    let small = try sampleTensor(.int64, shape: [2])
    try NumPyFile.write(small, to: url)
    #expect(try NumPyFile.read(from: url) == small)

    let missing = dir.file("no/such/dir/x.npy")
    do {
      try NumPyFile.write(small, to: missing)
      Issue.record("writing into a missing directory should fail")
    } catch {
      guard case .writeFailed(let path, _) = error else {
        Issue.record("expected writeFailed, got \(error)")
        return
      }
      #expect(path == missing.path)
    }
    do {
      _ = try NumPyFile.read(from: missing)
      Issue.record("reading a missing file should fail")
    } catch {
      guard case .readFailed = error else {
        Issue.record("expected readFailed, got \(error)")
        return
      }
    }
  }

  @Test("a header too long for format 1.0 is written as format 2.0")
  func version2Writing() throws {
    let shape = Array(repeating: 1, count: 24_000)  // "1, " × 24 000 > 65 535 header bytes
    let tensor = try Tensor(shape: shape, storage: .float32([4]))
    let data = NumPyFile.encode(tensor)
    #expect(data[6] == 2 && data[7] == 0)
    #expect((data.count - 4) % 64 == 0)
    #expect(try NumPyFile.read(data: data) == tensor)
  }

  @Test("header variants NumPy accepts are read")
  func headerVariants() throws {
    let payload = float32Bytes([1, 2, 3])
    let variants = [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
      "{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}                 \n",
      "  {'descr':'<f4','fortran_order':False,'shape':(3,)}\n",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n",  // Python 2
      "{'descr': '=f4', 'fortran_order': False, 'shape': (+3,), }\n",
      "{'descr': '<f4',\n 'fortran_order': False,\n 'shape': (\n3\n,\n),\n}\n",
    ]
    for header in variants {
      let t = try NumPyFile.read(data: npyBytes(header: header, payload: payload))
      #expect(t == (try Tensor(shape: [3], storage: .float32([1, 2, 3]))), "\(header)")
    }
    // Format 2.0 and 3.0 (UTF-8 header).
    for major: UInt8 in [2, 3] {
      let t = try NumPyFile.read(
        data: npyBytes(
          header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", major: major, payload: payload))
      #expect(t.shape == [1, 3])
    }
  }
}

@Suite("NumPy .npy malformed input")
struct NumPyMalformedTests {
  let valid: Data
  init() throws {
    valid = NumPyFile.encode(try Tensor(shape: [2, 3], storage: .float32([1, 2, 3, 4, 5, 6])))
  }

  @Test("truncated preamble and header")
  func truncatedHeader() {
    #expect(valid.count == 152)
    #expect(npyError(Data()) == .truncatedHeader(expected: 10, actual: 0))
    #expect(npyError(valid.prefix(5)) == .truncatedHeader(expected: 10, actual: 5))
    #expect(npyError(valid.prefix(9)) == .truncatedHeader(expected: 10, actual: 9))
    #expect(npyError(valid.prefix(50)) == .truncatedHeader(expected: 128, actual: 50))
    #expect(npyError(valid.prefix(127)) == .truncatedHeader(expected: 128, actual: 127))
    let v2 = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", major: 2)
    #expect(npyError(v2.prefix(11)) == .truncatedHeader(expected: 12, actual: 11))
  }

  @Test("truncated data names expected and actual byte counts")
  func truncatedData() {
    let error = npyError(valid.prefix(148))
    #expect(error == .truncatedData(expected: 24, actual: 20))
    #expect(error?.description.contains("24") == true && error?.description.contains("20") == true)
    #expect(npyError(valid.prefix(128)) == .truncatedData(expected: 24, actual: 0))
  }

  @Test("bytes after the data are refused")
  func trailingGarbage() {
    #expect(npyError(valid + Data([0, 0, 0])) == .trailingData(expected: 24, actual: 27))
  }

  @Test("bad magic")
  func badMagic() {
    var bytes = valid
    bytes[5] = UInt8(ascii: "Z")
    #expect(npyError(bytes) == .badMagic(found: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x5A]))
    #expect(npyError(Data("PK\u{3}\u{4}".utf8)) == .badMagic(found: [0x50, 0x4B, 0x03, 0x04]))
    #expect(npyError(Data("NUMPY".utf8))?.description.contains("magic") == true)
  }

  @Test("unsupported versions")
  func unsupportedVersion() {
    for (major, minor): (UInt8, UInt8) in [(4, 0), (1, 1), (0, 0), (255, 255)] {
      var bytes = valid
      bytes[6] = major
      bytes[7] = minor
      #expect(npyError(bytes) == .unsupportedVersion(major: major, minor: minor))
    }
  }

  @Test(
    "unsupported dtypes are refused by name", arguments: [">f4", "<c8", "|O", "<f2", "|u1", "<U5", "|b1", ">i8", "<i2"])
  func unsupportedDType(descr: String) {
    let data = npyBytes(
      header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0])
    let error = npyError(data)
    #expect(error == .unsupportedDType(descr: descr))
    #expect(error?.description.contains(descr) == true)
  }

  @Test("object arrays mention pickling, big-endian arrays mention byte order")
  func dtypeMessages() {
    #expect(NumPyError.unsupportedDType(descr: "|O").description.contains("pickled object arrays are refused"))
    #expect(NumPyError.unsupportedDType(descr: ">f4").description.contains("big-endian"))
    let structured = npyBytes(
      header: "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", payload: [])
    #expect(npyError(structured) == .unsupportedDType(descr: "[('x', '<f4'), ('y', '<i4')]"))
  }

  @Test("Fortran order is refused")
  func fortranOrder() {
    let data = npyBytes(
      header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", payload: float32Bytes([1, 2, 3, 4, 5, 6]))
    #expect(npyError(data) == .fortranOrderNotSupported)
  }

  @Test("shape overflow and negative dimensions")
  func shapeProblems() throws {
    func header(_ shape: String) -> Data {
      npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }")
    }
    #expect(npyError(header("(4294967296, 4294967296)")) == .shapeOverflow(shape: "(4294967296, 4294967296)"))
    #expect(npyError(header("(2305843009213693952,)")) == .shapeOverflow(shape: "(2305843009213693952,)"))
    #expect(npyError(header("(99999999999999999999,)")) == .shapeOverflow(shape: "(99999999999999999999,)"))
    #expect(npyError(header("(3, -1)")) == .negativeDimension(shape: "(3, -1)"))
    // A zero dimension makes the product zero before the large factors can overflow: a valid empty array.
    #expect(try NumPyFile.read(data: header("(0, 4294967296, 4294967296)")).elementCount == 0)
    // A huge shape is refused before any allocation: the byte count merely exceeds the file.
    #expect(
      npyError(header("(1000000000, 1000000000)")) == .truncatedData(expected: 8_000_000_000_000_000_000, actual: 0))
  }

  @Test("oversized header length")
  func oversizedHeader() {
    var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF]
    bytes += Array(repeating: 0x20, count: 100)
    let error = npyError(Data(bytes))
    #expect(error == .headerTooLarge(length: 0xFFFF_FFFF, limit: NumPyFile.defaultMaxHeaderLength))
    #expect(error?.description.contains("4294967295") == true)
    // The cap is a parameter.
    #expect(npyError(valid, maxHeaderLength: 64) == .headerTooLarge(length: 118, limit: 64))
  }

  @Test("header structure problems")
  func headerStructure() {
    func read(_ header: String, major: UInt8 = 1) -> NumPyError? { npyError(npyBytes(header: header, major: major)) }
    #expect(read("[1, 2]") == .headerNotADictionary(found: "list"))
    #expect(read("'descr'") == .headerNotADictionary(found: "str"))
    #expect(read("{'descr': '<f4', 'fortran_order': False}") == .missingHeaderKey("shape"))
    #expect(read("{'fortran_order': False, 'shape': ()}") == .missingHeaderKey("descr"))
    #expect(
      read("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}") == .unexpectedHeaderKey("extra"))
    #expect(
      read("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}") == .duplicateHeaderKey("descr"))
    #expect(
      read("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}")
        == .invalidHeaderValue(key: "shape", found: "[2, 3]"))
    #expect(
      read("{'descr': '<f4', 'fortran_order': False, 'shape': (5)}") == .invalidHeaderValue(key: "shape", found: "5"))
    #expect(
      read("{'descr': '<f4', 'fortran_order': False, 'shape': ('a',)}")
        == .invalidHeaderValue(key: "shape", found: "('a',)"))
    #expect(
      read("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}") == .invalidHeaderValue(key: "fortran_order", found: "0")
    )
    #expect(read("{'descr': 4, 'fortran_order': False, 'shape': ()}") == .invalidHeaderValue(key: "descr", found: "4"))
  }

  @Test(
    "malformed header text",
    arguments: [
      "", "   \n", "{", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
      "{'descr': '<f4' 'fortran_order': False, 'shape': ()}", "{'descr: '<f4'}", "{descr: '<f4'}",
      "{'descr': '<f4', 'fortran_order': false, 'shape': ()}", "{'shape': (1.5,)}", "{'shape': (0x10,)}",
      "{'shape': (3L,)}", "{'descr': '<f4'} trailing", "{'a': 'b\\n'}", "{'a': (,)}", "{1: 2}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", "{'a': __import__('os')}",
    ])
  func malformedHeader(header: String) {
    // Format 3.0 so that the Python 2 'L' suffix is not accepted.
    let error = npyError(npyBytes(header: header, major: 3))
    guard case .malformedHeader(let reason, let offset) = error else {
      Issue.record("expected malformedHeader for \(header.debugDescription), got \(String(describing: error))")
      return
    }
    #expect(!reason.isEmpty)
    #expect(offset >= 12 && offset <= 12 + header.utf8.count)
  }

  @Test("deeply nested headers and invalid UTF-8 do not crash")
  func hostileHeaders() {
    let deep = String(repeating: "(", count: 100_000) + String(repeating: ")", count: 100_000)
    guard case .malformedHeader = npyError(npyBytes(header: deep, major: 2)) else {
      Issue.record("deep nesting should be a malformed header")
      return
    }
    var bytes = Array(npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 'ab'}", major: 3))
    bytes[bytes.count - 3] = 0xFF  // inside 'ab'
    guard case .malformedHeader = npyError(Data(bytes)) else {
      Issue.record("invalid UTF-8 in a 3.0 header should be a malformed header")
      return
    }
    // In 1.0 the header is Latin-1, so the same byte is a valid character (and 'x' an unexpected key).
    bytes[6] = 1
    var v1 = Array(bytes[0..<8]) + [UInt8(bytes.count - 12), 0] + Array(bytes[12...])
    #expect(npyError(Data(v1)) == .unexpectedHeaderKey("x"))
    v1[10] = 0
    #expect(npyError(Data(v1)) != nil)
  }

  @Test("every error has a descriptive message")
  func descriptions() {
    let errors: [NumPyError] = [
      .badMagic(found: []), .unsupportedVersion(major: 9, minor: 1), .headerTooLarge(length: 5, limit: 4),
      .truncatedHeader(expected: 10, actual: 3), .malformedHeader(reason: "r", offset: 12),
      .headerNotADictionary(found: "list"), .missingHeaderKey("shape"), .unexpectedHeaderKey("k"),
      .duplicateHeaderKey("descr"), .invalidHeaderValue(key: "shape", found: "[1]"),
      .unsupportedDType(descr: "<c8"), .fortranOrderNotSupported, .negativeDimension(shape: "(-1,)"),
      .shapeOverflow(shape: "(1,)"), .truncatedData(expected: 8, actual: 4), .trailingData(expected: 8, actual: 9),
      .readFailed(path: "/p", reason: "r"), .writeFailed(path: "/p", reason: "r"),
    ]
    for e in errors { #expect(e.description.count > 20, "\(e)") }
    #expect(NumPyError.trailingData(expected: 8, actual: 11).description.contains("3 trailing bytes"))
  }
}
