import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

@testable import AttractorExperiments

@Suite("Streamed recall over a memory-mapped file")
struct StreamedRecallTests {
  @Test(
    "equals the in-memory recall (materialised update) to rounding: states, accuracy, energies, convergence",
    arguments: [(300, 130), (1, 70), (257, 1000)])
  func matchesInMemory(shape: (Int, Int)) throws {
    let (n, chunk) = shape
    let d = 16
    var rng = SeededGenerator(seed: 4)
    let x: Matrix<Float> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("streamed-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: directory) }
    try NumPyFile.write(Tensor(x), to: directory)
    let targets = (0..<40).map { $0 % n }
    var noise = SeededGenerator(seed: 5)
    let queries = try Corruption(kind: .noise, level: 0.1).queries(from: x, targets: targets, using: &noise).queries

    for beta: Float in [2, 16] {
      let memory = try ModernHopfield(patterns: x, beta: beta)
      let experiment = RecallExperiment(steps: 6, tolerance: 1e-4, schedule: .synchronous)
      let expected = try experiment.run(memory, patterns: x, queries: queries, targets: targets)
      // Chunks smaller than N (300 in 130s), so a step spans several chunks and pattern blocks.
      let streamed = try StreamedModernHopfield<Float>(
        source: MappedNumPyMatrix(path: directory.path), beta: beta, chunkRows: chunk)
      let run = try StreamedRecall(steps: 6, tolerance: 1e-4).run(streamed, queries: queries, targets: targets)
      var worst: Float = 0
      for i in run.finalStates.elements.indices {
        worst = max(worst, abs(run.finalStates.elements[i] - expected.finalStates.elements[i]))
      }
      #expect(worst <= 1e-5, "β = \(beta): states differ by \(worst)")
      #expect(run.result.stepsToConverge == expected.result.stepsToConverge)
      #expect(run.result.finalNearestPatterns == expected.result.finalNearestPatterns)
      for (a, b) in zip(run.result.steps, expected.result.steps) {
        #expect(a.accuracy == b.accuracy && a.convergedFraction == b.convergedFraction)
        #expect(abs(a.meanEnergy! - b.meanEnergy!) <= 1e-5 * max(1, abs(b.meanEnergy!)), "step \(a.step)")
        #expect(abs((a.meanStepSize ?? 0) - (b.meanStepSize ?? 0)) <= 1e-5)
      }
    }
  }

  @Test("non-finite patterns in the file are refused when the network is opened")
  func refusesNonFinite() throws {
    var x = Matrix<Double>(rows: 3, columns: 2, repeating: 1)
    x[2, 1] = .nan
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nan-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    try NumPyFile.encode(Tensor(x)).write(to: url)
    #expect(throws: ModelError.nonFinitePattern(row: 2, column: 1)) {
      try StreamedModernHopfield<Double>(source: MappedNumPyMatrix(path: url.path), beta: 1)
    }
  }
}
