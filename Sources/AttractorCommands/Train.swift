import ArgumentParser
import Attractors
import Foundation

/// `attractor train`: train one model and write a model folder, one subcommand per model family.
public struct Train: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train one model and write a model folder (config.json, weights.safetensors, CARD.md).",
    subcommands: [TrainIterativeAttention.self])

  public init() {}
}

/// `attractor train iterative-attention`: ``IterativeAttentionTraining``.
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
      and after iterating.
      """)

  @Option(help: ArgumentHelp("The configuration: single-head, small or medium (seed 000's; Docs/IterativeAttention.md).", valueName: "name"))
  var config = "small"

  @Option(help: ArgumentHelp("Attention layers L (default: the configuration's).", valueName: "L"))
  var layers: Int?

  @Option(help: ArgumentHelp("Heads per layer H (default: the configuration's; must divide the width).", valueName: "H"))
  var heads: Int?

  @Option(help: ArgumentHelp("Model width d (default: the configuration's).", valueName: "d"))
  var dimension: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Temperature τ (default 1).", valueName: "τ"))
  var temperature: Double?

  @Option(help: "The task: synthetic-gaussian or mnist.")
  var task: IterativeAttentionTraining.Task = .syntheticGaussian

  @Option(help: ArgumentHelp("Synthetic-Gaussian: number of stored vectors.", valueName: "N"))
  var count = 10_000

  @Option(name: .customLong("data-dimension"), help: ArgumentHelp("Synthetic-Gaussian: dimension of the vectors (at most the width).", valueName: "n"))
  var dataDimension = 64

  @Option(help: ArgumentHelp("MNIST: folder of the IDX files.", valueName: "dir"))
  var mnist = "Data/mnist"

  @Option(help: ArgumentHelp("Most training epochs.", valueName: "n"))
  var epochs = 10

  @Option(name: .customLong("learning-rate"), help: ArgumentHelp("Peak AdamW learning rate, cosine-decayed to 0.05× over the epochs.", valueName: "η"))
  var learningRate = 0.01

  @Option(name: .customLong("batch-size"), help: ArgumentHelp("Training minibatch.", valueName: "B"))
  var batchSize = 256

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  /// The configuration these options select.
  var spec: IterativeAttentionStudy.ModelSpec {
    var s = IterativeAttentionStudy.ModelSpec.named(config) ?? .small
    if let layers { s.layers = layers }
    if let heads { s.heads = heads }
    if let dimension { s.width = dimension }
    if let temperature { s.temperature = temperature }
    return s
  }

  /// The training these options describe.
  var training: IterativeAttentionTraining {
    var settings = IterativeAttentionStudy.Settings.full
    settings.syntheticCount = count
    settings.syntheticDimension = dataDimension
    settings.epochs = epochs
    settings.learningRate = learningRate
    settings.batchSize = batchSize
    return IterativeAttentionTraining(
      spec: spec, settings: settings, seed: seed.seed, task: task, mnistDirectory: URL(fileURLWithPath: mnist),
      command: commandLine, log: { printToStandardError($0) })
  }

  /// The command as typed, rebuilt from the options (recorded in config.json and CARD.md).
  var commandLine: String {
    var parts = ["attractor train iterative-attention", "--config", config]
    if let layers { parts += ["--layers", "\(layers)"] }
    if let heads { parts += ["--heads", "\(heads)"] }
    if let dimension { parts += ["--dimension", "\(dimension)"] }
    if let temperature { parts += ["--temperature", "\(temperature)"] }
    if task == .mnist { parts += ["--task", "mnist", "--mnist", mnist] } else { parts += ["--count", "\(count)", "--data-dimension", "\(dataDimension)"] }
    parts += ["--epochs", "\(epochs)", "--learning-rate", "\(learningRate)", "--batch-size", "\(batchSize)", "--seed", "\(seed.seed)"]
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  public func validate() throws {
    guard IterativeAttentionStudy.ModelSpec.named(config) != nil else {
      throw ValidationError("--config must be one of \(IterativeAttentionStudy.ModelSpec.shortNames.joined(separator: ", ")), got \"\(config)\"")
    }
    if let layers, !(1...64).contains(layers) { throw ValidationError("--layers must be between 1 and 64, got \(layers)") }
    if let heads, heads < 1 { throw ValidationError("--heads must be at least 1, got \(heads)") }
    if let dimension, dimension < 1 { throw ValidationError("--dimension must be at least 1, got \(dimension)") }
    if spec.width % spec.heads != 0 { throw ValidationError("the width \(spec.width) (--dimension) must be a multiple of the heads \(spec.heads) (--heads)") }
    if let temperature, !(temperature.isFinite && temperature > 0) { throw ValidationError("--temperature must be finite and positive, got \(temperature)") }
    if count < 10 { throw ValidationError("--count must be at least 10 (the vectors are split 80/10/10), got \(count)") }
    if dataDimension < 1 || (task == .syntheticGaussian && dataDimension > spec.width) {
      throw ValidationError("--data-dimension must be between 1 and the width \(spec.width), got \(dataDimension)")
    }
    if task == .mnist && spec.width < 128 { throw ValidationError("--task mnist needs a width of at least 128 (the PCA dimension), got \(spec.width)") }
    if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if !(learningRate.isFinite && learningRate > 0) { throw ValidationError("--learning-rate must be a positive number, got \(learningRate)") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
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
