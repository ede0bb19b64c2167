import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorPlots
import Foundation

/// The report of ``InContextDenoisingReproduction``: Markdown with the paper's numbers beside ours,
/// CSV tables, `results.json`, and SVG figures (MSE against descent steps, σ_Z² and L; the trained
/// weight matrices as heat maps).
public struct InContextDenoisingReport: Sendable {
  /// The results rendered.
  public let results: InContextDenoisingReproduction.Results

  /// A report of `results`.
  public init(results: InContextDenoisingReproduction.Results) { self.results = results }

  typealias R = InContextDenoisingReproduction

  func g(_ x: Double?, _ digits: Int = 4) -> String { NumberFormat.general(x, significant: digits) }
  func pm(_ e: R.Estimate) -> String { "\(g(e.mse)) ± \(g(e.standardError, 2))" }

  func run(_ name: String) -> R.TrainedRun? { results.runs.first { $0.name == name } }

  /// The weights table: ⟨w_KQ⟩, ⟨w_PV⟩, spreads, product; the paper's values beside.
  public var weightsTable: MarkdownTable {
    var t = MarkdownTable(
      header: [
        "run", "⟨w_KQ⟩ (β)", "⟨w_PV⟩ (α)", "⟨w_KQ⟩⟨w_PV⟩", "diag spread KQ / PV", "off-diag RMS KQ / PV",
        "paper", "theory",
      ], leftColumns: 1)
    let s2 = results.families.first?.task
    for r in results.runs {
      let st = r.structure
      var paper = "", theory = ""
      switch r.name {
      case "linear-subspace":
        paper = "⟨w_KQ⟩⟨w_PV⟩ = 0.327"
        if let s2 { theory = "1/(σ₀²+σ_Z²) = \(g(1 / (s2.signalVariance + s2.noiseVariance)))" }
      case "softmax-subspace": paper = "β ≈ 0.194, α ≈ 1.607 (αβ ≈ 0.312)"
      case "softmax-mixture": paper = "α ≈ 1, β ≈ 5.127"
      case "softmax-spheres": paper = "scaled identities, near-optimal MSE"
      default: break
      }
      t.append([
        r.name, g(st.keyQuery.diagonalMean), g(st.projectionValue.diagonalMean), g(st.product),
        "\(g(st.keyQuery.diagonalSpread, 2)) / \(g(st.projectionValue.diagonalSpread, 2))",
        "\(g(st.keyQuery.offDiagonalRMS, 2)) / \(g(st.projectionValue.offDiagonalRMS, 2))", paper, theory,
      ])
    }
    return t
  }

  /// One row per family: every denoiser's MSE on the held-out prompts.
  public var comparisonTable: MarkdownTable {
    var t = MarkdownTable(
      header: [
        "task", "noisy query", "nearest token", "fixed point of E", "one step on E (α, β)", "trained softmax",
        "trained linear", "in-context", "Bayes",
      ], leftColumns: 1)
    for f in results.families {
      let c = f.comparison
      t.append([
        f.task.description, pm(c.query), pm(c.nearestToken), pm(c.fixedPoint), pm(c.oneStep), pm(c.trained),
        f.linearTrained.map(pm) ?? "–", pm(c.inContext), pm(c.bayes),
      ])
    }
    return t
  }

  func sweepTable(_ points: [R.SweepPoint], parameter: String) -> MarkdownTable {
    var t = MarkdownTable(
      header: [
        "family", parameter, "trained softmax", "one step (α, β)", "fixed point", "nearest token", "in-context",
        "Bayes", "α", "β",
      ], leftColumns: 1)
    for p in points {
      let c = p.comparison
      t.append([
        p.family.rawValue, g(p.value), pm(c.trained), pm(c.oneStep), pm(c.fixedPoint), pm(c.nearestToken),
        pm(c.inContext), pm(c.bayes), g(c.alpha), g(c.beta),
      ])
    }
    return t
  }

  /// The fixed-point analyses, one row per prompt.
  public var analysisTable: MarkdownTable {
    var t = MarkdownTable(
      header: [
        "task", "prompt", "fixed points (by class)", "k₉₀ at x̃", "‖x̃−x‖²", "‖one step−x‖²", "‖reached−x‖²",
        "E(x̃)", "E(one step)", "E(reached)", "one step → nearest fixed point",
      ], leftColumns: 1)
    for a in results.analyses {
      let classes = a.countByClass.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        .joined(separator: ", ")
      t.append([
        a.family.rawValue, "\(a.prompt)", classes, "\(a.queryK)", g(a.querySquaredError), g(a.oneStepSquaredError),
        g(a.reachedSquaredError), g(a.queryEnergy), g(a.oneStepEnergy), g(a.reachedEnergy),
        "\(g(a.oneStepDistanceToNearestFixedPoint, 3)) (\(a.nearestFixedPointLabel))",
      ])
    }
    return t
  }

