import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// The families of capacity models, by the names `attractor compare list-models` prints:
/// `classical` (F(x) = x²), `dense-polynomial` (F(x) = xⁿ), `dense-rectified` (F(x) = max(x, 0)ⁿ)
/// and `dense-exponential` (F(x) = exp(βx)).
public enum CapacityModelFamily: String, CaseIterable, Sendable, Codable {
  case classical
  case densePolynomial = "dense-polynomial"
  case denseRectified = "dense-rectified"
  case denseExponential = "dense-exponential"

  /// The models of `families`: one per degree for the polynomial families, one at `beta` for the
  /// exponential family, in the order given.
  public static func models(_ families: [CapacityModelFamily], degrees: [Int], beta: Double) -> [CapacityModel] {
    families.flatMap { family -> [CapacityModel] in
      switch family {
      case .classical: [.classical]
      case .densePolynomial: degrees.map { .polynomial(degree: $0) }
      case .denseRectified: degrees.map { .rectified(degree: $0) }
      case .denseExponential: [.exponential(beta: beta)]
      }
    }
  }
}

/// A capacity scan as `attractor capacity scan` runs it: every model over the experiment's N and K
/// (or on the ±1 patterns of a file), then the ``CapacityReport`` and, with a folder, its files.
public struct CapacityScan: Sendable {
  /// The models scanned.
  public var models: [CapacityModel]
  /// N, K, starts, the start kind, seed and sweep limit.
  public var experiment: CapacityExperiment
  /// A `.npy` file of ±1 patterns (K × N) used instead of random ones; its N must be the one
  /// requested when ``unitsRequested`` is set.
  public var patternsFile: String?
  /// Whether N was given explicitly (then a patterns file must match it).
  public var unitsRequested: Bool
  /// Worker threads for the starts.
  public var workers: Int
  /// Version recorded in the report.
  public var version: String

  public init(
    models: [CapacityModel], experiment: CapacityExperiment, patternsFile: String?, unitsRequested: Bool, workers: Int,
    version: String
  ) {
    self.models = models
    self.experiment = experiment
    self.patternsFile = patternsFile
    self.unitsRequested = unitsRequested
    self.workers = workers
    self.version = version
  }

  /// Checks what is known before any file is read: relative K needs the K_max formula of each model.
  public func validate() throws(InputError) {
    if !experiment.relativePatterns.isEmpty {
      if patternsFile != nil { throw InputError("--relative-patterns and --patterns FILE.npy are mutually exclusive") }
      if models.contains(where: { $0.formulaKMax(units: 100) == nil }) {
        throw InputError(
          "--relative-patterns scales the K_max formula, which exists only for polynomial, rectified and classical models of degree ≥ 2"
        )
      }
    }
  }

  /// Runs every model; `progress` gets one line per point. With `directory`, writes the report's
  /// files there (``CapacityReport/write(to:prefix:)``) and reports each path through `progress`.
  public func run(writingTo directory: URL? = nil, prefix: String = "capacity", progress: (String) -> Void = { _ in })
    throws(InputError) -> CapacityReport
  {
    let given = try patternsFile.map { (path) throws(InputError) in try InputFiles.signPatterns(path) }
    if let given, unitsRequested, experiment.units != [given.columns] {
      throw InputError(
        "--dimension \(experiment.units.map(String.init).joined(separator: ",")) does not match the patterns file, whose patterns have N = \(given.columns) units"
      )
    }
    var curves: [CapacityCurve] = []
    let seconds: Double
    do {
      seconds = try measureSeconds { () throws(InputError) in
        for m in models {
          do {
            curves += try experiment.run(model: m, patterns: given, threads: workers) { curve, p in
              progress(
                "\(curve.model)  N = \(p.units)  K = \(p.patterns): error-free \(NumberFormat.fixed(p.errorFreeFraction, decimals: 4)), \(NumberFormat.fixed(p.seconds, decimals: 2)) s"
              )
            }
          } catch {
            throw InputError("capacity run failed for \(m): \(error)")
          }
        }
      }.seconds
    }
    let report = CapacityReport(
      version: version, experiment: experiment, models: models, curves: curves, threads: workers, seconds: seconds)
    if let directory {
      do {
        for url in try report.write(to: directory, prefix: prefix) { progress("wrote \(url.path)") }
      } catch {
        throw InputError("\(error)")
      }
    }
    return report
  }
}

