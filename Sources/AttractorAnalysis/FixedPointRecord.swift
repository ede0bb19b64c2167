import AttractorCore
import Foundation

extension FixedPointClass {
  /// The name used in tables ("single pattern", "global average").
  public var displayName: String {
    switch self {
    case .singlePattern: "single pattern"
    case .metastable: "metastable"
    case .globalAverage: "global average"
    case .unstable: "unstable"
    case .stable: "stable"
    }
  }
}

/// The record of one fixed-point analysis (`attractor analyze fixed-points --json`, and
/// `fixed-points.json`): where the patterns came from, the model's size and β, and the
/// ``FixedPointReport``.
public struct FixedPointAnalysisRecord: Codable, Sendable, Equatable {
  /// Version of the tool.
  public var version: String
  /// The patterns file (or model folder), or `nil` for random patterns.
  public var patternsFile: String?
  /// Correlation of the random patterns (`nil`: independent or from a file).
  public var correlation: Double?
  /// Number of patterns N.
  public var patternCount: Int
  /// Dimension d.
  public var dimension: Int
  /// Inverse temperature β (for a model folder, its logit scale 1/(τ√d_head)).
  public var beta: Double
  /// Seed of patterns and starts.
  public var seed: UInt64
  /// OpenBLAS threads.
  public var blasThreads: Int
  /// The analysis.
  public var report: FixedPointReport

  public init(
    version: String, patternsFile: String?, correlation: Double?, patternCount: Int, dimension: Int, beta: Double,
    seed: UInt64, blasThreads: Int, report: FixedPointReport
  ) {
    self.version = version
    self.patternsFile = patternsFile
    self.correlation = correlation
    self.patternCount = patternCount
    self.dimension = dimension
    self.beta = beta
    self.seed = seed
    self.blasThreads = blasThreads
    self.report = report
  }

  /// Writes `fixed-points.csv` (``FixedPointReport/csv()``) and `fixed-points.json` (this record,
  /// ``/AttractorCore/JSONCoding``) into `directory`, each atomically; returns the files written.
  @discardableResult
  public func write(to directory: URL) throws(AnalysisError) -> [URL] {
    let csvURL = directory.appendingPathComponent("fixed-points.csv")
    let jsonURL = directory.appendingPathComponent("fixed-points.json")
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try Data(report.csv().utf8).write(to: csvURL, options: .atomic)
      try JSONCoding.encode(self).write(to: jsonURL, options: .atomic)
    } catch {
      throw .writeFailed(path: directory.path, reason: error.localizedDescription)
    }
    return [csvURL, jsonURL]
  }

  /// The table: one row per fixed point (class, pattern or subset, k, ρ(J), smallest Hessian
  /// eigenvalue and index, basin share), then the share of starts by class and the files written.
  public func table(title: String, files: [String] = []) -> String {
    typealias F = NumberFormat
    var lines: [String] = [title]
    let kinds = StartKind.allCases.compactMap { k in report.startCounts[k.rawValue].map { "\(k.rawValue) \($0)" } }
    lines.append(
      "starts: \(report.totalStarts) (\(kinds.joined(separator: ", "))); not converged: \(report.nonConverged.count)")
    let mass = report.thresholds.mass
    if let first = report.fixedPoints.first {
      let h = first.classification.hessian?.source.rawValue ?? "none"
      lines.append(
        "derivatives: Jacobian \(first.classification.jacobian.source.rawValue), Hessian \(h); k = k\(Int((mass * 100).rounded())) (weight mass \(F.compact(mass)))"
      )
    }
    lines.append("")
    lines.append("  id  class           pattern or subset          k     ρ(J)   min λ(H)  index  basin")
    for p in report.fixedPoints {
      let c = p.classification
      let e = c.evidence
      let regime = c.regime ?? c.label
      var what = "—"
      if let e {
        if regime == .singlePattern {
          what = "\(e.heaviest.first?.pattern ?? e.nearestPattern)"
        } else if e.subset.count == e.patternCount
          || (regime == .globalAverage && report.thresholds.globalRule == .allPatterns)
        {
          // Every pattern takes part (the default rule requires it of a global average).
          what = "all \(e.patternCount)"
        } else {
          // The subset as it is (the k heaviest patterns), also for a global average under the N/2 rule.
          let s = "{" + e.subset.map(String.init).joined(separator: ",") + "}"
          what = s.count > 24 ? String(s.prefix(22)) + "…}" : s
        }
      }
      var label = c.label.displayName
      if c.label == .unstable, let r = c.regime { label += " (\(r.displayName))" }
      lines.append(
        F.pad("\(p.id)", 4) + "  " + label.padding(toLength: max(14, label.count), withPad: " ", startingAt: 0) + "  "
          + what.padding(toLength: 24, withPad: " ", startingAt: 0) + F.pad(e.map { "\($0.k)" } ?? "—", 4)
          + F.fixed(c.jacobian.spectralRadius, decimals: 4, width: 9)
          + F.fixed(c.hessian?.smallest, decimals: 4, width: 11) + F.pad(c.hessian.map { "\($0.index)" } ?? "—", 7)
          + F.fixed(p.basinShare, decimals: 3, width: 7))
    }
    if !report.nonConverged.isEmpty {
      lines.append("")
      lines.append(
        "\(report.nonConverged.count) starts did not converge within --max-steps \(report.search.maxSteps) (share \(F.fixed(report.nonConvergedShare, decimals: 3))); raise --max-steps to follow them further"
      )
    }
    let shares = FixedPointClass.allCases.compactMap { c -> String? in
      let s = report.shareByClass[c.rawValue] ?? 0
      return s > 0 ? "\(c.displayName) \(F.fixed(s, decimals: 3))" : nil
    }
    lines.append("")
    lines.append("share of starts by class: " + shares.joined(separator: ", "))
    for f in files { lines.append("wrote \(f)") }
    return lines.joined(separator: "\n")
  }
}

