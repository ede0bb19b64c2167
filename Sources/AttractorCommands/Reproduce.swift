import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce`: published studies run end to end, one subcommand each.
public struct Reproduce: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "reproduce",
    abstract: "Reproduce a published study: train, measure, and write tables (Markdown, CSV, JSON) and SVG figures.",
    subcommands: [
      ReproduceIterativeAttention.self, ReproduceInContextDenoising.self, ReproducePseudoLikelihood.self,
      ReproduceIterativeAttentionSecondTest.self, ReproduceAssociativeTransformer.self,
    ])

  public init() {}
}

/// `attractor reproduce iterative-attention`: `IterativeAttentionReproduction`.
public struct ReproduceIterativeAttention: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "iterative-attention",
    abstract: "Seed 000's study: attention trained to retrieve in one step, iterated at test time.",
    discussion: """
      Seed 000 ("Associative retrieval as test-time optimization in transformer attention"). \
      Attention stacks (Single-Head, Transformer-Small, Transformer-Medium) are trained to retrieve \
      a stored pattern from a corrupted cue in one step, then iterated at test time; the report \
      compares T = 0 (the cue), 1, 5, 10 steps with untrained attention and the classical Hopfield \
      network (Tables 1–3, A.2, A.3, Figure 3), with the paper's numbers beside ours. The full run \
      takes hours on two cores; --quick runs a small version in seconds. MNIST needs \
      `python3 Scripts/fetch_mnist.py` first (or --skip-mnist). The report goes to \
      report-reproduce-iterative-attention unless --output-dir says otherwise; \
      `--output-dir Docs/iterative-attention` regenerates the committed report. Training defaults: \
      --epochs 10, --learning-rate 0.01, --batch-size 256 (with --quick: 4, 0.003, 64).
      """)

  @Flag(help: "A small version (Synthetic task only, small memory, few epochs) for tests and quick looks.")
  var quick = false

  @OptionGroup var output: OutputFolderOptions

  @Option(
    name: .customLong("models-dir"),
    help: ArgumentHelp("Save the first seed's trained models here (one model folder each).", valueName: "dir"))
  var modelsDirectory: String?

  @Option(help: ArgumentHelp("Folder of the MNIST IDX files.", valueName: "dir"))
  var mnist = "Data/mnist"

  @Flag(help: "Run the Synthetic-Gaussian task only.")
  var skipMNIST = false

  @Flag(
    help: "Run the MNIST task only (no ablations, memory-size or cost measurements, which use the Synthetic task).")
  var skipSynthetic = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Seeds, comma-separated (default 0,1,2; quick 0,1).", valueName: "list"),
    transform: SeedList.parse)
  var seeds: SeedList?

  @OptionGroup var training: TrainingOptions

  @Option(
    help: ArgumentHelp(
      "Train only these configurations, comma-separated: single-head, small, medium.", valueName: "list"),
    transform: ArgumentList<String>.parse)
  var onlyModels: ArgumentList<String>?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seeds for Table 3's ablations (default: the first seed only; 'all' for every seed).", valueName: "list|all"))
  var ablationSeeds: String?

  @Flag(help: "Leave out Table 3's ablations (9 more trainings per seed).")
  var skipAblations = false

  @Option(
    help: ArgumentHelp(
      "Re-render the report from a results.json of an earlier run instead of running.", valueName: "file"))
  var fromResults: String?

  @OptionGroup var execution: ExecutionOptions

  public init() {}

  public func validate() throws {
    if skipMNIST && skipSynthetic {
      throw ValidationError("--skip-mnist and --skip-synthetic together leave no task to run")
    }
    let known = IterativeAttentionStudy.ModelSpec.shortNames
    if let bad = onlyModels?.values.first(where: { !known.contains($0) }) {
      throw ValidationError("--only-models: unknown configuration \"\(bad)\"; use \(known.joined(separator: ", "))")
    }
    if let ablationSeeds, ablationSeeds != "all" {
      do { _ = try SeedList.parse(ablationSeeds) } catch {
        throw ValidationError("--ablation-seeds must be seeds separated by commas, or 'all': \(error)")
      }
    }
  }

  /// The report folder: --output-dir, or report-reproduce-iterative-attention in the current directory.
  public var folder: URL { output.folder(defaultName: Self.defaultFolderName) }
  static let defaultFolderName = "reproduce-iterative-attention"

  /// The command as typed, rebuilt from the options (so the report names it even when called from code).
  var commandLine: String {
    var parts = ["attractor reproduce iterative-attention"]
    if quick { parts.append("--quick") }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    if let modelsDirectory { parts += ["--models-dir", modelsDirectory] }
    if mnist != "Data/mnist" { parts += ["--mnist", mnist] }
    if skipMNIST { parts.append("--skip-mnist") }
    if skipSynthetic { parts.append("--skip-synthetic") }
    if let seeds { parts += ["--seeds", seeds.defaultValueDescription] }
    parts += training.arguments
    if let onlyModels { parts += ["--only-models", onlyModels.defaultValueDescription] }
    if let ablationSeeds { parts += ["--ablation-seeds", ablationSeeds] }
    if skipAblations { parts.append("--skip-ablations") }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  /// The settings these options select.
  func settings() -> IterativeAttentionStudy.Settings {
    var s = quick ? IterativeAttentionStudy.Settings.quick : .full
    if let seeds { s.seeds = seeds.values }
    training.apply(to: &s)
    if skipMNIST { s.includesMNIST = false }
    if skipSynthetic { s.includesSynthetic = false }
    if skipAblations { s.runsAblations = false }
    if let onlyModels { s.keepModels(named: onlyModels.values) }
    if let ablationSeeds {
      s.ablationSeeds = ablationSeeds == "all" ? s.seeds : SeedList(argument: ablationSeeds)?.values
    }
    return s
  }

  public func run() throws {
    execution.apply()
    let reproduction = IterativeAttentionReproduction(
      settings: settings(), mnistDirectory: URL(fileURLWithPath: mnist),
      modelsDirectory: modelsDirectory.map { URL(fileURLWithPath: $0) }, command: commandLine,
      log: { printToStandardError($0) })
    let missing = reproduction.missingMNISTFiles
    if fromResults == nil && !missing.isEmpty {
      throw CommandFailure(
        "MNIST files are missing in \(mnist): \(missing.joined(separator: ", ")). Fetch them with "
          + "`python3 Scripts/fetch_mnist.py`, point --mnist at their folder, or pass --skip-mnist.")
    }
    if let fromResults, let problem = fileProblem(at: URL(fileURLWithPath: fromResults)) {
      throw CommandFailure("cannot read --from-results \(fromResults): \(problem)")
    }
    let folder = try output.createFolder(defaultName: Self.defaultFolderName)
    let report: IterativeAttentionReport
    do {
      report =
        try fromResults.map {
          try IterativeAttentionReproduction.render(resultsFile: URL(fileURLWithPath: $0), into: folder)
        }
        ?? reproduction.run(into: folder)
    } catch {
      throw CommandFailure("\(error)")
    }
    print(report.summaryMarkdown)
    print("Report written to \(folder.path)/README.md")
  }
}
