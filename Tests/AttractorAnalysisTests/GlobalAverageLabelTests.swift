import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

/// The label "global average" says what it means (every stored pattern takes part and the point
/// sits near their mean), not "k₉₀ > N/2"; subsets print as they are.
@Suite("Global-average labels")
struct GlobalAverageLabelTests {
  /// A cluster of three patterns near e₁ and one far pattern at −e₁ (d = 3).
  static let cluster = Matrix(rowArrays: [
    [1, 0.2, 0], [1, -0.1, 0.17], [1, -0.1, -0.17], [-1, 0, 0],
  ])

  @Test("4 patterns, a cluster of 3 and a far one: the point over the cluster is metastable {0,1,2}, not global")
  func clusterOfThreeIsMetastable() throws {
    let model = try ModernHopfield(patterns: Self.cluster, beta: 5)
    let report = try FixedPointAnalyzer().analyze(model)
    // The fixed point over the cluster: its weights on patterns 0, 1, 2 sum to nearly 1.
    let point = try #require(
      report.fixedPoints.first { p in
        let e = p.classification.evidence!
        return e.subset == [0, 1, 2]
      }, "no fixed point over the cluster: \(report.fixedPoints.map { $0.classification.evidence!.subset })")
    let e = try #require(point.classification.evidence)
    #expect(e.k == 3 && e.patternCount == 4)
    // The far pattern carries about exp(−β · 2) of the weight: far below a tenth of 1/N.
    #expect((e.smallestWeight ?? 1) < 1e-3)
    #expect(point.label == .metastable, "\(point.label)")
    // Ramsauer et al.'s N/2 rule, kept as an option, calls it a global average (k₉₀ = 3 > 2).
    let half = ClassificationThresholds(globalRule: .halfOfPatterns)
    #expect(half.regime(e) == .globalAverage)
    // The table prints the subset as it is.
    let table = FixedPointAnalysisRecord(
      version: "test", patternsFile: nil, correlation: nil, patternCount: 4, dimension: 3, beta: 5, seed: 0,
      blasThreads: 1, report: report
    ).table(title: "cluster")
    let row = try #require(table.split(separator: "\n").first { $0.contains("{0,1,2}") })
    #expect(row.contains("metastable"))
    #expect(!table.contains("all ("))
  }

  @Test("3 orthonormal patterns at β = 10: the pair point is a saddle over {0,1}, printed as it is")
  func pairSaddleIsPrintedAsAPair() throws {
    let patterns = Matrix(rowArrays: [[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
    let beta = 10.0
    let model = try ModernHopfield(patterns: patterns, beta: beta)
    // Closed form on the symmetric line x = a(e₁ + e₂) + (1 − 2a) e₃: a = e^{βa}/(2e^{βa} + e^{β(1−2a)}).
    var a = 0.5
    for _ in 0..<200 { a = exp(beta * a) / (2 * exp(beta * a) + exp(beta * (1 - 2 * a))) }
    let saddle = Matrix(rowArrays: [[a, a, 1 - 2 * a]])
    #expect(model.update(at: saddle.row(0)).enumerated().allSatisfy { abs($0.element - saddle[0, $0.offset]) < 1e-14 })
    let c = try Classifier().classify(model, at: saddle)[0]
    let e = try #require(c.evidence)
    #expect(e.subset == [0, 1] && e.k == 2)
    #expect(c.label == .unstable && c.regime == .metastable)
    // Along e₁ − e₂ the Jacobian's eigenvalue is β a > 1: a saddle.
    #expect(abs(c.jacobian.spectralRadius - beta * a) < 1e-9)
    #expect(ClassificationThresholds(globalRule: .halfOfPatterns).regime(e) == .globalAverage)

    let report = try FixedPointAnalyzer().analyze(model, additionalStarts: saddle)
    let table = FixedPointAnalysisRecord(
      version: "test", patternsFile: nil, correlation: nil, patternCount: 3, dimension: 3, beta: beta, seed: 0,
      blasThreads: 1, report: report
    ).table(title: "pair")
    let row = try #require(table.split(separator: "\n").first { $0.contains("{0,1}") }, "\(table)")
    #expect(row.contains("unstable (metastable)"))
    #expect(!table.contains("all ("))
  }

  @Test("A global average still is one: small β, every pattern carries weight, x* near the mean")
  func globalAverageKeepsItsLabel() throws {
    let model = try ModernHopfield(patterns: Self.cluster, beta: 0.3)
    let report = try FixedPointAnalyzer().analyze(model)
    #expect(report.fixedPoints.count == 1)
    let p = try #require(report.fixedPoints.first)
    #expect(p.label == .globalAverage)
    let table = FixedPointAnalysisRecord(
      version: "test", patternsFile: nil, correlation: nil, patternCount: 4, dimension: 3, beta: 0.3, seed: 0,
      blasThreads: 1, report: report
    ).table(title: "global")
    #expect(table.contains("all 4"))
    // Records written before the rule existed decode with the rule they were made with.
    let old = Data(#"{"mass":0.9,"singlePatternMaxK":1,"globalFraction":0.5,"spectralRadiusLimit":1}"#.utf8)
    let decoded = try JSONDecoder().decode(ClassificationThresholds.self, from: old)
    #expect(decoded.globalRule == .halfOfPatterns)
    #expect(throws: AnalysisError.self) {
      try Classifier(thresholds: ClassificationThresholds(minimumShare: 0)).classify(model, at: Self.cluster)
    }
  }
}
