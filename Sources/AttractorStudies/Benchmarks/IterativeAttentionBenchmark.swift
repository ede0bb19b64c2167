import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// One iteration of an attention stack timed against its own `cblas_sgemm` calls
/// (`attractor bench iterative-attention`).
///
/// **Measured:** one `update` (one pass through L layers of H heads, width d, over a memory of M keys
/// and values) of a seeded random `IterativeAttention<Float>` on B queries. Per layer:
/// 2·B·d² (q W_Q) + H·2·B·M·d_h (logits) + H·2·B·M·d_h (attention × values) + 2·B·d² (output W_O)
/// GEMM operations, L·(4·B·d² + 4·B·M·d) in all, plus a row softmax over L·H·B·M logits (not
/// counted in GFLOP/s).
///
/// **Ratio against:** the same `cblas_sgemm` calls (shapes, strides, α) on preallocated buffers
/// without the softmax, in the same process; ratio = GEMM time / update time.
///
/// **Threads:** the OpenBLAS thread count in force (recorded in the report); Float; median and
/// minimum of ``repetitions`` runs after one warm-up.
///
/// The memory is M Gaussian N(0, 1) vectors used as both keys and values; the queries are the first
/// B of them (cyclically) plus N(0, 0.25²) noise; the projections are
/// `IterativeAttention.random(configuration:keys:values:generator:)` (N(0, 1/d)), all from ``seed``.
public struct IterativeAttentionBenchmark: Sendable, Equatable {
  /// Layers L.
  public var layers = 4
  /// Heads per layer H (must divide ``dimension``).
  public var heads = 8
  /// Model width d.
  public var dimension = 256
  /// Memory size M (keys and values).
  public var count = 10_000
  /// Queries B.
  public var queryCount = 1024
  /// Temperature τ (logits scaled by 1/(τ √d_h)).
  public var temperature = 1.0
  /// Timed repetitions after one warm-up.
  public var repetitions = 10
  public var seed: UInt64 = 0
  /// Where to write the model, memory, queries and one iteration's output as .npy files
  /// (Scripts/bench_iterative.py checks NumPy against them); `nil` writes nothing.
  public var inputsFolder: URL?

  public init() {}

  /// Bytes of the buffers: the attention weights of every head, the reference's logits, the memory
  /// and its projections per layer, the layer inputs and the weights.
  public var bufferBytes: Double {
    let b = Double(queryCount), m = Double(count), d = Double(dimension), l = Double(layers)
    return 4 * (b * m * (Double(heads) + 1) + 2 * m * d * (l + 1) + (l + 4) * b * d + 4 * l * d * d)
  }

  /// What ``run()`` measured.
  public struct Report: Sendable, Codable, Equatable {
    public var layers: Int
    public var heads: Int
    public var dimension: Int
    public var count: Int
    public var queryCount: Int
    public var temperature: Double
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    /// GEMM floating-point operations of one iteration: L·(4·B·d² + 4·B·M·d).
    public var gemmFlops: Double
    /// Logits put through the row softmax in one iteration: L·H·B·M (not in ``gemmFlops``).
    public var softmaxElements: Double
    public var updateMedianSeconds: Double
    public var updateMinimumSeconds: Double
    public var gemmMedianSeconds: Double
    public var gemmMinimumSeconds: Double
    /// ``gemmFlops`` / median update time, in GFLOP/s.
    public var updateGFLOPS: Double
    /// ``gemmFlops`` / median GEMM time, in GFLOP/s.
    public var gemmGFLOPS: Double
    /// Median GEMM time / median update time.
    public var ratio: Double
    /// Where the .npy files were written, if they were.
    public var savedTo: String?

