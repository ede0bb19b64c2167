import ArgumentParser
import Attractors
import Foundation

/// What `attractor bench --model iterative-attention` measured: one iteration of a random
/// `IterativeAttention` stack beside the same `cblas_sgemm` calls without the softmax.
public struct IterativeAttentionBenchReport: Codable, Sendable, Equatable {
  /// Layers L.
  public let layers: Int
  /// Heads per layer H.
  public let heads: Int
  /// Model width d.
  public let width: Int
  /// Memory size M (keys and values).
  public let memory: Int
  /// Queries B.
  public let batch: Int
  /// Temperature τ (logits scaled by 1/(τ √d_h)).
  public let temperature: Double
  /// Timed repetitions per measurement (after one warm-up).
  public let repetitions: Int
  /// OpenBLAS threads during the run.
  public let blasThreads: Int
  /// Online cores of the machine.
  public let cores: Int
  /// GEMM floating-point operations of one iteration: L·(4·B·d² + 4·B·M·d).
  public let gemmFlops: Double
  /// Logits put through the row softmax in one iteration: L·H·B·M (not counted in ``gemmFlops``).
  public let softmaxElements: Double
  /// Median and minimum wall time of one `update` (one pass through the stack), in seconds.
  public let updateMedianSeconds: Double
  public let updateMinimumSeconds: Double
  /// Median and minimum wall time of the same GEMMs alone, in seconds.
  public let gemmMedianSeconds: Double
  public let gemmMinimumSeconds: Double
  /// ``gemmFlops`` / median update time, in GFLOP/s.
  public let updateGFLOPS: Double
  /// ``gemmFlops`` / median GEMM time, in GFLOP/s.
  public let gemmGFLOPS: Double
  /// Median GEMM time / median update time: the share of the update spent in the GEMMs.
  public let ratio: Double
  /// Where `--save-inputs` wrote the .npy files, if it was given.
  public let savedTo: String?
}

extension Bench {
  var iterativeLayers: Int { layers ?? 4 }
  var iterativeHeads: Int { heads ?? 8 }
  var iterativeWidth: Int { width ?? 256 }
  var iterativeMemory: Int { memory ?? 10_000 }
  var iterativeTemperature: Double { temperature ?? 1 }

  func validateIterativeAttention() throws {
    if patterns != nil { throw ValidationError("--patterns applies to --model modern-hopfield; use --memory for iterative-attention") }
    if dimensions != nil { throw ValidationError("--dimensions applies to --model modern-hopfield; use --width for iterative-attention") }
    let l = iterativeLayers, h = iterativeHeads, d = iterativeWidth, m = iterativeMemory, tau = iterativeTemperature
    guard (1...64).contains(l) else { throw ValidationError("--layers must be between 1 and 64, got \(l)") }
    guard (1...1024).contains(h) else { throw ValidationError("--heads must be between 1 and 1024, got \(h)") }
    guard (1...65_536).contains(d) else { throw ValidationError("--width must be between 1 and 65536, got \(d)") }
    guard d % h == 0 else { throw ValidationError("--width (\(d)) must be a multiple of --heads (\(h))") }
    guard (1...10_000_000).contains(m) else { throw ValidationError("--memory must be between 1 and 10000000, got \(m)") }
    guard tau.isFinite && tau > 0 else { throw ValidationError("--temperature must be finite and positive, got \(tau)") }
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a directory path") }
    // Attention weights of every head (kept by the model), the reference's logits, the memory and
    // its projections per layer, the layer inputs and the weights.
    let b = Double(queries), dm = Double(m), dd = Double(d), dl = Double(l)
    let bytes = 4 * (b * dm * (Double(h) + 1) + 2 * dm * dd * (dl + 1) + (dl + 4) * b * dd + 4 * dl * dd * dd)
    guard bytes < 8e9 else {
      throw ValidationError(
        "these sizes need about \(Int((bytes / 1e9).rounded(.up))) GB of buffers; reduce --batch, --memory, --heads or --width")
    }
  }

