import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The modern Hopfield network of ``ModernHopfield`` over patterns that stay in a memory-mapped
/// `.npy` file (``/AttractorIO/MappedNumPyMatrix``), for memories larger than RAM.
///
/// One ``step(_:into:measures:workspace:)`` is one pass over the file in chunks of ``chunkRows``
/// patterns: each chunk goes through the blocked update with an online softmax
/// (``/AttractorLinearAlgebra/OnlineSoftmaxAttention``), then its pages are released. The same pass
/// gives, for the states it starts from, what a recall records (no second pass):
///
/// ```
/// next = softmax(β Ξ Xᵀ) X                                    (the update, as ModernHopfield)
/// E(ξ) = ½‖ξ − x_k‖² + ½(M² − ‖x_k‖²) − β⁻¹ log Σ_μ exp(β(x_μᵀξ − x_kᵀξ)) + β⁻¹ log N
///        with k = argmax_μ x_μᵀξ (ModernHopfield.energy's form, without cancellation)
/// nearest(ξ) = argmax_μ cos(ξ, x_μ), none when ξ = 0 or a second pattern is within
///        d·ε·‖ξ‖ of the best cosine·‖ξ‖ (NearestPatternSearch's rule)
/// ```
///
/// Memory beyond the queries and the result: the online-softmax blocks, one chunk of inverse norms
/// and (when the file's dtype differs from `Scalar`) one converted chunk, independent of N.
/// Opening reads the file once to check that every entry is finite and to find M = max ‖x_μ‖.
/// The sum inside the energy's logarithm is accumulated in `Scalar` (the in-memory energy uses
/// double), so Float energies agree with ``ModernHopfield/energy(_:into:workspace:)`` to about
/// 1e-6 relative, not bitwise.
///
/// Reference: H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021, arXiv:2008.02217.
public struct StreamedModernHopfield<Scalar: LinearAlgebraScalar>: Sendable {
  /// Default patterns per chunk (16 MB of Float at d = 64).
  public static var defaultChunkRows: Int { 65_536 }

  /// The mapped patterns (N × d).
  public let source: MappedNumPyMatrix
  /// Inverse temperature β.
  public let beta: Scalar
  /// Patterns per chunk of a pass.
  public let chunkRows: Int
  /// M = max ‖x_μ‖.
  public let maxPatternNorm: Double
  /// Number of all-zero patterns (never nearest to any state).
  public let zeroPatternCount: Int
  /// Indices of the first (up to five) all-zero patterns.
  public let firstZeroPatterns: [Int]

  /// Number of stored patterns N.
  public var patternCount: Int { source.rows }
  /// Dimension d.
  public var dimension: Int { source.columns }

  /// Opens a network over `source` at inverse temperature `beta`, checking every entry (one pass
  /// over the file: ``PatternStatistics``).
  ///
  /// - Throws: ``ModelError`` if there are no patterns, an entry is not finite, or β is not finite
  ///   and positive.
  public init(source: MappedNumPyMatrix, beta: Scalar, chunkRows: Int = defaultChunkRows) throws(ModelError) {
    try self.init(
      source: source, beta: beta, chunkRows: chunkRows,
      statistics: PatternStatistics(source: source, chunkRows: chunkRows))
  }

  /// Opens a network over `source` whose entries were checked before (`statistics` of this same
  /// source), without another pass over the file: a study checks its file once and builds a
  /// network per cell.
  ///
  /// - Throws: ``ModelError`` if β or `chunkRows` is invalid, or `statistics` is of another shape.
  public init(source: MappedNumPyMatrix, beta: Scalar, chunkRows: Int = defaultChunkRows, statistics: PatternStatistics)
    throws(ModelError)
  {
    guard beta.isFinite && beta > 0 else {
      throw .invalidParameter(name: "beta", value: "\(beta)", requirement: "finite and positive")
    }
    guard chunkRows >= 1 else {
      throw .invalidParameter(name: "chunkRows", value: "\(chunkRows)", requirement: "at least 1")
    }
    guard statistics.rows == source.rows && statistics.columns == source.columns else {
      throw .invalidParameter(
        name: "statistics", value: "\(statistics.rows) × \(statistics.columns)",
        requirement: "those of the \(source.rows) × \(source.columns) source")
    }
    self.source = source
    self.beta = beta
    self.chunkRows = chunkRows
    maxPatternNorm = statistics.maxPatternNorm
    zeroPatternCount = statistics.zeroPatternCount
    firstZeroPatterns = statistics.firstZeroPatterns
  }

