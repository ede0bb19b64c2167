import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// Trains a ``/AttractorModels/OneLayerAttention`` on a denoising task with fresh prompts every
/// step: the seeded set-up shared by the reproduction, the tests and the benchmark.
///
/// ```
/// init:        W_KQ, W_PV entries N(0, initialScale²/n), from stream (seed, 1)
/// step k:      batch k of DenoisingTaskSampler(task, seed) (batch size B), one Adam step
/// validation:  batch 0 of DenoisingTaskSampler(task, seed ^ 0x5EED), `validationSize` prompts
/// ```
public struct InContextTraining: Sendable, Codable, Equatable {
  /// Linear or softmax attention.
  public var variant: OneLayerAttention<Float>.Variant
  /// The task trained on.
  public var task: DenoisingTask
  /// Optimisation steps.
  public var steps: Int
  /// Prompts per step B.
  public var batchSize: Int
  /// Adam's learning rate.
  public var learningRate: Double
  /// Final learning rate as a fraction of `learningRate` (cosine decay).
  public var finalLearningRateFraction: Double
  /// Scale of the random initial weights.
  public var initialScale: Double
  /// Validation prompts.
  public var validationSize: Int
  /// Validation every this many steps.
  public var evaluationInterval: Int
  /// The seed of the initial weights and of every batch.
  public var seed: UInt64

  /// A training set-up (validated by ``run(progress:)``).
  public init(
    variant: OneLayerAttention<Float>.Variant, task: DenoisingTask, steps: Int, batchSize: Int, learningRate: Double,
    finalLearningRateFraction: Double = 0.05, initialScale: Double = 0.1, validationSize: Int = 512,
    evaluationInterval: Int = 100, seed: UInt64
  ) {
    self.variant = variant
    self.task = task
    self.steps = steps
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.finalLearningRateFraction = finalLearningRateFraction
    self.initialScale = initialScale
    self.validationSize = validationSize
    self.evaluationInterval = evaluationInterval
    self.seed = seed
  }

  /// The validation prompts.
  public func validationBatch<Scalar: LinearAlgebraScalar>(as: Scalar.Type = Scalar.self) -> PromptBatch<Scalar> {
    DenoisingTaskSampler(task: task, seed: seed ^ 0x5EED).batch(0, size: validationSize)
  }

  /// The untrained model.
  public func initialModel<Scalar: LinearAlgebraScalar>(as: Scalar.Type = Scalar.self) throws(InContextDenoisingError)
    -> OneLayerAttention<Scalar>
  {
    do {
      return try OneLayerAttention<Scalar>.random(
        variant: OneLayerAttention<Scalar>.Variant(rawValue: variant.rawValue)!, dimension: task.dimension,
        scale: initialScale, seed: SeededGenerator(seed: seed).derived(1).seed)
    } catch { throw .invalidParameter(name: "initial scale", value: "\(initialScale)", requirement: "\(error)") }
  }

  /// Trains and returns the model with its loss history; `progress(step, training, validation)`.
  public func run<Scalar: LinearAlgebraScalar>(
    as: Scalar.Type = Scalar.self, progress: ((Int, Double, Double) -> Void)? = nil
  ) throws(InContextDenoisingError) -> (model: OneLayerAttention<Scalar>, history: OneLayerAttentionTrainer.History) {
    try InContextDenoisingError.check(batchSize >= 1, "batch size", batchSize, "at least 1")
    try InContextDenoisingError.check(validationSize >= 1, "validation size", validationSize, "at least 1")
    let trainer: OneLayerAttentionTrainer
    do {
      trainer = try OneLayerAttentionTrainer(
        steps: steps, learningRate: learningRate, finalLearningRateFraction: finalLearningRateFraction,
        evaluationInterval: evaluationInterval)
    } catch { throw .invalidParameter(name: "training", value: "", requirement: "\(error)") }
    let sampler = DenoisingTaskSampler(task: task, seed: seed)
    var batch = PromptBatch<Scalar>(task: task, size: batchSize)
    let validation: PromptBatch<Scalar> = validationBatch()
    do {
      return try trainer.train(
        initialModel(), batch: &batch, draw: { sampler.fill(&$1, index: $0) }, validation: validation,
        progress: progress)
    } catch let error as InContextDenoisingError {
      throw error
    } catch {
      throw .numerics("training failed: \(error)")
    }
  }
}
