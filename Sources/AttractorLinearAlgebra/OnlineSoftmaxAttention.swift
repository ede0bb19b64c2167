import CAttractorKernels
import RealModule

/// Softmax-weighted sums `softmax(β Q Xᵀ) X` computed block by block with an online softmax, so
/// that the B × N matrix of logits is never formed.
///
/// For a block of queries Q_b and a block of patterns X_p, the logits `S = β Q_b X_pᵀ` go into a
/// small buffer (one GEMM), each row's running maximum m and sum l are updated, and the weights
/// `exp(S − m)` are added into the output with a second GEMM while the block is still in cache:
///
/// ```
/// m' = max(m, max_j s_j)
/// l' = l · exp(m − m') + Σ_j exp(s_j − m')
/// a' = a · exp(m − m') + Σ_j exp(s_j − m') x_j
/// out = a / l                     after the last block of patterns
/// ```
///
/// Properties relied on: the result equals `softmax(β Q Xᵀ) X` up to Float (Double) rounding, in
/// any split of the patterns into blocks, because rescaling by `exp(m − m')` makes every block's
/// weights relative to the same final maximum (Milakov & Gimelshein, "Online normalizer
/// calculation for softmax", arXiv:1805.02867; Dao et al., FlashAttention, arXiv:2205.14135).
/// Exponents stay ≤ 0, so finite logits of any size do not overflow. A row with a NaN or +∞
/// logit becomes NaN, and −∞ logits get weight 0, as in ``Matrix/softmaxRows()``.
///
/// The patterns may arrive in several calls to ``accumulate(queries:rows:patterns:count:firstIndex:beta:inverseNorms:output:)``
/// between ``begin(rows:output:)`` and ``finish(rows:output:)``: that is how a memory-mapped
/// file of patterns larger than memory is streamed (each call sees one chunk of the file). Extra
/// memory is `workers × queryBlock × patternBlock` logits plus a few numbers per query; the
/// output (B × d) doubles as the accumulator.
///
/// Threads: the blocks are processed in order on the calling thread, whose GEMMs use OpenBLAS's own
/// threads (its process-wide thread count is never changed here); the online-softmax step of each
/// block is split by rows over ``workers`` threads (the C thread pool of the row softmax: no BLAS,
/// no allocation). Rows are independent, so the split does not change a single bit. Which of this
/// path and the materialised one (`ModernHopfield`'s plain update) is faster depends on the shape:
/// Docs/Benchmarks.md, "Blocked update with online softmax".
public struct OnlineSoftmaxAttention<Scalar: LinearAlgebraScalar>: Sendable {
  /// Queries per block (rows of the logits buffer).
  public static var defaultQueryBlock: Int { 256 }
  /// Patterns per block (columns of the logits buffer).
  public static var defaultPatternBlock: Int { 512 }

  /// Largest number of queries one call handles.
  public let batchSize: Int
  /// Dimension d of queries and patterns.
  public let dimension: Int
  /// Queries per block.
  public let queryBlock: Int
  /// Patterns per block.
  public let patternBlock: Int
  /// Threads the online-softmax step of a block is split over (by rows).
  public let workers: Int

  var rowMax: [Scalar]
  var rowSum: [Scalar]
  var blocks: [Scalar]
  /// Per-query scores over the patterns seen since ``begin(rows:output:)``, when tracked.
  public private(set) var scores: Scores?

  /// What ``accumulate(queries:rows:patterns:count:firstIndex:beta:inverseNorms:output:)``
  /// records besides the weighted sum when asked: for each query, over the raw logits
  /// z_j = β qᵀx_j, the largest logit and its first index, the smallest logit (so the smallest
  /// softmax weight is exp(z_min − z_max) / l), and the best and second-best
  /// z_j · w_j with w_j the given inverse pattern norm (so z_j w_j = β ‖q‖ cos(q, x_j)), with the
  /// index of the best.
  public struct Scores: Sendable {
    /// Largest logit of each query.
    public var logitMax: [Scalar]
    /// Global index of the first pattern with the largest logit.
    public var logitArgmax: [Int]
    /// Smallest logit of each query.
    public var logitMin: [Scalar]
    /// Largest z_j w_j of each query.
    public var best: [Scalar]
    /// Second-largest z_j w_j of each query (a tie gives `second == best`).
    public var second: [Scalar]
    /// Global index of the pattern with the largest z_j w_j (first on exact ties).
    public var bestIndex: [Int]

