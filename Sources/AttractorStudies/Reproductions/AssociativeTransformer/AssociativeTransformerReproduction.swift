import AttractorAnalysis
import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

/// `attractor reproduce ait`: the three checks seed 002 says the Associative Transformer paper left
/// open, at a scale this machine can run (small AiTs on MNIST or Fashion-MNIST, ``Settings/dataset``;
/// the paper's ImageNet-scale results are not reproducible on two CPU cores and are not attempted).
/// The trainings are independent and can run on several threads (``workers``) with the same results.
///
/// 1. **Hopfield contribution.** For every seed, an AiT and the plain transformer of the same size
///    (the workspace removed) are trained; the AiT is then evaluated with the retrieval removed,
///    with T ∈ `steps` and with β ∈ `betas` changed at test time (one trained model per seed).
///    Mean ± standard error over the seeds.
/// 2. **Attractor landscape** of each seed's trained upscaled priors U at the trained β: the
///    framework's fixed-point analysis (``/AttractorAnalysis/FixedPointAnalyzer``) on
///    ``/AttractorModels/ModernHopfield`` with U as stored patterns, started from the priors, their
///    mixtures, random states and `patchSample` real patch representations (the tokens entering
///    the workspace on test images); which priors are single-pattern fixed points; the basins of
///    the real patches; the reconstruction error ‖ξᵀ − x‖/‖x‖ against the distance of x to its
///    nearest prior; and the similarity of priors across seeds by Hungarian matching of cosine
///    similarity (of the priors themselves, which live in each seed's own token basis, and of
///    their spatial usage profiles, which do not).
/// 3. **Competition.** An AiT is trained for every bottleneck size k in `bottlenecks` (first
///    seed); on the test images: the entropy of the bottleneck's selection counts over the patches,
///    the entropy of the retrieval's choice of prior over the priors (both divided by their
///    maximum), the overlap (Jaccard) of the admitted sets of different heads, and accuracy.
public struct AssociativeTransformerReproduction: Sendable {
  /// The scale of a run.
  public struct Settings: Sendable, Codable, Equatable {
    /// The plain transformer (the baseline; the AiT adds the workspace to it).
    public var base: VisionTransformerConfiguration
    public var priorCount: Int
    public var priorWidth: Int
    public var workspaceHeads: Int
    /// The bottleneck size k of the seeds' AiTs.
    public var bottleneck: Int
    public var beta: Double
    public var hopfieldSteps: Int
    public var trainCount: Int
    public var testCount: Int
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var weightDecay: Double
    public var warmupSteps: Int
    public var seeds: [UInt64]
    public var bottlenecks: [Int]
    public var betas: [Double]
    public var steps: [Int]
    /// Real patch representations used as starts and for the reconstruction table.
    public var patchSample: Int
    /// Step limit of the fixed-point search.
    public var landscapeMaxSteps: Int
    /// The workspace's memory step, top-k scope and prior competition (Docs/AssociativeTransformer.md).
    public var memoryUpdate: MemoryUpdate = .ema
    public var selectionScope: SelectionScope = .image
    public var competition: PriorCompetition = .none
    /// The image data set (MNIST or Fashion-MNIST, each scaled with its own training mean and deviation).
    public var dataset: ImageDataset = .mnist
    /// Seeds for which an AiT is also *trained* (not only evaluated) at every other T in ``steps``
    /// and every other β in ``betas`` (one training per value, the rest unchanged); empty: none.
    public var retrainSeeds: [UInt64] = []

    /// The run reported in Docs/AssociativeTransformer.md: all 60,000 training digits, 12 epochs
    /// (the models reach 97.8–98.0 %, and the EMA memory of two of three seeds leaves its collapsed
    /// state only after 2,000–3,300 steps), tested on the 10,000 test digits, 9 trained models
    /// (about 10 minutes each on one quiet core; `--workers` and `--models-dir` spread them).
    /// The first seed is also retrained at T = 1, 10 and β = 0.5, 2, 4 (``retrainSeeds``): 14 trainings.
    public static let full: Settings = {
      var s = Settings(
        base: VisionTransformerConfiguration(), priorCount: 32, priorWidth: 32, workspaceHeads: 4, bottleneck: 16,
        beta: 1, hopfieldSteps: 3, trainCount: 60_000, testCount: 10_000, epochs: 12, batchSize: 128,
        learningRate: 2e-3, weightDecay: 0.05, warmupSteps: 100, seeds: [0, 1, 2], bottlenecks: [4, 8, 16, 32],
        betas: [0.5, 1, 2, 4], steps: [1, 3, 10], patchSample: 400, landscapeMaxSteps: 500)
      s.retrainSeeds = [0]
      return s
    }()

    /// A small version for tests (seconds): 14 × 14 crops are not used; the model is shrunk instead
    /// (7 × 7 patches, N = 16 tokens of width 16, one block).
    public static let quick = Settings(
      base: VisionTransformerConfiguration(patchSize: 7, width: 16, depth: 1, heads: 2, hidden: 32),
      priorCount: 6, priorWidth: 8, workspaceHeads: 2, bottleneck: 4, beta: 1, hopfieldSteps: 3, trainCount: 128,
      testCount: 64, epochs: 1, batchSize: 32, learningRate: 3e-3, weightDecay: 0.05, warmupSteps: 2, seeds: [0, 1],
      bottlenecks: [4, 8], betas: [0.5, 1, 2, 4], steps: [1, 3, 10], patchSample: 24, landscapeMaxSteps: 100)

    /// The AiT configuration with bottleneck size `k` (and, when given, another β or T).
    public func associative(bottleneck k: Int, beta b: Double? = nil, hopfieldSteps t: Int? = nil)
      -> VisionTransformerConfiguration
    {
      AssociativeTransformer.configuration(
        base: base, priorCount: priorCount, priorWidth: priorWidth, heads: workspaceHeads, bottleneck: k,
        beta: b ?? beta, hopfieldSteps: t ?? hopfieldSteps, memoryUpdate: memoryUpdate, selectionScope: selectionScope,
        competition: competition)
    }

    /// The retrained variants: for each of ``retrainSeeds``, an AiT at every T in ``steps`` other than
    /// ``hopfieldSteps`` and at every β in ``betas`` other than ``beta``, in that order.
    public var retrainedVariants: [RetrainedVariant] {
      var variants: [RetrainedVariant] = []
      for seed in retrainSeeds {
        for t in steps where t != hopfieldSteps {
          variants.append(RetrainedVariant(seed: seed, hopfieldSteps: t, beta: beta))
        }
        for b in betas where b != beta {
          variants.append(RetrainedVariant(seed: seed, hopfieldSteps: hopfieldSteps, beta: b))
        }
      }
      return variants
    }

