import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation

extension IterativeAttentionStudy {
  /// One training run.
  public struct TrainingRecord: Sendable, Codable, Equatable {
    public var task: String
    public var model: ModelSpec
    public var seed: UInt64
    public var history: IterativeAttentionTrainer.History
    public var seconds: Double
  }

  /// Accuracy of one model over a sub-memory of M patterns (A.2).
  public struct MemorySizePoint: Sendable, Codable, Equatable {
    public var model: String
    public var seed: UInt64
    public var memorySize: Int
    public var corruption: Corruption
    /// Accuracy at t = 0 … T.
    public var accuracy: [Double]
  }

  /// Inference time of T steps (A.3).
  public struct CostPoint: Sendable, Codable, Equatable {
    public var model: String
    public var steps: Int
    public var batch: Int
    public var memorySize: Int
    /// Median wall time of the T steps over the repeats, per query.
    public var secondsPerQuery: Double
    public var threads: Int
  }

  /// Everything the study measured.
  public struct Results: Sendable, Codable, Equatable {
    public var settings: Settings
    public var tasks: [String: String] = [:]
    public var curves: [Curve] = []
    public var ablationCurves: [Curve] = []
    public var trainings: [TrainingRecord] = []
    public var memorySizes: [MemorySizePoint] = []
    public var costs: [CostPoint] = []
    public var threads: Int
    public var seconds: Double = 0
    public var command: String
  }

  /// Names used for the untrained and classical rows.
  public static let untrainedName = "Attention, untrained (β = 1/√d)"
  public static let classicalName = "Classical Hopfield"

  /// Table 3's variations around Transformer-Small (same width).
  public var ablationSpecs: [ModelSpec] {
    guard let small = settings.models.first(where: { $0.name == ModelSpec.small.name }) ?? settings.models.first else {
      return []
    }
    var specs: [ModelSpec] = []
    for h in [1, 4, 8] where small.width % h == 0 {
      specs.append(
        ModelSpec(
          name: "heads \(h)", layers: small.layers, heads: h, width: small.width, temperature: small.temperature))
    }
    for l in [1, 2, 4] {
      specs.append(
        ModelSpec(
          name: "layers \(l)", layers: l, heads: small.heads, width: small.width, temperature: small.temperature))
    }
    for tau in [0.5, 1.0, 2.0] {
      specs.append(
        ModelSpec(name: "τ = \(tau)", layers: small.layers, heads: small.heads, width: small.width, temperature: tau))
    }
    return specs
  }

  /// Runs the whole study. Trained models of the first seed are saved under `modelsDirectory`
  /// (one folder per task and configuration) when it is given.
  ///
  /// `checkpoint` receives the results measured so far after each task of each seed (the command
  /// writes them to `results.partial.json`, so a long run that stops early keeps what it measured).
  public func run(
    mnistDirectory: URL?, modelsDirectory: URL?, command: String, checkpoint: ((Results) -> Void)? = nil
  ) throws -> Results {
    try settings.validate()
    let clock = ContinuousClock()
    let began = clock.now
    var results = Results(settings: settings, threads: BLAS.threadCount, command: command)
    var mnist: Task? = nil
    if settings.includesMNIST, let mnistDirectory {
      log("Embedding MNIST (PCA to \(settings.mnistDimension) dimensions)…")
      mnist = try mnistTask(directory: mnistDirectory)
      results.tasks[mnist!.name] = mnist!.summary
    }
    let firstSeed = settings.seeds[0]
    let small = settings.models.first { $0.name == ModelSpec.small.name } ?? settings.models[0]
    var costModels: [(String, IterativeAttention<Float>)] = []
    for seed in settings.seeds {
      let synthetic = try syntheticTask(seed: seed)
      if settings.includesSynthetic { results.tasks[synthetic.name] = synthetic.summary }
      for task in (settings.includesSynthetic ? [synthetic] : []) + (mnist.map { [$0] } ?? []) {
        log("\(task.name), seed \(seed): untrained attention and the classical Hopfield network")
        results.curves += try evaluate(untrainedAttention(task: task), name: Self.untrainedName, task: task, seed: seed)
        results.curves += try evaluateClassical(task: task, seed: seed)
        var trainedSmall: IterativeAttention<Float>? = nil
        for spec in settings.models {
          log("\(task.name), seed \(seed): training \(spec.name)")
          let trained = try train(spec, task: task, seed: seed)
          results.trainings.append(
            TrainingRecord(task: task.name, model: spec, seed: seed, history: trained.history, seconds: trained.seconds)
          )
          results.curves += try evaluate(trained.model, name: spec.name, task: task, seed: seed)
          if spec == small { trainedSmall = trained.model }
          if seed == firstSeed, let modelsDirectory {
            try save(trained, task: task, seed: seed, command: command, into: modelsDirectory)
          }
          if seed == firstSeed && task.name == synthetic.name { costModels.append((spec.name, trained.model)) }
        }
        if task.name == synthetic.name, let trainedSmall {
          results.memorySizes += try memorySweep(trained: trainedSmall, name: small.name, task: task, seed: seed)
        }
        if settings.runsAblations && task.name == synthetic.name
          && (settings.ablationSeeds ?? [firstSeed]).contains(seed)
        {
          for spec in ablationSpecs {
            log("\(task.name), seed \(seed): ablation \(spec.name)")
            let trained: IterativeAttention<Float>
            if spec.configuration == small.configuration, let trainedSmall {
              trained = trainedSmall
            } else {
              trained = try train(spec, task: task, seed: seed).model
            }
            results.ablationCurves += try evaluate(
              trained, name: spec.name, task: task, seed: seed, corruptions: ablationCorruptions)
          }
        }
        results.seconds = (clock.now - began).seconds
        checkpoint?(results)
      }
    }
    if !costModels.isEmpty { results.costs = try measureCosts(costModels, task: try syntheticTask(seed: firstSeed)) }
    results.seconds = (clock.now - began).seconds
    return results
  }

