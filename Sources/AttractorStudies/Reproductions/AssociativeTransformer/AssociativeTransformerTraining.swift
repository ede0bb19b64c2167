import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// An image data set as the AiT study uses it: MNIST or Fashion-MNIST, pixels scaled to
/// (v/255 − m)/s with the training set's mean m and standard deviation s (MNIST 0.1307, 0.3081;
/// Fashion-MNIST 0.2860, 0.3530), Float, one 28 × 28 image per row.
public struct ScaledMNIST: Sendable {
  public var trainImages: Matrix<Float>
  public var trainLabels: [Int]
  public var testImages: Matrix<Float>
  public var testLabels: [Int]
  /// The data set the images come from.
  public var dataset: ImageDataset

  /// The training set's pixel mean and standard deviation (in units of 255) used to scale it.
  public static func normalization(of dataset: ImageDataset) -> (mean: Double, standardDeviation: Double) {
    switch dataset {
    case .mnist: (0.1307, 0.3081)
    case .fashionMNIST: (0.2860, 0.3530)
    }
  }

  /// Reads the first `trainCount` training and `testCount` test images of `dataset` from `directory`.
  ///
  /// - Throws: ``DatasetError`` for missing or malformed files (naming the data set's fetch
  ///   script), ``AssociativeTransformerError`` for bad counts.
  public init(
    directory: URL, dataset: ImageDataset = .mnist, trainCount: Int = 60_000, testCount: Int = 10_000
  ) throws {
    try dataset.checkFiles(in: directory)
    let images = try dataset.images(.training, in: directory)
    let labels = try dataset.labels(.training, in: directory)
    let tImages = try dataset.images(.test, in: directory)
    let tLabels = try dataset.labels(.test, in: directory)
    guard trainCount >= 1, trainCount <= images.rows else {
      throw AssociativeTransformerError("--count must be in 1…\(images.rows), got \(trainCount)")
    }
    guard testCount >= 1, testCount <= tImages.rows else {
      throw AssociativeTransformerError("the test count must be in 1…\(tImages.rows), got \(testCount)")
    }
    let (mean, deviation) = Self.normalization(of: dataset)
    func scale(_ m: Matrix<Double>) -> Matrix<Float> {
      Matrix(rows: m.rows, columns: m.columns) { i, j in Float((m[i, j] / 255 - mean) / deviation) }
    }
    trainImages = scale(images.rows(at: 0..<trainCount))
    trainLabels = Array(labels[0..<trainCount])
    testImages = scale(tImages.rows(at: 0..<testCount))
    testLabels = Array(tLabels[0..<testCount])
    self.dataset = dataset
  }

  /// The description stored in a model folder.
  public var description: String {
    let (mean, deviation) = Self.normalization(of: dataset)
    let items = dataset == .mnist ? "digits" : "images"
    return "\(dataset.displayName) training \(items) 0..<\(trainLabels.count), test \(items) 0..<\(testLabels.count), "
      + "pixels (v/255 − \(mean))/\(deviation)"
  }
}

/// A refused setting of the AiT study or training, with the reason.
public struct AssociativeTransformerError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// `attractor train ait` as a library call: the small AiT (or, without a workspace, the plain
/// vision transformer of the same size) trained on MNIST by ``/AttractorModels/VisionTransformerTrainer``,
/// the model folder written after every epoch so that an interrupted run resumes exactly.
public struct AssociativeTransformerTraining: Sendable {
  public var configuration: VisionTransformerConfiguration
  public var trainer: VisionTransformerTrainer
  public var modelSeed: UInt64
  public var trainCount: Int
  public var testCount: Int
  public var mnistDirectory: URL
  /// The image data set read from ``mnistDirectory``.
  public var dataset: ImageDataset
  public var command: String
  public var log: @Sendable (String) -> Void

