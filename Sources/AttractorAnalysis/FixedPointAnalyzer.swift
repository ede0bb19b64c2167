import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// One fixed point found by ``FixedPointAnalyzer``, with its basin and its classification.
public struct FixedPoint: Codable, Sendable, Equatable {
  /// Position in the report (0, 1, …; ordered by basin share, largest first).
  public var id: Int
  /// The state x*.
  public var state: [Double]
  /// ‖f(x*) − x*‖ after polishing.
  public var residual: Double
  /// Newton steps kept while polishing.
  public var newtonSteps: Int
  /// Number of starts that ended here.
  public var startCount: Int
  /// startCount / all starts.
  public var basinShare: Double
  /// For each start kind present: the fraction of starts of that kind that ended here.
  public var basinShareByKind: [String: Double]
  /// Stability, evidence and label.
  public var classification: ClassifiedState

  /// The label (shorthand for `classification.label`).
  public var label: FixedPointClass { classification.label }
}

/// Everything ``FixedPointAnalyzer`` found for one model.
public struct FixedPointReport: Codable, Sendable, Equatable {
  /// State dimension d.
  public var dimension: Int
  /// Number of stored patterns N (`nil` for a model without patterns).
  public var patternCount: Int?
  /// Scale s used for noise, random starts and tolerances (largest pattern norm, or the caller's).
  public var scale: Double
  /// The search parameters used.
  public var search: FixedPointSearch
  /// The derivative options used.
  public var linearization: LinearizationOptions
  /// The thresholds used.
  public var thresholds: ClassificationThresholds
  /// Number of starts of each kind.
  public var startCounts: [String: Int]
  /// The fixed points, largest basin first.
  public var fixedPoints: [FixedPoint]
  /// Starts that did not converge.
  public var nonConverged: [NonConvergedStart]

  /// Total number of starts.
  public var totalStarts: Int { startCounts.values.reduce(0, +) }

  /// Fraction of all starts ending in a fixed point of each label (non-converged starts count for
  /// none), keyed by ``FixedPointClass`` raw value.
  public var shareByClass: [String: Double] {
    var shares: [String: Double] = [:]
    for c in FixedPointClass.allCases { shares[c.rawValue] = 0 }
    for p in fixedPoints { shares[p.label.rawValue, default: 0] += p.basinShare }
    return shares
  }

  /// Number of fixed points of each label.
  public var countByClass: [String: Int] {
    var counts: [String: Int] = [:]
    for c in FixedPointClass.allCases { counts[c.rawValue] = 0 }
    for p in fixedPoints { counts[p.label.rawValue, default: 0] += 1 }
    return counts
  }

  /// Fraction of starts that did not converge.
  public var nonConvergedShare: Double {
    totalStarts == 0 ? 0 : Double(nonConverged.count) / Double(totalStarts)
  }