    /// The header lines and the Markdown table.
    public var markdown: String {
      var lines = [
        "Iterative attention, one iteration vs cblas_sgemm, Float: L = \(layers) layers, H = \(heads) heads, "
          + "d = \(dimension), M = \(count) memory entries, B = \(queryCount) queries, τ = \(BenchmarkTable.compact(temperature))",
        "GEMM FLOPs L·(4·B·d² + 4·B·M·d) = \(BenchmarkTable.general(gemmFlops)); softmax over L·H·B·M = "
          + "\(BenchmarkTable.general(softmaxElements)) logits (not counted)",
        timing(statistic: "median (min)")
          + " (ratio = GEMM time / update time)",
      ]
      if let savedTo { lines.append("inputs, weights and output written to \(savedTo)") }
      let ms = { (x: Double) in BenchmarkTable.fixed(x * 1e3, 2) }
      let table = BenchmarkTable(
        header: [
          "threads", "update median (ms)", "update min (ms)", "GEMM only median (ms)", "GEMM min (ms)",
          "update GFLOP/s",
          "GEMM GFLOP/s", "ratio",
        ],
        rows: [
          [
            "\(blasThreads)", ms(updateMedianSeconds), ms(updateMinimumSeconds), ms(gemmMedianSeconds),
            ms(gemmMinimumSeconds),
            BenchmarkTable.fixed(updateGFLOPS, 1), BenchmarkTable.fixed(gemmGFLOPS, 1), BenchmarkTable.fixed(ratio, 2),
          ]
        ])
      return lines.joined(separator: "\n") + "\n\n" + table.markdown + "\n"
    }
  }

  /// Builds the seeded model and inputs, writes them when ``inputsFolder`` is set, and times one
  /// iteration beside the same GEMMs.
  ///
  /// - Throws: ``/AttractorModels/ModelError`` when the model cannot be built; file errors from writing the inputs.
  public func run() throws -> Report {
    let configuration = IterativeAttentionConfiguration(
      layers: layers, heads: heads, width: dimension, temperature: temperature)
    var rng = SeededGenerator(seed: seed)
    let stored: Matrix<Float> = rng.gaussianMatrix(rows: count, columns: dimension)
    let attention = try IterativeAttention.random(
      configuration: configuration, keys: stored, values: stored, generator: &rng)
    let noise: Matrix<Float> = rng.gaussianMatrix(rows: queryCount, columns: dimension, standardDeviation: 0.25)
    let cues = Matrix<Float>(rows: queryCount, columns: dimension) { i, j in stored[i % count, j] + noise[i, j] }

    var workspace = attention.makeWorkspace(batchSize: queryCount)
    var next = Matrix<Float>(rows: queryCount, columns: dimension)
    if let inputsFolder {
      attention.update(cues, into: &next, workspace: &workspace)
      try save(attention, queries: cues, output: next, to: inputsFolder)
    }
    let update = BenchmarkTimes.measure(repetitions: repetitions) {
      attention.update(cues, into: &next, workspace: &workspace)
    }
    var reference = IterativeAttentionGEMMs(attention, queryCount: queryCount)
    let gemm = BenchmarkTimes.measure(repetitions: repetitions) { reference.run(cues) }

    let l = Double(layers), b = Double(queryCount), d = Double(dimension), m = Double(count)
    let flops = l * (4 * b * d * d + 4 * b * m * d)
    let machine = BenchmarkMachine.current
    return Report(
      layers: layers, heads: heads, dimension: dimension, count: count, queryCount: queryCount,
      temperature: temperature,
      repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores, gemmFlops: flops,
      softmaxElements: l * Double(heads) * b * m, updateMedianSeconds: update.median,
      updateMinimumSeconds: update.minimum,
      gemmMedianSeconds: gemm.median, gemmMinimumSeconds: gemm.minimum, updateGFLOPS: flops / update.median / 1e9,
      gemmGFLOPS: flops / gemm.median / 1e9, ratio: gemm.median / update.median, savedTo: inputsFolder?.path)
  }

