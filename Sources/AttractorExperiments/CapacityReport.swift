import AttractorCore
import AttractorPlots
import Foundation

/// The record of a capacity scan: configuration, one curve per (model, N), and how long it took.
public struct CapacityReport: Sendable, Equatable, Codable {
  /// Version of the tool that produced the report.
  public var version: String
  public var experiment: CapacityExperiment
  public var models: [CapacityModel]
  public var curves: [CapacityCurve]
  /// Worker threads used by the dynamics.
  public var threads: Int
  /// Wall time of the whole scan, in seconds.
  public var seconds: Double

  public init(
    version: String, experiment: CapacityExperiment, models: [CapacityModel], curves: [CapacityCurve], threads: Int,
    seconds: Double
  ) {
    self.version = version
    self.experiment = experiment
    self.models = models
    self.curves = curves
    self.threads = threads
    self.seconds = seconds
  }

  /// One CSV row per point: model, N, K, fractions, mean errors, sweeps, time.
  public var csv: String {
    var lines = [
      "model,units,patterns,starts,error_free_fraction,within_max_errors_fraction,max_errors,mean_errors,ended_on_pattern_fraction,converged_fraction,mean_sweeps,unit_updates,seconds,draws,all_error_free_share"
    ]
    for curve in curves {
      for p in curve.points {
        lines.append(
          [
            "\"\(curve.model)\"", "\(p.units)", "\(p.patterns)", "\(p.starts)", "\(p.errorFreeFraction)",
            "\(p.withinMaxErrorsFraction)", "\(experiment.maxErrors)", "\(p.meanErrors)", "\(p.endedOnPatternFraction)",
            "\(p.convergedFraction)", "\(p.meanSweeps)", "\(p.unitUpdates)", String(format: "%.4f", p.seconds),
            "\(p.draws ?? 1)", "\(p.allErrorFreeShare)",
          ].joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The report as JSON (``/AttractorCore/JSONCoding``: pretty, sorted keys, non-finite numbers as strings).
  public func jsonData() throws -> Data {
    try JSONCoding.encode(self)
  }

  /// Recall against K, one line per (model, N): the error-free fraction (solid) and, when
  /// `maxErrors > 0` and there are at most three curves, the within-e fraction (dashed). K on a
  /// log axis when it spans more than 10×.
  public func recallChart(title: String? = nil) -> LineChart {
    let multipleN = Set(curves.map(\.units)).count > 1
    var series: [Series] = []
    for c in curves {
      let name = multipleN ? "\(c.model), N = \(c.units)" : "\(c.model)"
      series.append(
        Series(name: name, points: c.points.map { DataPoint(x: Double($0.patterns), y: $0.errorFreeFraction) }))
      if experiment.maxErrors > 0 && curves.count <= 3 {
        series.append(
          Series(
            name: "\(name), ≤ \(experiment.maxErrors) wrong",
            points: c.points.map { DataPoint(x: Double($0.patterns), y: $0.withinMaxErrorsFraction) },
            dashed: true))
      }
    }
    let ks = curves.flatMap { $0.points.map { Double($0.patterns) } }
    let n = curves.first?.units ?? 0
    var chart = LineChart(
      title: title
        ?? "Recall against K (\(multipleN ? "several N" : "N = \(n)"), \(experiment.start == .random ? "random starts" : "\(experiment.start)"))",
      xLabel: "stored patterns K", yLabel: "fraction of starts ending error-free", series: series)
    if let lo = ks.min(), let hi = ks.max(), lo > 0, hi / lo > 10 { chart.xScale = .logarithmic }
    chart.yRange = 0...1
    return chart
  }

  /// Distribution of the final overlap with the nearest memory, m/N = 1 − 2e/N (e wrong units),
  /// one line per model at the given K (the form of Krotov & Hopfield's Appendix B figure).
  public func histogramChart(patterns k: Int) -> LineChart {
    var series: [Series] = []
    for c in curves {
      guard let p = c.points.first(where: { $0.patterns == k }) else { continue }
      let total = Double(p.starts)
      let points = p.errorHistogram.enumerated().map { e, count in
        DataPoint(x: 1 - 2 * Double(e) / Double(p.units), y: Double(count) / total)
      }
      series.append(Series(name: "\(c.model)", points: points, showsMarkers: false))
    }
    var chart = LineChart(
      title:
        "Final overlap with the nearest memory (N = \(curves.first?.units ?? 0), K = \(k), \(experiment.starts) starts)",
      xLabel: "overlap m/N of the final state with the nearest memory (1 = a memory)", yLabel: "fraction of starts",
      series: series)
    chart.yRange = 0...1
    return chart
  }

  /// K_{1/2} against N for each model, with the formula Nⁿ⁻¹/(2(2n − 3)!! ln N) dashed (for a scan
  /// over several N).
  public func kHalfChart() -> LineChart {
    var series: [Series] = []
    var formulaSeries: [CapacityModel: [DataPoint]] = [:]
    for model in models {
      let cs = curves.filter { $0.model == model }.sorted { $0.units < $1.units }
      series.append(
        Series(
          name: "\(model): K½ measured",
          points: cs.compactMap { c in c.kHalf.map { DataPoint(x: Double(c.units), y: $0) } }))
      if case .rectified = model { continue }
      formulaSeries[model] = cs.compactMap { c in c.formulaKMax.map { DataPoint(x: Double(c.units), y: $0) } }
    }
    for model in models {
      if let points = formulaSeries[model], !points.isEmpty {
        let name = model.degree.map { "N^\($0 - 1)/(2(2·\($0)−3)!! ln N)" } ?? "formula"
        series.append(Series(name: name, points: points, dashed: true, showsMarkers: false))
      }
    }
    return LineChart(
      title: "K½ (half the starts error-free) against N", xLabel: "units N", yLabel: "stored patterns K", series: series
    )
  }

  /// Writes `capacity.csv`, `capacity.json`, `capacity-recall.svg`, (random starts)
  /// `capacity-histogram.svg` at the largest K and (several N) `capacity-khalf.svg` into `directory` (created if needed), each atomically, prefixed with
  /// `prefix`. Returns the paths written.
  @discardableResult
  public func write(to directory: URL, prefix: String = "capacity") throws(CapacityError) -> [URL] {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: directory.path, reason: "\(error)")
    }
    var written: [URL] = []
    func put(_ data: Data, _ name: String) throws(CapacityError) {
      let url = directory.appendingPathComponent(name)
      do { try data.write(to: url, options: .atomic) } catch { throw .writeFailed(path: url.path, reason: "\(error)") }
      written.append(url)
    }
    try put(Data(csv.utf8), "\(prefix).csv")
    let json: Data
    do { json = try jsonData() } catch { throw .writeFailed(path: "\(prefix).json", reason: "\(error)") }
    try put(json, "\(prefix).json")
    func chart(_ c: LineChart, _ name: String) throws(CapacityError) {
      let url = directory.appendingPathComponent(name)
      do { try c.write(to: url) } catch { throw .writeFailed(path: url.path, reason: "\(error)") }
      written.append(url)
    }
    if curves.contains(where: { !$0.points.isEmpty }) { try chart(recallChart(), "\(prefix)-recall.svg") }
    if experiment.start == .random, Set(curves.map(\.units)).count == 1,
      let k = curves.flatMap({ $0.points.map(\.patterns) }).max()
    {
      try chart(histogramChart(patterns: k), "\(prefix)-histogram.svg")
    }
    if Set(curves.map(\.units)).count > 1 && curves.contains(where: { $0.kHalf != nil }) {
      try chart(kHalfChart(), "\(prefix)-khalf.svg")
    }
    return written
  }
}
