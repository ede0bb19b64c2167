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
  ///
  /// The starts run in batches of at most `batchSize` rows (all at once when `nil`), and a batch
  /// is compacted as its starts converge, so a step costs only the starts still moving (see
  /// ``iterate(_:from:tolerance:batchSize:progress:)``). End points are polished by chord Newton
  /// steps, in batches too (``polish(_:points:steps:maxMove:linearization:chord:batchSize:progress:)``).
  func run<Rule: AnalyzableRule>(
    _ rule: Rule, from starts: Matrix<Rule.Scalar>, origins: [Start], scale: Double,
    linearization: LinearizationOptions,
    batchSize: Int? = nil, progress: ((FixedPointProgress.Stage, Int, Int) -> Void)? = nil
  ) throws(AnalysisError) -> SearchOutcome<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    let d = rule.dimension
    guard starts.rows > 0 else {
      throw .empty(what: "the search has no starts; enable some start kinds or give starts")
    }
    guard starts.columns == d else { throw .dimensionMismatch(expected: d, actual: starts.columns) }
    let tol = tolerance(Scalar.self, scale: scale)
    let ends = try iterate(
      rule, from: starts, tolerance: tol, batchSize: batchSize,
      progress: { done in progress?(.dynamics, done, starts.rows) })
    let merge = mergeTolerance * scale
    var representatives: [[Scalar]] = []
    var assignment = [Int?](repeating: nil, count: starts.rows)
    var nonConverged: [NonConvergedStart] = []
    for r in 0..<starts.rows {
      guard ends.converged[r] else {
        nonConverged.append(
          NonConvergedStart(start: r, origin: origins[r], steps: ends.steps[r], lastStepSize: ends.lastStepSizes[r]))
        continue
      }
      let x = ends.states.row(r)
      if let existing = representatives.firstIndex(where: { Kernels.distance($0, x) <= merge }) {
        assignment[r] = existing
      } else {
        assignment[r] = representatives.count
        representatives.append(x)
      }
    }

    // Chord Newton polish (the end points are within the tolerance of a fixed point), then merge
    // representatives that met.
    let polished = polish(
      rule, points: Matrix(rows: representatives.count, columns: d, elements: representatives.flatMap { $0 }),
      steps: newtonSteps, maxMove: merge, linearization: linearization, chord: true, batchSize: batchSize,
      progress: { done in progress?(.polishing, done, representatives.count) })
    var remap = Array(0..<representatives.count)
    var kept: [Int] = []
    for i in 0..<representatives.count {
      let xi = polished.points.row(i)
      if let j = kept.first(where: { Kernels.distance(polished.points.row($0), xi) <= merge }) {
        remap[i] = remap[j]
      } else {
        remap[i] = kept.count
        kept.append(i)
      }
    }
    return SearchOutcome(
      points: polished.points.rows(at: kept), residuals: kept.map { polished.residuals[$0] },
      newtonSteps: kept.map { polished.taken[$0] }, assignment: assignment.map { $0.map { remap[$0] } },
      nonConverged: nonConverged)
  }

  /// x ← f(x) from every row of `starts` until ‖x_t − x_{t−1}‖ ≤ `tolerance` or ``maxSteps``: the
  /// synchronous dynamics with converged states frozen (``/AttractorCore/SynchronousDynamics``),
  /// run in batches of at most `batchSize` starts (all at once when `nil`). A batch drops its
  /// converged rows whenever they are an eighth of it or more, so the work per step follows the
  /// starts still moving and not the slowest one. Each row's arithmetic is the same as in one big
  /// batch. `progress` hears the number of starts settled (converged or out of steps).
  ///
  /// - Throws: ``AnalysisError/dynamics(_:)`` when a state becomes NaN or infinite.
  func iterate<Rule: UpdateRule>(
    _ rule: Rule, from starts: Matrix<Rule.Scalar>, tolerance: Double, batchSize: Int?,
    progress: ((Int) -> Void)? = nil
  ) throws(AnalysisError) -> (states: Matrix<Rule.Scalar>, steps: [Int], converged: [Bool], lastStepSizes: [Double]) {
    typealias Scalar = Rule.Scalar
    let n = starts.rows, d = starts.columns
    let limit = Scalar(tolerance)
    var final = starts
    var steps = [Int](repeating: 0, count: n)
    var converged = [Bool](repeating: false, count: n)
    var last = [Double](repeating: 0, count: n)
    var settled = 0
    progress?(0)
    let size = max(1, min(n, batchSize ?? n))
    var first = 0
    while first < n {
      let end = min(n, first + size)
      var active = Array(first..<end)  // start index of each row of `current`
      var current = first == 0 && end == n ? starts : starts.rows(at: first..<end)
      var next = Matrix<Scalar>(rows: current.rows, columns: d)
      var workspace = rule.makeWorkspace(batchSize: current.rows)
      var step = 0
      while !active.isEmpty && step < maxSteps {
        step += 1
        rule.update(current, into: &next, workspace: &workspace)
        var moving: [Int] = []  // rows of `current` still moving
        var failed: Int? = nil
        current.withUnsafeBufferPointer { cur in
          next.withUnsafeBufferPointer { nxt in
            final.withUnsafeMutableBufferPointer { out in
              for (r, start) in active.enumerated() where start >= 0 {
                let stepSize = Kernels.rowDistance(nxt.baseAddress! + r * d, cur.baseAddress! + r * d, count: d)
                guard stepSize.isFinite else {
                  failed = start
                  return
                }
                steps[start] = step
                last[start] = Double(stepSize)
                if stepSize <= limit {
                  converged[start] = true
                  (out.baseAddress! + start * d).update(from: nxt.baseAddress! + r * d, count: d)
                } else {
                  moving.append(r)
                }
              }
            }
          }
        }
        if let failed { throw .dynamics(.nonFiniteState(row: failed, step: step)) }
        swap(&current, &next)
        let stillActive = active.filter { $0 >= 0 }.count
        settled += stillActive - moving.count
        if moving.count == stillActive {
          continue
        }
        if moving.isEmpty {
          active = []
        } else if 8 * moving.count <= 7 * current.rows {
          // Compact: keep the moving rows only.
          active = moving.map { active[$0] }
          current = current.rows(at: moving)
          next = Matrix(rows: current.rows, columns: d)
          workspace = rule.makeWorkspace(batchSize: current.rows)
        } else {
          // Keep the batch; converged rows are marked and skipped (their values are not used).
          let movingSet = Set(moving)
          for r in active.indices where active[r] >= 0 && !movingSet.contains(r) { active[r] = -1 }
        }
        progress?(settled)
      }
      // Starts out of steps keep their last state.
      current.withUnsafeBufferPointer { cur in
        final.withUnsafeMutableBufferPointer { out in
          for (r, start) in active.enumerated() where start >= 0 {
            (out.baseAddress! + start * d).update(from: cur.baseAddress! + r * d, count: d)
            settled += 1
          }
        }
      }
      progress?(settled)
      first = end
    }
    return (final, steps, converged, last)
  }

  /// Newton steps on F(x) = f(x) − x from every row of `points`: x ← x + (I − J)⁻¹ F(x), each
  /// kept only if ‖F‖ decreases and the total move stays within `maxMove`, at most `steps` per
  /// point. With `chord`, J is the Jacobian at the point's start for every step (one Jacobian per
  /// point: from an end point within the tolerance δ of a fixed point, a chord step leaves an
  /// error of about ‖J(x) − J(x₀)‖·δ = O(δ²), as a Newton step does); otherwise J is taken again at
  /// every iterate (for starts far from a fixed point). Points go in batches of at most
  /// `batchSize` (bounded by 2²² Jacobian elements); `progress` hears how many are done.
  func polish<Rule: AnalyzableRule>(
    _ rule: Rule, points: Matrix<Rule.Scalar>, steps: Int, maxMove: Double, linearization: LinearizationOptions,
    chord: Bool, batchSize: Int? = nil, progress: ((Int) -> Void)? = nil
  ) -> (points: Matrix<Rule.Scalar>, residuals: [Double], taken: [Int]) {
    typealias Scalar = Rule.Scalar
    let k = points.rows, d = points.columns
    var x = points
    var residuals = [Double](repeating: 0, count: k)
    var taken = [Int](repeating: 0, count: k)
    if k == 0 { return (x, residuals, taken) }
    progress?(0)
    var size = max(1, min(k, batchSize ?? k, (1 << 22) / max(1, d * d)))
    if progress != nil { size = min(size, max(32, (k + 9) / 10)) }  // about ten updates
    var first = 0
    while first < k {
      let end = min(k, first + size)
      let rows = Array(first..<end)
      var fx = rule.update(x.rows(at: rows))
      for (i, p) in rows.enumerated() { residuals[p] = Kernels.distance(fx.row(i), x.row(p)) }
      var active = rows.filter { residuals[$0] > 0 }  // points still being polished
      var factors: [Int: (lu: [Double], pivots: [Int])] = [:]
      for iteration in 0..<steps {
        if active.isEmpty { break }
        if !chord || iteration == 0 {
          let j = rule.linearization(at: x.rows(at: active), options: linearization).jacobians
          factors = [:]
          j.withUnsafeBufferPointer { jp in
            for (i, p) in active.enumerated() {
              var a = Kernels.identityMinusInDouble(jp.baseAddress! + i * d * d, n: d)
              var pivots = [Int](repeating: 0, count: d)
              if LinearSolve.factor(&a, pivots: &pivots, n: d) { factors[p] = (a, pivots) }
            }
          }
        }
        var candidates: [Int] = []
        var candidateRows: [Scalar] = []
        for p in active {
          guard let f = factors[p] else { continue }
          let i = rows.firstIndex(of: p)!
          var b = (0..<d).map { Double(fx[i, $0]) - Double(x[p, $0]) }
          LinearSolve.solve(f.lu, pivots: f.pivots, &b, n: d)
          let candidate = (0..<d).map { x[p, $0] + Scalar(b[$0]) }
          guard candidate.allSatisfy({ $0.isFinite }), Kernels.distance(candidate, points.row(p)) <= maxMove else {
            continue
          }
          candidates.append(p)
          candidateRows += candidate
        }
        if candidates.isEmpty { break }
        let c = Matrix(rows: candidates.count, columns: d, elements: candidateRows)
        let fc = rule.update(c)
        var next: [Int] = []
        for (ci, p) in candidates.enumerated() {
          let r = Kernels.distance(fc.row(ci), c.row(ci))
          guard r < residuals[p] else { continue }
          let i = rows.firstIndex(of: p)!
          x.setRow(p, to: c.row(ci))
          fx.setRow(i, to: fc.row(ci))
          residuals[p] = r
          taken[p] += 1
          if r > 0 { next.append(p) }
        }
        active = next
      }
      first = end
      progress?(first)
    }
    return (x, residuals, taken)
  }

  /// Newton steps on F(x) = f(x) − x from one point, the Jacobian taken again at every iterate
  /// (``polish(_:points:steps:maxMove:linearization:chord:batchSize:progress:)`` with `chord`
  /// false). Returns the point, ‖F‖ there and the steps kept.
  func newton<Rule: AnalyzableRule>(
    _ rule: Rule, from start: [Rule.Scalar], maxMove: Double, linearization: LinearizationOptions
  ) -> ([Rule.Scalar], Double, Int) {
    let result = polish(
      rule, points: Matrix(rows: 1, columns: start.count, elements: start), steps: newtonSteps, maxMove: maxMove,
      linearization: linearization, chord: false)
    return (result.points.row(0), result.residuals[0], result.taken[0])
  }
}

