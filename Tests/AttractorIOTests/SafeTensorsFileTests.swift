import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("safetensors round trips")
struct SafeTensorsRoundTripTests {
  @Test("round trip through Data for every dtype and shape", arguments: DType.allCases, sampleShapes)
  func roundTripData(dtype: DType, shape: [Int]) throws {
    let tensor = try sampleTensor(dtype, shape: shape)
    let data = try SafeTensorsFile.encode(["t": tensor])
    let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
    #expect(headerLength % 8 == 0)
    #expect(data.count == 8 + Int(headerLength) + tensor.byteCount)
    let back = try SafeTensorsFile.read(data: data)
    #expect(back.tensors == ["t": tensor])
    #expect(back.metadata.isEmpty)
  }

  @Test("round trip through a temporary file with many tensors and metadata")
  func roundTripFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    var tensors: [String: Tensor] = [:]
    for (i, dtype) in DType.allCases.enumerated() {
      for (j, shape) in sampleShapes.enumerated() {
        tensors["\(dtype).\(j)"] = try sampleTensor(dtype, shape: shape, seed: i * 10 + j)
      }
    }
    let metadata = ["format": "attractors", "quote\"and\\slash": "line\nbreak\t\u{1}é✓"]
    let url = dir.file("model.safetensors")
    try SafeTensorsFile.write(tensors, metadata: metadata, to: url)
    let back = try SafeTensorsFile.read(from: url)
    #expect(back == SafeTensors(tensors: tensors, metadata: metadata))
    #expect(back.names == tensors.keys.sorted())
    #expect(try dir.contents() == ["model.safetensors"], "the atomic write leaves no temporary file behind")

    // Writing a SafeTensors value is equivalent.
    try SafeTensorsFile.write(back, to: dir.file("again.safetensors"))
    #expect(try Data(contentsOf: dir.file("again.safetensors")) == Data(contentsOf: url))
  }

  @Test("an empty file (no tensors) round trips")
  func empty() throws {
    let data = try SafeTensorsFile.encode([:])
    #expect(data.count == 16)  // 8 + "{}" padded to 8
    #expect(try SafeTensorsFile.read(data: data) == SafeTensors())
  }

  @Test("tensors are laid out contiguously in name order")
  func layout() throws {
    let data = try SafeTensorsFile.encode(
      ["b": try Tensor(shape: [1], storage: .int32([7])), "a": try Tensor(shape: [2], storage: .float64([1, 2]))],
      metadata: ["k": "v"])
    let n = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
    let header = String(decoding: data[8..<(8 + n)], as: UTF8.self)
    #expect(
      header.trimmingCharacters(in: .whitespaces)
        == #"{"__metadata__":{"k":"v"},"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
        + #""b":{"dtype":"I32","shape":[1],"data_offsets":[16,20]}}"#)
  }

  @Test("NaN and signed zero survive bit for bit")
  func specialValues() throws {
    let t = try Tensor(shape: [3], storage: .float32([Float(bitPattern: 0x7FC0_0001), -0.0, -.infinity]))
    let back = try SafeTensorsFile.read(data: SafeTensorsFile.encode(["x": t]))
    #expect(bitwiseEqual(try #require(back["x"]), t))
  }

  @Test("Matrix<Float> and Matrix<Double> round trip")
  func matrices() throws {
    let mf = Matrix<Float>(rows: 4, columns: 3) { i, j in Float(i * 3 + j) / 9 }
    let md = Matrix<Double>(rows: 2, columns: 2, elements: [1e-300, -2, 3, 4e300])
    let back = try SafeTensorsFile.read(data: SafeTensorsFile.encode(["f": Tensor(mf), "d": Tensor(md)]))
    #expect(try back.tensor(named: "f").matrix(as: Float.self) == mf)
    #expect(try back.tensor(named: "d").matrix(as: Double.self) == md)
  }

  @Test("lookup of a missing tensor lists the available names")
  func missingTensor() throws {
    let file = SafeTensors(tensors: ["a": try sampleTensor(.int32, shape: [1])])
    do {
      _ = try file.tensor(named: "b")
      Issue.record("expected tensorNotFound")
    } catch {
      #expect(error == .tensorNotFound(name: "b", available: ["a"]))
      #expect(error.description.contains("'a'"))
    }
  }

  @Test("the reserved name __metadata__ cannot be written")
  func reservedName() throws {
    let tensor = try sampleTensor(.int32, shape: [1])
    do {
      _ = try SafeTensorsFile.encode(["__metadata__": tensor])
      Issue.record("expected reservedTensorName")
    } catch {
      #expect(error == .reservedTensorName("__metadata__"))
    }
  }

  @Test("reading a missing file and writing into a missing directory fail with typed errors")
  func ioErrors() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("none/x.safetensors")
    do {
      _ = try SafeTensorsFile.read(from: url)
      Issue.record("expected readFailed")
    } catch {
      guard case .readFailed(let path, _) = error else {
        Issue.record("expected readFailed, got \(error)")
        return
      }
      #expect(path == url.path)
    }
    do {
      try SafeTensorsFile.write([:], to: url)
      Issue.record("expected writeFailed")
    } catch {
      guard case .writeFailed = error else {
        Issue.record("expected writeFailed, got \(error)")
        return
      }
    }
  }
}

