import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The modern Hopfield update by its two paths, materialised and blocked with an online softmax,
/// alternating in one process (`attractor bench online-softmax`): the measurement behind
/// ``/AttractorModels/ModernHopfield/preferredUpdatePath(batchSize:patternCount:dimension:threads:)``.
///
/// **Measured:** for every thread count t, dimension d and pattern count N: one update
/// `ModernHopfield<Float>.update(_:into:workspace:)` of B queries with a workspace of each
/// ``/AttractorModels/ModernHopfield/UpdatePath``, and the same two `cblas_sgemm` calls without the
/// softmax (the materialised path's BLAS floor). After one warm-up each, the three are run in turn
/// (materialised, online, GEMM; the order rotates every repetition) ``repetitions`` times; the
/// medians are reported.
///
/// **Ratios:** materialised / online (above 1: the blocked path is faster) and GEMM / faster path
/// (the share of the faster path that a bare pair of GEMMs would take). The largest difference
/// between the two paths' states is reported beside them.
///
/// **Threads:** the only library type that changes OpenBLAS's process-wide thread count, because
/// the counts are what it measures: ``run()`` sets each count of ``threads`` in turn (the online
/// path uses that many workers) and restores the count in force when it returns, also on error.
/// Run it when nothing else in the process calls BLAS (the `bench` command's process); Float.
public struct OnlineSoftmaxBenchmark: Sendable, Equatable {
  /// Pattern counts N.
  public var counts = [1024, 2048, 4096, 8192, 16_384, 32_768, 65_536]
  /// Dimensions d.
  public var dimensions = [64, 256]
  /// OpenBLAS thread counts.
  public var threads = [1, 2]
  /// Queries B.
  public var queryCount = 1024
  /// Timed repetitions after one warm-up.
  public var repetitions = 5
  /// Seed of the patterns and queries.
  public var seed: UInt64 = 0

  public init() {}

  /// Bytes of the largest shape's buffers.
  public var bufferBytes: Double {
    let d = Double(dimensions.max() ?? 1), b = Double(queryCount), n = Double(counts.max() ?? 1)
    return 4 * (2 * b * n + n * d + 4 * b * d)
  }

  /// One shape's figures.
  public struct Row: Sendable, Codable, Equatable {
    public var threads: Int
    public var dimension: Int
    public var count: Int
    /// Median seconds of the materialised update.
    public var materializedSeconds: Double
    /// Median seconds of the online update.
    public var onlineSeconds: Double
    /// Median seconds of the two GEMMs alone.
    public var gemmSeconds: Double
    /// materialised / online.
    public var speedup: Double
    /// GEMM / the faster path.
    public var gemmShare: Double
    /// The path the library chooses for this shape.
    public var chosen: String
    /// Largest |difference| between the two paths' states.
    public var largestDifference: Double
  }

  /// What ``run()`` measured.
  public struct Report: Sendable, Codable, Equatable {
    public var queryCount: Int
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    public var statistic: String
    /// The 1-, 5- and 15-minute load averages before the run.
    public var loadAverage: [Double]
    public var rows: [Row]

    public var markdown: String {
      let table = BenchmarkTable(
        header: [
          "threads", "d", "N", "materialised (ms)", "online (ms)", "GEMM only (ms)", "materialised / online",
          "GEMM / faster", "chosen", "max |Δ|",
        ],
        rows: rows.map { r in
          [
            "\(r.threads)", "\(r.dimension)", "\(r.count)", BenchmarkTable.fixed(r.materializedSeconds * 1e3, 2),
            BenchmarkTable.fixed(r.onlineSeconds * 1e3, 2), BenchmarkTable.fixed(r.gemmSeconds * 1e3, 2),
            BenchmarkTable.fixed(r.speedup, 2), BenchmarkTable.fixed(r.gemmShare, 2), r.chosen,
            BenchmarkTable.general(r.largestDifference, 2),
          ]
        })
      let load = loadAverage.map { BenchmarkTable.fixed($0, 2) }.joined(separator: " ")
      return text(
        title: "Modern Hopfield update, materialised vs online softmax, Float, B = \(queryCount) queries",
        note: "(alternating in one process; load average before: \(load); the threads column sets OpenBLAS)",
        table: table)
    }
  }

  /// Runs every thread count, dimension and pattern count, setting OpenBLAS's process-wide thread
  /// count to each of ``threads`` in turn; restores the count in force before it returns.
  public func run() throws -> Report {
    let saved = BLAS.threadCount
    defer { BLAS.setThreadCount(saved) }
    let load = Self.loadAverage()
    var rows: [Row] = []
    for t in threads {
      BLAS.setThreadCount(t)
      for d in dimensions {
        for n in counts { rows.append(try measure(threads: t, dimension: d, count: n)) }
      }
    }
    let machine = BenchmarkMachine.current
    return Report(
      queryCount: queryCount, repetitions: repetitions, blasThreads: saved, cores: machine.cores,
      statistic: "median", loadAverage: load, rows: rows)
  }

  func measure(threads t: Int, dimension d: Int, count n: Int) throws -> Row {
    var rng = SeededGenerator(seed: seed)
    let scale = 1 / Double(d).squareRoot()
    let stored: Matrix<Float> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: scale)
    let q: Matrix<Float> = rng.gaussianMatrix(rows: queryCount, columns: d, standardDeviation: scale)
    let beta = Float(Double(d).squareRoot())
    let model = try ModernHopfield(patterns: stored, beta: beta)
    var plain = model.makeWorkspace(batchSize: queryCount, path: .materialized)
    var online = model.makeWorkspace(batchSize: queryCount, path: .online)
    var a = Matrix<Float>(rows: queryCount, columns: d)
    var b = Matrix<Float>(rows: queryCount, columns: d)
    var logits = Matrix<Float>(rows: queryCount, columns: n)
    var out = Matrix<Float>(rows: queryCount, columns: d)
    let bodies: [() -> Void] = [
      { model.update(q, into: &a, workspace: &plain) },
      { model.update(q, into: &b, workspace: &online) },
      {
        Matrix.multiply(q, stored, transposeB: true, alpha: beta, into: &logits)
        Matrix.multiply(logits, stored, into: &out)
      },
    ]
    for body in bodies { body() }
    var seconds = [[Double]](repeating: [], count: 3)
    for r in 0..<max(1, repetitions) {
      for k in 0..<3 {
        let which = (k + r) % 3
        let (_, elapsed) = measureSeconds { bodies[which]() }
        seconds[which].append(elapsed)
      }
    }
    let m = seconds.map { BenchmarkTimes.median($0) }
    var difference = 0.0
    for i in a.elements.indices { difference = max(difference, Double(abs(a.elements[i] - b.elements[i]))) }
    return Row(
      threads: t, dimension: d, count: n, materializedSeconds: m[0], onlineSeconds: m[1], gemmSeconds: m[2],
      speedup: m[0] / m[1], gemmShare: m[2] / min(m[0], m[1]),
      chosen: ModernHopfield<Float>.preferredUpdatePath(
        batchSize: queryCount, patternCount: n, dimension: d, threads: t
      ).rawValue, largestDifference: difference)
  }

  /// The load averages from /proc/loadavg (empty where it is not available).
  static func loadAverage() -> [Double] {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
    return text.split(separator: " ").prefix(3).compactMap { Double($0) }
  }
}

extension OnlineSoftmaxBenchmark.Report: BenchmarkReport {}
