import ArgumentParser
import Attractors
import Foundation

/// `attractor bench in-context-denoising`: `InContextTrainingBenchmark`.
public struct BenchInContextDenoising: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "in-context-denoising",
    abstract: "Training throughput (prompts/s) of one-layer attention on in-context denoising.",
    discussion: """
      Times training steps of linear and softmax attention on the subspace task (n 16, d 8, L 500, \
      B 64 by default): a full step draws B fresh prompts, runs the forward and backward pass and one \
      Adam update; a gradient step skips the drawing. Scripts/bench_in_context.py runs the same steps \
      in NumPy beside this command and reports the ratio. Float.
      """)

  @Option(parsing: .unconditional, help: ArgumentHelp("Context length L.", valueName: "L"))
  var contextLength = 500

  @Option(parsing: .unconditional, help: ArgumentHelp("Prompts per step B.", valueName: "B"))
  var batchSize = 64

  @Option(parsing: .unconditional, help: ArgumentHelp("Training steps per timed run.", valueName: "n"))
  var steps = 20

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  public func validate() throws {
    if contextLength < 1 { throw ValidationError("--context-length must be at least 1, got \(contextLength)") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
  }

  public func run() throws {
    var b = bench.configured(InContextTrainingBenchmark())
    b.contextLength = contextLength
    b.batchSize = batchSize
    b.steps = steps
    print(try bench.printed { try b.run() }, terminator: "")
  }
}
