import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce ait`: `AssociativeTransformerReproduction`.
public struct ReproduceAssociativeTransformer: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ait",
    abstract: "Associative Transformer: Hopfield contribution, attractor landscape of the priors, competition.",
    discussion: """
      The three checks seed 002 says the AiT paper left open, at the scale of this machine (the \
      paper's ImageNet-scale results are not attempted): for 3 seeds an AiT and the plain vision \
      transformer of the same size are trained on the first 6,000 MNIST digits (2 epochs) and \
      tested on 1,000; the AiT is evaluated with the Hopfield retrieval removed, with T = 1, 3, 10 \
      steps and β = 0.5, 1, 2, 4 at test time; the fixed points of the modern Hopfield network with \
      the trained upscaled priors as patterns are found and classified, with the basins of real \
      patch representations, the reconstruction error against the distance to the nearest prior and \
      the Hungarian-matched similarity of priors across seeds; and an AiT is trained for each \
      bottleneck size k = 4, 8, 16, 32 with the entropies of its selections and the overlap of its \
      heads. Writes README.md, results.json and SVG figures into --output-dir (default \
      report-reproduce-ait); `--output-dir Docs/associative-transformer` regenerates the committed \
      report. --quick runs a small version (a smaller model, 128 digits) in seconds. Needs \
      `python3 Scripts/fetch_mnist.py` first. Use --threads 1 on a shared machine.
      """)

  @Flag(help: "A small version (a smaller model, 128 training digits, 2 seeds) for tests and quick looks.")
  var quick = false

  @Option(help: ArgumentHelp("Folder of the MNIST IDX files.", valueName: "dir"))
  var mnist = "Data/mnist"

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  var commandLine: String {
    var parts = ["attractor reproduce ait"]
    if quick { parts.append("--quick") }
    if mnist != "Data/mnist" { parts += ["--mnist", mnist] }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    return parts.joined(separator: " ")
  }

  public func run() throws {
    execution.apply()
    let folder = try output.createFolder(defaultName: "reproduce-ait")
    let results: AssociativeTransformerReproduction.Results
    do {
      results = try AssociativeTransformerReproduction(
        settings: quick ? .quick : .full, mnistDirectory: URL(fileURLWithPath: mnist), command: commandLine,
        log: { printToStandardError($0) }
      ).run(into: folder)
    } catch { throw CommandFailure("reproduction failed: \(error)") }
    if json.json {
      try json.printJSON(results)
    } else {
      print(AssociativeTransformerReport(results: results).markdown, terminator: "")
    }
  }
}
