import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("Tensor")
struct TensorTests {
  @Test("init validates the element count against the shape")
  func initValidation() throws {
    let t = try Tensor(shape: [2, 3], storage: .float32([1, 2, 3, 4, 5, 6]))
    #expect(t.dtype == .float32)
    #expect(t.rank == 2)
    #expect(t.elementCount == 6)
    #expect(t.byteCount == 24)
    #expect(t.description == "Tensor(float32, shape: [2, 3])")

    #expect(
      tensorError { () throws(TensorError) in try Tensor(shape: [2, 3], storage: .int32([1, 2])) }
        == .elementCountMismatch(shape: [2, 3], expected: 6, actual: 2))
    #expect(
      tensorError { () throws(TensorError) in try Tensor(shape: [-1, 3], storage: .int64([])) }
        == .negativeDimension(shape: [-1, 3]))
    #expect(
      tensorError { () throws(TensorError) in try Tensor(shape: [1 << 40, 1 << 40], storage: .float64([])) }
        == .shapeOverflow(shape: [1 << 40, 1 << 40]))
    // A scalar holds one element; an empty dimension holds none.
    #expect(try Tensor(shape: [], storage: .float64([2.5])).elementCount == 1)
    #expect(try Tensor(shape: [4, 0], storage: .float64([])).elementCount == 0)
  }

  @Test("Matrix<Float> and Matrix<Double> convert to tensors and back")
  func matrixConversions() throws {
    let mf = Matrix<Float>(rows: 2, columns: 3, elements: [1, -2, 3.5, 0, 1e-3, -7])
    let tf = Tensor(mf)
    #expect(tf.shape == [2, 3])
    #expect(tf.storage == .float32([1, -2, 3.5, 0, 1e-3, -7]))
    #expect(try tf.matrix(as: Float.self) == mf)
    let widened = try tf.matrix(as: Double.self)
    #expect(widened.elements == mf.elements.map(Double.init))

    let md = Matrix<Double>(rows: 3, columns: 2, elements: [0.1, 0.2, 0.3, -0.4, 1e10, 2])
    let td = Tensor(md)
    #expect(td.dtype == .float64)
    #expect(try td.matrix(as: Double.self) == md)
    #expect(try td.matrix(as: Float.self).elements == md.elements.map(Float.init))

    let empty = Matrix<Double>(rows: 0, columns: 4)
    #expect(try Tensor(empty).matrix(as: Double.self) == empty)
  }

  @Test("a 1-D tensor becomes a one-row matrix; other ranks are refused")
  func ranks() throws {
    let v = try Tensor(shape: [4], storage: .float64([1, 2, 3, 4]))
    let m = try v.matrix(as: Double.self)
    #expect(m.rows == 1 && m.columns == 4)

    for shape in [[], [2, 2, 1], [1, 1, 1, 1]] {
      let t = try Tensor(shape: shape, storage: .float32(Array(repeating: 0, count: shape.reduce(1, *))))
      #expect(tensorError { () throws(TensorError) in try t.matrix(as: Float.self) } == .notAMatrix(shape: shape))
    }
  }

  @Test("integer tensors convert to floating-point matrices and to Int64 values")
  func integers() throws {
    let t32 = try Tensor(shape: [2, 2], storage: .int32([1, -2, Int32.max, Int32.min]))
    #expect(try t32.matrix(as: Double.self).elements == [1, -2, Double(Int32.max), Double(Int32.min)])
    #expect(try t32.int64Values() == [1, -2, Int64(Int32.max), Int64(Int32.min)])
    let t64 = try Tensor(shape: [3], storage: .int64([Int64.max, 0, -5]))
    #expect(try t64.int64Values() == [Int64.max, 0, -5])
    #expect(try t64.matrix(as: Float.self).elements == [Float(Int64.max), 0, -5])

    let f = try Tensor(shape: [1], storage: .float32([1]))
    #expect(tensorError { () throws(TensorError) in try f.int64Values() } == .notAnIntegerTensor(dtype: .float32))
  }

  @Test("NaN and infinity are refused when converting to a matrix, naming the first bad index")
  func nonFiniteRefused() throws {
    let nan = try Tensor(shape: [2, 3], storage: .float32([0, 1, 2, 3, .nan, .infinity]))
    #expect(
      tensorError { () throws(TensorError) in try nan.matrix(as: Float.self) }
        == .nonFiniteValue(index: 4, row: 1, column: 1, value: "nan"))
    #expect(
      tensorError { () throws(TensorError) in try nan.matrix(as: Double.self) }
        == .nonFiniteValue(index: 4, row: 1, column: 1, value: "nan"))

    let inf = try Tensor(shape: [3], storage: .float64([0, -.infinity, .nan]))
    let error = tensorError { () throws(TensorError) in try inf.matrix(as: Double.self) }
    #expect(error == .nonFiniteValue(index: 1, row: 0, column: 1, value: "-inf"))
    #expect(error?.description.contains("element 1") == true)
    #expect(
      tensorError { () throws(TensorError) in try inf.matrix(as: Float.self) }
        == .nonFiniteValue(index: 1, row: 0, column: 1, value: "-inf"))

    // A finite Double that overflows Float is refused rather than turned into infinity.
    let big = try Tensor(shape: [1, 2], storage: .float64([1, 1e300]))
    #expect(
      tensorError { () throws(TensorError) in try big.matrix(as: Float.self) }
        == .notRepresentable(index: 1, row: 0, column: 1, value: "1e+300"))
    #expect(try big.matrix(as: Double.self).elements == [1, 1e300])
  }

  @Test("every error has a non-empty description")
  func descriptions() {
    let errors: [TensorError] = [
      .negativeDimension(shape: [-1]), .shapeOverflow(shape: [1, 2]),
      .elementCountMismatch(shape: [2], expected: 2, actual: 1), .notAMatrix(shape: [1, 2, 3]),
      .nonFiniteValue(index: 0, row: 0, column: 0, value: "nan"),
      .notRepresentable(index: 0, row: 0, column: 0, value: "1e300"), .notAnIntegerTensor(dtype: .float64),
    ]
    for e in errors { #expect(!e.description.isEmpty) }
    #expect(TensorError.notAMatrix(shape: [1, 2, 3]).description.contains("[1, 2, 3]"))
  }
}
