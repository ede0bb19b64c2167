import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// Seed 000's study, "Associative retrieval as test-time optimization in transformer attention",
/// run for real: attention stacks are trained to retrieve in **one** step, then iterated at test
/// time with fixed parameters, and scored on held-out targets against the cue itself, untrained
/// attention and the classical Hopfield network.
///
/// What the models are trained to do (seed 000 does not say; this is our choice):
///
/// ```
/// query  q = corrupt(cue),  target t = the stored pattern the cue belongs to
/// corrupt: one of three kinds per query, uniformly: noise σ ~ U[0, σ_max], mask fraction ~ U[0, 0.9],
///          overlap α ~ U[0.5, 1] with a random other stored pattern; drawn afresh every epoch
/// loss   L = (1/2B) Σ ‖f(q) − t‖²   for ONE application f of the stack (no iteration in training)
/// ```
///
/// Queries and patterns of dimension d_data are zero-padded to the model width (an isometry, so
/// similarities are unchanged). The projections start at the identity plus N(0, 0.02²) noise, so
/// an untrained stack is multi-head Hopfield retrieval; AdamW with early stopping on the
/// validation loss; every random choice is seeded by the study seed.
///
/// Test-time metrics on the test split, for t = 0 … T (t = 0 is the corrupted cue itself):
/// retrieval accuracy (nearest stored pattern by cosine similarity = target), the diagnostic
/// energy E(q) = −log Σ exp(q·kᵢ/√d), the update size ‖q_t − q_{t−1}‖, and steps to converge
/// (first t with ‖q_t − q_{t−1}‖ ≤ ε). Iteration is the plain q_{t+1} = f(q_t) of seed 000.
public struct IterativeAttentionStudy: Sendable {
  /// One attention configuration of the study.
  public struct ModelSpec: Sendable, Codable, Hashable {
    /// Name used in tables and folder names.
    public var name: String
    public var layers: Int
    public var heads: Int
    public var width: Int
    public var temperature: Double

    public init(name: String, layers: Int, heads: Int, width: Int, temperature: Double = 1) {
      self.name = name
      self.layers = layers
      self.heads = heads
      self.width = width
      self.temperature = temperature
    }

    /// The stack's configuration.
    public var configuration: IterativeAttentionConfiguration {
      IterativeAttentionConfiguration(layers: layers, heads: heads, width: width, temperature: temperature)
    }

    /// Seed 000's three configurations.
    public static let singleHead = ModelSpec(name: "Single-Head", layers: 1, heads: 1, width: 128)
    public static let small = ModelSpec(name: "Transformer-Small", layers: 2, heads: 4, width: 128)
    public static let medium = ModelSpec(name: "Transformer-Medium", layers: 4, heads: 8, width: 256)

    /// Folder-friendly name: lower case, spaces and symbols as hyphens.
    public var slug: String {
      String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
  }

  /// Sizes and training settings.
  public struct Settings: Sendable, Codable, Equatable {
    /// Synthetic-Gaussian vectors and their dimension.
    public var syntheticCount = 10_000
    public var syntheticDimension = 64
    /// Whether to run the Synthetic-Gaussian task (with the ablations, A.2 and A.3).
    public var includesSynthetic = true
    /// Whether to run the MNIST task (needs the IDX files).
    public var includesMNIST = true
    public var mnistDimension = 128
    public var mnistTrainingCount = 50_000
    public var mnistValidationCount = 10_000
    public var mnistTestCount = 10_000
    /// Study seeds (each redraws data, initialisation, training order and corruptions).
    public var seeds: [UInt64] = [0, 1, 2]
    /// The three configurations of Table 1.
    public var models: [ModelSpec] = [.singleHead, .small, .medium]
    /// Training.
    public var epochs = 10
    public var patience = 2
    public var batchSize = 256
    public var learningRate = 1e-2
    /// Cosine decay to this fraction of the learning rate at the last epoch.
    public var finalLearningRateFraction = 0.05
    public var weightDecay = 0.01
    /// Largest training noise σ.
    public var trainingNoiseMax = 2.0
    /// Test steps T and the convergence tolerance ε.
    public var steps = 10
    public var tolerance = 1e-3
    /// Test corruption levels.
    public var noiseLevels: [Double] = [0.1, 0.3, 0.5, 0.7, 0.9, 1.5, 2.0, 3.0]
    public var maskLevels: [Double] = [0.1, 0.3, 0.5, 0.7, 0.9]
    public var overlapLevels: [Double] = [0.5, 0.6, 0.7, 0.8, 0.9]
    /// Table 3's ablations on the Synthetic task (varying heads, layers, τ around Transformer-Small).
    public var runsAblations = true
    /// Seeds the ablations run with (`nil`: the first seed only, to bound the run time).
    public var ablationSeeds: [UInt64]? = nil
    /// A.2: memory sizes for the trained Transformer-Small over sub-memories.
    public var memorySizes: [Int] = [100, 300, 1_000, 3_000, 10_000]
    /// A.3: steps at which inference time is measured, and the batch.
    public var costSteps: [Int] = [1, 2, 5, 10]
    public var costBatch = 1_000
    /// Classical Hopfield baseline: asynchronous sweeps allowed.
    public var classicalSweeps = 50

