import ArgumentParser
import Attractors
import Foundation

/// `--model` values of `attractor bench`.
public enum BenchModel: String, CaseIterable, ExpressibleByArgument, Sendable {
  case modernHopfield = "modern-hopfield"
  case iterativeAttention = "iterative-attention"
}

/// `attractor bench`: one model update timed beside plain `cblas_sgemm` calls on the same shapes.
///
/// `--model modern-hopfield` (the default) times the batched modern Hopfield update;
/// `--model iterative-attention` times one iteration (one pass through the stack) of an
/// `IterativeAttention` model (see `Bench+IterativeAttention.swift`).
public struct Bench: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Time one model update against plain cblas_sgemm on the same shapes.",
    discussion: """
      --model modern-hopfield (default): one update of B queries against N stored patterns of \
      dimension d is two GEMMs (logits = β Q Xᵀ, then P X after a row softmax): 4·B·N·d \
      floating-point operations. The reference times the same two cblas_sgemm calls on the same \
      preallocated buffers, in the same process, so the ratio isolates what the update adds (the \
      softmax). Both are reported in GFLOP/s counting the 4·B·N·d GEMM operations only.

      --model iterative-attention: one iteration (one pass through L layers of H heads, width d, \
      memory of M keys and values) of a seeded random IterativeAttention model on B queries. Per \
      layer: 2·B·d² (q W_Q) + H·2·B·M·d_h (logits) + H·2·B·M·d_h (attention × values) + 2·B·d² \
      (output W_O) GEMM operations, i.e. L·(4·B·d² + 4·B·M·d) in all, plus a row softmax over \
      L·H·B·M logits (not counted in GFLOP/s). The reference runs the same cblas_sgemm calls \
      (same shapes, same strides) without the softmax. --save-inputs DIR writes the model, memory, \
      queries and the output of one iteration as .npy files (Scripts/bench_iterative.py checks \
      NumPy against them).

      Float throughout; median (and minimum) of --repetitions timed runs after one warm-up, on a \
      monotonic clock.
      """)

  @Option(help: "Model to time: modern-hopfield or iterative-attention.")
  var model: BenchModel = .modernHopfield

  @Option(name: [.customLong("queries"), .customLong("batch")], help: "Number of queries B (batch size).")
  var queries = 1024

  @Option(help: ArgumentHelp("Number of stored patterns N (modern-hopfield; default 8192).", valueName: "N"))
  var patterns: Int?

  @Option(help: ArgumentHelp("State dimensions d to run, comma-separated (modern-hopfield; default 64,256).", valueName: "d-list"))
  var dimensions: String?

  @Option(help: ArgumentHelp("Attention layers L (iterative-attention; default 4).", valueName: "L"))
  var layers: Int?

  @Option(help: ArgumentHelp("Heads per layer H (iterative-attention; default 8; must divide --width).", valueName: "H"))
  var heads: Int?

  @Option(help: ArgumentHelp("Model width d (iterative-attention; default 256).", valueName: "d"))
  var width: Int?

  @Option(help: ArgumentHelp("Memory size M, keys and values (iterative-attention; default 10000).", valueName: "M"))
  var memory: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Temperature τ (iterative-attention; default 1).", valueName: "τ"))
  var temperature: Double?

  @Option(name: .customLong("save-inputs"), help: ArgumentHelp("Directory to write the model, memory, queries and one iteration's output as .npy (iterative-attention).", valueName: "dir"))
  var saveInputs: String?

  @Option(name: [.customLong("repetitions"), .customLong("repeats")], help: "Timed repetitions per measurement (after one warm-up).")
  var repetitions = 10

  @Option(help: "OpenBLAS threads (default: the library's own choice).") var threads: Int?
  @Option(help: "Seed for the random model, patterns and queries.") var seed: UInt64 = 0
  @Flag(help: "Print one JSON object instead of the table.") var json = false

  public init() {}

  func parsedDimensions() throws -> [Int] {
    let text = dimensions ?? "64,256"
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 >= 1 && $0 <= 65_536 }) else {
      throw ValidationError("--dimensions takes comma-separated integers between 1 and 65536, got '\(text)'")
    }
    return values
  }

  public func validate() throws {
    guard (1...1_000_000).contains(queries) else { throw ValidationError("--queries (--batch) must be between 1 and 1000000, got \(queries)") }
    guard (1...10_000).contains(repetitions) else { throw ValidationError("--repetitions must be between 1 and 10000, got \(repetitions)") }
    if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
    switch model {
    case .modernHopfield:
      let iterativeOnly: [(String, Bool)] = [
        ("--layers", layers != nil), ("--heads", heads != nil), ("--width", width != nil), ("--memory", memory != nil),
        ("--temperature", temperature != nil), ("--save-inputs", saveInputs != nil),
      ]
      if let (name, _) = iterativeOnly.first(where: { $0.1 }) {
        throw ValidationError("\(name) applies to --model iterative-attention only")
      }
      let patterns = self.patterns ?? 8192
      guard (1...10_000_000).contains(patterns) else { throw ValidationError("--patterns must be between 1 and 10000000, got \(patterns)") }
      let dims = try parsedDimensions()
      let largest = dims.max() ?? 1
      let bytes = 4.0 * (Double(queries) * Double(patterns) + 2 * Double(patterns) * Double(largest) + 2 * Double(queries) * Double(largest))
      guard bytes < 8e9 else {
        throw ValidationError("these sizes need about \(Int(bytes / 1e9)) GB of buffers; reduce --queries, --patterns or --dimensions")
      }
    case .iterativeAttention:
      try validateIterativeAttention()
    }
  }

  struct Row: Codable {
    let dimension: Int
    let updateSeconds: Double
    let gemmSeconds: Double
    let updateGFLOPS: Double
    let gemmGFLOPS: Double
    let ratio: Double
  }

  struct Report: Codable {
    let queries: Int
    let patterns: Int
    let repetitions: Int
    let blasThreads: Int
    let cores: Int
    let statistic: String
    let rows: [Row]
  }

  public func run() throws {
    if let threads { BLAS.setThreadCount(threads) }
    if model == .iterativeAttention {
      let report = try iterativeAttentionReport()
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        print(iterativeAttentionTable(report), terminator: "")
      }
      return
    }
    var rows: [Row] = []
    for d in try parsedDimensions() {
      rows.append(try measure(dimension: d))
    }
    let report = Report(
      queries: queries, patterns: patterns ?? 8192, repetitions: repetitions, blasThreads: BLAS.threadCount,
      cores: ProcessInfo.processInfo.activeProcessorCount, statistic: "median", rows: rows)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
      return
    }
    print("Modern Hopfield update vs cblas_sgemm, Float, B = \(queries) queries, N = \(patterns ?? 8192) patterns")
    print("OpenBLAS threads: \(report.blasThreads), cores: \(report.cores), median of \(repetitions) runs after a warm-up")
    print("")
    print("|   d | update (ms) | GEMM only (ms) | update GFLOP/s | GEMM GFLOP/s | ratio |")
    print("|----:|------------:|---------------:|---------------:|-------------:|------:|")
    for r in rows {
      print(
        "| \(pad(r.dimension, 3)) | \(pad(r.updateSeconds * 1e3, 11)) | \(pad(r.gemmSeconds * 1e3, 14)) | "
          + "\(pad(r.updateGFLOPS, 14)) | \(pad(r.gemmGFLOPS, 12)) | \(pad(r.ratio, 5, digits: 2)) |")
    }
  }

  func measure(dimension d: Int) throws -> Row {
    var rng = SeededGenerator(seed: seed)
    let patterns = self.patterns ?? 8192
    let stored: Matrix<Float> = rng.gaussianMatrix(rows: patterns, columns: d, standardDeviation: 1 / Double(d).squareRoot())
    let q: Matrix<Float> = rng.gaussianMatrix(rows: queries, columns: d, standardDeviation: 1 / Double(d).squareRoot())
    let beta = Float(Double(d).squareRoot())  // logits of order 1 for these pattern norms
    let model = try ModernHopfield(patterns: stored, beta: beta)

    var workspace = model.makeWorkspace(batchSize: queries)
    var next = Matrix<Float>(rows: queries, columns: d)
    let update = median(timings {
      model.update(q, into: &next, workspace: &workspace)
    })

    var logits = Matrix<Float>(rows: queries, columns: patterns)
    var out = Matrix<Float>(rows: queries, columns: d)
    let gemm = median(timings {
      Matrix.multiply(q, stored, transposeB: true, alpha: beta, into: &logits)
      Matrix.multiply(logits, stored, into: &out)
    })

    let flops = 4 * Double(queries) * Double(patterns) * Double(d)
    return Row(
      dimension: d, updateSeconds: update, gemmSeconds: gemm, updateGFLOPS: flops / update / 1e9,
      gemmGFLOPS: flops / gemm / 1e9, ratio: gemm / update)
  }

  func timings(_ body: () -> Void) -> [Double] {
    body()  // warm-up: page faults, OpenBLAS thread start
    let clock = ContinuousClock()
    return (0..<repetitions).map { _ in
      let elapsed = clock.measure(body)
      return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
  }
}

func median(_ values: [Double]) -> Double {
  let s = values.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func pad(_ value: Int, _ width: Int) -> String {
  let s = String(value)
  return String(repeating: " ", count: max(0, width - s.count)) + s
}

func pad(_ value: Double, _ width: Int, digits: Int = 1) -> String {
  let s = String(format: "%.\(digits)f", value)
  return String(repeating: " ", count: max(0, width - s.count)) + s
}
