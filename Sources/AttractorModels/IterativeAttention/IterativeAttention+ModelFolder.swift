import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// The `config.json` record of a trained ``IterativeAttention`` stack, and the loading and saving
/// of its ``/AttractorIO/ModelFolder`` (the folders of `Models/`).
///
/// ```
/// <folder>/config.json           format, configuration, data dimension, memory, training record
/// <folder>/weights.safetensors   layers.<l>.{query,key,value,output} (width × width, F32),
///                                the blocks' layers.<l>.attention_norm.{gain,bias},
///                                layers.<l>.feed_forward_norm.{gain,bias} and
///                                layers.<l>.feed_forward.{input_weights,input_bias,output_weights,output_bias}
///                                when the configuration has them (format version 2),
///                                and memory.keys (M × d_data, F32) when the memory is stored
/// <folder>/CARD.md               how it was trained, with which command, and what it scores
/// ```
///
/// The memory is either stored (`memory.keys`; every folder the studies write now stores it, so
/// anyone can check a model without our generator) or, in folders written before, described by a
/// seeded recipe that regenerates it exactly (the Synthetic-Gaussian dataset of
/// `AttractorExperiments` with its count, dimension and seed); both still load. Patterns of dimension d_data are
/// zero-padded to the width when the model is built. Keys equal values in every model the study
/// trains.
public struct IterativeAttentionModelFolder: Sendable, Codable, Equatable {
  /// Format tag and version checked on load (the `format` and `formatVersion` keys).
  public static let format = "attractors.iterative-attention"
  /// Version 2 adds the block options (residual, LayerNorm, feed-forward, readout) to the
  /// configuration and their tensors; version-1 folders (seed 000's plain stack) still load.
  public static let formatVersion = 2
  /// The kind ``/AttractorIO/ModelFolder`` checks in `config.json`.
  public static let kind = ModelFolder.Kind(
    key: "format", name: format, versionKey: "formatVersion", versions: 1...formatVersion)

  /// Where the stored patterns come from.
  public enum Memory: Sendable, Codable, Equatable {
    /// `memory.keys` in the weights file.
    case stored
    /// The Synthetic-Gaussian dataset with these parameters.
    case syntheticGaussian(count: Int, dimension: Int, seed: UInt64)
  }

  public var format: String = IterativeAttentionModelFolder.format
  public var formatVersion: Int = IterativeAttentionModelFolder.formatVersion
  public var configuration: IterativeAttentionConfiguration
  /// Dimension of the data before zero padding.
  public var dataDimension: Int
  public var memory: Memory
  /// Task name, seed, settings, training history: free-form record of how it was made.
  public var task: String
  public var seed: UInt64
  public var command: String
  public var history: IterativeAttentionTrainer.History
  public var trainingSeconds: Double

  public init(
    configuration: IterativeAttentionConfiguration, dataDimension: Int, memory: Memory, task: String, seed: UInt64,
    command: String, history: IterativeAttentionTrainer.History, trainingSeconds: Double
  ) {
    self.configuration = configuration
    self.dataDimension = dataDimension
    self.memory = memory
    self.task = task
    self.seed = seed
    self.command = command
    self.history = history
    self.trainingSeconds = trainingSeconds
  }

  /// What ``load(from:regeneratingMemory:)`` returns: the record, the model, and the unpadded
  /// patterns (M × d_data).
  public typealias Loaded = (
    record: IterativeAttentionModelFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>
  )

  /// The tensors a folder with this record must hold: each layer's four width × width F32
  /// projections, and `memory.keys` (M × d_data) when the memory is stored.
  public var expectedTensors: [ModelFolder.TensorExpectation] {
    let w = configuration.width
    var out: [ModelFolder.TensorExpectation] = []
    for l in 0..<max(0, configuration.layers) {
      for part in ["query", "key", "value", "output"] { out.append(.init("layers.\(l).\(part)", shape: [w, w])) }
      let names = IterativeAttentionBlock<Float>.tensorNames(configuration: configuration, layer: l)
      let shapes = IterativeAttentionBlock<Float>.tensorShapes(configuration: configuration, layer: l)
      for (name, shape) in zip(names, shapes) { out.append(.init(name, shape: shape)) }
    }
    if memory == .stored { out.append(.init("memory.keys", shape: [nil, dataDimension])) }
    return out
  }

