import AttractorCore
import AttractorExperiments
import AttractorIO
import Foundation

/// Seed 000's iterative-attention study run end to end into a report folder
/// (`attractor reproduce iterative-attention`): ``IterativeAttentionStudy`` measures,
/// ``IterativeAttentionReport`` writes the README, tables, results and figures.
///
/// While the study runs, the results measured so far are kept in `results.partial.json` after each
/// task of each seed (a long run that stops early keeps what it measured); `results.json` is
/// written before the report is rendered, so a failure while rendering loses nothing.
public struct IterativeAttentionReproduction: Sendable {
  public var settings: IterativeAttentionStudy.Settings
  /// Folder of the MNIST IDX files (read when ``IterativeAttentionStudy/Settings/includesMNIST``).
  public var mnistDirectory: URL
  /// Where the first seed's trained models are saved (one model folder each); `nil` saves none.
  public var modelsDirectory: URL?
  /// The command line, recorded in the report and the model cards.
  public var command: String
  /// Progress lines.
  public var log: @Sendable (String) -> Void

  public init(
    settings: IterativeAttentionStudy.Settings, mnistDirectory: URL, modelsDirectory: URL? = nil, command: String,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.settings = settings
    self.mnistDirectory = mnistDirectory
    self.modelsDirectory = modelsDirectory
    self.command = command
    self.log = log
  }

  /// Name of the checkpoint file written while the study runs (removed when it finishes).
  public static let partialName = "results.partial.json"

  /// The MNIST files the settings need and the folder lacks (empty when MNIST is not run).
  public var missingMNISTFiles: [String] {
    settings.includesMNIST ? IterativeAttentionStudy.missingMNISTFiles(in: mnistDirectory) : []
  }

  /// Runs the study and writes the report into `output` (created if missing).
  ///
  /// - Throws: ``IterativeAttentionReproductionError`` for missing MNIST files; the study's errors;
  ///   file errors.
  public func run(into output: URL) throws -> IterativeAttentionReport {
    let missing = missingMNISTFiles
    if !missing.isEmpty {
      throw IterativeAttentionReproductionError.missingMNIST(directory: mnistDirectory.path, files: missing)
    }
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let log = self.log
    let study = IterativeAttentionStudy(settings: settings, log: log)
    let results = try study.run(
      mnistDirectory: settings.includesMNIST ? mnistDirectory : nil, modelsDirectory: modelsDirectory, command: command,
      checkpoint: { partial in
        do {
          try IterativeAttentionReport(results: partial).writeResults(to: output, name: Self.partialName)
        } catch {
          log("warning: cannot write \(Self.partialName): \(error)")
        }
      })
    try? FileManager.default.removeItem(at: output.appendingPathComponent(Self.partialName))
    let report = IterativeAttentionReport(results: results)
    try report.writeResults(to: output)
    try report.write(to: output)
    return report
  }

  /// Re-renders the report of an earlier run from its `results.json` into `output`.
  public static func render(resultsFile: URL, into output: URL) throws -> IterativeAttentionReport {
    let results: IterativeAttentionStudy.Results
    do {
      results = try JSONCoding.decoder().decode(
        IterativeAttentionStudy.Results.self, from: Data(contentsOf: resultsFile))
    } catch {
      throw IterativeAttentionReproductionError.unreadableResults(
        path: resultsFile.path, reason: decodingErrorSummary(error))
    }
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let report = IterativeAttentionReport(results: results)
    try report.write(to: output)
    return report
  }
}

/// Why an iterative-attention reproduction or training could not start.
public enum IterativeAttentionReproductionError: Error, Equatable, Sendable, CustomStringConvertible {
  case missingMNIST(directory: String, files: [String])
  case unreadableResults(path: String, reason: String)

  public var description: String {
    switch self {
    case .missingMNIST(let directory, let files):
      "MNIST files are missing in \(directory): \(files.joined(separator: ", ")). Fetch them with "
        + "`python3 Scripts/fetch_mnist.py`, point --mnist at their folder, or run the Synthetic-Gaussian task only."
    case .unreadableResults(let path, let reason): "cannot read the results file \(path): \(reason)"
    }
  }
}
