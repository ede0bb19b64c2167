import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("Memory-mapped .npy matrices")
struct MappedNumPyMatrixTests {
  @Test("rows read in place (Float file) or converted (Double read as Float), before and after release")
  func readsRows() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let m = Matrix<Float>(rows: 3000, columns: 7) { i, j in Float(i) * 0.5 - Float(j) }
    let url = dir.file("p.npy")
    try NumPyFile.write(Tensor(m), to: url)
    let mapped = try MappedNumPyMatrix(path: url.path)
    #expect(mapped.rows == 3000 && mapped.columns == 7 && mapped.dtype == .float32)
    var buffer: [Float] = []
    let sum = mapped.withRows(1000..<1002, as: Float.self, buffer: &buffer) { p in (0..<14).reduce(0) { $0 + p[$1] } }
    #expect(sum == (0..<7).reduce(Float(0)) { $0 + m[1000, $1] + m[1001, $1] })
    #expect(buffer.isEmpty)  // in place: no copy
    mapped.release(rows: 0..<3000)
    #expect(mapped.row(2999, as: Float.self) == m.row(2999))

    let wide = Matrix<Double>(rows: 5, columns: 3) { i, j in Double(i) / 3 + Double(j) }
    try NumPyFile.write(Tensor(wide), to: dir.file("w.npy"))
    let mappedWide = try MappedNumPyMatrix(path: dir.file("w.npy").path)
    #expect(mappedWide.row(4, as: Float.self) == wide.row(4).map { Float($0) })
  }

  @Test("validated as the reader validates: truncated, trailing bytes, 1-D, integers, missing file")
  func refusesBadFiles() throws {
    let dir = try TemporaryDirectory()
    defer { dir.cleanUp() }
    let good = NumPyFile.encode(Tensor(Matrix<Float>(rows: 4, columns: 2, repeating: 1)))
    try good.prefix(good.count - 3).write(to: dir.file("short.npy"))
    try (good + Data([0])).write(to: dir.file("long.npy"))
    try NumPyFile.encode(try Tensor(shape: [4], storage: .float32([1, 2, 3, 4]))).write(to: dir.file("vector.npy"))
    try NumPyFile.encode(try Tensor(shape: [2, 2], storage: .int32([1, 2, 3, 4]))).write(to: dir.file("ints.npy"))
    try Data("not numpy".utf8).write(to: dir.file("text.npy"))
    func failure(_ name: String) -> MappedNumPyError? {
      do {
        _ = try MappedNumPyMatrix(path: dir.file(name).path)
        return nil
      } catch { return error }
    }
    let path = { (name: String) in dir.file(name).path }
    #expect(failure("short.npy") == .invalid(path: path("short.npy"), .truncatedData(expected: 32, actual: 29)))
    #expect(failure("long.npy") == .invalid(path: path("long.npy"), .trailingData(expected: 32, actual: 33)))
    #expect(failure("vector.npy") == .notAMatrix(path: path("vector.npy"), shape: [4]))
    #expect(failure("ints.npy") == .notFloat(path: path("ints.npy"), dtype: .int32))
    if case .invalid(_, .badMagic) = failure("text.npy") {} else { Issue.record("text file accepted") }
    if case .openFailed = failure("absent.npy") {} else { Issue.record("missing file accepted") }
  }
}
