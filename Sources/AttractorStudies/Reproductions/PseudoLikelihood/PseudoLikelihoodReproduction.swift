import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import AttractorPlots
import Foundation

/// D'Amico & Negri (arXiv:2409.16112) on MNIST or Fashion-MNIST (``/AttractorExperiments/ImageDataset``):
/// a ``PseudoLikelihoodAttractor`` trained by the local rule on clean images, then run from masked and from noisy digits; the pixel MSE against the number
/// of iterations t = 1 … T, beside the iterative-attention block trained by backpropagation and
/// applied t times; overlaps of the trajectories with the nearest training and test digits; the fixed
/// points reached from the cues, with their spectra (`?geev`). Docs/PseudoLikelihood.md.
public struct PseudoLikelihoodReproduction: Sendable {
  /// Sizes and parameters of a run.
  public struct Settings: Sendable, Codable, Equatable {
    public var trainCount: Int
    public var testCount: Int
    public var patchSide: Int
    public var inverseTemperature: Double
    public var selfCoupling: Double
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var weightDecay: Double
    /// Epochs of contrastive divergence continuing from the local rule's couplings, for a second
    /// model whose curves are reported beside the first (0: none).
    public var contrastiveEpochs: Int
    /// Synchronous steps of the model's dynamics that make the contrastive rule's model states.
    public var contrastiveSteps: Int
    /// Patches of the 25 set to grey (0.5) in the masking task.
    public var maskedPatches: Int
    /// σ of the Gaussian pixel noise in the denoising task (pixels clamped to [0, 1] after).
    public var noiseSigma: Double
    /// Largest number of iterations T.
    public var maxIterations: Int
    /// Training digits held by the baseline's memory (keys = values).
    public var baselineMemory: Int
    /// (cue, target) pairs the baseline is trained on, each epoch with fresh corruptions.
    public var baselineTrainCount: Int
    public var baselineEpochs: Int
    /// Training digits compared with each state for the overlap curves.
    public var overlapReferences: Int
    /// Masking cues followed to their end points for the fixed-point analysis.
    public var fixedPointStarts: Int
    /// Steps run towards a fixed point.
    public var fixedPointSteps: Int

    /// The committed run (≈ 10 minutes on one core).
    public static let full = Settings(
      trainCount: 10_000, testCount: 500, patchSide: 4, inverseTemperature: 4, selfCoupling: 0.5, epochs: 5,
      batchSize: 100, learningRate: 0.5, weightDecay: 1, contrastiveEpochs: 2, contrastiveSteps: 1, maskedPatches: 6,
      noiseSigma: 0.4, maxIterations: 100,
      baselineMemory: 500, baselineTrainCount: 2_000, baselineEpochs: 10, overlapReferences: 2_000,
      fixedPointStarts: 10, fixedPointSteps: 1_000)
    /// Seconds, for tests.
    public static let quick = Settings(
      trainCount: 200, testCount: 20, patchSide: 4, inverseTemperature: 4, selfCoupling: 0.5, epochs: 2, batchSize: 50,
      learningRate: 0.5, weightDecay: 1, contrastiveEpochs: 1, contrastiveSteps: 1, maskedPatches: 6, noiseSigma: 0.4,
      maxIterations: 8, baselineMemory: 20, baselineTrainCount: 40, baselineEpochs: 1, overlapReferences: 50,
      fixedPointStarts: 1, fixedPointSteps: 20)
  }

  public var settings: Settings
  public var seed: UInt64
  /// MNIST or Fashion-MNIST (the same pipeline and settings for both).
  public var dataset: ImageDataset
  /// The folder of the data set's four IDX files.
  public var dataDirectory: URL
  public var command: String
  public var log: @Sendable (String) -> Void

  public init(
    settings: Settings, seed: UInt64, dataset: ImageDataset = .mnist, dataDirectory: URL, command: String,
    log: @escaping @Sendable (String) -> Void
  ) {
    self.settings = settings
    self.seed = seed
    self.dataset = dataset
    self.dataDirectory = dataDirectory
    self.command = command
    self.log = log
  }