    public init() {}

    /// The full study.
    public static var full: Settings { Settings() }

    /// A small version for tests and quick looks (Synthetic only, 2 seeds, small memory).
    public static var quick: Settings {
      var s = Settings()
      s.syntheticCount = 300
      s.syntheticDimension = 16
      s.includesMNIST = false
      s.seeds = [0, 1]
      s.models = [
        ModelSpec(name: "Single-Head", layers: 1, heads: 1, width: 32),
        ModelSpec(name: "Transformer-Small", layers: 2, heads: 4, width: 32),
        ModelSpec(name: "Transformer-Medium", layers: 2, heads: 8, width: 32),
      ]
      s.epochs = 4
      s.patience = 2
      s.batchSize = 64
      s.learningRate = 3e-3
      s.steps = 5
      s.noiseLevels = [0.3, 1.0]
      s.maskLevels = [0.5]
      s.overlapLevels = [0.6]
      s.runsAblations = false
      s.memorySizes = [100, 300]
      s.costSteps = [1, 5]
      s.costBatch = 64
      s.classicalSweeps = 10
      return s
    }

    /// The noise level beyond seed 000's range that shows where iteration matters: 2.0 when it is
    /// a test level, else the largest test level.
    public var hardNoise: Double { noiseLevels.contains(2.0) ? 2.0 : (noiseLevels.max() ?? 2.0) }

    /// Checks every size and setting.
    public func validate() throws(DatasetError) {
      try DatasetError.check(syntheticCount >= 10, "syntheticCount", syntheticCount, "at least 10")
      try DatasetError.check(syntheticDimension >= 1, "syntheticDimension", syntheticDimension, "at least 1")
      try DatasetError.check(!seeds.isEmpty, "seeds", seeds, "non-empty")
      try DatasetError.check(!models.isEmpty, "models", models.count, "at least one")
      for m in models {
        try DatasetError.check(
          m.width >= syntheticDimension, "\(m.name) width", m.width,
          "at least the data dimension \(syntheticDimension)")
        if includesMNIST {
          try DatasetError.check(
            m.width >= mnistDimension, "\(m.name) width", m.width, "at least the MNIST dimension \(mnistDimension)")
        }
      }
      try DatasetError.check(epochs >= 1, "epochs", epochs, "at least 1")
      try DatasetError.check(steps >= 1, "steps", steps, "at least 1")
      try DatasetError.check(costSteps.allSatisfy { $0 >= 1 }, "costSteps", costSteps, "all at least 1")
      try DatasetError.check(
        memorySizes.allSatisfy { $0 >= 2 && $0 <= syntheticCount }, "memorySizes", memorySizes,
        "in 2…\(syntheticCount)")
      try DatasetError.check(
        trainingNoiseMax.isFinite && trainingNoiseMax >= 0, "trainingNoiseMax", trainingNoiseMax, "finite and ≥ 0")
    }
  }