  /// One CSV row per fixed point: id, label, regime, k, subset (patterns joined by `;`), nearest
  /// pattern and distance, distance to mean, entropy, participation ratio, spectral radius, solver,
  /// complex pairs, Hessian smallest/largest eigenvalue and index, derivative sources, residual, basin.
  public func csv() -> String {
    var lines = [
      "id,label,regime,k,subset,nearest_pattern,distance_to_nearest,distance_to_mean,entropy,participation_ratio,"
        + "spectral_radius,jacobian_solver,complex_pairs,hessian_min,hessian_max,hessian_index,jacobian_source,"
        + "hessian_source,residual,start_count,basin_share"
    ]
    for p in fixedPoints {
      let c = p.classification
      let e = c.evidence
      func f(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
      let fields: [String] = [
        "\(p.id)", c.label.rawValue, c.regime?.rawValue ?? "", e.map { "\($0.k)" } ?? "",
        e?.subset.map(String.init).joined(separator: ";") ?? "", e.map { "\($0.nearestPattern)" } ?? "",
        f(e?.distanceToNearest), f(e?.distanceToMean), f(e?.entropy), f(e?.participationRatio),
        "\(c.jacobian.spectralRadius)", c.jacobian.solver.rawValue, "\(c.jacobian.complexPairCount)",
        f(c.hessian?.smallest), f(c.hessian?.largest), c.hessian.map { "\($0.index)" } ?? "",
        c.jacobian.source.rawValue, c.hessian?.source.rawValue ?? "", "\(p.residual)", "\(p.startCount)",
        "\(p.basinShare)",
      ]
      lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// How far a ``FixedPointAnalyzer`` run has got, for progress displays.
public struct FixedPointProgress: Sendable, Equatable {
  /// The stages of an analysis, in order.
  public enum Stage: String, Sendable, Equatable, CaseIterable {
    /// The dynamics from every start (`done` counts starts settled: converged or out of steps).
    case dynamics
    /// Chord Newton steps at each distinct end point (`done` counts points).
    case polishing
    /// Jacobians, spectra and pattern weights at each fixed point (`done` counts points).
    case classifying
  }

  /// The current stage.
  public var stage: Stage
  /// Items of the stage finished.
  public var done: Int
  /// Items of the stage in all.
  public var total: Int

  public init(stage: Stage, done: Int, total: Int) {
    self.stage = stage
    self.done = done
    self.total = total
  }
}

/// Finds, linearises and classifies the fixed points of a model.
///
/// ```
/// 1. run x ← f(x) from seeded starts (patterns, noisy patterns, mixtures, the mean, random states)
/// 2. merge converged end points; polish with Newton; report starts that did not converge
/// 3. at each x*: eigenvalues of J = ∂f/∂x (symmetric or general LAPACK solver) and of H = ∇²E
/// 4. with stored patterns: weights p = separation(x*) → k, entropy, nearest pattern, distance to mean
/// 5. label: unstable if ρ(J) ≥ 1 or H has a negative eigenvalue; else single pattern (k ≤ 1),
///    global average (k > N/2) or metastable (the k heaviest patterns)
/// ```
///
/// Mathematical properties relied on (Ramsauer et al. 2020, arXiv:2008.02217): the modern Hopfield
/// update has three kinds of fixed points (global average, metastable subset average, near a single
/// pattern); its Jacobian J = β Xᵀ(diag p − ppᵀ)X is symmetric with ‖J‖₂ ≤ β M², so for β M² < 1 it is a
/// contraction with a single global fixed point (Lemma A3); H = I − J. For any model, ρ(J) < 1 makes
/// x* attracting under the synchronous iteration.
///
/// Works for any ``AnalyzableRule``. Derivatives come from, in order of preference,
/// ``/AttractorCore/BatchLinearizable``, ``/AttractorCore/LinearizableUpdateRule`` /
/// ``/AttractorCore/TwiceDifferentiableEnergy``, and ``/AttractorCore/FiniteDifferences``; each
/// spectrum says which (``DerivativeSource``).
public struct FixedPointAnalyzer: Sendable {
  /// Search parameters.
  public var search: FixedPointSearch
  /// Derivatives and classification thresholds.
  public var classifier: Classifier
  /// Most starts iterated together (and most points linearised together); `nil`: all at once.
  /// Bounds the working memory of models whose step needs a starts × N buffer; results do not
  /// depend on it (each start's arithmetic is the same in any batch).
  public var batchSize: Int?

  public init(
    search: FixedPointSearch = FixedPointSearch(), classifier: Classifier = Classifier(), batchSize: Int? = nil
  ) {
    self.search = search
    self.classifier = classifier
    self.batchSize = batchSize
  }

  /// Analyses a model with stored patterns, from the seeded starts of ``search`` plus
  /// `additionalStarts` (rows; may be `nil`); `progress` hears how far the run has got.
  public func analyze<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, additionalStarts: Matrix<Model.Scalar>? = nil, progress: ((FixedPointProgress) -> Void)? = nil
  ) throws(AnalysisError) -> FixedPointReport {
    try search.validate()
    let patterns = model.patterns
    guard patterns.columns == model.dimension else {
      throw .dimensionMismatch(expected: model.dimension, actual: patterns.columns)
    }
    guard patterns.isFinite else { throw .nonFinite(what: "the stored patterns") }
    var (starts, origins) = search.starts(for: patterns)
    if let extra = additionalStarts {
      guard extra.columns == model.dimension else {
        throw .dimensionMismatch(expected: model.dimension, actual: extra.columns)
      }
      starts = Matrix(
        rows: starts.rows + extra.rows, columns: model.dimension, elements: starts.elements + extra.elements)
      origins += Array(repeating: Start(kind: .given, patterns: []), count: extra.rows)
    }
    return try run(
      rule: model, memory: model, starts: starts, origins: origins, scale: FixedPointSearch.scale(of: patterns),
      progress: progress)
  }

  /// Analyses a rule without stored patterns from `starts` plus ``FixedPointSearch/randomStarts``
  /// random states of norm about `scale`. Labels are then ``FixedPointClass/stable`` or
  /// ``FixedPointClass/unstable``.
  public func analyze<Rule: AnalyzableRule>(
    _ rule: Rule, starts given: Matrix<Rule.Scalar>? = nil, scale: Double = 1
  ) throws(AnalysisError) -> FixedPointReport {
    try search.validate()
    try AnalysisError.check(scale.isFinite && scale > 0, "scale", scale, "finite and > 0")
    let d = rule.dimension
    var rng = SeededGenerator(seed: search.seed).derived(3)
    let random: Matrix<Rule.Scalar> = rng.gaussianMatrix(
      rows: search.randomStarts, columns: d, standardDeviation: scale / Double(max(d, 1)).squareRoot())
    var starts = random
    var origins = Array(repeating: Start(kind: .random, patterns: []), count: random.rows)
    if let given {
      guard given.columns == d else { throw .dimensionMismatch(expected: d, actual: given.columns) }
      starts = Matrix(rows: given.rows + random.rows, columns: d, elements: given.elements + random.elements)
      origins = Array(repeating: Start(kind: .given, patterns: []), count: given.rows) + origins
    }
    return try run(
      rule: rule, memory: Optional<NoMemory<Rule.Scalar>>.none, starts: starts, origins: origins, scale: scale)
  }

  func run<Rule: AnalyzableRule, Memory: AssociativeMemory>(
    rule: Rule, memory: Memory?, starts: Matrix<Rule.Scalar>, origins: [Start], scale: Double,
    progress: ((FixedPointProgress) -> Void)? = nil
  ) throws(AnalysisError) -> FixedPointReport where Memory.Scalar == Rule.Scalar {
    try classifier.linearization.validate()
    try classifier.thresholds.validate()
    guard starts.isFinite else { throw .nonFinite(what: "a start") }
    if let batchSize {
      try AnalysisError.check(batchSize >= 1, "batchSize", batchSize, "at least 1")
    }
    let report = progress.map { p in
      { (stage: FixedPointProgress.Stage, done: Int, total: Int) in p(.init(stage: stage, done: done, total: total)) }
    }
    let outcome = try search.run(
      rule, from: starts, origins: origins, scale: scale, linearization: classifier.linearization,
      batchSize: batchSize, progress: report)
    let classified = try classifier.classify(
      rule: rule, memory: memory, at: outcome.points, batchSize: batchSize,
      progress: { done in report?(.classifying, done, outcome.points.rows) })

    var startCounts: [String: Int] = [:]
    for o in origins { startCounts[o.kind.rawValue, default: 0] += 1 }
    var counts = [Int](repeating: 0, count: outcome.points.rows)
    var byKind = [[String: Int]](repeating: [:], count: outcome.points.rows)
    for (r, a) in outcome.assignment.enumerated() {
      guard let a else { continue }
      counts[a] += 1
      byKind[a][origins[r].kind.rawValue, default: 0] += 1
    }
    let total = Double(starts.rows)
    var points: [FixedPoint] = (0..<outcome.points.rows).map { i in
      FixedPoint(
        id: i, state: outcome.points.row(i).map(Double.init), residual: outcome.residuals[i],
        newtonSteps: outcome.newtonSteps[i], startCount: counts[i], basinShare: Double(counts[i]) / total,
        basinShareByKind: byKind[i].reduce(into: [:]) { $0[$1.key] = Double($1.value) / Double(startCounts[$1.key]!) },
        classification: classified[i])
    }
    points.sort { ($0.startCount, -$0.id) > ($1.startCount, -$1.id) }
    for i in points.indices { points[i].id = i }
    return FixedPointReport(
      dimension: rule.dimension, patternCount: memory.map { $0.patterns.rows }, scale: scale, search: search,
      linearization: classifier.linearization, thresholds: classifier.thresholds, startCounts: startCounts,
      fixedPoints: points, nonConverged: outcome.nonConverged)
  }
}
