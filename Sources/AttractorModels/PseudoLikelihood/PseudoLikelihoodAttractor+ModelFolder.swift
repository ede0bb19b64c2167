import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The `config.json` record of a trained ``PseudoLikelihoodAttractor``, and the loading and saving
/// of its ``/AttractorIO/ModelFolder`` (the folders of `Models/`).
///
/// ```
/// <folder>/config.json           format, configuration, trainer settings, history, data description
/// <folder>/weights.safetensors   couplings   (N, N, d, d) F32, couplings[i, j] = J_ij, J_ii = 0
///                                examples    (M, N·d) F32, optional: training states kept as the
///                                            starts of fixed-point analysis
/// <folder>/CARD.md               how it was trained, with which command, and what it scores
/// ```
///
/// A checkpoint is a folder in the same format whose history has fewer epochs than its settings;
/// training resumes from it (``PseudoLikelihoodTrainer/train(_:data:resumingFrom:progress:checkpoint:)``).
public struct PseudoLikelihoodModelFolder: Sendable, Codable, Equatable {
  /// Format tag and version checked on load.
  public static let format = "attractors.pseudo-likelihood"
  public static let formatVersion = 1
  /// The kind ``/AttractorIO/ModelFolder`` checks in `config.json`.
  public static let kind = ModelFolder.Kind(
    key: "format", name: format, versionKey: "formatVersion", versions: formatVersion...formatVersion)

  public var format: String = PseudoLikelihoodModelFolder.format
  public var formatVersion: Int = PseudoLikelihoodModelFolder.formatVersion
  public var configuration: PseudoLikelihoodConfiguration
  public var trainer: PseudoLikelihoodTrainer
  public var history: PseudoLikelihoodTrainer.History
  /// What the data were and how states were made from them (free text, e.g. the MNIST embedding).
  public var data: String
  /// The exact command that made the folder.
  public var command: String

  public init(
    configuration: PseudoLikelihoodConfiguration, trainer: PseudoLikelihoodTrainer,
    history: PseudoLikelihoodTrainer.History, data: String, command: String
  ) {
    self.configuration = configuration
    self.trainer = trainer
    self.history = history
    self.data = data
    self.command = command
  }

  /// Whether training stopped before the configured number of epochs (a checkpoint).
  public var isCheckpoint: Bool { history.epochsCompleted < trainer.epochs }

  /// The tensors a folder with this record holds.
  public var expectedTensors: [ModelFolder.TensorExpectation] {
    let n = configuration.tokens, d = configuration.tokenWidth
    return [
      .init("couplings", shape: [n, n, d, d]),
      .init("examples", shape: [nil, n * d], isOptional: true),
    ]
  }

  /// Writes `model` (and optionally example states) into `folder` as one atomic replacement.
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError/writeFailed(path:reason:)``.
  public static func save(
    _ model: PseudoLikelihoodAttractor<Float>, record: PseudoLikelihoodModelFolder, examples: Matrix<Float>?,
    card: String, to folder: URL
  ) throws(ModelFolderError) {
    let n = model.tokenCount, d = model.tokenWidth
    var tensors: [String: Tensor] = [:]
    do {
      tensors["couplings"] = try Tensor(shape: [n, n, d, d], storage: .float32(model.couplings.elements))
    } catch {
      throw .writeFailed(path: folder.path, reason: "couplings: \(error)")
    }
    if let examples { tensors["examples"] = Tensor(examples) }
    let config: Data
    do { config = try JSONCoding.encode(record) } catch {
      throw .writeFailed(path: folder.path, reason: "config.json: \(error)")
    }
    try ModelFolder.write(to: folder, config: config, tensors: tensors, metadata: ["format": format], card: card)
  }

  /// Reads a folder: the record, the model, and the example states (nil when not stored).
  ///
  /// Validates the files, the kind and version, the configuration, every tensor's name, shape and
  /// dtype (a tensor the format does not know is refused) and the couplings' values (finite, zero
  /// diagonal blocks).
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError`` naming the file and what is wrong.
  public static func load(
    from folder: URL
  ) throws(ModelFolderError) -> (
    record: PseudoLikelihoodModelFolder, model: PseudoLikelihoodAttractor<Float>, examples: Matrix<Float>?
  ) {
    let files = try ModelFolder(opening: folder)
    let configPath = files.configURL.path
    let record = try files.config(PseudoLikelihoodModelFolder.self, kind: kind)
    do { try record.configuration.validate() } catch { throw .invalidConfig(path: configPath, reason: "\(error)") }
    let tensors = try files.tensors(expecting: record.expectedTensors, allowingOthers: false)
    let n = record.configuration.tokens, d = record.configuration.tokenWidth
    guard let couplings = tensors["couplings"], case .float32(let values) = couplings.storage else {
      throw .missingTensor(path: files.weightsURL.path, name: "couplings")
    }
    let matrix = Matrix<Float>(rows: n * n * d, columns: d, elements: values)
    let model: PseudoLikelihoodAttractor<Float>
    do { model = try PseudoLikelihoodAttractor(configuration: record.configuration, couplings: matrix) } catch {
      throw .tensorMismatch(path: files.weightsURL.path, name: "couplings", reason: "\(error)")
    }
    var examples: Matrix<Float>? = nil
    if let t = tensors["examples"] {
      do { examples = try t.matrix(as: Float.self) } catch {
        throw .tensorMismatch(path: files.weightsURL.path, name: "examples", reason: "\(error)")
      }
      guard examples!.isFinite else {
        throw .tensorMismatch(path: files.weightsURL.path, name: "examples", reason: "non-finite values")
      }
    }
    return (record, model, examples)
  }
}
