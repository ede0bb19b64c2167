import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

/// The message ArgumentParser would print for `attractor analyze <arguments>`, or nil if they parse.
private func analyzeRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Attractor.parseAsRoot(["analyze"] + arguments)
    return nil
  } catch {
    return Attractor.message(for: error)
  }
}

/// Parses `attractor analyze fixed-points <arguments>`.
private func fixedPoints(_ arguments: [String]) throws -> Analyze.FixedPoints {
  try #require(try Attractor.parseAsRoot(["analyze", "fixed-points"] + arguments) as? Analyze.FixedPoints)
}

/// Parses `attractor analyze phase-diagram <arguments>`.
private func phaseDiagramCommand(_ arguments: [String]) throws -> Analyze.PhaseDiagramSweep {
  try #require(try Attractor.parseAsRoot(["analyze", "phase-diagram"] + arguments) as? Analyze.PhaseDiagramSweep)
}

private func analyzeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-analyze-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Two antipodal patterns ±x with ‖x‖² = 2 written as .npy; the global fixed point loses stability at β = 1/2.
private func writeAntipodalPatterns(in dir: URL) throws -> URL {
  let x = [1.0, -0.5, 0.5, 1.0, -0.5]  // ‖x‖² = 2.75
  let url = dir.appendingPathComponent("antipodal.npy")
  try NumPyFile.write(Tensor(Matrix(rowArrays: [x, x.map { -$0 }])), to: url)
  return url
}

