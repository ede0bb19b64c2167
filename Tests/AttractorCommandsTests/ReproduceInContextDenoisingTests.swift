import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

@Suite("attractor reproduce in-context-denoising")
struct ReproduceInContextDenoisingTests {
  @Test("--quick writes the report, tables, results and figures")
  func quickRun() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-icd-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let command = try #require(
      try Reproduce.parseAsRoot(["in-context-denoising", "--quick", "--output-dir", dir.path])
        as? ReproduceInContextDenoising)
    try command.run()
    for name in [
      "README.md", "results.json", "weights.csv", "comparison.csv", "descent.csv", "sweeps.csv", "fixed-points.csv",
      "training.csv", "steps-subspace.svg", "steps-mixture.svg", "steps-spheres.svg", "noise-mixture.svg",
      "context-spheres.svg", "weights-linear-subspace-KQ.svg", "weights-softmax-mixture-PV.svg",
    ] {
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) missing")
    }
    let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("attractor reproduce in-context-denoising --quick --output-dir \(dir.path)"))
    #expect(readme.contains("0.327") && readme.contains("5.127"))
    let results = try JSONCoding.decoder().decode(
      InContextDenoisingReproduction.Results.self, from: Data(contentsOf: dir.appendingPathComponent("results.json")))
    #expect(results.runs.count == 4 && results.families.count == 3)
    #expect(results.families.allSatisfy { $0.descent.count == 11 })
    // Bayes is the best denoiser on every task (up to sampling error).
    for f in results.families {
      let c = f.comparison
      #expect(c.bayes.mse <= c.query.mse && c.bayes.mse <= c.nearestToken.mse, "\(f.task)")
    }
    #expect(!results.analyses.isEmpty && results.analyses.allSatisfy { !$0.fixedPoints.isEmpty })
    // Re-rendering from results.json gives the same report.
    let again = dir.appendingPathComponent("again")
    let rerender = try #require(
      try Reproduce.parseAsRoot([
        "in-context-denoising", "--from-results", dir.appendingPathComponent("results.json").path, "--output-dir",
        again.path,
      ]) as? ReproduceInContextDenoising)
    try rerender.run()
    #expect(try String(contentsOf: again.appendingPathComponent("README.md"), encoding: .utf8) == readme)
  }

  @Test("Bad options are refused")
  func badOptions() throws {
    for arguments in [["in-context-denoising", "--steps", "0"], ["in-context-denoising", "--sweep-steps", "-1"]] {
      #expect(throws: (any Error).self) { try Reproduce.parseAsRoot(arguments) }
    }
    let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).json")
    let command = try #require(
      try Reproduce.parseAsRoot([
        "in-context-denoising", "--from-results", missing.path, "--output-dir", missing.path + "-out",
      ])
        as? ReproduceInContextDenoising)
    #expect(throws: (any Error).self) { try command.run() }
  }
}