  public init(
    configuration: VisionTransformerConfiguration, trainer: VisionTransformerTrainer, modelSeed: UInt64,
    trainCount: Int = 60_000, testCount: Int = 10_000, mnistDirectory: URL, dataset: ImageDataset = .mnist,
    command: String, log: @escaping @Sendable (String) -> Void
  ) throws {
    try configuration.validate()
    try trainer.validate()
    self.configuration = configuration
    self.trainer = trainer
    self.modelSeed = modelSeed
    self.trainCount = trainCount
    self.testCount = testCount
    self.mnistDirectory = mnistDirectory
    self.dataset = dataset
    self.command = command
    self.log = log
  }

  /// What a run did.
  public struct Summary: Sendable, Codable {
    public var folder: String
    public var model: String
    public var resumedFromEpoch: Int
    public var history: VisionTransformerTrainer.History
    public var parameterCount: Int
    public var seconds: Double
    /// Mean pairwise cosine of the trained memory's priors (nil for the plain transformer).
    public var priorCosineMean: Double?
    /// Largest pairwise cosine of the trained memory's priors (nil for the plain transformer).
    public var priorCosineMax: Double?

    public var markdown: String {
      var out = "| epoch | training loss | balance loss | test accuracy | seconds |\n|---|---|---|---|---|\n"
      for e in 0..<history.epochsCompleted {
        out +=
          "| \(e + 1) | \(String(format: "%.4f", history.epochLoss[e])) | "
          + "\(String(format: "%.4f", history.epochBalance[e])) | "
          + "\(String(format: "%.2f %%", 100 * history.testAccuracy[e])) | "
          + "\(String(format: "%.0f", history.epochSeconds[e])) |\n"
      }
      if let mean = priorCosineMean, let largest = priorCosineMax {
        out +=
          "\nPairwise cosine of the priors after training: mean \(String(format: "%.4f", mean)), "
          + "max \(String(format: "%.4f", largest))\n"
      }
      out += "\n\(model), \(parameterCount) parameters. Model folder: \(folder)"
      out += resumedFromEpoch > 0 ? " (resumed after epoch \(resumedFromEpoch))\n" : "\n"
      return out
    }
  }

  /// A one-line description of the model.
  public static func describe(_ c: VisionTransformerConfiguration) -> String {
    var s =
      "ViT \(c.imageSize)×\(c.imageSize) in \(c.patchSize)×\(c.patchSize) patches (N = \(c.patchCount)), "
      + "E = \(c.width), \(c.depth) blocks of \(c.heads) heads, FFN \(c.hidden)"
    if let w = c.workspace {
      s +=
        "; global workspace after block \(c.workspaceAfterBlock): M = \(w.priorCount) priors of D = \(w.priorWidth), "
        + "\(w.heads) bottleneck heads, k = \(w.bottleneck), β = \(w.beta), T = \(w.hopfieldSteps), "
        + "μ = \(w.memoryUpdate == .gradient ? "unused" : w.memoryMomentum.map { "\($0)" } ?? "off"), balance c = \(w.balanceCoefficient), "
        + "\(w.priorInitialization.rawValue) priors, memory update \(w.memoryUpdate.rawValue), "
        + "top-k per \(w.selectionScope.rawValue), competition \(w.competition.rawValue)"
    } else {
      s += "; no workspace (plain vision transformer)"
    }
    return s
  }

