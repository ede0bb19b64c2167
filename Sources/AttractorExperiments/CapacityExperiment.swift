import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// A memory model whose capacity ``CapacityExperiment`` measures.
///
/// `.classical` runs ``/AttractorModels/DenseAssociativeMemory`` with F(x) = x², whose decisions are exactly those
/// of ``/AttractorModels/ClassicalHopfield`` (zero self-coupling; checked by a test), so it shares the fast runner.
public enum CapacityModel: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  /// The classical Hopfield network (F(x) = x²).
  case classical
  /// F(x) = xⁿ.
  case polynomial(degree: Int)
  /// F(x) = max(x, 0)ⁿ.
  case rectified(degree: Int)
  /// F(x) = exp(βx).
  case exponential(beta: Double)

  /// Checks the parameters: 1 ≤ n ≤ 64, β finite and positive.
  public func validate() throws(CapacityError) {
    switch self {
    case .classical: break
    case .polynomial(let n), .rectified(let n):
      try CapacityError.check(n >= 1 && n <= 64, "degree", n, "an integer from 1 to 64")
    case .exponential(let beta):
      try CapacityError.check(beta.isFinite && beta > 0, "beta", beta, "finite and positive")
    }
  }

  /// Short name for tables and legends.
  public var description: String {
    switch self {
    case .classical: "classical"
    case .polynomial(let n): "n = \(n)"
    case .rectified(let n): "rectified n = \(n)"
    case .exponential(let beta): beta == 1 ? "exponential" : "exponential β = \(beta)"
    }
  }

  /// The degree n of a polynomial model (2 for classical), `nil` for the exponential.
  public var degree: Int? {
    switch self {
    case .classical: 2
    case .polynomial(let n), .rectified(let n): n
    case .exponential: nil
    }
  }

  /// Krotov & Hopfield's no-error capacity estimate K_max ≈ Nⁿ⁻¹ / (2 (2n − 3)!! ln N) for the
  /// polynomial models with n ≥ 2 (also shown for the rectified ones, for which the paper gives no
  /// separate formula); `nil` otherwise.
  public func formulaKMax(units n: Int) -> Double? {
    guard let degree, degree >= 2, n >= 2 else { return nil }
    var doubleFactorial = 1.0
    var k = 2 * degree - 3
    while k > 1 {
      doubleFactorial *= Double(k)
      k -= 2
    }
    return pow(Double(n), Double(degree - 1)) / (2 * doubleFactorial * log(Double(n)))
  }
}

/// Where the dynamics start.
public enum CapacityStart: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  /// Stored pattern s mod K with round(f·N) distinct random units negated (f = 0: the pattern itself).
  case stored(flipFraction: Double)
  /// Independent uniform ±1 states.
  case random

  public var description: String {
    switch self {
    case .stored(let f): f == 0 ? "stored patterns" : "stored patterns with \(f) of the units flipped"
    case .random: "random ±1 states"
    }
  }
}

/// Errors of the capacity experiments.
public enum CapacityError: InvalidParameterError, Equatable, Sendable, CustomStringConvertible {
  /// A parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// Given patterns are not usable (shape, non-±1 entries).
  case invalidPatterns(String)
  /// The model could not be built or run.
  case modelFailed(String)
  /// A result file could not be written.
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      return Self.invalidParameterMessage(name: name, value: value, requirement: requirement)
    case .invalidPatterns(let message):
      return message
    case .modelFailed(let message):
      return message
    case .writeFailed(let path, let reason):
      return "cannot write \(path): \(reason)"
    }
  }
}

