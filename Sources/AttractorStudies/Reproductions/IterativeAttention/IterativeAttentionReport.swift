import AttractorCore
import AttractorExperiments
import AttractorPlots
import Foundation

/// Tables (Markdown, CSV, JSON) and SVG figures of an ``IterativeAttentionStudy`` run, with seed
/// 000's published numbers beside ours.
///
/// Every number in the report is computed from ``IterativeAttentionStudy/Results``: accuracy in
/// percent as mean ± standard error over the seeds (``/AttractorExperiments/MeanAndStandardError``; no error with one
/// seed). The paper's numbers are quoted from its Tables 1–3 for comparison only.
public struct IterativeAttentionReport: Sendable {
  public let results: IterativeAttentionStudy.Results

  public init(results: IterativeAttentionStudy.Results) {
    self.results = results
  }

  typealias Study = IterativeAttentionStudy

  // MARK: The paper's numbers (seed 000, Tables 1–3), for comparison.

  /// Table 1: accuracy (%) at σ = 0.3 for one step, five and ten iterations.
  public static let paperTable1: [String: [String]] = [
    "Single-Head": ["68.2 ± 0.5", "79.4 ± 0.6", "82.1 ± 0.4"],
    "Transformer-Small": ["72.3 ± 0.4", "84.7 ± 0.5", "88.2 ± 0.3"],
    "Transformer-Medium": ["73.6 ± 0.3", "86.9 ± 0.4", "90.1 ± 0.3"],
  ]
  /// Table 2: accuracy (%) and steps to converge of the classical network, single-step attention
  /// and iterative attention with T = 5 and T = 10 (the rows of Table 2 in the report, in this order).
  public static let paperTable2: [(model: String, accuracy: String, steps: String)] = [
    ("Classical Hopfield", "62.4", "15"), ("Single-Step Attention", "72.3", "1"),
    ("Iterative Attention (T=5)", "84.7", "5"), ("Iterative Attention (T=10)", "88.2", "10"),
  ]
  /// Table 3: single step and ten iterations (%).
  public static let paperTable3: [String: (String, String)] = [
    "heads 1": ("68.2", "82.1"), "heads 4": ("72.3", "88.2"), "heads 8": ("73.6", "90.1"),
    "layers 1": ("68.2", "82.1"), "layers 2": ("72.3", "88.2"), "layers 4": ("73.6", "90.1"),
    "τ = 0.5": ("70.1", "85.3"), "τ = 1.0": ("72.3", "88.2"), "τ = 2.0": ("69.8", "84.7"),
  ]

  // MARK: Statistics

  var taskNames: [String] {
    ["Synthetic-Gaussian", "MNIST-PCA"].filter { name in results.curves.contains { $0.task == name } }
  }

  var modelNames: [String] {
    [Study.untrainedName] + results.settings.models.map(\.name) + [Study.classicalName]
  }

  func curves(_ source: [Study.Curve], task: String, model: String, corruption: Corruption) -> [Study.Curve] {
    source.filter { $0.task == task && $0.model == model && $0.corruption == corruption }
  }

  /// Accuracy (%) at step t over seeds; t beyond a curve's end uses its last value.
  func accuracy(_ source: [Study.Curve], task: String, model: String, corruption: Corruption, step t: Int)
    -> MeanAndStandardError?
  {
    let cs = curves(source, task: task, model: model, corruption: corruption)
    return MeanAndStandardError(cs.map { 100 * $0.accuracy[min(t, $0.accuracy.count - 1)] })
  }

  func final(_ source: [Study.Curve], task: String, model: String, corruption: Corruption) -> MeanAndStandardError? {
    let cs = curves(source, task: task, model: model, corruption: corruption)
    return MeanAndStandardError(cs.map { 100 * ($0.accuracy.last ?? 0) })
  }

  static func text(_ m: MeanAndStandardError?, digits: Int = 1) -> String {
    guard let m else { return "—" }
    let mean = String(format: "%.\(digits)f", m.mean)
    guard let se = m.standardError else { return mean }
    return mean + " ± " + String(format: "%.\(digits)f", se)
  }

  static func delta(_ a: MeanAndStandardError?, _ b: MeanAndStandardError?) -> String {
    guard let a, let b else { return "—" }
    return String(format: "%+.1f", b.mean - a.mean)
  }

  var hardNoise: Double { results.settings.hardNoise }

