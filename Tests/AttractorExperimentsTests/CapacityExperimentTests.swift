import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing
@testable import AttractorExperiments

private func point(_ k: Int, _ fraction: Double) -> CapacityPoint {
  CapacityPoint(
    units: 10, patterns: k, starts: 100, errorFreeFraction: fraction, withinMaxErrorsFraction: fraction, meanErrors: 0,
    endedOnPatternFraction: fraction, convergedFraction: 1, meanSweeps: 1, errorHistogram: [100], unitUpdates: 0,
    seconds: 0)
}

@Suite("Capacity experiments")
struct CapacityExperimentTests {
  @Test("K_max and K½ estimates: largest all-error-free K before the first error; linear interpolation at ½")
  func estimates() {
    let (kMax, kHalf) = CapacityExperiment.estimates([point(40, 0.2), point(10, 1), point(20, 1), point(30, 0.8)])
    #expect(kMax == 20)
    #expect(kHalf == 30 + (0.8 - 0.5) / (0.8 - 0.2) * 10)
    let never = CapacityExperiment.estimates([point(10, 0.9), point(20, 1)])
    #expect(never.kMax == nil && never.kHalf == nil)
    let below = CapacityExperiment.estimates([point(10, 0.4), point(20, 0.1)])
    #expect(below.kHalf == nil)
  }

