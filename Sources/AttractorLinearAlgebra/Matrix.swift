/// A dense, row-major matrix of `Float` or `Double`.
///
/// Element `(i, j)` is stored at `elements[i * columns + j]`. A batch of states is a matrix with
/// one state per row; this is the layout every protocol in the package uses.
///
/// `Matrix` has value semantics (copy on write through its array). The kernels that write into an
/// existing matrix (``multiply(_:_:transposeA:transposeB:alpha:beta:into:)``, ``softmaxRows()``)
/// reuse its storage, so a loop that owns its buffers does not allocate.
public struct Matrix<Scalar: LinearAlgebraScalar>: Equatable, Sendable, CustomStringConvertible {
  /// Number of rows.
  public private(set) var rows: Int
  /// Number of columns.
  public private(set) var columns: Int
  /// Row-major storage, `rows * columns` elements.
  public internal(set) var elements: [Scalar]

  /// A `rows × columns` matrix filled with `value`.
  public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative, got \(rows) × \(columns)")
    self.rows = rows
    self.columns = columns
    let count = rows * columns
    if value == 0 && value.sign == .plus {
      // All-zero bits are +0 for Float and Double: one memset, also where this generic code runs
      // unspecialised (Array(repeating:) then copies element by element through a witness table).
      self.elements = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
        UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
        initialized = count
      }
    } else {
      self.elements = Array(repeating: value, count: count)
    }
  }

  /// A matrix over existing row-major storage. `elements.count` must equal `rows * columns`.
  public init(rows: Int, columns: Int, elements: [Scalar]) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative, got \(rows) × \(columns)")
    precondition(
      elements.count == rows * columns,
      "Matrix \(rows) × \(columns) needs \(rows * columns) elements, got \(elements.count)")
    self.rows = rows
    self.columns = columns
    self.elements = elements
  }

  /// A matrix whose rows are the given arrays, which must all have the same length.
  public init(rowArrays: [[Scalar]]) {
    let columns = rowArrays.first?.count ?? 0
    precondition(rowArrays.allSatisfy { $0.count == columns }, "All rows must have the same length")
    self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
  }

  /// A matrix with `rows × columns` elements `generator(i, j)`.
  public init(rows: Int, columns: Int, generator: (Int, Int) throws -> Scalar) rethrows {
    self.init(rows: rows, columns: columns)
    for i in 0..<rows {
      for j in 0..<columns { elements[i * columns + j] = try generator(i, j) }
    }
  }

  /// The `n × n` identity.
  public static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m.elements[i * n + i] = 1 }
    return m
  }

  /// Whether the matrix is square.
  public var isSquare: Bool { rows == columns }

  /// `(rows, columns)`.
  public var shape: (rows: Int, columns: Int) { (rows, columns) }

  /// Element `(i, j)`.
  public subscript(i: Int, j: Int) -> Scalar {
    get {
      precondition(i >= 0 && i < rows && j >= 0 && j < columns, "Index (\(i), \(j)) out of range \(rows) × \(columns)")
      return elements[i * columns + j]
    }
    set {
      precondition(i >= 0 && i < rows && j >= 0 && j < columns, "Index (\(i), \(j)) out of range \(rows) × \(columns)")
      elements[i * columns + j] = newValue
    }
  }

  /// Row `i` as a new array.
  public func row(_ i: Int) -> [Scalar] {
    precondition(i >= 0 && i < rows, "Row \(i) out of range 0..<\(rows)")
    return Array(elements[(i * columns)..<((i + 1) * columns)])
  }

  /// Overwrites row `i` with `values` (`values.count == columns`).
  public mutating func setRow(_ i: Int, to values: some Collection<Scalar>) {
    precondition(i >= 0 && i < rows, "Row \(i) out of range 0..<\(rows)")
    precondition(values.count == columns, "Row needs \(columns) values, got \(values.count)")
    var k = i * columns
    for v in values {
      elements[k] = v
      k += 1
    }
  }

  /// Copies row `source` of `other` into row `i` of `self` (same number of columns). No allocation.
  public mutating func copyRow(_ source: Int, of other: Matrix, to i: Int) {
    precondition(other.columns == columns, "Column counts differ: \(other.columns) vs \(columns)")
    let c = columns
    other.elements.withUnsafeBufferPointer { src in
      elements.withUnsafeMutableBufferPointer { dst in
        for j in 0..<c { dst[i * c + j] = src[source * c + j] }
      }
    }
  }

  /// The rows at the given indices, in that order.
  public func rows(at indices: some Collection<Int>) -> Matrix {
    var result = Matrix(rows: indices.count, columns: columns)
    for (k, i) in indices.enumerated() { result.copyRow(i, of: self, to: k) }
    return result
  }

  /// The transpose.
  public func transposed() -> Matrix {
    var t = Matrix(rows: columns, columns: rows)
    for i in 0..<rows {
      for j in 0..<columns { t.elements[j * rows + i] = elements[i * columns + j] }
    }
    return t
  }

  /// Changes the shape to `rows × columns`, reusing storage when the element count is unchanged.
  public mutating func reshape(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
    if rows * columns != elements.count {
      elements = Array(repeating: 0, count: rows * columns)
    }
    self.rows = rows
    self.columns = columns
  }

  /// Whether every element is finite (no NaN, no ±Inf).
  @inlinable public var isFinite: Bool { Self.allFinite(self) }

  /// The loop of ``isFinite``, with concrete copies for Float and Double that the generic entry
  /// dispatches to at run time (unspecialised generic code checks each element through a
  /// witness table, which made this check most of a training step's time).
  @usableFromInline @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func allFinite(_ m: Matrix) -> Bool {
    m.elements.withUnsafeBufferPointer { p in
      for x in p where !x.isFinite { return false }
      return true
    }
  }

  /// Read access to the storage.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
    try elements.withUnsafeBufferPointer(body)
  }

  /// Write access to the storage (its count cannot change).
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    try elements.withUnsafeMutableBufferPointer { try body($0) }
  }

  /// Copies all elements of `other` (same shape) into `self`, reusing storage.
  public mutating func assign(_ other: Matrix) {
    precondition(other.rows == rows && other.columns == columns, "assign: shapes differ")
    other.elements.withUnsafeBufferPointer { src in
      elements.withUnsafeMutableBufferPointer { dst in
        dst.baseAddress!.update(from: src.baseAddress!, count: src.count)
      }
    }
  }

  public var description: String {
    var lines: [String] = ["Matrix<\(Scalar.self)> \(rows) × \(columns)"]
    for i in 0..<min(rows, 8) {
      let values = (0..<min(columns, 8)).map { "\(elements[i * columns + $0])" }
      lines.append("  [" + values.joined(separator: ", ") + (columns > 8 ? ", …]" : "]"))
    }
    if rows > 8 { lines.append("  …") }
    return lines.joined(separator: "\n")
  }
}

