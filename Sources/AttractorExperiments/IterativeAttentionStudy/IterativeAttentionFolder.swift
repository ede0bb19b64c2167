import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// A trained ``/AttractorModels/IterativeAttention`` stack on disk: the folder format of `Models/`.
///
/// ```
/// <folder>/config.json           format, configuration, data dimension, memory, training record
/// <folder>/weights.safetensors   layers.<l>.{query,key,value,output} (width × width, F32)
///                                and memory.keys (M × d_data, F32) when the memory is stored
/// <folder>/CARD.md               how it was trained, with which command, and what it scores
/// ```
///
/// The memory is either stored (`memory.keys`, for small memories such as the 10 MNIST
/// prototypes) or described by the seeded recipe that regenerates it exactly
/// (``SyntheticGaussianDataset`` with its count, dimension and seed), which keeps a 10,000-vector
/// memory out of the repository. Patterns of dimension d_data are zero-padded to the width when the
/// model is built. Keys equal values in every model the study trains.
public struct IterativeAttentionFolder: Sendable, Codable, Equatable {
  /// Format tag and version checked on load.
  public static let format = "attractors.iterative-attention"
  public static let formatVersion = 1

  /// Where the stored patterns come from.
  public enum Memory: Sendable, Codable, Equatable {
    /// `memory.keys` in the weights file.
    case stored
    /// ``SyntheticGaussianDataset`` with these parameters.
    case syntheticGaussian(count: Int, dimension: Int, seed: UInt64)
  }

  public var format: String = IterativeAttentionFolder.format
  public var formatVersion: Int = IterativeAttentionFolder.formatVersion
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

  /// Writes `model` into `folder` (created if needed); every file is written atomically.
  public static func save(
    _ model: IterativeAttention<Float>, record: IterativeAttentionFolder, memoryKeys: Matrix<Float>?, card: String,
    to folder: URL
  ) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var tensors: [String: Tensor] = [:]
    for (l, layer) in model.layers.enumerated() {
      tensors["layers.\(l).query"] = Tensor(layer.query)
      tensors["layers.\(l).key"] = Tensor(layer.key)
      tensors["layers.\(l).value"] = Tensor(layer.value)
      tensors["layers.\(l).output"] = Tensor(layer.output)
    }
    if let memoryKeys { tensors["memory.keys"] = Tensor(memoryKeys) }
    try SafeTensorsFile.write(tensors, metadata: ["format": format], to: folder.appendingPathComponent("weights.safetensors"))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(record).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
    try Data(card.utf8).write(to: folder.appendingPathComponent("CARD.md"), options: .atomic)
  }

  /// Reads a folder: the record, the layers, and the memory (regenerated or stored) as an
  /// ``/AttractorModels/IterativeAttention`` over the zero-padded patterns.
  ///
  /// - Returns: the model and the unpadded patterns (M × d_data).
  /// - Throws: ``IterativeAttentionFolderError`` naming the file and what is wrong.
  public static func load(from folder: URL) throws(IterativeAttentionFolderError) -> (
    record: IterativeAttentionFolder, model: IterativeAttention<Float>, patterns: Matrix<Float>
  ) {
    let configURL = folder.appendingPathComponent("config.json")
    let weightsURL = folder.appendingPathComponent("weights.safetensors")
    for url in [configURL, weightsURL] where !FileManager.default.fileExists(atPath: url.path) {
      throw .missingFile(path: url.path)
    }
    let record: IterativeAttentionFolder
    do {
      record = try JSONDecoder().decode(IterativeAttentionFolder.self, from: Data(contentsOf: configURL))
    } catch {
      throw .badConfig(path: configURL.path, reason: "\(error)")
    }
    guard record.format == format, record.formatVersion == formatVersion else {
      throw .badConfig(
        path: configURL.path,
        reason: "format \(record.format) version \(record.formatVersion); this tool reads \(format) version \(formatVersion)")
    }
    let c = record.configuration
    guard record.dataDimension >= 1 && record.dataDimension <= c.width else {
      throw .badConfig(path: configURL.path, reason: "dataDimension \(record.dataDimension) must be in 1…width (\(c.width))")
    }
    let tensors: [String: Tensor]
    do {
      tensors = try SafeTensorsFile.read(from: weightsURL).tensors
    } catch {
      throw .badWeights(path: weightsURL.path, reason: "\(error)")
    }
    func matrix(_ name: String, rows: Int?, columns: Int) throws(IterativeAttentionFolderError) -> Matrix<Float> {
      guard let t = tensors[name] else { throw .badWeights(path: weightsURL.path, reason: "tensor \(name) is missing") }
      let m: Matrix<Float>
      do { m = try t.matrix(as: Float.self) } catch { throw .badWeights(path: weightsURL.path, reason: "\(name): \(error)") }
      guard t.rank == 2, rows.map({ m.rows == $0 }) ?? true, m.columns == columns else {
        throw .badWeights(
          path: weightsURL.path, reason: "\(name) has shape \(t.shape), expected [\(rows.map(String.init) ?? "M"), \(columns)]")
      }
      return m
    }
    var layers: [AttentionLayerParameters<Float>] = []
    for l in 0..<max(0, c.layers) {
      layers.append(
        AttentionLayerParameters(
          query: try matrix("layers.\(l).query", rows: c.width, columns: c.width),
          key: try matrix("layers.\(l).key", rows: c.width, columns: c.width),
          value: try matrix("layers.\(l).value", rows: c.width, columns: c.width),
          output: try matrix("layers.\(l).output", rows: c.width, columns: c.width)))
    }
    let patterns: Matrix<Float>
    switch record.memory {
    case .stored:
      patterns = try matrix("memory.keys", rows: nil, columns: record.dataDimension)
    case .syntheticGaussian(let count, let dimension, let seed):
      guard dimension == record.dataDimension else {
        throw .badConfig(path: configURL.path, reason: "memory dimension \(dimension) differs from dataDimension \(record.dataDimension)")
      }
      do {
        patterns = try SyntheticGaussianDataset<Float>(count: count, dimension: dimension, seed: seed).patterns
      } catch {
        throw .badConfig(path: configURL.path, reason: "memory recipe: \(error)")
      }
    }
    let padded = patterns.zeroPadded(toColumns: c.width)
    do {
      let model = try IterativeAttention(configuration: c, keys: padded, values: padded, layers: layers)
      return (record, model, patterns)
    } catch {
      throw .badConfig(path: configURL.path, reason: "\(error)")
    }
  }
}

/// Errors reading an ``IterativeAttentionFolder``.
public enum IterativeAttentionFolderError: Error, Equatable, Sendable, CustomStringConvertible {
  case missingFile(path: String)
  case badConfig(path: String, reason: String)
  case badWeights(path: String, reason: String)

  public var description: String {
    switch self {
    case .missingFile(let path):
      return "the model folder is incomplete: \(path) does not exist (a model folder holds config.json and weights.safetensors)"
    case .badConfig(let path, let reason): return "the model configuration \(path) is invalid: \(reason)"
    case .badWeights(let path, let reason): return "the model weights \(path) are invalid: \(reason)"
    }
  }
}
