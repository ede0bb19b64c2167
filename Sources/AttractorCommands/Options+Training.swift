import ArgumentParser
import Attractors
import Foundation

// The option groups of commands that train models (`train`, `reproduce`) or time them (`bench`).

/// `--epochs`, `--learning-rate`, `--batch-size`: how a model is trained. An option left out keeps
/// the command's training settings (each command states its defaults in its description).
struct TrainingOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Most training epochs (default: see the command's description).", valueName: "n"))
  var epochs: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Peak AdamW learning rate, cosine-decayed to 0.05× over the epochs (default: see the command's description).",
      valueName: "η"))
  var learningRate: Double?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Training minibatch (default: see the command's description).", valueName: "B"))
  var batchSize: Int?

  func validate() throws {
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    if let learningRate, !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
    }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
  }

  /// Puts the options given into `settings`.
  func apply(to settings: inout IterativeAttentionStudy.Settings) {
    if let epochs { settings.epochs = epochs }
    if let learningRate { settings.learningRate = learningRate }
    if let batchSize { settings.batchSize = batchSize }
  }

  /// The options given, as typed, for a rebuilt command line.
  var arguments: [String] {
    var parts: [String] = []
    if let epochs { parts += ["--epochs", "\(epochs)"] }
    if let learningRate { parts += ["--learning-rate", "\(learningRate)"] }
    if let batchSize { parts += ["--batch-size", "\(batchSize)"] }
    return parts
  }
}

/// `--layers`, `--heads`, `--dimension`, `--temperature`: the shape of an attention stack (L layers
/// of H heads, width d, logits scaled by 1/(τ √d_h)). An option left out keeps the command's
/// default (each command states it in its description).
struct AttentionShapeOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Attention layers L (default: see the command's description).", valueName: "L"))
  var layers: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Heads per layer H (must divide the width d; default: see the command's description).", valueName: "H"))
  var heads: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Model width d (default: see the command's description).", valueName: "d"))
  var dimension: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Temperature τ (logits scaled by 1/(τ √d_h); default 1).", valueName: "τ"))
  var temperature: Double?

  /// The limits every attention stack has; a command adds its own (upper bounds, the width a
  /// multiple of the heads).
  func validate() throws {
    if let layers, !(1...64).contains(layers) {
      throw ValidationError("--layers must be between 1 and 64, got \(layers)")
    }
    if let heads, heads < 1 { throw ValidationError("--heads must be at least 1, got \(heads)") }
    if let dimension, dimension < 1 { throw ValidationError("--dimension must be at least 1, got \(dimension)") }
    if let temperature, !(temperature.isFinite && temperature > 0) {
      throw ValidationError("--temperature must be finite and positive, got \(temperature)")
    }
  }

  /// The options given, as typed, for a rebuilt command line.
  var arguments: [String] {
    var parts: [String] = []
    if let layers { parts += ["--layers", "\(layers)"] }
    if let heads { parts += ["--heads", "\(heads)"] }
    if let dimension { parts += ["--dimension", "\(dimension)"] }
    if let temperature { parts += ["--temperature", "\(temperature)"] }
    return parts
  }
}

/// `--dataset mnist|fashion-mnist` and `--mnist DIR`: the image data set and the folder of its IDX
/// files, shared by every command that trains or measures on images (`train`/`reproduce`/`bench
/// pseudo-likelihood`, `train ait`, `reproduce ait`).
struct ImageDataOptions: ParsableArguments {
  @Option(help: "The image data set: mnist or fashion-mnist.")
  var dataset: ImageDataset = .mnist

  @Option(
    help: ArgumentHelp(
      "Folder of the data set's IDX files (default Data/mnist, or Data/fashion-mnist with --dataset fashion-mnist).",
      valueName: "dir"))
  var mnist: String?

  /// The folder to read: `--mnist`, or the data set's default folder.
  var directory: URL { URL(fileURLWithPath: mnist ?? dataset.defaultDirectory) }

  /// The options as they appear in a recorded command line (defaults left out).
  var commandLineParts: [String] {
    var parts: [String] = []
    if dataset != .mnist { parts += ["--dataset", dataset.rawValue] }
    if let mnist, mnist != dataset.defaultDirectory { parts += ["--mnist", mnist] }
    return parts
  }
}