@Suite("attractor analyze")
struct AnalyzeCommandTests {
  @Test("Default random patterns: a table and --json with the same fixed points; same seed, same result")
  func tableAndJSON() throws {
    let arguments = ["--count", "8", "--dimension", "16", "--beta", "30", "--seed", "4"]
    let command = try fixedPoints(arguments)
    let output = try command.execute()
    let table = try command.render(output)
    let report = output.record.report
    #expect(table.contains("class           pattern or subset"))
    #expect(table.contains("single pattern"))
    #expect(report.fixedPoints.count >= 1 && report.patternCount == 8 && report.dimension == 16)
    let jsonCommand = try fixedPoints(arguments + ["--json"])
    let json = try jsonCommand.render(jsonCommand.execute())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["beta"] as? Double == 30)
    let decoded = try JSONCoding.decoder().decode(FixedPointAnalysisRecord.self, from: Data(json.utf8))
    #expect(decoded.report == report)
  }

  @Test(
    "--patterns FILE.npy: antipodal patterns at β‖x‖² ≈ 2.2 give an unstable global point and two retrievals; files in --output-dir"
  )
  func patternsFile() throws {
    let dir = try analyzeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try writeAntipodalPatterns(in: dir)
    let out = dir.appendingPathComponent("new/sub")
    let result = try fixedPoints(["--patterns", file.path, "--beta", "0.8", "--output-dir", out.path]).execute()
    let report = result.record.report
    #expect(report.countByClass["unstable"] == 1 && report.countByClass["singlePattern"] == 2)
    #expect(result.table.contains("unstable (global average)"))
    #expect(result.files.count == 2)
    let csv = try String(contentsOf: out.appendingPathComponent("fixed-points.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 1 + report.fixedPoints.count)
  }

  @Test("phase-diagram writes CSV, JSON and SVG and finds the antipodal transition β = 1/‖x‖² within 2 %")
  func phaseDiagram() throws {
    let dir = try analyzeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try writeAntipodalPatterns(in: dir)
    let out = dir.appendingPathComponent("pd")
    let command = try phaseDiagramCommand([
      "--patterns", file.path, "--beta-range", "0.05:5:7", "--output-dir", out.path, "--mixtures", "0",
      "--random-starts", "2",
    ])
    let result = try command.execute()
    let diagram = result.diagram
    let t = try #require(diagram.transition)
    #expect(abs(t.beta * 2.75 - 1) < 0.02, "β* = \(t.beta)")
    #expect(diagram.points.count == 7)
    for name in ["phase-diagram.csv", "phase-diagram.json", "phase-diagram-shares.svg", "phase-diagram-stability.svg"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
    }
    let svg = try String(contentsOf: out.appendingPathComponent("phase-diagram-shares.svg"), encoding: .utf8)
    #expect(svg.contains("<svg") && svg.contains("β* ≈"))
    let csv = try String(contentsOf: out.appendingPathComponent("phase-diagram.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 8)
    #expect(result.table.contains("stops being stable at β* ≈"))
    #expect(result.table.contains("an eigenvalue of J crosses 1: above β* the point goes on as a saddle"))
  }

  @Test("--correlation makes the random patterns overlap by about c and moves the fixed points toward averages")
  func correlatedPatterns() throws {
    let independent = try fixedPoints(["--count", "12", "--dimension", "64", "--beta", "8", "--seed", "2"]).execute()
    let correlated = try fixedPoints([
      "--count", "12", "--dimension", "64", "--beta", "8", "--seed", "2", "--correlation", "0.6",
    ]).execute()
    #expect(correlated.table.contains("with correlation 0.6"))
    let a = independent.record.report, b = correlated.record.report
    // Correlated patterns pull the mean of all patterns (and every average) away from 0, and the
    // single patterns closer together: the smallest distance to the mean over fixed points drops.
    let nearMean = { (r: FixedPointReport) in r.fixedPoints.map { $0.classification.evidence!.distanceToMean }.min()! }
    #expect(nearMean(b) < nearMean(a))
    #expect(b.countByClass["singlePattern"]! < a.countByClass["singlePattern"]!)
  }

  @Test(
    "analyze without a subcommand runs fixed-points; phase-diagram is a subcommand; --benchmark and --phase-diagram are gone"
  )
  func tree() throws {
    let plain = try Attractor.parseAsRoot(["analyze", "--count", "4", "--dimension", "3"])
    #expect(plain is Analyze.FixedPoints)
    #expect(try Attractor.parseAsRoot(["analyze", "phase-diagram"]) is Analyze.PhaseDiagramSweep)
    #expect(analyzeRejection(["--benchmark"]) != nil)
    #expect(analyzeRejection(["--phase-diagram"]) != nil)
    let help = Attractor.helpMessage(for: Analyze.self)
    #expect(help.contains("fixed-points") && help.contains("phase-diagram"))
  }

  @Test("--json of phase-diagram prints valid JSON with every β")
  func phaseDiagramJSON() throws {
    let dir = try analyzeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try phaseDiagramCommand([
      "--count", "4", "--dimension", "3", "--beta-range", "1:4:3", "--output-dir", dir.path, "--file-prefix", "pd",
      "--mixtures", "0", "--random-starts", "2", "--noisy-starts", "0", "--json",
    ])
    let text = try command.render(command.execute())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect((object["points"] as? [Any])?.count == 3)
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pd.csv").path))
  }

  @Test("Invalid options are rejected with messages that say what to do")
  func validation() throws {
    let cases: [([String], String)] = [
      (["phase-diagram", "--beta", "2"], "--beta"),
      (["phase-diagram", "--beta-range", "1:2"], "lo:hi:count"),
      (["phase-diagram", "--beta-range", "3:2:5"], "0 < lo < hi"),
      (["phase-diagram", "--beta-range", "1:2:500"], "count must be between 2 and 200"),
      (["--beta-range", "1:2:5"], "--beta-range"),
      (["--mass", "1.5"], "--mass must be in (0, 1]"),
      (["--beta", "-1"], "--beta must be a finite number > 0"),
      (["--patterns", "p.npy", "--count", "3"], "mutually exclusive"),
      (["--merge-tolerance", "0"], "--merge-tolerance must be"),
      (["--count", "0"], "--count must be at least 1"),
      (["--count", "200000"], "--count must be between 1 and 100000"),
      (["--dimension", "2000"], "--dimension must be between 1 and 1024"),
      (["--correlation", "1"], "--correlation must be in [0, 1)"),
      (["--patterns", "p.npy", "--correlation", "0.5"], "cannot be used with --patterns"),
      (["phase-diagram", "--file-prefix", "a/b"], "plain file name"),
      (["fixed-points", "--model-folder", "x", "--count", "3"], "brings its own memory"),
    ]
    for (arguments, expected) in cases {
      let message = try #require(analyzeRejection(arguments), "\(arguments) should be rejected")
      #expect(message.contains(expected), "\(arguments): \(message)")
    }
    #expect(analyzeRejection(["--count", "4", "--dimension", "3"]) == nil)
  }

  @Test("Unreadable inputs and an --output-dir that is a file fail with a CommandFailure, not a crash")
  func failures() throws {
    let dir = try analyzeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(throws: CommandFailure.self) {
      try fixedPoints(["--patterns", dir.appendingPathComponent("missing.npy").path]).execute()
    }
    let file = dir.appendingPathComponent("plain")
    try Data("x".utf8).write(to: file)
    #expect(throws: CommandFailure.self) {
      try fixedPoints(["--count", "4", "--dimension", "3", "--output-dir", file.path]).execute()
    }
  }
}

@Suite("attractor analyze: sizes checked before the work (issue 16, item 4)")
struct AnalyzeSizeTests {
  /// The repository's Models/ folder.
  static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models")

  /// A run on a shipped 10-pattern folder with a work budget scaled down to the folder's size.
  static func folderRun(budget: Double, fits: Bool) -> FixedPointAnalysisRun {
    var run = FixedPointAnalysisRun(
      patterns: .modelFolder(models.appendingPathComponent("iterative-attention-mnist-pca-single-head").path),
      beta: nil, search: FixedPointSearch(maxSteps: 300), thresholds: ClassificationThresholds(), version: "test")
    run.workBudget = budget
    run.fitsWorkBudget = fits
    return run
  }

  @Test(
    "By default a folder over the work budget is sampled (stored patterns, then mixtures and random starts), not refused"
  )
  func folderOverBudgetIsSampled() throws {
    // 10 patterns, d = 128, one layer and head: about 3.8e7 operations per start; 2.5e9 affords
    // 65 starts: the 49 mixture, mean and random starts and 5 patterns with their 2 noisy copies.
    var notes: [String] = []
    let sampled = try Self.folderRun(budget: 2.5e9, fits: true).analyze(writingTo: nil, note: { notes.append($0) })
    #expect(sampled.record.report.startCounts["given"] == 15, "\(sampled.record.report.startCounts)")
    #expect(notes.count == 1 && notes[0].contains("5 of the 10 stored patterns, sampled with seed 0"), "\(notes)")
    #expect(notes[0].contains("as many as fit the work budget of 2e+09 operations"))
    // A budget below the fixed kinds of starts: no pattern starts, fewer mixtures and random starts.
    notes = []
    let small = try Self.folderRun(budget: 3e8, fits: true).analyze(writingTo: nil, note: { notes.append($0) })
    #expect(small.record.report.totalStarts == 7, "\(small.record.report.startCounts)")
    #expect(notes[0].contains("2 + 2 mixtures and 2 random starts instead of 16 + 16 and 16"), "\(notes)")
    // Explicit start options (the command's --max-starts) are not cut; above ten times the budget
    // they are refused before any work, with a run that fits.
    #expect {
      _ = try Self.folderRun(budget: 1e8, fits: false).analyze(writingTo: nil)
    } throws: {
      "\($0)".contains("analyze would run 79 starts") && "\($0)".contains("more than the limit of 1e+09")
    }
    // The command fits the budget unless --max-starts is given.
    #expect(analyzeRejection(["--max-starts", "3"]) == nil)
  }

  @Test("The shipped folders' estimates: the default budget samples the 10,000-memory folders instead of refusing")
  func shippedFolderEstimates() {
    let budget = FixedPointAnalysisRun.folderWorkBudget
    // (memory, width, heads, layers) of the three Synthetic-Gaussian folders.
    for (m, d, h, l) in [(10_000, 128, 1, 1), (10_000, 128, 4, 2), (10_000, 256, 8, 4)] {
      let perStart = FixedPointAnalysisRun.workPerStart(memory: m, width: d, heads: h, layers: l)
      #expect(perStart > 0 && budget / perStart >= 20, "\(d) × \(h) × \(l): \(budget / perStart) starts fit")
    }
    #expect(FixedPointAnalysisRun.maxFolderWork == 10 * budget)
  }

  @Test("--max-starts samples the stored patterns used as starts with the seed; they are reported as given starts")
  func maxStartsSamples() throws {
    let arguments = [
      "--count", "300", "--dimension", "8", "--beta", "2", "--max-starts", "5", "--noisy-starts", "1", "--mixtures",
      "0", "--random-starts", "0", "--max-steps", "200",
    ]
    var notes: [String] = []
    let output = try fixedPoints(arguments).execute(note: { notes.append($0) })
    let counts = output.record.report.startCounts
    #expect(counts["given"] == 10 && counts["pattern"] == nil && counts["noisyPattern"] == nil, "\(counts)")
    #expect(notes.count == 1 && notes[0].contains("11 starts (5 of the 300 stored patterns, sampled with seed 0"))
    let all = try fixedPoints(
      arguments.map { $0 == "5" ? "0" : $0 }
    ).execute()
    #expect(all.record.report.startCounts["pattern"] == 300)
    #expect(rejectsMaxStarts(["--max-starts", "-1"]))
  }
}

private func rejectsMaxStarts(_ arguments: [String]) -> Bool {
  analyzeRejection(arguments)?.contains("--max-starts must be between 0 (every pattern) and 100000, got -1") == true
}
