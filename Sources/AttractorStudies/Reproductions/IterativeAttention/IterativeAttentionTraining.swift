import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import Foundation

/// One configuration of the iterative-attention stack trained as the reproduction trains it, and
/// saved as a model folder (`attractor train iterative-attention`).
///
/// The task, the corruptions drawn afresh every epoch, the identity-plus-noise initialisation,
/// AdamW with cosine decay and early stopping are ``IterativeAttentionStudy``'s
/// (``IterativeAttentionStudy/train(_:task:seed:)``); the folder (config.json,
/// weights.safetensors, CARD.md) is the format of `Models/` that `attractor recall --model-folder`
/// loads (``IterativeAttentionStudy/saveModel(_:task:seed:command:to:)``). After training, the model
/// is iterated on the test split at σ = 0.3 and at the study's hard noise level.
public struct IterativeAttentionTraining: Sendable {
  /// The data the stack learns to retrieve.
  public enum Task: String, CaseIterable, Codable, Sendable {
    /// ``/AttractorExperiments/SyntheticGaussianDataset`` (no download).
    case syntheticGaussian = "synthetic-gaussian"
    /// MNIST embedded by PCA (needs the IDX files).
    case mnist
  }

  public var spec: IterativeAttentionStudy.ModelSpec
  /// Training settings (epochs, learning rate, batch, patience) and the task's sizes.
  public var settings: IterativeAttentionStudy.Settings
  public var seed: UInt64
  public var task: Task
  /// Folder of the MNIST IDX files (``Task/mnist`` only).
  public var mnistDirectory: URL
  /// The command line, recorded in config.json and CARD.md.
  public var command: String
  /// Progress lines (one per epoch).
  public var log: @Sendable (String) -> Void

  public init(
    spec: IterativeAttentionStudy.ModelSpec, settings: IterativeAttentionStudy.Settings = .full, seed: UInt64 = 0,
    task: Task = .syntheticGaussian, mnistDirectory: URL = URL(fileURLWithPath: "Data/mnist"), command: String,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.spec = spec
    self.settings = settings
    self.seed = seed
    self.task = task
    self.mnistDirectory = mnistDirectory
    self.command = command
    self.log = log
  }

  /// One epoch of the training table.
  public struct Epoch: Sendable, Codable, Equatable {
    public var epoch: Int
    /// Mean minibatch loss of the epoch.
    public var trainingLoss: Double
    /// Validation loss after the epoch.
    public var validationLoss: Double
  }

  /// Test accuracy of the trained model under one corruption, before and after iterating.
  public struct Evaluation: Sendable, Codable, Equatable {
    public var corruption: String
    /// Accuracy at t = 0 (the cue), 1 and T.
    public var accuracy: [Double]
    public var steps: [Int]
  }

  /// What ``run(into:)`` did.
  public struct Summary: Sendable, Codable, Equatable {
    public var model: IterativeAttentionStudy.ModelSpec
    public var task: String
    public var seed: UInt64
    public var initialValidationLoss: Double
    public var epochs: [Epoch]
    /// Epoch whose parameters were kept (0: none improved on the start).
    public var bestEpoch: Int
    public var stoppedEarly: Bool
    public var seconds: Double
    public var blasThreads: Int
    public var evaluations: [Evaluation]
    /// The model folder written.
    public var folder: String

    /// The training table, the test accuracies and where the folder is.
    public var markdown: String {
      let m = model
      var lines = [
        "\(m.name) (L = \(m.layers), H = \(m.heads), d = \(m.width), τ = \(m.temperature)) on \(task), seed \(seed): "
          + String(format: "%.1f s, OpenBLAS threads %d", seconds, blasThreads),
        "",
      ]
      let losses =
        [["0", "—", String(format: "%.4f", initialValidationLoss)]]
        + epochs.map {
          ["\($0.epoch)", String(format: "%.4f", $0.trainingLoss), String(format: "%.4f", $0.validationLoss)]
        }
      lines += MarkdownTable(header: ["epoch", "training loss", "validation loss"], leftColumns: 0, rows: losses).lines
      lines.append("")
      lines.append("kept epoch \(bestEpoch)\(stoppedEarly ? " (stopped early)" : "")")
      if let steps = evaluations.first?.steps {
        let accuracies = MarkdownTable(
          header: ["test corruption"] + steps.map { "accuracy t = \($0)" }, leftColumns: 1,
          rows: evaluations.map { e in ["\(e.corruption)"] + e.accuracy.map { String(format: "%.4f", $0) } })
        lines += [""] + accuracies.lines
      }
      lines += ["", "model folder: \(folder) (load with attractor recall --model-folder \(folder))"]
      return lines.joined(separator: "\n") + "\n"
    }
  }