  /// Builds the seeded model and inputs, optionally writes them (`--save-inputs`), and times one
  /// iteration beside the same GEMMs.
  ///
  /// The memory is M Gaussian N(0, 1) vectors, used as both keys and values; the queries are the
  /// first B of them (cyclically) plus N(0, 0.25²) noise; the projections are
  /// `IterativeAttention.random(configuration:keys:values:generator:)` (N(0, 1/d)), all from `--seed`.
  ///
  /// `--threads`, when given, sets the OpenBLAS thread count for the rest of the process.
  ///
  /// - Throws: ``CommandFailure`` when the model cannot be built or the files cannot be written.
  public func iterativeAttentionReport() throws -> IterativeAttentionBenchReport {
    if let threads { BLAS.setThreadCount(threads) }
    let l = iterativeLayers, h = iterativeHeads, d = iterativeWidth, m = iterativeMemory, b = queries
    let configuration = IterativeAttentionConfiguration(layers: l, heads: h, width: d, temperature: iterativeTemperature)
    var rng = SeededGenerator(seed: seed)
    let stored: Matrix<Float> = rng.gaussianMatrix(rows: m, columns: d)
    let attention: IterativeAttention<Float>
    do {
      attention = try IterativeAttention.random(configuration: configuration, keys: stored, values: stored, generator: &rng)
    } catch {
      throw CommandFailure("could not build the iterative-attention model: \(error)")
    }
    let noise: Matrix<Float> = rng.gaussianMatrix(rows: b, columns: d, standardDeviation: 0.25)
    let cues = Matrix<Float>(rows: b, columns: d) { i, j in stored[i % m, j] + noise[i, j] }

    var workspace = attention.makeWorkspace(batchSize: b)
    var next = Matrix<Float>(rows: b, columns: d)
    var savedTo: String?
    if let saveInputs {
      attention.update(cues, into: &next, workspace: &workspace)
      try save(attention, queries: cues, output: next, to: URL(fileURLWithPath: saveInputs))
      savedTo = saveInputs
    }
    let update = timings { attention.update(cues, into: &next, workspace: &workspace) }

    var reference = GEMMReference(attention, batch: b)
    let gemm = timings { reference.run(cues) }

    let dl = Double(l), db = Double(b), dd = Double(d), dm = Double(m)
    let flops = dl * (4 * db * dd * dd + 4 * db * dm * dd)
    let updateMedian = median(update), gemmMedian = median(gemm)
    return IterativeAttentionBenchReport(
      layers: l, heads: h, width: d, memory: m, batch: b, temperature: iterativeTemperature, repetitions: repetitions,
      blasThreads: BLAS.threadCount, cores: ProcessInfo.processInfo.activeProcessorCount, gemmFlops: flops,
      softmaxElements: dl * Double(h) * db * dm, updateMedianSeconds: updateMedian,
      updateMinimumSeconds: update.min() ?? updateMedian, gemmMedianSeconds: gemmMedian,
      gemmMinimumSeconds: gemm.min() ?? gemmMedian, updateGFLOPS: flops / updateMedian / 1e9,
      gemmGFLOPS: flops / gemmMedian / 1e9, ratio: gemmMedian / updateMedian, savedTo: savedTo)
  }