  /// Trains on `data` (or MNIST from ``mnistDirectory`` when nil), writing the model folder into
  /// `folder` after every epoch; with `resume`, continues from the checkpoint there (same settings).
  /// `stopAfterEpoch` stops the run early, as an interruption would (the folder is then a checkpoint).
  public func run(
    into folder: URL, data given: ScaledMNIST? = nil, resume: Bool = false, stopAfterEpoch: Int? = nil
  ) throws -> (
    summary: Summary, model: VisionTransformer<Float>
  ) {
    let clock = ContinuousClock()
    let started = clock.now
    let data =
      try given
      ?? ScaledMNIST(directory: mnistDirectory, dataset: dataset, trainCount: trainCount, testCount: testCount)
    var model = try VisionTransformer<Float>(configuration: configuration, seed: modelSeed)
    var resuming: (history: VisionTransformerTrainer.History, optimizer: VisionTransformerTrainer.OptimizerState)?
    if resume {
      let loaded = try VisionTransformerModelFolder.load(from: folder)
      guard
        loaded.record.configuration == configuration && loaded.record.trainer == trainer
          && loaded.record.modelSeed == modelSeed && loaded.record.data == data.description
      else {
        throw AssociativeTransformerError(
          "--resume: the checkpoint in \(folder.path) was made by a different command (\(loaded.record.command))")
      }
      guard loaded.record.isCheckpoint, let optimizer = loaded.optimizer else {
        throw AssociativeTransformerError(
          "--resume: the model in \(folder.path) has finished all \(trainer.epochs) epochs; nothing to resume")
      }
      model = loaded.model
      resuming = (loaded.record.history, optimizer)
      log("resuming from the checkpoint in \(folder.path) after epoch \(loaded.record.history.epochsCompleted)")
    }
    let log = self.log
    let (configuration, trainer, seed, command) = (self.configuration, self.trainer, modelSeed, self.command)
    let description = Self.describe(configuration)
    let (trained, history) = try trainer.train(
      model, images: data.trainImages, labels: data.trainLabels, testImages: data.testImages,
      testLabels: data.testLabels, resuming: resuming, stopAfterEpoch: stopAfterEpoch,
      progress: { p in
        var line =
          "epoch \(p.epoch)/\(p.epochs), step \(p.step)/\(p.steps): loss \(String(format: "%.4f", p.loss))"
        if let a = p.testAccuracy { line += ", test accuracy \(String(format: "%.2f %%", 100 * a))" }
        if let g = p.priorCosine, let o = p.selectionOverlap {
          line += String(format: ", prior cosine %.4f, selection overlap %.3f", g, o)
          // A gradient-trained memory has no step target.
          if let t = p.targetCosine, configuration.workspace?.memoryUpdate != .gradient {
            line += String(format: ", step-target cosine %.4f", t)
          }
        }
        log(line + ", about \(Int(p.secondsLeft.rounded())) s left")
      },
      checkpoint: { m, h, o in
        let record = VisionTransformerModelFolder(
          configuration: configuration, trainer: trainer, history: h, modelSeed: seed,
          optimizerStep: h.epochsCompleted < trainer.epochs ? o.step : 0, data: data.description, command: command)
        let card = """
          # \(configuration.workspace == nil ? "Plain vision transformer" : "Associative Transformer (AiT)") on MNIST

          \(description).

          Trained \(h.epochsCompleted) of \(trainer.epochs) epochs: AdamW (peak η = \(trainer.learningRate), \
          λ = \(trainer.weightDecay), \(trainer.warmupSteps) warm-up steps, cosine decay to 0.05 η), minibatch \
          \(trainer.batchSize), shuffle seed \(trainer.seed), model seed \(seed).

          Data: \(data.description).

          Test accuracy after the last epoch: \(String(format: "%.2f %%", 100 * (h.testAccuracy.last ?? 0))).

          Made by:

              \(command)

          Docs/AssociativeTransformer.md describes the model and every choice.

          """
        try VisionTransformerModelFolder.save(
          m, record: record, optimizer: record.isCheckpoint ? o : nil, card: card, to: folder)
      })
    let summary = Summary(
      folder: folder.path, model: description, resumedFromEpoch: resuming?.history.epochsCompleted ?? 0,
      history: history, parameterCount: trained.parameterCount, seconds: (clock.now - started).seconds,
      priorCosineMean: trained.workspace?.priorCosines.mean, priorCosineMax: trained.workspace?.priorCosines.max)
    return (summary, trained)
  }
}
