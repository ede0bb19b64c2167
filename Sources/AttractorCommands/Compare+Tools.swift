import ArgumentParser
import Attractors
import Foundation

/// `attractor compare merge`: one report from the folders of `attractor compare run --shard` runs.
public struct Merge: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Combine the report folders of `attractor compare run --shard i/n` runs into one report.",
    discussion: """
      Every folder must hold a finished shard (cells.jsonl) of the same study (same spec hash) split \
      into the same number of shards; no shard may appear twice, and together they must hold every \
      cell. The merged folder gets the same files as an unsharded run.
      """)

  @Argument(help: ArgumentHelp("The --output-dir folders of the shard runs.", valueName: "dir"))
  var folders: [String] = []

  @OptionGroup var output: OutputFolderOptions

  @OptionGroup var format: JSONOutputOptions

  public init() {}

  /// The merged report's folder: --output-dir, or report-compare-merge in the current directory.
  public var folder: URL { output.folder(defaultName: "compare-merge") }

  public func validate() throws {
    if folders.isEmpty {
      throw ValidationError("give the shard folders to merge: attractor compare merge <dir>… --output-dir <dir>")
    }
    let target = folder.standardizedFileURL.path
    if folders.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
      throw ValidationError(
        "--output-dir \(folder.path) is one of the shard folders; write the merged report elsewhere")
    }
  }

  public func run() throws { print(try execute(), terminator: format.json ? "" : "\n") }

  /// Merges and returns what is printed.
  public func execute() throws -> String {
    do {
      let (report, seconds) = try measureSeconds { () throws(StudyRunError) in
        try StudyRunner.merge(folders.map { URL(fileURLWithPath: $0) }, into: folder, version: Attractor.version)
      }
      if format.json { return try JSONCoding.string(StudyRunRecord(merged: report, folder: folder, seconds: seconds)) }
      return StudyRunSummary.mergeText(report, folderCount: folders.count, output: folder)
    } catch {
      throw CommandFailure("\(error)")
    }
  }
}

/// `attractor compare print-study`: the built-in study, or a study file checked and normalised.
public struct ComparePrintStudy: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "print-study",
    abstract: "Print the built-in study (or --study, checked and normalised) as a study file.")

  @Option(
    help: ArgumentHelp(
      "A study file to check and print normalised (default: the built-in study).", valueName: "spec.json"))
  var study: String?

  public init() {}

  public func run() throws {
    print(try CompareRun.loadStudy(study).spec.studyFileJSON(), terminator: "")
  }
}

/// `attractor compare list-models`: the models a study file can name, with their parameters.
public struct CompareListModels: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "list-models",
    abstract: "List the models a study file can name, with their parameters.")

  @OptionGroup var output: JSONOutputOptions

  public init() {}

  public func run() throws {
    let registry = StudyModelRegistry.standard
    if output.json { try output.printJSON(registry.descriptions) } else { print(registry.listing) }
  }
}
