import ArgumentParser
import Attractors
import Foundation

/// `attractor bench pseudo-likelihood`: `PseudoLikelihoodBenchmark`.
public struct BenchPseudoLikelihood: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "pseudo-likelihood",
    abstract: "The pseudo-likelihood attractor: one local-rule epoch on MNIST and one dynamics step on a batch.",
    discussion: """
      Times one local-rule training epoch of the pseudo-likelihood attractor (Docs/PseudoLikelihood.md: \
      N = 25 tokens of d = 32, λ = 4, γ = 0.5, η = 0.5, κ = 1) on the first --count training images \
      (default 10000, minibatch --batch-size 100), and one synchronous dynamics step on a batch of \
      --step-batch states (default 1024) with the couplings after one epoch; Float. Needs `python3 \
      Scripts/fetch_mnist.py` first. --save-inputs DIR writes data.npy, couplings.npy, states.npy, \
      next.npy and swift_results.json for Scripts/bench_pseudo_likelihood.py, which runs the same \
      epoch and step in NumPy beside it, alternating, and reports the ratios.
      """)

  @Option(parsing: .unconditional, help: ArgumentHelp("Training images in the epoch.", valueName: "n"))
  var count = 10_000

  @Option(parsing: .unconditional, help: ArgumentHelp("Minibatch of the epoch.", valueName: "B"))
  var batchSize = 100

  @Option(parsing: .unconditional, help: ArgumentHelp("States in the timed dynamics step.", valueName: "B"))
  var stepBatch = 1_024

  @OptionGroup var data: ImageDataOptions

  @Option(
    help: ArgumentHelp(
      "Folder to write data.npy, couplings.npy, states.npy, next.npy and swift_results.json into.", valueName: "dir"))
  var saveInputs: String?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  public func validate() throws {
    try BenchLimits.check("--count", count, 1...60_000)
    try BenchLimits.check("--batch-size", batchSize, 1...10_000)
    try BenchLimits.check("--step-batch", stepBatch, 1...60_000)
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a folder path") }
  }

  /// The benchmark these options describe.
  public func benchmark() -> PseudoLikelihoodBenchmark {
    var b = PseudoLikelihoodBenchmark(dataDirectory: data.directory)
    b.dataset = data.dataset
    b.count = count
    b.batchSize = batchSize
    b.stepBatch = stepBatch
    b.inputsFolder = saveInputs.map { URL(fileURLWithPath: $0) }
    return bench.configured(b)
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark().run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}

extension PseudoLikelihoodBenchmark: RepeatedBenchmark {}