  /// The corruptions of the ablation table: seed 000's σ = 0.3 and a level where retrieval is hard.
  public var ablationCorruptions: [Corruption] {
    [.gaussianNoise(sigma: 0.3), .gaussianNoise(sigma: hardNoise)]
  }

  var hardNoise: Double { settings.hardNoise }

  /// A.2: the trained stack, untrained attention and the classical network over sub-memories of
  /// M patterns. The sub-memory holds the first min(M, n_test) test targets, topped up with
  /// non-test patterns; the queries ask for the test targets inside it.
  func memorySweep(trained: IterativeAttention<Float>, name: String, task: Task, seed: UInt64) throws
    -> [MemorySizePoint]
  {
    var points: [MemorySizePoint] = []
    let testSet = Set(task.test.targets)
    let others = (0..<task.patterns.rows).filter { !testSet.contains($0) }
    for m in settings.memorySizes {
      let queried = Array(task.test.targets.prefix(m))
      let rows = queried + others.prefix(max(0, m - queried.count))
      let sub = Task(
        name: task.name, patterns: task.patterns.rows(at: rows), training: task.training, validation: task.validation,
        test: (task.patterns.rows(at: queried), Array(0..<queried.count)), summary: task.summary)
      for corruption in [Corruption.gaussianNoise(sigma: 0.3), .gaussianNoise(sigma: hardNoise)] {
        let padded = sub.patterns.zeroPadded(toColumns: trained.dimension)
        let model = try IterativeAttention(
          configuration: trained.configuration, keys: padded, values: padded, layers: trained.layers)
        let curves = [
          try evaluate(model, name: name, task: sub, seed: seed, corruptions: [corruption])[0],
          try evaluate(
            untrainedAttention(task: sub), name: Self.untrainedName, task: sub, seed: seed, corruptions: [corruption])[
              0],
          try evaluateClassical(task: sub, seed: seed, corruptions: [corruption])[0],
        ]
        for c in curves {
          points.append(
            MemorySizePoint(model: c.model, seed: seed, memorySize: m, corruption: corruption, accuracy: c.accuracy))
        }
      }
    }
    return points
  }

