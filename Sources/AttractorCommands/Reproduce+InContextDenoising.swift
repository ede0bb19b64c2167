import ArgumentParser
import Attractors
import Foundation

/// `attractor reproduce in-context-denoising`: `InContextDenoisingReproduction`.
public struct ReproduceInContextDenoising: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "in-context-denoising",
    abstract: "Seed 001's study: one-layer attention trained to denoise in context, as one step on a context energy.",
    discussion: """
      Seed 001 (Smart, Bietti & Sengupta, "In-context denoising with one-layer transformers"). Linear and \
      softmax attention are trained on fresh prompts from the subspace, Gaussian-mixture and spheres tasks; \
      the report compares their weights with the paper's (⟨w_KQ⟩⟨w_PV⟩ ≈ 1/(σ₀² + σ_Z²), α, β), and the \
      MSE of one step against k = 1 … 50 steps of descent on the context energy, its fixed points, exact \
      retrieval and the Bayes-optimal and in-context denoisers, against σ_Z² and L, with a fixed-point \
      analysis of the energy for a few prompts. The report goes to report-reproduce-in-context-denoising \
      unless --output-dir says otherwise; `--output-dir Docs/in-context-denoising` regenerates the committed \
      report. --quick runs a small version in seconds.
      """)

  @Flag(help: "A small version (n 8, L 40, few steps) for tests and quick looks.")
  var quick = false

  @OptionGroup var output: OutputFolderOptions

  @OptionGroup var seed: SeedOptions

  @Option(help: ArgumentHelp("Training steps of the four main runs (default 3000; quick 60).", valueName: "n"))
  var steps: Int?

  @Option(help: ArgumentHelp("Training steps per sweep condition (default 1000; quick 30).", valueName: "n"))
  var sweepSteps: Int?

  @Option(
    help: ArgumentHelp(
      "Re-render the report from a results.json of an earlier run instead of running.", valueName: "file"))
  var fromResults: String?

  @OptionGroup var execution: ExecutionOptions

  @OptionGroup var jsonOutput: JSONOutputOptions

  public init() {}

  public func validate() throws {
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
    if let sweepSteps, sweepSteps < 1 { throw ValidationError("--sweep-steps must be at least 1, got \(sweepSteps)") }
  }

  static let defaultFolderName = "reproduce-in-context-denoising"

  var commandLine: String {
    var parts = ["attractor reproduce in-context-denoising"]
    if quick { parts.append("--quick") }
    if let dir = output.outputDirectory { parts += ["--output-dir", dir] }
    if seed.seed != 0 { parts += ["--seed", "\(seed.seed)"] }
    if let steps { parts += ["--steps", "\(steps)"] }
    if let sweepSteps { parts += ["--sweep-steps", "\(sweepSteps)"] }
    if let threads = execution.threads { parts += ["--threads", "\(threads)"] }
    return parts.joined(separator: " ")
  }

  func settings() -> InContextDenoisingReproduction.Settings {
    var s = quick ? InContextDenoisingReproduction.Settings.quick : .full
    s.seed = seed.seed
    if let steps { s.steps = steps }
    if let sweepSteps { s.sweepSteps = sweepSteps }
    return s
  }

  public func run() throws {
    execution.apply()
    if let fromResults, let problem = fileProblem(at: URL(fileURLWithPath: fromResults)) {
      throw CommandFailure("cannot read --from-results \(fromResults): \(problem)")
    }
    let folder = try output.createFolder(defaultName: Self.defaultFolderName)
    let reproduction = InContextDenoisingReproduction(
      settings: settings(), command: commandLine, log: { printToStandardError($0) })
    let report: InContextDenoisingReport
    do {
      report =
        try fromResults.map {
          try InContextDenoisingReproduction.render(resultsFile: URL(fileURLWithPath: $0), into: folder)
        } ?? reproduction.run(into: folder)
    } catch {
      throw CommandFailure("\(error)")
    }
    print(try jsonOutput.text(report.results) { report.summaryMarkdown })
    if !jsonOutput.json { print("Report written to \(folder.path)/README.md") }
  }
}