  /// The short summary printed by the command.
  public var summaryMarkdown: String {
    (["## Trained weights", ""] + weightsTable.lines + ["", "## MSE on held-out prompts", ""] + comparisonTable.lines)
      .joined(separator: "\n")
  }

  /// Plain statements of where the numbers agree with the paper (computed from the results).
  public var agreement: [String] {
    var out: [String] = []
    if let lin = run("linear-subspace"), let task = results.families.first?.task {
      let theory = 1 / (task.signalVariance + task.noiseVariance)
      let rel = lin.structure.product / theory - 1
      out.append(
        "Linear attention, subspace task: ⟨w_KQ⟩⟨w_PV⟩ = \(g(lin.structure.product)) against the paper's 0.327 and "
          + "1/(σ₀²+σ_Z²) = \(g(theory)) (\(g(rel * 100, 2)) % from theory).")
    }
    if let sm = run("softmax-subspace") {
      let a = sm.structure.projectionValue.diagonalMean, b = sm.structure.keyQuery.diagonalMean
      let mirrored =
        a < 0 && b < 0
        ? " Training ended on the mirrored branch (both means negative): (W_KQ, W_PV) → (−W_KQ, −W_PV) gives the "
          + "same output on the mirrored context −X, which has the same law for this task, so |α|, |β| are compared."
        : ""
      out.append(
        "Softmax attention, subspace task: β = \(g(abs(b))), α = \(g(abs(a))) (αβ = \(g(a * b))) against the paper's "
          + "β ≈ 0.194, α ≈ 1.607 (αβ ≈ 0.312). In the small-β regime only the product αβ is pinned by the task "
          + "(α Xᵀ softmax(βXx̃) ≈ α x̄ + αβ Σ̂ x̃), so α and β separately are a weaker comparison than αβ."
          + mirrored)
    }
    if let mx = run("softmax-mixture") {
      out.append(
        "Softmax attention, mixture task: α = \(g(mx.structure.projectionValue.diagonalMean)), β = "
          + "\(g(mx.structure.keyQuery.diagonalMean)) against the paper's α ≈ 1, β ≈ 5.127.")
    }
    if let f = results.families.first(where: { $0.task.family == .spheres }) {
      let c = f.comparison
      out.append(
        "Spheres: trained softmax MSE \(pm(c.trained)) against Bayes \(pm(c.bayes)) "
          + "(\(g((c.trained.mse / c.bayes.mse - 1) * 100, 2)) % above the optimum).")
    }
    for f in results.families {
      let c = f.comparison
      let better = c.oneStep.mse < c.fixedPoint.mse && c.oneStep.mse < c.nearestToken.mse
      out.append(
        "\(f.task.family.rawValue): one step on E \(g(c.oneStep.mse)) "
          + (better ? "beats" : "does not beat") + " both the fixed point it reaches (\(g(c.fixedPoint.mse))) "
          + "and exact retrieval of the nearest token (\(g(c.nearestToken.mse))).")
    }
    return out
  }

