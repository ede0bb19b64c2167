import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce ait`: `AssociativeTransformerReproduction`.
public struct ReproduceAssociativeTransformer: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ait",
    abstract: "Associative Transformer: Hopfield contribution, attractor landscape of the priors, competition.",
    discussion: """
      The three checks seed 002 says the AiT paper left open, at the scale of this machine (the \
      paper's ImageNet-scale results are not attempted): for 3 seeds an AiT and the plain vision \
      transformer of the same size are trained on the 60,000 training images of --dataset (MNIST by \
      default, or fashion-mnist; 12 epochs) and tested on its 10,000 test images; the AiT is evaluated with the Hopfield retrieval removed, with T = 1, 3, 10 \
      steps and β = 0.5, 1, 2, 4 at test time; the fixed points of the modern Hopfield network with \
      the trained upscaled priors as patterns are found and classified, with the basins of real \
      patch representations, the reconstruction error against the distance to the nearest prior and \
      the Hungarian-matched similarity of priors across seeds; and an AiT is trained for each \
      bottleneck size k = 4, 8, 16, 32 with the entropies of its selections and the overlap of its \
      heads. Writes README.md, results.json and SVG figures into --output-dir (default \
      report-reproduce-ait); `--output-dir Docs/associative-transformer` regenerates the committed \
      report. --count and --epochs change the scale; --memory-update, --topk-scope and --competition \
      choose the workspace's memory step, top-k scope and prior competition (as for train ait). \
      --workers n runs n of the 14 independent trainings at once, each on one OpenBLAS thread (the \
      results equal those of one worker at one thread); --models-dir keeps the trained models and \
      reuses finished ones (train ait can fill it in parallel); --seeds and --bottleneck choose the \
      seeds and the k of the sweep; --retrain-seeds also trains the first seed's AiT (or those seeds') at \
      T = 1, 10 and β = 0.5, 2, 4 (5 more trainings per seed; none to skip). --quick runs a small version (a smaller \
      model, 128 images) in seconds. Needs `python3 Scripts/fetch_mnist.py` (or, with --dataset \
      fashion-mnist, `bash Scripts/fetch_fashion_mnist.sh`) first. Use --threads 1 on a shared machine.
      """)

  @Flag(help: "A small version (a smaller model, 128 training digits, 2 seeds) for tests and quick looks.")
  var quick = false

  @OptionGroup var data: ImageDataOptions

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Trainings run at the same time (default 1); with more than one, each uses one OpenBLAS thread.",
      valueName: "n"))
  var workers = 1

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Training images used (the first n; default: the full run's).", valueName: "n"))
  var count: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Training epochs (default: the full run's).", valueName: "n"))
  var epochs: Int?

  @Option(
    help: ArgumentHelp(
      "The memory's training step: ema, residual-norm, centered, gradient or kmeans (as for train ait).",
      valueName: "update"))
  var memoryUpdate = "ema"

  @Option(
    help: ArgumentHelp("Where each prior's top-k is taken: image or batch (as for train ait).", valueName: "scope"))
  var topkScope = "image"

  @Option(help: ArgumentHelp("Competition among the priors: none or priors (as for train ait).", valueName: "form"))
  var competition = "none"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Seeds of the AiT/baseline pairs, comma-separated (default 0,1,2).", valueName: "list"),
    transform: SeedList.parse)
  var seeds: SeedList?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Bottleneck sizes k of the competition sweep (first seed), comma-separated (default 4,8,16,32).",
      valueName: "list"),
    transform: IntList.parse)
  var bottleneck: IntList?

  @Option(
    name: .customLong("retrain-seeds"),
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seeds whose AiT is also trained at every other T and β of the lists, comma-separated, or none (default: the "
        + "first seed; none with --quick).", valueName: "list"),
    transform: { $0 == "none" ? SeedList([]) : try SeedList.parse($0) })
  var retrainSeeds: SeedList?

  @Option(
    name: .customLong("models-dir"),
    help: ArgumentHelp(
      "Keep every trained model here (ait-seed<S>-k<k>, vit-seed<S>); finished folders with the same settings are "
        + "used instead of training (train ait can fill them in parallel).", valueName: "dir"))
  var modelsDirectory: String?

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  public func validate() throws {
    guard MemoryUpdate(rawValue: memoryUpdate) != nil else {
      throw ValidationError(
        "--memory-update must be ema, residual-norm, centered, gradient or kmeans, got \(memoryUpdate)")
    }
    guard SelectionScope(rawValue: topkScope) != nil else {
      throw ValidationError("--topk-scope must be image or batch, got \(topkScope)")
    }
    guard PriorCompetition(rawValue: competition) != nil else {
      throw ValidationError("--competition must be none or priors, got \(competition)")
    }
    if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if let bottleneck, let k = bottleneck.values.first(where: { $0 < 1 }) {
      throw ValidationError("--bottleneck: every k must be at least 1, got \(k)")
    }
    if workers < 1 || workers > 1024 { throw ValidationError("--workers must be between 1 and 1024, got \(workers)") }
    if workers > 1, let threads = execution.threads, threads > 1 {
      throw ValidationError(
        "--workers \(workers) runs each training on one OpenBLAS thread; --threads \(threads) cannot be honoured (leave it out or give 1)"
      )
    }
  }

  var settings: AssociativeTransformerReproduction.Settings {
    var s: AssociativeTransformerReproduction.Settings = quick ? .quick : .full
    if let count { s.trainCount = count }
    if let epochs { s.epochs = epochs }
    if let seeds { s.seeds = seeds.values }
    if let bottleneck { s.bottlenecks = bottleneck.values }
    if let retrainSeeds {
      s.retrainSeeds = retrainSeeds.values
    } else if seeds != nil, !quick {
      s.retrainSeeds = Array(s.seeds.prefix(1))
    }
    s.memoryUpdate = MemoryUpdate(rawValue: memoryUpdate) ?? .ema
    s.selectionScope = SelectionScope(rawValue: topkScope) ?? .image
    s.competition = PriorCompetition(rawValue: competition) ?? .none
    s.dataset = data.dataset
    return s
  }

  var commandLine: String {
    var parts = ["attractor reproduce ait"]
    if quick { parts.append("--quick") }
    parts += data.commandLineParts
    if let count { parts += ["--count", "\(count)"] }
    if let epochs { parts += ["--epochs", "\(epochs)"] }
    if let seeds { parts += ["--seeds", seeds.defaultValueDescription] }
    if let bottleneck { parts += ["--bottleneck", bottleneck.defaultValueDescription] }
    if let retrainSeeds {
      parts += ["--retrain-seeds", retrainSeeds.values.isEmpty ? "none" : retrainSeeds.defaultValueDescription]
    }
    if memoryUpdate != "ema" { parts += ["--memory-update", memoryUpdate] }
    if topkScope != "image" { parts += ["--topk-scope", topkScope] }
    if competition != "none" { parts += ["--competition", competition] }
    if let modelsDirectory { parts += ["--models-dir", modelsDirectory] }
    if workers != 1 { parts += ["--workers", "\(workers)"] }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    return parts.joined(separator: " ")
  }

  public func run() throws {
    execution.apply()
    // Several trainings at once: one OpenBLAS thread each (the library never changes the count itself).
    if workers > 1 { BLAS.setThreadCount(1) }
    let folder = try output.createFolder(defaultName: "reproduce-ait")
    let results: AssociativeTransformerReproduction.Results
    do {
      results = try AssociativeTransformerReproduction(
        settings: settings, mnistDirectory: data.directory,
        modelsDirectory: modelsDirectory.map { URL(fileURLWithPath: $0) }, command: commandLine, workers: workers,
        log: { printToStandardError($0) }
      ).run(into: folder)
    } catch { throw CommandFailure("reproduction failed: \(error)") }
    if json.json {
      try json.printJSON(results)
    } else {
      print(AssociativeTransformerReport(results: results).markdown, terminator: "")
    }
  }
}
