import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorAnalysis

/// Closed-form checks of the fixed-point analysis on the modern Hopfield network (Ramsauer et al.
/// 2020): cases whose fixed points and stability are known without the code under test.
@Suite("Fixed-point analysis: closed-form cases")
struct ClosedFormTests {
  @Test("β·max‖xᵢ‖² < 1: exactly one fixed point, a stable global average (Lemma A3), several seeds")
  func contractionHasOneGlobalFixedPoint() throws {
    for seed in UInt64(0)..<4 {
      let patterns: Matrix<Double> = gaussianPatterns(12, 8, seed: seed)
      let m2 = patterns.rowNorms().map { $0 * $0 }.max()!
      let beta = 0.9 / m2
      let model = try ModernHopfield(patterns: patterns, beta: beta)
      let report = try FixedPointAnalyzer().analyze(model)
      #expect(report.nonConverged.isEmpty, "seed \(seed)")
      #expect(report.fixedPoints.count == 1, "seed \(seed): \(report.fixedPoints.count) fixed points")
      let p = try #require(report.fixedPoints.first)
      #expect(p.label == .globalAverage, "seed \(seed): \(p.label)")
      #expect(p.basinShare == 1)
      // ‖J‖₂ ≤ β M² < 1 and H = I − J ≻ 0.
      #expect(p.classification.jacobian.spectralRadius <= beta * m2 + 1e-12)
      #expect(p.classification.jacobian.solver == .symmetric && p.classification.jacobian.source == .analytic)
      let h = try #require(p.classification.hessian)
      #expect(h.kind == .minimum && h.index == 0 && h.smallest >= 1 - beta * m2 - 1e-12)
      #expect(p.residual < 1e-12)
    }
  }