/// The recall of one model at one (N, K).
public struct CapacityPoint: Sendable, Equatable, Codable {
  /// Number of units N.
  public var units: Int
  /// Number of stored patterns K.
  public var patterns: Int
  /// Number of starts.
  public var starts: Int
  /// Fraction of starts that end with no wrong unit (see ``CapacityExperiment`` for what "wrong"
  /// is measured against).
  public var errorFreeFraction: Double
  /// Fraction of starts that end with at most `maxErrors` wrong units.
  public var withinMaxErrorsFraction: Double
  /// Mean number of wrong units at the end.
  public var meanErrors: Double
  /// For random starts: fraction ending exactly on a stored pattern (+ξ only, not −ξ).
  public var endedOnPatternFraction: Double
  /// Fraction of starts whose dynamics reached a fixed point within `maxSweeps`.
  public var convergedFraction: Double
  /// Mean sweeps per start.
  public var meanSweeps: Double
  /// Histogram of the number of wrong units: `errorHistogram[e]` starts ended with e errors.
  public var errorHistogram: [Int]
  /// Unit updates performed (sweeps × N).
  public var unitUpdates: Int
  /// Wall time of the dynamics, in seconds.
  public var seconds: Double
  /// Independent pattern draws pooled in this point (`nil`: one, in records written before draws).
  public var draws: Int? = nil
  /// The error-free fraction of each draw (`nil` for one draw).
  public var errorFreeByDraw: [Double]? = nil

  /// Share of the draws in which every start ended error-free: with stored starts and no flips,
  /// the probability that every one of the K patterns is a fixed point.
  public var allErrorFreeShare: Double {
    let per = errorFreeByDraw ?? [errorFreeFraction]
    return Double(per.filter { $0 == 1 }.count) / Double(max(1, per.count))
  }

  /// Pools the points of several draws at the same (N, K): starts, counts and times add up.
  static func pooled(_ parts: [CapacityPoint]) -> CapacityPoint {
    guard var p = parts.first else { preconditionFailure("no points to pool") }
    if parts.count == 1 { return p }
    let total = Double(parts.reduce(0) { $0 + $1.starts })
    func mean(_ v: (CapacityPoint) -> Double) -> Double {
      parts.reduce(0) { $0 + v($1) * Double($1.starts) } / total
    }
    p.starts = Int(total)
    p.errorFreeFraction = mean(\.errorFreeFraction)
    p.withinMaxErrorsFraction = mean(\.withinMaxErrorsFraction)
    p.meanErrors = mean(\.meanErrors)
    p.endedOnPatternFraction = mean(\.endedOnPatternFraction)
    p.convergedFraction = mean(\.convergedFraction)
    p.meanSweeps = mean(\.meanSweeps)
    var histogram = [Int](repeating: 0, count: parts.map(\.errorHistogram.count).max() ?? 1)
    for q in parts { for (e, c) in q.errorHistogram.enumerated() { histogram[e] += c } }
    p.errorHistogram = histogram
    p.unitUpdates = parts.reduce(0) { $0 + $1.unitUpdates }
    p.seconds = parts.reduce(0) { $0 + $1.seconds }
    p.draws = parts.count
    p.errorFreeByDraw = parts.map(\.errorFreeFraction)
    return p
  }
}

/// Mean, standard deviation and range of a capacity estimate over pattern draws.
public struct DrawSummary: Sendable, Equatable, Codable {
  /// Draws with a value (K_max: the smallest K already failed in the others; K½: never crossed).
  public var count: Int
  /// Draws in all.
  public var draws: Int
  /// Mean over the draws with a value.
  public var mean: Double?
  /// Sample standard deviation over them (`nil` for fewer than two).
  public var standardDeviation: Double?
  /// Smallest and largest value.
  public var minimum: Double?
  public var maximum: Double?

  init(_ values: [Double?]) {
    let v = values.compactMap { $0 }
    draws = values.count
    count = v.count
    mean = v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
    if let m = mean, v.count >= 2 {
      standardDeviation = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }
    minimum = v.min()
    maximum = v.max()
  }
}