extension PhaseDiagram {
  /// The table of a sweep: per β the number of fixed points, the share of starts by class, the
  /// non-converged share and the global fixed point (class and ρ(J); after the branch has ended,
  /// where the mean flows), then the transition β* where the branch stops being stable, its kind
  /// (fold or eigenvalue crossing) and where its label stops being "global average", if earlier.
  public func table(title: String, files: [String] = []) -> String {
    typealias F = NumberFormat
    var lines = [
      title, "",
      "       β  fixed points  global  metastable  single  unstable  not conv.   global point    ρ(J) there",
    ]
    for p in points {
      func share(_ c: FixedPointClass, _ width: Int) -> String {
        F.fixed(p.shareByClass[c.rawValue] ?? 0, decimals: 3, width: width)
      }
      lines.append(
        F.general(p.beta, significant: 4, width: 8) + F.pad("\(p.fixedPointCount)", 14) + share(.globalAverage, 8)
          + share(.metastable, 12) + share(.singlePattern, 8) + share(.unstable, 10)
          + F.fixed(p.nonConvergedShare, decimals: 3, width: 11)
          + F.pad(p.global.found ? (p.global.regime.map(\.displayName) ?? "—") : "no fixed point", 16)
          + F.fixed(p.global.spectralRadius, decimals: 4, width: 13))
    }
    lines.append("")
    if let l = globalLabelLost, l.count == 2 {
      lines.append(
        "the global fixed point stops being labelled a global average at β ≈ \(F.general((l[0] * l[1]).squareRoot(), significant: 6)) (bracket \(F.general(l[0], significant: 8)) – \(F.general(l[1], significant: 8))): still stable, its weights concentrate on a subset"
      )
    }
    if let t = transition {
      // Enough digits to tell the two ends of the bracket apart.
      let width = max(1e-15, (t.upper - t.lower) / t.beta)
      let digits = min(15, max(4, Int((-Foundation.log10(width)).rounded(.up)) + 1))
      let after = t.regimeAtUpper.map { "a \($0.displayName) point" } ?? "no fixed point within --max-steps"
      lines.append(
        "the global fixed point (continued in β from the mean) stops being stable at β* ≈ \(F.general(t.beta, significant: digits)) (bracket \(F.general(t.lower, significant: digits)) – \(F.general(t.upper, significant: digits)))"
      )
      switch t.kind {
      case .fold:
        let law = t.foldCoefficient.map { "; ρ(J) → 1 like \(F.general($0, significant: 3))·√(β* − β) below" } ?? ""
        lines.append(
          "a fold (saddle-node): the point meets a saddle and vanishes\(law); just above, the mean flows to \(after)")
      case .eigenvalueCrossing:
        let rho = t.spectralRadiusAtUpper.map { F.fixed($0, decimals: 6) } ?? "—"
        lines.append(
          "an eigenvalue of J crosses 1: above β* the point goes on as a saddle (ρ(J) = \(rho) at the upper end); the mean flows to \(after)"
        )
      case nil:
        lines.append("ρ(J) = \(t.spectralRadiusAtLower.map { F.fixed($0, decimals: 4) } ?? "—") just below")
      }
    } else {
      lines.append(
        "the global fixed point (continued in β from the mean) stays stable inside this β range (or is not a stable global average at its start); widen --beta-range"
      )
    }
    lines.append("(shares: fraction of all starts ending in a fixed point of each class)")
    for f in files { lines.append("wrote \(f)") }
    return lines.joined(separator: "\n")
  }
}
