import ArgumentParser
import Attractors
import Foundation

/// `attractor train pseudo-likelihood`: `PseudoLikelihoodTraining`.
public struct TrainPseudoLikelihood: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "pseudo-likelihood",
    abstract:
      "Train the pseudo-likelihood attractor network (D'Amico & Negri) on MNIST or Fashion-MNIST without backpropagation.",
    discussion: """
      The first --count training images of --dataset (mnist or fashion-mnist) become states of N = 25 tokens of d = 32 (central \
      20 × 20 crop, 4 × 4 patches, pixel ↦ (cos πv/2, sin πv/2), a seeded orthogonal projection; \
      Docs/PseudoLikelihood.md). The couplings are trained by the local rule (gradient descent on \
      the local energies) or, with --rule contrastive, by contrastive divergence with \
      --contrastive-steps steps of the model's own dynamics; weight decay κ and the bound \
      Σ_j ‖J_ij‖_F ≤ 1/κ keep them bounded. The model folder (config.json, weights.safetensors with \
      the couplings (N, N, d, d) and 100 example states, CARD.md) is written after every epoch to \
      --output-dir (default report-train-pseudo-likelihood); the same command with --resume continues \
      from the last epoch written. Needs `python3 Scripts/fetch_mnist.py` (MNIST) or `bash \
      Scripts/fetch_fashion_mnist.sh` (Fashion-MNIST) first. Analyse it with \
      `attractor analyze --model-folder <dir>`. Defaults (those of `reproduce pseudo-likelihood`): \
      --count 10000, --epochs 5, --batch-size 100, --learning-rate 0.5, --weight-decay 1, --beta 4, \
      --gamma 0.5. An interrupted run continues with the same command and --resume.
      """)

  @Option(parsing: .unconditional, help: ArgumentHelp("Training images used.", valueName: "n"))
  var count = 10_000

  @OptionGroup var data: ImageDataOptions

  @Option(help: "Learning rule: local or contrastive.")
  var rule = "local"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Contrastive rule: synchronous steps of the model's dynamics from the data.", valueName: "k"))
  var contrastiveSteps = 1

  @Option(
    name: .customLong("beta"), parsing: .unconditional,
    help: ArgumentHelp("Inverse temperature (the paper's λ) of the attention softmax.", valueName: "β"))
  var inverseTemperature = 4.0

  @Option(
    name: .customLong("gamma"), parsing: .unconditional,
    help: ArgumentHelp("Self-coupling γ in [0, 1].", valueName: "γ"))
  var selfCoupling = 0.5

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Weight decay κ > 0 (the couplings' bound is 1/κ).", valueName: "κ"))
  var weightDecay = 1.0

  @Option(parsing: .unconditional, help: ArgumentHelp("Training epochs.", valueName: "n"))
  var epochs = 5

  @Option(parsing: .unconditional, help: ArgumentHelp("Learning rate η (plain gradient steps).", valueName: "η"))
  var learningRate = 0.5

  @Option(parsing: .unconditional, help: ArgumentHelp("Training minibatch.", valueName: "B"))
  var batchSize = 100

  @Flag(help: "Continue from the checkpoint in --output-dir (written by the same command, interrupted).")
  var resume = false

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  public func validate() throws {
    guard rule == "local" || rule == "contrastive" else {
      throw ValidationError("--rule must be local or contrastive, got \(rule)")
    }
    if count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if contrastiveSteps < 1 { throw ValidationError("--contrastive-steps must be at least 1, got \(contrastiveSteps)") }
    if !(weightDecay.isFinite && weightDecay > 0) {
      throw ValidationError("--weight-decay must be a positive number, got \(weightDecay)")
    }
    if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    if !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
    }
    if !(inverseTemperature.isFinite && inverseTemperature > 0) {
      throw ValidationError("--beta must be a positive number, got \(inverseTemperature)")
    }
    if !(selfCoupling >= 0 && selfCoupling <= 1) {
      throw ValidationError("--gamma must be in [0, 1], got \(selfCoupling)")
    }
  }

  var commandLine: String {
    var parts = [
      "attractor train pseudo-likelihood", "--count", "\(count)", "--rule", rule, "--beta", "\(inverseTemperature)",
      "--gamma", "\(selfCoupling)", "--weight-decay", "\(weightDecay)", "--epochs", "\(epochs)", "--learning-rate",
      "\(learningRate)", "--batch-size", "\(batchSize)", "--seed", "\(seed.seed)",
    ]
    if rule == "contrastive" { parts += ["--contrastive-steps", "\(contrastiveSteps)"] }
    parts += data.commandLineParts
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    return parts.joined(separator: " ")
  }

  public func run() throws {
    execution.apply()
    let folder = try output.createFolder(defaultName: "train-pseudo-likelihood")
    let trainer = PseudoLikelihoodTrainer(
      rule: rule == "local" ? .local : .contrastive(steps: contrastiveSteps), epochs: epochs, batchSize: batchSize,
      learningRate: learningRate, weightDecay: weightDecay, seed: seed.seed)
    let summary: PseudoLikelihoodTraining.Summary
    do {
      summary = try PseudoLikelihoodTraining(
        inverseTemperature: inverseTemperature, selfCoupling: selfCoupling, trainer: trainer, trainCount: count,
        dataset: data.dataset, dataDirectory: data.directory, command: commandLine,
        log: { printToStandardError($0) }
      ).run(into: folder, resume: resume)
    } catch { throw CommandFailure("training failed: \(error)") }
    if json.json { try json.printJSON(summary) } else { print(summary.markdown, terminator: "") }
  }
}