    init(count: Int) {
      logitMax = [Scalar](repeating: -.infinity, count: count)
      logitArgmax = [Int](repeating: 0, count: count)
      logitMin = [Scalar](repeating: .infinity, count: count)
      best = [Scalar](repeating: -.infinity, count: count)
      second = [Scalar](repeating: -.infinity, count: count)
      bestIndex = [Int](repeating: -1, count: count)
    }

    mutating func reset() {
      for i in logitMax.indices {
        logitMax[i] = -.infinity
        logitArgmax[i] = 0
        logitMin[i] = .infinity
        best[i] = -.infinity
        second[i] = -.infinity
        bestIndex[i] = -1
      }
    }
  }

  /// A workspace for up to `batchSize` queries of dimension `dimension`.
  ///
  /// - Parameters:
  ///   - workers: Threads for the online-softmax step of each block (default: OpenBLAS's thread
  ///     count, so that both the GEMMs and the softmax use the cores BLAS is allowed).
  ///   - tracksScores: Whether to record ``Scores`` (needs `inverseNorms` in every call).
  public init(
    batchSize: Int, dimension: Int, queryBlock: Int = defaultQueryBlock, patternBlock: Int = defaultPatternBlock,
    workers: Int = BLAS.threadCount, tracksScores: Bool = false
  ) {
    precondition(batchSize >= 0 && dimension >= 1, "OnlineSoftmaxAttention: needs batchSize ≥ 0 and dimension ≥ 1")
    precondition(queryBlock >= 1 && patternBlock >= 1 && workers >= 1, "OnlineSoftmaxAttention: blocks must be ≥ 1")
    self.batchSize = batchSize
    self.dimension = dimension
    self.queryBlock = queryBlock
    self.patternBlock = patternBlock
    self.workers = max(1, min(workers, max(1, batchSize)))
    rowMax = [Scalar](repeating: -.infinity, count: batchSize)
    rowSum = [Scalar](repeating: 0, count: batchSize)
    blocks = [Scalar](repeating: 0, count: min(queryBlock, max(1, batchSize)) * patternBlock)
    scores = tracksScores ? Scores(count: batchSize) : nil
  }

  /// Bytes of scratch memory this workspace holds (independent of the number of patterns).
  public var scratchBytes: Int {
    (rowMax.count + rowSum.count + blocks.count) * MemoryLayout<Scalar>.stride
      + (scores.map { $0.logitMax.count * (4 * MemoryLayout<Scalar>.stride + 2 * MemoryLayout<Int>.stride) } ?? 0)
  }

  /// Starts a product for the first `rows` queries: output ← 0, maxima ← −∞, sums ← 0.
  public mutating func begin(rows: Int, output: UnsafeMutablePointer<Scalar>) {
    precondition(rows >= 0 && rows <= batchSize, "OnlineSoftmaxAttention: \(rows) rows, workspace holds \(batchSize)")
    output.update(repeating: 0, count: rows * dimension)
    for i in 0..<rows {
      rowMax[i] = -.infinity
      rowSum[i] = 0
    }
    scores?.reset()
  }

