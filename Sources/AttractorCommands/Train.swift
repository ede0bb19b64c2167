import ArgumentParser
import Attractors
import Foundation

/// `attractor train`: train one model and write a model folder, one subcommand per model family.
public struct Train: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train one model and write a model folder (config.json, weights.safetensors, CARD.md).",
    subcommands: [TrainIterativeAttention.self, TrainPseudoLikelihood.self, TrainAssociativeTransformer.self])

  public init() {}
}

/// `attractor train iterative-attention`: `IterativeAttentionTraining`.
public struct TrainIterativeAttention: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "iterative-attention",
    abstract: "Train one attention stack as `reproduce iterative-attention` does; write a model folder.",
    discussion: """
      One configuration (--config, with --layers, --heads, --dimension or --temperature changed if \
      given) is trained to map a corrupted cue to its stored pattern in ONE application of the stack, \
      exactly as the reproduction trains it (corruptions drawn afresh each epoch, identity + noise \
      initialisation, AdamW with cosine decay, early stopping on the validation loss; \
      Docs/IterativeAttention.md). The task is Synthetic-Gaussian by default (--count vectors of \
      dimension --data-dimension, zero-padded to the width; no download) or MNIST (--task mnist, \
      after `python3 Scripts/fetch_mnist.py`). The model folder goes to --output-dir (default \
      report-train-iterative-attention); load it with `attractor recall --model-folder <dir>`. \
      Prints the training table and the test accuracy at σ = 0.3 and at a hard noise level, before \
      and after iterating. Defaults: --layers, --heads and --dimension from the configuration, \
      --temperature 1; --epochs 10, --learning-rate 0.01, --batch-size 256.
      """)

  @Option(
    help: ArgumentHelp(
      "The configuration: single-head, small or medium (seed 000's; Docs/IterativeAttention.md).", valueName: "name"))
  var config = "small"

  @OptionGroup var shape: AttentionShapeOptions

  @Option(help: "The task: synthetic-gaussian or mnist.")
  var task: IterativeAttentionTraining.Task = .syntheticGaussian

  @Option(parsing: .unconditional, help: ArgumentHelp("Synthetic-Gaussian: number of stored vectors.", valueName: "N"))
  var count = 10_000

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Synthetic-Gaussian: dimension of the vectors (at most the width).", valueName: "n"))
  var dataDimension = 64

  @Option(help: ArgumentHelp("MNIST: folder of the IDX files.", valueName: "dir"))
  var mnist = "Data/mnist"

  @OptionGroup var trainingOptions: TrainingOptions

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  /// The configuration these options select.
  var spec: IterativeAttentionStudy.ModelSpec {
    var s = IterativeAttentionStudy.ModelSpec.named(config) ?? .small
    if let layers = shape.layers { s.layers = layers }
    if let heads = shape.heads { s.heads = heads }
    if let dimension = shape.dimension { s.width = dimension }
    if let temperature = shape.temperature { s.temperature = temperature }
    return s
  }

  /// The settings these options select: the full study's, with the options given in place.
  var settings: IterativeAttentionStudy.Settings {
    var settings = IterativeAttentionStudy.Settings.full
    settings.syntheticCount = count
    settings.syntheticDimension = dataDimension
    trainingOptions.apply(to: &settings)
    return settings
  }

  /// The training these options describe.
  var training: IterativeAttentionTraining {
    IterativeAttentionTraining(
      spec: spec, settings: settings, seed: seed.seed, task: task, mnistDirectory: URL(fileURLWithPath: mnist),
      command: commandLine, log: { printToStandardError($0) })
  }

  /// The command as typed, rebuilt from the options (recorded in config.json and CARD.md).
  var commandLine: String {
    var parts = ["attractor train iterative-attention", "--config", config] + shape.arguments
    if task == .mnist {
      parts += ["--task", "mnist", "--mnist", mnist]
    } else {
      parts += ["--count", "\(count)", "--data-dimension", "\(dataDimension)"]
    }
    let s = settings
    parts += [
      "--epochs", "\(s.epochs)", "--learning-rate", "\(s.learningRate)", "--batch-size", "\(s.batchSize)", "--seed",
      "\(seed.seed)",
    ]
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  public func validate() throws {
    guard IterativeAttentionStudy.ModelSpec.named(config) != nil else {
      throw ValidationError(
        "--config must be one of \(IterativeAttentionStudy.ModelSpec.shortNames.joined(separator: ", ")), got \"\(config)\""
      )
    }
    if spec.width % spec.heads != 0 {
      throw ValidationError(
        "the width \(spec.width) (--dimension) must be a multiple of the heads \(spec.heads) (--heads)")
    }
    if count < 10 {
      throw ValidationError("--count must be at least 10 (the vectors are split 80/10/10), got \(count)")
    }
    if dataDimension < 1 || (task == .syntheticGaussian && dataDimension > spec.width) {
      throw ValidationError("--data-dimension must be between 1 and the width \(spec.width), got \(dataDimension)")
    }
    if task == .mnist && spec.width < 128 {
      throw ValidationError("--task mnist needs a width of at least 128 (the PCA dimension), got \(spec.width)")
    }
  }

  /// The model folder: --output-dir, or report-train-iterative-attention in the current directory.
  public var folder: URL { output.folder(defaultName: "train-iterative-attention") }

  /// Trains and writes the folder; returns what was done.
  public func execute() throws -> IterativeAttentionTraining.Summary {
    execution.apply()
    let folder = try output.createFolder(defaultName: "train-iterative-attention")
    do { return try training.run(into: folder) } catch { throw CommandFailure("training failed: \(error)") }
  }

  public func run() throws {
    let summary = try execute()
    if json.json { try json.printJSON(summary) } else { print(summary.markdown, terminator: "") }
  }
}

extension IterativeAttentionTraining.Task: ExpressibleByArgument {}
