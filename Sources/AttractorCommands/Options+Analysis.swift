import ArgumentParser
import Attractors
import Foundation

// The option group of `analyze fixed-points` and `analyze phase-diagram`.

/// The options of both analyses: patterns, the search for fixed points and the classification.
struct AnalysisOptions: ParsableArguments {
  /// 16 random patterns in dimension 32 unless the options say otherwise.
  static let randomPatterns = RandomPatternDefaults(count: 16, dimension: 32)

  @OptionGroup var patterns: PatternOptions

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Correlation c of the random patterns: xᵢ = √c·z + √(1 − c)·gᵢ with z, gᵢ ~ N(0, I/d), so xᵢᵀxⱼ ≈ c for i ≠ j (default 0).",
      valueName: "c"))
  var correlation: Double?

  @OptionGroup var seed: SeedOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Noisy starts per pattern.", valueName: "n"))
  var noisyStarts = 2

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Noise of the noisy starts, relative to the largest pattern norm.", valueName: "σ"))
  var noise = 0.3

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Number of two-pattern and of three-pattern mixture starts (each).", valueName: "n"))
  var mixtures = 16

  @Option(parsing: .unconditional, help: ArgumentHelp("Number of random starts.", valueName: "n"))
  var randomStarts = 16

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "fixed-points: most stored patterns used as starts (each with its noisy copies): with more patterns, a sample of this many chosen with --seed (default \(FixedPointAnalysisRun.defaultMaxPatternStarts), and for a model folder as many as fit its work budget; 0: every pattern). phase-diagram starts from every pattern.",
      valueName: "n"))
  var maxStarts: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Step limit of the dynamics.", valueName: "T"))
  var maxSteps = 2000

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "End points closer than this times the largest pattern norm are one fixed point.", valueName: "ε"))
  var mergeTolerance = 1e-4

  @Option(parsing: .unconditional, help: ArgumentHelp("Weight mass that k must hold (0.9 gives k₉₀).", valueName: "m"))
  var mass = 0.9

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "What a global average is: allPatterns (every pattern carries ≥ --minimum-share/N of the weight and the point is closer to the mean than to any pattern) or halfOfPatterns (k > --global-fraction·N, Ramsauer et al.'s class I).",
      valueName: "rule"))
  var globalRule: GlobalAverageRule = .allPatterns

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "With --global-rule allPatterns: the smallest weight, as a fraction of 1/N, every pattern must carry.",
      valueName: "s"))
  var minimumShare = 0.1

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "With --global-rule halfOfPatterns: k above this fraction of N is a global average.", valueName: "f"))
  var globalFraction = 0.5

  @OptionGroup var execution: ExecutionOptions

  func validate() throws {
    if let count = patterns.count, count > 100_000 {
      throw ValidationError("--count must be between 1 and 100000, got \(count)")
    }
    if let d = patterns.dimension, d > FixedPointAnalysisRun.maxDimension {
      throw ValidationError(
        "--dimension must be between 1 and 1024 (each fixed point needs d × d Jacobian and Hessian eigenproblems), got \(d)"
      )
    }
    if let correlation {
      if patterns.patterns != nil {
        throw ValidationError("--correlation shapes random patterns; it cannot be used with --patterns")
      }
      if !(correlation >= 0 && correlation < 1) {
        throw ValidationError("--correlation must be in [0, 1), got \(Format.compact(correlation))")
      }
    }
    if noisyStarts < 0 || noisyStarts > 1000 {
      throw ValidationError("--noisy-starts must be between 0 and 1000, got \(noisyStarts)")
    }
    if !(noise.isFinite && noise >= 0) {
      throw ValidationError("--noise must be a finite number ≥ 0, got \(Format.compact(noise))")
    }
    if mixtures < 0 || mixtures > 100_000 {
      throw ValidationError("--mixtures must be between 0 and 100000, got \(mixtures)")
    }
    if randomStarts < 0 || randomStarts > 100_000 {
      throw ValidationError("--random-starts must be between 0 and 100000, got \(randomStarts)")
    }
    if let maxStarts, maxStarts < 0 || maxStarts > 100_000 {
      throw ValidationError("--max-starts must be between 0 (every pattern) and 100000, got \(maxStarts)")
    }
    if !(1...1_000_000).contains(maxSteps) {
      throw ValidationError("--max-steps must be between 1 and 1000000, got \(maxSteps)")
    }
    if !(mergeTolerance.isFinite && mergeTolerance > 0) {
      throw ValidationError("--merge-tolerance must be a finite number > 0, got \(Format.compact(mergeTolerance))")
    }
    if !(mass > 0 && mass <= 1) { throw ValidationError("--mass must be in (0, 1], got \(Format.compact(mass))") }
    if !(minimumShare > 0 && minimumShare <= 1) {
      throw ValidationError("--minimum-share must be in (0, 1], got \(Format.compact(minimumShare))")
    }
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
    var run = FixedPointAnalysisRun(
      patterns: source, beta: beta, search: search,
      thresholds: ClassificationThresholds(
        mass: mass, globalRule: globalRule, minimumShare: minimumShare, globalFraction: globalFraction),
      version: Attractor.version)
    let cap = maxStarts ?? FixedPointAnalysisRun.defaultMaxPatternStarts
    run.maxPatternStarts = cap == 0 ? nil : cap
    run.fitsWorkBudget = maxStarts == nil
    return run
  }
}
