import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import Foundation
import Testing

@Suite("Corruption")
struct CorruptionTests {
  @Test("Gaussian noise has the requested standard deviation and zero mean")
  func noiseStatistics() throws {
    let patterns = Matrix<Double>(rows: 3, columns: 500)
    var rng = SeededGenerator(seed: 1)
    for sigma in [0.1, 0.5, 2.0] {
      let made = try Corruption.gaussianNoise(sigma: sigma).queries(
        from: patterns, targets: Array(repeating: 1, count: 40), using: &rng)
      let x = made.queries.elements
      let n = Double(x.count)
      let mean = x.reduce(0, +) / n
      let std = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
      // 20,000 samples: relative SE of the std ≈ 1/√(2n) ≈ 0.5 %.
      #expect(abs(std / sigma - 1) < 0.03, "σ = \(sigma): empirical \(std)")
      #expect(abs(mean) < 4 * sigma / n.squareRoot(), "σ = \(sigma): mean \(mean)")
    }
  }

  @Test("Noise with σ = 0 and .none return the targets")
  func zeroNoise() throws {
    var rng = SeededGenerator(seed: 2)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 8)
    let targets = [4, 0, 2, 2]
    for c in [Corruption.gaussianNoise(sigma: 0), .none, .mask(fraction: 0), .flip(fraction: 0)] {
      let made = try c.queries(from: patterns, targets: targets, using: &rng)
      #expect(made.queries == patterns.rows(at: targets), "\(c)")
      #expect(made.targets == targets)
      #expect(made.distractors == nil)
    }
  }

  @Test(
    "Mask zeroes exactly round(f·d) coordinates and leaves the rest",
    arguments: [
      (0.3, 64, 19), (0.5, 7, 4), (1.0, 10, 10), (0.04, 10, 0), (0.05, 10, 1),
    ])
  func maskCount(fraction: Double, d: Int, expected: Int) throws {
    var rng = SeededGenerator(seed: 3)
    let patterns: Matrix<Double> = rng.signMatrix(rows: 4, columns: d)
    let corruption = Corruption.mask(fraction: fraction)
    #expect(corruption.affectedCoordinates(dimension: d) == expected)
    let targets = [0, 1, 2, 3, 0, 1]
    let made = try corruption.queries(from: patterns, targets: targets, using: &rng)
    var subsets = Set<[Int]>()
    for (k, t) in targets.enumerated() {
      let zeros = (0..<d).filter { made.queries[k, $0] == 0 }
      #expect(zeros.count == expected, "query \(k)")
      for j in 0..<d where made.queries[k, j] != 0 { #expect(made.queries[k, j] == patterns[t, j]) }
      subsets.insert(zeros)
    }
    if expected > 0 && expected < d { #expect(subsets.count > 1, "each query gets its own random subset") }
  }

  @Test("Flip negates exactly round(f·d) coordinates")
  func flipCount() throws {
    var rng = SeededGenerator(seed: 4)
    let patterns: Matrix<Float> = rng.signMatrix(rows: 3, columns: 100)
    let made = try Corruption.flip(fraction: 0.15).queries(from: patterns, targets: [2, 1, 0, 2], using: &rng)
    for (k, t) in made.targets.enumerated() {
      let flipped = (0..<100).filter { made.queries[k, $0] == -patterns[t, $0] }.count
      let kept = (0..<100).filter { made.queries[k, $0] == patterns[t, $0] }.count
      #expect(flipped == 15 && kept == 85)
    }
  }

  @Test("Overlap: α = 1 is the target, α = 0 a different stored pattern, α = ½ the midpoint")
  func overlap() throws {
    var rng = SeededGenerator(seed: 5)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 6, columns: 16)
    let targets = Corruption.randomTargets(count: 50, patternCount: 6, using: &rng)
    let one = try Corruption.overlap(alpha: 1).queries(from: patterns, targets: targets, using: &rng)
    #expect(one.queries == patterns.rows(at: targets))
    let zero = try Corruption.overlap(alpha: 0).queries(from: patterns, targets: targets, using: &rng)
    let distractors = try #require(zero.distractors)
    #expect(distractors.count == targets.count)
    for (k, t) in targets.enumerated() {
      #expect(distractors[k] != t)
      #expect(zero.queries.row(k) == patterns.row(distractors[k]))
    }
    #expect(Set(distractors).count > 2, "distractors are drawn at random")
    let half = try Corruption.overlap(alpha: 0.5).queries(from: patterns, targets: targets, using: &rng)
    let hd = try #require(half.distractors)
    for (k, t) in targets.enumerated() {
      for j in 0..<16 {
        #expect(abs(half.queries[k, j] - (patterns[t, j] + patterns[hd[k], j]) / 2) < 1e-12)
      }
    }
  }

  @Test("Invalid levels and inputs throw the matching error")
  func invalid() {
    var rng = SeededGenerator(seed: 6)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 3, columns: 4)
    let cases: [(Corruption, CorruptionError)] = [
      (.gaussianNoise(sigma: -0.1), .invalidLevel(kind: .noise, value: -0.1)),
      (.gaussianNoise(sigma: .infinity), .invalidLevel(kind: .noise, value: .infinity)),
      (.mask(fraction: 1.5), .invalidLevel(kind: .mask, value: 1.5)),
      (.mask(fraction: -0.01), .invalidLevel(kind: .mask, value: -0.01)),
      (.overlap(alpha: 1.01), .invalidLevel(kind: .overlap, value: 1.01)),
      (.flip(fraction: 2), .invalidLevel(kind: .flip, value: 2)),
    ]
    for (corruption, error) in cases {
      #expect(throws: error) { try corruption.queries(from: patterns, targets: [0], using: &rng) }
    }
    #expect(throws: CorruptionError.self) { try Corruption.mask(fraction: .nan).validate() }
    #expect(throws: CorruptionError.overlapNeedsTwoPatterns(patternCount: 1)) {
      try Corruption.overlap(alpha: 0.5).queries(from: patterns.rows(at: [0]), targets: [0], using: &rng)
    }
    #expect(throws: CorruptionError.targetOutOfRange(position: 1, value: 3, patternCount: 3)) {
      try Corruption.none.queries(from: patterns, targets: [0, 3], using: &rng)
    }
    #expect(throws: CorruptionError.emptyPatterns(count: 0, dimension: 4)) {
      try Corruption.none.queries(from: Matrix<Double>(rows: 0, columns: 4), targets: [], using: &rng)
    }
    let message = CorruptionError.invalidLevel(kind: .mask, value: 2).description
    #expect(message.contains("[0, 1]") && message.contains("2"))
  }

  @Test("Same seed gives the same queries; query k does not depend on the batch size")
  func reproducible() throws {
    var rng = SeededGenerator(seed: 7)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 12)
    for corruption in [
      Corruption.gaussianNoise(sigma: 0.3), .mask(fraction: 0.4), .overlap(alpha: 0.6), .flip(fraction: 0.2),
    ] {
      var a = SeededGenerator(seed: 99)
      var b = SeededGenerator(seed: 99)
      var c = SeededGenerator(seed: 100)
      let targets = [0, 1, 2, 3, 4, 0, 1]
      let qa = try corruption.queries(from: patterns, targets: targets, using: &a)
      let qb = try corruption.queries(from: patterns, targets: targets, using: &b)
      let qc = try corruption.queries(from: patterns, targets: targets, using: &c)
      #expect(qa == qb, "\(corruption)")
      #expect(qa != qc, "\(corruption)")
      var d = SeededGenerator(seed: 99)
      let prefix = try corruption.queries(from: patterns, targets: Array(targets.prefix(3)), using: &d)
      #expect(prefix.queries == qa.queries.rows(at: 0..<3), "\(corruption)")
    }
  }

  @Test("Corruption round-trips through JSON as {kind, level}")
  func codable() throws {
    for c in [
      Corruption.gaussianNoise(sigma: 0.3), .mask(fraction: 0.5), .overlap(alpha: 0.25), .flip(fraction: 0.1), .none,
    ] {
      let data = try JSONEncoder().encode(c)
      #expect(try JSONDecoder().decode(Corruption.self, from: data) == c)
      let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      #expect(object["kind"] as? String == c.kind.rawValue)
      #expect((object["level"] as? Double) == c.level)
    }
    #expect(Corruption(kind: .overlap, level: 0.4) == .overlap(alpha: 0.4))
  }

  @Test("Binarisation: sign with 0 ↦ +1, or zeros kept")
  func binarize() {
    let m = Matrix<Double>(rowArrays: [[0.5, -2, 0], [-0.0, 3, -1e-9]])
    #expect(Binarization.binarized(m) == Matrix(rowArrays: [[1, -1, 1], [1, 1, -1]]))
    #expect(Binarization.binarized(m, keepingZeros: true) == Matrix(rowArrays: [[1, -1, 0], [0, 1, -1]]))
    #expect(Binarization.isBinary(Binarization.binarized(m)))
    #expect(!Binarization.isBinary(m))
    #expect(Binarization.isTernary(Binarization.binarized(m, keepingZeros: true)))
    let both = Binarization.binarized(patterns: m, queries: m, keepingZerosInQueries: true)
    #expect(Binarization.isBinary(both.patterns) && !Binarization.isBinary(both.queries))
  }
}
