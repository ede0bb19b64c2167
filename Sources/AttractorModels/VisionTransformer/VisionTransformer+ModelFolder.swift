import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The `config.json` record of a trained ``VisionTransformer`` (plain or AiT), and the loading and
/// saving of its ``/AttractorIO/ModelFolder`` (the folders of `Models/`).
///
/// ```
/// <folder>/config.json           format, configuration, trainer settings, history, data, command
/// <folder>/weights.safetensors   every parameter under its name (``VisionTransformer/parameterNames``), F32;
///                                workspace.memory (M × D) for an AiT (a parameter, with AdamW moments,
///                                for MemoryUpdate.gradient);
///                                while training is unfinished also optimizer.first.<name> and
///                                optimizer.second.<name> (AdamW's moments) for an exact resume
/// <folder>/CARD.md               how it was trained, with which command, and what it scores
/// ```
public struct VisionTransformerModelFolder: Sendable, Codable, Equatable {
  /// Format tag and version checked on load.
  public static let format = "attractors.vision-transformer"
  public static let formatVersion = 1
  /// The kind ``/AttractorIO/ModelFolder`` checks in `config.json`.
  public static let kind = ModelFolder.Kind(
    key: "format", name: format, versionKey: "formatVersion", versions: formatVersion...formatVersion)

  public var format: String = VisionTransformerModelFolder.format
  public var formatVersion: Int = VisionTransformerModelFolder.formatVersion
  public var configuration: VisionTransformerConfiguration
  public var trainer: VisionTransformerTrainer
  public var history: VisionTransformerTrainer.History
  /// Seed of the model's initialisation.
  public var modelSeed: UInt64
  /// AdamW's step count at the checkpoint (0 when no optimiser state is stored).
  public var optimizerStep: Int
  /// What the data were (free text).
  public var data: String
  /// The exact command that made the folder.
  public var command: String

  public init(
    configuration: VisionTransformerConfiguration, trainer: VisionTransformerTrainer,
    history: VisionTransformerTrainer.History, modelSeed: UInt64, optimizerStep: Int, data: String, command: String
  ) {
    self.configuration = configuration
    self.trainer = trainer
    self.history = history
    self.modelSeed = modelSeed
    self.optimizerStep = optimizerStep
    self.data = data
    self.command = command
  }

  /// Whether training stopped before the configured number of epochs (a checkpoint).
  public var isCheckpoint: Bool { history.epochsCompleted < trainer.epochs }

  /// Writes `model` (and, for a checkpoint, the optimiser's moments) into `folder` as one atomic replacement.
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError/writeFailed(path:reason:)``.
  public static func save(
    _ model: VisionTransformer<Float>, record: VisionTransformerModelFolder,
    optimizer: VisionTransformerTrainer.OptimizerState?, card: String, to folder: URL
  ) throws(ModelFolderError) {
    var tensors: [String: Tensor] = [:]
    let names = model.parameterNames
    for (name, m) in zip(names, model.parameters) { tensors[name] = Tensor(m) }
    // (With a trained memory "workspace.memory" is also a parameter name: the same tensor.)
    if let workspace = model.workspace { tensors["workspace.memory"] = Tensor(workspace.memory) }
    if let optimizer {
      for (k, (name, m)) in zip(names, model.parameters).enumerated() {
        tensors["optimizer.first.\(name)"] = Tensor(
          Matrix(rows: m.rows, columns: m.columns, elements: optimizer.firstMoments[k]))
        tensors["optimizer.second.\(name)"] = Tensor(
          Matrix(rows: m.rows, columns: m.columns, elements: optimizer.secondMoments[k]))
      }
    }
    let config: Data
    do { config = try JSONCoding.encode(record) } catch {
      throw .writeFailed(path: folder.path, reason: "config.json: \(error)")
    }
    try ModelFolder.write(to: folder, config: config, tensors: tensors, metadata: ["format": format], card: card)
  }

  /// Reads a folder: the record, the model (with its memory) and the optimiser state when stored.
  ///
  /// Validates the files, kind and version, the configuration, and every tensor's name, shape,
  /// dtype and finiteness (a tensor the format does not know is refused; the memory's rows must be
  /// unit vectors).
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError`` naming the file and what is wrong.
  public static func load(from folder: URL) throws(ModelFolderError) -> (
    record: VisionTransformerModelFolder, model: VisionTransformer<Float>,
    optimizer: VisionTransformerTrainer.OptimizerState?
  ) {
    let files = try ModelFolder(opening: folder)
    let configPath = files.configURL.path
    let weightsPath = files.weightsURL.path
    let record = try files.config(VisionTransformerModelFolder.self, kind: kind)
    var model: VisionTransformer<Float>
    do { model = try VisionTransformer(configuration: record.configuration, seed: record.modelSeed) } catch {
      throw .invalidConfig(path: configPath, reason: "\(error)")
    }
    let names = model.parameterNames
    let shapes = model.parameters.map { [$0.rows, $0.columns] as [Int?] }
    var expected = zip(names, shapes).map { ModelFolder.TensorExpectation($0, shape: $1) }
    if let w = record.configuration.workspace, !names.contains("workspace.memory") {
      expected.append(.init("workspace.memory", shape: [w.priorCount, w.priorWidth]))
    }
    let hasOptimizer = record.optimizerStep > 0
    if hasOptimizer {
      for (name, shape) in zip(names, shapes) {
        expected.append(.init("optimizer.first.\(name)", shape: shape))
        expected.append(.init("optimizer.second.\(name)", shape: shape))
      }
    }
    let tensors = try files.tensors(expecting: expected, allowingOthers: false)
    func matrix(_ name: String) throws(ModelFolderError) -> Matrix<Float> {
      guard let t = tensors[name] else { throw .missingTensor(path: weightsPath, name: name) }
      let m: Matrix<Float>
      do { m = try t.matrix(as: Float.self) } catch {
        throw .tensorMismatch(path: weightsPath, name: name, reason: "\(error)")
      }
      guard m.isFinite else { throw .tensorMismatch(path: weightsPath, name: name, reason: "non-finite values") }
      return m
    }
    var parameters: [Matrix<Float>] = []
    for name in names { parameters.append(try matrix(name)) }
    model.parameters = parameters
    if model.workspace != nil {
      do { try model.workspace!.setMemory(try matrix("workspace.memory")) } catch {
        throw .tensorMismatch(path: weightsPath, name: "workspace.memory", reason: "\(error)")
      }
    }
    var optimizer: VisionTransformerTrainer.OptimizerState? = nil
    if hasOptimizer {
      var first: [[Float]] = [], second: [[Float]] = []
      for name in names {
        first.append(try matrix("optimizer.first.\(name)").elements)
        second.append(try matrix("optimizer.second.\(name)").elements)
      }
      optimizer = .init(step: record.optimizerStep, firstMoments: first, secondMoments: second)
    }
    return (record, model, optimizer)
  }
}
