import AttractorCore
import AttractorExperiments
import AttractorPlots
import Foundation

/// One model under one condition (dataset, corruption, level, T), summarised over the seeds.
public struct StudyRow: Sendable, Equatable, Codable {
  public var model: String
  public var dataset: String
  public var corruption: Corruption.Kind
  public var level: Double
  /// T.
  public var steps: Int
  /// Number of seeds summarised.
  public var seeds: Int
  /// Accuracy after T steps: mean ± standard error over seeds.
  public var accuracy: MeanAndStandardError
  /// Accuracy of the queries themselves (T = 0), mean over seeds.
  public var initialAccuracy: Double
  /// Fraction of queries converged by T, mean over seeds.
  public var convergedFraction: Double
  /// Steps to converge (mean over converged queries), mean ± SE over the seeds where any converged.
  public var stepsToConverge: MeanAndStandardError?
  /// E(q₀) − E(q_T), mean ± SE over seeds; `nil` for rules without an energy.
  public var energyReduction: MeanAndStandardError?
  /// Regime fractions of the states after T steps, mean over seeds; `nil` when not applicable.
  public var regime: RegimeMix?
  /// Dynamics time per query to reach T, in microseconds: mean ± SE over seeds.
  public var microsecondsPerQuery: MeanAndStandardError
}

/// The report of a finished study: every cell, the per-condition summaries, and the files
/// `report.md`, `results.csv`, `results.json` and the SVG figures.
public struct StudyReport: Sendable, Equatable, Codable {
  public var version: String
  public var specHash: String
  public var study: StudySpec
  /// Summaries in the order dataset, corruption, level, T, model.
  public var rows: [StudyRow]
  /// Every cell, in cell order.
  public var cells: [StudyCellResult]
  /// OpenBLAS thread counts seen in the cells.
  public var blasThreads: [Int]
  /// Sum over cells of setup and dynamics time for the largest T (seconds): the compute the study took.
  public var cellSeconds: Double

  public init(study: StudySpec, specHash: String, cells: [StudyCellResult], version: String) {
    self.version = version
    self.specHash = specHash
    self.study = study
    self.cells = cells
    blasThreads = Array(Set(cells.map(\.blasThreads))).sorted()
    cellSeconds = cells.reduce(0) { $0 + $1.setupSeconds + ($1.steps.last?.secondsPerQuery ?? 0) * Double($1.queries) }
    var rows: [StudyRow] = []
    var groups: [String: [StudyCellResult]] = [:]
    for c in cells { groups["\(c.dataset)\u{1}\(c.corruption)\u{1}\(c.level)\u{1}\(c.model)", default: []].append(c) }
    for d in study.datasets {
      for corruption in study.corruptions {
        for level in corruption.levels {
          for (k, t) in study.steps.enumerated() {
            for m in study.models {
              guard let group = groups["\(d.label)\u{1}\(corruption.kind)\u{1}\(level)\u{1}\(m.label)"], !group.isEmpty
              else { continue }
              let at = group.map { $0.steps[k] }
              let energy = at.compactMap(\.energyReduction)
              let regimes = at.compactMap(\.regime)
              let n = Double(group.count)
              rows.append(
                StudyRow(
                  model: m.label, dataset: d.label, corruption: corruption.kind, level: level, steps: t,
                  seeds: group.count,
                  accuracy: MeanAndStandardError(at.map(\.accuracy))!,
                  initialAccuracy: group.reduce(0) { $0 + $1.initialAccuracy } / n,
                  convergedFraction: at.reduce(0) { $0 + $1.convergedFraction } / n,
                  stepsToConverge: MeanAndStandardError(at.compactMap(\.meanStepsToConverge)),
                  energyReduction: energy.count == at.count ? MeanAndStandardError(energy) : nil,
                  regime: regimes.count == at.count && !regimes.isEmpty
                    ? RegimeMix(
                      singlePattern: regimes.reduce(0) { $0 + $1.singlePattern } / n,
                      metastable: regimes.reduce(0) { $0 + $1.metastable } / n,
                      globalAverage: regimes.reduce(0) { $0 + $1.globalAverage } / n) : nil,
                  microsecondsPerQuery: MeanAndStandardError(at.map { $0.secondsPerQuery * 1e6 })!))
            }
          }
        }
      }
    }
    self.rows = rows
  }