    public var trainer: VisionTransformerTrainer {
      VisionTransformerTrainer(
        epochs: epochs, batchSize: batchSize, learningRate: learningRate, weightDecay: weightDecay,
        warmupSteps: warmupSteps, seed: 0, logEvery: max(1, trainCount / batchSize / 10))
    }

    /// Checks every setting.
    ///
    /// - Throws: ``AssociativeTransformerError`` naming the first bad one.
    public func validate() throws {
      do {
        try base.validate()
        for k in bottlenecks + [bottleneck] { try associative(bottleneck: k).validate() }
        try trainer.validate()
      } catch { throw AssociativeTransformerError("\(error)") }
      guard !seeds.isEmpty else { throw AssociativeTransformerError("at least one seed") }
      guard !bottlenecks.isEmpty, !betas.isEmpty, !steps.isEmpty else {
        throw AssociativeTransformerError("the k, β and T lists must not be empty")
      }
      guard betas.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw AssociativeTransformerError("β must be > 0") }
      guard steps.allSatisfy({ $0 >= 1 }) else { throw AssociativeTransformerError("T must be ≥ 1") }
      guard Set(retrainSeeds).count == retrainSeeds.count else {
        throw AssociativeTransformerError("each retrained seed once")
      }
      guard patchSample >= 1, landscapeMaxSteps >= 1 else {
        throw AssociativeTransformerError("patchSample and landscapeMaxSteps must be ≥ 1")
      }
    }
  }

  public var settings: Settings
  /// The folder of the data set's IDX files (``Settings/dataset`` says which data set).
  public var mnistDirectory: URL
  /// Where every trained model is kept as a model folder (`ait-seed<S>-k<k>`, `vit-seed<S>`), or nil.
  ///
  /// A folder already there is used instead of training when it holds a finished model with the
  /// same configuration, training settings, seed and data (a checkpoint with those settings is
  /// resumed); one made with other settings is refused, never overwritten. `attractor train ait`
  /// writes the same folders, so the models of one run can be trained by several processes at
  /// once and the study then only evaluates them.
  public var modelsDirectory: URL?
  public var command: String
  /// Trainings run at the same time (at least 1; see ``init(settings:mnistDirectory:modelsDirectory:command:workers:log:)``).
  public var workers: Int
  public var log: @Sendable (String) -> Void
  /// The OpenBLAS thread count the workers' check assumes (`nil`: the count in force); the tests
  /// set 1 so as not to change the process-wide count.
  var assumedBLASThreads: Int? = nil

  /// A reproduction of `settings` reading the data set from `mnistDirectory`.
  ///
  /// `workers`: how many of the independent trainings (an AiT and a baseline per seed, an AiT per
  /// extra bottleneck size) run at the same time, each on its own thread with its own seed (and,
  /// with ``modelsDirectory``, its own model folder). The results do not depend on it: every
  /// training is the same computation whichever thread runs it, and everything after the trainings
  /// runs in a fixed order (tested: 2 workers equal 1 exactly). OpenBLAS's thread count is
  /// process-wide and this type never changes it: with more than one worker the caller must have
  /// set it to 1 (`BLAS.setThreadCount(1)`, `--threads 1`, `OPENBLAS_NUM_THREADS=1`), so that each
  /// training uses one BLAS thread, as in a sequential run at one thread; ``run(into:data:)``
  /// refuses otherwise.
  ///
  /// - Throws: ``AssociativeTransformerError`` for a bad setting or `workers` < 1.
  public init(
    settings: Settings, mnistDirectory: URL, modelsDirectory: URL? = nil, command: String, workers: Int = 1,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) throws {
    try settings.validate()
    guard workers >= 1 else { throw AssociativeTransformerError("workers must be at least 1, got \(workers)") }
    self.settings = settings
    self.mnistDirectory = mnistDirectory
    self.modelsDirectory = modelsDirectory
    self.command = command
    self.workers = workers
    self.log = log
  }

  /// The folder name of the model of configuration `c` and seed `seed` under ``modelsDirectory``:
  /// `vit-seed<S>`, `ait-seed<S>-k<k>`, with `-T<T>` when T ≠ 3 and `-beta<β>` when β ≠ 1 (the
  /// paper's values, which every run trains its seeds' AiTs at), e.g. `ait-seed0-k16-beta0.5`.
  public static func modelFolderName(_ c: VisionTransformerConfiguration, seed: UInt64) -> String {
    guard let w = c.workspace else { return "vit-seed\(seed)" }
    var name = "ait-seed\(seed)-k\(w.bottleneck)"
    if w.hopfieldSteps != 3 { name += "-T\(w.hopfieldSteps)" }
    if w.beta != 1 { name += "-beta\(String(format: "%g", w.beta))" }
    return name
  }

  /// One AiT trained at another T or β than the seeds' AiTs (``Settings/retrainedVariants``).
  public struct RetrainedVariant: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var hopfieldSteps: Int
    public var beta: Double

    /// The name in the tables and the log.
    public var name: String { "AiT seed \(seed), T = \(hopfieldSteps), β = \(String(format: "%g", beta))" }
  }

  /// What one AiT trained at a given T and β measured: accuracy, accuracy with its retrieval removed
  /// at test time, and its landscape at its own β (``Landscape``, summarised).
  public struct Retrained: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var hopfieldSteps: Int
    public var beta: Double
    /// False for the seed's AiT at the run's own T and β (the reference row), true for a variant.
    public var variant: Bool
    public var accuracy: Double
    public var retrievalRemovedAccuracy: Double
    public var countByClass: [String: Int]
    /// Priors nearest to a single-pattern fixed point.
    public var singlePatternPriors: Int
    /// Share of real patch starts that reach a prior's single-pattern fixed point, a metastable
    /// point, the global average, or none of these.
    public var patchesToPriors: Double
    public var patchesToMetastable: Double
    public var patchesToGlobal: Double
    public var patchesElsewhere: Double
    public var meanPriorNorm: Double
    public var priorCosineMean: Double
    /// Rank correlation of reconstruction error with distance to the nearest prior.
    public var spearman: Double
    /// Where the retrieval started at each prior ends (``Landscape/priorEndRegime``).
    public var priorEndRegime: [String]

    init(
      seed: UInt64, hopfieldSteps: Int, beta: Double, variant: Bool, accuracy: Double, retrievalRemoved: Double,
      landscape l: Landscape
    ) {
      self.seed = seed
      self.hopfieldSteps = hopfieldSteps
      self.beta = beta
      self.variant = variant
      self.accuracy = accuracy
      retrievalRemovedAccuracy = retrievalRemoved
      countByClass = l.countByClass
      singlePatternPriors = l.priorRegime.filter { $0 == "singlePattern" }.count
      patchesToPriors = l.basinShare.reduce(0, +)
      patchesToMetastable = l.patchesToMetastable
      patchesToGlobal = l.patchesToGlobal
      patchesElsewhere = l.patchesElsewhere
      meanPriorNorm = l.meanPriorNorm
      priorCosineMean = l.priorCosineMean
      spearman = l.spearman
      priorEndRegime = l.priorEndRegime
    }
  }

  /// Trains `c` with `trainer` into `folder` through ``AssociativeTransformerTraining``, or loads the
  /// finished model already there (resuming a checkpoint made with the same settings).
  ///
  /// - Throws: ``AssociativeTransformerError`` when the folder holds a model made with other
  ///   settings; what loading or training throws.
  func trainOrLoad(
    _ c: VisionTransformerConfiguration, trainer: VisionTransformerTrainer, seed: UInt64, data: ScaledMNIST,
    folder: URL
  ) throws -> (VisionTransformer<Float>, VisionTransformerTrainer.History) {
    var trainer = trainer
    var resume = false
    if FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
      let loaded = try VisionTransformerModelFolder.load(from: folder)
      var stored = loaded.record.trainer
      stored.logEvery = trainer.logEvery  // how often the curve is sampled does not change the model
      guard
        loaded.record.configuration == c && stored == trainer && loaded.record.modelSeed == seed
          && loaded.record.data == data.description
      else {
        throw AssociativeTransformerError(
          "\(folder.path) holds a model made with other settings (\(loaded.record.command)); "
            + "delete it or choose another --models-dir")
      }
      if !loaded.record.isCheckpoint {
        log("\(folder.lastPathComponent): using the finished model in \(folder.path)")
        return (loaded.model, loaded.record.history)
      }
      trainer = loaded.record.trainer
      resume = true
    }
    let name = folder.lastPathComponent
    let log = self.log
    let job = try AssociativeTransformerTraining(
      configuration: c, trainer: trainer, modelSeed: seed, trainCount: data.trainLabels.count,
      testCount: data.testLabels.count, mnistDirectory: mnistDirectory, dataset: data.dataset,
      command: "\(command) (model \(name))",
      log: { line in if line.contains("test accuracy") || line.hasPrefix("resuming") { log("\(name): \(line)") } })
    let (summary, model) = try job.run(into: folder, data: data, resume: resume)
    return (model, summary.history)
  }

  /// Accuracies of one condition over the seeds.
  public struct Condition: Sendable, Codable, Equatable {
    public var name: String
    /// Whether the models were retrained for it or the trained AiT was changed at test time.
    public var retrained: Bool
    public var accuracies: [Double]
    public var mean: Double
    /// Standard error of the mean (sample standard deviation / √seeds; 0 for one seed).
    public var standardError: Double

    init(name: String, retrained: Bool, accuracies: [Double]) {
      self.name = name
      self.retrained = retrained
      self.accuracies = accuracies
      let n = Double(accuracies.count)
      let m = accuracies.reduce(0, +) / n
      mean = m
      let variance = accuracies.count > 1 ? accuracies.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) : 0
      standardError = (variance / n).squareRoot()
    }
  }

  /// The fixed-point landscape of one seed's upscaled priors.
  public struct Landscape: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var beta: Double
    /// Fixed points found, by class.
    public var countByClass: [String: Int]
    /// For each prior: "singlePattern" when a single-pattern fixed point lies nearest to it, else "blended".
    public var priorRegime: [String]
    /// Share of the real patch starts that flow to a single-pattern fixed point of each prior.
    public var basinShare: [Double]
    /// Share of the real patch starts that flow to metastable, global-average, other points, or do not converge.
    public var patchesToMetastable: Double
    public var patchesToGlobal: Double
    public var patchesElsewhere: Double
    /// Reconstruction table: distance quartile bins of ‖x − nearest prior‖ (upper edges), mean relative error.
    public var distanceBinEdges: [Double]
    public var binRelativeError: [Double]
    /// Spearman rank correlation between distance to the nearest prior and relative reconstruction error.
    public var spearman: Double
    /// Smallest pairwise cosine distance between priors, and the mean ‖U_m‖.
    public var meanPriorNorm: Double
    /// Mean and largest pairwise cosine of the trained memory's priors γ (1 and 1: collapsed).
    public var priorCosineMean: Double
    public var priorCosineMax: Double
    /// The priors' cosine matrix (M × M) of γ.
    public var priorCosineMatrix: [[Double]]
    /// For each prior: the mean 4 × 4 pixel patch (scaled pixels, row-major) of the test patches whose
    /// first retrieval step gives it the largest weight, and how many patches that was.
    public var basinPatches: [[Double]]
    public var basinPatchCounts: [Int]
    /// For each prior: its mean bottleneck weight at each of the N patch positions (summed over heads,
    /// mean over the test images), row-major over the patch grid.
    public var selectionMaps: [[Double]]
    /// For each prior, where the retrieval started exactly at it (ξ⁰ = U_m) ends: "itself" (its own
    /// single-pattern fixed point), "anotherPrior", "metastable", "globalAverage", or "other" (another
    /// class, no fixed point of the search within reach, or not converged in `landscapeMaxSteps`).
    public var priorEndRegime: [String] = []
  }

  /// Prior similarity across two seeds (Hungarian-matched cosine similarity, mean over the matched pairs).
  public struct SeedPair: Sendable, Codable, Equatable {
    public var seeds: [UInt64]
    /// Of the upscaled priors U (each seed's own token basis: not comparable by construction; reported as a control).
    public var priorCosine: Double
    /// Of the priors' spatial usage profiles (mean retrieval weight at each of the N patch positions on the test images).
    public var usageCosine: Double
    /// The same for usage profiles with the positions shuffled (a chance level).
    public var usageCosineShuffled: Double
  }

  /// Competition statistics for one bottleneck size.
  public struct Competition: Sendable, Codable, Equatable {
    public var bottleneck: Int
    public var accuracy: Double
    /// Entropy of the selection counts over the N patches, divided by log N (1 = every patch chosen equally).
    public var patchEntropy: Double
    /// Entropy of the retrieval's first-step choice of prior over the M priors, divided by log M.
    public var priorEntropy: Double
    /// Mean Jaccard overlap of the admitted sets of two different heads for the same prior and image.
    public var headOverlap: Double
    /// The Jaccard overlap two random k-subsets of N patches would have on average (the chance level).
    public var chanceOverlap: Double
    /// Mean |S_m ∩ S_m'| / k over pairs of different priors in the same head and selection group
    /// (1: every prior admits the same patches), and its chance level k / G.
    public var priorOverlap: Double
    public var priorChanceOverlap: Double
    /// Mean pairwise cosine of the trained memory's priors (1: collapsed onto one vector).
    public var priorCosine: Double
  }

  /// Everything a run measured.
  public struct Results: Sendable, Codable {
    public var settings: Settings
    public var command: String
    public var seconds: Double
    public var hopfield: [Condition]
    public var landscapes: [Landscape]
    public var seedPairs: [SeedPair]
    public var competition: [Competition]
    /// Loss curves (step, loss) of the first seed's AiT and baseline.
    public var aitCurve: [[Double]]
    public var baselineCurve: [[Double]]
    public var parameterCounts: [String: Int]
    /// The memory's state during training, one record per trained AiT (seeds, then the k sweep,
    /// then the retrained variants).
    public var memoryCurves: [MemoryCurve] = []
    /// AiTs trained at other T and β (``Settings/retrainSeeds``), each retrained seed's reference
    /// AiT first when that seed is one of ``Settings/seeds``.
    public var retrained: [Retrained] = []
  }

  /// How the memory of one trained AiT evolved: the diagnostics ``VisionTransformerTrainer`` records
  /// every `logEvery` steps (``/AttractorModels/VisionTransformerTrainer/History``).
  public struct MemoryCurve: Sendable, Codable, Equatable {
    public var name: String
    public var seed: UInt64
    public var bottleneck: Int
    /// Training steps at which the diagnostics were taken.
    public var steps: [Int]
    /// Mean cosine over the pairs of priors γ (1: every prior the same vector).
    public var priorCosine: [Double]
    /// Mean overlap |S_m ∩ S_m'| / k of two priors' admitted patches (chance k / patches).
    public var selectionOverlap: [Double]
    /// Test accuracy after every epoch.
    public var epochAccuracy: [Double]

    /// The first recorded step at which the mean prior cosine is below `threshold` after having been
    /// at or above it (the memory leaving a collapsed state), or nil.
    public func separationStep(threshold: Double = 0.99) -> Int? {
      guard let collapsed = priorCosine.firstIndex(where: { $0 >= threshold }) else { return nil }
      return priorCosine[collapsed...].firstIndex(where: { $0 < threshold }).map { steps[$0] }
    }

    init(name: String, seed: UInt64, bottleneck: Int, history h: VisionTransformerTrainer.History) {
      self.name = name
      self.seed = seed
      self.bottleneck = bottleneck
      let n = min(h.curveSteps.count, h.curvePriorCosine?.count ?? 0, h.curveSelectionOverlap?.count ?? 0)
      steps = Array(h.curveSteps.prefix(n))
      priorCosine = Array((h.curvePriorCosine ?? []).prefix(n))
      selectionOverlap = Array((h.curveSelectionOverlap ?? []).prefix(n))
      epochAccuracy = h.testAccuracy
    }
  }

  /// One training of a run: a configuration, its seed (model and shuffles) and a name for the log.
  struct TrainingJob: Sendable {
    var configuration: VisionTransformerConfiguration
    var seed: UInt64
    var name: String
  }

  /// The trainings of a run in a fixed order: for each seed the AiT and the baseline, then an AiT
  /// (first seed) for each bottleneck size other than ``Settings/bottleneck``.
  var trainingJobs: [TrainingJob] {
    let s = settings
    var jobs: [TrainingJob] = []
    for seed in s.seeds {
      jobs.append(
        TrainingJob(configuration: s.associative(bottleneck: s.bottleneck), seed: seed, name: "AiT seed \(seed)"))
      jobs.append(TrainingJob(configuration: s.base, seed: seed, name: "baseline seed \(seed)"))
    }
    for k in s.bottlenecks where k != s.bottleneck {
      jobs.append(TrainingJob(configuration: s.associative(bottleneck: k), seed: s.seeds[0], name: "AiT k = \(k)"))
    }
    for v in s.retrainedVariants {
      jobs.append(
        TrainingJob(
          configuration: s.associative(bottleneck: s.bottleneck, beta: v.beta, hopfieldSteps: v.hopfieldSteps),
          seed: v.seed, name: v.name))
    }
    return jobs
  }

  /// Runs `jobs` on ``workers`` threads (in order on the calling thread for one worker); the
  /// results in job order. The first error (by job order) is thrown after every thread stopped.
  /// `blasThreads` is the OpenBLAS thread count in force (read from OpenBLAS; a test may pass another).
  func runTrainings(_ jobs: [TrainingJob], data: ScaledMNIST, blasThreads: Int = BLAS.threadCount) throws -> [(
    model: VisionTransformer<Float>, history: VisionTransformerTrainer.History
  )] {
    let base = settings.trainer
    let log = self.log
    let modelsDirectory = self.modelsDirectory
    @Sendable func train(_ job: TrainingJob) throws -> (VisionTransformer<Float>, VisionTransformerTrainer.History) {
      var trainer = base
      trainer.seed = job.seed
      if let dir = modelsDirectory {
        return try trainOrLoad(
          job.configuration, trainer: trainer, seed: job.seed, data: data,
          folder: dir.appendingPathComponent(Self.modelFolderName(job.configuration, seed: job.seed)))
      }
      let model = try VisionTransformer<Float>(configuration: job.configuration, seed: job.seed)
      return try trainer.train(
        model, images: data.trainImages, labels: data.trainLabels, testImages: data.testImages,
        testLabels: data.testLabels,
        progress: { p in
          if let a = p.testAccuracy {
            log("\(job.name): epoch \(p.epoch)/\(p.epochs), test accuracy \(String(format: "%.2f %%", 100 * a))")
          }
        })
    }
    let count = min(workers, jobs.count)
    guard count > 1 else { return try jobs.map { try train($0) } }
    guard blasThreads == 1 else {
      throw AssociativeTransformerError(
        "\(workers) workers need one OpenBLAS thread per training, but \(blasThreads) are set; set one "
          + "(--threads 1, OPENBLAS_NUM_THREADS=1 or BLAS.setThreadCount(1)) or use one worker")
    }
    let board = TrainingBoard(count: jobs.count)
    let group = DispatchGroup()
    for _ in 0..<count {
      group.enter()
      let thread = Thread {
        while let index = board.next() {
          do { board.finish(index, with: .success(try train(jobs[index]))) } catch {
            board.finish(index, with: .failure(error))
          }
        }
        group.leave()
      }
      thread.stackSize = 16 << 20
      thread.start()
    }
    group.wait()
    return try board.results()
  }

  /// Runs every check and writes the report (README.md, results.json, figures) into `folder`.
  /// `data` replaces the data set's files (tests).
  ///
  /// - Throws: ``AssociativeTransformerError`` (also for more than one worker while OpenBLAS has
  ///   more than one thread), ``/AttractorExperiments/DatasetError``, ``/AttractorModels/ModelError``.
  public func run(into folder: URL, data given: ScaledMNIST? = nil) throws -> Results {
    let clock = ContinuousClock()
    let started = clock.now
    let s = settings
    let data =
      try given
      ?? ScaledMNIST(directory: mnistDirectory, dataset: s.dataset, trainCount: s.trainCount, testCount: s.testCount)
    let jobs = trainingJobs
    let trained = try runTrainings(jobs, data: data, blasThreads: assumedBLASThreads ?? BLAS.threadCount)
    func train(_ c: VisionTransformerConfiguration, seed: UInt64, name: String) throws -> (
      VisionTransformer<Float>, VisionTransformerTrainer.History
    ) {
      guard let i = jobs.firstIndex(where: { $0.name == name && $0.seed == seed && $0.configuration == c }) else {
        throw AssociativeTransformerError("internal: no training \(name)")
      }
      return trained[i]
    }
    func accuracy(_ model: VisionTransformer<Float>) throws -> Double {
      let predictions = try model.predict(images: data.testImages)
      return Double(zip(predictions, data.testLabels).filter { $0 == $1 }.count) / Double(data.testLabels.count)
    }
    // 1. Hopfield contribution.
    var aits: [VisionTransformer<Float>] = []
    var baselineAcc: [Double] = [], aitAcc: [Double] = [], offAcc: [Double] = []
    var stepAcc = [[Double]](repeating: [], count: s.steps.count)
    var betaAcc = [[Double]](repeating: [], count: s.betas.count)
    var aitCurve: [[Double]] = [], baselineCurve: [[Double]] = []
    var counts: [String: Int] = [:]
    var memoryCurves: [MemoryCurve] = []
    for seed in s.seeds {
      let (ait, aitHistory) = try train(s.associative(bottleneck: s.bottleneck), seed: seed, name: "AiT seed \(seed)")
      let (plain, plainHistory) = try train(s.base, seed: seed, name: "baseline seed \(seed)")
      if aits.isEmpty {
        aitCurve = zip(aitHistory.curveSteps, aitHistory.curveLoss).map { [Double($0), $1] }
        baselineCurve = zip(plainHistory.curveSteps, plainHistory.curveLoss).map { [Double($0), $1] }
        counts = ["ait": ait.parameterCount, "baseline": plain.parameterCount]
      }
      aits.append(ait)
      memoryCurves.append(
        MemoryCurve(name: "AiT seed \(seed)", seed: seed, bottleneck: s.bottleneck, history: aitHistory))
      aitAcc.append(aitHistory.testAccuracy.last!)
      baselineAcc.append(plainHistory.testAccuracy.last!)
      offAcc.append(try accuracy(ait.withRetrieval(enabled: false)))
      for (i, t) in s.steps.enumerated() { stepAcc[i].append(try accuracy(ait.withRetrieval(steps: t))) }
      for (i, b) in s.betas.enumerated() { betaAcc[i].append(try accuracy(ait.withRetrieval(beta: b))) }
      log(
        "seed \(seed): AiT \(String(format: "%.2f %%", 100 * aitAcc.last!)), baseline "
          + "\(String(format: "%.2f %%", 100 * baselineAcc.last!)), retrieval removed \(String(format: "%.2f %%", 100 * offAcc.last!))"
      )
    }
    var hopfield = [
      Condition(name: "AiT as trained (T = \(s.hopfieldSteps), β = \(s.beta))", retrained: true, accuracies: aitAcc),
      Condition(name: "workspace removed (plain ViT, retrained)", retrained: true, accuracies: baselineAcc),
      Condition(name: "retrieval removed (test time)", retrained: false, accuracies: offAcc),
    ]
    for (i, t) in s.steps.enumerated() {
      hopfield.append(Condition(name: "T = \(t) (test time)", retrained: false, accuracies: stepAcc[i]))
    }
    for (i, b) in s.betas.enumerated() {
      hopfield.append(Condition(name: "β = \(b) (test time)", retrained: false, accuracies: betaAcc[i]))
    }
    // 2. Landscapes and cross-seed similarity.
    var landscapes: [Landscape] = []
    var profiles: [Matrix<Double>] = []
    for (seed, ait) in zip(s.seeds, aits) {
      let (landscape, profile) = try analyseLandscape(ait, seed: seed, data: data)
      landscapes.append(landscape)
      profiles.append(profile)
      log(
        "landscape seed \(seed): \(landscape.countByClass), single-pattern priors "
          + "\(landscape.priorRegime.filter { $0 == "singlePattern" }.count)/\(landscape.priorRegime.count)")
    }
    var pairs: [SeedPair] = []
    for a in 0..<aits.count {
      for b in (a + 1)..<aits.count {
        var rng = SeededGenerator(seed: 99)
        var order = Array(0..<profiles[b].columns)
        rng.shuffle(&order)
        let shuffled = Matrix<Double>(rows: profiles[b].rows, columns: profiles[b].columns) { i, j in
          profiles[b][i, order[j]]
        }
        pairs.append(
          SeedPair(
            seeds: [s.seeds[a], s.seeds[b]],
            priorCosine: Self.matchedCosine(
              Self.double(aits[a].workspace!.upscaledPriors), Self.double(aits[b].workspace!.upscaledPriors)),
            usageCosine: Self.matchedCosine(profiles[a], profiles[b]),
            usageCosineShuffled: Self.matchedCosine(profiles[a], shuffled)))
      }
    }
    // 3. Competition.
    var competition: [Competition] = []
    for k in s.bottlenecks {
      let model: VisionTransformer<Float>
      if k == s.bottleneck {
        model = aits[0]
      } else {
        let (trained, history) = try train(s.associative(bottleneck: k), seed: s.seeds[0], name: "AiT k = \(k)")
        model = trained
        memoryCurves.append(
          MemoryCurve(name: "AiT k = \(k)", seed: s.seeds[0], bottleneck: k, history: history))
      }
      competition.append(try competitionStatistics(model, data: data, accuracy: accuracy(model)))
      log("k = \(k): accuracy \(String(format: "%.2f %%", 100 * competition.last!.accuracy))")
    }
    // 4. Retrained at other T and β.
    var retrained: [Retrained] = []
    for seed in s.retrainSeeds {
      if let i = s.seeds.firstIndex(of: seed) {
        retrained.append(
          Retrained(
            seed: seed, hopfieldSteps: s.hopfieldSteps, beta: s.beta, variant: false, accuracy: aitAcc[i],
            retrievalRemoved: offAcc[i], landscape: landscapes[i]))
      }
      for v in s.retrainedVariants where v.seed == seed {
        let (model, history) = try train(
          s.associative(bottleneck: s.bottleneck, beta: v.beta, hopfieldSteps: v.hopfieldSteps), seed: seed,
          name: v.name)
        memoryCurves.append(MemoryCurve(name: v.name, seed: seed, bottleneck: s.bottleneck, history: history))
        let (landscape, _) = try analyseLandscape(model, seed: seed, data: data)
        retrained.append(
          Retrained(
            seed: seed, hopfieldSteps: v.hopfieldSteps, beta: v.beta, variant: true,
            accuracy: history.testAccuracy.last!, retrievalRemoved: try accuracy(model.withRetrieval(enabled: false)),
            landscape: landscape))
        log(
          "\(v.name): accuracy \(String(format: "%.2f %%", 100 * retrained.last!.accuracy)), single-pattern priors "
            + "\(retrained.last!.singlePatternPriors), patches to priors \(String(format: "%.1f %%", 100 * retrained.last!.patchesToPriors))"
        )
      }
    }
    for v in Set(s.retrainedVariants.map(\.hopfieldSteps)).sorted() where v != s.hopfieldSteps {
      let accs = retrained.filter { $0.variant && $0.hopfieldSteps == v && $0.beta == s.beta }.map(\.accuracy)
      hopfield.append(Condition(name: "T = \(v) (retrained)", retrained: true, accuracies: accs))
    }
    for b in s.betas where b != s.beta && !s.retrainSeeds.isEmpty {
      let accs = retrained.filter { $0.variant && $0.beta == b && $0.hopfieldSteps == s.hopfieldSteps }.map(\.accuracy)
      hopfield.append(Condition(name: "β = \(b) (retrained)", retrained: true, accuracies: accs))
    }
    let results = Results(
      settings: s, command: command, seconds: (clock.now - started).seconds, hopfield: hopfield,
      landscapes: landscapes, seedPairs: pairs, competition: competition, aitCurve: aitCurve,
      baselineCurve: baselineCurve, parameterCounts: counts, memoryCurves: memoryCurves, retrained: retrained)
    try AssociativeTransformerReport(results: results).write(to: folder)
    return results
  }

  static func double(_ m: Matrix<Float>) -> Matrix<Double> {
    Matrix(rows: m.rows, columns: m.columns) { i, j in Double(m[i, j]) }
  }

  /// The tokens entering the workspace, and the workspace buffers, for the first `count` test images.
  func workspacePass(_ model: VisionTransformer<Float>, images: Matrix<Float>) throws -> (
    tokens: Matrix<Float>, state: GlobalWorkspaceLayer<Float>.Workspace
  ) {
    var m = model
    var ws = m.makeWorkspace(batchSize: images.rows)
    try m.forward(images: images, labels: nil, training: false, workspace: &ws)
    return (ws.workspaceTokens, ws.workspaceState!)
  }

  /// Landscape of one trained AiT, and its priors' spatial usage profiles (M × N).
  func analyseLandscape(_ ait: VisionTransformer<Float>, seed: UInt64, data: ScaledMNIST) throws -> (
    Landscape, Matrix<Double>
  ) {
    let s = settings
    let c = ait.workspace!.configuration
    let n = c.patchCount, m = c.priorCount
    let images = data.testImages.rows(at: 0..<min(data.testImages.rows, 256))
    let (tokens, state) = try workspacePass(ait, images: images)
    // Usage profile: mean first-step retrieval weight of each prior at each patch position.
    let weights = state.retrievalWeights(step: 0)
    var profile = Matrix<Double>(rows: m, columns: n)
    for r in 0..<weights.rows {
      for p in 0..<m { profile[p, r % n] += Double(weights[r, p]) / Double(images.rows) }
    }
    // A seeded sample of real patch representations.
    var rng = SeededGenerator(seed: seed &+ 7)
    var rows = Array(0..<tokens.rows)
    rng.shuffle(&rows)
    let sample = Self.double(tokens.rows(at: Array(rows.prefix(s.patchSample))))
    let u = Self.double(ait.workspace!.upscaledPriors)
    let network = try ModernHopfield<Double>(patterns: u, beta: c.beta)
    let search = FixedPointSearch(
      noisyStartsPerPattern: 1, pairMixtures: 16, tripleMixtures: 8, randomStarts: 16, seed: seed,
      maxSteps: s.landscapeMaxSteps)
    let report = try FixedPointAnalyzer(search: search).analyze(network, additionalStarts: sample)
    var regime = [String](repeating: "blended", count: m)
    var basin = [Double](repeating: 0, count: m)
    var toMetastable = 0.0, toGlobal = 0.0, elsewhere = 0.0
    for fp in report.fixedPoints {
      let share = fp.basinShareByKind["given"] ?? 0
      switch fp.label {
      case .singlePattern:
        let nearest = fp.classification.evidence?.nearestPattern ?? 0
        regime[nearest] = "singlePattern"
        basin[nearest] += share
      case .metastable: toMetastable += share
      case .globalAverage: toGlobal += share
      default: elsewhere += share
      }
    }
    elsewhere = max(0, 1 - basin.reduce(0, +) - toMetastable - toGlobal)
    let ends = try Self.priorEnds(network, report: report, maxSteps: s.landscapeMaxSteps)
    // Reconstruction error against distance to the nearest prior (T trained steps from x).
    var distances: [Double] = [], errors: [Double] = []
    var xi = sample
    var next = sample
    var hw = network.makeWorkspace(batchSize: sample.rows)
    for _ in 0..<c.hopfieldSteps {
      network.update(xi, into: &next, workspace: &hw)
      swap(&xi, &next)
    }
    for r in 0..<sample.rows {
      var best = Double.infinity
      for p in 0..<m { best = min(best, sample.rowDistance(r, to: u, row: p)) }
      let norm = sample.row(r).reduce(0) { $0 + $1 * $1 }.squareRoot()
      distances.append(best)
      errors.append(xi.rowDistance(r, to: sample, row: r) / max(norm, 1e-12))
    }
    let sorted = distances.sorted()
    let edges = (1...4).map { q in sorted[min(sorted.count - 1, q * sorted.count / 4 - (q == 4 ? 1 : 0))] }
    var binSum = [Double](repeating: 0, count: 4), binCount = [Double](repeating: 0, count: 4)
    for (d, e) in zip(distances, errors) {
      let bin = edges.firstIndex { d <= $0 } ?? 3
      binSum[bin] += e
      binCount[bin] += 1
    }
    let meanNorm = (0..<m).map { p in u.row(p).reduce(0) { $0 + $1 * $1 }.squareRoot() }.reduce(0, +) / Double(m)
    let extras = priorPictures(ait, images: images, state: state)
    let landscape = Landscape(
      seed: seed, beta: c.beta, countByClass: report.countByClass, priorRegime: regime, basinShare: basin,
      patchesToMetastable: toMetastable, patchesToGlobal: toGlobal, patchesElsewhere: elsewhere,
      distanceBinEdges: edges, binRelativeError: zip(binSum, binCount).map { $1 > 0 ? $0 / $1 : .nan },
      spearman: Self.spearman(distances, errors), meanPriorNorm: meanNorm,
      priorCosineMean: ait.workspace!.priorCosines.mean, priorCosineMax: ait.workspace!.priorCosines.max,
      priorCosineMatrix: extras.cosines, basinPatches: extras.patches, basinPatchCounts: extras.counts,
      selectionMaps: extras.maps, priorEndRegime: ends)
    return (landscape, profile)
  }

  /// Where the retrieval started at each stored pattern ends (``Landscape/priorEndRegime``): all M
  /// starts run together (batched updates) until every step moves less than 10⁻¹⁰ or `maxSteps`;
  /// each end state is named after the nearest fixed point of `report` when it lies within 10⁻⁵ of
  /// the patterns' scale (the mean pattern norm), else "other".
  static func priorEnds(_ network: ModernHopfield<Double>, report: FixedPointReport, maxSteps: Int) throws -> [String] {
    let u = network.patterns
    let m = u.rows
    var state = u, next = u
    var workspace = network.makeWorkspace(batchSize: m)
    var converged = false
    for _ in 0..<maxSteps {
      network.update(state, into: &next, workspace: &workspace)
      var largest = 0.0
      for r in 0..<m { largest = max(largest, next.rowDistance(r, to: state, row: r)) }
      swap(&state, &next)
      guard largest.isFinite else { throw AssociativeTransformerError("the retrieval from a prior diverged") }
      if largest < 1e-10 {
        converged = true
        break
      }
    }
    let scale = (0..<m).map { r in u.row(r).reduce(0) { $0 + $1 * $1 }.squareRoot() }.reduce(0, +) / Double(max(1, m))
    return (0..<m).map { r -> String in
      guard converged else { return "other" }
      var best: FixedPoint? = nil
      var bestDistance = Double.infinity
      for fp in report.fixedPoints {
        var d = 0.0
        for j in 0..<u.columns { d += (state[r, j] - fp.state[j]) * (state[r, j] - fp.state[j]) }
        if d < bestDistance { (best, bestDistance) = (fp, d) }
      }
      guard let fp = best, bestDistance.squareRoot() <= 1e-5 * max(scale, 1e-12) else { return "other" }
      switch fp.label {
      case .singlePattern: return fp.classification.evidence?.nearestPattern == r ? "itself" : "anotherPrior"
      case .metastable: return "metastable"
      case .globalAverage: return "globalAverage"
      default: return "other"
      }
    }
  }

  /// What each prior of a trained AiT stands for, in pixels: the cosine matrix of the memory γ; for
  /// each prior the mean pixel patch of the test patches whose first retrieval step weights it most
  /// (its basin at step 1) and their count; and its mean bottleneck weight at each patch position.
  func priorPictures(
    _ ait: VisionTransformer<Float>, images: Matrix<Float>, state: GlobalWorkspaceLayer<Float>.Workspace
  ) -> (cosines: [[Double]], patches: [[Double]], counts: [Int], maps: [[Double]]) {
    let layer = ait.workspace!
    let c = layer.configuration, vc = ait.configuration
    let n = c.patchCount, m = c.priorCount, p = vc.patchSize, side = vc.imageSize / p
    let gamma = layer.memory
    let cosines = (0..<m).map { i in
      (0..<m).map { j in (0..<c.priorWidth).reduce(0.0) { $0 + Double(gamma[i, $1]) * Double(gamma[j, $1]) } }
    }
    let weights = state.retrievalWeights(step: 0)
    var patches = [[Double]](repeating: [Double](repeating: 0, count: p * p), count: m)
    var counts = [Int](repeating: 0, count: m)
    for r in 0..<weights.rows {
      var best = 0
      for q in 1..<m where weights[r, q] > weights[r, best] { best = q }
      let image = r / n, patch = r % n, pr = patch / side, pc = patch % side
      for u in 0..<p {
        for v in 0..<p {
          patches[best][u * p + v] += Double(images[image, (pr * p + u) * vc.imageSize + pc * p + v])
        }
      }
      counts[best] += 1
    }
    for q in 0..<m where counts[q] > 0 { patches[q] = patches[q].map { $0 / Double(counts[q]) } }
    // Mean bottleneck weight per patch position (the weights are rows (group·H + h)·M + prior over G columns).
    let groups = c.selectionGroups(batchSize: images.rows), g = c.selectionPatches(batchSize: images.rows)
    var maps = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
    let bottleneckWeights = state.bottleneckWeights
    for group in 0..<groups {
      for h in 0..<c.heads {
        for q in 0..<m {
          let row = (group * c.heads + h) * m + q
          for j in 0..<g { maps[q][j % n] += Double(bottleneckWeights[row, j]) / Double(images.rows) }
        }
      }
    }
    return (cosines, patches, counts, maps)
  }

  /// Selection statistics of a trained AiT's bottleneck on the test images.
  func competitionStatistics(_ ait: VisionTransformer<Float>, data: ScaledMNIST, accuracy: Double) throws
    -> Competition
  {
    let c = ait.workspace!.configuration
    let n = c.patchCount, m = c.priorCount, h = c.heads, k = c.bottleneck
    let images = data.testImages.rows(at: 0..<min(data.testImages.rows, 256))
    let b = images.rows
    let (_, state) = try workspacePass(ait, images: images)
    let mask = state.admittedMask
    let groups = c.selectionGroups(batchSize: b), g = c.selectionPatches(batchSize: b)
    var patchCounts = [Double](repeating: 0, count: n)
    var overlapSum = 0.0, overlapCount = 0.0
    for group in 0..<groups {
      for head in 0..<h {
        for p in 0..<m {
          let row = (group * h + head) * m + p
          for j in 0..<g { patchCounts[j % n] += Double(mask[row, j]) }
          for other in (head + 1)..<max(head + 1, h) {
            let row2 = (group * h + other) * m + p
            var inter = 0.0, union = 0.0
            for j in 0..<g {
              let a = mask[row, j] > 0, bb = mask[row2, j] > 0
              if a && bb { inter += 1 }
              if a || bb { union += 1 }
            }
            overlapSum += union > 0 ? inter / union : 0
            overlapCount += 1
          }
        }
      }
    }
    let diagnostics = ait.workspace!.selectionDiagnostics(state)
    // The retrieval's first-step choice of prior for every patch.
    let weights = state.retrievalWeights(step: 0)
    var priorCounts = [Double](repeating: 0, count: m)
    for r in 0..<weights.rows {
      var best = 0
      for p in 1..<m where weights[r, p] > weights[r, best] { best = p }
      priorCounts[best] += 1
    }
    // Expected Jaccard overlap of two independent uniform k-subsets of N: Σ_i P(|A∩B| = i) · i / (2k − i).
    var chance = 0.0
    for i in 0...k {
      let probability = Self.hypergeometric(i, population: g, successes: k, draws: k)
      chance += probability * Double(i) / Double(2 * k - i)
    }
    return Competition(
      bottleneck: k, accuracy: accuracy, patchEntropy: Self.normalizedEntropy(patchCounts),
      priorEntropy: Self.normalizedEntropy(priorCounts),
      headOverlap: overlapCount > 0 ? overlapSum / overlapCount : .nan, chanceOverlap: chance,
      priorOverlap: diagnostics.overlap, priorChanceOverlap: diagnostics.chanceOverlap,
      priorCosine: ait.workspace!.priorCosines.mean)
  }

  /// Entropy of the distribution ∝ counts, divided by log(count of entries).
  static func normalizedEntropy(_ counts: [Double]) -> Double {
    let total = counts.reduce(0, +)
    guard total > 0, counts.count > 1 else { return 0 }
    var h = 0.0
    for c in counts where c > 0 { h -= c / total * Foundation.log(c / total) }
    return h / Foundation.log(Double(counts.count))
  }

  /// P(X = i) for the hypergeometric distribution.
  static func hypergeometric(_ i: Int, population n: Int, successes k: Int, draws d: Int) -> Double {
    func logChoose(_ a: Int, _ b: Int) -> Double {
      guard b >= 0, b <= a else { return -.infinity }
      return lgamma(Double(a + 1)) - lgamma(Double(b + 1)) - lgamma(Double(a - b + 1))
    }
    return exp(logChoose(k, i) + logChoose(n - k, d - i) - logChoose(n, d))
  }

  /// Spearman rank correlation (average ranks for ties).
  static func spearman(_ x: [Double], _ y: [Double]) -> Double {
    func ranks(_ v: [Double]) -> [Double] {
      let order = v.indices.sorted { v[$0] < v[$1] }
      var r = [Double](repeating: 0, count: v.count)
      var i = 0
      while i < order.count {
        var j = i
        while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
        for t in i...j { r[order[t]] = Double(i + j) / 2 }
        i = j + 1
      }
      return r
    }
    let rx = ranks(x), ry = ranks(y)
    let n = Double(x.count)
    let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices {
      sxy += (rx[i] - mx) * (ry[i] - my)
      sxx += (rx[i] - mx) * (rx[i] - mx)
      syy += (ry[i] - my) * (ry[i] - my)
    }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
  }

  /// Mean cosine similarity of the rows of `a` and `b` under the assignment that maximises its sum
  /// (Hungarian algorithm on the cosine matrix).
  static func matchedCosine(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    precondition(a.rows == b.rows && a.columns == b.columns, "matchedCosine: shapes differ")
    let m = a.rows
    var cost = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
    var cosine = cost
    for i in 0..<m {
      let ai = a.row(i)
      let na = ai.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for j in 0..<m {
        let bj = b.row(j)
        let nb = bj.reduce(0) { $0 + $1 * $1 }.squareRoot()
        cosine[i][j] = zip(ai, bj).reduce(0) { $0 + $1.0 * $1.1 } / max(na * nb, 1e-300)
        cost[i][j] = -cosine[i][j]
      }
    }
    let assignment = hungarian(cost)
    return (0..<m).reduce(0) { $0 + cosine[$1][assignment[$1]] } / Double(m)
  }

  /// The assignment row → column of least total cost of a square matrix (Kuhn–Munkres with
  /// potentials, O(n³)).
  static func hungarian(_ cost: [[Double]]) -> [Int] {
    let n = cost.count
    guard n > 0 else { return [] }
    var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
    var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
    for i in 1...n {
      p[0] = i
      var j0 = 0
      var minv = [Double](repeating: .infinity, count: n + 1)
      var used = [Bool](repeating: false, count: n + 1)
      repeat {
        used[j0] = true
        let i0 = p[j0]
        var delta = Double.infinity, j1 = 0
        for j in 1...n where !used[j] {
          let cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
          if cur < minv[j] {
            minv[j] = cur
            way[j] = j0
          }
          if minv[j] < delta {
            delta = minv[j]
            j1 = j
          }
        }
        for j in 0...n {
          if used[j] {
            u[p[j]] += delta
            v[j] -= delta
          } else {
            minv[j] -= delta
          }
        }
        j0 = j1
      } while p[j0] != 0
      repeat {
        let j1 = way[j0]
        p[j0] = p[j1]
        j0 = j1
      } while j0 != 0
    }
    var assignment = [Int](repeating: 0, count: n)
    for j in 1...n where p[j] > 0 { assignment[p[j] - 1] = j - 1 }
    return assignment
  }
}