extension CapacityReport {
  /// The Markdown tables: one row per (model, N, K) with the error-free fraction, the fraction
  /// within `maxErrors`, mean errors, ended on +ξ, converged, mean sweeps and seconds; then
  /// K_max, K½ and the formula K_max = N^(n−1)/(2(2n−3)!! ln N) per (model, N).
  public var table: String {
    typealias F = NumberFormat
    let e = experiment
    var lines: [String] = []
    lines.append(
      "# capacity: \(e.start), \(e.starts) starts per K\(e.draws > 1 ? " in each of \(e.draws) pattern draws" : ""), seed \(e.seed), max steps \(e.maxSweeps), workers \(threads)"
    )
    lines.append("")
    let draws = e.draws
    var header = [
      "model", "N", "K", "error-free", "≤ \(e.maxErrors) wrong", "mean errors", "on +ξ", "converged", "mean sweeps",
      "seconds",
    ]
    if draws > 1 { header.insert("all error-free (share of \(draws) draws)", at: 4) }
    var points = MarkdownTable(header: header, leftColumns: 1)
    for c in curves {
      for p in c.points {
        var cells = [
          F.fixed(p.errorFreeFraction, decimals: 4), F.fixed(p.withinMaxErrorsFraction, decimals: 4),
          F.fixed(p.meanErrors, decimals: 3),
          F.fixed(p.endedOnPatternFraction, decimals: 4), F.fixed(p.convergedFraction, decimals: 4),
          F.fixed(p.meanSweeps, decimals: 2),
          F.fixed(p.seconds, decimals: 2),
        ]
        if draws > 1 { cells.insert(F.fixed(p.allErrorFreeShare, decimals: 2), at: 1) }
        points.append(["\(c.model)", "\(p.units)", "\(p.patterns)"] + cells)
      }
    }
    lines += points.lines
    lines.append("")
    if draws > 1 {
      // Per draw: K_max and K½ of that draw's own curve; mean ± standard deviation (range).
      func summary(_ s: DrawSummary, decimals: Int, below: Int?) -> String {
        guard let mean = s.mean else { return below.map { "< \($0) in every draw" } ?? "— in every draw" }
        var text = F.fixed(mean, decimals: 1)
        if let sd = s.standardDeviation { text += " ± " + F.fixed(sd, decimals: 1) }
        if let lo = s.minimum, let hi = s.maximum {
          text += " (" + F.fixed(lo, decimals: decimals) + "–" + F.fixed(hi, decimals: decimals) + ")"
        }
        if s.count < s.draws {
          text += below.map { ", < \($0) in \(s.draws - s.count)" } ?? ", none in \(s.draws - s.count)"
        }
        return text
      }
      var capacities = MarkdownTable(
        header: [
          "model", "N", "K_max per draw: mean ± sd (range)", "K½ per draw: mean ± sd (range)",
          "K_max formula N^(n−1)/(2(2n−3)!! ln N)",
        ],
        leftColumns: 1)
      for c in curves {
        let first = c.points.map(\.patterns).min()
        capacities.append([
          "\(c.model)", "\(c.units)", summary(c.kMaxSummary, decimals: 0, below: first),
          summary(c.kHalfSummary, decimals: 1, below: nil), c.formulaKMax.map { F.fixed($0, decimals: 1) } ?? "—",
        ])
      }
      lines.append("over \(draws) independent pattern draws per (N, K), each with its own starts:")
      lines.append("")
      lines += capacities.lines
    } else {
      var capacities = MarkdownTable(
        header: [
          "model", "N", "K_max (measured, scanned K)", "K½ (measured)", "K_max formula N^(n−1)/(2(2n−3)!! ln N)",
        ],
        leftColumns: 1)
      for c in curves {
        let kMax = c.kMax.map { "\($0)" } ?? (c.points.first.map { "< \($0.patterns)" } ?? "—")
        let kHalf = c.kHalf.map { F.fixed($0, decimals: 1) } ?? "—"
        let formula = c.formulaKMax.map { F.fixed($0, decimals: 1) } ?? "—"
        capacities.append(["\(c.model)", "\(c.units)", kMax, kHalf, formula])
      }
      lines += capacities.lines
    }
    lines.append("")
    lines.append("total \(F.fixed(seconds, decimals: 1)) s")
    return lines.joined(separator: "\n")
  }
}

/// Krotov & Hopfield's XOR table (``XORExperiment``) for several capacity models, as Markdown or
/// JSON.
public struct XORTable: Codable, Sendable, Equatable {
  /// One model's truth table.
  public struct Entry: Codable, Sendable, Equatable {
    /// The interaction, e.g. "polynomial F(x) = x^3".
    public var interaction: String
    /// The four inputs (x, y) and the decisions.
    public var rows: [XORExperiment.Row]
    /// Correct for all inputs and both initial values of z.
    public var solved: Bool
  }

  public var entries: [Entry]

  /// Runs the XOR experiment for every model (classical is F(x) = x²).
  public init(models: [CapacityModel]) throws(InputError) {
    entries = []
    for m in models {
      let result: XORExperiment.Result
      do {
        switch m {
        case .classical: result = try XORExperiment.run(interaction: try Polynomial(degree: 2))
        case .polynomial(let n): result = try XORExperiment.run(interaction: try Polynomial(degree: n))
        case .rectified(let n): result = try XORExperiment.run(interaction: try RectifiedPolynomial(degree: n))
        case .exponential(let b): result = try XORExperiment.run(interaction: try Exponential(beta: b))
        }
      } catch {
        throw InputError("XOR failed for \(m): \(error)")
      }
      entries.append(Entry(interaction: result.interaction, rows: result.rows, solved: result.solved))
    }
  }

  /// The Markdown table: per model the decision sum and the z it gives for each input.
  public var markdown: String {
    var lines: [String] = [
      "# XOR with N = 3, K = 4 memories (x, y, z = −xy in ±1); one update of z with x, y held", "",
    ]
    var table = MarkdownTable(
      header: ["interaction", "(x,y)=(−,−)", "(−,+)", "(+,−)", "(+,+)", "solved"],
      alignments: [.left, .right, .right, .right, .right, .left])
    for entry in entries {
      let cells = entry.rows.map { r -> String in
        let z = r.zFromPlus == r.zFromMinus ? (r.zFromPlus > 0 ? "+" : "−") : "keeps z"
        return "sum \(NumberFormat.general(r.decisionSum, significant: 6)) → \(z)"
      }
      table.append([entry.interaction] + cells + [entry.solved ? "yes" : "no"])
    }
    lines += table.lines
    lines.append("")
    lines.append(
      "expected z = −xy: (−,−) → −, (−,+) → +, (+,−) → +, (+,+) → −; a zero sum keeps z's initial value (both ±1 tried)"
    )
    return lines.joined(separator: "\n")
  }
}