  /// The report as a Markdown table with its header lines.
  public func iterativeAttentionTable(_ r: IterativeAttentionBenchReport) -> String {
    var lines: [String] = []
    lines.append(
      "Iterative attention, one iteration vs cblas_sgemm, Float: L = \(r.layers) layers, H = \(r.heads) heads, "
        + "d = \(r.width), M = \(r.memory) memory entries, B = \(r.batch) queries, τ = \(Format.compact(r.temperature))")
    lines.append(
      "GEMM FLOPs L·(4·B·d² + 4·B·M·d) = \(String(format: "%.4g", r.gemmFlops)); softmax over L·H·B·M = "
        + "\(String(format: "%.4g", r.softmaxElements)) logits (not counted)")
    lines.append(
      "OpenBLAS threads: \(r.blasThreads), cores: \(r.cores), median (min) of \(r.repetitions) runs after a warm-up")
    if let saved = r.savedTo { lines.append("inputs, weights and output written to \(saved)") }
    lines.append("")
    lines.append("| threads | update median (ms) | update min (ms) | GEMM only median (ms) | GEMM min (ms) | update GFLOP/s | GEMM GFLOP/s | ratio |")
    lines.append("|--------:|-------------------:|----------------:|----------------------:|--------------:|---------------:|-------------:|------:|")
    lines.append(
      "| \(pad(r.blasThreads, 7)) | \(pad(r.updateMedianSeconds * 1e3, 18, digits: 2)) | \(pad(r.updateMinimumSeconds * 1e3, 15, digits: 2)) | "
        + "\(pad(r.gemmMedianSeconds * 1e3, 21, digits: 2)) | \(pad(r.gemmMinimumSeconds * 1e3, 13, digits: 2)) | "
        + "\(pad(r.updateGFLOPS, 14)) | \(pad(r.gemmGFLOPS, 12)) | \(pad(r.ratio, 5, digits: 2)) |")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the model's projections (stacked per layer, L × d × d, row-vector convention: z = q W),
  /// the memory, the queries, the output of one iteration and the configuration.
  func save(_ model: IterativeAttention<Float>, queries: Matrix<Float>, output: Matrix<Float>, to dir: URL) throws {
    do {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch {
      throw CommandFailure("could not create the --save-inputs directory \(dir.path): \(error.localizedDescription)")
    }
    let d = model.dimension, l = model.layers.count
    func stacked(_ pick: (AttentionLayerParameters<Float>) -> Matrix<Float>) throws -> Tensor {
      try Tensor(shape: [l, d, d], storage: .float32(model.layers.flatMap { pick($0).elements }))
    }
    let files: [(String, Tensor)] = [
      ("queries.npy", Tensor(queries)), ("keys.npy", Tensor(model.keys)), ("values.npy", Tensor(model.values)),
      ("wq.npy", try stacked(\.query)), ("wk.npy", try stacked(\.key)), ("wv.npy", try stacked(\.value)),
      ("wo.npy", try stacked(\.output)), ("output.npy", Tensor(output)),
    ]
    for (name, tensor) in files {
      do {
        try NumPyFile.write(tensor, to: dir.appendingPathComponent(name))
      } catch {
        throw CommandFailure("could not write \(name) to \(dir.path): \(error)")
      }
    }
    let c = model.configuration
    let config: [String: Double] = [
      "layers": Double(c.layers), "heads": Double(c.heads), "width": Double(c.width), "temperature": c.temperature,
      "logitScale": c.logitScale, "memory": Double(model.memorySize), "batch": Double(queries.rows), "seed": Double(seed),
    ]
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try encoder.encode(config).write(to: dir.appendingPathComponent("config.json"), options: .atomic)
    } catch {
      throw CommandFailure("could not write config.json to \(dir.path): \(error.localizedDescription)")
    }
  }
}

/// The GEMMs of one iteration of an `IterativeAttention` stack with nothing else: the same
/// `cblas_sgemm` calls (shapes, strides, α) on preallocated buffers, with the softmax left out.
/// The projected memory K W_K, V W_V is computed once here, as the model's workspace does.
struct GEMMReference {
  let model: IterativeAttention<Float>
  let projectedKeys: [Matrix<Float>]
  let projectedValues: [Matrix<Float>]
  var projectedQueries: Matrix<Float>
  var logits: Matrix<Float>  // B × M, reused by every head
  var heads: Matrix<Float>
  var layerOutputs: [Matrix<Float>]

  init(_ model: IterativeAttention<Float>, batch b: Int) {
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
