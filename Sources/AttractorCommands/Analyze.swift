import ArgumentParser
import Attractors
import Foundation

/// `attractor analyze`: fixed points of a modern Hopfield network (or a trained model folder), and
/// the β sweep of the phase diagram (``FixedPointAnalysisRun``).
public struct Analyze: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "analyze",
    abstract: "Find and classify fixed points (global average, metastable, single pattern, unstable); sweep β.",
    subcommands: [FixedPoints.self, PhaseDiagramSweep.self],
    defaultSubcommand: FixedPoints.self)

  public init() {}
}

/// The options of both analyses: patterns, the search for fixed points and the classification.
struct AnalysisOptions: ParsableArguments {
  /// 16 random patterns in dimension 32 unless the options say otherwise.
  static let randomPatterns = RandomPatternDefaults(count: 16, dimension: 32)

  @OptionGroup var patterns: PatternOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Correlation c of the random patterns: xᵢ = √c·z + √(1 − c)·gᵢ with z, gᵢ ~ N(0, I/d), so xᵢᵀxⱼ ≈ c for i ≠ j (default 0).", valueName: "c"))
  var correlation: Double?

  @OptionGroup var seed: SeedOptions

  @Option(name: .customLong("noisy-starts"), help: ArgumentHelp("Noisy starts per pattern.", valueName: "n"))
  var noisyStarts = 2

  @Option(parsing: .unconditional, help: ArgumentHelp("Noise of the noisy starts, relative to the largest pattern norm.", valueName: "σ"))
  var noise = 0.3

  @Option(help: ArgumentHelp("Number of two-pattern and of three-pattern mixture starts (each).", valueName: "n"))
  var mixtures = 16

  @Option(name: .customLong("random-starts"), help: ArgumentHelp("Number of random starts.", valueName: "n"))
  var randomStarts = 16

  @Option(name: .customLong("max-steps"), help: ArgumentHelp("Step limit of the dynamics.", valueName: "T"))
  var maxSteps = 2000

  @Option(name: .customLong("merge-tolerance"), parsing: .unconditional, help: ArgumentHelp("End points closer than this times the largest pattern norm are one fixed point.", valueName: "ε"))
  var mergeTolerance = 1e-4

  @Option(parsing: .unconditional, help: ArgumentHelp("Weight mass that k must hold (0.9 gives k₉₀).", valueName: "m"))
  var mass = 0.9

  @Option(name: .customLong("global-fraction"), parsing: .unconditional, help: ArgumentHelp("k above this fraction of N is a global average.", valueName: "f"))
  var globalFraction = 0.5

  @OptionGroup var execution: ExecutionOptions

  func validate() throws {
    if let count = patterns.count, count > 100_000 { throw ValidationError("--count must be between 1 and 100000, got \(count)") }
    if let d = patterns.dimension, d > FixedPointAnalysisRun.maxDimension {
      throw ValidationError("--dimension must be between 1 and 1024 (each fixed point needs d × d Jacobian and Hessian eigenproblems), got \(d)")
    }
    if let correlation {
      if patterns.patterns != nil { throw ValidationError("--correlation shapes random patterns; it cannot be used with --patterns") }
      if !(correlation >= 0 && correlation < 1) { throw ValidationError("--correlation must be in [0, 1), got \(Format.compact(correlation))") }
    }
    if noisyStarts < 0 || noisyStarts > 1000 { throw ValidationError("--noisy-starts must be between 0 and 1000, got \(noisyStarts)") }
    if !(noise.isFinite && noise >= 0) { throw ValidationError("--noise must be a finite number ≥ 0, got \(Format.compact(noise))") }
    if mixtures < 0 || mixtures > 100_000 { throw ValidationError("--mixtures must be between 0 and 100000, got \(mixtures)") }
    if randomStarts < 0 || randomStarts > 100_000 { throw ValidationError("--random-starts must be between 0 and 100000, got \(randomStarts)") }
    if !(1...1_000_000).contains(maxSteps) { throw ValidationError("--max-steps must be between 1 and 1000000, got \(maxSteps)") }
    if !(mergeTolerance.isFinite && mergeTolerance > 0) {
      throw ValidationError("--merge-tolerance must be a finite number > 0, got \(Format.compact(mergeTolerance))")
    }
    if !(mass > 0 && mass <= 1) { throw ValidationError("--mass must be in (0, 1], got \(Format.compact(mass))") }
    if !(globalFraction > 0 && globalFraction < 1) {
      throw ValidationError("--global-fraction must be in (0, 1), got \(Format.compact(globalFraction))")
    }
    let run = self.run(beta: nil, modelFolder: nil)
    try failingAsValidation { try run.validate() }
  }

