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

  @Test("a pass's largest and smallest attention weights equal those of the softmax; statistics checked once")
  func weightsAndStatistics() throws {
    let (n, d) = (700, 8)
    var rng = SeededGenerator(seed: 11)
    var x: Matrix<Double> = rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1)
    for j in 0..<d { x[5, j] = 0 }  // one all-zero pattern
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    try NumPyFile.write(Tensor(x), to: url)
    let source = try MappedNumPyMatrix(path: url.path)
    let statistics = try StreamedModernHopfield<Double>.PatternStatistics(
      source: source, chunkRows: 300, fingerprint: true)
    #expect(statistics.zeroPatternCount == 1 && statistics.firstZeroPatterns == [5])
    #expect(abs(statistics.maxPatternNorm - x.rowNorms().max()!) <= 1e-12)
    let bytes = try Data(contentsOf: url).suffix(n * d * 8)
    #expect(statistics.fingerprint == Fingerprint.fnv1a(bytes))
    let network = try StreamedModernHopfield(source: source, beta: 0.7, chunkRows: 300, statistics: statistics)
    #expect(network.maxPatternNorm == statistics.maxPatternNorm)
    let states: Matrix<Double> = rng.gaussianMatrix(rows: 9, columns: d, standardDeviation: 1)
    var next = Matrix<Double>(rows: 9, columns: d)
    var measures = StreamedModernHopfield<Double>.Measures(count: 9)
    var workspace = network.makeWorkspace(batchSize: 9)
    network.step(states, into: &next, measures: &measures, workspace: &workspace)
    let weights = try ModernHopfield(patterns: x, beta: 0.7).separation(states)
    for r in 0..<9 {
      let row = (0..<n).map { weights[r, $0] }
      #expect(abs(measures.largestWeights[r] - row.max()!) <= 1e-12)
      #expect(abs(measures.smallestWeights[r] - row.min()!) <= 1e-12 * row.min()! + 1e-300)
    }
  }

  @Test("corrupting cues of patterns read on demand gives the in-memory queries, overlap distractors included")
  func corruptionFromRows() throws {
    var rng = SeededGenerator(seed: 12)
    let x: Matrix<Double> = rng.gaussianMatrix(rows: 30, columns: 6, standardDeviation: 1)
    let targets = (0..<25).map { ($0 * 7) % 30 }
    for corruption in [
      Corruption.overlap(alpha: 0.6), .gaussianNoise(sigma: 0.5), .mask(fraction: 0.5), .flip(fraction: 0.3), .none,
    ] {
      var a = SeededGenerator(seed: 13)
      var b = SeededGenerator(seed: 13)
      let expected = try corruption.queries(from: x, targets: targets, using: &a)
      let found = try corruption.queries(
        corrupting: x.rows(at: targets), patternCount: 30, targets: targets, using: &b
      ) { other, row in
        for j in 0..<6 { row[j] = x[other, j] }
      }
      #expect(found == expected, "\(corruption)")
    }
    var g = SeededGenerator(seed: 1)
    #expect(throws: CorruptionError.self) {
      try Corruption.overlap(alpha: 0.5).queries(
        corrupting: x.rows(at: [0]), patternCount: 1, targets: [0], using: &g
      ) { _, _ in }
    }
    #expect(throws: CorruptionError.self) {
      try Corruption.none.queries(corrupting: x.rows(at: [0]), patternCount: 30, targets: [30], using: &g) { _, _ in }
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