  @Test("Krotov–Hopfield formula: K_max ≈ 11, 362, 7238 at N = 100 for n = 2, 3, 4 (the paper's 11, 360, 7240)")
  func formula() throws {
    #expect(abs(CapacityModel.polynomial(degree: 2).formulaKMax(units: 100)! - 100 / (2 * log(100.0))) < 1e-9)
    #expect(abs(CapacityModel.polynomial(degree: 3).formulaKMax(units: 100)! - 10_000 / (6 * log(100.0))) < 1e-9)
    #expect(abs(CapacityModel.polynomial(degree: 4).formulaKMax(units: 100)! - 1e6 / (30 * log(100.0))) < 1e-6)
    #expect(
      CapacityModel.classical.formulaKMax(units: 100) == CapacityModel.polynomial(degree: 2).formulaKMax(units: 100))
    #expect(CapacityModel.exponential(beta: 1).formulaKMax(units: 100) == nil)
    #expect(CapacityModel.polynomial(degree: 1).formulaKMax(units: 100) == nil)
  }

  @Test(
    "small runs land on the formula's scale: N = 40, K½/K_max-formula within [0.5, 4] for n = 2 and 3; rectified n = 3 at least as high"
  )
  func formulaScale() throws {
    let experiment = CapacityExperiment(
      units: [40], patternCounts: [], relativePatterns: [0.25, 0.5, 1, 2, 4], starts: 150, seed: 1)
    var cubicKHalf = 0.0
    for model in [CapacityModel.classical, .polynomial(degree: 3)] {
      let curve = try #require(try experiment.run(model: model).first)
      let formula = try #require(curve.formulaKMax)
      let kHalf = try #require(curve.kHalf, "\(model): K½ inside the scanned range")
      #expect(kHalf / formula >= 0.5 && kHalf / formula <= 4, "\(model): K½ = \(kHalf), formula \(formula)")
      // Far above the formula nothing is recalled; far below everything is.
      #expect(curve.points.first!.errorFreeFraction >= 0.9)
      #expect(curve.points.last!.errorFreeFraction <= 0.3)
      if model == .polynomial(degree: 3) { cubicKHalf = kHalf }
    }
    let r3 = try #require(try experiment.run(model: .rectified(degree: 3)).first?.kHalf)
    #expect(r3 >= cubicKHalf)
  }

  @Test("stored starts: errors are distances to the own pattern; flips; results independent of the thread count")
  func storedStarts() throws {
    let experiment = CapacityExperiment(
      units: [60], patternCounts: [5, 40], starts: 120, start: .stored(flipFraction: 0.1), maxErrors: 2, seed: 3)
    let a = try experiment.run(model: .polynomial(degree: 5), threads: 1)[0]
    let b = try experiment.run(model: .polynomial(degree: 5), threads: 2)[0]
    #expect(a.points.map(\.errorHistogram) == b.points.map(\.errorHistogram))
    #expect(a.points.map(\.meanSweeps) == b.points.map(\.meanSweeps))
    // n = 5, K ≪ N⁴/(2·7!! ln N): every corrupted start is repaired.
    #expect(a.points.allSatisfy { $0.errorFreeFraction == 1 && $0.convergedFraction == 1 })
    // The start states: pattern s mod K with exactly round(0.1·60) = 6 units flipped.
    let patterns = experiment.randomPatterns(units: 60, count: 40)
    let (states, targets) = experiment.startStates(patterns: patterns)
    let t = try #require(targets)
    for s in 0..<120 {
      #expect(t[s] == s % 40)
      let wrong = (0..<60).filter { states[s, $0] != patterns[t[s], $0] }.count
      #expect(wrong == 6)
    }
    // Classical network far beyond 0.138 N: errors appear.
    let overloaded = CapacityExperiment(units: [60], patternCounts: [40], starts: 40, seed: 3)
    let c = try overloaded.run(model: .classical)[0].points[0]
    #expect(c.errorFreeFraction < 0.5 && c.meanErrors > 1)
    #expect(c.errorHistogram.reduce(0, +) == 40)
  }

  @Test("Several pattern draws: K_max and K½ per draw, pooled points, draw 0 is the single draw of before")
  func severalDraws() throws {
    let single = CapacityExperiment(units: [40], patternCounts: [2, 4, 6, 8, 12], starts: 40, seed: 5)
    var several = single
    several.draws = 6
    let one = try single.run(model: .classical, threads: 1)[0]
    let many = try several.run(model: .classical, threads: 1)[0]
    let kMaxes = try #require(many.kMaxByDraw)
    #expect(kMaxes.count == 6 && many.kHalfByDraw?.count == 6)
    // Draw 0 reproduces the single-draw run: its K_max is the first of the per-draw values.
    #expect(kMaxes[0] == one.kMax)
    // Independent draws differ (classical network at N = 40 near 0.14 N ≈ 6 patterns).
    #expect(Set(kMaxes).count > 1, "\(kMaxes)")
    for (p, q) in zip(many.points, one.points) {
      #expect(p.starts == 6 * q.starts && p.draws == 6)
      let per = try #require(p.errorFreeByDraw)
      #expect(per[0] == q.errorFreeFraction)
      #expect(abs(p.errorFreeFraction - per.reduce(0, +) / 6) < 1e-12)
      #expect(p.allErrorFreeShare == Double(per.filter { $0 == 1 }.count) / 6)
      #expect(p.errorHistogram.reduce(0, +) == p.starts)
    }
    // The summary: mean and spread of the per-draw K_max over the draws that have one.
    let s = many.kMaxSummary
    let values = kMaxes.compactMap { $0 }.map(Double.init)
    #expect(s.count == values.count && s.draws == 6)
    if !values.isEmpty { #expect(abs((s.mean ?? 0) - values.reduce(0, +) / Double(values.count)) < 1e-12) }
    #expect(throws: CapacityError.self) {
      var bad = single
      bad.draws = 0
      try bad.validate()
    }
    // A record without draws decodes as one draw.
    let data = try JSONEncoder().encode(single)
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    object.removeValue(forKey: "draws")
    let old = try JSONDecoder().decode(CapacityExperiment.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(old.draws == 1 && old == single)
  }

  @Test("random starts: the histogram counts every start; even n ends on ±ξ about equally often, exponential on +ξ")
  func randomStarts() throws {
    let experiment = CapacityExperiment(units: [50], patternCounts: [20], starts: 400, start: .random, seed: 5)
    let even = try experiment.run(model: .polynomial(degree: 6))[0].points[0]
    #expect(even.errorHistogram.reduce(0, +) == 400)
    #expect(even.errorFreeFraction > 0.95)
    #expect(even.endedOnPatternFraction > 0.35 && even.endedOnPatternFraction < 0.65)
    let exponential = try experiment.run(model: .exponential(beta: 1))[0].points[0]
    #expect(exponential.endedOnPatternFraction == exponential.errorFreeFraction)
    #expect(exponential.errorFreeFraction > 0.95)
  }

  @Test("bad parameters give typed errors")
  func validation() throws {
    func rejects(_ e: CapacityExperiment, model: CapacityModel = .polynomial(degree: 3)) -> Bool {
      do {
        _ = try e.run(model: model)
        return false
      } catch { return true }
    }
    let ok = CapacityExperiment(units: [10], patternCounts: [2], starts: 4)
    #expect(!rejects(ok))
    var e = ok
    e.start = .stored(flipFraction: 1.5)
    #expect(rejects(e))
    e = ok
    e.start = .stored(flipFraction: -0.1)
    #expect(rejects(e))
    e = ok
    e.units = [0]
    #expect(rejects(e))
    e = ok
    e.patternCounts = [0]
    #expect(rejects(e))
    e = ok
    e.starts = 0
    #expect(rejects(e))
    e = ok
    e.maxErrors = -1
    #expect(rejects(e))
    #expect(rejects(ok, model: .polynomial(degree: 0)))
    #expect(rejects(ok, model: .rectified(degree: -1)))
    #expect(rejects(ok, model: .exponential(beta: -1)))
    e = ok
    e.relativePatterns = [1]
    #expect(rejects(e, model: .exponential(beta: 1)))
    #expect(throws: CapacityError.invalidPatterns("pattern 0 has 0.5 at unit 1; capacity runs store ±1 patterns")) {
      try ok.run(model: .classical, patterns: Matrix<Double>(rowArrays: [[1, 0.5, -1]]))
    }
  }

  @Test("CSV, JSON and SVG outputs are written and the JSON decodes to the same report")
  func outputs() throws {
    let experiment = CapacityExperiment(
      units: [30, 40], patternCounts: [], relativePatterns: [0.5, 2, 6], starts: 30, start: .random, maxErrors: 3)
    let curves = try experiment.run(model: .polynomial(degree: 3))
    let report = CapacityReport(
      version: "test", experiment: experiment, models: [.polynomial(degree: 3)], curves: curves, threads: 2, seconds: 1)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capacity-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let written = try report.write(to: dir, prefix: "t")
    let names = Set(written.map(\.lastPathComponent))
    #expect(names.isSuperset(of: ["t.csv", "t.json", "t-recall.svg"]))
    let decoded = try JSONDecoder().decode(
      CapacityReport.self, from: Data(contentsOf: dir.appendingPathComponent("t.json")))
    #expect(decoded == report)
    let csv = try String(contentsOf: dir.appendingPathComponent("t.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 1 + curves.map(\.points.count).reduce(0, +))
    let svg = try String(contentsOf: dir.appendingPathComponent("t-recall.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("n = 3, N = 30"))
  }

  @Test("XOR truth table: x, x², x⁴, max(x,0) cannot; x³, x⁵ give −xy; max(x,0)ⁿ can for n ≥ 2; exact decision sums")
  func xor() throws {
    for n in [1, 2, 4, 6] {
      let r = try XORExperiment.run(interaction: try Polynomial(degree: n))
      #expect(!r.solved, "x^\(n)")
      #expect(
        r.rows.allSatisfy { $0.decisionSum == 0 && $0.zFromPlus == 1 && $0.zFromMinus == -1 },
        "x^\(n): every sum is 0, z is kept")
    }
    for n in [3, 5, 7] {
      let r = try XORExperiment.run(interaction: try Polynomial(degree: n))
      #expect(r.solved, "x^\(n)")
      #expect(r.rows.map { $0.zFromPlus } == [-1, 1, 1, -1])
    }
    // By hand for x³: Σ_μ ξ_z (6a² + 2) with a = ξ_x x + ξ_y y gives −48 xy.
    #expect(
      try XORExperiment.run(interaction: try Polynomial(degree: 3)).rows.map(\.decisionSum) == [-48, 48, 48, -48])
    #expect(!(try XORExperiment.run(interaction: try RectifiedPolynomial(degree: 1)).solved))
    for n in 2...6 {
      let r = try XORExperiment.run(interaction: try RectifiedPolynomial(degree: n))
      #expect(r.solved, "max(x,0)^\(n)")
      // At (x, y) = (+, +): 2·D(0) − D(2) = 2 − (3ⁿ − 1).
      #expect(r.rows[3].decisionSum == 3 - pow(3, Double(n)))
    }
    #expect(try XORExperiment.run(interaction: try Exponential()).solved)
  }
}
