import AttractorCore
import AttractorLinearAlgebra
import AttractorPlots
import Foundation

/// The fixed point reached from the mean of the patterns, probed at one β.
public struct GlobalFixedPointProbe: Codable, Sendable, Equatable {
  /// Whether the dynamics (or Newton polishing) reached a fixed point from the mean.
  public var found: Bool
  /// ‖f(x*) − x*‖ at the point reached.
  public var residual: Double
  /// Its weight-based regime (``FixedPointClass/globalAverage`` for the global fixed point).
  public var regime: FixedPointClass?
  /// k of its weights.
  public var k: Int?
  /// ρ(J) there.
  public var spectralRadius: Double?
  /// Smallest Hessian eigenvalue there.
  public var hessianSmallest: Double?
  /// Found, a global average, and stable.
  public var isStableGlobal: Bool
  /// Whether the point is the continuation in β of the global fixed point of the smallest β
  /// (`true`), or the end point of the dynamics from the mean after that branch has ended
  /// (`false`; `nil` in records written before continuation).
  public var onBranch: Bool? = nil
}

/// One β of a phase diagram.
public struct PhaseDiagramPoint: Codable, Sendable, Equatable {
  /// Inverse temperature.
  public var beta: Double
  /// Number of distinct fixed points found.
  public var fixedPointCount: Int
  /// Fixed points of each label.
  public var countByClass: [String: Int]
  /// Fraction of starts ending in a fixed point of each label.
  public var shareByClass: [String: Double]
  /// Fraction of starts that did not converge.
  public var nonConvergedShare: Double
  /// The fixed point reached from the mean.
  public var global: GlobalFixedPointProbe
}

/// Where the global fixed point (the branch continued in β from the mean at the smallest β) stops
/// being a stable fixed point, bracketed, and how: a fold (it vanishes in a saddle-node) or an
/// eigenvalue of J crossing 1 (it goes on as a saddle).
///
/// The bracket is found by Newton continuation with a residual test (``TransitionKind``): `lower`
/// carries a fixed point with ‖f(x) − x‖ ≤ tol and ρ(J) < 1 reached along the branch; at `upper`
/// the branch has no fixed point near it (fold) or its point has ρ(J) ≥ 1 (crossing).
public struct StabilityTransition: Codable, Sendable, Equatable {
  /// Estimate of the critical β (geometric mean of the final bracket).
  public var beta: Double
  /// Largest β seen with a stable point on the branch.
  public var lower: Double
  /// Smallest β seen without one.
  public var upper: Double
  /// Bisection steps taken after the grid.
  public var bisectionSteps: Int
  /// ρ(J) of the branch point at `lower`: close to 1 for both kinds.
  public var spectralRadiusAtLower: Double?
  /// What the dynamics from the mean reach at `upper`: the regime of the point reached (`nil` when
  /// no fixed point was reached). ``FixedPointClass/globalAverage`` there means the global point is
  /// unstable but still reached from the exactly symmetric mean.
  public var regimeAtUpper: FixedPointClass?
  /// Fold or eigenvalue crossing (`nil` in records written before continuation).
  public var kind: TransitionKind? = nil
  /// For a fold, c in 1 − ρ(J) ≈ c·√(β* − β), measured at β = lower·(1 − 10⁻⁴) on the branch.
  public var foldCoefficient: Double? = nil
  /// For a crossing, ρ(J) of the branch point at `upper` (≥ 1).
  public var spectralRadiusAtUpper: Double? = nil
  /// Where the branch point stops being labelled a global average while still stable, if that
  /// happens before the transition: the bracket (lower, upper) in β. The weights concentrate on a
  /// subset (a metastable state) without any bifurcation.
  public var globalLabelLost: [Double]? = nil
}

/// A sweep over β: the share of each class of fixed point and where the global fixed point loses
/// stability.
///
/// ```
/// for β in grid:  analyse the model at β (FixedPointAnalyzer) → share of starts per class
///                 the global fixed point: reached from mean(X) at the first β, then continued in
///                 β by Newton with a residual test (BranchFollower); after its end, where the
///                 mean flows
/// transition:     first grid interval where the branch stops being stable (ρ(J) ≥ 1 or a
///                 negative Hessian eigenvalue) or has no point, bisected in log β along the
///                 branch; named a fold (no point above) or an eigenvalue crossing (a saddle above)
/// label change:   where the stable branch stops being labelled a global average, bisected too
/// ```
///
/// Mathematical property behind the transition (Ramsauer et al. 2020, arXiv:2008.02217, Lemma A3
/// and its discussion): the global fixed point is stable while ρ(J) < 1; for two antipodal
/// patterns ±x it sits at 0 with J = β x xᵀ, so it loses stability exactly at β‖x‖² = 1.
public struct PhaseDiagram: Codable, Sendable, Equatable {
  /// One entry per grid β, ascending.
  public var points: [PhaseDiagramPoint]
  /// The loss of stability of the global fixed point, if the grid brackets one.
  public var transition: StabilityTransition?
  /// Where the stable branch stops being labelled a global average (bracket in β), if it does.
  public var globalLabelLost: [Double]? = nil

