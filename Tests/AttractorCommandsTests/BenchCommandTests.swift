import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// The message ArgumentParser would print for `bench <arguments>`, or nil if they parse.
private func benchRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(["bench"] + arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

/// `value` right-aligned in `width` characters, as the bench table prints it.
private func pad(_ value: Int, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - String(value).count)) + String(value)
}

/// The exit code ArgumentParser would use for `bench <arguments>` (0 when they parse).
private func benchExitCode(_ arguments: [String]) -> Int32 {
  do {
    _ = try Attractor.parseAsRoot(["bench"] + arguments)
    return 0
  } catch {
    return Attractor.exitCode(for: error).rawValue
  }
}

@Suite("attractor bench")
struct BenchCommandTests {
  /// Speed is never asserted: only that the mode runs, counts FLOPs as documented and writes
  /// inputs that reproduce its output.
  @Test("--model iterative-attention runs on a tiny model, counts FLOPs, and --save-inputs reproduces the output")
  func iterativeAttentionTiny() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let threads = BLAS.threadCount  // asked for explicitly, without changing the process-wide setting
    let parsed = try Attractor.parseAsRoot([
      "bench", "--model", "iterative-attention", "--layers", "2", "--heads", "2", "--width", "8", "--memory", "20",
      "--batch", "5", "--repeats", "2", "--threads", "\(threads)", "--temperature", "2", "--save-inputs", dir.path,
    ])
    let bench = try #require(parsed as? Bench)
    let report = try bench.iterativeAttentionReport()
    #expect(report.layers == 2 && report.heads == 2 && report.width == 8 && report.memory == 20 && report.batch == 5)
    #expect(report.blasThreads == threads && report.repetitions == 2 && report.savedTo == dir.path)
    // L·(4·B·d² + 4·B·M·d) and L·H·B·M.
    #expect(report.gemmFlops == 2 * (4 * 5 * 64 + 4 * 5 * 20 * 8))
    #expect(report.softmaxElements == 2 * 2 * 5 * 20)
    #expect(report.updateMinimumSeconds <= report.updateMedianSeconds && report.updateMedianSeconds > 0)
    #expect(report.gemmMinimumSeconds <= report.gemmMedianSeconds && report.gemmMedianSeconds > 0)
    let table = bench.iterativeAttentionTable(report)
    #expect(table.contains("L = 2 layers, H = 2 heads, d = 8, M = 20 memory entries, B = 5 queries, τ = 2"))
    #expect(table.split(separator: "\n").filter { $0.hasPrefix("| \(pad(threads, 7)) |") }.count == 1)

    // The saved files: shapes, and the output is one pass of the documented forward rule.
    func matrix(_ name: String) throws -> Matrix<Double> {
      try NumPyFile.read(from: dir.appendingPathComponent(name)).matrix(as: Double.self)
    }
    let q = try matrix("queries.npy"), keys = try matrix("keys.npy"), values = try matrix("values.npy")
    let out = try matrix("output.npy")
    #expect(q.rows == 5 && q.columns == 8 && keys.rows == 20 && values.rows == 20 && out.rows == 5 && out.columns == 8)
    func stacked(_ name: String) throws -> [Matrix<Double>] {
      let t = try NumPyFile.read(from: dir.appendingPathComponent(name))
      #expect(t.shape == [2, 8, 8])
      guard case .float32(let v) = t.storage else { throw CommandFailure("\(name) is not float32") }
      return (0..<2).map { l in Matrix(rows: 8, columns: 8, elements: v[(l * 64)..<((l + 1) * 64)].map { Double($0) }) }
    }
    let wq = try stacked("wq.npy"), wk = try stacked("wk.npy"), wv = try stacked("wv.npy"), wo = try stacked("wo.npy")
    let scale = 1 / (2 * Double(4).squareRoot())  // 1/(τ √d_h), τ = 2, d_h = 4
    var x = q
    for l in 0..<2 {
      let z = x * wq[l], k = keys * wk[l], v = values * wv[l]
      var heads = Matrix<Double>(rows: 5, columns: 8)
      for h in 0..<2 {
        for b in 0..<5 {
          let logits = (0..<20).map { i in scale * (0..<4).reduce(0.0) { $0 + z[b, h * 4 + $1] * k[i, h * 4 + $1] } }
          let p = softmax(logits)
          for j in 0..<4 { heads[b, h * 4 + j] = (0..<20).reduce(0.0) { $0 + p[$1] * v[$1, h * 4 + j] } }
        }
      }
      x = heads * wo[l]
    }
    let largest = x.elements.map(abs).max() ?? 1
    let error = zip(x.elements, out.elements).map { abs($0 - $1) }.max() ?? .infinity
    #expect(error <= 1e-5 * largest, "max |Swift − reference| = \(error)")

    // The modern Hopfield mode still parses and runs as before.
    var classic = try Attractor.parseAsRoot(["bench", "--patterns", "64", "--dimensions", "8", "--queries", "4", "--repetitions", "1"])
    try classic.run()
  }

  @Test("bad options give clear messages and exit code 64")
  func badOptions() {
    let ia = ["--model", "iterative-attention"]
    #expect(benchRejection(ia + ["--heads", "3"])?.contains("--width (256) must be a multiple of --heads (3)") == true)
    #expect(benchRejection(ia + ["--layers", "0"])?.contains("--layers must be between 1 and 64, got 0") == true)
    #expect(benchRejection(ia + ["--memory", "0"])?.contains("--memory must be between 1 and 10000000, got 0") == true)
    #expect(benchRejection(ia + ["--width", "0"])?.contains("--width must be between 1 and 65536") == true)
    #expect(benchRejection(ia + ["--temperature", "0"])?.contains("--temperature must be finite and positive") == true)
    #expect(benchRejection(ia + ["--batch", "0"])?.contains("--queries (--batch) must be between 1") == true)
    #expect(benchRejection(ia + ["--repeats", "0"])?.contains("--repetitions must be between 1 and 10000") == true)
    #expect(benchRejection(ia + ["--threads", "0"])?.contains("--threads must be between 1 and 1024") == true)
    #expect(benchRejection(ia + ["--memory", "10000000"])?.contains("GB of buffers") == true)
    #expect(benchRejection(ia + ["--patterns", "10"])?.contains("use --memory for iterative-attention") == true)
    #expect(benchRejection(ia + ["--dimensions", "64"])?.contains("use --width for iterative-attention") == true)
    #expect(benchRejection(ia + ["--save-inputs", ""])?.contains("--save-inputs needs a directory path") == true)
    #expect(benchRejection(["--layers", "4"])?.contains("--layers applies to --model iterative-attention only") == true)
    #expect(benchRejection(["--save-inputs", "x"])?.contains("--save-inputs applies to --model iterative-attention only") == true)
    #expect(benchRejection(["--model", "transformer"]) != nil)
    #expect(benchRejection(["--dimensions", "64,x"])?.contains("'64,x'") == true)
    for bad in [ia + ["--heads", "3"], ia + ["--memory", "0"], ["--layers", "4"], ["--model", "transformer"]] {
      #expect(benchExitCode(bad) == 64, "\(bad)")
    }
    #expect(benchRejection(ia + ["--layers", "1", "--heads", "1", "--width", "4", "--memory", "3", "--batch", "2"]) == nil)
  }
}
