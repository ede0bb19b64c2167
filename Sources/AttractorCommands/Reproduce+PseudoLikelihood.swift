import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce pseudo-likelihood`: `PseudoLikelihoodReproduction`.
public struct ReproducePseudoLikelihood: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "pseudo-likelihood",
    abstract:
      "D'Amico & Negri: self-attention as an attractor network, MNIST (or Fashion-MNIST) masking and denoising against t.",
    discussion: """
      Trains the pseudo-likelihood attractor network by the local rule on clean MNIST digits (or, with \
      --dataset fashion-mnist, Fashion-MNIST images: the same pipeline and settings) and the \
      iterative-attention block by backpropagation on the same token layout, runs both t = 1 … 100 \
      times from masked and from noisy test digits, and writes MSE-against-t curves (SVG), digit \
      grids (PNG: cue, t = 1, 5, 10, 100, clean digit), overlap curves, the end points of the \
      dynamics with their Jacobian spectra, results.json and README.md (the paper's shape beside \
      ours) into --output-dir (default report-reproduce-pseudo-likelihood); \
      `--output-dir Docs/pseudo-likelihood` regenerates the committed report. About ten minutes on \
      one core; --quick runs a small version in seconds. Needs `python3 Scripts/fetch_mnist.py` (or `bash \
      Scripts/fetch_fashion_mnist.sh`) first.
      """)

  @Flag(help: "A small version (200 training digits, 12 iterations) for tests and quick looks.")
  var quick = false

  @OptionGroup var data: ImageDataOptions

  @OptionGroup var output: OutputFolderOptions
  @OptionGroup var seed: SeedOptions
  @OptionGroup var execution: ExecutionOptions
  @OptionGroup var json: JSONOutputOptions

  public init() {}

  var commandLine: String {
    var parts = ["attractor reproduce pseudo-likelihood"]
    if quick { parts.append("--quick") }
    parts += data.commandLineParts
    if seed.seed != 0 { parts += ["--seed", "\(seed.seed)"] }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    return parts.joined(separator: " ")
  }

  public func run() throws {
    execution.apply()
    let folder = try output.createFolder(defaultName: "reproduce-pseudo-likelihood")
    let results: PseudoLikelihoodReproduction.Results
    do {
      results = try PseudoLikelihoodReproduction(
        settings: quick ? .quick : .full, seed: seed.seed, dataset: data.dataset,
        dataDirectory: data.directory,
        command: commandLine, log: { printToStandardError($0) }
      ).run(into: folder)
    } catch { throw CommandFailure("reproduction failed: \(error)") }
    if json.json {
      try json.printJSON(results)
    } else {
      print(PseudoLikelihoodReport(results: results).markdown, terminator: "")
    }
  }
}
