import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorPlots
import Foundation

/// Tables (Markdown, CSV, JSON) and SVG figures of an ``IterativeAttentionSecondTest`` run.
///
/// Every number comes from ``IterativeAttentionSecondTest/Results``: accuracy in percent as
/// mean ± standard error over the seeds. The objective is named in every row.
public struct IterativeAttentionSecondTestReport: Sendable {
  public let results: IterativeAttentionSecondTest.Results

  public init(results: IterativeAttentionSecondTest.Results) {
    self.results = results
  }

  typealias Test = IterativeAttentionSecondTest
  typealias First = IterativeAttentionReport

  var settingNames: [String] {
    var names: [String] = []
    for r in results.results where !names.contains(r.setting) { names.append(r.setting) }
    return names
  }

  /// (objective, model) rows of a setting in run order, the untrained baseline first.
  func rows(_ setting: String) -> [(objective: String, model: String)] {
    var out: [(String, String)] = []
    for r in results.results where r.setting == setting && !out.contains(where: { $0 == (r.objective, r.model) }) {
      out.append((r.objective, r.model))
    }
    return out
  }

  func cells(_ setting: String, _ objective: String, _ model: String) -> [Test.ModelResult] {
    results.results.filter { $0.setting == setting && $0.objective == objective && $0.model == model }
  }

  func accuracy(_ rs: [Test.ModelResult], _ c: Corruption, step t: Int) -> MeanAndStandardError? {
    MeanAndStandardError(
      rs.compactMap { r in
        r.curves.first { $0.corruption == c }.map { 100 * $0.accuracy[min(t, $0.accuracy.count - 1)] }
      })
  }

  func long(_ rs: [Test.ModelResult], sigmaIndex i: Int) -> MeanAndStandardError? {
    MeanAndStandardError(rs.compactMap { i < $0.longAccuracy.count ? 100 * $0.longAccuracy[i] : nil })
  }

  var steps: Int { results.settings.steps }
  var longSteps: Int { results.settings.longSteps }

  static func label(_ objective: String, _ model: String) -> String {
    objective == "none" ? model : "\(objective) · \(model)"
  }

  // MARK: Tables

