import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The modern Hopfield update timed against plain `cblas_sgemm` on the same shapes
/// (`attractor bench update`).
///
/// **Measured:** one batched update `ModernHopfield<Float>.update(_:into:workspace:)` of B queries
/// against N stored patterns of dimension d, on preallocated buffers: two GEMMs
/// (logits = β Q Xᵀ, then P X after a row softmax), 4·B·N·d floating-point operations, by the
/// path `ModernHopfield.preferredUpdatePath` chooses for the shape (materialised or blocked with an
/// online softmax; `OnlineSoftmaxBenchmark` compares the two).
///
/// **Ratio against:** the same two `cblas_sgemm` calls on the same buffers in the same process,
/// without the softmax; ratio = GEMM time / update time, the share of the update spent in BLAS.
/// GFLOP/s counts the 4·B·N·d GEMM operations for both.
///
/// **Threads:** whatever OpenBLAS thread count is in force (the report records it); Float; median
/// of ``repetitions`` runs after one warm-up.
public struct UpdateBenchmark: Sendable, Equatable {
  /// Stored patterns N.
  public var count = 8192
  /// The dimensions d to run, one row each.
  public var dimensions = [64, 256]
  /// Queries B.
  public var queryCount = 1024
  /// Timed repetitions after one warm-up.
  public var repetitions = 10
  /// Seed of the patterns and queries.
  public var seed: UInt64 = 0

  public init() {}

  /// Bytes of the buffers of the largest dimension (for a check before any work).
  public var bufferBytes: Double {
    let d = Double(dimensions.max() ?? 1), b = Double(queryCount), n = Double(count)
    return 4 * (b * n + 2 * n * d + 2 * b * d)
  }

  /// One dimension's figures.
  public struct Row: Sendable, Codable, Equatable {
    public var dimension: Int
    /// Median seconds of one update.
    public var updateSeconds: Double
    /// Median seconds of the two GEMMs alone.
    public var gemmSeconds: Double
    public var updateGFLOPS: Double
    public var gemmGFLOPS: Double
    /// GEMM time / update time.
    public var ratio: Double
  }

  /// What ``run()`` measured.
  public struct Report: Sendable, Codable, Equatable {
    public var count: Int
    public var queryCount: Int
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    /// "median".
    public var statistic: String
    public var rows: [Row]

    /// The header lines and the Markdown table.
    public var markdown: String {
      let table = BenchmarkTable(
        header: ["d", "update (ms)", "GEMM only (ms)", "update GFLOP/s", "GEMM GFLOP/s", "ratio"],
        rows: rows.map { r in
          [
            "\(r.dimension)", BenchmarkTable.fixed(r.updateSeconds * 1e3, 1),
            BenchmarkTable.fixed(r.gemmSeconds * 1e3, 1),
            BenchmarkTable.fixed(r.updateGFLOPS, 1), BenchmarkTable.fixed(r.gemmGFLOPS, 1),
            BenchmarkTable.fixed(r.ratio, 2),
          ]
        })
      return text(
        title: "Modern Hopfield update vs cblas_sgemm, Float, B = \(queryCount) queries, N = \(count) patterns",
        note: "(ratio = GEMM time / update time)", table: table)
    }
  }

  /// Times every dimension in turn.
  ///
  /// - Throws: ``/AttractorModels/ModelError`` when the model cannot be built.
  public func run() throws -> Report {
    let rows = try dimensions.map { try measure(dimension: $0) }
    let machine = BenchmarkMachine.current
    return Report(
      count: count, queryCount: queryCount, repetitions: repetitions, blasThreads: machine.blasThreads,
      cores: machine.cores, statistic: "median", rows: rows)
  }

  func measure(dimension d: Int) throws -> Row {
    var rng = SeededGenerator(seed: seed)
    let scale = 1 / Double(d).squareRoot()
    let stored: Matrix<Float> = rng.gaussianMatrix(rows: count, columns: d, standardDeviation: scale)
    let q: Matrix<Float> = rng.gaussianMatrix(rows: queryCount, columns: d, standardDeviation: scale)
    let beta = Float(Double(d).squareRoot())  // logits of order 1 for these pattern norms
    let model = try ModernHopfield(patterns: stored, beta: beta)

    var workspace = model.makeWorkspace(batchSize: queryCount)
    var next = Matrix<Float>(rows: queryCount, columns: d)
    let update = BenchmarkTimes.measure(repetitions: repetitions) {
      model.update(q, into: &next, workspace: &workspace)
    }

    var logits = Matrix<Float>(rows: queryCount, columns: count)
    var out = Matrix<Float>(rows: queryCount, columns: d)
    let gemm = BenchmarkTimes.measure(repetitions: repetitions) {
      Matrix.multiply(q, stored, transposeB: true, alpha: beta, into: &logits)
      Matrix.multiply(logits, stored, into: &out)
    }
    let flops = 4 * Double(queryCount) * Double(count) * Double(d)
    return Row(
      dimension: d, updateSeconds: update.median, gemmSeconds: gemm.median, updateGFLOPS: flops / update.median / 1e9,
      gemmGFLOPS: flops / gemm.median / 1e9, ratio: gemm.median / update.median)
  }
}

extension UpdateBenchmark.Report: BenchmarkReport {}
