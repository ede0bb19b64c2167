import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// A problem with a run's inputs (a file that cannot be read or used, sizes too large), with a
/// message for the user that names the file or the option and says what to do.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What went wrong and, where possible, what to do about it.
  public let message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// The largest matrix a run may allocate: 2³¹ elements (16 GiB in double precision), with rows and
/// columns that fit BLAS's 32-bit dimensions.
public enum MatrixSizeLimit {
  /// Largest number of elements of any one matrix of a run.
  public static let maxElements = 1 << 31

  /// Refuses a `rows × columns` matrix with more than ``maxElements`` elements (or a dimension past
  /// `Int32.max`); `what` names it in the message (for example `"--count × --dimension"`).
  public static func check(rows: Int, columns: Int, what: String) throws(InputError) {
    let (product, overflow) = rows.multipliedReportingOverflow(by: columns)
    if overflow || product > maxElements || rows > Int(Int32.max) || columns > Int(Int32.max) {
      throw InputError(
        "\(what) = \(rows) × \(columns) is more than the \(maxElements) elements one matrix may hold here; use smaller sizes"
      )
    }
  }
}

/// Inputs read from `.npy` files: pattern and query matrices, target indices, ±1 patterns.
public enum InputFiles {
  /// A 2-D array from `path` as a matrix; `role` ("patterns", "queries") names it in messages.
  public static func matrix<Scalar: LinearAlgebraScalar>(
    _ path: String, role: String, as _: Scalar.Type = Scalar.self
  ) throws(InputError) -> Matrix<Scalar> {
    let tensor: Tensor
    do {
      tensor = try NumPyFile.read(from: URL(fileURLWithPath: path))
    } catch {
      throw InputError("cannot read the \(role) file \(path): \(error)")
    }
    guard tensor.rank == 2 else {
      let row = role == "patterns" ? "pattern" : role == "queries" ? "query" : "item"
      throw InputError(
        "the \(role) file \(path) holds an array of shape \(tensor.shape); it must be 2-D, one \(row) per row")
    }
    do {
      return try tensor.matrix(as: Scalar.self)
    } catch {
      throw InputError("cannot use the \(role) file \(path): \(error)")
    }
  }

  /// Stored patterns from `path`: at least one row and one column.
  public static func patterns<Scalar: LinearAlgebraScalar>(_ path: String, as _: Scalar.Type = Scalar.self)
    throws(InputError) -> Matrix<Scalar>
  {
    let m: Matrix<Scalar> = try matrix(path, role: "patterns")
    guard m.rows >= 1 && m.columns >= 1 else {
      throw InputError(
        "the patterns file \(path) holds a \(m.rows) × \(m.columns) array; it needs at least one pattern of dimension at least 1"
      )
    }
    return m
  }

  /// ±1 patterns from `path` (K × N), for capacity runs: any other entry is refused.
  public static func signPatterns(_ path: String) throws(InputError) -> Matrix<Double> {
    let m: Matrix<Double> = try matrix(path, role: "patterns")
    guard m.rows >= 1 && m.columns >= 1 else {
      throw InputError(
        "the patterns file \(path) holds a \(m.rows) × \(m.columns) array; it needs at least one pattern of at least one unit"
      )
    }
    for i in 0..<m.rows {
      for j in 0..<m.columns where m[i, j] != 1 && m[i, j] != -1 {
        throw InputError(
          "the patterns file \(path) has \(m[i, j]) in pattern \(i), unit \(j); capacity runs store ±1 patterns (binarise with sign first)"
        )
      }
    }
    return m
  }

  /// Target pattern indices from a 1-D integer array of `queryCount` entries, each in
  /// `0..<patternCount`.
  public static func targets(_ path: String, queryCount: Int, patternCount: Int) throws(InputError) -> [Int] {
    let tensor: Tensor
    do {
      tensor = try NumPyFile.read(from: URL(fileURLWithPath: path))
    } catch {
      throw InputError("cannot read the targets file \(path): \(error)")
    }
    guard tensor.shape == [queryCount] else {
      throw InputError(
        "the targets file \(path) holds an array of shape \(tensor.shape); it must be 1-D with one pattern index per query, shape [\(queryCount)]"
      )
    }
    let values: [Int64]
    do {
      values = try tensor.int64Values()
    } catch {
      throw InputError("the targets file \(path) must hold integers (int32 or int64) pattern indices: \(error)")
    }
    var result: [Int] = []
    result.reserveCapacity(values.count)
    for (k, v) in values.enumerated() {
      guard v >= 0 && v < Int64(patternCount) else {
        throw InputError(
          "--targets \(path): " + PatternMessages.targetOutOfRange(position: k, value: v, patternCount: patternCount))
      }
      result.append(Int(v))
    }
    return result
  }
}
