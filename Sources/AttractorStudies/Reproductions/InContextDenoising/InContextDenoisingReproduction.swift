import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Seed 001's study (Smart, Bietti & Sengupta, arXiv:2502.05164, "In-context denoising with
/// one-layer transformers"), end to end: train one-layer attention on the three task families, read
/// the trained weights as scaled identities (α = ⟨w_PV⟩, β = ⟨w_KQ⟩), and compare one step against
/// many on the context energy E(s) = ‖s‖²/(2α) − β⁻¹ log Σ_t exp(β x_tᵀ s).
///
/// ```
/// 1. train linear attention (subspace) and softmax attention (subspace, mixture, spheres), fresh prompts per step
/// 2. on held-out prompts: MSE of the trained layer, the Bayes-optimal and in-context denoisers, the nearest
///    context token, the noisy query, k = 0 … K steps of descent on E (trained α, β) and the fixed point it reaches
/// 3. sweeps: the same against σ_Z² and against L (softmax attention retrained per condition)
/// 4. fixed-point analysis of E for a few prompts (FixedPointAnalyzer): which fixed points, how stable,
///    and where the one-step estimate sits
/// ```
public struct InContextDenoisingReproduction: Sendable {
  /// Sizes and schedules.
  public struct Settings: Sendable, Codable, Equatable {
    /// Ambient dimension n (16 in the paper).
    public var dimension: Int
    /// Subspace dimension d (8 in the paper).
    public var subspaceDimension: Int
    /// Mixture centres p (8 in the paper).
    public var centreCount: Int
    /// Context length L of the main runs (500 in the paper).
    public var contextLength: Int
    /// Training steps of the four main runs.
    public var steps: Int
    /// Training steps of each sweep retraining.
    public var sweepSteps: Int
    /// Prompts per training step.
    public var batchSize: Int
    /// Adam's learning rate.
    public var learningRate: Double
    /// Held-out prompts for every MSE.
    public var evaluationPrompts: Int
    /// Steps k of the descent curve (50 in the issue).
    public var descentSteps: Int
    /// Step limit when iterating to the fixed point.
    public var fixedPointSteps: Int
    /// Multipliers of each family's σ_Z² in the noise sweep.
    public var noiseFactors: [Double]
    /// Context lengths of the L sweep.
    public var contextLengths: [Int]
    /// Prompts per family given to the fixed-point analysis.
    public var analysedPrompts: Int
    /// The seed of everything.
    public var seed: UInt64

    /// The paper's sizes (n 16, d 8, p 8, L 500).
    public static let full = Settings(
      dimension: 16, subspaceDimension: 8, centreCount: 8, contextLength: 500, steps: 3000, sweepSteps: 1000,
      batchSize: 64, learningRate: 0.02, evaluationPrompts: 1000, descentSteps: 50, fixedPointSteps: 2000,
      noiseFactors: [0.25, 0.5, 1, 2, 4], contextLengths: [10, 30, 100, 250, 500], analysedPrompts: 2, seed: 0)
    /// A small version for tests (seconds in a debug build).
    public static let quick = Settings(
      dimension: 8, subspaceDimension: 4, centreCount: 4, contextLength: 40, steps: 150, sweepSteps: 60,
      batchSize: 16, learningRate: 0.05, evaluationPrompts: 64, descentSteps: 10, fixedPointSteps: 200,
      noiseFactors: [0.5, 2], contextLengths: [10, 40], analysedPrompts: 1, seed: 0)