/// One model's recall against K at one N, with the capacity estimates.
public struct CapacityCurve: Sendable, Equatable, Codable {
  public var model: CapacityModel
  public var units: Int
  public var points: [CapacityPoint]
  /// Largest scanned K such that every start at it and at every smaller scanned K ended error-free;
  /// `nil` if the smallest K already has an error.
  public var kMax: Int?
  /// K at which the error-free fraction first falls through ½, linearly interpolated between the
  /// two scanned K around the crossing; `nil` if it never falls below ½ or starts below it.
  public var kHalf: Double?
  /// Krotov & Hopfield's K_max formula at this N (polynomial models, n ≥ 2).
  public var formulaKMax: Double?
  /// K_max of each pattern draw on its own (`nil` in records written before draws).
  public var kMaxByDraw: [Int?]? = nil
  /// K½ of each pattern draw on its own.
  public var kHalfByDraw: [Double?]? = nil

  /// K_max over the draws: mean, spread, range.
  public var kMaxSummary: DrawSummary { DrawSummary((kMaxByDraw ?? [kMax]).map { $0.map(Double.init) }) }
  /// K½ over the draws.
  public var kHalfSummary: DrawSummary { DrawSummary(kHalfByDraw ?? [kHalf]) }
}

/// A capacity scan: for each model and N, store K random ±1 patterns for each K, run asynchronous
/// dynamics from `starts` starts and measure how many end on their memory.
///
/// ```
/// stored starts:  σ₀ = ξ^t with round(f·N) units flipped,  t = s mod K;   errors = d_H(σ_T, ξ^t)
/// random starts:  σ₀ uniform in {±1}ᴺ;   errors = min_μ min(d_H(σ_T, ξ^μ), d_H(σ_T, −ξ^μ))
/// K_max = largest scanned K with errors = 0 at every start (and every smaller K);
/// K_{1/2} = K where the error-free fraction crosses ½ (linear interpolation)
/// ```
///
/// For random starts a stored pattern's negation counts as a memory: for even n (and the classical
/// network) the energy is symmetric under σ ↦ −σ, so −ξ is an attractor exactly as deep as ξ;
/// ``CapacityPoint/endedOnPatternFraction`` reports +ξ only.
///
/// Everything is seeded: the patterns of (N, K) come from `seed`, N and K only, so all models see
/// the same patterns and starts; each start's sweep orders come from its own stream, so results do
/// not depend on the thread count. The dynamics are ``/AttractorModels/DenseAssociativeMemory/runAsynchronous(from:seed:maxSweeps:targets:threads:)``.
///
/// Reference: D. Krotov and J. J. Hopfield, "Dense Associative Memory for Pattern Recognition",
/// NeurIPS 2016, arXiv:1606.01164 (capacity formula and Appendix B).
public struct CapacityExperiment: Sendable, Equatable, Codable {
  /// Numbers of units N to scan.
  public var units: [Int]
  /// Numbers of stored patterns K to scan (used when `relativePatterns` is empty).
  public var patternCounts: [Int]
  /// Multiples c of the model's formula K_max(N): K = max(1, round(c·K_max(N))) (empty: use
  /// `patternCounts`).
  public var relativePatterns: [Double]
  /// Starts per (N, K).
  public var starts: Int
  /// Where the dynamics start.
  public var start: CapacityStart
  /// The "at most e wrong units" threshold.
  public var maxErrors: Int
  /// Seed of patterns, starts and sweep orders.
  public var seed: UInt64
  /// Most asynchronous sweeps per start.
  public var maxSweeps: Int
  /// Independent pattern draws per (N, K), each with its own starts; K_max and K½ are estimated
  /// per draw and summarised (``CapacityCurve/kMaxSummary``). Draw 0 is the single draw of
  /// earlier versions. Default 1.
  public var draws: Int = 1

  enum CodingKeys: String, CodingKey {
    case units, patternCounts, relativePatterns, starts, start, maxErrors, seed, maxSweeps, draws
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    units = try c.decode([Int].self, forKey: .units)
    patternCounts = try c.decode([Int].self, forKey: .patternCounts)
    relativePatterns = try c.decode([Double].self, forKey: .relativePatterns)
    starts = try c.decode(Int.self, forKey: .starts)
    start = try c.decode(CapacityStart.self, forKey: .start)
    maxErrors = try c.decode(Int.self, forKey: .maxErrors)
    seed = try c.decode(UInt64.self, forKey: .seed)
    maxSweeps = try c.decode(Int.self, forKey: .maxSweeps)
    draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? 1
  }