  /// The README.
  public var markdown: String {
    let s = results.settings
    var lines = [
      "# In-context denoising (seed 001): reproduction report",
      "",
      "Smart, Bietti & Sengupta, \"In-context denoising with one-layer transformers: connections between "
        + "attention and associative memory retrieval\" (arXiv:2502.05164). Produced by `\(results.command)` "
        + "in \(g(results.seconds, 3)) s (\(results.blasThreads) BLAS thread\(results.blasThreads == 1 ? "" : "s")). Every number below is in "
        + "`results.json`; MSE is ‖estimate − x‖² summed over coordinates, averaged over \(s.evaluationPrompts) "
        + "held-out prompts (± one standard error).",
      "",
      "Settings: n = \(s.dimension), d = \(s.subspaceDimension), p = \(s.centreCount), L = \(s.contextLength); "
        + "training \(s.steps) steps of \(s.batchSize) fresh prompts (Adam, η = \(s.learningRate), cosine decay), "
        + "sweeps retrain softmax attention for \(s.sweepSteps) steps per condition; seed \(s.seed).",
      "",
      "## Where we agree with the paper",
      "",
    ]
    lines += agreement.map { "- " + $0 }
    lines += ["", "## Trained weights", ""] + weightsTable.lines
    lines += [
      "",
      "α = ⟨w_PV⟩ and β = ⟨w_KQ⟩ are the mean diagonals; spreads and off-diagonal RMS say how far the matrices "
        + "are from scaled identities. Heat maps: `weights-<run>-KQ.svg`, `weights-<run>-PV.svg`.",
      "", "## One step against many (held-out prompts)", "",
    ]
    lines += comparisonTable.lines
    lines += [
      "",
      "\"one step on E\" is softmax attention with W_KQ = βI, W_PV = αI (the trained α, β): one gradient step "
        + "of size α on E from x̃. \"fixed point of E\" iterates that step from x̃ until it stops moving "
        + "(step ≤ 1e-10·max(1, α), at most \(s.fixedPointSteps) steps). Descent curves: `steps-<task>.svg`, "
        + "`descent.csv`.",
      "",
    ]
    for f in results.families {
      let d = f.descent
      let picks = [0, 1, 2, 5, 10, 20, 50].filter { $0 < d.count }
      lines.append(
        "- \(f.task.family.rawValue): MSE after k steps: "
          + picks.map { "k=\($0): \(g(d[$0].mse))" }.joined(separator: ", ")
          + "; fixed point \(g(f.comparison.fixedPoint.mse)) (converged for "
          + "\(g(f.comparison.fixedPointConvergedShare * 100, 3)) % of prompts).")
    }
    lines += ["", "## Against σ_Z² (`noise-<task>.svg`)", ""] + sweepTable(results.noiseSweep, parameter: "σ_Z²").lines
    lines += ["", "## Against L (`context-<task>.svg`)", ""] + sweepTable(results.contextSweep, parameter: "L").lines
    lines += [
      "", "## Fixed points of the context energy", "",
      "FixedPointAnalyzer on E for \(s.analysedPrompts) prompt(s) per task, with the trained α, β: starts at "
        + "every context token, pair and triple mixtures, the mean, random states, x̃, the one-step estimate and "
        + "the clean x; fixed points classified by their attention weights (k = tokens carrying 90 % of the "
        + "weight) and the Hessian of E. `fixed-points.csv` lists every fixed point.",
      "",
    ]
    lines += analysisTable.lines
    lines += [
      "",
      "## Files",
      "",
      "`results.json` (everything), `weights.csv`, `comparison.csv`, `descent.csv`, `sweeps.csv`, "
        + "`fixed-points.csv`, `training.csv` (validation loss along training), and the SVG figures.",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  func csv(_ header: [String], _ rows: [[String]]) -> String {
    ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
  }

  func e(_ x: Double?) -> String { x.map { String($0) } ?? "" }

  /// Writes README.md, results.json, the CSV tables and the figures into `folder` (atomically).
  public func write(to folder: URL) throws {
    func put(_ text: String, _ name: String) throws {
      try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent(name))
    }
    try AtomicFile.write(try JSONCoding.encode(results), to: folder.appendingPathComponent("results.json"))
    try put(markdown, "README.md")
    try put(
      csv(
        [
          "run", "kq_diagonal_mean", "pv_diagonal_mean", "product", "kq_diagonal_spread", "pv_diagonal_spread",
          "kq_offdiagonal_rms", "pv_offdiagonal_rms", "seconds",
        ],
        results.runs.map {
          [
            $0.name, e($0.structure.keyQuery.diagonalMean), e($0.structure.projectionValue.diagonalMean),
            e($0.structure.product), e($0.structure.keyQuery.diagonalSpread),
            e($0.structure.projectionValue.diagonalSpread), e($0.structure.keyQuery.offDiagonalRMS),
            e($0.structure.projectionValue.offDiagonalRMS), e($0.seconds),
          ]
        }), "weights.csv")
    let methods = ["query", "nearest_token", "fixed_point", "one_step", "trained", "in_context", "bayes"]
    func values(_ c: R.Comparison) -> [R.Estimate] {
      [c.query, c.nearestToken, c.fixedPoint, c.oneStep, c.trained, c.inContext, c.bayes]
    }
    try put(
      csv(
        ["family", "alpha", "beta"] + methods.flatMap { [$0, $0 + "_se"] },
        results.families.map { f in
          [f.task.family.rawValue, e(f.comparison.alpha), e(f.comparison.beta)]
            + values(f.comparison).flatMap { [e($0.mse), e($0.standardError)] }
        }), "comparison.csv")
    try put(
      csv(
        ["family", "k", "mse", "se"],
        results.families.flatMap { f in
          f.descent.enumerated().map {
            [f.task.family.rawValue, "\($0.offset)", e($0.element.mse), e($0.element.standardError)]
          }
        }), "descent.csv")
    try put(
      csv(
        ["sweep", "family", "value", "alpha", "beta"] + methods.flatMap { [$0, $0 + "_se"] },
        [("noise", results.noiseSweep), ("context", results.contextSweep)].flatMap { name, points in
          points.map { p in
            [name, p.family.rawValue, e(p.value), e(p.comparison.alpha), e(p.comparison.beta)]
              + values(p.comparison).flatMap { [e($0.mse), e($0.standardError)] }
          }
        }), "sweeps.csv")
    try put(
      csv(
        [
          "family", "prompt", "label", "k", "energy", "min_hessian_eigenvalue", "squared_error", "distance_to_query",
          "basin_share",
        ],
        results.analyses.flatMap { a in
          a.fixedPoints.map {
            [
              a.family.rawValue, "\(a.prompt)", $0.label, "\($0.k)", e($0.energy), e($0.minHessianEigenvalue),
              e($0.squaredError), e($0.distanceToQuery), e($0.basinShare),
            ]
          }
        }), "fixed-points.csv")
    try put(
      csv(
        ["run", "step", "training_loss", "validation_loss"],
        results.runs.flatMap { r in
          r.history.steps.indices.map {
            [r.name, "\(r.history.steps[$0])", e(r.history.trainingLoss[$0]), e(r.history.validationLoss[$0])]
          }
        }), "training.csv")
    try writeFigures(to: folder)
  }

  func flat(_ name: String, _ y: Double, _ x0: Double, _ x1: Double) -> Series {
    Series(name: name, points: [DataPoint(x: x0, y: y), DataPoint(x: x1, y: y)], dashed: true, showsMarkers: false)
  }

  func writeFigures(to folder: URL) throws {
    for f in results.families {
      let family = f.task.family.rawValue
      let c = f.comparison
      let kMax = Double(f.descent.count - 1)
      var chart = LineChart(
        title: "\(family): MSE after k steps of descent on E (α = \(g(c.alpha, 3)), β = \(g(c.beta, 3)))",
        xLabel: "steps k (k = 0: the noisy query)", yLabel: "MSE")
      chart.series = [
        Series(
          name: "k steps on E",
          points: f.descent.enumerated().map {
            DataPoint(x: Double($0.offset), y: $0.element.mse, error: $0.element.standardError)
          }),
        flat("fixed point of E", c.fixedPoint.mse, 0, kMax), flat("nearest token", c.nearestToken.mse, 0, kMax),
        flat("trained softmax", c.trained.mse, 0, kMax), flat("in-context", c.inContext.mse, 0, kMax),
        flat("Bayes", c.bayes.mse, 0, kMax),
      ]
      chart.yScale = .logarithmic
      try chart.write(to: folder.appendingPathComponent("steps-\(family).svg"))
      for (points, name, label, logX) in [
        (results.noiseSweep, "noise", "noise variance σ_Z²", true),
        (results.contextSweep, "context", "context length L", true),
      ] {
        let mine = points.filter { $0.family == f.task.family }.sorted { $0.value < $1.value }
        guard !mine.isEmpty else { continue }
        var sweep = LineChart(title: "\(family): MSE against \(label)", xLabel: label, yLabel: "MSE")
        func series(_ title: String, _ key: KeyPath<R.Comparison, R.Estimate>, dashed: Bool = false) -> Series {
          Series(
            name: title,
            points: mine.map {
              DataPoint(
                x: $0.value, y: $0.comparison[keyPath: key].mse, error: $0.comparison[keyPath: key].standardError)
            },
            dashed: dashed)
        }
        sweep.series = [
          series("trained softmax", \.trained), series("one step (α, β)", \.oneStep, dashed: true),
          series("fixed point of E", \.fixedPoint), series("nearest token", \.nearestToken),
          series("in-context", \.inContext, dashed: true), series("Bayes", \.bayes),
        ]
        if logX { sweep.xScale = .logarithmic }
        sweep.yScale = .logarithmic
        try sweep.write(to: folder.appendingPathComponent("\(name)-\(family).svg"))
      }
    }
    for r in results.runs {
      for (matrix, label) in [(r.keyQuery, "KQ"), (r.projectionValue, "PV")] {
        var map = Heatmap(title: "\(r.name): W_\(label)", values: matrix)
        map.rowLabels = (1...matrix.count).map(String.init)
        map.columnLabels = map.rowLabels
        map.valueLabel = "W_\(label)"
        try map.write(to: folder.appendingPathComponent("weights-\(r.name)-\(label).svg"))
      }
    }
  }
}