  /// One task: stored patterns in data space, and clean cues with their targets per split.
  public struct Task: Sendable {
    public var name: String
    /// Stored patterns (N × d_data); keys = values.
    public var patterns: Matrix<Float>
    public var training: (cues: Matrix<Float>, targets: [Int])
    public var validation: (cues: Matrix<Float>, targets: [Int])
    public var test: (cues: Matrix<Float>, targets: [Int])
    /// A sentence describing the data for the report.
    public var summary: String
  }

  public let settings: Settings
  /// Progress lines (stderr in the command).
  public var log: @Sendable (String) -> Void

  public init(settings: Settings, log: @escaping @Sendable (String) -> Void = { _ in }) {
    self.settings = settings
    self.log = log
  }

  // MARK: Tasks

  /// The Synthetic-Gaussian task for a seed.
  public func syntheticTask(seed: UInt64) throws(DatasetError) -> Task {
    let data = try SyntheticGaussianDataset<Float>(
      count: settings.syntheticCount, dimension: settings.syntheticDimension, seed: seed)
    let p = data.patterns
    return Task(
      name: "Synthetic-Gaussian", patterns: p, training: (p.rows(at: data.training), data.training),
      validation: (p.rows(at: data.validation), data.validation), test: (p.rows(at: data.test), data.test),
      summary: "\(p.rows) vectors with N(0, 1) entries in d = \(p.columns), all stored; "
        + "targets split \(data.training.count)/\(data.validation.count)/\(data.test.count) (training/validation/test)")
  }

  /// The MNIST task (PCA embedding, class prototypes stored; the cue is an image's embedding).
  public func mnistTask(directory: URL) throws(DatasetError) -> Task {
    let data = try MNISTEmbedding<Float>(
      directory: directory, dimension: settings.mnistDimension, trainingCount: settings.mnistTrainingCount,
      validationCount: settings.mnistValidationCount, testCount: settings.mnistTestCount)
    let explained = String(format: "%.1f", 100 * data.explainedVariance)
    return Task(
      name: "MNIST-PCA", patterns: data.prototypes, training: (data.training.embeddings, data.training.labels),
      validation: (data.validation.embeddings, data.validation.labels), test: (data.test.embeddings, data.test.labels),
      summary: "MNIST pixels → PCA to d = \(data.dimension) (\(explained) % of the pixel variance), scaled so the "
        + "10 class prototypes (class means) have unit RMS entries; cue = one image's embedding, target = its class; "
        + "\(data.training.labels.count)/\(data.validation.labels.count)/\(data.test.labels.count) images")
  }

  // MARK: Training

  /// Queries for training and validation: each cue gets one corruption kind chosen uniformly,
  /// with a uniform level (see the type's documentation).
  func mixedQueries(
    cues: Matrix<Float>, targets: [Int], patterns: Matrix<Float>, using rng: inout SeededGenerator
  ) throws(DatasetError) -> Matrix<Float> {
    var out = cues
    let d = cues.columns
    for r in 0..<cues.rows {
      let kind = rng.next(upperBound: UInt64(3))
      let u = rng.nextUniform()
      let corruption: Corruption =
        switch kind {
        case 0: .gaussianNoise(sigma: u * settings.trainingNoiseMax)
        case 1: .mask(fraction: 0.9 * u)
        default: .overlap(alpha: 0.5 + 0.5 * u)
        }
      do {
        let q = try corruption.queries(
          corrupting: cues.rows(at: [r]), patterns: patterns, targets: [targets[r]], using: &rng)
        for j in 0..<d { out[r, j] = q.queries[0, j] }
      } catch {
        throw .invalidParameter(name: "corruption", value: "\(corruption)", requirement: "valid: \(error)")
      }
    }
    return out
  }

