import ArgumentParser
import AttractorCommands
import Attractors
import Foundation
import Testing

@Suite("attractor recall --stream-patterns")
struct RecallStreamingCommandTests {
  @Test("streams a patterns file: same per-step metrics as the in-memory run to rounding, with a timing note")
  func matchesInMemory() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SeededGenerator(seed: 8)
    let patterns: Matrix<Float> = rng.gaussianMatrix(rows: 500, columns: 16, standardDeviation: 0.25)
    let p = dir.appendingPathComponent("p.npy")
    try NumPyFile.write(Tensor(patterns), to: p)
    let common = ["recall", "--patterns", p.path, "--query-count", "20", "--max-steps", "3", "--precision", "float"]
    let plain = try parseRecall(common).execute()
    let streamed = try parseRecall(common + ["--stream-patterns"]).execute()
    #expect(streamed.notes.contains { $0.hasPrefix("timing: opening and checking the file") })
    #expect(streamed.report.steps.count == plain.report.steps.count)
    for (a, b) in zip(streamed.report.steps, plain.report.steps) {
      #expect(a.accuracy == b.accuracy && a.convergedFraction == b.convergedFraction)
      #expect(abs(a.meanEnergy! - b.meanEnergy!) <= 1e-5 * max(1, abs(b.meanEnergy!)))
    }
  }

  @Test("refused with a clear message where streaming does not apply")
  func refusals() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let p = dir.appendingPathComponent("p.npy")
    try NumPyFile.write(Tensor(Matrix<Float>(rows: 4, columns: 3, repeating: 1)), to: p)
    #expect(rejection(["--stream-patterns"])?.contains("give --patterns FILE.npy") == true)
    for (extra, expected) in [
      (["--corruption", "overlap"], "--corruption overlap is not available"),
      (["--model", "classical"], "modern network only"), (["--asynchronous"], "synchronous updates only"),
    ] {
      #expect(throws: (any Error).self) {
        _ = try parseRecall(["recall", "--patterns", p.path, "--stream-patterns"] + extra).execute()
      }
      do {
        _ = try parseRecall(["recall", "--patterns", p.path, "--stream-patterns"] + extra).execute()
      } catch {
        #expect("\(error)".contains(expected), "\(extra): \(error)")
      }
    }
  }
}