  /// What one checking pass over a mapped pattern file finds: that every entry is finite, the
  /// largest norm M = max ‖x_μ‖, the all-zero rows, and (when asked) a fingerprint of the data.
  ///
  /// ```
  /// M = max_μ ‖x_μ‖              (Double sums of the entries read as Scalar)
  /// fingerprint = FNV-1a of the data bytes as stored in the file (Fingerprint in AttractorCore)
  /// ```
  ///
  /// The entries are checked as `Scalar`s, as the network reads them (a float64 entry beyond
  /// `Float`'s range is not finite in a `Float` network). The pass reads the file chunk by chunk
  /// and releases each chunk's pages, so its memory is one converted chunk (none when the file
  /// holds `Scalar`s: the entries are read in place then).
  public struct PatternStatistics: Sendable, Equatable {
    /// Rows N and columns d of the source.
    public let rows: Int
    public let columns: Int
    /// M = max ‖x_μ‖.
    public let maxPatternNorm: Double
    /// Number of all-zero patterns.
    public let zeroPatternCount: Int
    /// Indices of the first (up to five) all-zero patterns.
    public let firstZeroPatterns: [Int]
    /// FNV-1a of the data bytes, when asked for (`nil` otherwise).
    public let fingerprint: UInt64?

    /// One pass over `source`.
    ///
    /// - Throws: ``ModelError/emptyPatterns(count:dimension:)`` for no rows or columns,
    ///   ``ModelError/nonFinitePattern(row:column:)`` at the first NaN or infinite entry.
    public init(source: MappedNumPyMatrix, chunkRows: Int = defaultChunkRows, fingerprint: Bool = false)
      throws(ModelError)
    {
      guard source.rows >= 1 && source.columns >= 1 else {
        throw .emptyPatterns(count: source.rows, dimension: source.columns)
      }
      let chunk = max(1, chunkRows)
      let d = source.columns
      var largest = 0.0
      var zeros = 0
      var firstZeros: [Int] = []
      var buffer: [Scalar] = []
      var squares = [Double](repeating: 0, count: min(chunk, source.rows))
      var bad: (Int, Int)? = nil
      var hash = Fingerprint.offsetBasis
      var start = 0
      while start < source.rows && bad == nil {
        let end = min(source.rows, start + chunk)
        if fingerprint { hash = source.withBytes(start..<end) { Fingerprint.fnv1a($0, seed: hash) } }
        source.withRows(start..<end, as: Scalar.self, buffer: &buffer) { x in
          if let (row, column) = squaredRowNorms(x, rows: end - start, columns: d, into: &squares) {
            bad = (start + row, column)
            return
          }
          for i in 0..<(end - start) {
            let squared = squares[i]
            if squared == 0 {
              zeros += 1
              if firstZeros.count < 5 { firstZeros.append(start + i) }
            }
            largest = max(largest, squared)
          }
        }
        source.release(rows: start..<end)
        start = end
      }
      if let (row, column) = bad { throw .nonFinitePattern(row: row, column: column) }
      rows = source.rows
      columns = d
      maxPatternNorm = largest.squareRoot()
      zeroPatternCount = zeros
      firstZeroPatterns = firstZeros
      self.fingerprint = fingerprint ? hash : nil
    }
  }

  /// Scratch for passes over a batch of up to `batchSize` states.
  public struct Workspace: Sendable {
    var attention: OnlineSoftmaxAttention<Scalar>
    var inverseNorms: [Scalar]
    var converted: [Scalar]
    var row: [Scalar] = []

    /// Bytes of scratch held (independent of N).
    public var scratchBytes: Int {
      attention.scratchBytes + (inverseNorms.count + converted.count) * MemoryLayout<Scalar>.stride
    }
  }