  /// Writes the projections (stacked per layer, L × d × d, row-vector convention z = q W), the
  /// memory, the queries, the output of one iteration and config.json.
  func save(_ model: IterativeAttention<Float>, queries: Matrix<Float>, output: Matrix<Float>, to folder: URL) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let d = model.dimension, l = model.layers.count
    func stacked(_ pick: (AttentionLayerParameters<Float>) -> Matrix<Float>) throws -> Tensor {
      try Tensor(shape: [l, d, d], storage: .float32(model.layers.flatMap { pick($0).elements }))
    }
    let files: [(String, Tensor)] = [
      ("queries.npy", Tensor(queries)), ("keys.npy", Tensor(model.keys)), ("values.npy", Tensor(model.values)),
      ("wq.npy", try stacked(\.query)), ("wk.npy", try stacked(\.key)), ("wv.npy", try stacked(\.value)),
      ("wo.npy", try stacked(\.output)), ("output.npy", Tensor(output)),
    ]
    for (name, tensor) in files { try NumPyFile.write(tensor, to: folder.appendingPathComponent(name)) }
    let c = model.configuration
    let config: [String: Double] = [
      "layers": Double(c.layers), "heads": Double(c.heads), "dimension": Double(c.width), "temperature": c.temperature,
      "logitScale": c.logitScale, "count": Double(model.memorySize), "queryCount": Double(queries.rows),
      "seed": Double(seed),
    ]
    try JSONCoding.encode(config).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
  }
}

/// The GEMMs of one iteration of an `IterativeAttention` stack with nothing else: the same
/// `cblas_sgemm` calls (shapes, strides, α) on preallocated buffers, the softmax left out. The
/// projected memory K W_K, V W_V is computed once here, as the model's workspace does.
struct IterativeAttentionGEMMs {
  let model: IterativeAttention<Float>
  let projectedKeys: [Matrix<Float>]
  let projectedValues: [Matrix<Float>]
  var projectedQueries: Matrix<Float>
  var logits: Matrix<Float>  // B × M, reused by every head
  var heads: Matrix<Float>
  var layerOutputs: [Matrix<Float>]

  init(_ model: IterativeAttention<Float>, queryCount b: Int) {
    self.model = model
    let d = model.dimension
    projectedKeys = model.layers.map { model.keys.multiplied(by: $0.key) }
    projectedValues = model.layers.map { model.values.multiplied(by: $0.value) }
    projectedQueries = Matrix(rows: b, columns: d)
    logits = Matrix(rows: b, columns: model.memorySize)
    heads = Matrix(rows: b, columns: d)
    layerOutputs = (0..<model.layers.count).map { _ in Matrix(rows: b, columns: d) }
  }

  mutating func run(_ queries: Matrix<Float>) {
    let b = queries.rows, d = model.dimension, m = model.memorySize, dh = model.configuration.headWidth
    let scale = Float(model.configuration.logitScale)
    for l in 0..<model.layers.count {
      Matrix.multiply(l == 0 ? queries : layerOutputs[l - 1], model.layers[l].query, into: &projectedQueries)
      for h in 0..<model.configuration.heads {
        projectedQueries.withUnsafeBufferPointer { z in
          projectedKeys[l].withUnsafeBufferPointer { k in
            logits.withUnsafeMutableBufferPointer { a in
              Float.gemm(
                transposeA: false, transposeB: true, m: b, n: m, k: dh, alpha: scale,
                a: z.baseAddress! + h * dh, lda: d, b: k.baseAddress! + h * dh, ldb: d,
                beta: 0, c: a.baseAddress!, ldc: m)
            }
          }
        }
        logits.withUnsafeBufferPointer { p in
          projectedValues[l].withUnsafeBufferPointer { v in
            heads.withUnsafeMutableBufferPointer { o in
              Float.gemm(
                transposeA: false, transposeB: false, m: b, n: dh, k: m, alpha: 1,
                a: p.baseAddress!, lda: m, b: v.baseAddress! + h * dh, ldb: d,
                beta: 0, c: o.baseAddress! + h * dh, ldc: d)
            }
          }
        }
      }
      Matrix.multiply(heads, model.layers[l].output, into: &layerOutputs[l])
    }
  }
}

extension IterativeAttentionBenchmark.Report: BenchmarkReport {}
