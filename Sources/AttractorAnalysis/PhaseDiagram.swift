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

/// Where the fixed point reached from the mean stops being a stable global average, bracketed and
/// bisected: either an eigenvalue of J crosses 1 (``spectralRadiusAtLower`` ≈ 1) or the point's
/// weights concentrate on fewer than the global fraction of patterns, or it disappears
/// (``regimeAtUpper`` says what the mean flows to instead).
public struct StabilityTransition: Codable, Sendable, Equatable {
  /// Estimate of the critical β (geometric mean of the final bracket).
  public var beta: Double
  /// Largest β seen with a stable global fixed point.
  public var lower: Double
  /// Smallest β seen without one.
  public var upper: Double
  /// Bisection steps taken after the grid.
  public var bisectionSteps: Int
  /// ρ(J) of the global fixed point at `lower`: close to 1 when stability is lost through an
  /// eigenvalue crossing 1, lower when the global point vanishes or the dynamics miss it.
  public var spectralRadiusAtLower: Double?
  /// What the mean flows to at `upper`: the regime of the point reached (`nil` when no fixed point
  /// was reached). ``FixedPointClass/globalAverage`` there means the global point is unstable.
  public var regimeAtUpper: FixedPointClass?
}

/// A sweep over β: the share of each class of fixed point and where the global fixed point loses
/// stability.
///
/// ```
/// for β in grid:  analyse the model at β (FixedPointAnalyzer) → share of starts per class
///                 probe the fixed point reached from mean(X): global and stable?
/// transition:     first grid interval where the probe turns from stable to not, bisected in log β
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
    var points: [PhaseDiagramPoint] = []
    for beta in betas {
      let m = try build(beta)
      let report = try analyzer.analyze(m)
      points.append(
        PhaseDiagramPoint(
          beta: beta, fixedPointCount: report.fixedPoints.count, countByClass: report.countByClass,
          shareByClass: report.shareByClass, nonConvergedShare: report.nonConvergedShare,
          global: try probeGlobal(m, analyzer: analyzer)))
    }
    var transition: StabilityTransition? = nil
    if let i = points.indices.dropFirst().first(where: {
      points[$0 - 1].global.isStableGlobal && !points[$0].global.isStableGlobal
    }) {
      var lower = points[i - 1].beta
      var upper = points[i].beta
      var radius = points[i - 1].global.spectralRadius
      var above = points[i].global.found ? points[i].global.regime : nil
      for _ in 0..<bisectionSteps {
        let mid = (lower * upper).squareRoot()
        let probe = try probeGlobal(try build(mid), analyzer: analyzer)
        if probe.isStableGlobal {
          lower = mid
          radius = probe.spectralRadius
        } else {
          upper = mid
          above = probe.found ? probe.regime : nil
        }
      }
      transition = StabilityTransition(
        beta: (lower * upper).squareRoot(), lower: lower, upper: upper, bisectionSteps: bisectionSteps,
        spectralRadiusAtLower: radius, regimeAtUpper: above)
    }
    return PhaseDiagram(points: points, transition: transition)
  }

  /// Iterates from the mean of the patterns, polishes with Newton (which also rescues a slow,
  /// nearly critical approach) and classifies the point reached.
  public static func probeGlobal<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, analyzer: FixedPointAnalyzer = FixedPointAnalyzer()
  ) throws(AnalysisError) -> GlobalFixedPointProbe {
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
      return GlobalFixedPointProbe(
        found: false, residual: residual, regime: nil, k: nil, spectralRadius: nil, hessianSmallest: nil,
        isStableGlobal: false)
    }
    let c = try analyzer.classifier.classify(model, at: Matrix(rows: 1, columns: x.count, elements: x))[0]
    return GlobalFixedPointProbe(
      found: true, residual: residual, regime: c.regime, k: c.evidence?.k, spectralRadius: c.jacobian.spectralRadius,
      hessianSmallest: c.hessian?.smallest, isStableGlobal: c.regime == .globalAverage && c.isStable)
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

  /// Two charts: the share of starts per class against β, and ρ(J) of the fixed point reached from
  /// the mean against β, both with the transition β* (end of the stable global average) marked.
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
    let global = points.compactMap { p in
      p.global.regime == .globalAverage ? p.global.spectralRadius.map { DataPoint(x: p.beta, y: $0) } : nil
    }
    let elsewhere = points.compactMap { p in
      p.global.regime != .globalAverage ? p.global.spectralRadius.map { DataPoint(x: p.beta, y: $0) } : nil
    }
    let largest = (global + elsewhere).map(\.y).max() ?? 1
    stability.yRange = 0...max(1.2, 1.05 * largest)
    stability.series = [Series(name: "global fixed point", points: global)]
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