  public init(
    units: [Int], patternCounts: [Int], relativePatterns: [Double] = [], starts: Int,
    start: CapacityStart = .stored(flipFraction: 0),
    maxErrors: Int = 0, seed: UInt64 = 0, maxSweeps: Int = 1000, draws: Int = 1
  ) {
    self.draws = draws
    self.units = units
    self.patternCounts = patternCounts
    self.relativePatterns = relativePatterns
    self.starts = starts
    self.start = start
    self.maxErrors = maxErrors
    self.seed = seed
    self.maxSweeps = maxSweeps
  }

  /// Checks every parameter (N, K, starts ≥ 1; flip fraction in [0, 1]; e ≥ 0; maxSweeps ≥ 1;
  /// relative multiples finite and positive).
  public func validate() throws(CapacityError) { try validate(needsPatternCounts: true) }

  func validate(needsPatternCounts: Bool) throws(CapacityError) {
    guard !units.isEmpty else { throw .invalidParameter(name: "units", value: "[]", requirement: "at least one N") }
    for n in units where n < 1 || n > 1 << 20 {
      throw .invalidParameter(name: "units N", value: "\(n)", requirement: "between 1 and 1048576")
    }
    if relativePatterns.isEmpty && needsPatternCounts {
      guard !patternCounts.isEmpty else {
        throw .invalidParameter(name: "patterns K", value: "[]", requirement: "at least one K")
      }
      for k in patternCounts where k < 1 || k > 1 << 24 {
        throw .invalidParameter(name: "patterns K", value: "\(k)", requirement: "between 1 and 16777216")
      }
    }
    for c in relativePatterns where !(c.isFinite && c > 0) {
      throw .invalidParameter(name: "relative patterns", value: "\(c)", requirement: "finite and positive")
    }
    try CapacityError.check(starts >= 1 && starts <= 1 << 24, "starts", starts, "between 1 and 16777216")
    if case .stored(let f) = start, !(f >= 0 && f <= 1) {
      throw .invalidParameter(name: "flip fraction", value: "\(f)", requirement: "in [0, 1]")
    }
    try CapacityError.check(maxErrors >= 0, "max errors", maxErrors, "at least 0")
    try CapacityError.check(maxSweeps >= 1, "max sweeps", maxSweeps, "at least 1")
    try CapacityError.check(draws >= 1 && draws <= 10_000, "draws", draws, "between 1 and 10000")
  }

  /// The K values scanned for `model` at N.
  public func patternCounts(for model: CapacityModel, units n: Int) throws(CapacityError) -> [Int] {
    if relativePatterns.isEmpty { return patternCounts }
    guard let formula = model.formulaKMax(units: n) else {
      throw .invalidParameter(
        name: "relative patterns", value: "\(relativePatterns)",
        requirement: "used with a polynomial model of degree ≥ 2 (it scales the K_max formula)")
    }
    return Array(Set(relativePatterns.map { max(1, Int(($0 * formula).rounded())) })).sorted()
  }

  /// The stream of `purpose` (0 patterns, 1 starts, 2 sweep orders) at (N, K) and `draw`; draw 0
  /// is the stream of earlier versions.
  func stream(_ purpose: Int, units n: Int, count k: Int, draw: Int) -> SeededGenerator {
    let base = SeededGenerator(seed: seed).derived(purpose).derived(n).derived(k)
    return draw == 0 ? base : base.derived(draw)
  }

  /// The K random ±1 patterns used at (N, K) (K × N) in `draw`, determined by `seed`, N, K and
  /// the draw.
  public func randomPatterns(units n: Int, count k: Int, draw: Int = 0) -> Matrix<Double> {
    var rng = stream(0, units: n, count: k, draw: draw)
    return rng.signMatrix(rows: k, columns: n, as: Double.self)
  }

