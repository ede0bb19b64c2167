import ArgumentParser
import Attractors
import Foundation

/// `attractor bench ait`: `AssociativeTransformerBenchmark`.
public struct BenchAssociativeTransformer: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ait",
    abstract: "One training step (forward, backward, AdamW) of the small AiT and of the plain ViT on a batch.",
    discussion: """
      Times one full training step of the models of `attractor train ait` with its defaults (the AiT: \
      --workspace gw; the plain vision transformer of the same size: --workspace none; both by default) \
      on a seeded batch of --batch-size (default 128) random 28 × 28 images: the forward pass in \
      training mode (the AiT's memory takes its EMA step), the hand-written backward pass and one AdamW \
      update (η = 0.002, λ = 0.05). Random pixels suffice: the cost of a step does not depend on the \
      values. One untimed warm-up step, then --repetitions timed steps; medians of the step and of its \
      three parts. Float. --save-inputs DIR writes, per model, the model folder, the batch and the \
      gradient and updated parameters of one step, for Scripts/bench_ait.py, which runs the same step \
      in NumPy beside this command, alternating, checks that it computes the same loss, gradients and \
      update, and reports the ratio (Docs/Benchmarks.md).
      """)

  @Option(
    help: ArgumentHelp(
      "The models: gw (the AiT), none (the plain ViT), or both as a list (gw,none).", valueName: "gw,none"))
  var workspace = "gw,none"

  @Option(parsing: .unconditional, help: ArgumentHelp("Images per training step.", valueName: "B"))
  var batchSize = 128

  @Option(
    help: ArgumentHelp(
      "Folder to write each model's inputs and Swift's step into (<dir>/gw, <dir>/none).", valueName: "dir"))
  var saveInputs: String?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  var workspaces: [String] { workspace.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

  public func validate() throws {
    try BenchLimits.check("--batch-size", batchSize, 1...4_096)
    let names = workspaces
    guard !names.isEmpty, names.allSatisfy({ $0 == "gw" || $0 == "none" }), Set(names).count == names.count else {
      throw ValidationError("--workspace must be gw, none or gw,none, got \(workspace)")
    }
    if let saveInputs, saveInputs.isEmpty { throw ValidationError("--save-inputs needs a folder path") }
  }

  /// The benchmark these options describe.
  public func benchmark() -> AssociativeTransformerBenchmark {
    var b = AssociativeTransformerBenchmark()
    b.workspaces = workspaces
    b.batchSize = batchSize
    b.inputsFolder = saveInputs.map { URL(fileURLWithPath: $0) }
    return bench.configured(b)
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark().run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}

extension AssociativeTransformerBenchmark: RepeatedBenchmark {}
