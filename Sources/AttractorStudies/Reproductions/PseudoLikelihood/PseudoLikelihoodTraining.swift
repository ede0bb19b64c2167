import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// `attractor train pseudo-likelihood` as a library call: a ``/AttractorModels/PseudoLikelihoodAttractor``
/// trained on MNIST or Fashion-MNIST images (``/AttractorExperiments/ImageDataset``, ``PixelTokenEmbedding``) by the local or the contrastive rule, written as a
/// model folder after every epoch, so that an interrupted run resumes from the last epoch written.
public struct PseudoLikelihoodTraining: Sendable {
  public var configuration: PseudoLikelihoodConfiguration
  public var trainer: PseudoLikelihoodTrainer
  public var trainCount: Int
  public var patchSide: Int
  /// MNIST or Fashion-MNIST.
  public var dataset: ImageDataset
  /// The folder of the data set's four IDX files.
  public var dataDirectory: URL
  public var command: String
  public var log: @Sendable (String) -> Void

  public init(
    inverseTemperature: Double, selfCoupling: Double, trainer: PseudoLikelihoodTrainer, trainCount: Int,
    patchSide: Int = 4, dataset: ImageDataset = .mnist, dataDirectory: URL, command: String,
    log: @escaping @Sendable (String) -> Void
  ) throws {
    let embedding = try PixelTokenEmbedding(patchSide: patchSide, seed: trainer.seed)
    configuration = PseudoLikelihoodConfiguration(
      tokens: embedding.tokens, tokenWidth: embedding.tokenWidth, inverseTemperature: inverseTemperature,
      selfCoupling: selfCoupling)
    try configuration.validate()
    try trainer.validate()
    self.trainer = trainer
    self.trainCount = trainCount
    self.patchSide = patchSide
    self.dataset = dataset
    self.dataDirectory = dataDirectory
    self.command = command
    self.log = log
  }

  /// What a run did.
  public struct Summary: Sendable, Codable {
    public var folder: String
    public var resumedFromEpoch: Int
    public var history: PseudoLikelihoodTrainer.History
    public var parameterCount: Int
    public var seconds: Double

    public var markdown: String {
      var out = "| epoch | cost ⟨Σ e_i⟩ | max_i Σ_j ‖J_ij‖_F | seconds |\n|---|---|---|---|\n"
      out += "| 0 | \(String(format: "%.4f", history.initialCost)) | – | – |\n"
      for e in 0..<history.epochsCompleted {
        out +=
          "| \(e + 1) | \(String(format: "%.4f", history.epochCost[e])) | \(String(format: "%.3f", history.maxRowNorm[e])) | "
          + "\(String(format: "%.1f", history.epochSeconds[e])) |\n"
      }
      out += "\nModel folder: \(folder) (\(parameterCount) couplings"
      out += resumedFromEpoch > 0 ? ", resumed after epoch \(resumedFromEpoch))\n" : ")\n"
      return out
    }
  }

  /// Trains, writing the model folder into `folder` after every epoch; with `resume`, continues from
  /// the checkpoint in `folder` (which must have been written with the same configuration, settings
  /// and data, and not be finished).
  public func run(into folder: URL, resume: Bool = false) throws -> Summary {
    let clock = ContinuousClock()
    let started = clock.now
    try dataset.checkFiles(in: dataDirectory)
    let images = try dataset.images(.training, in: dataDirectory)
    guard trainCount >= 1 && trainCount <= images.rows else {
      throw PixelTokenEmbedding.InvalidParameter("--count must be in 1…\(images.rows), got \(trainCount)")
    }
    let embedding = try PixelTokenEmbedding(patchSide: patchSide, seed: trainer.seed)
    let data: Matrix<Float> = embedding.embed(PixelTokenEmbedding.crop(images.rows(at: 0..<trainCount)))
    var model = try PseudoLikelihoodAttractor<Float>.zero(configuration: configuration)
    var history: PseudoLikelihoodTrainer.History? = nil
    let dataDescription =
      "\(dataset == .mnist ? "MNIST training digits" : "\(dataset.displayName) training images") 0..<\(trainCount), central 20×20 crop, \(patchSide)×\(patchSide) patches, "
      + "pixel ↦ (cos πv/2, sin πv/2), orthogonal projection seeded \(trainer.seed) (PixelTokenEmbedding)"
    if resume {
      let loaded = try PseudoLikelihoodModelFolder.load(from: folder)
      guard
        loaded.record.configuration == configuration && loaded.record.trainer == trainer
          && loaded.record.data == dataDescription
      else {
        throw PixelTokenEmbedding.InvalidParameter(
          "--resume: the checkpoint in \(folder.path) was made by a different command (\(loaded.record.command))")
      }
      guard loaded.record.isCheckpoint else {
        throw PixelTokenEmbedding.InvalidParameter(
          "--resume: the model in \(folder.path) has finished all \(trainer.epochs) epochs; nothing to resume")
      }
      model = loaded.model
      history = loaded.record.history
      log("resuming from the checkpoint in \(folder.path) after epoch \(loaded.record.history.epochsCompleted)")
    }
    let resumed = history?.epochsCompleted ?? 0
    let log = self.log
    let command = self.command
    let configuration = self.configuration
    let trainer = self.trainer
    let (trained, finalHistory) = try trainer.train(
      model, data: data, resumingFrom: history,
      progress: { p in
        log(
          "epoch \(p.epoch)/\(p.epochs): cost \(String(format: "%.4f", p.history.epochCost.last ?? 0)), "
            + "\(String(format: "%.1f", p.history.epochSeconds.last ?? 0)) s, about \(Int(p.secondsLeft.rounded())) s left"
        )
      },
      checkpoint: { m, h in
        let record = PseudoLikelihoodModelFolder(
          configuration: configuration, trainer: trainer, history: h, data: dataDescription, command: command)
        let card = """
          # Pseudo-likelihood attractor network (D'Amico & Negri, arXiv:2409.16112)

          N = \(configuration.tokens) tokens of d = \(configuration.tokenWidth), λ = \(configuration.inverseTemperature), \
          γ = \(configuration.selfCoupling); \(trainer.rule) rule, \(h.epochsCompleted) of \(trainer.epochs) epochs, \
          minibatch \(trainer.batchSize), η = \(trainer.learningRate), κ = \(trainer.weightDecay), \
          bound Σ_j ‖J_ij‖_F ≤ \(trainer.couplingBound).

          Data: \(dataDescription).

          Cost ⟨Σ_i e_i⟩: \(String(format: "%.4f", h.initialCost)) before training, \
          \(String(format: "%.4f", h.epochCost.last ?? h.initialCost)) in the last epoch.

          Made by:

              \(command)

          Docs/PseudoLikelihood.md describes the model, the embedding and every choice.

          """
        try PseudoLikelihoodModelFolder.save(
          m, record: record, examples: data.rows(at: 0..<min(100, data.rows)), card: card, to: folder)
      })
    _ = trained
    return Summary(
      folder: folder.path, resumedFromEpoch: resumed, history: finalHistory,
      parameterCount: configuration.parameterCount, seconds: (clock.now - started).seconds)
  }
}