  /// The start states at (N, K) and their targets (s mod K for stored starts).
  public func startStates(patterns: Matrix<Double>, draw: Int = 0) -> (states: Matrix<Double>, targets: [Int]?) {
    let n = patterns.columns
    let k = patterns.rows
    var rng = stream(1, units: n, count: k, draw: draw)
    switch start {
    case .random:
      return (rng.signMatrix(rows: starts, columns: n, as: Double.self), nil)
    case .stored(let fraction):
      let targets = (0..<starts).map { $0 % k }
      var states = patterns.rows(at: targets)
      let flips = min(n, max(0, Int((fraction * Double(n)).rounded())))
      var order = [Int](repeating: 0, count: n)
      for s in 0..<starts where flips > 0 {
        for j in 0..<n { order[j] = j }
        for q in 0..<flips {
          let j = q + Int(rng.next(upperBound: UInt64(n - q)))
          order.swapAt(q, j)
          states[s, order[q]] = -states[s, order[q]]
        }
      }
      return (states, targets)
    }
  }

  /// Runs the scan for `model` at every N (and, with `patterns`, on those patterns only: one K =
  /// their row count at N = their column count).
  ///
  /// - Parameters:
  ///   - model: The model.
  ///   - given: Optional ±1 patterns (K × N) to use instead of random ones.
  ///   - threads: Worker threads (default: all processors).
  ///   - progress: Called after each point (for a command's progress lines).
  public func run(
    model: CapacityModel, patterns given: Matrix<Double>? = nil, threads: Int? = nil,
    progress: (CapacityCurve, CapacityPoint) -> Void = { _, _ in }
  ) throws(CapacityError) -> [CapacityCurve] {
    try validate(needsPatternCounts: given == nil)
    try model.validate()
    if let given {
      guard given.rows >= 1 && given.columns >= 1 else {
        throw .invalidPatterns(
          "the patterns are \(given.rows) × \(given.columns); at least one pattern of at least one unit is needed")
      }
      for i in 0..<given.rows {
        for j in 0..<given.columns where given[i, j] != 1 && given[i, j] != -1 {
          throw .invalidPatterns("pattern \(i) has \(given[i, j]) at unit \(j); capacity runs store ±1 patterns")
        }
      }
    }
    var curves: [CapacityCurve] = []
    let unitList = given.map { [$0.columns] } ?? units
    for n in unitList {
      let ks: [Int]
      if let given { ks = [given.rows] } else { ks = try patternCounts(for: model, units: n) }
      var curve = CapacityCurve(
        model: model, units: n, points: [], kMax: nil, kHalf: nil, formulaKMax: model.formulaKMax(units: n))
      // A file's patterns are one draw; random patterns are drawn `draws` times.
      let drawCount = given == nil ? draws : 1
      var byDraw = [[CapacityPoint]](repeating: [], count: drawCount)
      for k in ks {
        var parts: [CapacityPoint] = []
        for r in 0..<drawCount {
          let stored = given ?? randomPatterns(units: n, count: k, draw: r)
          parts.append(try measure(model: model, patterns: stored, threads: threads, draw: r))
          byDraw[r].append(parts[r])
        }
        let point = CapacityPoint.pooled(parts)
        curve.points.append(point)
        progress(curve, point)
      }
      (curve.kMax, curve.kHalf) = CapacityExperiment.estimates(curve.points)
      if drawCount > 1 {
        let estimates = byDraw.map { CapacityExperiment.estimates($0) }
        curve.kMaxByDraw = estimates.map(\.kMax)
        curve.kHalfByDraw = estimates.map(\.kHalf)
      }
      curves.append(curve)
    }
    return curves
  }

