import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// Trains a ``OneLayerAttention`` on fresh prompts every step (online training, as in the paper):
/// minibatch gradients of ℓ = (1/B) Σ ‖f(x̃_b) − x_b‖² from ``OneLayerAttention/lossAndGradients(_:workspace:)``
/// and Adam (the shared ``AdamW`` with weight decay 0 by default), with a cosine learning-rate decay.
///
/// ```
/// step k = 1 … K:  draw(k, &batch);  (W_KQ, W_PV) ← Adam((W_KQ, W_PV), ∇ℓ(batch), η_k)
/// η_k = η · (f + (1 − f)(1 + cos(π (k − 1)/(K − 1)))/2)
/// ```
///
/// Deterministic for a given model, draw closure and settings (the draws are the caller's seeded
/// batches; BLAS results can differ with the thread count, so exact reproduction assumes the same
/// thread count).
public struct OneLayerAttentionTrainer: Sendable {
  /// Optimisation steps K (one fresh minibatch each).
  public var steps: Int
  /// Adam's learning rate η.
  public var learningRate: Double
  /// Final learning rate as a fraction f of η (1 keeps it constant).
  public var finalLearningRateFraction: Double
  /// Decoupled weight decay λ (0: plain Adam).
  public var weightDecay: Double
  /// Validation loss is measured every this many steps (and at the end).
  public var evaluationInterval: Int

  /// Settings, validated.
  public init(
    steps: Int, learningRate: Double, finalLearningRateFraction: Double = 0.05, weightDecay: Double = 0,
    evaluationInterval: Int = 100
  ) throws(ModelError) {
    try ModelError.check(steps >= 1, "steps", steps, "at least 1")
    try ModelError.check(
      learningRate.isFinite && learningRate > 0, "learning rate", learningRate, "finite and positive")
    try ModelError.check(
      finalLearningRateFraction.isFinite && finalLearningRateFraction > 0 && finalLearningRateFraction <= 1,
      "final learning-rate fraction", finalLearningRateFraction, "in (0, 1]")
    try ModelError.check(weightDecay.isFinite && weightDecay >= 0, "weight decay", weightDecay, "finite and ≥ 0")
    try ModelError.check(evaluationInterval >= 1, "evaluation interval", evaluationInterval, "at least 1")
    self.steps = steps
    self.learningRate = learningRate
    self.finalLearningRateFraction = finalLearningRateFraction
    self.weightDecay = weightDecay
    self.evaluationInterval = evaluationInterval
  }

  /// The learning rate of step `k` (1-based).
  public func learningRate(step k: Int) -> Double {
    let f = finalLearningRateFraction
    guard steps > 1, f != 1 else { return learningRate }
    let progress = Double(min(max(k, 1), steps) - 1) / Double(steps - 1)
    return learningRate * (f + (1 - f) * (1 + Foundation.cos(Double.pi * progress)) / 2)
  }

  /// Losses along training.
  public struct History: Sendable, Equatable, Codable {
    /// Steps at which the validation loss was measured (0 = before training).
    public var steps: [Int] = []
    /// Validation loss at those steps.
    public var validationLoss: [Double] = []
    /// Mean minibatch loss since the previous measurement (the first entry, at step 0, repeats the
    /// initial validation loss).
    public var trainingLoss: [Double] = []
  }

  /// Trains `model`; `draw(k, &batch)` refills `batch` with the prompts of step k (k = 1 … steps);
  /// `progress(step, trainingLoss, validationLoss)` is called at every measurement.
  public func train<Scalar: LinearAlgebraScalar, Batch: AttentionPrompts<Scalar>>(
    _ model: OneLayerAttention<Scalar>, batch: inout Batch, draw: (Int, inout Batch) -> Void,
    validation: some AttentionPrompts<Scalar>, progress: ((Int, Double, Double) -> Void)? = nil
  ) throws(ModelError) -> (model: OneLayerAttention<Scalar>, history: History) {
    try model.validate(validation)
    var model = model
    var optimizer = AdamW<Scalar>(learningRate: learningRate, weightDecay: weightDecay)
    let b = batch.queries.rows
    var workspace = model.makeWorkspace(batchSize: b, contextLength: max(1, batch.contexts.rows / max(b, 1)))
    var history = History()
    let initial = model.loss(validation)
    history.steps.append(0)
    history.validationLoss.append(initial)
    history.trainingLoss.append(initial)
    progress?(0, initial, initial)
    var parameters = [model.keyQuery, model.projectionValue]
    var running = 0.0, count = 0
    for k in 1...steps {
      draw(k, &batch)
      if k == 1 { try model.validate(batch) }
      running += model.lossAndGradients(batch, workspace: &workspace)
      count += 1
      optimizer.learningRate = learningRate(step: k)
      model.keyQuery = Matrix(rows: 0, columns: 0)  // release the shared storage: Adam updates in place
      model.projectionValue = model.keyQuery
      optimizer.update(&parameters, gradients: [workspace.keyQueryGradient, workspace.projectionValueGradient])
      model.keyQuery = parameters[0]
      model.projectionValue = parameters[1]
      if k % evaluationInterval == 0 || k == steps {
        let v = model.loss(validation)
        let t = running / Double(count)
        guard v.isFinite && t.isFinite else {
          throw .invalidParameter(
            name: "learning rate", value: "\(learningRate)",
            requirement: "small enough that training stays finite (diverged at step \(k))")
        }
        history.steps.append(k)
        history.validationLoss.append(v)
        history.trainingLoss.append(t)
        progress?(k, t, v)
        running = 0
        count = 0
      }
    }
    return (model, history)
  }
}