  /// The untrained starting point: identity projections plus N(0, 0.02²) noise.
  func initialModel(_ spec: ModelSpec, memory: Matrix<Float>, rng: inout SeededGenerator) throws(ModelError)
    -> IterativeAttention<Float>
  {
    let d = spec.width
    var layers: [AttentionLayerParameters<Float>] = []
    for _ in 0..<spec.layers {
      func near() -> Matrix<Float> {
        Matrix<Float>.identity(d) + rng.gaussianMatrix(rows: d, columns: d, standardDeviation: 0.02)
      }
      layers.append(AttentionLayerParameters(query: near(), key: near(), value: near(), output: near()))
    }
    return try IterativeAttention(configuration: spec.configuration, keys: memory, values: memory, layers: layers)
  }

  /// A trained model, its training history and the wall time.
  public struct TrainedModel: Sendable {
    public var spec: ModelSpec
    public var seed: UInt64
    public var task: String
    public var model: IterativeAttention<Float>
    public var history: IterativeAttentionTrainer.History
    public var seconds: Double
  }

  /// Trains `spec` on `task` with the study's settings.
  public func train(_ spec: ModelSpec, task: Task, seed: UInt64) throws -> TrainedModel {
    let memory = task.patterns.zeroPadded(toColumns: spec.width)
    let tag: Int = 0x7EA1 + spec.width * 31 + spec.layers * 7 + spec.heads + Int(spec.temperature * 1000) * 131
    var rng = SeededGenerator(seed: seed).derived(tag)
    var initRNG = rng.derived(1)
    let model = try initialModel(spec, memory: memory, rng: &initRNG)
    var validationRNG = rng.derived(2)
    let validationQueries = try mixedQueries(
      cues: task.validation.cues, targets: task.validation.targets, patterns: task.patterns, using: &validationRNG)
    let validation = (
      validationQueries.zeroPadded(toColumns: spec.width),
      task.patterns.rows(at: task.validation.targets).zeroPadded(toColumns: spec.width)
    )
    let trainingTargets = task.patterns.rows(at: task.training.targets).zeroPadded(toColumns: spec.width)
    let trainer = IterativeAttentionTrainer(
      epochs: settings.epochs, batchSize: settings.batchSize, patience: settings.patience,
      learningRate: settings.learningRate, weightDecay: settings.weightDecay, seed: rng.next(),
      finalLearningRateFraction: settings.finalLearningRateFraction)
    let epochRNG = rng.derived(3)
    let clock = ContinuousClock()
    let began = clock.now
    let name = "\(task.name) \(spec.name) seed \(seed)"
    let settings = self.settings
    let log = self.log
    let result = try trainer.train(
      model,
      trainingPairs: { (epoch: Int) throws(ModelError) -> (queries: Matrix<Float>, targets: Matrix<Float>) in
        var r = epochRNG.derived(epoch)
        do {
          let q = try self.mixedQueries(
            cues: task.training.cues, targets: task.training.targets, patterns: task.patterns, using: &r)
          return (q.zeroPadded(toColumns: spec.width), trainingTargets)
        } catch {
          throw .invalidParameter(name: "training data", value: "\(error)", requirement: "valid")
        }
      },
      validation: validation,
      progress: { epoch, history in
        let elapsed = (clock.now - began).seconds
        let lossText = String(
          format: "training loss %.4f, validation loss %.4f (%.0f s)", history.trainingLoss.last ?? Double.nan,
          history.validationLoss.last ?? Double.nan, elapsed)
        log("  \(name): epoch \(epoch)/\(settings.epochs), \(lossText)")
      })
    return TrainedModel(
      spec: spec, seed: seed, task: task.name, model: result.model, history: result.history,
      seconds: (clock.now - began).seconds)
  }

  // MARK: Evaluation

  /// Retrieval of one model under one corruption, per step.
  public struct Curve: Sendable, Codable, Equatable {
    public var task: String
    public var model: String
    public var seed: UInt64
    public var corruption: Corruption
    /// Accuracy at t = 0 … T.
    public var accuracy: [Double]
    /// Mean diagnostic energy at t = 0 … T (nil for models without one).
    public var meanEnergy: [Double]?
    /// Mean ‖q_t − q_{t−1}‖ for t = 1 … T.
    public var meanStepSize: [Double]
    /// Fraction converged (some step ≤ ε) by step T.
    public var convergedFraction: Double
    /// Mean steps to converge over the converged queries.
    public var meanStepsToConverge: Double?
  }

