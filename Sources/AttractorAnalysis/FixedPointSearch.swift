import AttractorCore
import AttractorLinearAlgebra

/// Where a start of the fixed-point search came from.
public enum StartKind: String, Codable, Sendable, Equatable, CaseIterable, Comparable {
  /// A stored pattern itself.
  case pattern
  /// A stored pattern plus Gaussian noise.
  case noisyPattern
  /// The average of two random stored patterns.
  case pairMixture
  /// The average of three random stored patterns.
  case tripleMixture
  /// The mean of all stored patterns.
  case mean
  /// A random Gaussian state.
  case random
  /// A state supplied by the caller.
  case given

  public static func < (a: StartKind, b: StartKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// One start of the search.
public struct Start: Codable, Sendable, Equatable {
  /// Its kind.
  public var kind: StartKind
  /// The stored patterns it was made from (empty for mean, random and given starts).
  public var patterns: [Int]
}

/// A start whose dynamics did not converge within the step limit (reported, never dropped).
public struct NonConvergedStart: Codable, Sendable, Equatable {
  /// Row of the start in the search's start list.
  public var start: Int
  /// Where it came from.
  public var origin: Start
  /// Steps taken.
  public var steps: Int
  /// ‖x_T − x_{T−1}‖ at the last step.
  public var lastStepSize: Double
}

/// How fixed points are searched for: which starts, how long to iterate, when two end points are
/// the same fixed point, and how many Newton steps polish them.
///
/// ```
/// starts:  xᵢ,  xᵢ + σ s ε (ε ~ N(0, I/d)),  (xᵢ + xⱼ)/2,  (xᵢ + xⱼ + xₗ)/3,  mean(X),  s ε
/// iterate: x ← f(x) until ‖x_t − x_{t−1}‖ ≤ tolerance or maxSteps       (batched, synchronous)
/// merge:   end points within mergeTolerance · s are one fixed point     (s = largest pattern norm)
/// Newton:  x ← x + (I − J)⁻¹ (f(x) − x), kept only if ‖f(x) − x‖ decreases and x moves < mergeTolerance · s
/// ```
///
/// All random choices derive from `seed`. Every parameter has a default; ``validate()`` explains a
/// bad value.
public struct FixedPointSearch: Codable, Sendable, Equatable {
  /// Start from every stored pattern. Default `true`.
  public var includesPatterns: Bool
  /// Noisy copies of each stored pattern. Default 2.
  public var noisyStartsPerPattern: Int
  /// Noise level σ relative to the pattern scale: ‖noise‖ ≈ σ · s. Default 0.3.
  public var noiseLevel: Double
  /// Number of random pair mixtures. Default 16.
  public var pairMixtures: Int
  /// Number of random triple mixtures. Default 16.
  public var tripleMixtures: Int
  /// Start from the mean of the patterns. Default `true`.
  public var includesMean: Bool
  /// Random Gaussian starts with norm ≈ s. Default 16.
  public var randomStarts: Int
  /// Seed of every random start. Default 0.
  public var seed: UInt64
  /// Step limit of the dynamics. Default 2000.
  public var maxSteps: Int
  /// Convergence tolerance on the step size. Default (`nil`): 1e-10 · s for Double, 1e-5 · s for Float.
  public var tolerance: Double?
  /// End points closer than this times s are merged. Default 1e-4.
  public var mergeTolerance: Double
  /// Newton steps polishing each fixed point (0 disables). Default 4.
  public var newtonSteps: Int

  public init(
    includesPatterns: Bool = true, noisyStartsPerPattern: Int = 2, noiseLevel: Double = 0.3, pairMixtures: Int = 16,
    tripleMixtures: Int = 16, includesMean: Bool = true, randomStarts: Int = 16, seed: UInt64 = 0,
    maxSteps: Int = 2000, tolerance: Double? = nil, mergeTolerance: Double = 1e-4, newtonSteps: Int = 4
  ) {
    self.includesPatterns = includesPatterns
    self.noisyStartsPerPattern = noisyStartsPerPattern
    self.noiseLevel = noiseLevel
    self.pairMixtures = pairMixtures
    self.tripleMixtures = tripleMixtures
    self.includesMean = includesMean
    self.randomStarts = randomStarts
    self.seed = seed
    self.maxSteps = maxSteps
    self.tolerance = tolerance
    self.mergeTolerance = mergeTolerance
    self.newtonSteps = newtonSteps
  }

  /// Checks every parameter.
  public func validate() throws(AnalysisError) {
    try AnalysisError.check(noisyStartsPerPattern >= 0, "noisyStartsPerPattern", noisyStartsPerPattern, "at least 0")
    try AnalysisError.check(noiseLevel.isFinite && noiseLevel >= 0, "noiseLevel", noiseLevel, "finite and ≥ 0")
    try AnalysisError.check(pairMixtures >= 0, "pairMixtures", pairMixtures, "at least 0")
    try AnalysisError.check(tripleMixtures >= 0, "tripleMixtures", tripleMixtures, "at least 0")
    try AnalysisError.check(randomStarts >= 0, "randomStarts", randomStarts, "at least 0")
    try AnalysisError.check(maxSteps >= 1, "maxSteps", maxSteps, "at least 1")
    if let tolerance {
      try AnalysisError.check(tolerance.isFinite && tolerance > 0, "tolerance", tolerance, "finite and > 0")
    }
    try AnalysisError.check(
      mergeTolerance.isFinite && mergeTolerance > 0, "mergeTolerance", mergeTolerance, "finite and > 0")
    try AnalysisError.check(newtonSteps >= 0, "newtonSteps", newtonSteps, "at least 0")
  }

  func tolerance<Scalar: LinearAlgebraScalar>(_: Scalar.Type, scale: Double) -> Double {
    tolerance ?? (Scalar.self == Float.self ? 1e-5 : 1e-10) * scale
  }

  /// The seeded starts for a model storing `patterns` (rows), in the order of ``StartKind``.
  public func starts<Scalar: LinearAlgebraScalar>(for patterns: Matrix<Scalar>) -> (
    states: Matrix<Scalar>, origins: [Start]
  ) {
    let n = patterns.rows
    let d = patterns.columns
    let scale = Self.scale(of: patterns)
    let perCoordinate = scale / Double(max(d, 1)).squareRoot()
    let root = SeededGenerator(seed: seed)
    var rows: [[Scalar]] = []
    var origins: [Start] = []
    if includesPatterns {
      for i in 0..<n {
        rows.append(patterns.row(i))
        origins.append(Start(kind: .pattern, patterns: [i]))
      }
    }
    var noise = root.derived(1)
    for i in 0..<n {
      for _ in 0..<noisyStartsPerPattern {
        let x = patterns.row(i)
        rows.append(x.map { $0 + Scalar(noiseLevel * perCoordinate * noise.nextGaussian()) })
        origins.append(Start(kind: .noisyPattern, patterns: [i]))
      }
    }
    var mixing = root.derived(2)
    for (count, size, kind) in [(pairMixtures, 2, StartKind.pairMixture), (tripleMixtures, 3, .tripleMixture)]
    where n >= size {
      for _ in 0..<count {
        var chosen: [Int] = []
        while chosen.count < size {
          let c = Int(mixing.next(upperBound: UInt64(n)))
          if !chosen.contains(c) { chosen.append(c) }
        }
        var x = [Scalar](repeating: 0, count: d)
        for c in chosen {
          for j in 0..<d { x[j] += patterns[c, j] / Scalar(size) }
        }
        rows.append(x)
        origins.append(Start(kind: kind, patterns: chosen.sorted()))
      }
    }
    if includesMean && n > 0 {
      let ones = [Scalar](repeating: 1 / Scalar(n), count: n)
      rows.append(patterns.multiplied(byVector: ones, transpose: true))
      origins.append(Start(kind: .mean, patterns: []))
    }
    var random = root.derived(3)
    for _ in 0..<randomStarts {
      rows.append((0..<d).map { _ in Scalar(perCoordinate * random.nextGaussian()) })
      origins.append(Start(kind: .random, patterns: []))
    }
    return (Matrix(rows: rows.count, columns: d, elements: rows.flatMap { $0 }), origins)
  }

  /// s: the largest pattern norm (1 when there are no patterns or all are zero).
  static func scale<Scalar: LinearAlgebraScalar>(of patterns: Matrix<Scalar>) -> Double {
    let m = Kernels.squaredRowNorms(patterns).max() ?? 0
    return m > 0 ? m.squareRoot() : 1
  }
}

/// End points of the search, merged, polished, with the start → fixed point assignment.
struct SearchOutcome<Scalar: LinearAlgebraScalar> {
  var points: Matrix<Scalar>
  var residuals: [Double]
  var newtonSteps: [Int]
  /// For each start: the fixed point it reached, or nil when it did not converge.
  var assignment: [Int?]
  var nonConverged: [NonConvergedStart]
}

extension FixedPointSearch {
  /// Runs the dynamics from `starts`, merges converged end points and polishes them with Newton.
  func run<Rule: AnalyzableRule>(
    _ rule: Rule, from starts: Matrix<Rule.Scalar>, origins: [Start], scale: Double, linearization: LinearizationOptions
  ) throws(AnalysisError) -> SearchOutcome<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    let d = rule.dimension
    guard starts.rows > 0 else {
      throw .empty(what: "the search has no starts; enable some start kinds or give starts")
    }
    guard starts.columns == d else { throw .dimensionMismatch(expected: d, actual: starts.columns) }
    let tol = tolerance(Scalar.self, scale: scale)
    let dynamics = SynchronousDynamics(maxSteps: maxSteps, tolerance: tol, recordEnergies: false)
    let result: DynamicsResult<Scalar>
    do {
      result = try dynamics.run(rule, from: starts)
    } catch {
      throw .dynamics(error)
    }
    let merge = mergeTolerance * scale
    var representatives: [[Scalar]] = []
    var assignment = [Int?](repeating: nil, count: starts.rows)
    var nonConverged: [NonConvergedStart] = []
    for r in 0..<starts.rows {
      let trajectory = result.trajectories[r]
      guard trajectory.converged else {
        nonConverged.append(
          NonConvergedStart(
            start: r, origin: origins[r], steps: trajectory.stepsTaken,
            lastStepSize: Double(trajectory.stepSizes.last ?? 0)))
        continue
      }
      let x = result.finalStates.row(r)
      if let existing = representatives.firstIndex(where: { Kernels.distance($0, x) <= merge }) {
        assignment[r] = existing
      } else {
        assignment[r] = representatives.count
        representatives.append(x)
      }
    }

    // Newton polish, then merge representatives that met.
    var residuals: [Double] = []
    var steps: [Int] = []
    var polished: [[Scalar]] = []
    for x in representatives {
      let (y, residual, taken) = newton(rule, from: x, maxMove: merge, linearization: linearization)
      polished.append(y)
      residuals.append(residual)
      steps.append(taken)
    }
    var remap = Array(0..<polished.count)
    var kept: [Int] = []
    for i in polished.indices {
      if let j = kept.first(where: { Kernels.distance(polished[$0], polished[i]) <= merge }) {
        remap[i] = remap[j]
      } else {
        remap[i] = kept.count
        kept.append(i)
      }
    }
    let points = Matrix(rows: kept.count, columns: d, elements: kept.flatMap { polished[$0] })
    return SearchOutcome(
      points: points, residuals: kept.map { residuals[$0] }, newtonSteps: kept.map { steps[$0] },
      assignment: assignment.map { $0.map { remap[$0] } }, nonConverged: nonConverged)
  }

  /// Newton steps on F(x) = f(x) − x: x ← x + (I − J)⁻¹ F(x), each kept only if ‖F‖ decreases and the
  /// total move stays within `maxMove`. Returns the point, ‖F‖ there and the steps kept.
  func newton<Rule: AnalyzableRule>(
    _ rule: Rule, from start: [Rule.Scalar], maxMove: Double, linearization: LinearizationOptions
  ) -> ([Rule.Scalar], Double, Int) {
    typealias Scalar = Rule.Scalar
    let d = start.count
    var x = start
    var fx = rule.update(at: x)
    var residual = Kernels.distance(fx, x)
    var taken = 0
    for _ in 0..<newtonSteps where residual > 0 {
      let j = rule.linearization(at: Matrix(rows: 1, columns: d, elements: x), options: linearization).jacobians
      var a = [Double](repeating: 0, count: d * d)
      for p in 0..<(d * d) { a[p] = -Double(j.elements[p]) }
      for i in 0..<d { a[i * d + i] += 1 }
      var b = (0..<d).map { Double(fx[$0]) - Double(x[$0]) }
      guard LinearSolve.solve(&a, &b, n: d) else { break }
      let candidate = (0..<d).map { x[$0] + Scalar(b[$0]) }
      guard candidate.allSatisfy({ $0.isFinite }), Kernels.distance(candidate, start) <= maxMove else { break }
      let fc = rule.update(at: candidate)
      let r = Kernels.distance(fc, candidate)
      guard r < residual else { break }
      x = candidate
      fx = fc
      residual = r
      taken += 1
    }
    return (x, residual, taken)
  }
}

enum LinearSolve {
  /// Solves A y = b in place (b ← y) by Gaussian elimination with partial pivoting; `false` when A
  /// is numerically singular.
  static func solve(_ a: inout [Double], _ b: inout [Double], n: Int) -> Bool {
    var scale = 0.0
    for v in a { scale = max(scale, abs(v)) }
    guard scale > 0 && scale.isFinite else { return false }
    for c in 0..<n {
      var pivot = c
      for r in (c + 1)..<max(c + 1, n) where abs(a[r * n + c]) > abs(a[pivot * n + c]) { pivot = r }
      guard abs(a[pivot * n + c]) > 1e-13 * scale else { return false }
      if pivot != c {
        for k in 0..<n { a.swapAt(c * n + k, pivot * n + k) }
        b.swapAt(c, pivot)
      }
      let inv = 1 / a[c * n + c]
      for r in (c + 1)..<max(c + 1, n) {
        let f = a[r * n + c] * inv
        if f == 0 { continue }
        for k in c..<n { a[r * n + k] -= f * a[c * n + k] }
        b[r] -= f * b[c]
      }
    }
    for c in stride(from: n - 1, through: 0, by: -1) {
      var s = b[c]
      for k in (c + 1)..<max(c + 1, n) { s -= a[c * n + k] * b[k] }
      b[c] = s / a[c * n + c]
    }
    return true
  }
}