  var steps: Int { results.settings.steps }

  // MARK: Tables

  /// Table 1 for one task and noise level: T = 0, 1, 5, 10 (clamped to the study's T) and Δ.
  func table1(task: String, sigma: Double, withPaper: Bool) -> (markdown: String, rows: [[String]]) {
    let c = Corruption.gaussianNoise(sigma: sigma)
    let ts = [0, 1, min(5, steps), steps]
    var header = ["Model", "T = 0 (cue)", "T = 1", "T = \(ts[2])", "T = \(ts[3])", "Δ (T = \(steps) − T = 1)"]
    if withPaper { header += ["paper T = 1", "paper T = 5", "paper T = 10"] }
    var rows: [[String]] = []
    for model in modelNames {
      let stats = ts.map { accuracy(results.curves, task: task, model: model, corruption: c, step: $0) }
      guard stats[1] != nil else { continue }
      var row = [model == Study.classicalName ? model + " (T = sweeps)" : model] + stats.map { Self.text($0) }
      row.append(Self.delta(stats[1], stats[3]))
      if withPaper { row += Self.paperTable1[model] ?? ["", "", ""] }
      rows.append(row)
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  /// Table 2: the classical network against Transformer-Small at σ = 0.3.
  func table2(task: String) -> (markdown: String, rows: [[String]]) {
    let c = Corruption.gaussianNoise(sigma: 0.3)
    let header = [
      "Model", "Accuracy (%)", "Steps run", "Steps to converge (mean over converged)", "Converged (%)",
      "paper accuracy",
      "paper steps",
    ]
    var rows: [[String]] = []
    let classical = curves(results.curves, task: task, model: Study.classicalName, corruption: c)
    if !classical.isEmpty {
      rows.append([
        "Classical Hopfield (asynchronous)",
        Self.text(final(results.curves, task: task, model: Study.classicalName, corruption: c)),
        "≤ \(results.settings.classicalSweeps) sweeps",
        Self.text(MeanAndStandardError(classical.compactMap(\.meanStepsToConverge))),
        Self.text(MeanAndStandardError(classical.map { 100 * $0.convergedFraction })),
        Self.paperTable2[0].accuracy, Self.paperTable2[0].steps,
      ])
    }
    let small = IterativeAttentionStudy.ModelSpec.small.name
    let smallCurves = curves(results.curves, task: task, model: small, corruption: c)
    if !smallCurves.isEmpty {
      let rowsSpec: [(label: String, steps: Int, paper: Int)] = [
        ("Single-step attention (Transformer-Small, T = 1)", 1, 1),
        ("Iterative attention (T = \(min(5, steps)))", min(5, steps), 2),
        ("Iterative attention (T = \(steps))", steps, 3),
      ]
      for (label, t, paperRow) in rowsSpec {
        let (paperAccuracy, paperSteps) = (Self.paperTable2[paperRow].accuracy, Self.paperTable2[paperRow].steps)
        let last = t == steps
        rows.append([
          label, Self.text(accuracy(results.curves, task: task, model: small, corruption: c, step: t)), "\(t)",
          last ? Self.text(MeanAndStandardError(smallCurves.compactMap(\.meanStepsToConverge))) : "—",
          last ? Self.text(MeanAndStandardError(smallCurves.map { 100 * $0.convergedFraction })) : "—", paperAccuracy,
          paperSteps,
        ])
      }
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

  /// Table 3: ablations around Transformer-Small on the Synthetic task.
  func table3() -> (markdown: String, rows: [[String]]) {
    let task = "Synthetic-Gaussian"
    let lo = Corruption.gaussianNoise(sigma: 0.3), hi = Corruption.gaussianNoise(sigma: hardNoise)
    let header = [
      "Variation", "σ = 0.3, T = 1", "σ = 0.3, T = \(steps)", "σ = \(hardNoise), T = 1",
      "σ = \(hardNoise), T = \(steps)",
      "Δ at σ = \(hardNoise)", "paper single step", "paper Iter-10",
    ]
    var rows: [[String]] = []
    var names: [String] = []
    for c in results.ablationCurves where !names.contains(c.model) { names.append(c.model) }
    for name in names {
      let a = accuracy(results.ablationCurves, task: task, model: name, corruption: lo, step: 1)
      let b = accuracy(results.ablationCurves, task: task, model: name, corruption: lo, step: steps)
      let c = accuracy(results.ablationCurves, task: task, model: name, corruption: hi, step: 1)
      let d = accuracy(results.ablationCurves, task: task, model: name, corruption: hi, step: steps)
      let paper = Self.paperTable3[name] ?? ("", "")
      rows.append([name, Self.text(a), Self.text(b), Self.text(c), Self.text(d), Self.delta(c, d), paper.0, paper.1])
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  /// Accuracy at T = 0, 1 and T for every corruption of a task.
  func corruptionTable(task: String) -> (markdown: String, rows: [[String]]) {
    var corruptions: [Corruption] = []
    for c in results.curves where c.task == task && !corruptions.contains(c.corruption) {
      corruptions.append(c.corruption)
    }
    let models = modelNames.filter { m in results.curves.contains { $0.task == task && $0.model == m } }
    let header = ["Corruption", "cue (T = 0)"] + models.map { "\($0): T = 1 → \(steps)" }
    var rows: [[String]] = []
    for c in corruptions {
      var row = [
        c.description,
        Self.text(accuracy(results.curves, task: task, model: Study.untrainedName, corruption: c, step: 0)),
      ]
      for m in models {
        let a = accuracy(results.curves, task: task, model: m, corruption: c, step: 1)
        let b = accuracy(results.curves, task: task, model: m, corruption: c, step: steps)
        row.append(a == nil ? "—" : String(format: "%.1f → %.1f", a!.mean, b!.mean))
      }
      rows.append(row)
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  func memoryTable() -> (markdown: String, rows: [[String]]) {
    let points = results.memorySizes
    var models: [String] = []
    for p in points where !models.contains(p.model) { models.append(p.model) }
    var levels: [Corruption] = []
    for p in points where !levels.contains(p.corruption) { levels.append(p.corruption) }
    var header = ["M"]
    for c in levels { for m in models { header.append("\(m), σ = \(c.level ?? 0): T = 1 → \(steps)") } }
    var rows: [[String]] = []
    for size in results.settings.memorySizes {
      var row = ["\(size)"]
      for c in levels {
        for m in models {
          let ps = points.filter { $0.memorySize == size && $0.model == m && $0.corruption == c }
          let a = MeanAndStandardError(ps.map { 100 * $0.accuracy[min(1, $0.accuracy.count - 1)] })
          let b = MeanAndStandardError(ps.map { 100 * ($0.accuracy.last ?? 0) })
          row.append(a == nil ? "—" : String(format: "%.1f → %.1f", a!.mean, b!.mean))
        }
      }
      rows.append(row)
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  func costTable() -> (markdown: String, rows: [[String]]) {
    let header = ["Model", "T", "batch", "M", "ms per query", "× T = 1", "OpenBLAS threads"]
    var rows: [[String]] = []
    for p in results.costs {
      let base = results.costs.first { $0.model == p.model && $0.steps == 1 }?.secondsPerQuery
      rows.append([
        p.model, "\(p.steps)", "\(p.batch)", "\(p.memorySize)", String(format: "%.4f", 1000 * p.secondsPerQuery),
        base.map { String(format: "%.2f", p.secondsPerQuery / $0) } ?? "—", "\(p.threads)",
      ])
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  func trainingTable() -> (markdown: String, rows: [[String]]) {
    let header = [
      "Task", "Model", "Seed", "Epochs run", "Kept epoch", "Validation loss before", "Validation loss kept",
      "Stopped by",
      "Seconds",
    ]
    let rows = results.trainings.map { r in
      [
        r.task, r.model.name, "\(r.seed)", "\(r.history.validationLoss.count)", "\(r.history.bestEpoch)",
        String(format: "%.4f", r.history.initialValidationLoss),
        String(format: "%.4f", r.history.validationLoss.min() ?? r.history.initialValidationLoss),
        r.history.stoppedEarly
          ? "patience"
          : (r.history.bestEpoch == r.history.validationLoss.count ? "epoch cap (still improving)" : "epoch cap"),
        String(format: "%.0f", r.seconds),
      ]
    }
    return (Self.markdownTable(header: header, rows: rows), [header] + rows)
  }

  static func markdownTable(header: [String], rows: [[String]]) -> String {
    var lines = [
      "| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|",
    ]
    for r in rows {
      lines.append("| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func csv(_ rows: [[String]]) -> String {
    rows.map { row in
      row.map { cell in
        cell.contains(",") || cell.contains("\"")
          ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
      }.joined(separator: ",")
    }.joined(separator: "\n") + "\n"
  }

  /// Every curve in long form: one row per (task, model, seed, corruption, t).
  var curvesCSV: String {
    var rows = [
      [
        "task", "model", "seed", "corruption", "level", "t", "accuracy", "mean_energy", "mean_step_size",
        "converged_fraction_at_T",
      ]
    ]
    for c in results.curves + results.ablationCurves {
      for t in 0..<c.accuracy.count {
        rows.append([
          c.task, c.model, "\(c.seed)", c.corruption.kind.rawValue, c.corruption.level.map { "\($0)" } ?? "", "\(t)",
          "\(c.accuracy[t])", c.meanEnergy.map { "\($0[t])" } ?? "", t == 0 ? "" : "\(c.meanStepSize[t - 1])",
          "\(c.convergedFraction)",
        ])
      }
    }
    return Self.csv(rows)
  }

  // MARK: Figures

  func accuracyChart(task: String, sigma: Double) -> LineChart {
    let c = Corruption.gaussianNoise(sigma: sigma)
    var chart = LineChart(
      title: "\(task): accuracy against iterations, σ = \(sigma)", xLabel: "iteration t (0 = the cue)",
      yLabel: "retrieval accuracy (%)")
    chart.yRange = 0...100
    for model in modelNames where model != Study.classicalName {
      let points = (0...steps).compactMap { t -> DataPoint? in
        accuracy(results.curves, task: task, model: model, corruption: c, step: t).map {
          DataPoint(x: Double(t), y: $0.mean, error: $0.standardError)
        }
      }
      if !points.isEmpty { chart.series.append(Series(name: model, points: points)) }
    }
    return chart
  }

  func dynamicsCharts(task: String, model: String) -> (energy: LineChart, steps: LineChart) {
    var energy = LineChart(
      title: "\(task), \(model): diagnostic energy E(q_t)", xLabel: "iteration t",
      yLabel: "mean E(q) = −log Σ exp(q·k/√d)")
    var size = LineChart(title: "\(task), \(model): update size", xLabel: "iteration t", yLabel: "mean ‖q_t − q_(t−1)‖")
    size.yScale = .logarithmic
    for sigma in results.settings.noiseLevels {
      let cs = curves(results.curves, task: task, model: model, corruption: .gaussianNoise(sigma: sigma))
      guard !cs.isEmpty else { continue }
      let e = (0...steps).compactMap { t -> DataPoint? in
        let values = cs.compactMap { $0.meanEnergy?[t] }
        return values.isEmpty ? nil : DataPoint(x: Double(t), y: mean(values))
      }
      if !e.isEmpty { energy.series.append(Series(name: "σ = \(sigma)", points: e)) }
      let s = (1...steps).compactMap { t -> DataPoint? in
        let v = mean(cs.map { $0.meanStepSize[t - 1] })
        return v > 0 && v.isFinite ? DataPoint(x: Double(t), y: v) : nil
      }
      if !s.isEmpty { size.series.append(Series(name: "σ = \(sigma)", points: s)) }
    }
    return (energy, size)
  }

  func corruptionChart(task: String, kind: Corruption.Kind) -> LineChart {
    let label =
      switch kind {
      case .noise: "noise σ"
      case .mask: "masked fraction"
      case .overlap: "overlap α (weight of the target)"
      default: "level"
      }
    var chart = LineChart(
      title: "\(task): accuracy against corruption (solid T = 1, dashed T = \(steps))", xLabel: label,
      yLabel: "retrieval accuracy (%)")
    chart.yRange = 0...100
    var levels: [Double] = []
    for c in results.curves where c.task == task && c.corruption.kind == kind {
      if let l = c.corruption.level, !levels.contains(l) { levels.append(l) }
    }
    levels.sort()
    let shown = [Study.untrainedName, IterativeAttentionStudy.ModelSpec.small.name, Study.classicalName]
    for model in modelNames where shown.contains(model) || results.settings.models.count == 1 {
      appendStepSeries(to: &chart, model: model) { t in
        levels.compactMap { level -> DataPoint? in
          accuracy(results.curves, task: task, model: model, corruption: Corruption(kind: kind, level: level), step: t)
            .map { DataPoint(x: level, y: $0.mean, error: $0.standardError) }
        }
      }
    }
    return chart
  }

  func memoryChart() -> LineChart {
    var chart = LineChart(
      title: "Synthetic-Gaussian: accuracy against memory size, σ = \(hardNoise)", xLabel: "stored patterns M",
      yLabel: "retrieval accuracy (%)")
    chart.yRange = 0...100
    chart.xScale = .logarithmic
    var models: [String] = []
    for p in results.memorySizes where !models.contains(p.model) { models.append(p.model) }
    for model in models {
      appendStepSeries(to: &chart, model: model) { t in
        results.settings.memorySizes.compactMap { m -> DataPoint? in
          let ps = results.memorySizes.filter {
            $0.model == model && $0.memorySize == m && $0.corruption == .gaussianNoise(sigma: hardNoise)
          }
          return MeanAndStandardError(ps.map { 100 * $0.accuracy[min(t, $0.accuracy.count - 1)] })
            .map { DataPoint(x: Double(m), y: $0.mean, error: $0.standardError) }
        }
      }
    }
    return chart
  }

  /// Adds `model`'s series at T = 1 (solid) and T = `steps` (dashed), each made by `points(T)`;
  /// an empty one is left out.
  private func appendStepSeries(to chart: inout LineChart, model: String, points: (Int) -> [DataPoint]) {
    for (t, dashed) in [(1, false), (steps, true)] {
      let points = points(t)
      if !points.isEmpty { chart.series.append(Series(name: "\(model), T = \(t)", points: points, dashed: dashed)) }
    }
  }

  func costChart() -> LineChart {
    var chart = LineChart(
      title: "Inference time against iterations (Synthetic-Gaussian memory)", xLabel: "iterations T",
      yLabel: "ms per query")
    var models: [String] = []
    for p in results.costs where !models.contains(p.model) { models.append(p.model) }
    for model in models {
      let points = results.costs.filter { $0.model == model }.map {
        DataPoint(x: Double($0.steps), y: 1000 * $0.secondsPerQuery)
      }
      chart.series.append(Series(name: model, points: points))
    }
    return chart
  }

  // MARK: Writing

  /// Writes `results.json` (everything measured), or another `name`, atomically.
  public func writeResults(to directory: URL, name: String = "results.json") throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try JSONCoding.encode(results).write(to: directory.appendingPathComponent(name), options: .atomic)
  }

  /// Writes the report (README.md), the tables as CSV, results.json and the SVG figures.
  public func write(to directory: URL) throws {
    try writeResults(to: directory)
    func put(_ text: String, _ name: String) throws {
      try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
    }
    var figures: [String] = []
    func chart(_ c: LineChart, _ name: String) throws {
      guard c.series.contains(where: { !$0.points.isEmpty }) else { return }
      try c.write(to: directory.appendingPathComponent(name), width: 900, height: 480)
      figures.append(name)
    }
    for task in taskNames {
      let slug = task.lowercased()
      try put(Self.csv(table1(task: task, sigma: 0.3, withPaper: true).rows), "table1-\(slug).csv")
      try put(Self.csv(table1(task: task, sigma: hardNoise, withPaper: false).rows), "table1-hard-\(slug).csv")
      try put(Self.csv(table2(task: task).rows), "table2-\(slug).csv")
      try put(Self.csv(corruptionTable(task: task).rows), "corruptions-\(slug).csv")
      try chart(accuracyChart(task: task, sigma: 0.3), "figure1-\(slug)-sigma0.3.svg")
      try chart(accuracyChart(task: task, sigma: hardNoise), "figure1-\(slug)-sigma\(hardNoise).svg")
      let small =
        results.settings.models.first { $0.name == IterativeAttentionStudy.ModelSpec.small.name }?.name
        ?? results.settings.models[0].name
      let dyn = dynamicsCharts(task: task, model: small)
      try chart(dyn.energy, "figure3-energy-\(slug).svg")
      try chart(dyn.steps, "figure3-update-\(slug).svg")
      for kind in [Corruption.Kind.noise, .mask, .overlap] {
        try chart(corruptionChart(task: task, kind: kind), "corruption-\(kind.rawValue)-\(slug).svg")
      }
    }
    if !results.ablationCurves.isEmpty { try put(Self.csv(table3().rows), "table3.csv") }
    if !results.memorySizes.isEmpty {
      try put(Self.csv(memoryTable().rows), "memory-size.csv")
      try chart(memoryChart(), "memory-size.svg")
    }
    if !results.costs.isEmpty {
      try put(Self.csv(costTable().rows), "inference-cost.csv")
      try chart(costChart(), "inference-cost.svg")
    }
    try put(Self.csv(trainingTable().rows), "training.csv")
    try put(curvesCSV, "curves.csv")
    try put(markdown(figures: figures), "README.md")
  }

  /// Table 1 of each task (what the command prints).
  public var summaryMarkdown: String {
    taskNames.map { task in
      "Table 1, \(task), σ = 0.3: accuracy (%), mean ± standard error over \(results.settings.seeds.count) seed(s)\n\n"
        + table1(task: task, sigma: 0.3, withPaper: true).markdown
        + "\nSame at σ = \(hardNoise) (beyond the paper's range)\n\n"
        + table1(task: task, sigma: hardNoise, withPaper: false).markdown
    }.joined(separator: "\n")
  }

  func markdown(figures: [String]) -> String {
    let s = results.settings
    var out = """
      # Iterative attention at test time (seed 000), reproduced

      Generated by `\(results.command)` in \(String(format: "%.0f", results.seconds)) s \
      (\(String(format: "%.1f", results.seconds / 60)) min) with \(results.threads) OpenBLAS thread(s). Every number below \
      comes from `results.json` in this folder; the paper's numbers are quoted beside ours for comparison.

      **What the models are trained to do** (the paper does not say): map a corrupted cue to its clean stored \
      pattern in ONE application of the stack (loss ½‖f(q) − target‖²); one corruption per training query, \
      drawn afresh each epoch: Gaussian noise σ ~ U[0, \(s.trainingNoiseMax)], masking of a fraction ~ U[0, 0.9], \
      or overlap α ~ U[0.5, 1] with another stored pattern. Projections start at identity + N(0, 0.02²). AdamW \
      (learning rate \(s.learningRate) with cosine decay to \(s.finalLearningRateFraction)× over the epochs, weight decay \(s.weightDecay)), batch \(s.batchSize), at most \(s.epochs) epochs, \
      early stopping with patience \(s.patience). At test time the stack is iterated, q_(t+1) = f(q_t), with fixed \
      parameters; T = 0 is the corrupted cue itself. Accuracy: the nearest stored pattern by cosine similarity is the \
      target. Seeds: \(s.seeds.map(String.init).joined(separator: ", ")) (each redraws data, initialisation, training \
      order and corruptions). Converged: a step ‖q_t − q_(t−1)‖ ≤ \(s.tolerance).

      **Data.**

      """
    for (name, summary) in results.tasks.sorted(by: { $0.key > $1.key }) { out += "- \(name): \(summary).\n" }
    for task in taskNames {
      out +=
        "\n## \(task)\n\n### Table 1: accuracy (%) at σ = 0.3\n\n"
        + table1(task: task, sigma: 0.3, withPaper: true).markdown
      out +=
        "\n### Table 1, harder: σ = \(hardNoise) (beyond the paper's levels)\n\n"
        + table1(task: task, sigma: hardNoise, withPaper: false).markdown
      out +=
        "\n### Table 2: against the classical Hopfield network (σ = 0.3; patterns and cues binarised by sign, masked coordinates kept at 0)\n\n"
        + table2(task: task).markdown
      out +=
        "\n### Every corruption: accuracy (%) at T = 1 → T = \(steps), mean over seeds\n\n"
        + corruptionTable(task: task).markdown
    }
    if !results.ablationCurves.isEmpty {
      out += "\n## Table 3: ablations around Transformer-Small (Synthetic-Gaussian)\n\n" + table3().markdown
    }
    if !results.memorySizes.isEmpty {
      out +=
        "\n## A.2: memory size (Synthetic-Gaussian; the trained Transformer-Small's projections over sub-memories)\n\n"
        + memoryTable().markdown
    }
    if !results.costs.isEmpty {
      out += "\n## A.3: inference time against iterations (median of 3)\n\n" + costTable().markdown
    }
    out += "\n## Training\n\n" + trainingTable().markdown
    out += "\n## Figures\n\n" + figures.map { "![\($0)](\($0))" }.joined(separator: "\n\n") + "\n"
    return out
  }
}

extension IterativeAttentionStudy {
  /// The MNIST IDX files not present in `directory`.
  public static func missingMNISTFiles(in directory: URL) -> [String] {
    MNIST.missingFiles(in: directory)
  }
}