  /// `count` values from `lower` to `upper`, equally spaced in log β.
  public static func logSpaced(from lower: Double, to upper: Double, count: Int) throws(AnalysisError) -> [Double] {
    try AnalysisError.check(lower.isFinite && lower > 0, "lower β", lower, "finite and > 0")
    try AnalysisError.check(upper.isFinite && upper > lower, "upper β", upper, "finite and > the lower β")
    try AnalysisError.check(count >= 2, "count", count, "at least 2")
    let a = Foundation.log(lower)
    let b = Foundation.log(upper)
    return (0..<count).map { i in i == count - 1 ? upper : Foundation.exp(a + (b - a) * Double(i) / Double(count - 1)) }
  }

  /// Sweeps β over `betas` (ascending, positive), building the model with `model(β)`.
  ///
  /// - Parameters:
  ///   - betas: The grid, ascending and positive (see ``logSpaced(from:to:count:)``).
  ///   - analyzer: Search, derivative and threshold settings used at every β.
  ///   - bisectionSteps: Steps of bisection in log β inside the bracketing grid interval (0 keeps
  ///     the grid's resolution). Default 30.
  ///   - model: Builds the model at a given β; its errors are reported as
  ///     ``AnalysisError/modelConstruction(parameter:message:)``.
  public static func sweep<Model: AnalyzableRule & AssociativeMemory>(
    betas: [Double], analyzer: FixedPointAnalyzer = FixedPointAnalyzer(), bisectionSteps: Int = 30,
    model: (Double) throws -> Model
  ) throws(AnalysisError) -> PhaseDiagram {
    guard !betas.isEmpty else { throw .empty(what: "no β values to sweep") }
    for (i, b) in betas.enumerated() {
      try AnalysisError.check(b.isFinite && b > 0, "β[\(i)]", b, "finite and > 0")
      if i > 0 { try AnalysisError.check(b > betas[i - 1], "β[\(i)]", b, "larger than the previous β (ascending)") }
    }
    try AnalysisError.check(bisectionSteps >= 0, "bisectionSteps", bisectionSteps, "at least 0")
    func build(_ beta: Double) throws(AnalysisError) -> Model {
      do { return try model(beta) } catch { throw .modelConstruction(parameter: beta, message: "\(error)") }
    }
    let first = try build(betas[0])
    let scale = FixedPointSearch.scale(of: first.patterns)
    let tight = (Model.Scalar.self == Float.self ? 1e-5 : 1e-12) * scale
    let follower = BranchFollower<Model>(
      tolerance: min(analyzer.search.tolerance(Model.Scalar.self, scale: scale), tight), maxMove: 0.25 * scale,
      linearization: analyzer.classifier.linearization)
    var points: [PhaseDiagramPoint] = []
    // The branch: the last grid point where the continued global fixed point is stable.
    var branch: (beta: Double, x: [Model.Scalar], probe: GlobalFixedPointProbe)? = nil
    var transition: StabilityTransition? = nil
    var labelLost: [Double]? = nil
    for (i, beta) in betas.enumerated() {
      let m = i == 0 ? first : try build(beta)
      let report = try analyzer.analyze(m)
      var global: GlobalFixedPointProbe
      if i == 0 {
        let (probe, x) = try probeGlobalPoint(m, analyzer: analyzer)
        global = probe
        global.onBranch = true
        if probe.isStableGlobal, let x { branch = (beta, x, probe) }
      } else if let b = branch, transition == nil {
        let resolution = Foundation.log(beta / b.beta) / Foundation.pow(2, Double(bisectionSteps))
        let reached = try follower.follow(from: b.beta, b.x, to: beta, resolution: resolution, build: build)
        var here: GlobalFixedPointProbe? = nil
        if reached.failedAt == nil { here = try probe(m, at: reached.x, analyzer: analyzer) }
        let stable =
          here.map {
            ($0.spectralRadius ?? .infinity) < analyzer.classifier.thresholds.spectralRadiusLimit
              && ($0.hessianSmallest ?? 1) >= -analyzer.classifier.linearization.hessian(Model.Scalar.self)
          } ?? false
        if let here, stable {
          if labelLost == nil && b.probe.isStableGlobal && !here.isStableGlobal {
            labelLost = try bisect(
              from: b, to: beta, steps: bisectionSteps, follower: follower, analyzer: analyzer, build: build
            ) { $0.isStableGlobal }.bracket
          }
          branch = (beta, reached.x, here)
          global = here
        } else {
          let edge = try bisect(
            from: b, to: beta, steps: bisectionSteps, follower: follower, analyzer: analyzer, build: build
          ) { p in
            (p.spectralRadius ?? .infinity) < analyzer.classifier.thresholds.spectralRadiusLimit
              && (p.hessianSmallest ?? 1) >= -analyzer.classifier.linearization.hessian(Model.Scalar.self)
          }
          if labelLost == nil, b.probe.isStableGlobal, let l = edge.lowerProbe, !l.isStableGlobal {
            labelLost = try bisect(
              from: b, to: edge.bracket[0], steps: bisectionSteps, follower: follower, analyzer: analyzer,
              build: build
            ) { $0.isStableGlobal }.bracket
          }
          let lower = edge.bracket[0], upper = edge.bracket[1]
          let fromMean = try probeGlobal(try build(upper), analyzer: analyzer)
          var t = StabilityTransition(
            beta: (lower * upper).squareRoot(), lower: lower, upper: upper, bisectionSteps: bisectionSteps,
            spectralRadiusAtLower: edge.lowerProbe?.spectralRadius ?? b.probe.spectralRadius,
            regimeAtUpper: fromMean.found ? fromMean.regime : nil)
          if let u = edge.upperProbe {
            t.kind = .eigenvalueCrossing
            t.spectralRadiusAtUpper = u.spectralRadius
          } else {
            t.kind = .fold
            // 1 − ρ ≈ c √(β* − β): measured 10⁻⁴ below the bracket, on the branch.
            let probeBeta = lower * (1 - 1e-4)
            if probeBeta > b.beta {
              let r = try follower.follow(from: b.beta, b.x, to: probeBeta, resolution: 1e-14, build: build)
              if r.failedAt == nil,
                let rho = try probe(try build(probeBeta), at: r.x, analyzer: analyzer).spectralRadius
              {
                t.foldCoefficient = (1 - rho) / (t.beta - probeBeta).squareRoot()
              }
            }
          }
          transition = t
          if let here {
            global = here
          } else {
            global = try probeGlobal(m, analyzer: analyzer)
            global.onBranch = false
          }
        }
      } else {
        global = try probeGlobal(m, analyzer: analyzer)
        global.onBranch = branch == nil ? nil : false
      }
      points.append(
        PhaseDiagramPoint(
          beta: beta, fixedPointCount: report.fixedPoints.count, countByClass: report.countByClass,
          shareByClass: report.shareByClass, nonConvergedShare: report.nonConvergedShare, global: global))
    }
    var diagram = PhaseDiagram(points: points, transition: transition)
    diagram.globalLabelLost = labelLost
    if var t = diagram.transition, let l = labelLost, l[1] <= t.lower {
      t.globalLabelLost = l
      diagram.transition = t
    }
    return diagram
  }