  /// Accuracy at T = 0, 1, 5, 10 and T_long at one noise level (paper's Table 1 numbers beside).
  public func stepTable(setting: String, sigma: Double) -> (markdown: String, rows: [[String]]) {
    let c = Corruption.gaussianNoise(sigma: sigma)
    let ts = [0, 1, min(5, steps), steps]
    let sigmaIndex = results.settings.noiseLevels.firstIndex(of: sigma)
    let header = [
      "Objective · model", "T = 0 (cue)", "T = 1", "T = \(ts[2])", "T = \(ts[3])", "T = \(longSteps)",
      "Δ (T = \(steps) − T = 1)", "paper T = 1 / 5 / 10",
    ]
    var table: [[String]] = []
    for (objective, model) in rows(setting) {
      let rs = cells(setting, objective, model)
      let stats = ts.map { accuracy(rs, c, step: $0) }
      guard stats[1] != nil else { continue }
      let paper = sigma == 0.3 && objective != "none" ? First.paperTable1[model]?.joined(separator: " / ") ?? "" : ""
      table.append(
        [Self.label(objective, model)] + stats.map { First.text($0) }
          + [sigmaIndex.map { First.text(long(rs, sigmaIndex: $0)) } ?? "—", First.delta(stats[1], stats[3]), paper])
    }
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// Accuracy at T = 0, 1, 5 and 10 under every noise level, per objective and model: mean ±
  /// standard error over the seeds, one row per (objective · model, σ).
  public func noiseStepTable(setting: String) -> (markdown: String, rows: [[String]]) {
    let ts = [0, 1, min(5, steps), steps]
    let header = [
      "Objective · model", "σ", "T = 0 (cue)", "T = 1", "T = \(ts[2])", "T = \(ts[3])", "Δ (T = \(steps) − T = 1)",
    ]
    var table: [[String]] = []
    for (objective, model) in rows(setting) {
      let rs = cells(setting, objective, model)
      for sigma in results.settings.noiseLevels {
        let stats = ts.map { accuracy(rs, .gaussianNoise(sigma: sigma), step: $0) }
        guard stats[1] != nil else { continue }
        table.append(
          [Self.label(objective, model), String(format: "%g", sigma)] + stats.map { First.text($0) }
            + [First.delta(stats[1], stats[3])])
      }
    }
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// Every corruption: T = 1 → T = 10 per objective and model (means over seeds).
  public func corruptionTable(setting: String) -> (markdown: String, rows: [[String]]) {
    let s = results.settings
    let corruptions: [Corruption] =
      s.noiseLevels.map { .gaussianNoise(sigma: $0) } + s.maskLevels.map { .mask(fraction: $0) }
      + s.overlapLevels.map { .overlap(alpha: $0) }
    let rowNames = rows(setting)
    let header =
      ["Corruption", "cue (T = 0)"] + rowNames.map { "\(Self.label($0.objective, $0.model)): T = 1 → \(steps)" }
    var table: [[String]] = []
    for c in corruptions {
      guard let first = rowNames.first else { break }
      var row = [c.description, First.text(accuracy(cells(setting, first.objective, first.model), c, step: 0))]
      for (objective, model) in rowNames {
        let rs = cells(setting, objective, model)
        let a = accuracy(rs, c, step: 1), b = accuracy(rs, c, step: steps)
        row.append(a == nil || b == nil ? "—" : String(format: "%.1f → %.1f", a!.mean, b!.mean))
      }
      table.append(row)
    }
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// The noise level at which an accuracy curve over σ (ascending levels) falls to 50 %, by linear
  /// interpolation; nil if it never does within the levels (">" the last level).
  static func halfLevel(_ levels: [Double], _ accuracy: [Double]) -> String {
    guard let firstAccuracy = accuracy.first else { return "—" }
    if firstAccuracy < 50 { return "< \(levels[0])" }
    for i in 1..<levels.count where accuracy[i] < 50 {
      let (x0, x1, y0, y1) = (levels[i - 1], levels[i], accuracy[i - 1], accuracy[i])
      return String(format: "%.2f", x0 + (y0 - 50) / (y0 - y1) * (x1 - x0))
    }
    return "> \(levels.last!)"
  }

  /// Basins: accuracy at T = 1 and after T_long steps over the noise levels, and σ½ of each.
  public func basinTable(setting: String) -> (markdown: String, rows: [[String]]) {
    let levels = results.settings.noiseLevels
    let header =
      ["Objective · model", "σ½ at T = 1", "σ½ at T = \(longSteps)"]
      + levels.map { "σ = \($0): T = 1 → \(longSteps)" }
    var table: [[String]] = []
    for (objective, model) in rows(setting) {
      let rs = cells(setting, objective, model)
      let one = levels.map { accuracy(rs, .gaussianNoise(sigma: $0), step: 1)?.mean ?? .nan }
      let far = levels.indices.map { long(rs, sigmaIndex: $0)?.mean ?? .nan }
      table.append(
        [Self.label(objective, model), Self.halfLevel(levels, one), Self.halfLevel(levels, far)]
          + zip(one, far).map { String(format: "%.1f → %.1f", $0, $1) })
    }
    let cue = levels.map { sigma -> Double in
      let anyRow = rows(setting).first
      return anyRow.flatMap { accuracy(cells(setting, $0.objective, $0.model), .gaussianNoise(sigma: sigma), step: 0) }?
        .mean ?? .nan
    }
    table.insert(
      ["cue (T = 0)", Self.halfLevel(levels, cue), "—"] + cue.map { String(format: "%.1f", $0) }, at: 0)
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// Where the trained stacks go from the clean targets.
  public func fixedPointTable(setting: String) -> (markdown: String, rows: [[String]]) {
    let header = [
      "Objective · model", "converged (%)", "nearest the target (%)", "single-pattern at the target (%)",
      "mean cos(end, target)", "ρ(J) at end states: median [min, max]",
    ]
    var table: [[String]] = []
    for (objective, model) in rows(setting) {
      let fs = cells(setting, objective, model).compactMap(\.fixedPoints)
      guard !fs.isEmpty else { continue }
      let radii = fs.flatMap(\.spectralRadii).sorted()
      let radiusText =
        radii.isEmpty
        ? "—"
        : String(format: "%.3f [%.3f, %.3f]", radii[radii.count / 2], radii.first!, radii.last!)
      table.append([
        Self.label(objective, model), First.text(MeanAndStandardError(fs.map { 100 * $0.converged })),
        First.text(MeanAndStandardError(fs.map { 100 * $0.atTarget })),
        First.text(MeanAndStandardError(fs.map { 100 * $0.singlePattern })),
        First.text(MeanAndStandardError(fs.map(\.meanCosine)), digits: 3), radiusText,
      ])
    }
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// Training: epochs run, kept epoch, how it stopped, validation loss and seconds, per cell.
  public func trainingTable() -> (markdown: String, rows: [[String]]) {
    let header = [
      "Setting", "Objective · model", "Seed", "Epochs run", "Kept epoch", "Stopped by", "Validation loss before",
      "Validation loss kept", "Change over the last 5 epochs (%)", "Seconds",
    ]
    var table: [[String]] = []
    for r in results.results {
      guard let h = r.history else { continue }
      table.append([
        r.setting, Self.label(r.objective, r.model), "\(r.seed)", "\(h.validationLoss.count)", "\(h.bestEpoch)",
        h.stoppedEarly ? "patience" : "epoch cap (\(results.settings.maxEpochs))",
        String(format: "%.4f", h.initialValidationLoss),
        String(
          format: "%.4f",
          h.bestEpoch >= 1 && h.bestEpoch <= h.validationLoss.count
            ? h.validationLoss[h.bestEpoch - 1] : h.initialValidationLoss),
        Self.recentChange(h.validationLoss), String(format: "%.0f", r.seconds),
      ])
    }
    return (First.markdownTable(header: header, rows: table), [header] + table)
  }

  /// The relative change of the best validation loss over the last five epochs, in percent: how
  /// much a run that reached its epoch cap was still improving.
  static func recentChange(_ losses: [Double]) -> String {
    guard losses.count > 5 else { return "—" }
    let before = losses.dropLast(5).min()!, after = losses.min()!
    return String(format: "%+.2f", 100 * (after - before) / abs(before))
  }

  // MARK: Figures

  func stepChart(setting: String, sigma: Double) -> LineChart {
    let c = Corruption.gaussianNoise(sigma: sigma)
    var chart = LineChart(
      title: "\(setting): accuracy against iterations, σ = \(sigma)", xLabel: "iteration t (0 = the cue)",
      yLabel: "retrieval accuracy (%)")
    chart.yRange = 0...100
    for (objective, model) in rows(setting) {
      let rs = cells(setting, objective, model)
      let points = (0...steps).compactMap { t in
        accuracy(rs, c, step: t).map { DataPoint(x: Double(t), y: $0.mean, error: $0.standardError) }
      }
      if !points.isEmpty {
        chart.series.append(
          Series(name: Self.label(objective, model), points: points, dashed: objective == "regression"))
      }
    }
    return chart
  }

  func basinChart(setting: String) -> LineChart {
    let levels = results.settings.noiseLevels
    var chart = LineChart(
      title: "\(setting): accuracy against noise, T = 1 (dashed) and T = \(longSteps) (solid)", xLabel: "noise σ",
      yLabel: "retrieval accuracy (%)")
    chart.yRange = 0...100
    for (objective, model) in rows(setting) where objective != "none" {
      let rs = cells(setting, objective, model)
      let one = levels.compactMap { s in
        accuracy(rs, .gaussianNoise(sigma: s), step: 1).map { DataPoint(x: s, y: $0.mean, error: $0.standardError) }
      }
      let far = levels.indices.compactMap { i in
        long(rs, sigmaIndex: i).map { DataPoint(x: levels[i], y: $0.mean, error: $0.standardError) }
      }
      chart.series.append(Series(name: Self.label(objective, model) + ", T = 1", points: one, dashed: true))
      chart.series.append(Series(name: Self.label(objective, model) + ", T = \(longSteps)", points: far))
    }
    return chart
  }

  /// The learning curves of the first seed: validation loss after each epoch divided by the loss
  /// before training (log scale), one line per objective · model, so that a run still falling at its
  /// epoch cap and one that flattened out before patience stopped it are told apart at a glance.
  func learningCurveChart(setting: String) -> LineChart {
    var chart = LineChart(
      title: "\(setting): validation loss ÷ loss before training, seed \(results.settings.seeds.first ?? 0)",
      xLabel: "epoch", yLabel: "relative validation loss")
    chart.yScale = .logarithmic
    for (objective, model) in rows(setting) where objective != "none" {
      guard let r = cells(setting, objective, model).first(where: { $0.seed == results.settings.seeds.first }),
        let h = r.history, h.initialValidationLoss > 0
      else { continue }
      let points = h.validationLoss.enumerated().compactMap { e, loss in
        loss > 0 && loss.isFinite ? DataPoint(x: Double(e + 1), y: loss / h.initialValidationLoss) : nil
      }
      chart.series.append(
        Series(
          name: Self.label(objective, model), points: points, dashed: objective == "regression", showsMarkers: false))
    }
    return chart
  }

  // MARK: Writing

  public func writeResults(to directory: URL, name: String = "results.json") throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try JSONCoding.encode(results).write(to: directory.appendingPathComponent(name), options: .atomic)
  }

  static func slug(_ s: String) -> String {
    String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
  }

  /// Writes README.md, the tables as CSV, results.json and the SVG figures.
  public func write(to directory: URL) throws {
    try writeResults(to: directory)
    func put(_ text: String, _ name: String) throws {
      try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
    }
    var figures: [String] = []
    func chart(_ c: LineChart, _ name: String) throws {
      guard c.series.contains(where: { !$0.points.isEmpty }) else { return }
      try c.write(to: directory.appendingPathComponent(name), width: 1000, height: 560)
      figures.append(name)
    }
    for setting in settingNames {
      let slug = Self.slug(setting)
      try put(First.csv(stepTable(setting: setting, sigma: 0.3).rows), "steps-\(slug).csv")
      try put(First.csv(corruptionTable(setting: setting).rows), "corruptions-\(slug).csv")
      try put(First.csv(noiseStepTable(setting: setting).rows), "noise-steps-\(slug).csv")
      try put(First.csv(basinTable(setting: setting).rows), "basins-\(slug).csv")
      try put(First.csv(fixedPointTable(setting: setting).rows), "fixed-points-\(slug).csv")
      try chart(stepChart(setting: setting, sigma: 0.3), "steps-\(slug)-sigma0.3.svg")
      try chart(basinChart(setting: setting), "basins-\(slug).svg")
      try chart(learningCurveChart(setting: setting), "learning-curves-\(slug).svg")
    }
    try put(First.csv(trainingTable().rows), "training.csv")
    try put(markdown(figures: figures), "README.md")
  }

  /// What the command prints: the σ = 0.3 table of every setting.
  public var summaryMarkdown: String {
    settingNames.map { setting in
      "\(setting), σ = 0.3: accuracy (%), mean ± s.e. over \(results.settings.seeds.count) seed(s)\n\n"
        + stepTable(setting: setting, sigma: 0.3).markdown
    }.joined(separator: "\n")
  }

  func markdown(figures: [String]) -> String {
    let s = results.settings
    var out = """
      # Iterative attention, second test (issue 17)

      Generated by `\(results.command)` in \(String(format: "%.0f", results.seconds)) s \
      (\(String(format: "%.1f", results.seconds / 60)) min) with \(results.threads) OpenBLAS thread(s). Every number \
      below comes from `results.json` in this folder. Accuracy: the nearest stored pattern by cosine similarity is \
      the target; mean ± standard error over seeds \(s.seeds.map(String.init).joined(separator: ", ")).

      **Objectives** (named in every row): `retrieval` — cross-entropy of the last layer's attention weights \
      averaged over heads, −log p̄[target], with the mixture readout f(q) = p̄ V (one step returns a convex mixture \
      of the stored patterns); `regression` — ½‖f(q) − target‖² after one step (the first test's objective); \
      `unrolled-k` — ½‖fᵏ(q) − target‖² after k unrolled steps (departs from seed 000, which trains one step). \
      `none` rows are untrained attention (one head, identity projections, β = 1/√d on the data).

      **Models.** \(s.models.map { "\($0.name) (\($0.layers) layers × \($0.heads) heads)" }.joined(separator: ", ")), \
      all of width \(s.syntheticWidth) on Synthetic and \(s.mnistWidth) on MNIST (seed 000's widths 128 and 256 do \
      not fit the time budget of one shared core); \
      \(s.blockModels.joined(separator: " and ")) have residual connections, pre-LayerNorm and a GELU feed-forward \
      sublayer of \(s.feedForwardFactor) × width in every layer (under the mixture readout the last layer's \
      output is p̄ V). Projections start at identity + N(0, 0.02²), with W_K (and W_Q where the queries are not \
      layer-normalised) at I/c for patterns of scale c, so that every setting starts from the logits of c = 1\
      \(s.zeroResidualBranches ? "; the residual branches start at zero (attention W_O = 0 and feed-forward W₂ = 0), so that every block starts as the identity" : "; the residual branches start at W_O = identity + N(0, 0.02²) and feed-forward W₂ ~ N(0, 1/fan_in)"). \
      AdamW (weight decay \(s.weightDecay), \
      learning rate \(s.syntheticPlainLearningRate) for the models without blocks and \(s.syntheticLearningRate) for \
      \(s.blockModels.joined(separator: " and ")) on Synthetic, \(s.mnistLearningRate) on MNIST; \
      \(s.finalLearningRateFraction < 1 ? "cosine decay to \(s.finalLearningRateFraction)× over the \(s.maxEpochs)-epoch cap" : "constant")), \
      batch \(s.batchSize), early stopping on the objective's validation loss: training stops after \(s.patience) \
      epochs in which the loss did not fall below \(s.minimumImprovement > 0 ? "(1 − \(s.minimumImprovement)) × " : "")the \
      loss at the last restart of patience, keeping the epoch of the lowest loss (at most \(s.maxEpochs) epochs; \
      the training table says how each run stopped, and the learning-curve figures show the validation loss per \
      epoch). Training corruptions as in the first test, drawn afresh each epoch, with noise \
      σ ~ U[0, \(s.trainingNoiseFactor) c] for pattern scale c.

      """
    if let c = results.calibration {
      out += """

        **Calibrated scale.** Bisection on log c over [10⁻³, 10] (30 halvings) for Synthetic patterns c·N(0, 1) \
        such that the cue's own nearest-pattern accuracy at σ = \(s.calibrationSigma) equals \
        \(String(format: "%.1f", 100 * s.calibrationTarget)) % (seed 000's one-step Single-Head figure), on \
        \(c.cues) cues (every pattern of seed \(s.seeds[0])'s data noised twice): c* = \
        \(String(format: "%.5f", c.scale)), cue accuracy \(String(format: "%.2f", 100 * c.accuracy)) %. The scale \
        is fixed from the data alone before any training; the literal setting keeps c = 1.

        """
    }
    out += "\n**Data.**\n\n"
    for (name, summary) in results.tasks.sorted(by: { $0.key < $1.key }) {
      let missing = settingNames.contains(name) ? "" : " (no cells of this setting are in these results)"
      out += "- \(name): \(summary)\(missing).\n"
    }
    for setting in settingNames {
      out += "\n## \(setting)\n\n### Accuracy (%) at σ = 0.3 against iterations\n\n"
      out += stepTable(setting: setting, sigma: 0.3).markdown
      let hard = 2.0
      if s.noiseLevels.contains(hard) && setting != Test.mnistName {
        out += "\n### Accuracy (%) at σ = \(hard)\n\n" + stepTable(setting: setting, sigma: hard).markdown
      }
      out +=
        "\n### Basins: accuracy (%) at T = 1 and after T = \(longSteps) steps from noisy cues; σ½ = the noise level "
        + "where accuracy falls to 50 %\n\n" + basinTable(setting: setting).markdown
      out +=
        "\n### Fixed points reached in \(longSteps) steps from the first \(s.fixedPointStarts) clean test targets "
        + "(converged: last step ≤ \(s.tolerance) × ‖target‖; single-pattern: converged, nearest the target, "
        + "cosine ≥ 0.9; ρ(J) at the first \(s.jacobianStarts) end states per seed)\n\n"
        + fixedPointTable(setting: setting).markdown
      out +=
        "\n### Accuracy (%) at T = 0, 1, \(min(5, steps)), \(steps) under every noise level, mean ± s.e. over seeds\n\n"
        + noiseStepTable(setting: setting).markdown
      out +=
        "\n### Every corruption: accuracy (%) at T = 1 → T = \(steps), mean over seeds\n\n"
        + corruptionTable(setting: setting).markdown
    }
    out +=
      "\n## Training\n\nKept epoch 0: no epoch improved on the starting parameters, which are kept (for the block "
      + "models with zero residual branches, the identity map).\n\n" + trainingTable().markdown
    out += "\n## Figures\n\n" + figures.map { "![\($0)](\($0))" }.joined(separator: "\n\n") + "\n"
    return out
  }
}

/// ``IterativeAttentionSecondTest`` run end to end into a report folder
/// (`attractor reproduce iterative-attention-second-test`), with `results.partial.json` kept while
/// it runs.
public struct IterativeAttentionSecondTestReproduction: Sendable {
  public var settings: IterativeAttentionSecondTest.Settings
  public var mnistDirectory: URL
  public var command: String
  public var log: @Sendable (String) -> Void

  public init(
    settings: IterativeAttentionSecondTest.Settings, mnistDirectory: URL, command: String,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.settings = settings
    self.mnistDirectory = mnistDirectory
    self.command = command
    self.log = log
  }

  /// The MNIST files the settings need and the folder lacks.
  public var missingMNISTFiles: [String] {
    settings.includesMNIST ? IterativeAttentionStudy.missingMNISTFiles(in: mnistDirectory) : []
  }

  /// Runs the study and writes the report into `output`.
  public func run(into output: URL) throws -> IterativeAttentionSecondTestReport {
    let missing = missingMNISTFiles
    if !missing.isEmpty {
      throw IterativeAttentionReproductionError.missingMNIST(directory: mnistDirectory.path, files: missing)
    }
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let log = self.log
    let partial = IterativeAttentionReproduction.partialName
    let results = try IterativeAttentionSecondTest(settings: settings, log: log).run(
      mnistDirectory: settings.includesMNIST ? mnistDirectory : nil, command: command,
      checkpoint: { r in
        do { try IterativeAttentionSecondTestReport(results: r).writeResults(to: output, name: partial) } catch {
          log("warning: cannot write \(partial): \(error)")
        }
      })
    try? FileManager.default.removeItem(at: output.appendingPathComponent(partial))
    let report = IterativeAttentionSecondTestReport(results: results)
    try report.writeResults(to: output)
    try report.write(to: output)
    return report
  }

  /// Re-renders the report of an earlier run from its `results.json`.
  public static func render(resultsFile: URL, into output: URL) throws -> IterativeAttentionSecondTestReport {
    try render(resultsFiles: [resultsFile], into: output)
  }

  /// Renders one report from the `results.json` of several runs that differ only in their seeds
  /// (for example one process per seed): see ``merge(_:)``.
  public static func render(resultsFiles: [URL], into output: URL) throws -> IterativeAttentionSecondTestReport {
    var parts: [IterativeAttentionSecondTest.Results] = []
    for file in resultsFiles {
      do {
        parts.append(
          try JSONCoding.decoder().decode(IterativeAttentionSecondTest.Results.self, from: Data(contentsOf: file)))
      } catch {
        throw IterativeAttentionReproductionError.unreadableResults(
          path: file.path, reason: decodingErrorSummary(error))
      }
    }
    let results = try merge(parts)
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let report = IterativeAttentionSecondTestReport(results: results)
    try report.writeResults(to: output)
    try report.write(to: output)
    return report
  }

  /// The results of several runs as one run: runs of other seeds (for example one process per
  /// seed) or of other parts of the grid (`--skip-synthetic`, `--skip-mnist`, `--skip-literal`,
  /// `--configs`, `--objectives`). The merged results hold the cells of all of them unchanged
  /// (ordered by seed, then by part), the seeds, settings run and configurations joined, the
  /// commands joined by " && ", the seconds added (the processes' own wall times; they may have
  /// run at the same time). One part is returned unchanged.
  ///
  /// Everything else must agree: sizes, training settings, corruptions, steps and the
  /// calibration. An untrained baseline (objective `none`) that two parts measured for the same
  /// setting and seed must be identical but for its time, and is kept once.
  ///
  /// - Throws: ``IterativeAttentionReproductionError/unreadableResults(path:reason:)`` if those
  ///   settings or the calibrations differ, a configuration name means two different models, or
  ///   a trained cell (setting, objective, configuration, seed) occurs twice.
  public static func merge(_ parts: [IterativeAttentionSecondTest.Results]) throws
    -> IterativeAttentionSecondTest.Results
  {
    guard var merged = parts.first else {
      throw IterativeAttentionReproductionError.unreadableResults(path: "(none)", reason: "no results to merge")
    }
    if parts.count == 1 { return merged }
    typealias Settings = IterativeAttentionSecondTest.Settings
    /// The settings without the choice of the grid's part.
    func withoutGrid(_ s: Settings) -> Settings {
      var t = s
      t.seeds = []
      t.includesSynthetic = nil
      t.includesLiteralScale = false
      t.includesMNIST = false
      t.models = []
      t.objectives = []
      t.otherObjectives = []
      t.unrolledModels = nil
      t.literalModels = nil
      t.mnistModels = nil
      return t
    }
    func union<T: Equatable>(_ a: [T], _ b: [T]) -> [T] { a + b.filter { !a.contains($0) } }
    func unionOfFilters(_ a: [String]?, _ b: [String]?) -> [String]? {
      guard let a, let b else { return nil }
      return union(a, b)
    }
    struct Cell: Hashable {
      var setting: String, objective: String, model: String, seed: UInt64
    }
    func cell(_ r: IterativeAttentionSecondTest.ModelResult) -> Cell {
      Cell(setting: r.setting, objective: r.objective, model: r.model, seed: r.seed)
    }
    func timeless(_ r: IterativeAttentionSecondTest.ModelResult) -> IterativeAttentionSecondTest.ModelResult {
      var t = r
      t.seconds = 0
      return t
    }
    var seen = Dictionary(merged.results.map { (cell($0), $0) }, uniquingKeysWith: { a, _ in a })
    var parts = parts
    parts[0].results = []
    for (index, part) in parts.enumerated() where index > 0 {
      guard withoutGrid(part.settings) == withoutGrid(merged.settings), part.calibration == merged.calibration
      else {
        throw IterativeAttentionReproductionError.unreadableResults(
          path: part.command,
          reason:
            "settings or calibration differ from the first run's (only the seeds and the part of the grid may)")
      }
      for spec in part.settings.models {
        if let other = merged.settings.models.first(where: { $0.name == spec.name }), other != spec {
          throw IterativeAttentionReproductionError.unreadableResults(
            path: part.command, reason: "configuration \(spec.name) differs from the first run's")
        }
      }
      var kept: [IterativeAttentionSecondTest.ModelResult] = []
      for r in part.results {
        if let earlier = seen[cell(r)] {
          if r.objective == "none" && timeless(earlier) == timeless(r) { continue }
          throw IterativeAttentionReproductionError.unreadableResults(
            path: part.command,
            reason: "cell \(r.setting) · \(r.objective) · \(r.model) · seed \(r.seed) occurs in another run too")
        }
        seen[cell(r)] = r
        kept.append(r)
      }
      parts[index].results = kept
      var s = merged.settings
      s.seeds = union(s.seeds, part.settings.seeds)
      s.includesSynthetic = s.runsSynthetic || part.settings.runsSynthetic
      s.includesLiteralScale = s.includesLiteralScale || part.settings.includesLiteralScale
      s.includesMNIST = s.includesMNIST || part.settings.includesMNIST
      s.models = union(s.models, part.settings.models)
      s.objectives = union(s.objectives, part.settings.objectives)
      s.otherObjectives = union(s.otherObjectives, part.settings.otherObjectives)
      s.unrolledModels = unionOfFilters(s.unrolledModels, part.settings.unrolledModels)
      s.literalModels = unionOfFilters(s.literalModels, part.settings.literalModels)
      s.mnistModels = unionOfFilters(s.mnistModels, part.settings.mnistModels)
      merged.settings = s
      merged.tasks.merge(part.tasks) { a, _ in a }
      merged.seconds += part.seconds
      merged.command += " && " + part.command
    }
    let all = parts.enumerated().flatMap { index, part in
      index == 0 ? merged.results.map { (0, $0) } : part.results.map { (index, $0) }
    }
    merged.results = all.enumerated().sorted {
      ($0.element.1.seed, $0.offset) < ($1.element.1.seed, $1.offset)
    }.map(\.element.1)
    merged.settings.seeds.sort()
    return merged
  }
}
