import AttractorLinearAlgebra

/// The element type of a ``Tensor``.
///
/// These are the four element types both file formats in this module read and write. Each has a
/// fixed little-endian on-disk width given by ``byteWidth``.
public enum DType: String, CaseIterable, Sendable, CustomStringConvertible {
  /// IEEE 754 binary32 (`Float`); NumPy `<f4`, safetensors `F32`.
  case float32
  /// IEEE 754 binary64 (`Double`); NumPy `<f8`, safetensors `F64`.
  case float64
  /// Signed 32-bit integer (`Int32`); NumPy `<i4`, safetensors `I32`.
  case int32
  /// Signed 64-bit integer (`Int64`); NumPy `<i8`, safetensors `I64`.
  case int64

  /// Size of one element in bytes (4 or 8).
  public var byteWidth: Int {
    switch self {
    case .float32, .int32: 4
    case .float64, .int64: 8
    }
  }

  /// Whether the element type is a floating-point type.
  public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

  /// The little-endian NumPy type descriptor (`"<f4"`, `"<f8"`, `"<i4"`, `"<i8"`).
  public var numpyDescriptor: String {
    switch self {
    case .float32: "<f4"
    case .float64: "<f8"
    case .int32: "<i4"
    case .int64: "<i8"
    }
  }

  /// The safetensors dtype name (`"F32"`, `"F64"`, `"I32"`, `"I64"`).
  public var safeTensorsName: String {
    switch self {
    case .float32: "F32"
    case .float64: "F64"
    case .int32: "I32"
    case .int64: "I64"
    }
  }

  /// The NumPy name of the type (`"float32"`, …); same as `rawValue`.
  public var description: String { rawValue }
}

