extension Matrix {
  /// The matrix with zero columns appended up to `width` columns (a copy; `width ≥ columns`).
  ///
  /// Zero padding is an isometric embedding of ℝ^d in ℝ^width: dot products, norms and cosine
  /// similarities of padded vectors equal those of the originals.
  public func zeroPadded(toColumns width: Int) -> Matrix {
    precondition(width >= columns, "zeroPadded: \(width) < \(columns) columns")
    if width == columns { return self }
    var out = Matrix(rows: rows, columns: width)
    let d = columns
    withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for r in 0..<rows { for j in 0..<d { dst[r * width + j] = src[r * d + j] } }
      }
    }
    return out
  }
}