  /// Adds the patterns `patterns[0..<count]` (rows of d values; global indices `firstIndex …`)
  /// to the running sums of the first `rows` queries.
  ///
  /// - Parameter inverseNorms: 1/‖x_j‖ for the `count` patterns (NaN for patterns that must
  ///   never be chosen), read when scores are tracked.
  public mutating func accumulate(
    queries: UnsafePointer<Scalar>, rows: Int, patterns: UnsafePointer<Scalar>, count: Int, firstIndex: Int = 0,
    beta: Scalar, inverseNorms: UnsafePointer<Scalar>? = nil, output: UnsafeMutablePointer<Scalar>
  ) {
    precondition(rows >= 0 && rows <= batchSize, "OnlineSoftmaxAttention: \(rows) rows, workspace holds \(batchSize)")
    precondition(scores == nil || inverseNorms != nil, "OnlineSoftmaxAttention: scores need inverse norms")
    if rows == 0 || count == 0 { return }
    let d = dimension
    let qb = min(queryBlock, rows)
    let pb = patternBlock
    let queryBlocks = (rows + qb - 1) / qb
    let parts = Int32(clamping: workers)
    let tracks = scores != nil
    var scoresCopy = scores ?? Scores(count: 0)
    scores = nil
    defer { if tracks { scores = scoresCopy } }
    rowMax.withUnsafeMutableBufferPointer { maxima in
      rowSum.withUnsafeMutableBufferPointer { sums in
        blocks.withUnsafeMutableBufferPointer { buffer in
          scoresCopy.logitMax.withUnsafeMutableBufferPointer { logitMax in
            scoresCopy.logitArgmax.withUnsafeMutableBufferPointer { logitArgmax in
              scoresCopy.logitMin.withUnsafeMutableBufferPointer { logitMin in
                scoresCopy.best.withUnsafeMutableBufferPointer { best in
                  scoresCopy.second.withUnsafeMutableBufferPointer { second in
                    scoresCopy.bestIndex.withUnsafeMutableBufferPointer { bestIndex in
                      let pointers = Pointers(
                        maxima: maxima.baseAddress!, sums: sums.baseAddress!, buffer: buffer.baseAddress!,
                        logitMax: logitMax.baseAddress, logitArgmax: logitArgmax.baseAddress,
                        logitMin: logitMin.baseAddress, best: best.baseAddress,
                        second: second.baseAddress, bestIndex: bestIndex.baseAddress, queries: queries,
                        patterns: patterns, inverseNorms: inverseNorms, output: output)
                      for block in 0..<queryBlocks {
                        let r0 = block * qb
                        Self.queryBlock(
                          pointers, r0: r0, rq: min(qb, rows - r0), count: count, firstIndex: firstIndex, d: d,
                          pb: pb, buffer: pointers.buffer, beta: beta, tracks: tracks, parts: parts)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Ends the product: output row r ← a_r / l_r.
  public mutating func finish(rows: Int, output: UnsafeMutablePointer<Scalar>) {
    precondition(rows >= 0 && rows <= batchSize, "OnlineSoftmaxAttention: \(rows) rows, workspace holds \(batchSize)")
    rowSum.withUnsafeBufferPointer { sums in
      if Scalar.self == Float.self {
        attractor_online_softmax_finish_f32(
          Self.raw(output, Float.self), rows, dimension, dimension, Self.raw(sums.baseAddress!, Float.self))
      } else {
        attractor_online_softmax_finish_f64(
          Self.raw(output, Double.self), rows, dimension, dimension, Self.raw(sums.baseAddress!, Double.self))
      }
    }
  }

  /// The whole product `output ← softmax(β Q Xᵀ) X` for `rows` queries and `count` patterns.
  public mutating func attend(
    queries: UnsafePointer<Scalar>, rows: Int, patterns: UnsafePointer<Scalar>, count: Int, beta: Scalar,
    output: UnsafeMutablePointer<Scalar>
  ) {
    begin(rows: rows, output: output)
    accumulate(queries: queries, rows: rows, patterns: patterns, count: count, beta: beta, output: output)
    finish(rows: rows, output: output)
  }

  /// The running log-sum-exp relative to the maximum, log l_r = log Σ_j exp(z_rj − max z_r), of
  /// query `row` (valid after the last ``accumulate(queries:rows:patterns:count:firstIndex:beta:inverseNorms:output:)``).
  public func logSumAboveMaximum(row: Int) -> Double { Double.log(Double(rowSum[row])) }

  // MARK: Internals

  struct Pointers: @unchecked Sendable {
    let maxima: UnsafeMutablePointer<Scalar>
    let sums: UnsafeMutablePointer<Scalar>
    let buffer: UnsafeMutablePointer<Scalar>
    let logitMax: UnsafeMutablePointer<Scalar>?
    let logitArgmax: UnsafeMutablePointer<Int>?
    let logitMin: UnsafeMutablePointer<Scalar>?
    let best: UnsafeMutablePointer<Scalar>?
    let second: UnsafeMutablePointer<Scalar>?
    let bestIndex: UnsafeMutablePointer<Int>?
    let queries: UnsafePointer<Scalar>
    let patterns: UnsafePointer<Scalar>
    let inverseNorms: UnsafePointer<Scalar>?
    let output: UnsafeMutablePointer<Scalar>
  }

  @inline(__always)
  static func raw<T>(_ p: UnsafePointer<Scalar>, _: T.Type) -> UnsafePointer<T> {
    UnsafeRawPointer(p).assumingMemoryBound(to: T.self)
  }

  @inline(__always)
  static func raw<T>(_ p: UnsafeMutablePointer<Scalar>, _: T.Type) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: T.self)
  }

  /// One block of queries against every pattern block of the call.
  static func queryBlock(
    _ p: Pointers, r0: Int, rq: Int, count: Int, firstIndex: Int, d: Int, pb: Int,
    buffer: UnsafeMutablePointer<Scalar>, beta: Scalar, tracks: Bool, parts: Int32
  ) {
    let q = p.queries + r0 * d
    let out = p.output + r0 * d
    var p0 = 0
    while p0 < count {
      let np = min(pb, count - p0)
      let x = p.patterns + p0 * d
      // S ← β Q_b X_pᵀ  (rq × np, leading dimension np)
      Scalar.gemm(
        transposeA: false, transposeB: true, m: rq, n: np, k: d, alpha: beta, a: q, lda: d, b: x, ldb: d, beta: 0,
        c: buffer, ldc: np)
      if Scalar.self == Float.self {
        if tracks {
          attractor_block_scores_f32(
            raw(buffer, Float.self), rq, np, np, firstIndex + p0, raw(p.inverseNorms! + p0, Float.self),
            raw(p.logitMax! + r0, Float.self), p.logitArgmax! + r0, raw(p.best! + r0, Float.self),
            raw(p.second! + r0, Float.self), p.bestIndex! + r0, raw(p.logitMin! + r0, Float.self))
        }
        attractor_online_softmax_rows_parallel_f32(
          raw(buffer, Float.self), rq, np, np, raw(p.maxima + r0, Float.self), raw(p.sums + r0, Float.self),
          raw(out, Float.self), d, d, parts)
      } else {
        if tracks {
          attractor_block_scores_f64(
            raw(buffer, Double.self), rq, np, np, firstIndex + p0, raw(p.inverseNorms! + p0, Double.self),
            raw(p.logitMax! + r0, Double.self), p.logitArgmax! + r0, raw(p.best! + r0, Double.self),
            raw(p.second! + r0, Double.self), p.bestIndex! + r0, raw(p.logitMin! + r0, Double.self))
        }
        attractor_online_softmax_rows_parallel_f64(
          raw(buffer, Double.self), rq, np, np, raw(p.maxima + r0, Double.self), raw(p.sums + r0, Double.self),
          raw(out, Double.self), d, d, parts)
      }
      // A ← A + exp(S − m) X_p  (rq × d)
      Scalar.gemm(
        transposeA: false, transposeB: false, m: rq, n: d, k: np, alpha: 1, a: buffer, lda: np, b: x, ldb: d,
        beta: 1, c: out, ldc: d)
      p0 += np
    }
  }
}