/// The shared state of the reproduction's training threads: the next job to take and each job's
/// result. After the first failure no new job is started.
final class TrainingBoard: @unchecked Sendable {
  typealias Trained = (model: VisionTransformer<Float>, history: VisionTransformerTrainer.History)
  private let lock = NSLock()
  private var nextIndex = 0
  private var failed = false
  private var outcomes: [Result<Trained, any Error>?]

  init(count: Int) { outcomes = Array(repeating: nil, count: count) }

  /// The next job's index, or `nil` when none is left or a job failed.
  func next() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard !failed, nextIndex < outcomes.count else { return nil }
    nextIndex += 1
    return nextIndex - 1
  }

  func finish(_ index: Int, with outcome: Result<Trained, any Error>) {
    lock.lock()
    defer { lock.unlock() }
    outcomes[index] = outcome
    if case .failure = outcome { failed = true }
  }

  /// Every result in job order, or the first failure (by job order).
  func results() throws -> [Trained] {
    lock.lock()
    defer { lock.unlock() }
    var out: [Trained] = []
    for outcome in outcomes {
      switch outcome {
      case .success(let r): out.append(r)
      case .failure(let e): throw e
      case nil: throw AssociativeTransformerError("a training was not run (an earlier one failed)")
      }
    }
    return out
  }
}