  /// A workspace for batches of up to `batchSize` states.
  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(
      attention: OnlineSoftmaxAttention(batchSize: batchSize, dimension: dimension, tracksScores: true),
      inverseNorms: [Scalar](repeating: 0, count: min(chunkRows, patternCount)), converted: [])
  }

  /// What a pass measured for each state it started from.
  public struct Measures: Sendable, Equatable {
    /// E(ξ) per state (Double).
    public var energies: [Double]
    /// The nearest pattern by cosine per state, −1 when none.
    public var nearest: [Int]
    /// The largest softmax weight max_μ p_μ(ξ) = 1 / Σ_μ exp(z_μ − z_max) per state (Double).
    public var largestWeights: [Double]
    /// The smallest softmax weight min_μ p_μ(ξ) = exp(z_min − z_max) / Σ_μ exp(z_μ − z_max) per
    /// state (Double): with ``largestWeights``, what the regime of a state needs (k₉₀ = 1 exactly
    /// when the largest weight holds 90 %; a global average when the smallest is ≥ a tenth of 1/N).
    public var smallestWeights: [Double]

    public init(count: Int) {
      energies = [Double](repeating: 0, count: count)
      nearest = [Int](repeating: -1, count: count)
      largestWeights = [Double](repeating: 0, count: count)
      smallestWeights = [Double](repeating: 0, count: count)
    }
  }

  /// One pass: `next ← f(states)`, and the energy, nearest pattern and largest and smallest
  /// softmax weights of each row of `states`.
  public func step(
    _ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, measures: inout Measures, workspace: inout Workspace
  ) {
    let b = states.rows
    let d = dimension
    let n = patternCount
    precondition(states.columns == d && next.rows == b && next.columns == d, "step: shapes do not match d = \(d)")
    precondition(
      measures.energies.count == b && measures.nearest.count == b && measures.largestWeights.count == b
        && measures.smallestWeights.count == b, "step: measures for \(b) states needed")
    if b == 0 { return }
    // Moved out of the workspace (not copied, so no copy-on-write) and back at the end.
    var attention = OnlineSoftmaxAttention<Scalar>(batchSize: 0, dimension: d, patternBlock: 1)
    swap(&attention, &workspace.attention)
    if attention.batchSize < b { attention = OnlineSoftmaxAttention(batchSize: b, dimension: d, tracksScores: true) }
    var converted: [Scalar] = []
    swap(&converted, &workspace.converted)
    var inverseNorms: [Scalar] = []
    swap(&inverseNorms, &workspace.inverseNorms)
    defer {
      swap(&attention, &workspace.attention)
      swap(&converted, &workspace.converted)
      swap(&inverseNorms, &workspace.inverseNorms)
    }
    states.withUnsafeBufferPointer { q in
      next.withUnsafeMutableBufferPointer { out in
        attention.begin(rows: b, output: out.baseAddress!)
        var start = 0
        while start < n {
          let end = min(n, start + chunkRows)
          source.withRows(start..<end, as: Scalar.self, buffer: &converted) { x in
            inverseNorms.withUnsafeMutableBufferPointer { w in
              inverseRowNorms(x, rows: end - start, columns: d, into: w.baseAddress!)
              attention.accumulate(
                queries: q.baseAddress!, rows: b, patterns: x, count: end - start, firstIndex: start, beta: beta,
                inverseNorms: w.baseAddress!, output: out.baseAddress!)
            }
          }
          source.release(rows: start..<end)
          start = end
        }
        attention.finish(rows: b, output: out.baseAddress!)
      }
    }
    // Energies and nearest patterns from the pass's scores.
    let scores = attention.scores!
    let betaD = Double(beta)
    let logN = Double.log(Double(n))
    let halfMaxSquared = maxPatternNorm * maxPatternNorm / 2
    let tieTolerance = Double(max(1, d)) * Double(Scalar.ulpOfOne)
    for r in 0..<b {
      var stateSquared = 0.0
      for j in 0..<d { stateSquared += Double(states[r, j]) * Double(states[r, j]) }
      let k = scores.logitArgmax[r]
      let winner = source.row(k, as: Double.self)
      var distance = 0.0
      var winnerSquared = 0.0
      for j in 0..<d {
        let t = Double(states[r, j]) - winner[j]
        distance += t * t
        winnerSquared += winner[j] * winner[j]
      }
      let logSum = attention.logSumAboveMaximum(row: r)
      measures.energies[r] = distance / 2 + (halfMaxSquared - winnerSquared / 2) + (logN - logSum) / betaD
      measures.largestWeights[r] = exp(-logSum)
      measures.smallestWeights[r] = exp(Double(scores.logitMin[r]) - Double(scores.logitMax[r]) - logSum)
      let norm = stateSquared.squareRoot()
      if !(stateSquared > 0 && stateSquared.isFinite) || scores.bestIndex[r] < 0 {
        measures.nearest[r] = -1
      } else {
        let threshold = Double(scores.best[r]) - betaD * tieTolerance * norm
        measures.nearest[r] = Double(scores.second[r]) >= threshold ? -1 : scores.bestIndex[r]
      }
    }
  }
}