  /// Bisects in log β between a good branch point and `upper` for the edge of `good`, following the
  /// branch with Newton from the current lower point each time. `upperProbe` is the branch point at
  /// the final upper end, `nil` when the branch has no point there.
  static func bisect<Model: AnalyzableRule & AssociativeMemory>(
    from start: (beta: Double, x: [Model.Scalar], probe: GlobalFixedPointProbe), to upper: Double, steps: Int,
    follower: BranchFollower<Model>, analyzer: FixedPointAnalyzer,
    build: (Double) throws(AnalysisError) -> Model, good: (GlobalFixedPointProbe) -> Bool
  ) throws(AnalysisError) -> (bracket: [Double], lowerProbe: GlobalFixedPointProbe?, upperProbe: GlobalFixedPointProbe?)
  {
    var lower = start
    var high = upper
    let resolution = Foundation.log(upper / start.beta) / Foundation.pow(2, Double(steps))
    // The upper end itself first: does the branch reach it?
    var upperProbe: GlobalFixedPointProbe? = nil
    let top = try follower.follow(from: lower.beta, lower.x, to: high, resolution: resolution, build: build)
    if top.failedAt == nil {
      upperProbe = try probe(try build(high), at: top.x, analyzer: analyzer)
    } else if top.beta > lower.beta {
      let p = try probe(try build(top.beta), at: top.x, analyzer: analyzer)
      if good(p) {
        lower = (top.beta, top.x, p)
        high = top.failedAt!
      }
    } else {
      high = top.failedAt!
    }
    for _ in 0..<steps where Foundation.log(high / lower.beta) > resolution {
      let mid = (lower.beta * high).squareRoot()
      let r = try follower.follow(from: lower.beta, lower.x, to: mid, resolution: resolution, build: build)
      if r.failedAt == nil {
        let p = try probe(try build(mid), at: r.x, analyzer: analyzer)
        if good(p) {
          lower = (mid, r.x, p)
        } else {
          high = mid
          upperProbe = p
        }
      } else {
        if r.beta > lower.beta {
          let p = try probe(try build(r.beta), at: r.x, analyzer: analyzer)
          if good(p) { lower = (r.beta, r.x, p) }
        }
        high = r.failedAt!
        upperProbe = nil
      }
    }
    return ([lower.beta, high], lower.probe, upperProbe)
  }