  /// Checks the sizes before any work.
  public func validate() throws(DatasetError) {
    let dataDimension = task == .mnist ? settings.mnistDimension : settings.syntheticDimension
    try DatasetError.check(
      spec.width >= dataDimension, "width", spec.width, "at least the data dimension \(dataDimension)")
    try DatasetError.check(spec.layers >= 1, "layers", spec.layers, "at least 1")
    try DatasetError.check(
      spec.heads >= 1 && spec.width % spec.heads == 0, "heads", spec.heads,
      "at least 1 and dividing the width \(spec.width)")
    try DatasetError.check(settings.syntheticCount >= 10, "syntheticCount", settings.syntheticCount, "at least 10")
    try DatasetError.check(settings.epochs >= 1, "epochs", settings.epochs, "at least 1")
  }

  /// Trains, writes the model folder at `folder` (created if missing) and evaluates.
  ///
  /// - Throws: ``IterativeAttentionReproductionError/missingMNIST(directory:files:)``,
  ///   ``/AttractorExperiments/DatasetError``, ``/AttractorModels/ModelError`` from training; file errors.
  public func run(into folder: URL) throws -> Summary {
    try validate()
    var settings = self.settings
    settings.includesMNIST = task == .mnist
    if task == .mnist {
      let missing = IterativeAttentionStudy.missingMNISTFiles(in: mnistDirectory)
      if !missing.isEmpty {
        throw IterativeAttentionReproductionError.missingMNIST(directory: mnistDirectory.path, files: missing)
      }
    }
    let study = IterativeAttentionStudy(settings: settings, log: log)
    let data = task == .mnist ? try study.mnistTask(directory: mnistDirectory) : try study.syntheticTask(seed: seed)
    log("\(data.name): training \(spec.name), seed \(seed)")
    let trained = try study.train(spec, task: data, seed: seed)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try study.saveModel(trained, task: data, seed: seed, command: command, to: folder)
    let steps = Array(Set([0, 1, settings.steps])).sorted()
    let curves = try study.evaluate(
      trained.model, name: spec.name, task: data, seed: seed,
      corruptions: [.gaussianNoise(sigma: 0.3), .gaussianNoise(sigma: settings.hardNoise)])
    let h = trained.history
    return Summary(
      model: spec, task: data.name, seed: seed, initialValidationLoss: h.initialValidationLoss,
      epochs: zip(h.trainingLoss, h.validationLoss).enumerated().map {
        Epoch(epoch: $0 + 1, trainingLoss: $1.0, validationLoss: $1.1)
      },
      bestEpoch: h.bestEpoch, stoppedEarly: h.stoppedEarly, seconds: trained.seconds, blasThreads: BLAS.threadCount,
      evaluations: curves.map { c in
        Evaluation(
          corruption: c.corruption.description, accuracy: steps.map { c.accuracy[min($0, c.accuracy.count - 1)] },
          steps: steps)
      },
      folder: folder.path)
  }
}

extension IterativeAttentionStudy.ModelSpec {
  /// The short names of seed 000's configurations, in the order of ``IterativeAttentionStudy/Settings/models``.
  public static let shortNames = ["single-head", "small", "medium"]

  /// The configuration of the full study with short name `name` (single-head, small, medium).
  public static func named(_ name: String) -> Self? {
    zip(shortNames, [Self.singleHead, .small, .medium]).first { $0.0 == name }?.1
  }
}

extension IterativeAttentionStudy.Settings {
  /// Keeps the configurations whose short names (``IterativeAttentionStudy/ModelSpec/shortNames``,
  /// by position) are in `names`.
  public mutating func keepModels(named names: [String]) {
    let wanted = Set(names)
    models = zip(IterativeAttentionStudy.ModelSpec.shortNames, models).filter { wanted.contains($0.0) }.map(\.1)
  }
}
