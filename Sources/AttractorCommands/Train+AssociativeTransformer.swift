import ArgumentParser
import Attractors
import Foundation

/// `attractor train ait`: `AssociativeTransformerTraining`.
public struct TrainAssociativeTransformer: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ait",
    abstract:
      "Train the small Associative Transformer (or, with --workspace none, the plain ViT) on MNIST or Fashion-MNIST.",
    discussion: """
      A small vision transformer (28 × 28 images in 4 × 4 patches: 49 tokens of width 64, two \
      pre-LayerNorm blocks of 4-head self-attention and a GELU feed-forward layer of width 128, mean \
      pooling, LayerNorm, linear head) with the global-workspace layer of the Associative Transformer \
      after the first block: --priors M priors of width --prior-width D, a top-k bottleneck (--bottleneck k) \
      bottleneck attention with 4 heads, the EMA memory update, and --hopfield-steps T steps of \
      modern Hopfield retrieval at --beta β with the upscaled priors as stored patterns \
      (--memory-update residual-norm adds the residual and LayerNorm before the EMA; --memory-update \
      gradient trains the memory by gradient instead of the EMA; --memory-update kmeans moves each prior \
      toward the squashed patches nearest to it, online k-means; --topk-scope batch \
      takes the top-k over the minibatch's patches; --competition priors makes the priors compete for \
      patches) \
      (Docs/AssociativeTransformer.md). --workspace none trains the same transformer without the \
      layer (the baseline). AdamW with warm-up and cosine decay, seeded; the model folder \
      (config.json, weights.safetensors, CARD.md) is written after every epoch to --output-dir \
      (default report-train-ait), and the same command with --resume continues an interrupted run \
      exactly. Needs `python3 Scripts/fetch_mnist.py` (or, with --dataset fashion-mnist, `bash \
      Scripts/fetch_fashion_mnist.sh`) first. Defaults: --epochs 5, --learning-rate \
      0.002, --batch-size 128, --weight-decay 0.05, --count 60000, --priors 32, --prior-width 32, \
      --bottleneck 16, --beta 1, --hopfield-steps 3. Use --threads 1 on a shared machine.
      """)

  @Option(help: "The workspace layer: gw (the AiT) or none (the plain vision transformer).")
  var workspace = "gw"

  @Option(parsing: .unconditional, help: ArgumentHelp("Training images used (the first n).", valueName: "n"))
  var count = 60_000

  @OptionGroup var data: ImageDataOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Number of priors M in the workspace.", valueName: "M"))
  var priors = 32

  @Option(parsing: .unconditional, help: ArgumentHelp("Width D of a prior (D ≤ 64).", valueName: "D"))
  var priorWidth = 32

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Patches admitted per prior and head (1…49).", valueName: "k"))
  var bottleneck = 16

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Inverse temperature of the Hopfield retrieval.", valueName: "β"))
  var beta = 1.0

  @Option(parsing: .unconditional, help: ArgumentHelp("Hopfield retrieval steps.", valueName: "T"))
  var hopfieldSteps = 3

  @Option(
    help: ArgumentHelp(
      "The memory's training step: ema (γ ← normalise(μγ + (1 − μ)·O)) or residual-norm "
        + "(γ ← normalise(μγ + (1 − μ)·LN(γ + O)), the released code's form) or centered "
        + "(γ ← normalise(μγ + (1 − μ)·(Ō − mean over the priors of Ō))) or gradient (no EMA: γ trained "
        + "by AdamW, rows renormalised after each step; not the paper's) or kmeans (each prior moves toward the "
        + "mean of the squashed patches nearest to it, unchosen priors re-seeded; online k-means, not the "
        + "paper's).", valueName: "update"))
  var memoryUpdate = "ema"

  @Option(
    help: ArgumentHelp(
      "Where each prior's top-k is taken: image (k of each image's 49 patches) or batch (k of the "
        + "minibatch's B·49 patches, the released code's form).", valueName: "scope"))
  var topkScope = "image"

  @Option(
    help: ArgumentHelp(
      "Competition among the priors: none, or priors (softmax over the priors for each patch before "
        + "the top-k, so that priors compete for patches).", valueName: "form"))
  var competition = "none"

  @Option(parsing: .unconditional, help: ArgumentHelp("Training epochs.", valueName: "n"))
  var epochs = 5

  @Option(parsing: .unconditional, help: ArgumentHelp("Peak AdamW learning rate.", valueName: "η"))
  var learningRate = 2e-3

  @Option(parsing: .unconditional, help: ArgumentHelp("Training minibatch.", valueName: "B"))
  var batchSize = 128

  @Option(parsing: .unconditional, help: ArgumentHelp("AdamW's decoupled weight decay.", valueName: "κ"))
  var weightDecay = 0.05

  @Flag(help: "Continue from the checkpoint in --output-dir (written by the same command, interrupted).")
  var resume = false

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  public func validate() throws {
    guard workspace == "gw" || workspace == "none" else {
      throw ValidationError("--workspace must be gw or none, got \(workspace)")
    }
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
    do { try modelConfiguration.validate() } catch { throw ValidationError("\(error)") }
    do { try trainer.validate() } catch { throw ValidationError("\(error)") }
    if count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
  }

  var modelConfiguration: VisionTransformerConfiguration {
    let base = VisionTransformerConfiguration()
    guard workspace == "gw" else { return base }
    return AssociativeTransformer.configuration(
      base: base, priorCount: priors, priorWidth: priorWidth, bottleneck: bottleneck, beta: beta,
      hopfieldSteps: hopfieldSteps, memoryUpdate: MemoryUpdate(rawValue: memoryUpdate) ?? .ema,
      selectionScope: SelectionScope(rawValue: topkScope) ?? .image,
      competition: PriorCompetition(rawValue: competition) ?? .none)
  }

  var trainer: VisionTransformerTrainer {
    VisionTransformerTrainer(
      epochs: epochs, batchSize: batchSize, learningRate: learningRate, weightDecay: weightDecay, seed: seed.seed)
  }

  var commandLine: String {
    var parts = ["attractor train ait", "--workspace", workspace]
    if workspace == "gw" {
      parts += [
        "--priors", "\(priors)", "--prior-width", "\(priorWidth)", "--bottleneck", "\(bottleneck)", "--beta",
        "\(beta)", "--hopfield-steps", "\(hopfieldSteps)",
      ]
      if memoryUpdate != "ema" { parts += ["--memory-update", memoryUpdate] }
      if topkScope != "image" { parts += ["--topk-scope", topkScope] }
      if competition != "none" { parts += ["--competition", competition] }
    }
    parts += [
      "--count", "\(count)", "--epochs", "\(epochs)", "--learning-rate", "\(learningRate)", "--batch-size",
      "\(batchSize)", "--weight-decay", "\(weightDecay)", "--seed", "\(seed.seed)",
    ]
    parts += data.commandLineParts
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    return parts.joined(separator: " ")
  }

  public func run() throws {
    execution.apply()
    let folder = try output.createFolder(defaultName: "train-ait")
    let summary: AssociativeTransformerTraining.Summary
    do {
      summary = try AssociativeTransformerTraining(
        configuration: modelConfiguration, trainer: trainer, modelSeed: seed.seed, trainCount: count,
        mnistDirectory: data.directory, dataset: data.dataset,
        command: commandLine, log: { printToStandardError($0) }
      ).run(into: folder, resume: resume).summary
    } catch { throw CommandFailure("training failed: \(error)") }
    if json.json { try json.printJSON(summary) } else { print(summary.markdown, terminator: "") }
  }
}