  /// K_max and K_{1/2} from points (sorted by K here).
  public static func estimates(_ points: [CapacityPoint]) -> (kMax: Int?, kHalf: Double?) {
    let sorted = points.sorted { $0.patterns < $1.patterns }
    var kMax: Int? = nil
    for p in sorted {
      if p.errorFreeFraction == 1 { kMax = p.patterns } else { break }
    }
    var kHalf: Double? = nil
    if let first = sorted.first, first.errorFreeFraction >= 0.5 {
      for (a, b) in zip(sorted, sorted.dropFirst()) where a.errorFreeFraction >= 0.5 && b.errorFreeFraction < 0.5 {
        let fa = a.errorFreeFraction, fb = b.errorFreeFraction
        kHalf = Double(a.patterns) + (fa - 0.5) / (fa - fb) * Double(b.patterns - a.patterns)
        break
      }
    }
    return (kMax, kHalf)
  }

  /// One point: the model on `patterns`, from this experiment's starts.
  public func measure(model: CapacityModel, patterns: Matrix<Double>, threads: Int? = nil, draw: Int = 0)
    throws(CapacityError) -> CapacityPoint
  {
    switch model {
    case .classical:
      let f: Polynomial
      do { f = try Polynomial(degree: 2) } catch { throw .modelFailed("\(error)") }
      return try measure(interaction: f, patterns: patterns, threads: threads, draw: draw)
    case .polynomial(let degree):
      let f: Polynomial
      do { f = try Polynomial(degree: degree) } catch { throw .modelFailed("\(error)") }
      return try measure(interaction: f, patterns: patterns, threads: threads, draw: draw)
    case .rectified(let degree):
      let f: RectifiedPolynomial
      do { f = try RectifiedPolynomial(degree: degree) } catch { throw .modelFailed("\(error)") }
      return try measure(interaction: f, patterns: patterns, threads: threads, draw: draw)
    case .exponential(let beta):
      let f: Exponential
      do { f = try Exponential(beta: beta) } catch { throw .modelFailed("\(error)") }
      return try measure(interaction: f, patterns: patterns, threads: threads, draw: draw)
    }
  }

  func measure<F: InteractionFunction>(interaction: F, patterns: Matrix<Double>, threads: Int?, draw: Int)
    throws(CapacityError) -> CapacityPoint
  {
    let n = patterns.columns
    let k = patterns.rows
    let memory: DenseAssociativeMemory<Double, F>
    do { memory = try DenseAssociativeMemory(patterns: patterns, interaction: interaction) } catch {
      throw .modelFailed("cannot build the memory: \(error)")
    }
    let (states, targets) = startStates(patterns: patterns, draw: draw)
    let dynamicsSeed = stream(2, units: n, count: k, draw: draw).seed
    let clock = ContinuousClock()
    let begin = clock.now
    let run: DenseAsynchronousRun<Double>
    do {
      run = try memory.runAsynchronous(
        from: states, seed: dynamicsSeed, maxSweeps: maxSweeps, targets: targets, threads: threads)
    } catch { throw .modelFailed("the dynamics failed: \(error)") }
    let seconds = (clock.now - begin).seconds

    var histogram = [Int](repeating: 0, count: n + 1)
    var errorFree = 0, within = 0, onPattern = 0, totalErrors = 0
    for s in 0..<starts {
      let overlap = run.targetOverlap?[s] ?? run.largestAbsoluteOverlap[s]
      let errors = (n - overlap) / 2
      histogram[errors] += 1
      totalErrors += errors
      if errors == 0 { errorFree += 1 }
      if errors <= maxErrors { within += 1 }
      if run.largestOverlap[s] == n { onPattern += 1 }
    }
    let count = Double(starts)
    while histogram.count > 1 && histogram.last == 0 { histogram.removeLast() }
    return CapacityPoint(
      units: n, patterns: k, starts: starts, errorFreeFraction: Double(errorFree) / count,
      withinMaxErrorsFraction: Double(within) / count, meanErrors: Double(totalErrors) / count,
      endedOnPatternFraction: Double(onPattern) / count,
      convergedFraction: Double(run.converged.filter { $0 }.count) / count,
      meanSweeps: Double(run.sweeps.reduce(0, +)) / count, errorHistogram: histogram, unitUpdates: run.unitUpdates,
      seconds: seconds)
  }
}