    /// The three tasks at context length `l` and σ_Z² multiplied by `noiseFactor`.
    public func tasks(contextLength l: Int? = nil, noiseFactor: Double = 1) throws(InContextDenoisingError)
      -> [DenoisingTask]
    {
      let l = l ?? contextLength
      return [
        try .subspace(
          dimension: dimension, subspaceDimension: subspaceDimension, contextLength: l, signalVariance: 2,
          noiseVariance: 1 * noiseFactor),
        try .mixture(
          dimension: dimension, centreCount: centreCount, contextLength: l, clusterVariance: 0.02,
          noiseVariance: 0.1 * noiseFactor),
        try .spheres(
          dimension: dimension, subspaceDimension: subspaceDimension, contextLength: l, radius: 1,
          noiseVariance: 0.1 * noiseFactor),
      ]
    }

    /// Checks every parameter.
    public func validate() throws(InContextDenoisingError) {
      _ = try tasks()
      try InContextDenoisingError.check(steps >= 1, "steps", steps, "at least 1")
      try InContextDenoisingError.check(sweepSteps >= 1, "sweep steps", sweepSteps, "at least 1")
      try InContextDenoisingError.check(batchSize >= 1, "batch size", batchSize, "at least 1")
      try InContextDenoisingError.check(
        learningRate.isFinite && learningRate > 0, "learning rate", learningRate, "finite and positive")
      try InContextDenoisingError.check(evaluationPrompts >= 2, "evaluation prompts", evaluationPrompts, "at least 2")
      try InContextDenoisingError.check(descentSteps >= 1, "descent steps", descentSteps, "at least 1")
      try InContextDenoisingError.check(
        fixedPointSteps >= descentSteps, "fixed-point steps", fixedPointSteps, "at least the descent steps")
      try InContextDenoisingError.check(analysedPrompts >= 0, "analysed prompts", analysedPrompts, "at least 0")
      for f in noiseFactors { _ = try tasks(noiseFactor: f) }
      for l in contextLengths { _ = try tasks(contextLength: l) }
    }
  }

  /// An MSE over prompts with its standard error.
  public struct Estimate: Sendable, Codable, Equatable {
    /// Mean of ‖estimate − x‖² over prompts.
    public var mse: Double
    /// Standard error of that mean.
    public var standardError: Double
  }

  /// The denoisers compared on one set of held-out prompts.
  public struct Comparison: Sendable, Codable, Equatable {
    /// The Bayes-optimal denoiser (true task parameters).
    public var bayes: Estimate
    /// The in-context denoiser (estimated projection or empirical posterior).
    public var inContext: Estimate
    /// Exact retrieval of the nearest context token.
    public var nearestToken: Estimate
    /// The noisy query itself (k = 0).
    public var query: Estimate
    /// The trained softmax attention (full matrices).
    public var trained: Estimate
    /// One step on E with the trained α, β (scaled identities).
    public var oneStep: Estimate
    /// The fixed point of E reached from x̃ (trained α, β).
    public var fixedPoint: Estimate
    /// Share of prompts whose iteration converged within the step limit.
    public var fixedPointConvergedShare: Double
    /// The trained α = |⟨w_PV⟩| and β = |⟨w_KQ⟩|.
    public var alpha: Double
    public var beta: Double
    /// The signs of ⟨w_KQ⟩ and ⟨w_PV⟩ (both −1: the mirrored branch, equivalent for symmetric tasks).
    public var signs: [Int]
  }

  /// One trained layer.
  public struct TrainedRun: Sendable, Codable, Equatable {
    /// "linear-subspace", "softmax-mixture", ….
    public var name: String
    /// The variant.
    public var variant: String
    /// The task.
    public var task: DenoisingTask
    /// Losses along training.
    public var history: OneLayerAttentionTrainer.History
    /// The weights' structure (⟨w⟩, spreads).
    public var structure: WeightStructure
    /// W_KQ and W_PV, row by row.
    public var keyQuery: [[Double]]
    public var projectionValue: [[Double]]
    /// Training time in seconds.
    public var seconds: Double
  }

  /// Everything about one family at the main settings.
  public struct FamilyResult: Sendable, Codable, Equatable {
    /// The task.
    public var task: DenoisingTask
    /// The comparison on held-out prompts.
    public var comparison: Comparison
    /// The trained linear attention's MSE (subspace only).
    public var linearTrained: Estimate?
    /// MSE after k = 0 … K steps of descent on E (trained α, β).
    public var descent: [Estimate]
  }

