import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// Trains a ``VisionTransformer`` (plain or AiT) for classification: seeded minibatches, AdamW with
/// a linear warm-up and cosine decay, the workspace's memory updated by EMA on every training
/// batch, a test accuracy after every epoch, and a checkpoint callback after every epoch (so that
/// an interrupted run resumes exactly where it stopped).
///
/// ```
/// step t of S:  η_t = η · min(1, (t+1)/W) · (0.05 + 0.95 · ½(1 + cos(π t / S)))   W = warm-up steps
/// epoch e: the training images in the order of a Fisher–Yates shuffle seeded (seed, e); the last
///          partial minibatch is dropped
/// ```
///
/// A fixed seed reproduces a run exactly (same order, same initialisation, deterministic kernels
/// on a fixed thread count); a resumed run continues with the same order and schedule.
public struct VisionTransformerTrainer: Sendable, Codable, Equatable {
  public var epochs: Int
  public var batchSize: Int
  /// Peak learning rate η.
  public var learningRate: Double
  /// AdamW's decoupled weight decay λ.
  public var weightDecay: Double
  /// Warm-up steps W.
  public var warmupSteps: Int
  /// Seed of the shuffles (the model's initialisation has its own).
  public var seed: UInt64
  /// Mean training loss recorded every this many steps (the loss curve).
  public var logEvery: Int

  public init(
    epochs: Int = 5, batchSize: Int = 128, learningRate: Double = 2e-3, weightDecay: Double = 0.05,
    warmupSteps: Int = 100, seed: UInt64 = 0, logEvery: Int = 50
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.warmupSteps = warmupSteps
    self.seed = seed
    self.logEvery = logEvery
  }

  /// Checks every setting.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)``.
  public func validate() throws(ModelError) {
    func fail(_ name: String, _ value: Any, _ requirement: String) -> ModelError {
      .invalidParameter(name: name, value: "\(value)", requirement: requirement)
    }
    guard epochs >= 1 else { throw fail("epochs", epochs, "at least 1") }
    guard batchSize >= 1 else { throw fail("batchSize", batchSize, "at least 1") }
    guard learningRate.isFinite, learningRate > 0 else { throw fail("learningRate", learningRate, "positive") }
    guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weightDecay", weightDecay, "≥ 0") }
    guard warmupSteps >= 0 else { throw fail("warmupSteps", warmupSteps, "≥ 0") }
    guard logEvery >= 1 else { throw fail("logEvery", logEvery, "at least 1") }
  }

  /// The record of a run so far.
  public struct History: Sendable, Codable, Equatable {
    /// Epochs finished.
    public var epochsCompleted = 0
    /// Mean training loss (cross-entropy + balance) of each epoch.
    public var epochLoss: [Double] = []
    /// Test accuracy after each epoch.
    public var testAccuracy: [Double] = []
    /// Seconds of each epoch (training and the test evaluation).
    public var epochSeconds: [Double] = []
    /// The loss curve: (step, mean training loss over the last `logEvery` steps).
    public var curveSteps: [Int] = []
    public var curveLoss: [Double] = []
    /// Mean balance loss of each epoch (0 for the plain transformer).
    public var epochBalance: [Double] = []
    /// AiT only, at the steps of the loss curve: the mean pairwise cosine of the priors, and the
    /// last batch's ``GlobalWorkspaceLayer/SelectionDiagnostics`` (selection overlap and the
    /// cosine between the rows of the memory's step target); nil for the plain transformer.
    public var curvePriorCosine: [Double]?
    public var curveSelectionOverlap: [Double]?
    public var curveTargetCosine: [Double]?

    public init() {}
  }

