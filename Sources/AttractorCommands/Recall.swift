import ArgumentParser
import Attractors
import Foundation

/// `attractor recall`: store patterns, corrupt some of them, iterate the memory from the corrupted
/// queries and report retrieval after every step (`RecallSession`).
public struct Recall: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "recall",
    abstract: "Retrieve stored patterns from corrupted queries; report accuracy, energy and convergence per step.",
    discussion: """
      \(Self.randomPatterns.sentence), so each has \
      norm ≈ 1 and β·‖x‖² ≈ β (β = 8 then matches attention's 1/√d scaling of N(0, 1) keys at \
      d = 64). --model classical stores ±1 patterns: random ones are the signs of the Gaussian ones, \
      and non-±1 patterns from a file are binarised with sign (0 ↦ +1), with a note.

      Queries come from --queries FILE.npy (B × d, with optional --targets FILE.npy holding B pattern \
      indices for accuracy) or are made from --query-count B (default 256) random targets with \
      --corruption at --level: noise adds σ·N(0, 1) to each coordinate (σ is absolute: relative to \
      entries of scale 1/√d it is a noise-to-pattern norm ratio of σ√d); mask sets round(f·d) random \
      coordinates to 0; overlap is α·target + (1 − α)·(another stored pattern); flip negates \
      round(f·d) random coordinates. With --model classical, queries that are not all −1, 0, +1 are \
      binarised with sign (zeros, i.e. masked units, are kept), with a note.

      Accuracy at step t is the fraction of states whose nearest stored pattern by cosine \
      similarity is the target. A state has converged at the first step whose size \
      ‖q_t − q_{t−1}‖ is ≤ --tolerance; it then stops moving. Mean energy is the model's energy \
      (modern: Ramsauer et al.'s E; classical: −½ xᵀWx).
      """
  )

  /// 64 random patterns in dimension 64 unless the options say otherwise.
  static let randomPatterns = RandomPatternDefaults(count: 64, dimension: 64)

  @OptionGroup var patterns: PatternOptions
  @OptionGroup var queries: QueryOptions
  @OptionGroup var seed: SeedOptions

  @Option(help: "Memory model: modern or classical (iterative-attention with --model-folder).")
  var model: RecallModel = .modern

  @Option(
    help: ArgumentHelp(
      "A trained iterative-attention model folder (config.json + weights.safetensors, see Models/README.md): its memory is the patterns, queries are corrupted in the data's dimension and zero-padded to the model width. Runs in float precision.",
      valueName: "dir"))
  var modelFolder: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Inverse temperature β of the modern Hopfield network (default \(Format.compact(RecallSession.defaultBeta)); not used by classical). With the default random patterns, β = 16 is in the single-pattern retrieval regime; at β = 8 queries drift into metastable mixtures over the steps.",
      valueName: "β"))
  var beta: Double?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Number of update steps T (asynchronous: sweeps over all coordinates).", valueName: "T"))
  var maxSteps: Int = 10

  @Option(
    parsing: .unconditional, help: ArgumentHelp("A step ‖q_t − q_{t−1}‖ at most this has converged.", valueName: "ε"))
  var tolerance: Double = 1e-6

  @Option(help: "Floating-point precision.")
  var precision: Precision = .double

  @Flag(help: "Update one coordinate at a time in a seeded random order (one step = one sweep) instead of all at once.")
  var asynchronous = false

  @Flag(
    help:
      "Memory-map the --patterns file and stream it in chunks (memories larger than RAM; modern model, synchronous; extra memory independent of N)."
  )
  var streamPatterns = false

  @OptionGroup var execution: ExecutionOptions

  @Option(
    help: ArgumentHelp("Write the final states (B × d) to this .npy file (written atomically).", valueName: "file.npy"))
  var output: String?

  @OptionGroup var jsonOutput: JSONOutputOptions

  public init() {}

  public func validate() throws {
    if modelFolder != nil {
      if patterns.patterns != nil || patterns.count != nil || patterns.dimension != nil {
        throw ValidationError("--model-folder brings its own memory: leave out --patterns, --count and --dimension")
      }
      if model == .classical {
        throw ValidationError("--model-folder runs the folder's iterative-attention model; leave out --model classical")
      }
      if beta != nil {
        throw ValidationError("--beta is not used with --model-folder: the model's temperature is in its config.json")
      }
      if asynchronous {
        throw ValidationError(
          "--asynchronous is not available for iterative attention; one step is one pass through the stack")
      }
    } else if model == .iterativeAttention {
      throw ValidationError(
        "--model iterative-attention needs --model-folder DIR (a trained model, for example one under Models/)")
    }
    if let beta, !(beta.isFinite && beta > 0) {
      throw ValidationError("--beta must be a finite number > 0, got \(Format.compact(beta))")
    }
    if let beta, precision == .float, beta > Double(Float.greatestFiniteMagnitude) {
      throw ValidationError(
        "--beta \(Format.compact(beta)) exceeds the range of Float (largest \(Float.greatestFiniteMagnitude)); use a smaller β or --precision double"
      )
    }
    if streamPatterns && patterns.patterns == nil {
      throw ValidationError("--stream-patterns streams a patterns file: give --patterns FILE.npy")
    }
    if let output, output.isEmpty { throw ValidationError("--output must not be empty") }
    if maxSteps < 0 { throw ValidationError("--max-steps must be at least 0, got \(maxSteps)") }
    if maxSteps > RecallSession.maxSteps {
      throw ValidationError("--max-steps must be at most \(RecallSession.maxSteps), got \(maxSteps)")
    }
    if !(tolerance.isFinite && tolerance >= 0) {
      throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
    }
    let session = self.session
    try queries.validateLevel(for: session.corruption)
    try failingAsValidation { try session.validate() }
  }

  /// The run the options describe.
  var session: RecallSession {
    let random = patterns.randomShape(defaults: Self.randomPatterns)
    let patternSource: RecallSession.Patterns =
      if let folder = modelFolder { .modelFolder(folder) } else if let file = patterns.patterns { .file(file) } else {
        .random(count: random.count, dimension: random.dimension)
      }
    let querySource: RecallSession.Queries =
      if let file = queries.queries { .file(file, targets: queries.targets) } else {
        .generated(count: queries.queryCount ?? 256, corruption: queries.corruption, level: queries.level)
      }
    var session = RecallSession(
      patterns: patternSource, queries: querySource, model: modelFolder != nil ? .iterativeAttention : model,
      beta: beta,
      maxSteps: maxSteps, tolerance: tolerance, precision: precision, asynchronous: asynchronous, seed: seed.seed,
      output: output, version: Attractor.version)
    session.streamsPatterns = streamPatterns
    return session
  }

  public func run() throws {
    let result = try execute()
    for note in result.notes { printToStandardError("note: \(note)") }
    printOutput(try render(result))
  }

  /// What `run()` prints for `result`: the table, or the report as JSON with --json.
  public func render(_ result: RecallOutput) throws -> String {
    try jsonOutput.text(result.report) { result.table }
  }

  /// Runs the command and returns what it would print, without printing (for tests and callers).
  public func execute() throws -> RecallOutput {
    execution.apply()
    return try failingAsCommand { try session.run() }
  }
}
