import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Testing

@Suite("Metrics")
struct MetricsTests {
  @Test("The stored patterns retrieve themselves, whatever their lengths")
  func patternsAreTheirOwnNearest() {
    var rng = SeededGenerator(seed: 10)
    var patterns: Matrix<Double> = rng.gaussianMatrix(rows: 40, columns: 24)
    for i in 0..<40 {
      let scale = 0.1 + 3 * rng.nextUniform()
      patterns.setRow(i, to: patterns.row(i).map { $0 * scale })
    }
    #expect(RetrievalMetrics.accuracy(of: patterns, patterns: patterns, targets: Array(0..<40)) == 1)
    let f: Matrix<Float> = rng.gaussianMatrix(rows: 30, columns: 8)
    #expect(RetrievalMetrics.accuracy(of: f, patterns: f, targets: Array(0..<30)) == 1)
  }

  @Test("Cosine is not biased to long patterns as the raw dot product is")
  func cosineVersusDot() {
    let patterns = Matrix<Double>(rowArrays: [[1, 0], [3, 3]])
    let state = Matrix<Double>(rowArrays: [[1, 0]])
    // Raw dot products: 1 with the target, 3 with the long pattern.
    #expect(RetrievalMetrics.nearestPatterns(of: state, among: patterns) == [0])
  }

  @Test("Ties (within rounding), zero states and zero patterns have no nearest pattern")
  func conventions() {
    let patterns = Matrix<Double>(rowArrays: [[0, 0], [1, 0], [0, 2], [1, 1]])
    let states = Matrix<Double>(rowArrays: [[5, 0], [0, 0], [1, -1], [2, 2], [-1, 0]])
    #expect(RetrievalMetrics.nearestPatterns(of: states, among: patterns) == [1, nil, 1, 3, 2])
    // Equally similar to two patterns: no nearest pattern, so a failure for accuracy.
    let two = Matrix<Double>(rowArrays: [[1, 0], [0, 3]])
    #expect(
      RetrievalMetrics.nearestPatterns(of: Matrix(rowArrays: [[1, 1], [1, 1 + 1e-9]]), among: two) == [nil, 1])
    let collinear = Matrix<Double>(rowArrays: [[1, 0], [2, 0]])
    #expect(RetrievalMetrics.nearestPatterns(of: Matrix(rowArrays: [[1, 0]]), among: collinear) == [nil])
    // ±1 overlap at α = ½: exactly between target and distractor.
    let binary = Matrix<Float>(rowArrays: [[1, -1, 1, 1, -1, -1], [1, 1, -1, 1, 1, -1]])
    let middle = Matrix<Float>(rowArrays: [zip(binary.row(0), binary.row(1)).map { ($0 + $1) / 2 }])
    #expect(RetrievalMetrics.nearestPatterns(of: middle, among: binary) == [nil])
    #expect(RetrievalMetrics.accuracy(nearest: [1, nil, 2], targets: [1, 1, 2]) == 2.0 / 3)
    #expect(RetrievalMetrics.accuracy(nearest: [], targets: []) == nil)
  }

  @Test("Mean and standard error use the sample (n − 1) standard deviation")
  func standardError() throws {
    let s = try #require(MeanAndStandardError([1, 2, 3, 4]))
    #expect(s.mean == 2.5)
    #expect(s.count == 4)
    let sd = try #require(s.standardDeviation)
    let se = try #require(s.standardError)
    #expect(abs(sd - (5.0 / 3).squareRoot()) < 1e-15)
    #expect(abs(se - (5.0 / 3).squareRoot() / 2) < 1e-15)
    let constant = try #require(MeanAndStandardError([0.7, 0.7, 0.7]))
    #expect(try #require(constant.standardError) < 1e-15)
    let single = try #require(MeanAndStandardError([3]))
    #expect(single.mean == 3 && single.standardError == nil)
    #expect(MeanAndStandardError([Double]()) == nil)
  }

  @Test("Steps to converge read from a trajectory")
  func stepsToConverge() throws {
    let patterns = Matrix<Double>(rowArrays: [[1, 1, -1, -1, 1, -1], [1, -1, 1, -1, 1, 1]])
    let network = try ClassicalHopfield(patterns: patterns)
    let result = try SynchronousDynamics(maxSteps: 10, tolerance: 0).run(network, from: patterns)
    // A stored pattern of this tiny network is a fixed point: the first step has size 0.
    for trajectory in result.trajectories {
      #expect(RetrievalMetrics.stepsToConverge(trajectory, tolerance: 0) == 1)
    }
  }
}
