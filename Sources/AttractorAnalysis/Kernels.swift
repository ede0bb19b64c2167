import AttractorLinearAlgebra
import RealModule

// Per-element loops of the analysis. Generic code called from another module runs unspecialised
// (a witness-table call per element), so every loop over d², N or K × N elements lives here with
// `@_specialize` for Float and Double: the generic entry dispatches to a concrete copy at run time.

enum Kernels {
  /// ‖A − Aᵀ‖_F² and ‖A‖_F² of the n × n row-major block at `a`.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func asymmetry<Scalar: LinearAlgebraScalar>(_ a: UnsafePointer<Scalar>, n: Int) -> (
    difference: Double, norm: Double
  ) {
    var difference = 0.0
    var norm = 0.0
    for i in 0..<n {
      for j in 0..<n {
        let x = Double(a[i * n + j])
        norm += x * x
        if j > i {
          let e = x - Double(a[j * n + i])
          difference += 2 * e * e
        }
      }
    }
    return (difference, norm)
  }

  /// Row μ of the result holds xμᵢ xμⱼ for i ≤ j (the upper triangle of xμ xμᵀ, row by row):
  /// d(d+1)/2 columns, so P · result gives the upper triangles of all Xᵀ diag(pₖ) X at half the
  /// cost of the full Khatri–Rao square.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func khatriRaoUpper<Scalar: LinearAlgebraScalar>(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
    let n = x.rows
    let d = x.columns
    let t = d * (d + 1) / 2
    let elements = [Scalar](unsafeUninitializedCapacity: n * t) { buffer, count in
      x.withUnsafeBufferPointer { src in
        for mu in 0..<n {
          let row = src.baseAddress! + mu * d
          var c = mu * t
          for i in 0..<d {
            let xi = row[i]
            for j in i..<d {
              buffer[c] = xi * row[j]
              c += 1
            }
          }
        }
      }
      count = n * t
    }
    return Matrix(rows: n, columns: t, elements: elements)
  }

  /// Expands K packed upper triangles (rows of `packed`, d(d+1)/2 each) into K symmetric d × d
  /// blocks (rows of the result, d² each).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func symmetricBlocks<Scalar: LinearAlgebraScalar>(fromPacked packed: Matrix<Scalar>, dimension d: Int)
    -> Matrix<Scalar>
  {
    let k = packed.rows
    let t = packed.columns
    let elements = [Scalar](unsafeUninitializedCapacity: k * d * d) { buffer, count in
      packed.withUnsafeBufferPointer { src in
        for r in 0..<k {
          let block = r * d * d
          var c = r * t
          for i in 0..<d {
            for j in i..<d {
              let v = src[c]
              buffer[block + i * d + j] = v
              buffer[block + j * d + i] = v
              c += 1
            }
          }
        }
      }
      count = k * d * d
    }
    return Matrix(rows: k, columns: d * d, elements: elements)
  }

  /// Jacobian blocks of the modern Hopfield network from K packed upper triangles of
  /// β Xᵀ diag(pₖ) X (rows of `packed`) and the means mₖ (rows of `means`):
  /// Jₖ[i, j] = Jₖ[j, i] = packedₖ[i ≤ j] − β mₖᵢ mₖⱼ, one pass, each block exactly symmetric
  /// (``jacobianBlock(fromPacked:mean:beta:dimension:into:)`` per block).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func jacobianBlocks<Scalar: LinearAlgebraScalar>(
    fromPacked packed: Matrix<Scalar>, means: Matrix<Scalar>, beta: Scalar, dimension d: Int
  ) -> Matrix<Scalar> {
    let k = packed.rows
    let t = packed.columns
    let elements = [Scalar](unsafeUninitializedCapacity: k * d * d) { buffer, count in
      packed.withUnsafeBufferPointer { src in
        means.withUnsafeBufferPointer { m in
          for r in 0..<k {
            jacobianBlock(
              fromPacked: src.baseAddress! + r * t, mean: m.baseAddress! + r * d, beta: beta, dimension: d,
              into: buffer.baseAddress! + r * d * d)
          }
        }
      }
      count = k * d * d
    }
    return Matrix(rows: k, columns: d * d, elements: elements)
  }

  /// One Jacobian block of the modern Hopfield network from its packed upper triangle of
  /// β Xᵀ diag(p) X (d(d+1)/2 values, row by row) and its mean m:
  /// J[i, j] = J[j, i] = packed[i ≤ j] − (β mᵢ) mⱼ, written as a row-major d × d block. The one
  /// definition of these values: the batch unpacking and the classification's workers (which
  /// unpack their own points) both call it, so both get the same bits.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func jacobianBlock<Scalar: LinearAlgebraScalar>(
    fromPacked src: UnsafePointer<Scalar>, mean mr: UnsafePointer<Scalar>, beta: Scalar, dimension d: Int,
    into block: UnsafeMutablePointer<Scalar>
  ) {
    var c = 0
    for i in 0..<d {
      let bi = beta * mr[i]
      for j in i..<d {
        let v = src[c] - bi * mr[j]
        block[i * d + j] = v
        block[j * d + i] = v
        c += 1
      }
    }
  }

  /// Jₖ ← Jₖ − β mₖ mₖᵀ for every d × d block of a stack.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func subtractOuterProducts<Scalar: LinearAlgebraScalar>(
    _ stack: inout Matrix<Scalar>, means: Matrix<Scalar>, beta: Scalar, dimension d: Int
  ) {
    let k = stack.rows
    means.withUnsafeBufferPointer { m in
      stack.withUnsafeMutableBufferPointer { s in
        for r in 0..<k {
          let mr = m.baseAddress! + r * d
          let block = s.baseAddress! + r * d * d
          for i in 0..<d {
            let bi = beta * mr[i]
            for j in 0..<d { block[i * d + j] -= bi * mr[j] }
          }
        }
      }
    }
  }

  /// `out ← diag(w) X` (rows of X scaled by w).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func scaleRows<Scalar: LinearAlgebraScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, columns: Int, by w: UnsafePointer<Scalar>,
    into out: UnsafeMutablePointer<Scalar>
  ) {
    for i in 0..<rows {
      let s = w[i]
      for j in 0..<columns { out[i * columns + j] = s * x[i * columns + j] }
    }
  }

  /// `H ← I − J` for every d × d block of a stack (rows of `stack` are flattened blocks).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func identityMinus<Scalar: LinearAlgebraScalar>(_ stack: Matrix<Scalar>, dimension d: Int) -> Matrix<Scalar> {
    let total = stack.rows * stack.columns
    let elements = [Scalar](unsafeUninitializedCapacity: total) { buffer, count in
      stack.withUnsafeBufferPointer { src in
        for k in 0..<total { buffer[k] = -src[k] }
        for block in 0..<stack.rows {
          for i in 0..<d { buffer[block * d * d + i * d + i] += 1 }
        }
      }
      count = total
    }
    return Matrix(rows: stack.rows, columns: stack.columns, elements: elements)
  }

  /// Squared Euclidean norm of each row.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func squaredRowNorms<Scalar: LinearAlgebraScalar>(_ m: Matrix<Scalar>) -> [Double] {
    let c = m.columns
    return m.withUnsafeBufferPointer { p in
      (0..<m.rows).map { r in
        var s = 0.0
        for j in 0..<c {
          let x = Double(p[r * c + j])
          s += x * x
        }
        return s
      }
    }
  }

  /// Index and distance of the nearest row of the patterns for each state, from the Gram matrix
  /// G = S Xᵀ: ‖s − x‖² = ‖s‖² + ‖x‖² − 2 sᵀx (clamped at 0).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func nearestRows<Scalar: LinearAlgebraScalar>(
    gram: Matrix<Scalar>, stateNorms: [Double], patternNorms: [Double]
  ) -> [(index: Int, distance: Double)] {
    let n = gram.columns
    return gram.withUnsafeBufferPointer { g in
      (0..<gram.rows).map { r in
        var best = 0
        var bestValue = Double.infinity
        for mu in 0..<n {
          let value = patternNorms[mu] - 2 * Double(g[r * n + mu])
          if value < bestValue {
            bestValue = value
            best = mu
          }
        }
        return (best, max(0, stateNorms[r] + bestValue).squareRoot())
      }
    }
  }

  /// Statistics of one row of weights (non-negative, summing to 1): the smallest number k of
  /// weights holding at least `mass` of the total and their indices (largest first), the entropy in
  /// nats, the participation ratio 1/Σp², and the smallest weight (``WeightStatisticsWorkspace``;
  /// ties go to the lower index, so the result is that of sorting all candidates).
  static func weightStatistics<Scalar: LinearAlgebraScalar>(
    _ p: UnsafePointer<Scalar>, count n: Int, mass: Double
  ) -> (top: [(Int, Double)], entropy: Double, participationRatio: Double, smallest: Double) {
    var workspace = WeightStatisticsWorkspace(count: n)
    let sums = workspace.compute(p, mass: mass)
    let top = (0..<workspace.k).map { j in
      let h = workspace.heaviest(j)
      return (h.index, h.weight)
    }
    return (top, sums.entropy, sums.squares > 0 ? 1 / sums.squares : 0, sums.smallest)
  }

  /// Euclidean distance between `a` and `b` (same length).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func distance<Scalar: LinearAlgebraScalar>(_ a: [Scalar], _ b: [Scalar]) -> Double {
    var s = 0.0
    for j in a.indices {
      let e = Double(a[j]) - Double(b[j])
      s += e * e
    }
    return s.squareRoot()
  }

  /// ‖a − b‖ of two `count`-element rows, accumulated in Double in index order (as ``distance(_:_:)``).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func rowDistanceInDouble<Scalar: LinearAlgebraScalar>(
    _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int
  ) -> Double {
    var s = 0.0
    for j in 0..<count {
      let e = Double(a[j]) - Double(b[j])
      s += e * e
    }
    return s.squareRoot()
  }

  /// ‖a − b‖ of two `count`-element rows, accumulated in `Scalar` (as the dynamics measure a step).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func rowDistance<Scalar: LinearAlgebraScalar>(
    _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int
  ) -> Scalar {
    var s: Scalar = 0
    for j in 0..<count {
      let e = a[j] - b[j]
      s += e * e
    }
    return s.squareRoot()
  }

  /// I − J in Double for the n × n row-major block at `j`.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func identityMinusInDouble<Scalar: LinearAlgebraScalar>(_ j: UnsafePointer<Scalar>, n: Int) -> [Double] {
    [Double](unsafeUninitializedCapacity: n * n) { buffer, count in
      for e in 0..<(n * n) { buffer[e] = -Double(j[e]) }
      for i in 0..<n { buffer[i * n + i] += 1 }
      count = n * n
    }
  }
}
