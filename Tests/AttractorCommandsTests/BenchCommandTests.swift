import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// A fresh temporary folder, removed by the caller.
private func scratchFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-bench-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The message ArgumentParser would print for `bench <arguments>`, or nil if they parse.
private func benchRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Bench.parseAsRoot(arguments)
    return nil
  } catch {
    return Bench.message(for: error)
  }
}

/// The exit code ArgumentParser would use for `bench <arguments>` (0 when they parse).
private func benchExitCode(_ arguments: [String]) -> Int32 {
  do {
    _ = try Bench.parseAsRoot(arguments)
    return 0
  } catch {
    return Bench.exitCode(for: error).rawValue
  }
}

/// What `attractor bench <arguments>` prints, run in process.
private func benchOutput(_ arguments: [String]) throws -> String {
  let command = try Bench.parseAsRoot(arguments)
  switch command {
  case let c as BenchUpdate: return try c.printed()
  case let c as BenchIterativeAttention: return try c.printed()
  case let c as BenchClassify: return try c.printed()
  case let c as BenchDenseSweep: return try c.printed()
  case let c as BenchCompare: return try c.printed()
  default: throw CommandFailure("not a bench subcommand: \(arguments)")
  }
}

/// `text` parsed as one JSON object.
private func jsonObject(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

private let tinyStudy = """
  {"name": "tiny", "queries": 12, "steps": [1, 2], "seeds": [0],
   "models": [{"model": "modern", "beta": 1}, {"model": "dense-exponential"}],
   "datasets": [{"kind": "gaussian", "count": 5, "dimension": 16}],
   "corruptions": [{"kind": "overlap", "levels": [0.8]}]}
  """

/// Speed is never asserted: only that each benchmark runs on a tiny size, prints its figures with
/// the BLAS thread count, and that --json is one valid JSON object.
@Suite("attractor bench")
struct BenchCommandTests {
  @Test("every subcommand runs on a tiny size; the table names the thread count and --json parses")
  func everySubcommandTiny() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("tiny.json")
    try tinyStudy.write(to: spec, atomically: true, encoding: .utf8)
    let runs: [[String]] = [
      ["update", "--count", "64", "--dimension", "8,16", "--query-count", "4", "--repetitions", "1"],
      [
        "iterative-attention", "--layers", "1", "--heads", "2", "--dimension", "8", "--count", "20", "--query-count",
        "5", "--repetitions", "1",
      ],
      ["classify", "--count", "6", "--dimension", "4", "--points", "5", "--repetitions", "1"],
      ["dense-sweep", "--dimension", "12", "--count", "3", "--starts", "8", "--workers", "2", "--repetitions", "1"],
      ["compare", "--study", spec.path, "--query-count", "8", "--repetitions", "1"],
    ]
    for arguments in runs {
      let table = try benchOutput(arguments)
      #expect(table.contains("OpenBLAS threads: \(BLAS.threadCount)"), "\(arguments): \(table)")
      #expect(table.contains("|---"), "\(arguments): no table in \(table)")
      let object = try jsonObject(try benchOutput(arguments + ["--json"]))
      #expect(object["blasThreads"] as? Int == BLAS.threadCount, "\(arguments)")
      #expect(object["blasCore"] as? String == BLAS.coreName, "\(arguments)")
      #expect((object["blasConfig"] as? String)?.contains("OpenBLAS") == true, "\(arguments)")
    }
    let update = try jsonObject(try benchOutput(runs[0] + ["--json"]))
    let rows = try #require(update["rows"] as? [[String: Any]])
    #expect(rows.map { $0["dimension"] as? Int } == [8, 16] && rows.allSatisfy { ($0["ratio"] as? Double ?? 0) > 0 })
    let sweep = try jsonObject(try benchOutput(runs[3] + ["--json"]))
    #expect((sweep["rows"] as? [[String: Any]])?.map { $0["workers"] as? Int } == [1, 2])
    let study = try jsonObject(try benchOutput(runs[4] + ["--json"]))
    #expect((study["rows"] as? [[String: Any]])?.map { $0["model"] as? String } == ["modern β=1", "dense exp"])
  }

  @Test("iterative-attention counts FLOPs as documented and --save-inputs reproduces the output")
  func iterativeAttentionInputs() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try #require(
      try Bench.parseAsRoot([
        "iterative-attention", "--layers", "2", "--heads", "2", "--dimension", "8", "--count", "20", "--query-count",
        "5",
        "--repetitions", "2", "--temperature", "2", "--save-inputs", dir.path,
      ]) as? BenchIterativeAttention)
    let report = try command.benchmark.run()
    #expect(
      report.layers == 2 && report.heads == 2 && report.dimension == 8 && report.count == 20 && report.queryCount == 5)
    #expect(report.repetitions == 2 && report.savedTo == dir.path)
    #expect(report.gemmFlops == 2 * (4 * 5 * 64 + 4 * 5 * 20 * 8))  // L·(4·B·d² + 4·B·M·d)
    #expect(report.softmaxElements == 2 * 2 * 5 * 20)  // L·H·B·M
    #expect(report.updateMinimumSeconds <= report.updateMedianSeconds && report.updateMedianSeconds > 0)
    #expect(report.markdown.contains("L = 2 layers, H = 2 heads, d = 8, M = 20 memory entries, B = 5 queries, τ = 2"))

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
    let config = try jsonObject(
      String(decoding: try Data(contentsOf: dir.appendingPathComponent("config.json")), as: UTF8.self))
    #expect(config["heads"] as? Double == 2 && config["logitScale"] as? Double == scale)
  }

  @Test("classify --save-inputs writes what Scripts/bench_analysis.py reads")
  func classifyInputs() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let json = try jsonObject(
      try benchOutput([
        "classify", "--count", "5", "--dimension", "4", "--points", "7", "--repetitions", "2", "--json",
        "--save-inputs", dir.path,
      ]))
    for key in ["allSeconds", "seconds", "countByClass", "convergedPoints", "patternCount"] {
      #expect(json[key] != nil, "\(key)")
    }
    #expect((json["allSeconds"] as? [Double])?.count == 2 && json["points"] as? Int == 7)
    let results = try jsonObject(
      String(decoding: try Data(contentsOf: dir.appendingPathComponent("swift_results.json")), as: UTF8.self))
    for key in ["mass", "spectralRadius", "hessianSmallest", "k", "nearestPattern"] {
      #expect(results[key] != nil, "\(key)")
    }
    #expect((results["spectralRadius"] as? [Double])?.count == 7)
    #expect(try NumPyFile.read(from: dir.appendingPathComponent("points.npy")).shape == [7, 4])
  }

  @Test("bad options give clear messages and exit code 64")
  func badOptions() {
    let ia = ["iterative-attention"]
    #expect(
      benchRejection(ia + ["--heads", "3"])?.contains("--dimension (256) must be a multiple of --heads (3)") == true)
    #expect(benchRejection(ia + ["--layers", "0"])?.contains("--layers must be between 1 and 64, got 0") == true)
    #expect(benchRejection(ia + ["--count", "0"])?.contains("--count must be between 1 and 10000000, got 0") == true)
    #expect(benchRejection(ia + ["--temperature", "0"])?.contains("--temperature must be finite and positive") == true)
    #expect(benchRejection(ia + ["--query-count", "0"])?.contains("--query-count must be between 1") == true)
    #expect(benchRejection(ia + ["--repetitions", "0"])?.contains("--repetitions must be at least 1") == true)
    #expect(benchRejection(ia + ["--threads", "0"])?.contains("--threads must be at least 1") == true)
    #expect(benchRejection(ia + ["--count", "10000000"])?.contains("GB of buffers") == true)
    #expect(benchRejection(ia + ["--save-inputs", ""])?.contains("--save-inputs needs a folder path") == true)
    #expect(benchRejection(["update", "--dimension", "64,x"]) != nil)
    #expect(benchRejection(["update", "--layers", "4"]) != nil)
    #expect(
      benchRejection(["classify", "--patterns", "x.npy", "--count", "3"])?.contains("mutually exclusive") == true)
    #expect(benchRejection(["dense-sweep", "--model", "modern"]) != nil)
    #expect(benchRejection(["dense-sweep", "--workers", "0"])?.contains("--workers must be between 1") == true)
    #expect(benchRejection(["compare", "--query-count", "0"])?.contains("--query-count must be between 1") == true)
    #expect(benchRejection(["transformer"]) != nil)
    for bad in [
      ia + ["--heads", "3"], ia + ["--count", "0"], ["update", "--layers", "4"], ["dense-sweep", "--model", "modern"],
    ] {
      #expect(benchExitCode(bad) == 64, "\(bad)")
    }
    #expect(
      benchRejection(ia + ["--layers", "1", "--heads", "1", "--dimension", "4", "--count", "3", "--query-count", "2"])
        == nil)
  }
}