  /// One task's curves.
  public struct TaskResult: Sendable, Codable {
    public var task: String
    /// MSE of the cue itself (t = 0).
    public var cueMSE: Double
    /// MSE over the crop at t = 1 … T, pseudo-likelihood network.
    public var mse: [Double]
    /// MSE over the masked pixels only (masking task), t = 1 … T.
    public var maskedMSE: [Double]?
    /// MSE over the crop at t = 1 … T after the contrastive epochs (nil without them).
    public var contrastiveMSE: [Double]?
    /// MSE over the crop at t = 1 … T, baseline block applied t times.
    public var baselineMSE: [Double]
    /// Times at which overlaps were measured.
    public var overlapTimes: [Int]
    /// Mean over cues of the largest overlap with a training digit (of `overlapReferences`).
    public var nearestTrainOverlap: [Double]
    /// Mean over cues of the largest overlap with a test digit (its own clean digit included).
    public var nearestTestOverlap: [Double]
    /// Mean overlap with the cue's own clean digit.
    public var ownTargetOverlap: [Double]
  }

  /// An end point of the dynamics from a masking cue.
  public struct FixedPoint: Sendable, Codable {
    public var start: Int
    public var steps: Int
    public var lastStepSize: Double
    public var spectralRadius: Double?
    public var nearestTrainOverlap: Double
    public var ownTargetOverlap: Double
    public var mse: Double
  }

  /// Everything a run measured.
  public struct Results: Sendable, Codable {
    /// The data set the run used.
    public var dataset: ImageDataset
    public var settings: Settings
    public var seed: UInt64
    public var command: String
    public var tokens: Int
    public var tokenWidth: Int
    public var parameterCount: Int
    public var baselineParameterCount: Int
    public var trainingSeconds: Double
    public var baselineTrainingSeconds: Double
    public var trainingCost: [Double]
    /// ⟨Σ_i e_i⟩ per contrastive epoch (empty without them).
    public var contrastiveCost: [Double]
    public var initialCost: Double
    public var tasks: [TaskResult]
    public var fixedPoints: [FixedPoint]
    public var totalSeconds: Double
  }

  /// A masking or denoising cue set: cues (crops), and per cue the masked pixel indices.
  struct Cues {
    var crops: Matrix<Double>
    var masked: [[Int]]
  }

  func maskingCues(_ clean: Matrix<Double>, embedding: PixelTokenEmbedding, rng: inout SeededGenerator) -> Cues {
    var crops = clean
    var masked: [[Int]] = []
    var order = [Int](repeating: 0, count: embedding.tokens)
    for r in 0..<clean.rows {
      rng.shuffle(&order)
      var pixels: [Int] = []
      for t in order.prefix(settings.maskedPatches) { pixels += embedding.pixels(ofPatch: t) }
      for k in pixels { crops[r, k] = 0.5 }
      masked.append(pixels)
    }
    return Cues(crops: crops, masked: masked)
  }

  func noisyCues(_ clean: Matrix<Double>, rng: inout SeededGenerator) -> Cues {
    var crops = clean
    for r in 0..<clean.rows {
      for k in 0..<clean.columns {
        crops[r, k] = min(max(clean[r, k] + settings.noiseSigma * rng.nextGaussian(), 0), 1)
      }
    }
    return Cues(crops: crops, masked: [])
  }

  static func mse(_ a: Matrix<Double>, _ b: Matrix<Double>, pixels: [[Int]]? = nil) -> Double {
    var s = 0.0, count = 0
    for r in 0..<a.rows {
      if let pixels {
        for k in pixels[r] {
          s += (a[r, k] - b[r, k]) * (a[r, k] - b[r, k])
          count += 1
        }
      } else {
        for k in 0..<a.columns { s += (a[r, k] - b[r, k]) * (a[r, k] - b[r, k]) }
        count += a.columns
      }
    }
    return s / Double(max(count, 1))
  }

  /// Mean over rows of the largest (or, with `own`, the row's own) overlap (1/N) Σ_i x_i·ξ_i.
  static func overlaps(
    _ states: Matrix<Float>, references: Matrix<Float>, tokens n: Int
  ) -> (nearest: Double, own: Double) {
    let g = states.multiplied(by: references, transposeOther: true)
    var nearest = 0.0, own = 0.0
    for r in 0..<states.rows {
      var best = -Double.infinity
      for c in 0..<references.rows { best = max(best, Double(g[r, c])) }
      nearest += best / Double(n)
      if r < references.rows { own += Double(g[r, r]) / Double(n) }
    }
    return (nearest / Double(states.rows), own / Double(states.rows))
  }