  // MARK: - Text

  static func pm(_ s: MeanAndStandardError?, _ decimals: Int) -> String {
    guard let s else { return "n/a" }
    let mean = String(format: "%.\(decimals)f", s.mean)
    guard let se = s.standardError else { return mean }
    return "\(mean) ± \(String(format: "%.\(decimals)f", se))"
  }

  /// `mean ± SE` with 4 significant digits (energies span many orders of magnitude across models).
  static func pmSignificant(_ s: MeanAndStandardError?) -> String {
    guard let s else { return "n/a" }
    let mean = String(format: "%.4g", s.mean)
    guard let se = s.standardError else { return mean }
    return "\(mean) ± \(String(format: "%.2g", se))"
  }

  /// The table of `rows`: one line per row after the header and the rule.
  static func table(_ rows: [StudyRow]) -> MarkdownTable {
    MarkdownTable(
      header: [
        "model", "corruption", "level", "T", "accuracy ± SE", "steps to converge (converged)", "E(q₀)−E(q_T) ± SE",
        "single / metastable / global", "µs / query",
      ],
      leftColumns: 2, rows: rows.map(tableCells))
  }

  static func tableCells(_ r: StudyRow) -> [String] {
    let steps = r.stepsToConverge.map { String(format: "%.2f", $0.mean) } ?? "—"
    let regime =
      r.regime.map { String(format: "%.2f / %.2f / %.2f", $0.singlePattern, $0.metastable, $0.globalAverage) } ?? "n/a"
    return [
      "\(r.model)", "\(r.corruption)", compactNumber(r.level), "\(r.steps)", pm(r.accuracy, 3),
      "\(steps) (\(String(format: "%.0f", r.convergedFraction * 100)) %)", pmSignificant(r.energyReduction), regime,
      String(format: "%.1f", r.microsecondsPerQuery.mean),
    ]
  }

  /// A Markdown table of the rows at T = `steps` (all T when `nil`), one table per dataset.
  public func markdownTable(steps: Int? = nil) -> String {
    var out: [String] = []
    for d in study.datasets {
      let rows = self.rows.filter { $0.dataset == d.label && (steps == nil || $0.steps == steps) }
      guard !rows.isEmpty else { continue }
      if study.datasets.count > 1 { out += ["", "**\(d.label)**", ""] }
      out += Self.table(rows).lines
    }
    return out.joined(separator: "\n")
  }

