import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce iterative-attention-second-test`: `IterativeAttentionSecondTestReproduction`.
public struct ReproduceIterativeAttentionSecondTest: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "iterative-attention-second-test",
    abstract: "Issue 17: a fair second test of seed 000 (objectives, calibrated scale, standard blocks, fixed points).",
    discussion: """
      Trains attention stacks under three objectives (retrieval: cross-entropy of the last layer's \
      head-averaged attention with the mixture readout p̄ V; the one-step regression of the first \
      test; regression after k unrolled steps, which departs from the seed), with residual \
      connections, pre-LayerNorm and feed-forward sublayers for Transformer-Small and -Medium, \
      until early stopping, on Synthetic-Gaussian patterns at a calibrated scale (found by \
      bisection so that the cue alone is 68.2 % right at σ = 0.3) and at the literal scale 1, and \
      on MNIST-PCA; then iterates them at test time (T = 1, 5, 10 and a long run for the basins) \
      and examines the fixed points reached from the targets. Writes README.md, CSV tables, SVG \
      figures and results.json into --output-dir (default \
      report-reproduce-iterative-attention-second-test). Per seed on one thread: the Synthetic settings \
      took about 35 minutes before the block stacks were specialised (not timed since), MNIST-PCA about \
      80 s of CPU; --quick \
      runs a small version in seconds. MNIST needs `python3 Scripts/fetch_mnist.py` first (or \
      --skip-mnist; --skip-synthetic runs MNIST-PCA only). Defaults: at most 300 epochs (--epochs), patience 8 with a minimum relative \
      improvement of 0.005, batch 64, learning rate 0.01 for Single-Head and 0.003 for the block \
      stacks on Synthetic and 0.001 on MNIST (--learning-rate sets all three), residual branches \
      started at zero. Several runs (of other seeds, or other parts of the grid: --skip-synthetic, \
      --skip-mnist, --configs, --objectives) can be rendered into one report: --from-results with \
      their results.json files, comma-separated; no cell may occur in two of them.
      """)

  @Flag(help: "A small version (Synthetic only, small memory, few epochs) for tests and quick looks.")
  var quick = false

  @OptionGroup var output: OutputFolderOptions

  @Option(help: ArgumentHelp("Folder of the MNIST IDX files.", valueName: "dir"))
  var mnist = "Data/mnist"

  @Flag(help: "Run the Synthetic-Gaussian settings only.")
  var skipMNIST = false

  @Flag(
    help: ArgumentHelp(
      "Run MNIST-PCA only (the calibration still runs, so the results merge with a Synthetic run's through "
        + "--from-results)."))
  var skipSynthetic = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Seeds, comma-separated (default 0,1,2; quick 0,1).", valueName: "list"),
    transform: SeedList.parse)
  var seeds: SeedList?

  @OptionGroup var training: TrainingOptions

  @Option(help: ArgumentHelp("Epochs without enough improvement before training stops (default 4).", valueName: "n"))
  var patience: Int?

  @Option(
    help: ArgumentHelp(
      "Relative validation-loss improvement that restarts patience (default 0: any decrease).", valueName: "δ"))
  var minImprovement: Double?

  @Option(
    help: ArgumentHelp(
      "Final learning rate as a fraction of the peak under cosine decay over --epochs; 1 keeps it constant "
        + "(default 0.05).",
      valueName: "f"))
  var finalLearningRateFraction: Double?

  @Option(
    help: ArgumentHelp(
      "Configurations, comma-separated, from single-head, small, medium (default all).", valueName: "list"))
  var configs: String?

  @Option(
    help: ArgumentHelp(
      "Objectives, comma-separated, from retrieval, regression, unrolled-K (default retrieval,regression,unrolled-3 "
        + "at the calibrated scale, retrieval,regression elsewhere).",
      valueName: "list"))
  var objectives: String?

  @Flag(help: "Skip the Synthetic setting at the literal scale 1.")
  var skipLiteral = false

  @Flag(
    inversion: .prefixedNo,
    help: "Start the residual branches of the block models at zero (W_O = 0, feed-forward W₂ = 0; default on).")
  var zeroResidualBranches = true

  @Option(
    help: ArgumentHelp(
      "Re-render the report from the results.json of an earlier run instead of running (several, comma-separated: "
        + "runs of different seeds or parts of the grid, merged).",
      valueName: "files"))
  var fromResults: String?

  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  var commandLine: String {
    var parts = ["attractor reproduce iterative-attention-second-test"]
    if quick { parts.append("--quick") }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    if mnist != "Data/mnist" { parts += ["--mnist", mnist] }
    if skipMNIST { parts.append("--skip-mnist") }
    if skipSynthetic { parts.append("--skip-synthetic") }
    if let seeds { parts += ["--seeds", seeds.defaultValueDescription] }
    parts += training.arguments
    if let patience { parts += ["--patience", "\(patience)"] }
    if let minImprovement { parts += ["--min-improvement", "\(minImprovement)"] }
    if let finalLearningRateFraction { parts += ["--final-learning-rate-fraction", "\(finalLearningRateFraction)"] }
    if let configs { parts += ["--configs", configs] }
    if let objectives { parts += ["--objectives", objectives] }
    if skipLiteral { parts.append("--skip-literal") }
    if !zeroResidualBranches { parts.append("--no-zero-residual-branches") }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  /// The settings these options select.
  func settings(ignoringFilters: Bool = false) -> IterativeAttentionSecondTest.Settings {
    var s = quick ? IterativeAttentionSecondTest.Settings.quick : IterativeAttentionSecondTest.Settings()
    if ignoringFilters { return s }
    if let seeds { s.seeds = seeds.values }
    if let epochs = training.epochs { s.maxEpochs = epochs }
    if let rate = training.learningRate {
      s.syntheticLearningRate = rate
      s.syntheticPlainLearningRate = rate
      s.mnistLearningRate = rate
    }
    if let batch = training.batchSize { s.batchSize = batch }
    if skipMNIST { s.includesMNIST = false }
    if skipSynthetic { s.includesSynthetic = false }
    if skipLiteral { s.includesLiteralScale = false }
    if let patience { s.patience = patience }
    if let minImprovement { s.minimumImprovement = minImprovement }
    if let finalLearningRateFraction { s.finalLearningRateFraction = finalLearningRateFraction }
    s.zeroResidualBranches = zeroResidualBranches
    if let configs {
      let names = Self.configurationNames(configs)
      s.models = s.models.filter { names.contains($0.name) }
    }
    if let objectives {
      let list = objectives.split(separator: ",").compactMap {
        IterativeAttentionObjective(name: $0.trimmingCharacters(in: .whitespaces))
      }
      s.objectives = list
      s.otherObjectives = list
    }
    return s
  }

  /// The configuration names of a `--configs` list: `single-head`, `small`, `medium` (as
  /// `train iterative-attention --config`), or the names the tables print.
  static func configurationNames(_ list: String) -> [String] {
    list.split(separator: ",").map {
      switch $0.trimmingCharacters(in: .whitespaces).lowercased() {
      case "single-head": "Single-Head"
      case "small", "transformer-small": "Transformer-Small"
      case "medium", "transformer-medium": "Transformer-Medium"
      default: $0.trimmingCharacters(in: .whitespaces)
      }
    }
  }

  public func validate() throws {
    if skipMNIST && skipSynthetic {
      throw ValidationError("--skip-mnist and --skip-synthetic together leave no setting to run")
    }
    if quick && skipSynthetic {
      throw ValidationError("--quick runs the Synthetic settings only; it cannot be combined with --skip-synthetic")
    }
    if let patience, patience < 1 { throw ValidationError("--patience must be at least 1, got \(patience)") }
    if let minImprovement, !(minImprovement >= 0 && minImprovement < 1) {
      throw ValidationError("--min-improvement must be in [0, 1), got \(minImprovement)")
    }
    if let f = finalLearningRateFraction, !(f > 0 && f <= 1) {
      throw ValidationError("--final-learning-rate-fraction must be in (0, 1], got \(f)")
    }
    let known = settings(ignoringFilters: true)
    if let configs {
      for name in Self.configurationNames(configs) where !known.models.contains(where: { $0.name == name }) {
        throw ValidationError("--configs: unknown configuration '\(name)' (single-head, small, medium)")
      }
    }
    if let objectives {
      for name in objectives.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
      where IterativeAttentionObjective(name: name) == nil {
        throw ValidationError("--objectives: unknown objective '\(name)' (retrieval, regression, unrolled-K)")
      }
    }
  }

  public func run() throws {
    execution.apply()
    let reproduction = IterativeAttentionSecondTestReproduction(
      settings: settings(), mnistDirectory: URL(fileURLWithPath: mnist), command: commandLine,
      log: { printToStandardError($0) })
    let missing = reproduction.missingMNISTFiles
    if fromResults == nil && !missing.isEmpty {
      throw CommandFailure(
        "MNIST files are missing in \(mnist): \(missing.joined(separator: ", ")). Fetch them with "
          + "`python3 Scripts/fetch_mnist.py`, point --mnist at their folder, or pass --skip-mnist.")
    }
    let resultsFiles = fromResults.map { $0.split(separator: ",").map { URL(fileURLWithPath: String($0)) } } ?? []
    for file in resultsFiles {
      if let problem = fileProblem(at: file) {
        throw CommandFailure("cannot read --from-results \(file.path): \(problem)")
      }
    }
    let folder = try output.createFolder(defaultName: "reproduce-iterative-attention-second-test")
    let report: IterativeAttentionSecondTestReport
    do {
      report =
        try resultsFiles.isEmpty
        ? reproduction.run(into: folder)
        : IterativeAttentionSecondTestReproduction.render(resultsFiles: resultsFiles, into: folder)
    } catch {
      throw CommandFailure("\(error)")
    }
    if json.json {
      try json.printJSON(report.results)
    } else {
      print(report.summaryMarkdown)
      print("Report written to \(folder.path)/README.md")
    }
  }
}