// MARK: - Elementwise arithmetic (allocating conveniences; hot loops use the in-place forms)

extension Matrix {
  public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
    precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "+: shapes differ")
    return Matrix(rows: lhs.rows, columns: lhs.columns, elements: zip(lhs.elements, rhs.elements).map { $0 + $1 })
  }

  public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
    precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "-: shapes differ")
    return Matrix(rows: lhs.rows, columns: lhs.columns, elements: zip(lhs.elements, rhs.elements).map { $0 - $1 })
  }

  public static func * (lhs: Scalar, rhs: Matrix) -> Matrix {
    Matrix(rows: rhs.rows, columns: rhs.columns, elements: rhs.elements.map { lhs * $0 })
  }

  /// Largest absolute elementwise difference to `other` (same shape).
  public func maxAbsDifference(_ other: Matrix) -> Scalar {
    precondition(rows == other.rows && columns == other.columns, "maxAbsDifference: shapes differ")
    var m: Scalar = 0
    for k in elements.indices { m = Swift.max(m, Swift.abs(elements[k] - other.elements[k])) }
    return m
  }

  /// Euclidean norm of each row.
  public func rowNorms() -> [Scalar] {
    (0..<rows).map { i in
      var s: Scalar = 0
      for j in 0..<columns { s += elements[i * columns + j] * elements[i * columns + j] }
      return s.squareRoot()
    }
  }

  /// Euclidean distance between row `i` of `self` and row `k` of `other`. No allocation.
  public func rowDistance(_ i: Int, to other: Matrix, row k: Int) -> Scalar {
    precondition(columns == other.columns, "rowDistance: column counts differ")
    var s: Scalar = 0
    for j in 0..<columns {
      let d = elements[i * columns + j] - other.elements[k * columns + j]
      s += d * d
    }
    return s.squareRoot()
  }
}