  /// Enlargement of the digit grids (each pixel of the 20 × 20 crop becomes gridScale × gridScale).
  public static let gridScale = 3

  /// Runs the study and writes the report into `output`.
  public func run(into output: URL) throws -> Results {
    let clock = ContinuousClock()
    let started = clock.now
    let s = settings
    try dataset.checkFiles(in: dataDirectory)
    let trainImages = try dataset.images(.training, in: dataDirectory)
    let testSet = try dataset.load(.test, in: dataDirectory)
    let testImages = testSet.images
    guard s.trainCount <= trainImages.rows, s.testCount <= testImages.rows else {
      throw PixelTokenEmbedding.InvalidParameter("more images requested than \(dataset.displayName) holds")
    }
    let trainCrops = PixelTokenEmbedding.crop(trainImages.rows(at: 0..<s.trainCount))
    let testCrops = PixelTokenEmbedding.crop(testImages.rows(at: 0..<s.testCount))
    let embedding = try PixelTokenEmbedding(patchSide: s.patchSide, seed: seed)
    let n = embedding.tokens, d = embedding.tokenWidth
    let train: Matrix<Float> = embedding.embed(trainCrops)
    let test: Matrix<Float> = embedding.embed(testCrops)
    log(
      "pseudo-likelihood on \(dataset.displayName): \(s.trainCount) training and \(s.testCount) test images, "
        + "N = \(n) tokens of d = \(d)")

    // 1. The attractor, trained by the local rule on clean digits.
    let configuration = PseudoLikelihoodConfiguration(
      tokens: n, tokenWidth: d, inverseTemperature: s.inverseTemperature, selfCoupling: s.selfCoupling)
    let trainer = PseudoLikelihoodTrainer(
      rule: .local, epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate,
      weightDecay: s.weightDecay, seed: seed)
    let log = self.log
    let contrastive = PseudoLikelihoodTrainer(
      rule: .contrastive(steps: s.contrastiveSteps), epochs: s.contrastiveEpochs, batchSize: s.batchSize,
      learningRate: s.learningRate, weightDecay: s.weightDecay, seed: seed &+ 1)
    let progress: (PseudoLikelihoodTrainer.Progress) -> Void = { p in
      log(
        "  epoch \(p.epoch)/\(p.epochs): cost \(NumberFormat.compact(p.history.epochCost.last ?? 0)), "
          + "about \(Int(p.secondsLeft.rounded())) s left")
    }
    let ((model, history), trainingSeconds) = try measureSeconds {
      () throws -> (PseudoLikelihoodAttractor<Float>, PseudoLikelihoodTrainer.History) in
      try trainer.train(
        PseudoLikelihoodAttractor<Float>.zero(configuration: configuration), data: train, progress: progress)
    }
    var contrastiveModel: PseudoLikelihoodAttractor<Float>? = nil
    var contrastiveHistory: PseudoLikelihoodTrainer.History? = nil
    if s.contrastiveEpochs > 0 {
      log("  contrastive divergence (\(s.contrastiveSteps) step(s)) from the local rule's couplings")
      (contrastiveModel, contrastiveHistory) = try contrastive.train(model, data: train, progress: progress)
    }
    let record = PseudoLikelihoodModelFolder(
      configuration: configuration, trainer: trainer, history: history,
      data:
        "\(dataset.displayName) training images 0..<\(s.trainCount), central 20×20 crop, \(s.patchSide)×\(s.patchSide) patches, "
        + "pixel ↦ (cos πv/2, sin πv/2), orthogonal projection seeded \(seed) (PixelTokenEmbedding)",
      command: command)
    try PseudoLikelihoodModelFolder.save(
      model, record: record, examples: train.rows(at: 0..<min(100, train.rows)),
      card:
        "# Pseudo-likelihood attractor on \(dataset.displayName)\n\nMade by `\(command)` (its reproduction report).\n",
      to: output.appendingPathComponent("model"))

    // 2. The baseline: one attention block over a memory of training digits, trained by backprop
    // (AdamW) to map a cue (masked or noisy, half each, fresh every epoch) to its clean digit in one step.
    let memory = train.rows(at: 0..<min(s.baselineMemory, train.rows))
    let pairCrops = trainCrops.rows(at: 0..<min(s.baselineTrainCount, trainCrops.rows))
    let pairTargets: Matrix<Float> = embedding.embed(pairCrops)
    let block = try IterativeAttention<Float>.identity(
      configuration: IterativeAttentionConfiguration(layers: 1, heads: 1, width: n * d), keys: memory, values: memory)
    let baselineTrainer = IterativeAttentionTrainer(
      epochs: s.baselineEpochs, batchSize: 100, patience: s.baselineEpochs, learningRate: 1e-3, weightDecay: 0,
      seed: seed)
    func corrupted(_ crops: Matrix<Double>, _ rng: inout SeededGenerator) -> Matrix<Float> {
      let half = crops.rows / 2
      let a = maskingCues(crops.rows(at: 0..<half), embedding: embedding, rng: &rng).crops
      let b = noisyCues(crops.rows(at: half..<crops.rows), rng: &rng).crops
      return embedding.embed(Matrix(rows: crops.rows, columns: crops.columns, elements: a.elements + b.elements))
    }
    var validationRng = SeededGenerator(seed: seed).derived(2)
    let validationCrops = trainCrops.rows(at: max(0, trainCrops.rows - 200)..<trainCrops.rows)
    let validation = (
      queries: corrupted(validationCrops, &validationRng), targets: embedding.embed(validationCrops) as Matrix<Float>
    )
    let ((baseline, _), baselineSeconds) = try measureSeconds {
      () throws -> (IterativeAttention<Float>, IterativeAttentionTrainer.History) in
      var pairRng = SeededGenerator(seed: seed).derived(3)
      return try baselineTrainer.train(
        block,
        trainingPairs: { (_: Int) throws(ModelError) in (queries: corrupted(pairCrops, &pairRng), targets: pairTargets)
        },
        validation: validation,
        progress: { e, h in
          log("  baseline epoch \(e): validation loss \(NumberFormat.compact(h.validationLoss.last ?? 0))")
        })
    }

    // 3. The tasks.
    let overlapReferences = train.rows(at: 0..<min(s.overlapReferences, train.rows))
    let overlapTimes = [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100].filter { $0 <= s.maxIterations }
    let gridTimes = [1, 5, 10, 100].filter { $0 <= s.maxIterations }
    let shown = min(8, s.testCount)
    var tasks: [TaskResult] = []
    var cueRng = SeededGenerator(seed: seed).derived(4)
    var maskingStarts: Matrix<Float>? = nil
    for task in ["masking", "denoising"] {
      let cues =
        task == "masking"
        ? maskingCues(testCrops, embedding: embedding, rng: &cueRng) : noisyCues(testCrops, rng: &cueRng)
      let start: Matrix<Float> = embedding.embed(cues.crops)
      if task == "masking" { maskingStarts = start }
      var result = TaskResult(
        task: task, cueMSE: Self.mse(cues.crops, testCrops), mse: [],
        maskedMSE: task == "masking" ? [] : nil, contrastiveMSE: contrastiveModel == nil ? nil : [], baselineMSE: [],
        overlapTimes: overlapTimes,
        nearestTrainOverlap: [], nearestTestOverlap: [], ownTargetOverlap: [])
      var state = start, next = start
      var baselineState = start, baselineNext = start
      var ws = model.makeWorkspace(batchSize: start.rows)
      var contrastiveState = start, contrastiveNext = start
      var bws = baseline.makeWorkspace(batchSize: start.rows)
      func recordOverlaps(_ x: Matrix<Float>) {
        let a = Self.overlaps(x, references: overlapReferences, tokens: n)
        let b = Self.overlaps(x, references: test, tokens: n)
        result.nearestTrainOverlap.append(a.nearest)
        result.nearestTestOverlap.append(b.nearest)
        result.ownTargetOverlap.append(b.own)
      }
      recordOverlaps(state)
      var gridRows: [Int: Matrix<Double>] = [:]
      for t in 1...max(1, s.maxIterations) {
        model.update(state, into: &next, workspace: &ws)
        swap(&state, &next)
        if let contrastiveModel {
          contrastiveModel.update(contrastiveState, into: &contrastiveNext, workspace: &ws)
          swap(&contrastiveState, &contrastiveNext)
          result.contrastiveMSE!.append(Self.mse(embedding.decode(contrastiveState), testCrops))
        }
        baseline.update(baselineState, into: &baselineNext, workspace: &bws)
        swap(&baselineState, &baselineNext)
        let decoded = embedding.decode(state)
        result.mse.append(Self.mse(decoded, testCrops))
        if task == "masking" { result.maskedMSE!.append(Self.mse(decoded, testCrops, pixels: cues.masked)) }
        result.baselineMSE.append(Self.mse(embedding.decode(baselineState), testCrops))
        if overlapTimes.contains(t) { recordOverlaps(state) }
        if gridTimes.contains(t) { gridRows[t] = decoded }
      }
      // Grid: one row per image: cue, t = 1, 5, 10, 100, target; enlarged 3× (PNG) and labelled (SVG).
      let side = PixelTokenEmbedding.cropSide
      var grid = ImageGrid(
        tileHeight: side, tileWidth: side,
        tiles: (0..<shown).map { r in
          [cues.crops.row(r)] + gridTimes.map { gridRows[$0]!.row(r) } + [testCrops.row(r)]
        })
      grid.scale = Self.gridScale
      grid.title = "\(dataset.displayName) \(task): pseudo-likelihood network, local rule"
      grid.columnLabels = ["cue"] + gridTimes.map { "t = \($0)" } + ["clean"]
      grid.rowLabels = (0..<shown).map { "test #\($0): \(dataset.classNames[testSet.labels[$0]])" }
      let big = try grid.composed()
      try AtomicFile.write(
        GrayscalePNG.encode(width: big.width, height: big.height, pixels: big.pixels),
        to: output.appendingPathComponent("digits-\(task).png"))
      let small = try grid.composed(scale: 1)
      try AtomicFile.write(
        Data(
          try grid.svg(
            png: GrayscalePNG.encode(width: small.width, height: small.height, pixels: small.pixels), pngScale: 1
          ).utf8),
        to: output.appendingPathComponent("digits-\(task).svg"))
      tasks.append(result)
      log(
        "  \(task): cue MSE \(NumberFormat.compact(result.cueMSE)), best t = \((result.mse.indices.min { result.mse[$0] < result.mse[$1] } ?? 0) + 1)"
      )
    }

    // 4. Fixed points reached from masking cues, with the spectrum of the Jacobian (?geev, central
    // differences in double precision).
    var fixedPoints: [FixedPoint] = []
    if let starts = maskingStarts {
      let wide = try PseudoLikelihoodAttractor<Double>(
        configuration: configuration,
        couplings: Matrix(rows: model.couplings.rows, columns: d, elements: model.couplings.elements.map(Double.init)))
      let count = min(s.fixedPointStarts, starts.rows)
      let x0 = Matrix(rows: count, columns: n * d, elements: starts.rows(at: 0..<count).elements.map(Double.init))
      let run = try SynchronousDynamics(maxSteps: s.fixedPointSteps, tolerance: 1e-6).run(wide, from: x0)
      let endF = Matrix(rows: count, columns: n * d, elements: run.finalStates.elements.map(Float.init))
      let decoded = embedding.decode(run.finalStates)
      for r in 0..<count {
        let traj = run.trajectories[r]
        var radius: Double? = nil
        if traj.converged {
          let jacobian = FiniteDifferences.jacobian(of: wide, at: run.finalStates.row(r), step: 1e-6)
          radius = try jacobian.generalEigendecomposition().spectralRadius
        }
        let one = endF.rows(at: [r])
        let nearest = Self.overlaps(one, references: overlapReferences, tokens: n).nearest
        let own = Self.overlaps(one, references: test.rows(at: [r]), tokens: n).own
        fixedPoints.append(
          FixedPoint(
            start: r, steps: traj.stepsTaken, lastStepSize: Double(traj.stepSizes.last ?? 0), spectralRadius: radius,
            nearestTrainOverlap: nearest, ownTargetOverlap: own,
            mse: Self.mse(decoded.rows(at: [r]), testCrops.rows(at: [r]))))
      }
    }

    let results = Results(
      dataset: dataset, settings: s, seed: seed, command: command, tokens: n, tokenWidth: d,
      parameterCount: configuration.parameterCount, baselineParameterCount: 4 * (n * d) * (n * d),
      trainingSeconds: trainingSeconds, baselineTrainingSeconds: baselineSeconds, trainingCost: history.epochCost,
      contrastiveCost: contrastiveHistory?.epochCost ?? [],
      initialCost: history.initialCost, tasks: tasks, fixedPoints: fixedPoints,
      totalSeconds: (clock.now - started).seconds)
    try PseudoLikelihoodReport(results: results).write(to: output)
    return results
  }
}