  /// A.3: median wall time of T plain steps on a batch, per query, for each model (3 repeats after
  /// a warm-up; workspace made once).
  func measureCosts(_ models: [(String, IterativeAttention<Float>)], task: Task) throws -> [CostPoint] {
    var points: [CostPoint] = []
    let clock = ContinuousClock()
    for (name, model) in models {
      let b = min(settings.costBatch, task.test.cues.rows)
      let cues = task.test.cues.rows(at: Array(0..<b))
      var generator = SeededGenerator(seed: 0xC057)
      let q0 = try Corruption.gaussianNoise(sigma: 0.3).queries(
        corrupting: cues, patterns: task.patterns, targets: Array(task.test.targets.prefix(b)),
        using: &generator
      ).queries.zeroPadded(toColumns: model.dimension)
      var workspace = model.makeWorkspace(batchSize: b)
      var a = q0, next = q0
      model.update(a, into: &next, workspace: &workspace)  // warm-up
      for t in settings.costSteps {
        var times: [Double] = []
        for _ in 0..<3 {
          a = q0
          let start = clock.now
          for _ in 0..<t {
            model.update(a, into: &next, workspace: &workspace)
            swap(&a, &next)
          }
          times.append((clock.now - start).seconds)
        }
        times.sort()
        points.append(
          CostPoint(
            model: name, steps: t, batch: b, memorySize: model.memorySize, secondsPerQuery: times[1] / Double(b),
            threads: BLAS.threadCount))
      }
    }
    return points
  }

  /// Saves a trained model of the first seed as a `Models/` folder.
  func save(_ trained: TrainedModel, task: Task, seed: UInt64, command: String, into directory: URL) throws {
    let folder = directory.appendingPathComponent("iterative-attention-\(task.name.lowercased())-\(trained.spec.slug)")
    try saveModel(trained, task: task, seed: seed, command: command, to: folder)
  }

  /// Writes a trained model as a model folder (config.json, weights.safetensors, CARD.md) at
  /// `folder`, with a card that says how it was trained and by which `command`.
  public func saveModel(_ trained: TrainedModel, task: Task, seed: UInt64, command: String, to folder: URL) throws {
    // The memory is stored in the folder for every task (issue 17), so anyone can check the model
    // without our generator; folders written before with a Synthetic recipe still load.
    let memory = IterativeAttentionModelFolder.Memory.stored
    let stored: Matrix<Float>? = task.patterns
    let record = IterativeAttentionModelFolder(
      configuration: trained.spec.configuration, dataDimension: task.patterns.columns, memory: memory, task: task.name,
      seed: seed, command: command, history: trained.history, trainingSeconds: trained.seconds)
    let h = trained.history
    let card = """
      # \(trained.spec.name) on \(task.name) (seed \(seed))

      An `IterativeAttention` stack: \(trained.spec.layers) layer(s) × \(trained.spec.heads) head(s), width \
      \(trained.spec.width), τ = \(trained.spec.temperature), over a memory of \(task.patterns.rows) patterns of dimension \
      \(task.patterns.columns) (zero-padded to the width; keys = values).

      **Data.** \(task.summary).

      **Trained to** map a corrupted cue to its clean stored pattern in ONE application of the stack \
      (loss ½‖f(q) − target‖² averaged over the batch); corruptions drawn afresh each epoch, one kind per query: \
      Gaussian noise σ ~ U[0, \(settings.trainingNoiseMax)], masking of a fraction ~ U[0, 0.9] of the coordinates, or \
      overlap α ~ U[0.5, 1] with another stored pattern. Projections initialised at identity + N(0, 0.02²). AdamW \
      (learning rate \(settings.learningRate) with cosine decay to \(settings.finalLearningRateFraction)× over the epochs, weight decay \(settings.weightDecay)), batch \(settings.batchSize), at most \
      \(settings.epochs) epochs, early stopping with patience \(settings.patience) on the validation loss. Iteration happens \
      only at test time.

      **Training record.** Validation loss \(String(format: "%.4f", h.initialValidationLoss)) before training, \
      \(String(format: "%.4f", h.validationLoss.min() ?? .nan)) at the kept epoch \(h.bestEpoch) of \(h.validationLoss.count); \
      \(String(format: "%.0f", trained.seconds)) s on this machine with \(BLAS.threadCount) OpenBLAS thread(s).

      **Made by** `\(command)` (the study of Docs/IterativeAttention.md, which reports what the model scores).

      **Load** with `attractor recall --model-folder <this folder>` or `attractor analyze --model-folder <this folder>`; \
      the memory is \(stored == nil ? "regenerated from its seeded recipe in config.json" : "stored in weights.safetensors as memory.keys").
      """
    try IterativeAttentionModelFolder.save(
      trained.model, record: record, memoryKeys: stored, card: card + "\n", to: folder)
  }
}