  /// The analysis these options describe, at `beta` (or on the model of `modelFolder`).
  func run(beta: Double?, modelFolder: String?) -> FixedPointAnalysisRun {
    let random = patterns.randomShape(defaults: Self.randomPatterns)
    let source: FixedPointAnalysisRun.Patterns =
      if let modelFolder { .modelFolder(modelFolder) } else if let file = patterns.patterns { .file(file) } else {
        .random(count: random.count, dimension: random.dimension, correlation: correlation)
      }
    let search = FixedPointSearch(
      noisyStartsPerPattern: noisyStarts, noiseLevel: noise, pairMixtures: mixtures, tripleMixtures: mixtures,
      randomStarts: randomStarts, seed: seed.seed, maxSteps: maxSteps, mergeTolerance: mergeTolerance)
    return FixedPointAnalysisRun(
      patterns: source, beta: beta, search: search,
      thresholds: ClassificationThresholds(mass: mass, globalFraction: globalFraction), version: Attractor.version)
  }
}

extension Analyze {
  /// `attractor analyze fixed-points` (the default): find, linearise and classify fixed points.
  public struct FixedPoints: ParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "fixed-points",
      abstract: "Find, linearise (LAPACK) and classify the fixed points of a modern Hopfield network or a trained model folder.",
      discussion: """
        \(AnalysisOptions.randomPatterns.sentence) (norms ≈ 1), \
        optionally sharing a common component so that their overlaps are ≈ --correlation. The model is \
        the modern Hopfield network f(ξ) = Xᵀ softmax(β X ξ) at --beta, in double precision.

        The dynamics run from seeded starts (every pattern, --noisy-starts noisy copies of each, \
        --mixtures averages of two and of three patterns, the mean, --random-starts random states) \
        until a step is ≤ 1e-10·s (s = largest pattern norm) or --max-steps; end points within \
        --merge-tolerance·s are one fixed point, polished by Newton steps. At each fixed point: the \
        eigenvalues of the Jacobian (LAPACK syevd when symmetric, geev otherwise) and of the energy's \
        Hessian; the pattern weights p = softmax(β X x*) give k (the fewest patterns holding --mass of \
        the weight, k₉₀ by default). Class: unstable if ρ(J) ≥ 1 or the Hessian has a negative \
        eigenvalue; else single pattern if k = 1, global average if k > --global-fraction·N, \
        metastable otherwise. Basin: the share of all starts ending there.
        """)

    @OptionGroup var options: AnalysisOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Inverse temperature β (default \(Format.compact(FixedPointAnalysisRun.defaultBeta))).", valueName: "β"))
    var beta: Double?

    @Option(name: .customLong("model-folder"), help: ArgumentHelp("Analyse a trained iterative-attention model folder (see Models/README.md) instead of a modern Hopfield network; its memory gives the starts. Best with small memories (the MNIST models store 10 prototypes): every stored pattern is a start.", valueName: "dir"))
    var modelFolder: String?

    @OptionGroup var outputFolder: OptionalOutputFolderOptions

    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    public func validate() throws {
      if let beta, !(beta.isFinite && beta > 0) { throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))") }
      if modelFolder != nil {
        let p = options.patterns
        if p.patterns != nil || p.count != nil || p.dimension != nil || options.correlation != nil {
          throw ValidationError("--model-folder brings its own memory: leave out --patterns, --count, --dimension and --correlation")
        }
        if beta != nil { throw ValidationError("--beta is not used with --model-folder: the model's temperature is in its config.json") }
      }
    }

    public func run() throws {
      printOutput(try render(execute()))
    }

    /// What `run()` prints: the table, or the record as JSON with --json.
    public func render(_ output: FixedPointAnalysisOutput) throws -> String {
      try jsonOutput.text(output.record) { output.table }
    }

    /// Runs the analysis without printing; with --output-dir, writes fixed-points.csv and .json there.
    public func execute() throws -> FixedPointAnalysisOutput {
      options.execution.apply()
      let folder = try outputFolder.createFolder()
      return try failingAsCommand { try options.run(beta: beta, modelFolder: modelFolder).analyze(writingTo: folder) }
    }
  }

  /// `attractor analyze phase-diagram`: sweep β and find where the global average loses stability.
  public struct PhaseDiagramSweep: ParsableCommand {
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

    @Option(name: .customLong("beta-range"), help: ArgumentHelp("β sweep: lowest, highest, number of log-spaced values.", valueName: "lo:hi:count"))
    var betaRange = BetaRange(lower: 0.5, upper: 64, count: 15)

    @OptionGroup var outputFolder: OutputFolderOptions

    @Option(name: .customLong("file-prefix"), help: ArgumentHelp("Names of the files written (<prefix>.csv, .json, -shares.svg, -stability.svg).", valueName: "name"))
    var filePrefix = "phase-diagram"

    @OptionGroup var jsonOutput: JSONOutputOptions

    public init() {}

    public func validate() throws {
      try betaRange.validate()
      try validateFilePrefix(filePrefix)
    }

    public func run() throws {
      printOutput(try render(execute()))
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