enum LinearSolve {
  /// LU factorisation with partial pivoting of the n × n row-major `a` in place (L below the
  /// diagonal with unit diagonal, U on and above it; row i was swapped with `pivots[i]`); `false`
  /// when A is numerically singular (a pivot ≤ 1e-13 · max|A|).
  static func factor(_ a: inout [Double], pivots: inout [Int], n: Int) -> Bool {
    var scale = 0.0
    for v in a { scale = max(scale, abs(v)) }
    guard scale > 0 && scale.isFinite else { return false }
    return a.withUnsafeMutableBufferPointer { m in
      for c in 0..<n {
        var pivot = c
        for r in (c + 1)..<max(c + 1, n) where abs(m[r * n + c]) > abs(m[pivot * n + c]) { pivot = r }
        guard abs(m[pivot * n + c]) > 1e-13 * scale else { return false }
        pivots[c] = pivot
        if pivot != c {
          for k in 0..<n { m.swapAt(c * n + k, pivot * n + k) }
        }
        let inv = 1 / m[c * n + c]
        for r in (c + 1)..<max(c + 1, n) {
          let f = m[r * n + c] * inv
          m[r * n + c] = f
          if f == 0 { continue }
          for k in (c + 1)..<n { m[r * n + k] -= f * m[c * n + k] }
        }
      }
      return true
    }
  }

  /// Solves A y = b (b ← y) for the n × n row-major `a` (overwritten by its LU factors); `false`
  /// when A is numerically singular (see ``factor(_:pivots:n:)``).
  static func solve(_ a: inout [Double], _ b: inout [Double], n: Int) -> Bool {
    var pivots = [Int](repeating: 0, count: n)
    guard factor(&a, pivots: &pivots, n: n) else { return false }
    solve(a, pivots: pivots, &b, n: n)
    return true
  }

  /// Solves A y = b (b ← y) with the factors of ``factor(_:pivots:n:)``.
  static func solve(_ lu: [Double], pivots: [Int], _ b: inout [Double], n: Int) {
    for c in 0..<n {
      if pivots[c] != c { b.swapAt(c, pivots[c]) }
      let bc = b[c]
      if bc != 0 { for r in (c + 1)..<max(c + 1, n) { b[r] -= lu[r * n + c] * bc } }
    }
    for c in stride(from: n - 1, through: 0, by: -1) {
      var s = b[c]
      for k in (c + 1)..<max(c + 1, n) { s -= lu[c * n + k] * b[k] }
      b[c] = s / lu[c * n + c]
    }
  }
}