  /// Writes `model` into `folder` as one atomic replacement (see
  /// ``/AttractorIO/ModelFolder/write(to:layout:config:tensors:metadata:card:extraFiles:)``).
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError/writeFailed(path:reason:)``.
  public static func save(
    _ model: IterativeAttention<Float>, record: IterativeAttentionModelFolder, memoryKeys: Matrix<Float>?,
    card: String, to folder: URL
  ) throws(ModelFolderError) {
    var tensors: [String: Tensor] = [:]
    for (l, layer) in model.layers.enumerated() {
      tensors["layers.\(l).query"] = Tensor(layer.query)
      tensors["layers.\(l).key"] = Tensor(layer.key)
      tensors["layers.\(l).value"] = Tensor(layer.value)
      tensors["layers.\(l).output"] = Tensor(layer.output)
      let names = IterativeAttentionBlock<Float>.tensorNames(configuration: model.configuration, layer: l)
      for (name, value) in zip(names, model.blocks[l].parameters) { tensors[name] = Tensor(value) }
    }
    if let memoryKeys { tensors["memory.keys"] = Tensor(memoryKeys) }
    let config: Data
    do { config = try JSONCoding.encode(record) } catch {
      throw .writeFailed(path: folder.path, reason: "config.json: \(error)")
    }
    try ModelFolder.write(to: folder, config: config, tensors: tensors, metadata: ["format": format], card: card)
  }

  /// Reads a folder: the record, the layers, and the memory as an ``IterativeAttention`` over the
  /// zero-padded patterns.
  ///
  /// Validates the files (``/AttractorIO/ModelFolder``), the kind and version, the data dimension
  /// against the width, and every tensor's name, shape and dtype (``expectedTensors``); a tensor the configuration does not use is refused. A stored
  /// memory is read from `memory.keys`; a recipe is passed to `regenerate` (count, dimension,
  /// seed), which returns the patterns; `AttractorExperiments` adds `load(from:)`, which passes
  /// `SyntheticGaussianDataset`'s patterns.
  ///
  /// - Returns: the record, the model and the unpadded patterns (M × d_data).
  /// - Throws: ``/AttractorIO/ModelFolderError`` naming the file and what is wrong.
  public static func load(
    from folder: URL,
    regeneratingMemory regenerate: (_ count: Int, _ dimension: Int, _ seed: UInt64) throws -> Matrix<Float>
  ) throws(ModelFolderError) -> Loaded {
    let files = try ModelFolder(opening: folder)
    let configPath = files.configURL.path
    let record = try files.config(IterativeAttentionModelFolder.self, kind: kind)
    let c = record.configuration
    guard record.dataDimension >= 1 && record.dataDimension <= c.width else {
      throw .invalidConfig(
        path: configPath, reason: "dataDimension \(record.dataDimension) must be in 1…width (\(c.width))")
    }
    let tensors = try files.tensors(expecting: record.expectedTensors, allowingOthers: false)
    func matrix(_ name: String) throws(ModelFolderError) -> Matrix<Float> {
      guard let t = tensors[name] else { throw .missingTensor(path: files.weightsURL.path, name: name) }
      do { return try t.matrix(as: Float.self) } catch {
        throw .tensorMismatch(path: files.weightsURL.path, name: name, reason: "values that cannot be used: \(error)")
      }
    }
    var layers: [AttentionLayerParameters<Float>] = []
    var blocks = IterativeAttentionBlock<Float>.initial(configuration: c, seed: 0)
    for l in 0..<max(0, c.layers) {
      layers.append(
        AttentionLayerParameters(
          query: try matrix("layers.\(l).query"), key: try matrix("layers.\(l).key"),
          value: try matrix("layers.\(l).value"), output: try matrix("layers.\(l).output")))
      var values: [Matrix<Float>] = []
      for name in IterativeAttentionBlock<Float>.tensorNames(configuration: c, layer: l) {
        values.append(try matrix(name))
      }
      var rest = values[...]
      blocks[l].take(from: &rest)
    }
    let patterns: Matrix<Float>
    switch record.memory {
    case .stored:
      patterns = try matrix("memory.keys")
    case .syntheticGaussian(let count, let dimension, let seed):
      guard dimension == record.dataDimension else {
        throw .invalidConfig(
          path: configPath, reason: "memory dimension \(dimension) differs from dataDimension \(record.dataDimension)")
      }
      do { patterns = try regenerate(count, dimension, seed) } catch {
        throw .invalidConfig(path: configPath, reason: "memory recipe: \(error)")
      }
    }
    let padded = patterns.zeroPadded(toColumns: c.width)
    do {
      let model = try IterativeAttention(
        configuration: c, keys: padded, values: padded, layers: layers, blocks: blocks)
      return (record, model, patterns)
    } catch {
      throw .invalidConfig(path: configPath, reason: "\(error)")
    }
  }
}
