import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

/// Files written by NumPy and by a by-hand safetensors writer; see Fixtures/make_fixtures.py.
@Suite("Fixtures written by NumPy and Python")
struct FixtureTests {
  @Test("NumPy files of every supported dtype are read with the right shape and values")
  func numpyFiles() throws {
    let f32 = try NumPyFile.read(from: fixtureURL("f32_2x3.npy"))
    #expect(f32 == (try Tensor(shape: [2, 3], storage: .float32([-1, -0.5, 0, 0.5, 1, 1.5]))))
    #expect(try f32.matrix(as: Float.self) == Matrix(rowArrays: [[-1, -0.5, 0], [0.5, 1, 1.5]]))

    let f64 = try NumPyFile.read(from: fixtureURL("f64_2x3x4.npy"))
    #expect(f64 == (try Tensor(shape: [2, 3, 4], storage: .float64((0..<24).map { Double($0) / 8 }))))

    let i32 = try NumPyFile.read(from: fixtureURL("i32_vector.npy"))
    #expect(i32 == (try Tensor(shape: [5], storage: .int32([-3, 0, 7, .max, .min]))))

    let i64 = try NumPyFile.read(from: fixtureURL("i64_scalar.npy"))
    #expect(i64 == (try Tensor(shape: [], storage: .int64([-9_007_199_254_740_993]))))
    #expect(try i64.int64Values() == [-9_007_199_254_740_993])

    let empty = try NumPyFile.read(from: fixtureURL("f64_empty_0x3.npy"))
    #expect(empty == (try Tensor(shape: [0, 3], storage: .float64([]))))
    #expect(try empty.matrix(as: Double.self) == Matrix(rows: 0, columns: 3))
  }

  @Test("format versions 2.0 and 3.0 written by NumPy are read")
  func numpyVersions() throws {
    let v2Data = try fixtureData("f32_v2.npy")
    #expect(v2Data[6] == 2)
    #expect(try NumPyFile.read(data: v2Data) == (try Tensor(shape: [4], storage: .float32([0, 1, 2, 3]))))
    let v3Data = try fixtureData("f64_v3.npy")
    #expect(v3Data[6] == 3)
    #expect(try NumPyFile.read(data: v3Data) == (try Tensor(shape: [3], storage: .float64([-1.25, -0.25, 0.75]))))
  }

  @Test(
    "encoding reproduces numpy.save byte for byte",
    arguments: ["f32_2x3.npy", "f64_2x3x4.npy", "i32_vector.npy", "i64_scalar.npy", "f64_empty_0x3.npy"])
  func byteIdentical(name: String) throws {
    let original = try fixtureData(name)
    #expect(NumPyFile.encode(try NumPyFile.read(data: original)) == original)
  }

  @Test("NumPy files this reader must refuse")
  func refusedNumPyFiles() throws {
    #expect(npyError(try fixtureData("f32_fortran.npy")) == .fortranOrderNotSupported)
    #expect(npyError(try fixtureData("f4_bigendian.npy")) == .unsupportedDType(descr: ">f4"))
    let object = npyError(try fixtureData("object.npy"))
    #expect(object == .unsupportedDType(descr: "|O"))
    #expect(object?.description.contains("pickled") == true)
  }

  @Test("the Python-written safetensors file is read with all tensors and metadata")
  func safetensorsFile() throws {
    let file = try SafeTensorsFile.read(from: fixtureURL("example.safetensors"))
    #expect(file.names == ["bias", "count", "empty", "index", "weight"])
    #expect(file.metadata == ["format": "pt", "note": "fixture"])
    #expect(file["weight"] == (try Tensor(shape: [2, 3], storage: .float32([0, 0.25, 0.5, 0.75, 1, 1.25]))))
    #expect(file["bias"] == (try Tensor(shape: [3], storage: .float64([0.5, -1.5, 2.25]))))
    #expect(file["index"] == (try Tensor(shape: [4], storage: .int64([0, 1, -1, 1 << 40]))))
    #expect(file["count"] == (try Tensor(shape: [], storage: .int32([42]))))
    #expect(file["empty"] == (try Tensor(shape: [0, 4], storage: .float32([]))))
    #expect(try file.tensor(named: "weight").matrix(as: Double.self).rows == 2)

    // Re-encoding (sorted, compact header) reads back to the same content.
    #expect(try SafeTensorsFile.read(data: SafeTensorsFile.encode(file)) == file)
  }
}