// The per-entry loops of a pass, on concrete types: generic code called from another module runs
// unspecialised (a witness-table call per entry), which made the checking pass over 10⁷ × 64
// entries take about 50 s of CPU.

/// Σ_j x_ij² in `Double` of each of `rows` rows (row-major, `columns` wide) into `squares`, and
/// the first entry (row, column) that is not finite, if any (the rows after it are not summed).
func squaredRowNorms<Scalar: LinearAlgebraScalar>(
  _ x: UnsafePointer<Scalar>, rows: Int, columns d: Int, into squares: inout [Double]
) -> (Int, Int)? {
  squares.withUnsafeMutableBufferPointer { out in
    if Scalar.self == Float.self {
      return squaredRowNormsF32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), rows, d, out.baseAddress!)
    }
    return squaredRowNormsF64(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), rows, d, out.baseAddress!)
  }
}

private func squaredRowNormsF32(_ x: UnsafePointer<Float>, _ rows: Int, _ d: Int, _ out: UnsafeMutablePointer<Double>)
  -> (Int, Int)?
{
  for i in 0..<rows {
    var squared = 0.0
    for j in 0..<d {
      let v = x[i * d + j]
      if !v.isFinite { return (i, j) }
      squared += Double(v) * Double(v)
    }
    out[i] = squared
  }
  return nil
}

private func squaredRowNormsF64(_ x: UnsafePointer<Double>, _ rows: Int, _ d: Int, _ out: UnsafeMutablePointer<Double>)
  -> (Int, Int)?
{
  for i in 0..<rows {
    var squared = 0.0
    for j in 0..<d {
      let v = x[i * d + j]
      if !v.isFinite { return (i, j) }
      squared += v * v
    }
    out[i] = squared
  }
  return nil
}

/// w_i = 1/‖x_i‖ (summed in `Scalar`), NaN for a zero or non-finite norm, for `rows` rows.
func inverseRowNorms<Scalar: LinearAlgebraScalar>(
  _ x: UnsafePointer<Scalar>, rows: Int, columns d: Int, into w: UnsafeMutablePointer<Scalar>
) {
  if Scalar.self == Float.self {
    inverseRowNormsF32(
      UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), rows, d,
      UnsafeMutableRawPointer(w).assumingMemoryBound(to: Float.self))
  } else {
    inverseRowNormsF64(
      UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), rows, d,
      UnsafeMutableRawPointer(w).assumingMemoryBound(to: Double.self))
  }
}

private func inverseRowNormsF32(_ x: UnsafePointer<Float>, _ rows: Int, _ d: Int, _ w: UnsafeMutablePointer<Float>) {
  for i in 0..<rows {
    var squared: Float = 0
    for j in 0..<d { squared += x[i * d + j] * x[i * d + j] }
    w[i] = squared > 0 && squared.isFinite ? 1 / squared.squareRoot() : .nan
  }
}

private func inverseRowNormsF64(_ x: UnsafePointer<Double>, _ rows: Int, _ d: Int, _ w: UnsafeMutablePointer<Double>) {
  for i in 0..<rows {
    var squared: Double = 0
    for j in 0..<d { squared += x[i * d + j] * x[i * d + j] }
    w[i] = squared > 0 && squared.isFinite ? 1 / squared.squareRoot() : .nan
  }
}