  /// The test corruptions.
  public var testCorruptions: [Corruption] {
    settings.noiseLevels.map { .gaussianNoise(sigma: $0) } + settings.maskLevels.map { .mask(fraction: $0) }
      + settings.overlapLevels.map { .overlap(alpha: $0) }
  }

  /// Test queries (in data space) for a task, corruption and seed: the same for every model.
  public func testQueries(task: Task, corruption: Corruption, seed: UInt64) throws -> Matrix<Float> {
    // Derived from the corruption's description (hashValue differs between processes).
    var rng = SeededGenerator(seed: seed).derived(0x7E57).derived(
      Int(truncatingIfNeeded: Self.stableHash(corruption.description)))
    return try corruption.queries(
      corrupting: task.test.cues, patterns: task.patterns, targets: task.test.targets, using: &rng
    ).queries
  }

  static func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// What a curve is of: the task, the model, the seed and the corruption of the queries.
  public typealias CurveLabel = (task: String, model: String, seed: UInt64, corruption: Corruption)

  /// Runs any rule for T steps from `queries` and summarises it (energies only for the overloads
  /// below: a rule that descends an energy, or an attention stack's diagnostic energy).
  public func curve<Rule: UpdateRule>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int], steps: Int,
    schedule: RecallExperiment.Schedule = .synchronous,
    label: CurveLabel
  ) throws -> Curve {
    summary(
      try experiment(steps, schedule).run(rule, patterns: patterns, queries: queries, targets: targets).result, label)
  }

  /// The same for a rule that descends an energy and updates coordinate-wise (the classical network).
  public func curve<Rule: EnergyDescending & CoordinateUpdatable>(
    _ rule: Rule, patterns: Matrix<Rule.Scalar>, queries: Matrix<Rule.Scalar>, targets: [Int], steps: Int,
    schedule: RecallExperiment.Schedule = .synchronous,
    label: CurveLabel
  ) throws -> Curve {
    summary(
      try experiment(steps, schedule).run(rule, patterns: patterns, queries: queries, targets: targets).result, label)
  }

  /// The same for an attention stack, recording its diagnostic energy
  /// (``/AttractorModels/IterativeAttention/diagnosticEnergy(_:into:workspace:)``, not descended).
  public func curve<Scalar>(
    _ model: IterativeAttention<Scalar>, patterns: Matrix<Scalar>, queries: Matrix<Scalar>, targets: [Int], steps: Int,
    schedule: RecallExperiment.Schedule = .synchronous,
    label: CurveLabel
  ) throws -> Curve {
    var workspace = model.makeWorkspace(batchSize: queries.rows)
    let run = try experiment(steps, schedule).run(
      model, patterns: patterns, queries: queries, targets: targets,
      energy: { states, energies in model.diagnosticEnergy(states, into: &energies, workspace: &workspace) })
    return summary(run.result, label)
  }

  private func experiment(_ steps: Int, _ schedule: RecallExperiment.Schedule) -> RecallExperiment {
    RecallExperiment(
      steps: steps, tolerance: settings.tolerance, schedule: schedule, freezesConvergedStates: false,
      recordsEnergies: true)
  }

  private func summary(
    _ run: RecallResult, _ label: CurveLabel
  ) -> Curve {
    let energies = run.steps.map(\.meanEnergy)
    return Curve(
      task: label.task, model: label.model, seed: label.seed, corruption: label.corruption,
      accuracy: run.steps.map { $0.accuracy ?? 0 },
      meanEnergy: energies.allSatisfy { $0 != nil } ? energies.map { $0! } : nil,
      meanStepSize: run.steps.dropFirst().map { $0.meanStepSize ?? 0 },
      convergedFraction: run.convergedFraction, meanStepsToConverge: run.stepsToConvergeSummary?.mean)
  }

  /// Curves of an attention model (trained or not) on every test corruption.
  public func evaluate(
    _ model: IterativeAttention<Float>, name: String, task: Task, seed: UInt64, corruptions: [Corruption]? = nil
  ) throws -> [Curve] {
    let width = model.dimension
    let keys = model.keys
    return try (corruptions ?? testCorruptions).map { corruption in
      let q = try testQueries(task: task, corruption: corruption, seed: seed).zeroPadded(toColumns: width)
      return try curve(
        model, patterns: keys, queries: q, targets: task.test.targets, steps: settings.steps,
        label: (task.name, name, seed, corruption))
    }
  }

  /// The classical Hopfield network on the sign-binarised task, asynchronous until convergence.
  public func evaluateClassical(task: Task, seed: UInt64, corruptions: [Corruption]? = nil) throws -> [Curve] {
    let binary = Binarization.binarized(task.patterns)
    let network = try ClassicalHopfield<Float>(patterns: binary)
    return try (corruptions ?? testCorruptions).map { corruption in
      let q = Binarization.binarized(
        try testQueries(task: task, corruption: corruption, seed: seed), keepingZeros: true)
      return try curve(
        network, patterns: binary, queries: q, targets: task.test.targets, steps: settings.classicalSweeps,
        schedule: .asynchronous(seed: seed), label: (task.name, "Classical Hopfield", seed, corruption))
    }
  }

  /// The untrained reference: one layer, one head, identity projections, τ = 1 on the data itself
  /// (the modern Hopfield update with β = 1/√d_data).
  public func untrainedAttention(task: Task) throws -> IterativeAttention<Float> {
    try IterativeAttention<Float>.identity(
      configuration: IterativeAttentionConfiguration(layers: 1, heads: 1, width: task.patterns.columns),
      keys: task.patterns, values: task.patterns)
  }
}