/// A dense, row-major (C-order) n-dimensional array tagged with its element type.
///
/// `Tensor` is the in-memory form of one array in a `.npy` file or one entry of a `.safetensors`
/// file. Its ``shape`` may have any rank, including 0 (a scalar, one element) and dimensions of
/// size 0 (no elements). The element at multi-index `(i₀, …, iₖ)` is stored at the usual
/// row-major flat position `((i₀·d₁ + i₁)·d₂ + …)·dₖ + iₖ`.
///
/// The invariant `storage.count == shape.reduce(1, *)` (with every dimension non-negative) is
/// checked by every initializer, so a `Tensor` value is always consistent.
///
/// Equality compares shape and elements with `==`, so a tensor holding NaN is not equal to
/// itself.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
  /// The elements of a ``Tensor``, in row-major order, in their stored element type.
  public enum Storage: Equatable, Sendable {
    /// `Float` elements (``DType/float32``).
    case float32([Float])
    /// `Double` elements (``DType/float64``).
    case float64([Double])
    /// `Int32` elements (``DType/int32``).
    case int32([Int32])
    /// `Int64` elements (``DType/int64``).
    case int64([Int64])

    /// The element type.
    public var dtype: DType {
      switch self {
      case .float32: .float32
      case .float64: .float64
      case .int32: .int32
      case .int64: .int64
      }
    }

    /// Number of elements.
    public var count: Int {
      switch self {
      case .float32(let v): v.count
      case .float64(let v): v.count
      case .int32(let v): v.count
      case .int64(let v): v.count
      }
    }
  }

  /// The dimensions, outermost first. `[]` is a scalar; `[n]` a vector; `[rows, columns]` a matrix.
  public let shape: [Int]
  /// The elements in row-major order.
  public let storage: Storage

  /// A tensor over existing row-major storage.
  ///
  /// Validates that every dimension is non-negative, that the product of the dimensions does not
  /// overflow `Int`, and that it equals `storage.count`.
  ///
  /// - Throws: ``TensorError/negativeDimension(shape:)``, ``TensorError/shapeOverflow(shape:)`` or
  ///   ``TensorError/elementCountMismatch(shape:expected:actual:)``.
  public init(shape: [Int], storage: Storage) throws(TensorError) {
    let expected = try Tensor.elementCount(of: shape)
    guard expected == storage.count else {
      throw .elementCountMismatch(shape: shape, expected: expected, actual: storage.count)
    }
    self.shape = shape
    self.storage = storage
  }

  /// Internal initializer for callers that have already validated the invariant.
  init(validatedShape shape: [Int], storage: Storage) {
    self.shape = shape
    self.storage = storage
  }

  /// A 2-D tensor `[rows, columns]` holding the matrix's elements.
  ///
  /// A `Matrix<Float>` becomes ``DType/float32`` and a `Matrix<Double>` becomes
  /// ``DType/float64``. Any other `LinearAlgebraScalar` is widened to ``DType/float64``.
  public init<S: LinearAlgebraScalar>(_ matrix: Matrix<S>) {
    let storage: Storage
    if S.self == Float.self {
      storage = .float32(unsafeBitCast(matrix.elements, to: [Float].self))
    } else if S.self == Double.self {
      storage = .float64(unsafeBitCast(matrix.elements, to: [Double].self))
    } else {
      storage = .float64(matrix.elements.map { Double($0) })
    }
    self.init(validatedShape: [matrix.rows, matrix.columns], storage: storage)
  }

  /// The element type.
  public var dtype: DType { storage.dtype }

  /// Number of dimensions (`shape.count`).
  public var rank: Int { shape.count }

  /// Number of elements (the product of the dimensions; 1 for a scalar).
  public var elementCount: Int { storage.count }

  /// Size of the elements in bytes (`elementCount × dtype.byteWidth`).
  public var byteCount: Int { storage.count * storage.dtype.byteWidth }

  /// A short summary such as `Tensor(float32, shape: [2, 3])`.
  public var description: String {
    "Tensor(\(dtype), shape: \(shape))"
  }

  /// The product of `shape`, checking for negative dimensions and overflow.
  static func elementCount(of shape: [Int]) throws(TensorError) -> Int {
    for d in shape where d < 0 { throw .negativeDimension(shape: shape) }
    guard let product = checkedProduct(shape) else { throw .shapeOverflow(shape: shape) }
    return product
  }

  // MARK: - Conversions

  /// The tensor as a `rows × columns` matrix of `S`.
  ///
  /// A 2-D tensor `[r, c]` becomes an `r × c` matrix; a 1-D tensor `[n]` becomes a `1 × n` matrix
  /// (one row). Floating-point elements are converted to `S` (rounding to nearest); integer
  /// elements are converted to the nearest representable `S`.
  ///
  /// NaN and ±infinity are refused here, where data enters the framework, so that they cannot
  /// propagate silently into an energy computation. A finite `float64` value too large for `Float`
  /// is refused as well rather than becoming infinity.
  ///
  /// - Throws: ``TensorError/notAMatrix(shape:)`` for any rank other than 1 or 2;
  ///   ``TensorError/nonFiniteValue(index:row:column:value:)`` naming the first NaN or infinite
  ///   element; ``TensorError/notRepresentable(index:row:column:value:)`` for the first element
  ///   that overflows `S`.
  public func matrix<S: LinearAlgebraScalar>(as type: S.Type = S.self) throws(TensorError) -> Matrix<S> {
    let rows: Int
    let columns: Int
    switch shape.count {
    case 2:
      rows = shape[0]
      columns = shape[1]
    case 1:
      rows = 1
      columns = shape[0]
    default:
      throw .notAMatrix(shape: shape)
    }
    let elements: [S]
    if S.self == Float.self {
      let narrow = try floatElements(columns: columns)
      elements = unsafeBitCast(narrow, to: [S].self)
    } else if S.self == Double.self {
      let wide = try doubleElements(columns: columns)
      elements = unsafeBitCast(wide, to: [S].self)
    } else {
      let wide = try doubleElements(columns: columns)
      var converted: [S] = []
      converted.reserveCapacity(wide.count)
      for (i, x) in wide.enumerated() {
        let y = S(x)
        guard y.isFinite else { throw Tensor.notRepresentable(i, columns: columns, value: x) }
        converted.append(y)
      }
      elements = converted
    }
    return Matrix(rows: rows, columns: columns, elements: elements)
  }

  /// The elements of an integer tensor, widened to `Int64`, in row-major order (any rank).
  ///
  /// - Throws: ``TensorError/notAnIntegerTensor(dtype:)`` for a floating-point tensor.
  public func int64Values() throws(TensorError) -> [Int64] {
    switch storage {
    case .int32(let v): return v.map { Int64($0) }
    case .int64(let v): return v
    case .float32, .float64: throw .notAnIntegerTensor(dtype: dtype)
    }
  }

  private static func nonFinite(_ index: Int, columns: Int, value: Double) -> TensorError {
    let (row, column) = columns > 0 ? (index / columns, index % columns) : (0, index)
    return .nonFiniteValue(index: index, row: row, column: column, value: "\(value)")
  }

  private static func notRepresentable(_ index: Int, columns: Int, value: Double) -> TensorError {
    let (row, column) = columns > 0 ? (index / columns, index % columns) : (0, index)
    return .notRepresentable(index: index, row: row, column: column, value: "\(value)")
  }

  private func floatElements(columns: Int) throws(TensorError) -> [Float] {
    switch storage {
    case .float32(let v):
      for (i, x) in v.enumerated() where !x.isFinite {
        throw Tensor.nonFinite(i, columns: columns, value: Double(x))
      }
      return v
    case .float64(let v):
      var out: [Float] = []
      out.reserveCapacity(v.count)
      for (i, x) in v.enumerated() {
        guard x.isFinite else { throw Tensor.nonFinite(i, columns: columns, value: x) }
        let y = Float(x)
        guard y.isFinite else { throw Tensor.notRepresentable(i, columns: columns, value: x) }
        out.append(y)
      }
      return out
    case .int32(let v):
      return v.map { Float($0) }
    case .int64(let v):
      return v.map { Float($0) }
    }
  }

  private func doubleElements(columns: Int) throws(TensorError) -> [Double] {
    switch storage {
    case .float32(let v):
      var out: [Double] = []
      out.reserveCapacity(v.count)
      for (i, x) in v.enumerated() {
        guard x.isFinite else { throw Tensor.nonFinite(i, columns: columns, value: Double(x)) }
        out.append(Double(x))
      }
      return out
    case .float64(let v):
      for (i, x) in v.enumerated() where !x.isFinite {
        throw Tensor.nonFinite(i, columns: columns, value: x)
      }
      return v
    case .int32(let v):
      return v.map { Double($0) }
    case .int64(let v):
      return v.map { Double($0) }
    }
  }
}

