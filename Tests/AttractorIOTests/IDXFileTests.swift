import Foundation
import Testing
@testable import AttractorIO

@Suite("IDX files")
struct IDXFileTests {
  func header(_ code: UInt8, _ shape: [UInt32]) -> Data {
    var d = Data([0, 0, code, UInt8(shape.count)])
    for s in shape { withUnsafeBytes(of: s.bigEndian) { d.append(contentsOf: $0) } }
    return d
  }

  @Test("unsigned bytes round-trip with their shape")
  func roundTrip() throws {
    let values: [UInt8] = (0..<24).map { UInt8($0 * 10) }
    let tensor = try IDXFile.read(data: IDXFile.encodeUnsignedBytes(values, shape: [2, 3, 4]))
    #expect(tensor.shape == [2, 3, 4])
    #expect(tensor.storage == .int32(values.map { Int32($0) }))
  }

  @Test("big-endian i8, i16, i32, f32 and f64 elements decode")
  func types() throws {
    var i16 = header(0x0B, [2])
    for v: Int16 in [-2, 300] { withUnsafeBytes(of: v.bigEndian) { i16.append(contentsOf: $0) } }
    #expect(try IDXFile.read(data: i16).storage == .int32([-2, 300]))
    var i8 = header(0x09, [2])
    i8.append(contentsOf: [0xFF, 0x05])
    #expect(try IDXFile.read(data: i8).storage == .int32([-1, 5]))
    var i32 = header(0x0C, [1])
    withUnsafeBytes(of: Int32(-70000).bigEndian) { i32.append(contentsOf: $0) }
    #expect(try IDXFile.read(data: i32).storage == .int32([-70000]))
    var f32 = header(0x0D, [1, 2])
    for v: Float in [1.5, -2] { withUnsafeBytes(of: v.bitPattern.bigEndian) { f32.append(contentsOf: $0) } }
    #expect(try IDXFile.read(data: f32).storage == .float32([1.5, -2]))
    var f64 = header(0x0E, [1])
    withUnsafeBytes(of: (0.25 as Double).bitPattern.bigEndian) { f64.append(contentsOf: $0) }
    #expect(try IDXFile.read(data: f64).storage == .float64([0.25]))
  }

  @Test("malformed files are refused with the right error")
  func malformed() {
    #expect(throws: IDXError.truncatedHeader(expected: 4, actual: 2)) { try IDXFile.read(data: Data([0, 0])) }
    #expect(throws: IDXError.badMagic(found: [1, 0])) { try IDXFile.read(data: Data([1, 0, 8, 1, 0, 0, 0, 0])) }
    #expect(throws: IDXError.unknownTypeCode(0x0A)) { try IDXFile.read(data: header(0x0A, [1]) + Data([0])) }
    #expect(throws: IDXError.invalidRank(0)) { try IDXFile.read(data: Data([0, 0, 8, 0])) }
    #expect(throws: IDXError.invalidRank(17)) { try IDXFile.read(data: Data([0, 0, 8, 17])) }
    #expect(throws: IDXError.truncatedHeader(expected: 12, actual: 8)) {
      try IDXFile.read(data: Data([0, 0, 8, 2, 0, 0, 0, 1]))
    }
    #expect(throws: IDXError.truncatedData(expected: 6, actual: 5)) {
      try IDXFile.read(data: header(0x08, [2, 3]) + Data(count: 5))
    }
    #expect(throws: IDXError.trailingData(expected: 6, actual: 7)) {
      try IDXFile.read(data: header(0x08, [2, 3]) + Data(count: 7))
    }
    let huge = header(0x0E, [UInt32.max, UInt32.max, UInt32.max])
    #expect(throws: IDXError.shapeOverflow(shape: [Int(UInt32.max), Int(UInt32.max), Int(UInt32.max)])) {
      try IDXFile.read(data: huge)
    }
    var nan = header(0x0D, [1])
    withUnsafeBytes(of: Float.nan.bitPattern.bigEndian) { nan.append(contentsOf: $0) }
    #expect(throws: IDXError.nonFiniteValue(index: 0)) { try IDXFile.read(data: nan) }
    do {
      _ = try IDXFile.read(from: URL(fileURLWithPath: "/nonexistent/x.idx"))
      Issue.record("reading a missing file did not throw")
    } catch {
      guard case .readFailed(let path, _) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(path == "/nonexistent/x.idx")
    }
  }

  static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Data/mnist")

  @Test(
    "the real MNIST files written by Scripts/fetch_mnist.py load with their standard shapes",
    .enabled(if: FileManager.default.fileExists(atPath: mnist.appendingPathComponent("t10k-labels-idx1-ubyte").path)))
  func realMNIST() throws {
    let labels = try IDXFile.read(from: Self.mnist.appendingPathComponent("t10k-labels-idx1-ubyte"))
    #expect(labels.shape == [10_000])
    let counts = try labels.int64Values().reduce(into: [Int](repeating: 0, count: 10)) { $0[Int($1)] += 1 }
    #expect(counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    let images = try IDXFile.read(from: Self.mnist.appendingPathComponent("t10k-images-idx3-ubyte"))
    #expect(images.shape == [10_000, 28, 28])
  }
}