  /// One point of a sweep.
  public struct SweepPoint: Sendable, Codable, Equatable {
    /// The family.
    public var family: DenoisingTask.Family
    /// σ_Z² or L.
    public var value: Double
    /// The task of this point.
    public var task: DenoisingTask
    /// The comparison (softmax attention retrained for this point).
    public var comparison: Comparison
  }

  /// One fixed point of the context energy for an analysed prompt.
  public struct AnalysedFixedPoint: Sendable, Codable, Equatable {
    /// single pattern, metastable, global average, unstable.
    public var label: String
    /// Context tokens carrying 90 % of the attention weight.
    public var k: Int
    /// E(s*).
    public var energy: Double
    /// Smallest Hessian eigenvalue (negative: a saddle).
    public var minHessianEigenvalue: Double?
    /// ‖s* − x‖² (x the clean token).
    public var squaredError: Double
    /// ‖s* − x̃‖.
    public var distanceToQuery: Double
    /// Share of the analysis' starts that ended here.
    public var basinShare: Double
  }

  /// The fixed-point analysis of one prompt's context energy.
  public struct PromptAnalysis: Sendable, Codable, Equatable {
    /// The family.
    public var family: DenoisingTask.Family
    /// Prompt index in the evaluation batch.
    public var prompt: Int
    /// α, β used.
    public var alpha: Double
    public var beta: Double
    /// The fixed points found, by energy.
    public var fixedPoints: [AnalysedFixedPoint]
    /// Counts by label.
    public var countByClass: [String: Int]
    /// ‖x̃ − x‖², ‖one step − x‖², ‖fixed point from x̃ − x‖².
    public var querySquaredError: Double
    public var oneStepSquaredError: Double
    public var reachedSquaredError: Double
    /// E(x̃), E(one step), E(fixed point reached).
    public var queryEnergy: Double
    public var oneStepEnergy: Double
    public var reachedEnergy: Double
    /// Distance from the one-step estimate to the nearest fixed point, and that point's label.
    public var oneStepDistanceToNearestFixedPoint: Double
    public var nearestFixedPointLabel: String
    /// Attention weights at the one-step estimate's input (x̃): k₉₀ (tokens carrying 90 % of the weight).
    public var queryK: Int
  }

  /// All results.
  public struct Results: Sendable, Codable, Equatable {
    /// The settings.
    public var settings: Settings
    /// The command that produced them.
    public var command: String
    /// The four main trainings.
    public var runs: [TrainedRun]
    /// Per family at the main settings.
    public var families: [FamilyResult]
    /// σ_Z² sweep and L sweep.
    public var noiseSweep: [SweepPoint]
    public var contextSweep: [SweepPoint]
    /// Fixed-point analyses.
    public var analyses: [PromptAnalysis]
    /// BLAS threads used.
    public var blasThreads: Int
    /// Wall time in seconds.
    public var seconds: Double
  }

  /// The settings.
  public var settings: Settings
  /// The command line recorded in the report.
  public var command: String
  /// Progress messages.
  public var log: @Sendable (String) -> Void

  /// A reproduction with `settings`.
  public init(settings: Settings, command: String, log: @escaping @Sendable (String) -> Void = { _ in }) {
    self.settings = settings
    self.command = command
    self.log = log
  }

  /// Runs everything and writes the report into `output`.
  public func run(into output: URL) throws -> InContextDenoisingReport {
    let results = try run()
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let report = InContextDenoisingReport(results: results)
    try report.write(to: output)
    return report
  }

