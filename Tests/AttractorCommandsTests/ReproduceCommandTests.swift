import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

private func reproduceRejection(_ arguments: [String]) -> String? {
  do {
    _ = try Reproduce.parseAsRoot(arguments)
    return nil
  } catch {
    return Reproduce.message(for: error)
  }
}

/// `attractor reproduce <arguments>`, parsed.
private func reproduce(_ arguments: [String]) throws -> ReproduceIterativeAttention {
  try #require(try Reproduce.parseAsRoot(arguments) as? ReproduceIterativeAttention)
}

@Suite("attractor reproduce, and trained model folders in recall and analyze")
struct ReproduceCommandTests {
  @Test("--quick writes the report, tables, results and figures; the saved models load in recall and analyze")
  func quickRun() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-reproduce-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let report = dir.appendingPathComponent("report"), models = dir.appendingPathComponent("models")
    try reproduce([
      "iterative-attention", "--quick", "--seeds", "0", "--epochs", "2", "--output-dir", report.path, "--models-dir",
      models.path,
    ]).run()
    for name in [
      "README.md", "results.json", "table1-synthetic-gaussian.csv", "table2-synthetic-gaussian.csv", "curves.csv",
      "inference-cost.svg",
    ] {
      #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent(name).path), "\(name) missing")
    }
    #expect(!FileManager.default.fileExists(atPath: report.appendingPathComponent("results.partial.json").path))
    let readme = try String(contentsOf: report.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("attractor reproduce iterative-attention --quick --output-dir \(report.path)"))
    // Re-rendering from results.json gives the same report.
    let again = dir.appendingPathComponent("again")
    let results = report.appendingPathComponent("results.json").path
    try reproduce(["iterative-attention", "--from-results", results, "--output-dir", again.path]).run()
    #expect(try String(contentsOf: again.appendingPathComponent("README.md"), encoding: .utf8) == readme)

    let folder = models.appendingPathComponent("iterative-attention-synthetic-gaussian-transformer-small").path
    let single = models.appendingPathComponent("iterative-attention-synthetic-gaussian-single-head").path
    let recall = try Recall.parse([
      "--model-folder", folder, "--query-count", "20", "--max-steps", "3", "--level", "0.3",
    ]).execute()
    #expect(recall.report.configuration.model == .iterativeAttention)
    #expect(recall.report.configuration.patterns.count == 300 && recall.report.steps.count == 4)
    #expect((recall.report.steps[0].accuracy ?? 0) > 0.5)
    let analysis = try Analyze.FixedPoints.parse([
      "--model-folder", single, "--noisy-starts", "0", "--mixtures", "2", "--random-starts", "2",
    ]).execute()
    #expect(analysis.table.contains("Fixed points of the iterative-attention model"))
    #expect(analysis.record.report.fixedPoints.count >= 1)
  }

  @Test("the default output folder is report-reproduce-iterative-attention, not the tracked Docs/ folder")
  func defaultFolder() throws {
    let command = try reproduce(["iterative-attention", "--quick"])
    #expect(command.folder.path == URL(fileURLWithPath: "report-reproduce-iterative-attention").path)
    #expect(!command.folder.path.contains("Docs/"))
  }

  @Test("Bad options and folders are refused with messages")
  func rejections() throws {
    #expect(
      reproduceRejection(["iterative-attention", "--epochs", "0"])?.contains("--epochs must be at least 1") == true)
    #expect(reproduceRejection(["iterative-attention", "--seeds", "0,x"]) != nil)
    #expect(reproduceRejection(["iterative-attention", "--seeds", "0,0"]) != nil)
    #expect(
      reproduceRejection(["iterative-attention", "--only-models", "huge"])?.contains("unknown configuration") == true)
    #expect(reproduceRejection(["iterative-attention", "--learning-rate", "-1"])?.contains("--learning-rate") == true)
    #expect(reproduceRejection(["iterative-attention", "--ablation-seeds", "x"])?.contains("--ablation-seeds") == true)
    #expect(
      reproduceRejection(["iterative-attention", "--output-dir", ""])?.contains("--output-dir must not be empty")
        == true)
    #expect(reproduceRejection(["something-else"]) != nil)
    #expect(throws: CommandFailure.self) {
      try reproduce([
        "iterative-attention", "--from-results", "/nonexistent/results.json", "--output-dir",
        "/tmp/x-\(UUID().uuidString)",
      ]).run()
    }
    let untouched = "/tmp/x-\(UUID().uuidString)"
    #expect(throws: CommandFailure.self) {
      // The full study checks for the MNIST files before any work starts.
      try reproduce(["iterative-attention", "--mnist", "/nonexistent", "--output-dir", untouched]).run()
    }
    #expect(!FileManager.default.fileExists(atPath: untouched))
    #expect {
      try Recall.parse(["--model-folder", "/nonexistent/folder"]).execute()
    } throws: { "\($0)".contains("/nonexistent/folder is not a model folder: it does not exist") }
    #expect(throws: (any Error).self) { try Recall.parse(["--model", "iterative-attention"]) }
    #expect(throws: (any Error).self) { try Recall.parse(["--model-folder", "x", "--count", "3"]) }
    #expect(throws: (any Error).self) { try Analyze.FixedPoints.parse(["--model-folder", "x", "--beta", "3"]) }
  }
}