  /// Iterates from the mean of the patterns, polishes with Newton (which also rescues a slow,
  /// nearly critical approach) and classifies the point reached.
  public static func probeGlobal<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, analyzer: FixedPointAnalyzer = FixedPointAnalyzer()
  ) throws(AnalysisError) -> GlobalFixedPointProbe {
    try probeGlobalPoint(model, analyzer: analyzer).probe
  }

  /// ``probeGlobal(_:analyzer:)`` and the point reached (`nil` when none was).
  static func probeGlobalPoint<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, analyzer: FixedPointAnalyzer
  ) throws(AnalysisError) -> (probe: GlobalFixedPointProbe, state: [Model.Scalar]?) {
    typealias Scalar = Model.Scalar
    let patterns = model.patterns
    let n = patterns.rows
    guard n > 0 else { throw .empty(what: "the model stores no patterns") }
    let search = analyzer.search
    let scale = FixedPointSearch.scale(of: patterns)
    let mean = patterns.multiplied(byVector: [Scalar](repeating: 1 / Scalar(n), count: n), transpose: true)
    let tolerance = search.tolerance(Scalar.self, scale: scale)
    let result: DynamicsResult<Scalar>
    do {
      result = try SynchronousDynamics(maxSteps: search.maxSteps, tolerance: tolerance, recordEnergies: false)
        .run(model, from: Matrix(rows: 1, columns: mean.count, elements: mean))
    } catch {
      throw .dynamics(error)
    }
    let end = result.finalStates.row(0)
    var polish = search
    polish.newtonSteps = max(search.newtonSteps, 8)
    let (x, residual, _) = polish.newton(
      model, from: end, maxMove: search.mergeTolerance * scale, linearization: analyzer.classifier.linearization)
    let found = result.trajectories[0].converged || residual <= tolerance
    guard found else {
      return (
        GlobalFixedPointProbe(
          found: false, residual: residual, regime: nil, k: nil, spectralRadius: nil, hessianSmallest: nil,
          isStableGlobal: false), nil
      )
    }
    let c = try analyzer.classifier.classify(model, at: Matrix(rows: 1, columns: x.count, elements: x))[0]
    return (
      GlobalFixedPointProbe(
        found: true, residual: residual, regime: c.regime, k: c.evidence?.k, spectralRadius: c.jacobian.spectralRadius,
        hessianSmallest: c.hessian?.smallest, isStableGlobal: c.regime == .globalAverage && c.isStable), x
    )
  }

  /// One CSV row per β: fixed-point counts and basin shares per class, the non-converged share and
  /// the probe of the global fixed point.
  public func csv() -> String {
    let classes = FixedPointClass.allCases.map(\.rawValue)
    var lines = [
      (["beta", "fixed_points"] + classes.map { "count_\($0)" } + classes.map { "share_\($0)" }
        + [
          "share_not_converged", "global_found", "global_regime", "global_k", "global_spectral_radius",
          "global_hessian_min", "global_stable",
        ]).joined(separator: ",")
    ]
    for p in points {
      var fields = ["\(p.beta)", "\(p.fixedPointCount)"]
      fields += classes.map { "\(p.countByClass[$0] ?? 0)" }
      fields += classes.map { "\(p.shareByClass[$0] ?? 0)" }
      fields += [
        "\(p.nonConvergedShare)", "\(p.global.found)", p.global.regime?.rawValue ?? "",
        p.global.k.map(String.init) ?? "",
        p.global.spectralRadius.map { "\($0)" } ?? "", p.global.hessianSmallest.map { "\($0)" } ?? "",
        "\(p.global.isStableGlobal)",
      ]
      lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Two charts: the share of starts per class against β, and ρ(J) of the global fixed point
  /// (continued in β; after its end, the point the mean flows to) against β, both with the
  /// transition β* marked.
  public func charts(title: String) -> (shares: LineChart, stability: LineChart) {
    var shares = LineChart(
      title: "\(title): where the starts end", xLabel: "inverse temperature β", yLabel: "share of starts")
    shares.xScale = .logarithmic
    shares.yRange = 0...1.12  // headroom above 1 for the marker label
    let named: [(FixedPointClass, String)] = [
      (.globalAverage, "global average"), (.metastable, "metastable"), (.singlePattern, "single pattern"),
      (.unstable, "unstable"),
    ]
    shares.series = named.map { c, name in
      Series(name: name, points: points.map { DataPoint(x: $0.beta, y: $0.shareByClass[c.rawValue] ?? 0) })
    }
    shares.series.append(
      Series(name: "not converged", points: points.map { DataPoint(x: $0.beta, y: $0.nonConvergedShare) }, dashed: true)
    )
    var stability = LineChart(
      title: "\(title): from the mean", xLabel: "inverse temperature β", yLabel: "spectral radius ρ(J)")
    stability.xScale = .logarithmic
    // The continued branch (older records: the points labelled global average), then the rest.
    func onBranch(_ p: PhaseDiagramPoint) -> Bool { p.global.onBranch ?? (p.global.regime == .globalAverage) }
    let global = points.compactMap { p in
      onBranch(p) ? p.global.spectralRadius.map { DataPoint(x: p.beta, y: $0) } : nil
    }
    let elsewhere = points.compactMap { p in
      !onBranch(p) ? p.global.spectralRadius.map { DataPoint(x: p.beta, y: $0) } : nil
    }
    let largest = (global + elsewhere).map(\.y).max() ?? 1
    stability.yRange = 0...max(1.2, 1.05 * largest)
    stability.series = [Series(name: "global fixed point (continued in β)", points: global)]
    if !elsewhere.isEmpty {
      stability.series.append(Series(name: "mean → another fixed point", points: elsewhere, dashed: true))
    }
    stability.series.append(
      Series(
        name: "ρ = 1",
        points: [DataPoint(x: points.first?.beta ?? 1, y: 1), DataPoint(x: points.last?.beta ?? 1, y: 1)],
        dashed: true, showsMarkers: false))
    if let t = transition {
      let label = "β* ≈ \(String(format: "%.3g", t.beta))"  // where the stable global average ends
      shares.markers = [VerticalMarker(x: t.beta, label: label)]
      stability.markers = [VerticalMarker(x: t.beta, label: label)]
    }
    return (shares, stability)
  }

  /// Writes `<prefix>.csv`, `<prefix>.json`, `<prefix>-shares.svg` and `<prefix>-stability.svg` into
  /// `directory` (created if missing), each atomically. Returns the files written.
  @discardableResult
  public func write(to directory: URL, prefix: String = "phase-diagram", title: String = "Phase diagram")
    throws(AnalysisError) -> [URL]
  {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw .writeFailed(path: directory.path, reason: "it exists and is not a directory")
      }
    } else {
      do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
        throw .writeFailed(path: directory.path, reason: error.localizedDescription)
      }
    }
    let csvURL = directory.appendingPathComponent("\(prefix).csv")
    let jsonURL = directory.appendingPathComponent("\(prefix).json")
    let sharesURL = directory.appendingPathComponent("\(prefix)-shares.svg")
    let stabilityURL = directory.appendingPathComponent("\(prefix)-stability.svg")
    do {
      try Data(csv().utf8).write(to: csvURL, options: .atomic)
      try JSONCoding.encode(self).write(to: jsonURL, options: .atomic)
    } catch {
      throw .writeFailed(path: directory.path, reason: error.localizedDescription)
    }
    let (shares, stability) = charts(title: title)
    do {
      try shares.write(to: sharesURL)
      if stability.series.dropLast().contains(where: { !$0.points.isEmpty }) {
        try stability.write(to: stabilityURL)
      } else {
        try? fm.removeItem(at: stabilityURL)
      }
    } catch {
      throw .writeFailed(path: directory.path, reason: "\(error)")
    }
    return [csvURL, jsonURL, sharesURL] + (fm.fileExists(atPath: stabilityURL.path) ? [stabilityURL] : [])
  }
}