/// Errors from constructing or converting a ``Tensor``.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A dimension in `shape` is negative.
  case negativeDimension(shape: [Int])
  /// The product of the dimensions of `shape` overflows `Int`.
  case shapeOverflow(shape: [Int])
  /// The storage holds `actual` elements but `shape` needs `expected`.
  case elementCountMismatch(shape: [Int], expected: Int, actual: Int)
  /// A matrix was requested from a tensor whose rank is neither 1 nor 2.
  case notAMatrix(shape: [Int])
  /// The element at flat index `index` (matrix position `row`, `column`) is NaN or infinite;
  /// `value` is its printed form (`"nan"`, `"inf"`, `"-inf"`).
  case nonFiniteValue(index: Int, row: Int, column: Int, value: String)
  /// The finite element at flat index `index` (matrix position `row`, `column`) overflows the
  /// requested scalar type; `value` is its printed form.
  case notRepresentable(index: Int, row: Int, column: Int, value: String)
  /// Integer values were requested from a floating-point tensor.
  case notAnIntegerTensor(dtype: DType)

  /// A one-sentence explanation naming the offending shape, index or type.
  public var description: String {
    switch self {
    case .negativeDimension(let shape):
      "Tensor shape \(shape) has a negative dimension"
    case .shapeOverflow(let shape):
      "Tensor shape \(shape) has more elements than Int can count"
    case .elementCountMismatch(let shape, let expected, let actual):
      "Tensor shape \(shape) needs \(expected) elements, but the storage holds \(actual)"
    case .notAMatrix(let shape):
      "Tensor of shape \(shape) (rank \(shape.count)) cannot be read as a matrix: only rank 1 or 2 can"
    case .nonFiniteValue(let index, let row, let column, let value):
      "Tensor element \(index) (row \(row), column \(column)) is \(value); non-finite values are refused"
    case .notRepresentable(let index, let row, let column, let value):
      "Tensor element \(index) (row \(row), column \(column)) = \(value) overflows the requested scalar type"
    case .notAnIntegerTensor(let dtype):
      "Integer values were requested from a \(dtype) tensor"
    }
  }
}