  /// Re-renders the report of an earlier run from its `results.json` into `output`.
  public static func render(resultsFile: URL, into output: URL) throws -> InContextDenoisingReport {
    let results: Results
    do {
      results = try JSONCoding.decoder().decode(Results.self, from: Data(contentsOf: resultsFile))
    } catch {
      throw InContextDenoisingError.invalidParameter(
        name: "results file", value: resultsFile.path, requirement: "a results.json of this reproduction (\(error))")
    }
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let report = InContextDenoisingReport(results: results)
    try report.write(to: output)
    return report
  }

  /// Runs everything and returns the results.
  public func run() throws -> Results {
    try settings.validate()
    let start = Date()
    let s = settings
    let tasks = try s.tasks()
    var runs: [TrainedRun] = []
    var families: [FamilyResult] = []
    var analyses: [PromptAnalysis] = []
    let linear = try train(.linear, task: tasks[0], steps: s.steps, name: "linear-subspace")
    runs.append(linear.run)
    for (index, task) in tasks.enumerated() {
      let trained = try train(.softmax, task: task, steps: s.steps, name: "softmax-\(task.family.rawValue)")
      runs.append(trained.run)
      let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: s.seed &+ 1000 &+ UInt64(index))
        .batch(0, size: s.evaluationPrompts)
      let (comparison, descent) = try compare(batch, trained: trained.model, descentSteps: s.descentSteps)
      let linearTrained = index == 0 ? estimate(linear.model.denoise(batch), batch) : nil
      families.append(FamilyResult(task: task, comparison: comparison, linearTrained: linearTrained, descent: descent))
      log(
        "\(task.family.rawValue): trained \(fmt(comparison.trained.mse)), Bayes \(fmt(comparison.bayes.mse)), "
          + "one step \(fmt(comparison.oneStep.mse)), fixed point \(fmt(comparison.fixedPoint.mse))")
      for p in 0..<min(s.analysedPrompts, batch.size) {
        analyses.append(try analyse(batch, prompt: p, alpha: comparison.alpha, beta: comparison.beta))
      }
    }
    var noiseSweep: [SweepPoint] = []
    for factor in s.noiseFactors {
      for task in try s.tasks(noiseFactor: factor) {
        noiseSweep.append(try sweepPoint(task, value: task.noiseVariance, label: "σ_Z² = \(task.noiseVariance)"))
      }
    }
    var contextSweep: [SweepPoint] = []
    for l in s.contextLengths {
      for task in try s.tasks(contextLength: l) {
        contextSweep.append(try sweepPoint(task, value: Double(l), label: "L = \(l)"))
      }
    }
    return Results(
      settings: s, command: command, runs: runs, families: families, noiseSweep: noiseSweep,
      contextSweep: contextSweep, analyses: analyses, blasThreads: BLAS.threadCount,
      seconds: Date().timeIntervalSince(start))
  }

  func fmt(_ x: Double) -> String { NumberFormat.general(x, significant: 4) }

  func train(_ variant: OneLayerAttention<Float>.Variant, task: DenoisingTask, steps: Int, name: String) throws -> (
    run: TrainedRun, model: OneLayerAttention<Double>
  ) {
    let setup = InContextTraining(
      variant: variant, task: task, steps: steps, batchSize: settings.batchSize, learningRate: settings.learningRate,
      validationSize: min(512, settings.evaluationPrompts), evaluationInterval: max(1, steps / 10),
      seed: SeededGenerator(seed: settings.seed).derived(Int(truncatingIfNeeded: Fingerprint.fnv1a(name.utf8))).seed)
    let start = Date()
    let log = self.log
    let (model, history) = try setup.run(as: Float.self) { step, training, validation in
      if step > 0 && step % max(1, steps / 5) == 0 || step == steps {
        log("  \(name) step \(step)/\(steps): training \(training), validation \(validation)")
      }
    }
    let seconds = Date().timeIntervalSince(start)
    let n = task.dimension
    func rows(_ m: Matrix<Float>) -> [[Double]] { (0..<n).map { i in m.row(i).map { Double($0) } } }
    let wide = try OneLayerAttention<Double>(
      variant: OneLayerAttention<Double>.Variant(rawValue: variant.rawValue)!,
      keyQuery: Matrix(rowArrays: rows(model.keyQuery)), projectionValue: Matrix(rowArrays: rows(model.projectionValue))
    )
    let run = TrainedRun(
      name: name, variant: variant.rawValue, task: task, history: history, structure: model.structure,
      keyQuery: rows(model.keyQuery), projectionValue: rows(model.projectionValue), seconds: seconds)
    return (run, wide)
  }

  func estimate(_ estimates: Matrix<Double>, _ batch: PromptBatch<Double>) -> Estimate {
    let n = batch.task.dimension
    var errors = [Double](repeating: 0, count: batch.size)
    for b in 0..<batch.size {
      var s = 0.0
      for j in 0..<n { s += (estimates[b, j] - batch.targets[b, j]) * (estimates[b, j] - batch.targets[b, j]) }
      errors[b] = s
    }
    return Self.estimate(errors)
  }

  static func estimate(_ errors: [Double]) -> Estimate {
    let m = errors.reduce(0, +) / Double(errors.count)
    let v = errors.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(errors.count - 1, 1))
    return Estimate(mse: m, standardError: (v / Double(errors.count)).squareRoot())
  }

  /// All denoisers on `batch`, and the descent curve k = 0 … K with the trained α, β.
  func compare(_ batch: PromptBatch<Double>, trained: OneLayerAttention<Double>, descentSteps: Int) throws -> (
    Comparison, [Estimate]
  ) {
    let structure = trained.structure
    // (W_KQ, W_PV) and (−W_KQ, −W_PV) give the same output on the mirrored context −X, so for tasks
    // symmetric under x → −x training can end on either branch; the energy uses the magnitudes.
    let alpha = abs(structure.projectionValue.diagonalMean), beta = abs(structure.keyQuery.diagonalMean)
    guard alpha > 0 && beta > 0 else {
      throw InContextDenoisingError.invalidParameter(
        name: "trained (α, β)", value: "(\(alpha), \(beta))", requirement: "positive to define the context energy")
    }
    let n = batch.task.dimension, b = batch.size
    var perStep = [[Double]](repeating: [Double](repeating: 0, count: b), count: descentSteps + 1)
    var fixed = [Double](repeating: 0, count: b)
    var converged = 0
    for r in 0..<b {
      let energy = try ContextEnergy(context: batch.context(r), alpha: alpha, beta: beta)
      var ws = energy.makeWorkspace(batchSize: 1)
      var s = Matrix(rows: 1, columns: n, elements: batch.queries.row(r))
      var next = s
      let x = batch.targets.row(r)
      func error(_ m: Matrix<Double>) -> Double { (0..<n).reduce(0) { $0 + (m[0, $1] - x[$1]) * (m[0, $1] - x[$1]) } }
      perStep[0][r] = error(s)
      var k = 0
      var done = false
      while k < settings.fixedPointSteps {
        energy.update(s, into: &next, workspace: &ws)
        k += 1
        let step = (0..<n).reduce(0) { $0 + (next[0, $1] - s[0, $1]) * (next[0, $1] - s[0, $1]) }.squareRoot()
        swap(&s, &next)
        if k <= descentSteps { perStep[k][r] = error(s) }
        if step <= 1e-10 * max(1, alpha) {
          done = true
          if k >= descentSteps { break }
        }
      }
      if done { converged += 1 }
      fixed[r] = error(s)
    }
    let oneStep = try OneLayerAttention<Double>.scaledIdentity(
      variant: .softmax, dimension: n, beta: beta, alpha: alpha)
    let comparison = Comparison(
      bayes: estimate(BayesOptimalDenoiser.denoise(batch), batch),
      inContext: estimate(try InContextDenoiser.denoise(batch), batch),
      nearestToken: estimate(InContextDenoiser.nearestToken(batch), batch),
      query: estimate(batch.queries, batch), trained: estimate(trained.denoise(batch), batch),
      oneStep: estimate(oneStep.denoise(batch), batch), fixedPoint: Self.estimate(fixed),
      fixedPointConvergedShare: Double(converged) / Double(b), alpha: alpha, beta: beta,
      signs: [
        structure.keyQuery.diagonalMean.sign == .minus ? -1 : 1,
        structure.projectionValue.diagonalMean.sign == .minus ? -1 : 1,
      ])
    return (comparison, perStep.map { Self.estimate($0) })
  }

  func sweepPoint(_ task: DenoisingTask, value: Double, label: String) throws -> SweepPoint {
    let s = settings
    let trained = try train(.softmax, task: task, steps: s.sweepSteps, name: "sweep-\(task.family.rawValue)-\(label)")
    let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: s.seed &+ 2000).batch(
      0, size: s.evaluationPrompts)
    let (comparison, _) = try compare(batch, trained: trained.model, descentSteps: 1)
    log("\(task.family.rawValue) \(label): trained \(fmt(comparison.trained.mse)), Bayes \(fmt(comparison.bayes.mse))")
    return SweepPoint(family: task.family, value: value, task: task, comparison: comparison)
  }

  /// The fixed points of prompt `p`'s context energy and where the one-step estimate sits.
  func analyse(_ batch: PromptBatch<Double>, prompt p: Int, alpha: Double, beta: Double) throws -> PromptAnalysis {
    let n = batch.task.dimension
    let energy = try ContextEnergy(context: batch.context(p), alpha: alpha, beta: beta)
    let query = batch.queries.row(p), x = batch.targets.row(p)
    let oneStep = energy.update(at: query)
    var reached = query
    for _ in 0..<settings.fixedPointSteps { reached = energy.update(at: reached) }
    let search = FixedPointSearch(
      noisyStartsPerPattern: 0, pairMixtures: 16, tripleMixtures: 16, randomStarts: 16, seed: settings.seed,
      maxSteps: settings.fixedPointSteps)
    let starts = Matrix(rows: 3, columns: n, elements: query + oneStep + x)
    let report = try FixedPointAnalyzer(search: search).analyze(energy, additionalStarts: starts)
    func squared(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
    let points = report.fixedPoints.map { fp in
      AnalysedFixedPoint(
        label: fp.label.rawValue, k: fp.classification.evidence?.k ?? 0, energy: energy.energy(at: fp.state),
        minHessianEigenvalue: fp.classification.hessian?.smallest,
        squaredError: squared(fp.state, x), distanceToQuery: squared(fp.state, query).squareRoot(),
        basinShare: fp.basinShare)
    }.sorted { $0.energy < $1.energy }
    let nearest = report.fixedPoints.min { squared($0.state, oneStep) < squared($1.state, oneStep) }
    let weights = energy.separation(Matrix(rows: 1, columns: n, elements: query)).elements.sorted(by: >)
    var mass = 0.0, k = 0
    while mass < 0.9 && k < weights.count {
      mass += weights[k]
      k += 1
    }
    return PromptAnalysis(
      family: batch.task.family, prompt: p, alpha: alpha, beta: beta, fixedPoints: points,
      countByClass: report.countByClass, querySquaredError: squared(query, x), oneStepSquaredError: squared(oneStep, x),
      reachedSquaredError: squared(reached, x), queryEnergy: energy.energy(at: query),
      oneStepEnergy: energy.energy(at: oneStep), reachedEnergy: energy.energy(at: reached),
      oneStepDistanceToNearestFixedPoint: nearest.map { squared($0.state, oneStep).squareRoot() } ?? .nan,
      nearestFixedPointLabel: nearest?.label.rawValue ?? "none", queryK: k)
  }
}