@Suite("safetensors malformed input")
struct SafeTensorsMalformedTests {
  /// One F32 tensor "a" of shape [2] at [0, 8] in an 8-byte buffer, plus whatever `extra` adds.
  func file(_ entries: String, buffer: Int) -> Data {
    safetensorsBytes(header: "{\(entries)}", buffer: Array(repeating: 0, count: buffer))
  }

  func f32(_ name: String, shape: String, offsets: String) -> String {
    #""\#(name)":{"dtype":"F32","shape":\#(shape),"data_offsets":\#(offsets)}"#
  }

  @Test("files too small for the length field")
  func tooSmall() {
    #expect(safetensorsError(Data()) == .fileTooSmall(size: 0))
    #expect(safetensorsError(Data([1, 0, 0])) == .fileTooSmall(size: 3))
  }

  @Test("header length past the end of the file")
  func headerPastEnd() {
    let data = safetensorsBytes(header: "{}", length: 1000)
    let error = safetensorsError(data)
    #expect(error == .headerPastEndOfFile(headerLength: 1000, fileSize: 10))
    #expect(error?.description.contains("1000") == true && error?.description.contains("10") == true)
    #expect(
      safetensorsError(safetensorsBytes(header: "{}", length: 3)) == .headerPastEndOfFile(headerLength: 3, fileSize: 10)
    )
  }

  @Test("oversized header length")
  func oversizedHeader() {
    #expect(
      safetensorsError(safetensorsBytes(header: "{}", length: 200_000_000))
        == .headerTooLarge(length: 200_000_000, limit: 100_000_000))
    #expect(
      safetensorsError(safetensorsBytes(header: "{}", length: UInt64.max))
        == .headerTooLarge(length: UInt64.max, limit: 100_000_000))
    // The cap is a parameter.
    let valid = safetensorsBytes(header: "{}      ")
    #expect(safetensorsError(valid, maxHeaderLength: 4) == .headerTooLarge(length: 8, limit: 4))
    #expect(safetensorsError(valid, maxHeaderLength: 8) == nil)
  }

  @Test(
    "invalid JSON",
    arguments: [
      "", "{", "{\"a\":", "[1,", "{\"a\" 1}", "{'a': 1}", "{\"a\":{\"dtype\":\"F32\",}}", "{} x", "nul",
      "{\"a\":1.}", "{\"a\":01}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"tab\there\"}", "{\"a\":-}",
    ])
  func invalidJSON(header: String) {
    let error = safetensorsError(safetensorsBytes(header: header))
    guard case .invalidJSON(let reason, let offset) = error else {
      Issue.record("expected invalidJSON for \(header.debugDescription), got \(String(describing: error))")
      return
    }
    #expect(!reason.isEmpty)
    #expect(offset >= 8 && offset <= 8 + header.utf8.count)
  }

  @Test("invalid UTF-8, non-object header, deep nesting")
  func structure() {
    var bytes = Array(safetensorsBytes(header: #"{"a?":1}"#))
    bytes[11] = 0xFF  // the '?'
    #expect(safetensorsError(Data(bytes)) == .headerNotUTF8)
    #expect(safetensorsError(safetensorsBytes(header: "[]")) == .headerNotAnObject(found: "array"))
    #expect(safetensorsError(safetensorsBytes(header: "\"x\"")) == .headerNotAnObject(found: "string"))
    let deep = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
    guard case .invalidJSON = safetensorsError(safetensorsBytes(header: deep)) else {
      Issue.record("deep nesting should be invalid JSON")
      return
    }
  }

  @Test("unknown and unsupported dtypes are refused by name")
  func dtypes() {
    func withDType(_ dtype: String) -> Data {
      file(#""w":{"dtype":"\#(dtype)","shape":[2],"data_offsets":[0,4]}"#, buffer: 4)
    }
    #expect(safetensorsError(withDType("Q7")) == .unknownDType(tensor: "w", dtype: "Q7"))
    #expect(safetensorsError(withDType("f32")) == .unknownDType(tensor: "w", dtype: "f32"))
    for name in ["F16", "BF16", "U8", "BOOL", "F8_E4M3"] {
      let error = safetensorsError(withDType(name))
      #expect(error == .unsupportedDType(tensor: "w", dtype: name))
      #expect(error?.description.contains(name) == true)
    }
  }

  @Test("offsets beyond the buffer or reversed")
  func offsetsOutOfRange() {
    let error = safetensorsError(file(f32("a", shape: "[25]", offsets: "[0,100]"), buffer: 24))
    #expect(error == .offsetsOutOfRange(tensor: "a", begin: 0, end: 100, bufferSize: 24))
    #expect(error?.description.contains("[0, 100]") == true && error?.description.contains("24") == true)
    #expect(
      safetensorsError(file(f32("a", shape: "[0]", offsets: "[8,4]"), buffer: 8))
        == .invalidOffsets(tensor: "a", begin: 8, end: 4))
    #expect(
      safetensorsError(file(f32("a", shape: "[2]", offsets: "[18446744073709551615,18446744073709551623]"), buffer: 8))
        == .invalidTensorInfo(tensor: "a", reason: "the data offset 18446744073709551615 is too large"))
  }

  @Test("overlapping tensors")
  func overlapping() {
    let entries = f32("a", shape: "[4]", offsets: "[0,16]") + "," + f32("b", shape: "[4]", offsets: "[8,24]")
    let error = safetensorsError(file(entries, buffer: 24))
    #expect(error == .overlappingTensors(first: "a", firstOffsets: [0, 16], second: "b", secondOffsets: [8, 24]))
    #expect(error?.description.contains("'a'") == true && error?.description.contains("'b'") == true)
    // The same range twice.
    let same = f32("x", shape: "[2]", offsets: "[0,8]") + "," + f32("y", shape: "[2]", offsets: "[0,8]")
    #expect(
      safetensorsError(file(same, buffer: 8))
        == .overlappingTensors(first: "x", firstOffsets: [0, 8], second: "y", secondOffsets: [0, 8]))
  }

  @Test("gaps, leading and trailing bytes not covered by any tensor")
  func uncovered() {
    let gap = f32("a", shape: "[2]", offsets: "[0,8]") + "," + f32("b", shape: "[2]", offsets: "[16,24]")
    let error = safetensorsError(file(gap, buffer: 24))
    #expect(error == .uncoveredBytes(begin: 8, end: 16, after: "a", before: "b"))
    #expect(error?.description.contains("8..<16") == true)
    #expect(
      safetensorsError(file(f32("a", shape: "[2]", offsets: "[0,8]"), buffer: 12))
        == .uncoveredBytes(begin: 8, end: 12, after: "a", before: nil))
    #expect(
      safetensorsError(file(f32("a", shape: "[2]", offsets: "[4,12]"), buffer: 12))
        == .uncoveredBytes(begin: 0, end: 4, after: nil, before: "a"))
    #expect(safetensorsError(file("", buffer: 3)) == .uncoveredBytes(begin: 0, end: 3, after: nil, before: nil))
  }

  @Test("byte count that does not match the shape")
  func byteCountMismatch() {
    let error = safetensorsError(file(f32("a", shape: "[3]", offsets: "[0,16]"), buffer: 16))
    #expect(error == .byteCountMismatch(tensor: "a", dtype: .float32, shape: [3], expected: 12, actual: 16))
    #expect(error?.description.contains("12") == true && error?.description.contains("16") == true)
  }

  @Test("shape entries must be non-negative integers")
  func shapes() {
    for shape in ["[-1]", "[2.0]", "[1e1]", "\"2\"", "[[2]]", "[null]", "[true]", "[-0]"] {
      #expect(
        safetensorsError(file(f32("a", shape: shape, offsets: "[0,8]"), buffer: 8))
          == .invalidShape(tensor: "a", found: shape), "\(shape)")
    }
    #expect(
      safetensorsError(file(f32("a", shape: "{}", offsets: "[0,8]"), buffer: 8))
        == .invalidShape(tensor: "a", found: "{…} (0 members)"))
    guard
      case .shapeOverflow(tensor: "a", _) = safetensorsError(
        file(f32("a", shape: "[4294967296,4294967296]", offsets: "[0,8]"), buffer: 8))
    else {
      Issue.record("expected shapeOverflow")
      return
    }
    guard
      case .shapeOverflow(tensor: "a", _) = safetensorsError(
        file(f32("a", shape: "[99999999999999999999]", offsets: "[0,8]"), buffer: 8))
    else {
      Issue.record("expected shapeOverflow")
      return
    }
  }

  @Test("wrong types and missing fields in tensor entries")
  func tensorInfo() {
    func reason(_ entry: String, buffer: Int = 8) -> String? {
      guard case .invalidTensorInfo(tensor: "a", let reason) = safetensorsError(file(#""a":\#(entry)"#, buffer: buffer))
      else { return nil }
      return reason
    }
    #expect(reason("[1]") != nil)
    #expect(reason(#"{"dtype":32,"shape":[2],"data_offsets":[0,8]}"#) != nil)
    #expect(reason(#"{"shape":[2],"data_offsets":[0,8]}"#) == #"missing "dtype""#)
    #expect(reason(#"{"dtype":"F32","data_offsets":[0,8]}"#) == #"missing "shape""#)
    #expect(reason(#"{"dtype":"F32","shape":[2]}"#) == #"missing "data_offsets""#)
    #expect(reason(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}"#) != nil)
    #expect(reason(#"{"dtype":"F32","shape":[2],"data_offsets":[0]}"#) != nil)
    #expect(reason(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}"#) != nil)
    #expect(reason(#"{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}"#) != nil)
    #expect(reason(#"{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}"#) != nil)
    // Unknown fields are ignored, as in the reference implementation.
    #expect(safetensorsError(file(#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":[]}"#, buffer: 8)) == nil)
  }

  @Test("duplicate tensor names")
  func duplicates() {
    let entries = f32("a", shape: "[1]", offsets: "[0,4]") + "," + f32("a", shape: "[1]", offsets: "[4,8]")
    #expect(safetensorsError(file(entries, buffer: 8)) == .duplicateTensorName("a"))
  }

  @Test("metadata must map strings to strings")
  func metadata() throws {
    func error(_ metadata: String) -> SafeTensorsError? {
      safetensorsError(safetensorsBytes(header: #"{"__metadata__":\#(metadata)}"#))
    }
    guard case .invalidMetadata = error(#"{"a":1}"#) else {
      Issue.record("number value")
      return
    }
    guard case .invalidMetadata = error(#"[]"#) else {
      Issue.record("array")
      return
    }
    guard case .invalidMetadata = error(#"{"a":"x","a":"y"}"#) else {
      Issue.record("duplicate key")
      return
    }
    #expect(error("null") == nil)
    #expect(
      try SafeTensorsFile.read(data: safetensorsBytes(header: #"{"__metadata__":{"k":"\u00e9\ud83d\ude00"}}"#))
        .metadata == ["k": "é😀"])
    #expect(
      safetensorsError(safetensorsBytes(header: #"{"__metadata__":{},"__metadata__":{}}"#))
        == .duplicateTensorName("__metadata__"))
  }

  @Test("NaN is rejected when converting a stored tensor to a Matrix")
  func nanToMatrix() throws {
    let bytes = float32Bytes([0, 1, 2, 3, .nan, 5])
    let data = file(f32("w", shape: "[2,3]", offsets: "[0,24]"), buffer: 0) + Data(bytes)
    let tensor = try SafeTensorsFile.read(data: data).tensor(named: "w")
    #expect(tensor.shape == [2, 3])
    #expect(
      tensorError { () throws(TensorError) in try tensor.matrix(as: Float.self) }
        == .nonFiniteValue(index: 4, row: 1, column: 1, value: "nan"))
  }

  @Test("every error has a descriptive message")
  func descriptions() {
    let errors: [SafeTensorsError] = [
      .fileTooSmall(size: 2), .headerTooLarge(length: 9, limit: 8), .headerPastEndOfFile(headerLength: 9, fileSize: 4),
      .headerNotUTF8, .invalidJSON(reason: "r", offset: 9), .headerNotAnObject(found: "array"),
      .duplicateTensorName("a"), .invalidMetadata(reason: "r"), .invalidTensorInfo(tensor: "a", reason: "r"),
      .unsupportedDType(tensor: "a", dtype: "F16"), .unknownDType(tensor: "a", dtype: "Z"),
      .invalidShape(tensor: "a", found: "[-1]"), .shapeOverflow(tensor: "a", shape: "[1]"),
      .invalidOffsets(tensor: "a", begin: 2, end: 1), .offsetsOutOfRange(tensor: "a", begin: 0, end: 9, bufferSize: 8),
      .byteCountMismatch(tensor: "a", dtype: .int64, shape: [1], expected: 8, actual: 4),
      .overlappingTensors(first: "a", firstOffsets: [0, 8], second: "b", secondOffsets: [4, 8]),
      .uncoveredBytes(begin: 0, end: 1, after: nil, before: "a"), .reservedTensorName("__metadata__"),
      .tensorNotFound(name: "a", available: []), .readFailed(path: "/p", reason: "r"),
      .writeFailed(path: "/p", reason: "r"),
    ]
    for e in errors { #expect(e.description.count > 20, "\(e)") }
  }
}