  /// `report.md`: what was run, how each column is defined, the tables and the figures.
  public func markdown(figures: [String]) -> String {
    let s = study
    var out: [String] = []
    out.append("# Comparative study: \(s.name)")
    out.append("")
    out.append(
      "Written by `attractor compare` \(version); spec hash `\(specHash)`. Every number below is computed from `cells.jsonl` / `results.json` in this folder."
    )
    out.append("")
    out.append("- Datasets: " + s.datasets.map { "\($0.label)" }.joined(separator: "; "))
    out.append("- Models: " + s.models.map { "\($0.label) (`\($0.model)`)" }.joined(separator: ", "))
    out.append(
      "- Corruptions: "
        + s.corruptions.map { "\($0.kind) at " + $0.levels.map(compactNumber).joined(separator: ", ") }.joined(
          separator: "; "))
    out.append(
      "- Steps T = " + s.steps.map(String.init).joined(separator: ", ")
        + " (one synchronous run of \(s.steps.last ?? 0) steps per cell, measured at each T); tolerance ε = \(s.tolerance)"
    )
    out.append(
      "- Seeds: " + s.seeds.map(String.init).joined(separator: ", ")
        + "; \(s.queries) queries per cell; \(cells.count) cells")
    out.append(
      "- OpenBLAS threads: " + blasThreads.map(String.init).joined(separator: ", ")
        + String(format: "; compute summed over cells: %.2f s", cellSeconds))
    out.append("")
    out.append("## How to read the table")
    out.append("")
    out.append(
      """
      - **accuracy**: fraction of queries whose state after T steps is nearest (cosine similarity) to \
      its target among the model's stored patterns; mean ± standard error over the seeds. All models \
      get the same corrupted queries; ±1 models (classical, dense) store and run on their signs \
      (queries keep masked zeros).
      - **steps to converge**: the first step whose size ‖q_t − q_{t−1}‖ ≤ ε, averaged over the queries \
      converged by T (then over seeds); in brackets the percentage converged by T. A state that \
      converged stops moving.
      - **E(q₀)−E(q_T)**: mean drop of the energy the rule descends (models that are `EnergyDescending`): \
      Ramsauer et al.'s energy for modern Hopfield, −½xᵀWx for classical, the reported energy −ΣF (or \
      −β⁻¹ log Σ exp) for dense memories; n/a for attention, whose update descends no known energy. \
      Classical and dense memories descend theirs under asynchronous updates; they are run synchronously \
      here, which does not guarantee descent.
      - **single / metastable / global**: regime of the states after T steps from the softmax weights \
      p = separation(q_T): k₉₀ = fewest patterns holding 90 % of p; k₉₀ = 1 single pattern, \
      global average when every pattern carries at least a tenth of 1/N, else metastable mixture \
      (the weight part of the analysis layer's default rule). \
      Reported for real-valued attention-type models; n/a for ±1 models, whose weights are shares of \
      squared overlaps and are spread even at an exact retrieval.
      - **µs / query**: time of the dynamics alone to reach T (monotonic clock; excludes model \
      construction, query generation and all measurements), divided by the queries of the cell; \
      mean over seeds; batched, in the study's precision (\(study.precision.rawValue); a model without \
      a single-precision path runs in double), OpenBLAS threads as above; when cells run several at \
      a time (the default of `attractor compare`), the times include the sharing of the cores.
      """)
    if let loads = loadSweep, let reference = referenceLoad {
      out.append("")
      out.append("## Recall against load")
      out.append("")
      out.append(
        "Patterns: \(loads.map { "K = \($0.count!)" }.joined(separator: ", ")) in d = \(loads[0].dimension ?? 0) (load K/d from \(compactNumber(Double(loads[0].count!) / Double(loads[0].dimension ?? 1))) to \(compactNumber(Double(loads.last!.count!) / Double(loads[0].dimension ?? 1)))). Accuracy at the middle level of each corruption; the capacity column is the model's published formula at this d (figures: dotted lines where it falls on the axis). Full tables at every load are in `results.csv`; the tables below the load section are at the reference load \(reference.label)."
      )
      out += loadTableLines()
    }
    for d in referenceLoad.map({ [$0] }) ?? s.datasets {
      out.append("")
      out.append("## \(d.label)")
      for corruption in s.corruptions {
        out.append("")
        out.append("### \(corruption.kind)")
        out.append("")
        out += Self.table(rows.filter { $0.dataset == d.label && $0.corruption == corruption.kind }).lines
      }
    }
    if !figures.isEmpty {
      out.append("")
      out.append("## Figures")
      out.append("")
      out.append(
        "Error bars are ± one standard error over the seeds. A line identical to an earlier one (for example identity attention and the modern network with β = 1/√d, the same update) is drawn dashed on top of it."
      )
      out.append("")
      for f in figures { out.append("![\(f)](\(f))") }
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// One line per row.
  public var csv: String {
    var lines = [
      "dataset,corruption,level,steps,model,seeds,accuracy_mean,accuracy_se,initial_accuracy,converged_fraction,steps_to_converge_mean,energy_reduction_mean,energy_reduction_se,single_pattern,metastable,global_average,us_per_query_mean,us_per_query_se"
    ]
    func v(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
    for r in rows {
      lines.append(
        [
          csvField(r.dataset), r.corruption.rawValue, "\(r.level)", "\(r.steps)", csvField(r.model), "\(r.seeds)",
          "\(r.accuracy.mean)",
          v(r.accuracy.standardError), "\(r.initialAccuracy)", "\(r.convergedFraction)", v(r.stepsToConverge?.mean),
          v(r.energyReduction?.mean), v(r.energyReduction?.standardError), v(r.regime?.singlePattern),
          v(r.regime?.metastable),
          v(r.regime?.globalAverage), "\(r.microsecondsPerQuery.mean)", v(r.microsecondsPerQuery.standardError),
        ].joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  // MARK: - Figures

  static func levelLabel(_ kind: Corruption.Kind) -> String {
    switch kind {
    case .noise: "noise σ (per coordinate; patterns have unit-variance entries)"
    case .mask: "fraction of coordinates masked to 0"
    case .overlap: "weight α of the target in α·target + (1 − α)·other"
    case .flip: "fraction of coordinates negated"
    case .none: "level"
    }
  }

  /// Accuracy after the largest T against the level, one line per model with SE bars.
  public func accuracyByLevelChart(dataset: String, corruption: Corruption.Kind) -> LineChart {
    let t = study.steps.last ?? 0
    let series = study.models.map { m in
      Series(
        name: m.label,
        points: rows.filter {
          $0.dataset == dataset && $0.corruption == corruption && $0.steps == t && $0.model == m.label
        }.map {
          DataPoint(x: $0.level, y: $0.accuracy.mean, error: $0.accuracy.standardError)
        })
    }
    var chart = LineChart(
      title: "Accuracy after T = \(t) steps: \(corruption) (\(dataset))", xLabel: Self.levelLabel(corruption),
      yLabel: "accuracy (mean ± SE over \(study.seeds.count) seeds)", series: Self.dashingDuplicates(series))
    chart.yRange = 0...1
    chart.insetFraction = 0.03
    return chart
  }

  /// Series identical to an earlier one (such as identity attention and modern β = 1/√d) drawn
  /// dashed, so that both stay visible where they coincide.
  static func dashingDuplicates(_ series: [Series]) -> [Series] {
    var out = series
    for k in out.indices where out[..<k].contains(where: { $0.points == out[k].points && !out[k].points.isEmpty }) {
      out[k].dashed = true
    }
    return out
  }

  /// Accuracy against T (0 = the queries) at the middle level of `corruption`.
  public func accuracyByStepsChart(dataset: String, corruption: StudyCorruption) -> LineChart {
    let level = corruption.levels[corruption.levels.count / 2]
    let series = study.models.map { m in
      let rs = rows.filter {
        $0.dataset == dataset && $0.corruption == corruption.kind && $0.level == level && $0.model == m.label
      }
      var points = rs.first.map { [DataPoint(x: 0, y: $0.initialAccuracy)] } ?? []
      points += rs.map { DataPoint(x: Double($0.steps), y: $0.accuracy.mean, error: $0.accuracy.standardError) }
      return Series(name: m.label, points: points)
    }
    var chart = LineChart(
      title: "Accuracy against steps: \(corruption.kind) \(compactNumber(level)) (\(dataset))",
      xLabel: "steps T (0 = the corrupted queries)",
      yLabel: "accuracy (mean ± SE over \(study.seeds.count) seeds)", series: Self.dashingDuplicates(series))
    chart.yRange = 0...1
    chart.insetFraction = 0.03
    return chart
  }

  /// The datasets of a load sweep, by ascending K: at least three Gaussian datasets of one
  /// dimension and σ with distinct K (`nil` otherwise). Their load is K/d.
  public var loadSweep: [StudyDataset]? {
    let d = study.datasets
    guard d.count >= 3, d.allSatisfy({ $0.kind == .gaussian && $0.count != nil }),
      Set(d.map { $0.dimension ?? 0 }).count == 1, Set(d.map { $0.standardDeviation ?? 1 }).count == 1,
      Set(d.map { $0.count! }).count == d.count
    else { return nil }
    return d.sorted { $0.count! < $1.count! }
  }

  /// The dataset of a load sweep whose full corruption tables the report shows: the load nearest
  /// to K/d = 0.5 (in log K).
  public var referenceLoad: StudyDataset? {
    loadSweep?.min { a, b in
      let d = Double(a.dimension ?? 1)
      return abs(Foundation.log(Double(a.count!) / d / 0.5)) < abs(Foundation.log(Double(b.count!) / d / 0.5))
    }
  }

  /// Number of SVG figures ``write(to:)`` writes.
  public var figureCount: Int {
    let perDataset = study.corruptions.reduce(0) { $0 + ($1.levels.count > 1 ? 2 : 1) }
    return (loadSweep != nil ? study.corruptions.count : 0) + (referenceLoad != nil ? 1 : study.datasets.count)
      * perDataset
  }

  /// The theoretical capacity of each model at dimension d (by its factory; `nil` where no formula).
  public func capacities(dimension: Int, registry: StudyModelRegistry = .standard) -> [(String, StudyCapacity?)] {
    study.models.map { m in
      guard let factory = registry.factory(named: m.model), let made = try? factory.init(parameters: m.parameters)
      else { return (m.label, nil) }
      return (m.label, made.capacity(dimension: dimension))
    }
  }

  /// Accuracy after the largest T against the load K/d (log axis) at the middle level of
  /// `corruption`, one line per model, with each model's theoretical capacity K/d marked where it
  /// falls inside the axis.
  public func accuracyByLoadChart(corruption: StudyCorruption) -> LineChart {
    let loads = loadSweep ?? []
    let d = Double(loads.first?.dimension ?? 1)
    let t = study.steps.last ?? 0
    let level = corruption.levels[corruption.levels.count / 2]
    let series = study.models.map { m in
      Series(
        name: m.label,
        points: loads.compactMap { ds in
          rows.first {
            $0.dataset == ds.label && $0.corruption == corruption.kind && $0.level == level && $0.steps == t
              && $0.model == m.label
          }.map { DataPoint(x: Double(ds.count!) / d, y: $0.accuracy.mean, error: $0.accuracy.standardError) }
        })
    }
    var chart = LineChart(
      title: "Accuracy after T = \(t) steps against load: \(corruption.kind) \(compactNumber(level)), d = \(Int(d))",
      xLabel: "load K/d (stored patterns per dimension; dotted: theoretical capacity)",
      yLabel: "accuracy (mean ± SE over \(study.seeds.count) seeds)", series: Self.dashingDuplicates(series))
    chart.xScale = .logarithmic
    chart.yRange = 0...1.12
    chart.insetFraction = 0.03
    if let lo = loads.first?.count, let hi = loads.last?.count {
      let range = (Double(lo) / d)...(Double(hi) / d)
      var row = 0
      for (label, c) in capacities(dimension: Int(d)) {
        guard let c, range.contains(c.patterns / d) else { continue }
        chart.markers.append(
          VerticalMarker(
            x: c.patterns / d, label: "\(label): \(compactNumber((c.patterns / d * 1000).rounded() / 1000))",
            labelRow: row))
        row += 1
      }
    }
    return chart
  }

  /// The load table: per model and corruption (middle level), accuracy after the largest T at each
  /// load K/d, and the model's theoretical capacity K/d.
  func loadTableLines() -> [String] {
    guard let loads = loadSweep else { return [] }
    let d = Double(loads[0].dimension ?? 1)
    let t = study.steps.last ?? 0
    var out: [String] = []
    let capacity = Dictionary(capacities(dimension: Int(d)).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    for corruption in study.corruptions {
      let level = corruption.levels[corruption.levels.count / 2]
      out.append("")
      out.append("### \(corruption.kind) \(compactNumber(level)), accuracy after T = \(t)")
      out.append("")
      var table = MarkdownTable(
        header: ["model", "capacity K/d (formula)"] + loads.map { "K/d = \(compactNumber(Double($0.count!) / d))" },
        leftColumns: 2)
      for m in study.models {
        let cap =
          capacity[m.label].flatMap { $0 }.map { c in
            let v = c.patterns / d
            return (v < 1e4 ? compactNumber((v * 1000).rounded() / 1000) : String(format: "%.2g", v))
              + " (\(c.formula))"
          } ?? "—"
        let cells = loads.map { ds in
          rows.first {
            $0.dataset == ds.label && $0.corruption == corruption.kind && $0.level == level && $0.steps == t
              && $0.model == m.label
          }.map { Self.pm($0.accuracy, 3) } ?? "—"
        }
        let modern = "exponential in d for large enough β (Ramsauer et al. 2021, Theorem 3); no closed form at this β"
        table.append([m.label, m.model == "modern" ? modern : cap] + cells)
      }
      out += table.lines
    }
    return out
  }

  /// Writes `report.md`, `results.csv`, `results.json` and the figures into `folder`, each
  /// atomically. Returns the file names written.
  @discardableResult
  public func write(to folder: URL) throws(StudyRunError) -> [String] {
    var written: [String] = []
    var figures: [String] = []
    if loadSweep != nil {
      for c in study.corruptions {
        let name = "accuracy-vs-load-\(c.kind).svg"
        let url = folder.appendingPathComponent(name)
        let svg: String
        do { svg = try accuracyByLoadChart(corruption: c).svg() } catch {
          throw .writeFailed(path: url.path, reason: "\(error)")
        }
        try writeAtomically(Data(svg.utf8), to: url)
        figures.append(name)
      }
    }
    // A load sweep draws the per-level figures at its reference load only.
    let pictured = referenceLoad.map { [$0] } ?? study.datasets
    for d in pictured {
      let prefix = study.datasets.count > 1 ? slug(d.label) + "-" : ""
      for c in study.corruptions {
        let charts = [
          ("\(prefix)accuracy-\(c.kind).svg", accuracyByLevelChart(dataset: d.label, corruption: c.kind)),
          ("\(prefix)accuracy-vs-steps-\(c.kind).svg", accuracyByStepsChart(dataset: d.label, corruption: c)),
        ]
        for (name, chart) in charts where c.levels.count > 1 || name.contains("vs-steps") {
          let url = folder.appendingPathComponent(name)
          let svg: String
          do { svg = try chart.svg() } catch { throw .writeFailed(path: url.path, reason: "\(error)") }
          try writeAtomically(Data(svg.utf8), to: url)
          figures.append(name)
        }
      }
    }
    try writeAtomically(Data(markdown(figures: figures).utf8), to: folder.appendingPathComponent("report.md"))
    try writeAtomically(Data(csv.utf8), to: folder.appendingPathComponent("results.csv"))
    try writeAtomically(canonicalJSON(self, pretty: true), to: folder.appendingPathComponent("results.json"))
    written += ["report.md", "results.csv", "results.json"] + figures
    return written
  }

  /// The report with every time set to 0 (to compare runs).
  public var withoutTimings: StudyReport {
    var copy = self
    copy.cells = cells.map(\.withoutTimings)
    copy.cellSeconds = 0
    for k in copy.rows.indices { copy.rows[k].microsecondsPerQuery = MeanAndStandardError([0])! }
    return copy
  }
}

func csvField(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

func slug(_ s: String) -> String {
  String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
}