extension IterativeAttentionStudy.Settings {
  private enum CodingKeys: String, CodingKey {
    case syntheticCount, syntheticDimension, includesSynthetic, includesMNIST, mnistDimension, mnistTrainingCount,
      mnistValidationCount, mnistTestCount, seeds, models, epochs, patience, batchSize, learningRate,
      finalLearningRateFraction, weightDecay, trainingNoiseMax, steps, tolerance, noiseLevels, maskLevels,
      overlapLevels, runsAblations, ablationSeeds, memorySizes, costSteps, costBatch, classicalSweeps
  }

  /// Decodes settings, taking the default for any key an older `results.json` lacks (so reports of
  /// earlier runs can be re-rendered with `--from-results`).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    var s = IterativeAttentionStudy.Settings()
    func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
      if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
    }
    try take(.syntheticCount, &s.syntheticCount)
    try take(.syntheticDimension, &s.syntheticDimension)
    try take(.includesSynthetic, &s.includesSynthetic)
    try take(.includesMNIST, &s.includesMNIST)
    try take(.mnistDimension, &s.mnistDimension)
    try take(.mnistTrainingCount, &s.mnistTrainingCount)
    try take(.mnistValidationCount, &s.mnistValidationCount)
    try take(.mnistTestCount, &s.mnistTestCount)
    try take(.seeds, &s.seeds)
    try take(.models, &s.models)
    try take(.epochs, &s.epochs)
    try take(.patience, &s.patience)
    try take(.batchSize, &s.batchSize)
    try take(.learningRate, &s.learningRate)
    try take(.finalLearningRateFraction, &s.finalLearningRateFraction)
    try take(.weightDecay, &s.weightDecay)
    try take(.trainingNoiseMax, &s.trainingNoiseMax)
    try take(.steps, &s.steps)
    try take(.tolerance, &s.tolerance)
    try take(.noiseLevels, &s.noiseLevels)
    try take(.maskLevels, &s.maskLevels)
    try take(.overlapLevels, &s.overlapLevels)
    try take(.runsAblations, &s.runsAblations)
    try take(.memorySizes, &s.memorySizes)
    try take(.costSteps, &s.costSteps)
    try take(.costBatch, &s.costBatch)
    try take(.classicalSweeps, &s.classicalSweeps)
    s.ablationSeeds = try c.decodeIfPresent([UInt64].self, forKey: .ablationSeeds)
    self = s
  }
}
