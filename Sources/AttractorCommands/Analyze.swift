import ArgumentParser
import Attractors
import Foundation

/// `attractor analyze`: fixed points of a modern Hopfield network (or a trained model folder), and
/// the β sweep of the phase diagram (`FixedPointAnalysisRun`).
public struct Analyze: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "analyze",
    abstract: "Find and classify fixed points (global average, metastable, single pattern, unstable); sweep β.",
    subcommands: [FixedPoints.self, PhaseDiagramSweep.self],
    defaultSubcommand: FixedPoints.self)

  public init() {}
}

extension Analyze {
  /// `attractor analyze fixed-points` (the default): find, linearise and classify fixed points.
  public struct FixedPoints: ResultPrintingCommand {
    public static let configuration = CommandConfiguration(
      commandName: "fixed-points",
      abstract:
        "Find, linearise (LAPACK) and classify the fixed points of a modern Hopfield network or a trained model folder.",
      discussion: """
        \(AnalysisOptions.randomPatterns.sentence) (norms ≈ 1), \
        optionally sharing a common component so that their overlaps are ≈ --correlation. The model is \
        the modern Hopfield network f(ξ) = Xᵀ softmax(β X ξ) at --beta, in double precision.

        The dynamics run from seeded starts (every pattern, or a sample of --max-starts of them chosen with --seed, --noisy-starts noisy copies of each, \
        --mixtures averages of two and of three patterns, the mean, --random-starts random states) \
        until a step is ≤ 1e-10·s (s = largest pattern norm) or --max-steps; end points within \
        --merge-tolerance·s are one fixed point, polished by Newton steps. At each fixed point: the \
        eigenvalues of the Jacobian (LAPACK syevd when symmetric, geev otherwise) and of the energy's \
        Hessian; the pattern weights p = softmax(β X x*) give k (the fewest patterns holding --mass of \
        the weight, k₉₀ by default). Class: unstable if ρ(J) ≥ 1 or the Hessian has a negative \
        eigenvalue; else single pattern if k = 1, global average if every pattern carries at least \
        --minimum-share/N of the weight and the point is closer to the mean of the patterns than to \
        any one (--global-rule halfOfPatterns: k > --global-fraction·N instead), metastable otherwise. Basin: the share of all starts ending there.
        """)

    @OptionGroup var options: AnalysisOptions

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Inverse temperature β (default \(Format.compact(FixedPointAnalysisRun.defaultBeta))).", valueName: "β"))
    var beta: Double?

    @Option(
      help: ArgumentHelp(
        "Analyse a trained iterative-attention model folder (see Models/README.md) instead of a modern Hopfield network; its memory gives the starts. Large memories are sampled: without --max-starts, as many stored patterns (with their noisy copies) start the search as fit a work budget of 1e11 operations (Docs/Analysis.md); with explicit start options a run estimated above 1e12 is refused up front.",
        valueName: "dir"))
    var modelFolder: String?

    @OptionGroup var outputFolder: OptionalOutputFolderOptions

    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    /// Prints what the analysis will do on standard error before it starts, its progress there
    /// while it runs (on a terminal, not under --json), then the result.
    public func run() throws {
      let printer = FixedPointProgressPrinter()
      let progress: ((FixedPointProgress) -> Void)? = jsonOutput.json ? nil : { printer.update($0) }
      let output = try execute(note: { printToStandardError($0) }, progress: progress)
      printer.finish()
      printOutput(try render(output))
    }

    public func validate() throws {
      if let beta, !(beta.isFinite && beta > 0) {
        throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))")
      }
      if modelFolder != nil {
        let p = options.patterns
        if p.patterns != nil || p.count != nil || p.dimension != nil || options.correlation != nil {
          throw ValidationError(
            "--model-folder brings its own memory: leave out --patterns, --count, --dimension and --correlation")
        }
        if beta != nil {
          throw ValidationError("--beta is not used with --model-folder: the model's temperature is in its config.json")
        }
      }
    }

    /// What `run()` prints: the table, or the record as JSON with --json.
    public func render(_ output: FixedPointAnalysisOutput) throws -> String {
      try jsonOutput.text(output.record) { output.table }
    }

    /// Runs the analysis without printing; with --output-dir, writes fixed-points.csv and .json there.
    public func execute() throws -> FixedPointAnalysisOutput { try execute(note: nil) }

    /// ``execute()``, with `note` hearing what the analysis will do before it starts and
    /// `progress` how far it has got.
    public func execute(
      note: ((String) -> Void)?, progress: ((FixedPointProgress) -> Void)? = nil
    ) throws -> FixedPointAnalysisOutput {
      options.execution.apply()
      let folder = try outputFolder.createFolder()
      return try failingAsCommand {
        try options.run(beta: beta, modelFolder: modelFolder).analyze(writingTo: folder, note: note, progress: progress)
      }
    }
  }

  /// `attractor analyze phase-diagram`: sweep β and find where the global average loses stability.
  public struct PhaseDiagramSweep: ResultPrintingCommand {
    public static let configuration = CommandConfiguration(
      commandName: "phase-diagram",
      abstract: "Sweep β; find where the fixed point reached from the mean stops being a stable global average.",
      discussion: """
        Runs the fixed-point analysis of `attractor analyze fixed-points` (same patterns, starts and \
        thresholds) at --beta-range count log-spaced values of β, probes the fixed point reached from \
        the mean, bisects where it stops being a stable global average, and writes <prefix>.csv, \
        .json, -shares.svg and -stability.svg to --output-dir (default report-phase-diagram).
        """)

    @OptionGroup var options: AnalysisOptions

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("β sweep: lowest, highest, number of log-spaced values.", valueName: "lo:hi:count"))
    var betaRange = BetaRange(lower: 0.5, upper: 64, count: 15)

    @OptionGroup var outputFolder: OutputFolderOptions

    @Option(
      help: ArgumentHelp(
        "Names of the files written (<prefix>.csv, .json, -shares.svg, -stability.svg).", valueName: "name"))
    var filePrefix = "phase-diagram"

    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    public func validate() throws {
      try betaRange.validate()
      try validateFilePrefix(filePrefix)
    }

    /// What `run()` prints: the table, or the diagram as JSON with --json.
    public func render(_ output: PhaseDiagramOutput) throws -> String {
      try jsonOutput.text(output.diagram) { output.table }
    }

    /// Runs the sweep and writes its files, without printing.
    public func execute() throws -> PhaseDiagramOutput {
      options.execution.apply()
      let folder = try outputFolder.createFolder(defaultName: "phase-diagram")
      return try failingAsCommand {
        try options.run(beta: nil, modelFolder: nil).phaseDiagram(
          lower: betaRange.lower, upper: betaRange.upper, count: betaRange.count, writingTo: folder, prefix: filePrefix)
      }
    }
  }
}