  /// What the progress callback sees.
  public struct Progress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var steps: Int
    public var loss: Double
    public var secondsLeft: Double
    /// Test accuracy, at the end of an epoch only.
    public var testAccuracy: Double?
    /// AiT only: mean pairwise prior cosine, selection overlap and step-target cosine now.
    public var priorCosine: Double?
    public var selectionOverlap: Double?
    public var targetCosine: Double?
  }

  /// The optimiser's state, for checkpoints: step count and the two moment vectors of every parameter.
  public struct OptimizerState: Sendable {
    public var step: Int
    public var firstMoments: [[Float]]
    public var secondMoments: [[Float]]

    public init(step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
      self.step = step
      self.firstMoments = firstMoments
      self.secondMoments = secondMoments
    }
  }

  /// Learning rate of step t of `total`.
  public func learningRate(step t: Int, of total: Int) -> Double {
    let warm = warmupSteps > 0 ? min(1, Double(t + 1) / Double(warmupSteps)) : 1
    let cosine = 0.5 * (1 + Double.cos(Double.pi * Double(t) / Double(max(1, total))))
    return learningRate * warm * (0.05 + 0.95 * cosine)
  }

  /// Trains `model` on `images` (B × pixels, already scaled) and `labels`, evaluating on the test
  /// set after every epoch. With `resuming`, continues from that history and optimiser state
  /// (the model must be the checkpoint's). `checkpoint` is called after every epoch with the model,
  /// the history and the optimiser state. With `stopAfterEpoch`, training stops (as if
  /// interrupted) once that many epochs are complete; the schedule is still the full run's.
  ///
  /// - Throws: ``ModelError`` for invalid settings or data, or what `checkpoint` throws.
  public func train(
    _ initial: VisionTransformer<Float>, images: Matrix<Float>, labels: [Int], testImages: Matrix<Float>,
    testLabels: [Int], resuming: (history: History, optimizer: OptimizerState)? = nil, stopAfterEpoch: Int? = nil,
    progress: (Progress) -> Void = { _ in },
    checkpoint: (VisionTransformer<Float>, History, OptimizerState) throws -> Void = { _, _, _ in }
  ) throws -> (model: VisionTransformer<Float>, history: History) {
    try validate()
    try initial.validate(images: images, labels: labels)
    try initial.validate(images: testImages, labels: testLabels)
    guard images.rows >= batchSize else {
      throw ModelError.invalidParameter(
        name: "batchSize", value: "\(batchSize)", requirement: "at most the training images (\(images.rows))")
    }
    var model = initial
    var history = resuming?.history ?? History()
    var optimizer = AdamW<Float>(learningRate: learningRate, weightDecay: weightDecay)
    if let state = resuming?.optimizer {
      optimizer.restore(step: state.step, firstMoments: state.firstMoments, secondMoments: state.secondMoments)
    }
    let perEpoch = images.rows / batchSize
    let total = perEpoch * epochs
    var ws = model.makeWorkspace(batchSize: batchSize)
    var gradient = model.zeroGradient()
    var batch = Matrix<Float>(rows: batchSize, columns: images.columns)
    var batchLabels = [Int](repeating: 0, count: batchSize)
    let clock = ContinuousClock()
    let started = clock.now
    var stepsDone = 0
    var windowLoss = 0.0, windowCount = 0
    for epoch in history.epochsCompleted..<min(epochs, stopAfterEpoch ?? epochs) {
      let epochStart = clock.now
      var order = Array(0..<images.rows)
      var rng = SeededGenerator(seed: seed).derived(epoch)
      rng.shuffle(&order)
      var lossSum = 0.0, balanceSum = 0.0
      for s in 0..<perEpoch {
        let t = epoch * perEpoch + s
        for r in 0..<batchSize {
          batch.copyRow(order[s * batchSize + r], of: images, to: r)
          batchLabels[r] = labels[order[s * batchSize + r]]
        }
        optimizer.learningRate = learningRate(step: t, of: total)
        let loss = try model.trainingStep(
          images: batch, labels: batchLabels, optimizer: &optimizer, workspace: &ws, gradient: &gradient)
        guard loss.loss.isFinite else {
          throw ModelError.invalidParameter(
            name: "loss", value: "\(loss.loss) at step \(t)", requirement: "finite (lower the learning rate)")
        }
        lossSum += loss.loss
        balanceSum += loss.balance
        windowLoss += loss.loss
        windowCount += 1
        stepsDone += 1
        if windowCount == logEvery {
          history.curveSteps.append(t + 1)
          history.curveLoss.append(windowLoss / Double(windowCount))
          windowLoss = 0
          windowCount = 0
          var diagnostics: (Double, GlobalWorkspaceLayer<Float>.SelectionDiagnostics)?
          if let layer = model.workspace, let state = ws.workspaceState {
            let d = layer.selectionDiagnostics(state)
            diagnostics = (layer.priorCosines.mean, d)
            history.curvePriorCosine = (history.curvePriorCosine ?? []) + [layer.priorCosines.mean]
            history.curveSelectionOverlap = (history.curveSelectionOverlap ?? []) + [d.overlap]
            history.curveTargetCosine = (history.curveTargetCosine ?? []) + [d.targetCosine]
          }
          let elapsed = (clock.now - started).seconds
          progress(
            Progress(
              epoch: epoch + 1, epochs: epochs, step: t + 1, steps: total, loss: history.curveLoss.last!,
              secondsLeft: elapsed / Double(stepsDone) * Double(total - t - 1), testAccuracy: nil,
              priorCosine: diagnostics?.0, selectionOverlap: diagnostics?.1.overlap,
              targetCosine: diagnostics?.1.targetCosine))
        }
      }
      let predictions = try model.predict(images: testImages)
      let correct = zip(predictions, testLabels).filter { $0 == $1 }.count
      history.epochsCompleted = epoch + 1
      history.epochLoss.append(lossSum / Double(perEpoch))
      history.epochBalance.append(balanceSum / Double(perEpoch))
      history.testAccuracy.append(Double(correct) / Double(testLabels.count))
      history.epochSeconds.append((clock.now - epochStart).seconds)
      let elapsed = (clock.now - started).seconds
      progress(
        Progress(
          epoch: epoch + 1, epochs: epochs, step: (epoch + 1) * perEpoch, steps: total,
          loss: history.epochLoss.last!,
          secondsLeft: elapsed / Double(max(1, stepsDone)) * Double(total - (epoch + 1) * perEpoch),
          testAccuracy: history.testAccuracy.last))
      try checkpoint(model, history, optimizer.checkpointState)
    }
    return (model, history)
  }
}

extension VisionTransformer {
  /// `buffer` (a gradient accumulator of this model's shape, ``zeroGradient()``) with every entry
  /// set to zero. (Going through ``parameters`` copies each matrix once, about 80,000 scalars for
  /// the small AiT: negligible beside a step's activations, but not allocation-free.)
  public func zeroGradientReusing(_ buffer: VisionTransformer) -> VisionTransformer {
    var g = buffer
    var all = g.parameters
    for k in all.indices { all[k].withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } } }
    g.parameters = all
    return g
  }
}

extension AdamW where Scalar == Float {
  /// The optimiser's state (step and moments) for a checkpoint.
  var checkpointState: VisionTransformerTrainer.OptimizerState {
    let s = state
    return VisionTransformerTrainer.OptimizerState(
      step: s.step, firstMoments: s.firstMoments, secondMoments: s.secondMoments)
  }
}
