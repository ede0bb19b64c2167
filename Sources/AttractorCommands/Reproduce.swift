import ArgumentParser
import Attractors
import Foundation

/// The published studies `attractor reproduce` can run.
public enum ReproducibleStudy: String, CaseIterable, ExpressibleByArgument, Sendable {
  case iterativeAttention = "iterative-attention"
}

/// `attractor reproduce`: runs a published study end to end and writes its tables and figures.
public struct Reproduce: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "reproduce",
    abstract: "Reproduce a published study: train, measure, and write tables (Markdown, CSV, JSON) and SVG figures.",
    discussion: """
      iterative-attention: seed 000 ("Associative retrieval as test-time optimization in transformer \
      attention"). Attention stacks (Single-Head, Transformer-Small, Transformer-Medium) are trained to \
      retrieve a stored pattern from a corrupted cue in one step, then iterated at test time; the \
      report compares T = 0 (the cue), 1, 5, 10 steps with untrained attention and the classical \
      Hopfield network (Tables 1–3, A.2, A.3, Figure 3), with the paper's numbers beside ours. The \
      full run takes hours on two cores; --quick runs a small version in seconds. MNIST needs \
      `python3 Scripts/fetch_mnist.py` first (or --skip-mnist).
      """)

  @Argument(help: "The study: iterative-attention.")
  var study: ReproducibleStudy

  @Flag(help: "A small version (Synthetic task only, small memory, few epochs) for tests and quick looks.")
  var quick = false

  @Option(name: .customLong("output-dir"), help: ArgumentHelp("Folder for the report, tables and figures.", valueName: "dir"))
  var outputDirectory: String = "Docs/iterative-attention"

  @Option(name: .customLong("models-dir"), help: ArgumentHelp("Save the first seed's trained models here (one folder each).", valueName: "dir"))
  var modelsDirectory: String?

  @Option(help: ArgumentHelp("Folder of the MNIST IDX files.", valueName: "dir"))
  var mnist: String = "Data/mnist"

  @Flag(name: .customLong("skip-mnist"), help: "Run the Synthetic-Gaussian task only.")
  var skipMNIST = false

  @Flag(name: .customLong("skip-synthetic"), help: "Run the MNIST task only (no ablations, memory-size or cost measurements, which use the Synthetic task).")
  var skipSynthetic = false

  @Option(help: ArgumentHelp("Seeds, comma-separated (default 0,1,2; quick 0,1).", valueName: "list"))
  var seeds: String?

  @Option(help: ArgumentHelp("Most training epochs (default 10; quick 4).", valueName: "n"))
  var epochs: Int?

  @Option(name: .customLong("learning-rate"), help: ArgumentHelp("Peak AdamW learning rate, cosine-decayed to 0.05× over the epochs (default 0.01; quick 0.003).", valueName: "η"))
  var learningRate: Double?

  @Option(name: .customLong("batch-size"), help: ArgumentHelp("Training minibatch (default 256).", valueName: "B"))
  var batchSize: Int?

  @Option(name: .customLong("only-models"), help: ArgumentHelp("Train only these configurations, comma-separated: single-head, small, medium.", valueName: "list"))
  var onlyModels: String?

  @Option(name: .customLong("ablation-seeds"), help: ArgumentHelp("Seeds for Table 3's ablations (default: the first seed only; 'all' for every seed).", valueName: "list|all"))
  var ablationSeeds: String?

  @Flag(name: .customLong("skip-ablations"), help: "Leave out Table 3's ablations (9 more trainings per seed).")
  var skipAblations = false

  @Option(name: .customLong("from-results"), help: ArgumentHelp("Re-render the report from a results.json of an earlier run instead of running.", valueName: "file"))
  var fromResults: String?

  @Option(help: "OpenBLAS threads (default: the library's own choice).")
  var threads: Int?

  public init() {}

  public func validate() throws {
    if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if let seeds {
      let parts = seeds.split(separator: ",", omittingEmptySubsequences: false)
      guard !parts.isEmpty, parts.allSatisfy({ UInt64($0.trimmingCharacters(in: .whitespaces)) != nil }) else {
        throw ValidationError("--seeds must be non-negative integers separated by commas, like 0,1,2; got \"\(seeds)\"")
      }
    }
    if outputDirectory.isEmpty { throw ValidationError("--output-dir must not be empty") }
    if skipMNIST && skipSynthetic { throw ValidationError("--skip-mnist and --skip-synthetic together leave no task to run") }
    if let learningRate, !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
    }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    if let onlyModels {
      let names = onlyModels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      let known = ["single-head", "small", "medium"]
      if let bad = names.first(where: { !known.contains($0) }) {
        throw ValidationError("--only-models: unknown configuration \"\(bad)\"; use single-head, small, medium")
      }
    }
    if let ablationSeeds, ablationSeeds != "all",
      !ablationSeeds.split(separator: ",").allSatisfy({ UInt64($0.trimmingCharacters(in: .whitespaces)) != nil })
    {
      throw ValidationError("--ablation-seeds must be seeds separated by commas, or 'all'; got \"\(ablationSeeds)\"")
    }
  }

  /// The command as typed, rebuilt from the options (so the report names it even when called from code).
  var commandLine: String {
    var parts = ["attractor reproduce", study.rawValue]
    if quick { parts.append("--quick") }
    if outputDirectory != "Docs/iterative-attention" { parts += ["--output-dir", outputDirectory] }
    if let modelsDirectory { parts += ["--models-dir", modelsDirectory] }
    if mnist != "Data/mnist" { parts += ["--mnist", mnist] }
    if skipMNIST { parts.append("--skip-mnist") }
    if skipSynthetic { parts.append("--skip-synthetic") }
    if let seeds { parts += ["--seeds", seeds] }
    if let epochs { parts += ["--epochs", "\(epochs)"] }
    if let learningRate { parts += ["--learning-rate", "\(learningRate)"] }
    if let batchSize { parts += ["--batch-size", "\(batchSize)"] }
    if let onlyModels { parts += ["--only-models", onlyModels] }
    if let ablationSeeds { parts += ["--ablation-seeds", ablationSeeds] }
    if skipAblations { parts.append("--skip-ablations") }
    if let threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  /// The settings these options select.
  func settings() -> IterativeAttentionStudy.Settings {
    var s = quick ? IterativeAttentionStudy.Settings.quick : .full
    if let seeds { s.seeds = seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } }
    if let epochs { s.epochs = epochs }
    if skipMNIST { s.includesMNIST = false }
    if skipSynthetic { s.includesSynthetic = false }
    if skipAblations { s.runsAblations = false }
    if let learningRate { s.learningRate = learningRate }
    if let batchSize { s.batchSize = batchSize }
    if let onlyModels {
      let names = Set(onlyModels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      let all = s.models
      s.models = zip(["single-head", "small", "medium"], all).filter { names.contains($0.0) }.map(\.1)
    }
    if let ablationSeeds {
      s.ablationSeeds = ablationSeeds == "all" ? s.seeds : ablationSeeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }
    return s
  }

  public func run() throws {
    if let threads { BLAS.setThreadCount(threads) }
    let output = URL(fileURLWithPath: outputDirectory)
    let results: IterativeAttentionStudy.Results
    if let fromResults {
      do {
        results = try JSONDecoder().decode(IterativeAttentionStudy.Results.self, from: Data(contentsOf: URL(fileURLWithPath: fromResults)))
      } catch {
        throw CommandFailure("cannot read the results file \(fromResults): \(error)")
      }
    } else {
      let settings = settings()
      let mnistURL = URL(fileURLWithPath: mnist)
      if settings.includesMNIST {
        let missing = IterativeAttentionStudy.missingMNISTFiles(in: mnistURL)
        if !missing.isEmpty {
          throw CommandFailure(
            "MNIST files are missing in \(mnist): \(missing.joined(separator: ", ")). Fetch them with "
              + "`python3 Scripts/fetch_mnist.py`, point --mnist at their folder, or pass --skip-mnist.")
        }
      }
      let study = IterativeAttentionStudy(settings: settings, log: { printToStandardError($0) })
      let command = commandLine
      do {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        results = try study.run(
          mnistDirectory: settings.includesMNIST ? mnistURL : nil,
          modelsDirectory: modelsDirectory.map { URL(fileURLWithPath: $0) }, command: command,
          checkpoint: { partial in
            do {
              try IterativeAttentionReport(results: partial).writeResults(to: output, name: "results.partial.json")
            } catch {
              printToStandardError("warning: cannot write results.partial.json: \(error)")
            }
          })
        try? FileManager.default.removeItem(at: output.appendingPathComponent("results.partial.json"))
        // Keep the raw results first, so a failure while rendering loses nothing.
        try IterativeAttentionReport(results: results).writeResults(to: output)
      } catch let error as CommandFailure {
        throw error
      } catch {
        throw CommandFailure("the study failed: \(error)")
      }
    }
    do {
      let report = IterativeAttentionReport(results: results)
      try report.write(to: output)
      print(report.summaryMarkdown)
      print("Report written to \(output.path)/README.md")
    } catch {
      throw CommandFailure("cannot write the report into \(output.path): \(error)")
    }
  }
}
