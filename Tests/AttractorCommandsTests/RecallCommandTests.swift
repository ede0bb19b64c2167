import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Parses `attractor <arguments>` and returns the recall command.
func parseRecall(_ arguments: [String]) throws -> Recall {
  let command = try Attractor.parseAsRoot(arguments)
  return try #require(command as? Recall)
}

/// The message ArgumentParser would print for parsing `recall <arguments>`, or nil if it parses.
func rejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(["recall"] + arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

@Suite("attractor recall")
struct RecallCommandTests {
  @Test("Runs in process with --json and --output; the output file has the final states' shape")
  func jsonAndOutput() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("final.npy")
    let recall = try parseRecall([
      "recall", "--count", "16", "--dimension", "32", "--query-count", "40", "--max-steps", "4", "--beta", "16",
      "--json", "--output", out.path, "--seed", "3",
    ])
    let result = try recall.execute()
    let report = result.report
    #expect(report.steps.count == 5)
    #expect(report.configuration.patterns.count == 16 && report.configuration.patterns.dimension == 32)
    #expect(report.configuration.queries.count == 40)
    #expect(report.configuration.beta == 16)
    #expect(report.output == out.path)
    #expect(report.meanEnergiesNonIncreasing)
    let final = try NumPyFile.read(from: out)
    #expect(final.shape == [40, 32])
    #expect(final.dtype == .float64)

    let json = try recall.render(result)
    #expect(json == (try result.jsonText()))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let steps = try #require(object["steps"] as? [[String: Any]])
    #expect(steps.count == 5)
    #expect(steps[0]["accuracy"] is Double)
    let configuration = try #require(object["configuration"] as? [String: Any])
    #expect(configuration["model"] as? String == "modern")
    let queries = try #require(configuration["queries"] as? [String: Any])
    let corruption = try #require(queries["corruption"] as? [String: Any])
    #expect(corruption["kind"] as? String == "noise" && corruption["level"] as? Double == 0.1)
    #expect(object["finalAccuracy"] is Double)

    // Same seed, same numbers.
    let again = try parseRecall([
      "recall", "--count", "16", "--dimension", "32", "--query-count", "40", "--max-steps", "4", "--beta", "16",
      "--seed", "3",
    ]).execute()
    #expect(again.report.steps == report.steps)
    #expect(result.table.contains("step  accuracy"))
  }

  @Test("--json prints valid JSON; --threads sets the BLAS threads; the old --steps spelling is gone")
  func jsonParsesAndThreads() throws {
    let threads = BLAS.threadCount  // the same count: other tests run in parallel in this process
    let recall = try parseRecall([
      "recall", "--count", "8", "--dimension", "16", "--query-count", "4", "--max-steps", "2", "--threads",
      "\(threads)", "--json",
    ])
    let text = try recall.render(recall.execute())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let configuration = try #require(object["configuration"] as? [String: Any])
    #expect(configuration["blasThreads"] as? Int == threads)
    #expect(rejection(["--steps", "3"]) != nil)
  }

  @Test("Float precision writes float32 states; the table has one row per step")
  func floatPrecision() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("f.npy")
    let result = try parseRecall([
      "recall", "--precision", "float", "--count", "8", "--dimension", "16", "--query-count", "5", "--max-steps", "2",
      "--corruption", "mask", "--level", "0.25", "--output", out.path,
    ]).execute()
    let final = try NumPyFile.read(from: out)
    #expect(final.dtype == .float32 && final.shape == [5, 16])
    let rows = result.table.split(separator: "\n").filter {
      $0.hasPrefix("   0") || $0.hasPrefix("   1") || $0.hasPrefix("   2")
    }
    #expect(rows.count == 3)
    #expect(result.table.contains("BLAS threads"))
  }

  @Test("Patterns, queries and targets from files; classical binarises real patterns with a note")
  func filesAndClassical() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SeededGenerator(seed: 5)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 3, columns: 100)
    let signs = Matrix(rows: 3, columns: 100, elements: patterns.elements.map { $0 >= 0 ? 1.0 : -1.0 })
    var queries = signs.rows(at: [0, 1, 2, 0])
    for j in 0..<10 {
      queries[0, j] = -queries[0, j]
      queries[3, 50 + j] = -queries[3, 50 + j]
    }
    let p = dir.appendingPathComponent("p.npy")
    let q = dir.appendingPathComponent("q.npy")
    let t = dir.appendingPathComponent("t.npy")
    try NumPyFile.write(Tensor(patterns), to: p)
    try NumPyFile.write(Tensor(Matrix<Float>(rows: 4, columns: 100, elements: queries.elements.map(Float.init))), to: q)
    try NumPyFile.write(try Tensor(shape: [4], storage: .int64([0, 1, 2, 0])), to: t)

    let result = try parseRecall([
      "recall", "--model", "classical", "--patterns", p.path, "--queries", q.path, "--targets", t.path, "--max-steps",
      "5",
    ]).execute()
    #expect(result.notes.contains { $0.contains("binarised the 3 × 100 patterns") })
    #expect(result.report.configuration.patterns.binarized)
    #expect(!result.report.configuration.queries.binarized)
    #expect(result.report.finalAccuracy == 1)
    #expect(result.report.convergedFraction == 1)
    #expect(result.report.configuration.beta == nil)

    // Without targets, accuracy is omitted.
    let untargeted = try parseRecall(["recall", "--patterns", p.path, "--queries", q.path, "--max-steps", "1"])
      .execute()
    #expect(untargeted.report.finalAccuracy == nil)
    #expect(untargeted.report.steps.allSatisfy { $0.accuracy == nil })
    #expect(!(try untargeted.jsonText()).contains("\"accuracy\""))
  }

  @Test("Classical with random patterns and flip corruption recovers them; --beta warns")
  func classicalDefaults() throws {
    let result = try parseRecall([
      "recall", "--model", "classical", "--count", "3", "--dimension", "100", "--query-count", "30", "--beta", "2",
      "--asynchronous",
    ]).execute()
    #expect(result.report.configuration.queries.corruption == .flip(fraction: 0.1))
    #expect(result.report.finalAccuracy == 1)
    #expect(result.notes.contains { $0.contains("--beta is ignored") })
    #expect(result.table.contains("asynchronous"))
  }

  @Test(
    "Invalid options are rejected with a message naming the problem",
    arguments: [
      (["--beta", "-1"], "--beta must be a finite number > 0, got -1"),
      (["--beta", "nan"], "--beta must be a finite number > 0"),
      (["--max-steps", "-3"], "--max-steps must be at least 0, got -3"),
      (["--level", "2", "--corruption", "mask"], "--level for mask is a fraction in [0, 1], got 2"),
      (["--level", "-0.1"], "--level for noise is a standard deviation"),
      (["--corruption", "overlap", "--level", "1.5"], "--level for overlap is a weight α in [0, 1]"),
      (["--model", "classical", "--level", "1.1"], "--level for flip is a fraction in [0, 1]"),
      (["--patterns", "p.npy", "--count", "4"], "--patterns and --count are mutually exclusive"),
      (["--queries", "q.npy", "--corruption", "mask"], "--queries and --corruption are mutually exclusive"),
      (["--targets", "t.npy"], "--targets needs --queries"),
      (["--count", "0"], "--count must be at least 1, got 0"),
      (["--query-count", "0"], "--query-count must be at least 1"),
      (["--tolerance", "-1"], "--tolerance must be a finite number ≥ 0"),
      (["--corruption", "overlap", "--count", "1"], "needs --count ≥ 2"),
      (["--model", "quantum"], "'quantum' is invalid for '--model <model>'"),
      (["--count", "100000", "--dimension", "100000"], "use smaller sizes"),
      (["--model", "classical", "--count", "2", "--dimension", "100000"], "the classical weight matrix d × d"),
      (["--max-steps", "1000001"], "--max-steps must be at most 1000000"),
    ])
  func invalidOptions(arguments: [String], expected: String) throws {
    let message = try #require(rejection(arguments), "\(arguments) was accepted")
    #expect(message.contains(expected), "\(arguments): \(message)")
  }

  @Test("Defaults parse, and --help and --version work")
  func defaultsAndHelp() throws {
    #expect(rejection([]) == nil)
    let help = Attractor.helpMessage(for: Recall.self)
    for option in [
      "--patterns", "--count", "--dimension", "--seed", "--queries", "--targets", "--query-count",
      "--corruption", "--level", "--model", "--beta", "--max-steps", "--tolerance", "--threads", "--precision",
      "--asynchronous", "--output", "--json", "N(0, 1/d)",
    ] {
      #expect(help.contains(option), "help lacks \(option)")
    }
    do {
      _ = try Attractor.parseAsRoot(["--version"])
      Issue.record("--version did not exit")
    } catch {
      #expect(Attractor.message(for: error) == Attractor.version)
    }
  }

  @Test("Missing or malformed files fail with the IO error and no crash")
  func badFiles() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = dir.appendingPathComponent("missing.npy").path
    #expect {
      try parseRecall(["recall", "--patterns", missing]).execute()
    } throws: { error in
      let message = "\(error)"
      return error is CommandFailure && message.contains("cannot read the patterns file")
        && message.contains("missing.npy")
    }

    let junk = dir.appendingPathComponent("junk.npy")
    try Data("not numpy".utf8).write(to: junk)
    #expect {
      try parseRecall(["recall", "--patterns", junk.path]).execute()
    } throws: { "\($0)".contains("Not a .npy file") }

    let vector = dir.appendingPathComponent("v.npy")
    try NumPyFile.write(try Tensor(shape: [5], storage: .float64([1, 2, 3, 4, 5])), to: vector)
    #expect {
      try parseRecall(["recall", "--patterns", vector.path]).execute()
    } throws: { "\($0)".contains("must be 2-D") }

    // Queries with the wrong number of columns.
    var rng = SeededGenerator(seed: 1)
    let p = dir.appendingPathComponent("p.npy")
    let q = dir.appendingPathComponent("q.npy")
    try NumPyFile.write(Tensor(rng.gaussianMatrix(rows: 4, columns: 64, as: Double.self)), to: p)
    try NumPyFile.write(Tensor(rng.gaussianMatrix(rows: 3, columns: 32, as: Float.self)), to: q)
    #expect {
      try parseRecall(["recall", "--patterns", p.path, "--queries", q.path]).execute()
    } throws: { "\($0)".contains("queries have 32 columns but patterns have 64") }

    // Targets: wrong type, wrong length, out of range.
    let q64 = dir.appendingPathComponent("q64.npy")
    try NumPyFile.write(Tensor(rng.gaussianMatrix(rows: 3, columns: 64, as: Double.self)), to: q64)
    let floats = dir.appendingPathComponent("tf.npy")
    try NumPyFile.write(try Tensor(shape: [3], storage: .float64([0, 1, 2])), to: floats)
    let short = dir.appendingPathComponent("ts.npy")
    try NumPyFile.write(try Tensor(shape: [2], storage: .int32([0, 1])), to: short)
    let outOfRange = dir.appendingPathComponent("tr.npy")
    try NumPyFile.write(try Tensor(shape: [3], storage: .int64([0, 4, 1])), to: outOfRange)
    for (file, expected) in [
      (floats, "must hold integers"), (short, "shape [3]"), (outOfRange, "target 1 is 4, but there are 4 patterns"),
    ] {
      #expect {
        try parseRecall(["recall", "--patterns", p.path, "--queries", q64.path, "--targets", file.path]).execute()
      } throws: { "\($0)".contains(expected) }
    }

    // An output path that cannot be written.
    #expect {
      try parseRecall([
        "recall", "--max-steps", "1", "--query-count", "2", "--output",
        dir.appendingPathComponent("no/such/dir/o.npy").path,
      ]).execute()
    } throws: { "\($0)".contains("cannot write the final states") }

    // Overlap with a single pattern from a file.
    let single = dir.appendingPathComponent("one.npy")
    try NumPyFile.write(Tensor(rng.gaussianMatrix(rows: 1, columns: 8, as: Double.self)), to: single)
    #expect {
      try parseRecall(["recall", "--patterns", single.path, "--corruption", "overlap"]).execute()
    } throws: { "\($0)".contains("at least 2 patterns") }
  }
}

extension RecallReport {
  var meanEnergiesNonIncreasing: Bool {
    let e = steps.compactMap(\.meanEnergy)
    return zip(e, e.dropFirst()).allSatisfy { $1 <= $0 + 1e-12 }
  }
}