  @Test(
    "Two antipodal patterns ±x: the global fixed point 0 loses stability at β‖x‖² = 1; the sweep finds it within 2 %")
  func antipodalTransition() throws {
    var rng = SeededGenerator(seed: 11)
    let x = (0..<5).map { _ in 0.6 * rng.nextGaussian() }
    let squaredNorm = x.reduce(0) { $0 + $1 * $1 }
    let patterns = Matrix(rowArrays: [x, x.map { -$0 }])
    let critical = 1 / squaredNorm
    let betas = try PhaseDiagram.logSpaced(from: critical / 10, to: critical * 10, count: 9)
    var search = FixedPointSearch(noisyStartsPerPattern: 1, pairMixtures: 0, tripleMixtures: 0, randomStarts: 4)
    search.maxSteps = 500
    let diagram = try PhaseDiagram.sweep(betas: betas, analyzer: FixedPointAnalyzer(search: search)) { beta in
      try ModernHopfield(patterns: patterns, beta: beta)
    }
    let t = try #require(diagram.transition)
    #expect(abs(t.beta / critical - 1) < 0.02, "β* = \(t.beta), closed form \(critical)")
    // The grid holds β = β* itself (up to rounding), where ρ = 1 and either side is right.
    let slack = 1e-9 * critical
    #expect(t.lower <= critical + slack && critical - slack <= t.upper)
    #expect(abs((t.spectralRadiusAtLower ?? 0) - 1) < 0.02 && t.regimeAtUpper == .globalAverage)
    // The origin goes on existing above β*, as a saddle: an eigenvalue crossing, not a fold.
    #expect(t.kind == .eigenvalueCrossing && (t.spectralRadiusAtUpper ?? 0) >= 1)
    #expect(t.upper - t.lower < 1e-8 * critical)
    // Below β*: the probe finds a stable global average with ρ = β‖x‖².
    for p in diagram.points {
      let rho = try #require(p.global.spectralRadius)
      #expect(abs(rho - p.beta * squaredNorm) < 1e-9 * max(1, rho), "β = \(p.beta)")
      if abs(p.beta * squaredNorm - 1) > 1e-9 { #expect(p.global.isStableGlobal == (p.beta * squaredNorm < 1)) }
    }

    // At β‖x‖² = 2: 0 is found (the mean start) and labelled unstable, a saddle of index 1; the two
    // retrieval states near ±x are stable single-pattern fixed points.
    let report = try FixedPointAnalyzer(search: search).analyze(
      try ModernHopfield(patterns: patterns, beta: 2 * critical))
    let origin = try #require(report.fixedPoints.first { $0.state.allSatisfy { abs($0) < 1e-12 } })
    #expect(origin.label == .unstable && origin.classification.regime == .globalAverage)
    #expect(origin.classification.hessian?.index == 1)
    #expect(abs(origin.classification.jacobian.spectralRadius - 2) < 1e-9)
    let singles = report.fixedPoints.filter { $0.label == .singlePattern }
    #expect(Set(singles.map { $0.classification.evidence!.nearestPattern }) == [0, 1])
  }

  @Test("Well-separated patterns at large β: one stable single-pattern fixed point per pattern")
  func singlePatternRetrieval() throws {
    for seed in UInt64(0)..<3 {
      let patterns = normalizedRows(gaussianPatterns(6, 24, seed: 100 + seed))
      let model = try ModernHopfield(patterns: patterns, beta: 40)
      let report = try FixedPointAnalyzer().analyze(model)
      let singles = report.fixedPoints.filter { $0.label == .singlePattern }
      #expect(singles.count == 6, "seed \(seed): \(report.countByClass)")
      #expect(Set(singles.map { $0.classification.evidence!.nearestPattern }) == Set(0..<6))
      for p in singles {
        let e = try #require(p.classification.evidence)
        #expect(e.k == 1 && e.heaviest[0].pattern == e.nearestPattern)
        #expect(e.distanceToNearest < 0.05, "seed \(seed): \(e.distanceToNearest)")
        #expect(p.classification.jacobian.spectralRadius < 1)
        #expect(p.classification.hessian?.kind == .minimum)
        // Every pattern start ends at its own pattern's fixed point.
        #expect(p.basinShareByKind["pattern"] == 1.0 / 6)
      }
    }
  }

  @Test(
    "A tight cluster plus far patterns at moderate β: a stable metastable fixed point whose subset is exactly the cluster"
  )
  func metastableCluster() throws {
    var rng = SeededGenerator(seed: 5)
    let d = 16
    let center = normalizedRows(Matrix(rows: 1, columns: d) { _, _ in rng.nextGaussian() }).row(0)
    var rows: [[Double]] = []
    let far = normalizedRows(gaussianPatterns(4, d, seed: 9))
    // Far patterns at rows 0, 2, 5, 7; the cluster (near-identical copies of `center`) at 1, 3, 4, 6.
    let clusterRows = [1, 3, 4, 6]
    var f = 0
    for i in 0..<8 {
      if clusterRows.contains(i) {
        rows.append(center.map { $0 + 0.01 * rng.nextGaussian() / Double(d).squareRoot() })
      } else {
        rows.append(far.row(f))
        f += 1
      }
    }
    let model = try ModernHopfield(patterns: Matrix(rowArrays: rows), beta: 12)
    let report = try FixedPointAnalyzer().analyze(model)
    let metastable = report.fixedPoints.filter { $0.label == .metastable }
    #expect(metastable.count == 1, "\(report.countByClass)")
    let p = try #require(metastable.first)
    let e = try #require(p.classification.evidence)
    #expect(e.subset == clusterRows)
    #expect(e.k == 4 && abs(e.participationRatio - 4) < 0.1)
    #expect(p.classification.jacobian.spectralRadius < 1 && p.classification.hessian?.kind == .minimum)
    // Starting at a cluster member ends here.
    #expect(p.basinShareByKind["pattern"] == 0.5)
  }

  @Test(
    "Non-symmetric attention (separate query and key projections): general eigensolver, complex eigenvalues, finite differences"
  )
  func nonSymmetricAttention() throws {
    let d = 4
    let patterns: Matrix<Double> = gaussianPatterns(40, d, seed: 21)
    let rule = ProjectedAttention(
      patterns: patterns, keyProjection: .identity(d), queryProjection: pairRotation(dimension: d, angle: 1.2),
      beta: 1.5)
    let report = try FixedPointAnalyzer().analyze(rule)
    #expect(report.nonConverged.isEmpty)
    #expect(report.fixedPoints.count == 1)
    let p = try #require(report.fixedPoints.first)
    let j = p.classification.jacobian
    #expect(j.source == .finiteDifferences)
    #expect(j.solver == .general && j.asymmetry > 0.1)
    #expect(j.complexPairCount == 2, "\(j.eigenvalues)")
    #expect(p.classification.hessian == nil)  // no energy
    #expect(p.label == .globalAverage)
    // The finite-difference spectrum agrees with the closed-form Jacobian's.
    let exact = try rule.analyticJacobian(at: p.state).generalEigendecomposition(computeEigenvectors: false)
    #expect(abs(exact.spectralRadius - j.spectralRadius) < 1e-7)
    let sortedExact = exact.eigenvalues.map { ($0.real, $0.imaginary) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    let sortedFound = j.eigenvalues.map { ($0.re, $0.im) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    for (a, b) in zip(sortedExact, sortedFound) {
      #expect(abs(a.0 - b.0) < 1e-7 && abs(a.1 - b.1) < 1e-7)
    }
  }
}

@Suite("Fixed-point analysis: derivatives, evidence and errors")
struct AnalysisBehaviourTests {
  @Test(
    "Without closed forms the analysis falls back to finite differences, says so, and agrees with the analytic spectra")
  func finiteDifferenceFallback() throws {
    let patterns: Matrix<Double> = gaussianPatterns(10, 6, seed: 3)
    let model = try ModernHopfield(patterns: patterns, beta: 6)
    let search = FixedPointSearch(noisyStartsPerPattern: 1, pairMixtures: 4, tripleMixtures: 4, randomStarts: 4)
    let analytic = try FixedPointAnalyzer(search: search).analyze(model)
    let opaque = try FixedPointAnalyzer(search: search).analyze(OpaqueHopfield(model: model))
    #expect(analytic.fixedPoints.count == opaque.fixedPoints.count)
    #expect(
      opaque.fixedPoints.allSatisfy {
        $0.classification.jacobian.source == .finiteDifferences
          && $0.classification.hessian?.source == .finiteDifferences
      })
    #expect(analytic.fixedPoints.allSatisfy { $0.classification.jacobian.source == .analytic })
    for (a, b) in zip(analytic.fixedPoints, opaque.fixedPoints) {
      #expect(Kernels.distance(a.state, b.state) < 1e-8)
      #expect(a.label == b.label)
      #expect(abs(a.classification.jacobian.spectralRadius - b.classification.jacobian.spectralRadius) < 1e-6)
      let ha = a.classification.hessian!.eigenvalues, hb = b.classification.hessian!.eigenvalues
      for (x, y) in zip(ha, hb) { #expect(abs(x - y) < 1e-5) }
    }
    // Forcing finite differences on the analytic model gives the same.
    var forced = Classifier()
    forced.linearization.forceFiniteDifferences = true
    let c = try forced.classify(model, at: Matrix(rows: 1, columns: 6, elements: analytic.fixedPoints[0].state))[0]
    #expect(c.jacobian.source == .finiteDifferences)
    #expect(abs(c.jacobian.spectralRadius - analytic.fixedPoints[0].classification.jacobian.spectralRadius) < 1e-6)
  }

  @Test("Batched Jacobians (Khatri–Rao GEMM and per-state paths) equal the model's jacobian(at:) and H = I − J")
  func batchedJacobians() throws {
    let patterns: Matrix<Double> = gaussianPatterns(30, 7, seed: 8)
    let model = try ModernHopfield(patterns: patterns, beta: 5)
    let states: Matrix<Double> = gaussianPatterns(9, 7, seed: 9)
    let fast = model.linearizationStacks(at: states, khatriRaoLimit: 1 << 26)
    let slow = model.linearizationStacks(at: states, khatriRaoLimit: 0)
    for r in 0..<9 {
      let j = model.jacobian(at: states.row(r))
      let h = model.hessian(at: states.row(r))
      let jf = Matrix(rows: 7, columns: 7, elements: fast.jacobians.row(r))
      let js = Matrix(rows: 7, columns: 7, elements: slow.jacobians.row(r))
      let hf = Matrix(rows: 7, columns: 7, elements: fast.hessians!.row(r))
      #expect(jf.maxAbsDifference(j) < 1e-12 && js.maxAbsDifference(j) < 1e-12 && hf.maxAbsDifference(h) < 1e-12)
    }
  }

  @Test("Classifying in chunks (bounded memory for large d) gives the same results as one batch")
  func chunkedClassification() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(12, 5, seed: 31) as Matrix<Double>, beta: 7)
    let states: Matrix<Double> = gaussianPatterns(7, 5, seed: 32)
    var chunked = Classifier()
    chunked.stackLimit = 2 * 25
    // Same labels, evidence and spectra; eigenvalues to rounding (the BLAS kernels that OpenBLAS
    // picks for a CPU may block a stacked product differently from a single one).
    let a = try chunked.classify(model, at: states)
    let b = try Classifier().classify(model, at: states)
    #expect(a.count == b.count)
    for (x, y) in zip(a, b) {
      #expect(x.label == y.label && x.regime == y.regime && x.evidence?.k == y.evidence?.k)
      #expect(x.evidence?.subset == y.evidence?.subset)
      #expect(abs(x.jacobian.spectralRadius - y.jacobian.spectralRadius) < 1e-12)
      let hx = try #require(x.hessian), hy = try #require(y.hessian)
      #expect(hx.kind == hy.kind && hx.index == hy.index)
      for (u, v) in zip(hx.eigenvalues, hy.eigenvalues) { #expect(abs(u - v) < 1e-12) }
    }
  }

  @Test("Evidence: k₉₀, entropy and participation ratio from the weights; thresholds are parameters")
  func evidenceAndThresholds() throws {
    let patterns: Matrix<Double> = gaussianPatterns(8, 5, seed: 2)
    let model = try ModernHopfield(patterns: patterns, beta: 3)
    let state: Matrix<Double> = gaussianPatterns(1, 5, seed: 4)
    let c = try Classifier().classify(model, at: state)[0]
    let e = try #require(c.evidence)
    let p = model.separation(state).elements
    let sorted = p.sorted(by: >)
    var k = 0, sum = 0.0
    while sum < 0.9 {
      sum += sorted[k]
      k += 1
    }
    #expect(e.k == k)
    #expect(abs(e.entropy + p.reduce(0) { $0 + $1 * log($1) }) < 1e-12)
    #expect(abs(e.participationRatio - 1 / p.reduce(0) { $0 + $1 * $1 }) < 1e-9)
    let distances = (0..<8).map { Kernels.distance(state.row(0), patterns.row($0)) }
    #expect(e.nearestPattern == distances.firstIndex(of: distances.min()!)!)
    #expect(abs(e.distanceToNearest - distances.min()!) < 1e-12)
    // A stricter mass needs at least as many patterns.
    var strict = Classifier()
    strict.thresholds.mass = 0.99
    #expect(try strict.classify(model, at: state)[0].evidence!.k >= e.k)
  }

  @Test("Starts that do not converge are reported; basin shares and non-converged starts add up to 1")
  func nonConvergedReported() throws {
    let patterns: Matrix<Double> = gaussianPatterns(10, 6, seed: 1)
    let model = try ModernHopfield(patterns: patterns, beta: 4)
    var search = FixedPointSearch()
    search.maxSteps = 2
    let report = try FixedPointAnalyzer(search: search).analyze(model)
    #expect(!report.nonConverged.isEmpty)
    #expect(report.nonConverged.allSatisfy { $0.steps == 2 && $0.lastStepSize > 0 })
    let covered = report.fixedPoints.reduce(0) { $0 + $1.basinShare } + report.nonConvergedShare
    #expect(abs(covered - 1) < 1e-12)
    let full = try FixedPointAnalyzer().analyze(model)
    let fullCovered = full.fixedPoints.reduce(0) { $0 + $1.basinShare } + full.nonConvergedShare
    #expect(abs(fullCovered - 1) < 1e-12)
    #expect(full.totalStarts == 10 + 20 + 16 + 16 + 1 + 16)
  }

  @Test("Invalid parameters and inputs throw typed errors")
  func errors() throws {
    let model = try ModernHopfield(patterns: gaussianPatterns(4, 3, seed: 0) as Matrix<Double>, beta: 2)
    var bad = FixedPointAnalyzer()
    bad.classifier.thresholds.mass = 1.5
    #expect(throws: AnalysisError.invalidParameter(name: "mass", value: "1.5", requirement: "in (0, 1]")) {
      try bad.analyze(model)
    }
    var badSearch = FixedPointAnalyzer()
    badSearch.search.mergeTolerance = -1
    #expect(throws: AnalysisError.self) { try badSearch.analyze(model) }
    #expect(throws: AnalysisError.dimensionMismatch(expected: 3, actual: 2)) {
      try Classifier().classify(model, at: Matrix<Double>(rows: 1, columns: 2))
    }
    #expect(throws: AnalysisError.nonFinite(what: "the states to classify")) {
      try Classifier().classify(model, at: Matrix<Double>(rows: 1, columns: 3, repeating: .nan))
    }
    #expect(throws: AnalysisError.dynamics(.nonFiniteState(row: 0, step: 1))) {
      try FixedPointAnalyzer().analyze(ExplodingRule(), starts: Matrix(rows: 1, columns: 3, repeating: 1))
    }
    #expect(throws: AnalysisError.self) { try PhaseDiagram.logSpaced(from: 1, to: 0.5, count: 4) }
    #expect(throws: AnalysisError.self) {
      try PhaseDiagram.sweep(betas: [1, 0.5]) { try ModernHopfield(patterns: model.patterns, beta: $0) }
    }
    var none = FixedPointSearch(
      includesPatterns: false, noisyStartsPerPattern: 0, pairMixtures: 0, tripleMixtures: 0, includesMean: false,
      randomStarts: 0)
    none.seed = 1
    #expect(throws: AnalysisError.empty(what: "the search has no starts; enable some start kinds or give starts")) {
      try FixedPointAnalyzer(search: none).analyze(model)
    }
  }

  @Test("Reports round-trip through JSON and write one CSV row per fixed point; Float works too")
  func codableAndCSV() throws {
    let patterns: Matrix<Float> = gaussianPatterns(6, 4, seed: 12)
    let model = try ModernHopfield(patterns: patterns, beta: 0.5)
    let report = try FixedPointAnalyzer().analyze(model)
    #expect(report.fixedPoints.count == 1 && report.fixedPoints[0].label == .globalAverage)
    let data = try JSONEncoder().encode(report)
    let decoded = try JSONDecoder().decode(FixedPointReport.self, from: data)
    #expect(decoded == report)
    let lines = report.csv().split(separator: "\n")
    #expect(lines.count == 1 + report.fixedPoints.count)
    #expect(
      lines[0].split(separator: ",").count == lines[1].split(separator: ",", omittingEmptySubsequences: false).count)
  }
}

@Suite("FixedPointAnalysis article")
struct ArticleExampleTests {
  @Test("The article's example runs and labels every fixed point with its evidence")
  func articleExample() throws {
    var rng = SeededGenerator(seed: 0)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 16, columns: 32, standardDeviation: 1 / 32.0.squareRoot())
    let memory = try ModernHopfield(patterns: patterns, beta: 5)
    let report = try FixedPointAnalyzer().analyze(memory)
    var labels = Set<FixedPointClass>()
    for point in report.fixedPoints {
      let evidence = try #require(point.classification.evidence)
      #expect(evidence.k >= 1 && evidence.participationRatio >= 1)
      labels.insert(point.label)
    }
    // At β = 5 the three kinds coexist (Docs/Analysis.md shows the table).
    #expect(labels == [.globalAverage, .metastable, .singlePattern])
  }
}
