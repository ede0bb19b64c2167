import Foundation
import AttractorCore
import AttractorLinearAlgebra

extension IterativeAttention {
  /// The one-step regression loss and its gradient with respect to every projection.
  ///
  /// ```
  /// L = (1/2B) Σ_r ‖f(q_r) − t_r‖²
  /// ```
  ///
  /// The gradient is computed by a layer-by-layer backward pass (no autodiff framework): for a
  /// layer with input X, Z = X W_Q, Pₕ = softmax(s Zₕ (K W_K)ₕᵀ), Oₕ = Pₕ (V W_V)ₕ, Y = O W_O,
  ///
  /// ```
  /// ∂W_O = Oᵀ ∂Y             ∂O = ∂Y W_Oᵀ
  /// ∂Pₕ = ∂Oₕ (V W_V)ₕᵀ        ∂W_V[:, h] = Vᵀ Pₕᵀ ∂Oₕ
  /// ∂Aₕ = Pₕ ⊙ (∂Pₕ − rowsum(∂Pₕ ⊙ Pₕ))      (softmax backward)
  /// ∂Zₕ = s ∂Aₕ (K W_K)ₕ      ∂W_K[:, h] = s Kᵀ ∂Aₕᵀ Zₕ
  /// ∂W_Q = Xᵀ ∂Z             ∂X = ∂Z W_Qᵀ  (passed to the layer below)
  /// ```
  ///
  /// Checked against central finite differences for every parameter in the tests.
  public func lossAndGradients(
    queries: Matrix<Scalar>, targets: Matrix<Scalar>
  ) -> (loss: Scalar, gradients: [AttentionLayerParameters<Scalar>]) {
    var workspace = makeTrainingWorkspace(batchSize: queries.rows)
    var gradients = zeroGradients()
    let loss = lossAndGradients(queries: queries, targets: targets, workspace: &workspace, gradients: &gradients)
    return (loss, gradients)
  }

  /// Gradient buffers of the right shapes, all zero.
  public func zeroGradients() -> [AttentionLayerParameters<Scalar>] {
    let d = dimension
    return layers.map { _ in
      AttentionLayerParameters<Scalar>(
        query: Matrix(rows: d, columns: d), key: Matrix(rows: d, columns: d), value: Matrix(rows: d, columns: d),
        output: Matrix(rows: d, columns: d))
    }
  }

  /// Every buffer of one forward and backward pass over a batch of `batchSize` pairs: the
  /// projected memory, the per-layer activations kept for the backward pass, and the backward
  /// scratch matrices. Reused across minibatches (and across parameter updates: the projected
  /// memory is recomputed into it on every call), so training allocates nothing per batch.
  public struct TrainingWorkspace: Sendable {
    let batchSize: Int
    var projectedKeys: [Matrix<Scalar>]  // K W_K per layer, M × d
    var projectedValues: [Matrix<Scalar>]  // V W_V per layer, M × d
    var layers: [LayerBuffers]  // activations of each layer
    var outputs: [Matrix<Scalar>]  // output of each layer, B × d
    var upstream: Matrix<Scalar>  // ∂L/∂Y of the current layer, B × d
    var headGradient: Matrix<Scalar>  // ∂L/∂O, B × d
    var queryGradient: Matrix<Scalar>  // ∂L/∂Z, B × d
    var logitGradient: Matrix<Scalar>  // ∂L/∂Pₕ, then ∂L/∂Aₕ, B × M
    var keyGradient: Matrix<Scalar>  // ∂L/∂(K W_K), M × d
    var valueGradient: Matrix<Scalar>  // ∂L/∂(V W_V), M × d
  }

  /// Buffers for ``lossAndGradients(queries:targets:workspace:gradients:)`` on batches of exactly
  /// `batchSize` pairs.
  public func makeTrainingWorkspace(batchSize: Int) -> TrainingWorkspace {
    let d = dimension, m = memorySize, l = layers.count, b = batchSize
    return TrainingWorkspace(
      batchSize: b,
      projectedKeys: Array(repeating: Matrix(rows: m, columns: d), count: l),
      projectedValues: Array(repeating: Matrix(rows: m, columns: d), count: l),
      layers: Array(repeating: LayerBuffers(batch: b, width: d, memory: m, headCount: configuration.heads), count: l),
      outputs: Array(repeating: Matrix(rows: b, columns: d), count: l),
      upstream: Matrix(rows: b, columns: d), headGradient: Matrix(rows: b, columns: d),
      queryGradient: Matrix(rows: b, columns: d), logitGradient: Matrix(rows: b, columns: m),
      keyGradient: Matrix(rows: m, columns: d), valueGradient: Matrix(rows: m, columns: d))
  }

  /// The one-step loss of a batch, with its gradients written into `gradients` (shapes as from
  /// ``zeroGradients()``), on preallocated buffers: every product is a (strided) BLAS GEMM and the
  /// softmax backward pass is a vectorised C kernel.
  public func lossAndGradients(
    queries: Matrix<Scalar>, targets: Matrix<Scalar>, workspace ws: inout TrainingWorkspace,
    gradients: inout [AttentionLayerParameters<Scalar>]
  ) -> Scalar {
    precondition(
      queries.columns == dimension && targets.columns == dimension && queries.rows == targets.rows,
      "lossAndGradients: queries and targets must both be B × \(dimension)")
    precondition(queries.rows == ws.batchSize, "lossAndGradients: workspace is for batches of \(ws.batchSize)")
    precondition(gradients.count == layers.count, "lossAndGradients: one gradient set per layer")
    let b = queries.rows, d = dimension, m = memorySize, dh = configuration.headWidth, heads = configuration.heads
    let s = Scalar(configuration.logitScale)
    let count = layers.count

    // Forward, keeping every layer's activations.
    for l in 0..<count {
      Matrix.multiply(keys, layers[l].key, into: &ws.projectedKeys[l])
      Matrix.multiply(values, layers[l].value, into: &ws.projectedValues[l])
      let input = l == 0 ? queries : ws.outputs[l - 1]
      applyLayer(
        l, input: input, output: &ws.outputs[l], buffers: &ws.layers[l], projectedKeys: ws.projectedKeys[l],
        projectedValues: ws.projectedValues[l])
    }
    // ∂L/∂f = (f − t)/B and L = ‖f − t‖²/(2B).
    var loss: Scalar = 0
    let inverseBatch = 1 / Scalar(b)
    ws.outputs[count - 1].withUnsafeBufferPointer { f in
      targets.withUnsafeBufferPointer { t in
        ws.upstream.withUnsafeMutableBufferPointer { g in
          for i in 0..<(b * d) {
            let r = f[i] - t[i]
            loss += r * r
            g[i] = r * inverseBatch
          }
        }
      }
    }
    loss *= inverseBatch / 2

    // Backward.
    for l in stride(from: count - 1, through: 0, by: -1) {
      let input = l == 0 ? queries : ws.outputs[l - 1]
      Matrix.multiply(ws.layers[l].heads, ws.upstream, transposeA: true, into: &gradients[l].output)
      Matrix.multiply(ws.upstream, layers[l].output, transposeB: true, into: &ws.headGradient)  // ∂O
      for h in 0..<heads {
        let offset = h * dh
        ws.headGradient.withUnsafeBufferPointer { dO in
          ws.projectedValues[l].withUnsafeBufferPointer { vp in
            ws.layers[l].weights[h].withUnsafeBufferPointer { p in
              ws.logitGradient.withUnsafeMutableBufferPointer { dA in
                // ∂Pₕ = ∂Oₕ (V W_V)ₕᵀ   (B × M)
                Scalar.gemm(
                  transposeA: false, transposeB: true, m: b, n: m, k: dh, alpha: 1,
                  a: dO.baseAddress! + offset, lda: d, b: vp.baseAddress! + offset, ldb: d,
                  beta: 0, c: dA.baseAddress!, ldc: m)
                // ∂Aₕ = Pₕ ⊙ (∂Pₕ − rowsum(∂Pₕ ⊙ Pₕ))
                Scalar.softmaxBackwardInPlace(
                  probabilities: p.baseAddress!, gradients: dA.baseAddress!, rows: b, count: m)
              }
              ws.valueGradient.withUnsafeMutableBufferPointer { dV in
                // ∂(V W_V)ₕ = Pₕᵀ ∂Oₕ   (M × d_h)
                Scalar.gemm(
                  transposeA: true, transposeB: false, m: m, n: dh, k: b, alpha: 1,
                  a: p.baseAddress!, lda: m, b: dO.baseAddress! + offset, ldb: d,
                  beta: 0, c: dV.baseAddress! + offset, ldc: d)
              }
            }
          }
        }
        ws.logitGradient.withUnsafeBufferPointer { dA in
          ws.projectedKeys[l].withUnsafeBufferPointer { kp in
            ws.queryGradient.withUnsafeMutableBufferPointer { dZ in
              // ∂Zₕ = s ∂Aₕ (K W_K)ₕ   (B × d_h)
              Scalar.gemm(
                transposeA: false, transposeB: false, m: b, n: dh, k: m, alpha: s,
                a: dA.baseAddress!, lda: m, b: kp.baseAddress! + offset, ldb: d,
                beta: 0, c: dZ.baseAddress! + offset, ldc: d)
            }
          }
          ws.layers[l].queries.withUnsafeBufferPointer { z in
            ws.keyGradient.withUnsafeMutableBufferPointer { dK in
              // ∂(K W_K)ₕ = s ∂Aₕᵀ Zₕ   (M × d_h)
              Scalar.gemm(
                transposeA: true, transposeB: false, m: m, n: dh, k: b, alpha: s,
                a: dA.baseAddress!, lda: m, b: z.baseAddress! + offset, ldb: d,
                beta: 0, c: dK.baseAddress! + offset, ldc: d)
            }
          }
        }
      }
      Matrix.multiply(keys, ws.keyGradient, transposeA: true, into: &gradients[l].key)
      Matrix.multiply(values, ws.valueGradient, transposeA: true, into: &gradients[l].value)
      Matrix.multiply(input, ws.queryGradient, transposeA: true, into: &gradients[l].query)
      if l > 0 {
        Matrix.multiply(ws.queryGradient, layers[l].query, transposeB: true, into: &ws.upstream)
      }
    }
    return loss
  }

  /// The one-step loss L = (1/2B) Σ_r ‖f(q_r) − t_r‖² without gradients, evaluated in chunks of
  /// `batchSize` rows (the validation loss of training).
  public func loss(queries: Matrix<Scalar>, targets: Matrix<Scalar>, batchSize: Int = 1024) -> Double {
    precondition(
      queries.columns == dimension && targets.columns == dimension && queries.rows == targets.rows,
      "loss: queries and targets must both be B × \(dimension)")
    let n = queries.rows, d = dimension
    guard n > 0 else { return 0 }
    let chunk = max(1, min(batchSize, n))
    var workspace = makeWorkspace(batchSize: chunk)
    var total = 0.0
    var start = 0
    while start < n {
      let rows = Array(start..<min(start + chunk, n))
      let q = queries.rows(at: rows), t = targets.rows(at: rows)
      var f = Matrix<Scalar>(rows: rows.count, columns: d)
      update(q, into: &f, workspace: &workspace)
      f.withUnsafeBufferPointer { fp in
        t.withUnsafeBufferPointer { tp in
          for i in 0..<(rows.count * d) {
            let r = Double(fp[i] - tp[i])
            total += r * r
          }
        }
      }
      start += chunk
    }
    return total / (2 * Double(n))
  }

  /// The same memory and configuration with other projections (shapes as in `layers`).
  public func replacingLayers(_ newLayers: [AttentionLayerParameters<Scalar>]) throws(ModelError) -> Self {
    try Self(configuration: configuration, keys: keys, values: values, layers: newLayers, blocks: blocks)
  }
}

/// Trains an ``IterativeAttention`` stack on (query, target) pairs with the one-step loss of
/// ``IterativeAttention/lossAndGradients(queries:targets:)``, AdamW and early stopping.
///
/// Each epoch visits the training pairs in a seeded random order in minibatches; after each epoch
/// the validation loss is computed, the best parameters so far are kept, and training stops after
/// `patience` epochs without improvement. Training uses one application of the stack only;
/// iterating it is a test-time choice.
public struct IterativeAttentionTrainer: Sendable {
  public var epochs: Int
  public var batchSize: Int
  public var patience: Int
  public var learningRate: Double
  public var weightDecay: Double
  public var seed: UInt64
  /// Final learning rate as a fraction of `learningRate` under cosine decay; 1 keeps it constant.
  ///
  /// Epoch e of E uses η_e = η · (f + (1 − f)(1 + cos(π (e − 1)/(E − 1)))/2): η at the first epoch,
  /// f·η at the last.
  public var finalLearningRateFraction: Double
  /// What the stack is trained to do (``IterativeAttentionObjective``); the validation loss that
  /// early stopping watches is this objective's.
  public var objective: IterativeAttentionObjective
  /// The relative improvement δ of the validation loss that counts for early stopping: patience
  /// restarts only at an epoch whose loss is below (1 − δ) × the loss of the last epoch that
  /// restarted it (or the start). 0 counts every decrease. The best parameters are kept at every
  /// decrease either way. With δ > 0, a loss that creeps down by less than δ per `patience`
  /// epochs stops training instead of running to the epoch cap.
  public var minimumImprovement: Double

  public init(
    epochs: Int = 100, batchSize: Int = 64, patience: Int = 5, learningRate: Double = 1e-3, weightDecay: Double = 0.01,
    seed: UInt64 = 0, finalLearningRateFraction: Double = 1, objective: IterativeAttentionObjective = .regression,
    minimumImprovement: Double = 0
  ) {
    self.minimumImprovement = minimumImprovement
    self.epochs = epochs
    self.batchSize = batchSize
    self.patience = patience
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.seed = seed
    self.finalLearningRateFraction = finalLearningRateFraction
    self.objective = objective
  }

  /// The learning rate of epoch `epoch` (1-based) under the cosine schedule.
  public func learningRate(epoch: Int) -> Double {
    let f = finalLearningRateFraction
    guard epochs > 1, f != 1 else { return learningRate }
    let progress = Double(min(max(epoch, 1), epochs) - 1) / Double(epochs - 1)
    return learningRate * (f + (1 - f) * (1 + Foundation.cos(Double.pi * progress)) / 2)
  }

  /// Losses per epoch and where training stopped.
  public struct History: Sendable, Equatable, Codable {
    /// Validation loss before training.
    public var initialValidationLoss: Double
    /// Mean minibatch loss of each epoch.
    public var trainingLoss: [Double] = []
    /// Validation loss after each epoch.
    public var validationLoss: [Double] = []
    /// Epoch (1-based) whose parameters were kept; 0 if none improved on the start.
    public var bestEpoch = 0
    /// Whether patience ran out before `epochs`.
    public var stoppedEarly = false
  }

  /// Trains from `model`'s current parameters on fixed training pairs; returns the best model by
  /// validation loss.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` for bad settings or shapes,
  ///   or if the parameters become non-finite (for example a learning rate that is far too large).
  public func train<Scalar: LinearAlgebraScalar>(
    _ model: IterativeAttention<Scalar>,
    training: (queries: Matrix<Scalar>, targets: Matrix<Scalar>),
    validation: (queries: Matrix<Scalar>, targets: Matrix<Scalar>)
  ) throws(ModelError) -> (model: IterativeAttention<Scalar>, history: History) {
    try train(model, trainingPairs: { _ in training }, validation: validation)
  }

  /// Trains from `model`'s current parameters on pairs drawn afresh for every epoch (for example
  /// a new corruption of the same clean targets, the usual denoising set-up); returns the best
  /// model by validation loss. `trainingPairs(epoch)` is called once per epoch, epoch = 1, 2, ….
  /// (The regression objectives only: retrieval needs the targets' memory slots, see
  /// ``train(_:examples:validation:progress:)``.)
  public func train<Scalar: LinearAlgebraScalar>(
    _ model: IterativeAttention<Scalar>,
    trainingPairs: (Int) throws(ModelError) -> (queries: Matrix<Scalar>, targets: Matrix<Scalar>),
    validation: (queries: Matrix<Scalar>, targets: Matrix<Scalar>),
    progress: ((Int, History) -> Void)? = nil
  ) throws(ModelError) -> (model: IterativeAttention<Scalar>, history: History) {
    try train(
      model,
      examples: { (epoch: Int) throws(ModelError) -> IterativeAttentionExamples<Scalar> in
        let pairs = try trainingPairs(epoch)
        return IterativeAttentionExamples(queries: pairs.queries, targets: pairs.targets, targetIndices: [])
      },
      validation: IterativeAttentionExamples(
        queries: validation.queries, targets: validation.targets, targetIndices: []),
      progress: progress)
  }

  /// Trains from `model`'s current parameters on examples drawn afresh for every epoch
  /// (`examples(epoch)`, epoch = 1, 2, …) with ``objective``; returns the best model by the
  /// objective's validation loss.
  ///
  /// Minibatches are seeded random orders of the rows; each step computes the objective's loss
  /// and gradients on preallocated buffers and applies ``AdamW`` to the parameters the forward
  /// pass uses (``IterativeAttention/parameterIsUsed``). The plain stack under the one-step
  /// regression takes the original fast path (``IterativeAttention/lossAndGradients(queries:targets:workspace:gradients:)``),
  /// so the first test's runs are unchanged. After each epoch the validation loss is computed; the
  /// best parameters are kept, and training stops after `patience` epochs without improvement.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` for bad settings or shapes
  ///   (retrieval without the mixture readout or without target slots), or if the parameters become
  ///   non-finite.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func train<Scalar: LinearAlgebraScalar>(
    _ model: IterativeAttention<Scalar>,
    examples: (Int) throws(ModelError) -> IterativeAttentionExamples<Scalar>,
    validation: IterativeAttentionExamples<Scalar>,
    progress: ((Int, History) -> Void)? = nil
  ) throws(ModelError) -> (model: IterativeAttention<Scalar>, history: History) {
    guard epochs >= 0 else { throw .invalidParameter(name: "epochs", value: "\(epochs)", requirement: "at least 0") }
    guard batchSize >= 1 else {
      throw .invalidParameter(name: "batchSize", value: "\(batchSize)", requirement: "at least 1")
    }
    guard patience >= 1 else {
      throw .invalidParameter(name: "patience", value: "\(patience)", requirement: "at least 1")
    }
    guard learningRate.isFinite && learningRate > 0 else {
      throw .invalidParameter(name: "learningRate", value: "\(learningRate)", requirement: "finite and positive")
    }
    guard finalLearningRateFraction.isFinite && finalLearningRateFraction > 0 && finalLearningRateFraction <= 1 else {
      throw .invalidParameter(
        name: "finalLearningRateFraction", value: "\(finalLearningRateFraction)", requirement: "in (0, 1]")
    }
    guard weightDecay.isFinite && weightDecay >= 0 else {
      throw .invalidParameter(name: "weightDecay", value: "\(weightDecay)", requirement: "finite and ≥ 0")
    }
    guard minimumImprovement.isFinite && minimumImprovement >= 0 && minimumImprovement < 1 else {
      throw .invalidParameter(
        name: "minimumImprovement", value: "\(minimumImprovement)", requirement: "in [0, 1)")
    }
    try objective.validate(for: model.configuration)
    let d = model.dimension, m = model.memorySize
    let objective = self.objective
    let needsSlots = objective == .retrieval
    func check(_ name: String, _ set: IterativeAttentionExamples<Scalar>) throws(ModelError) {
      guard set.queries.columns == d, set.targets.columns == d, set.queries.rows == set.targets.rows,
        set.queries.rows >= 1
      else {
        throw .invalidParameter(
          name: name,
          value:
            "queries \(set.queries.rows) × \(set.queries.columns), targets \(set.targets.rows) × \(set.targets.columns)",
          requirement: "at least one pair, both B × \(d)")
      }
      guard set.queries.isFinite && set.targets.isFinite else {
        throw .invalidParameter(name: name, value: "non-finite entries", requirement: "finite")
      }
      if needsSlots {
        guard set.targetIndices.count == set.queries.rows, set.targetIndices.allSatisfy({ $0 >= 0 && $0 < m }) else {
          throw .invalidParameter(
            name: "\(name) target slots", value: "\(set.targetIndices.count) slots",
            requirement: "one memory slot in 0..<\(m) per query (the retrieval objective)")
        }
      }
    }
    try check("validation", validation)
    let fastPath = objective == .regression && model.configuration.isPlain
    func validationLoss(_ model: IterativeAttention<Scalar>) -> Double {
      fastPath
        ? model.loss(queries: validation.queries, targets: validation.targets)
        : model.loss(
          objective: objective, queries: validation.queries, targets: validation.targets,
          targetIndices: validation.targetIndices)
    }
    var rng = SeededGenerator(seed: seed)
    var optimizer = AdamW<Scalar>(learningRate: learningRate, weightDecay: weightDecay)
    var current = model
    var best = model
    var bestLoss = validationLoss(model)
    var history = History(initialValidationLoss: bestLoss)
    var sinceImprovement = 0
    var reference = bestLoss  // the loss at the last restart of patience
    var workspaces: [Int: IterativeAttention<Scalar>.TrainingWorkspace] = [:]
    var objectiveWorkspaces: [Int: IterativeAttention<Scalar>.ObjectiveWorkspace] = [:]
    var gradients = model.zeroGradients()
    var objectiveGradients = model.zeroObjectiveGradients()
    let used = model.parameterIsUsed
    for epoch in 1...max(1, epochs) where epochs > 0 {
      optimizer.learningRate = learningRate(epoch: epoch)
      let training = try examples(epoch)
      try check("training", training)
      var order = [Int](repeating: 0, count: training.queries.rows)
      rng.shuffle(&order)
      var total = 0.0, batches = 0
      var start = 0
      while start < order.count {
        let batch = Array(order[start..<min(start + batchSize, order.count)])
        start += batchSize
        let queries = training.queries.rows(at: batch), targets = training.targets.rows(at: batch)
        let loss: Scalar
        let flatGradients: [Matrix<Scalar>]
        if fastPath {
          var workspace =
            workspaces.removeValue(forKey: batch.count) ?? current.makeTrainingWorkspace(batchSize: batch.count)
          loss = current.lossAndGradients(
            queries: queries, targets: targets, workspace: &workspace, gradients: &gradients)
          workspaces[batch.count] = workspace
          flatGradients = gradients.flatMap(\.all)
        } else {
          var workspace =
            objectiveWorkspaces.removeValue(forKey: batch.count)
            ?? current.makeObjectiveWorkspace(objective: objective, batchSize: batch.count)
          loss = current.lossAndGradients(
            objective: objective, queries: queries, targets: targets,
            targetIndices: needsSlots ? batch.map { training.targetIndices[$0] } : [], workspace: &workspace,
            gradients: &objectiveGradients)
          objectiveWorkspaces[batch.count] = workspace
          flatGradients = objectiveGradients.all
        }
        total += Double(loss)
        batches += 1
        var parameters = current.parameters
        var trained = parameters.indices.filter { used[$0] }.map { parameters[$0] }
        optimizer.update(&trained, gradients: parameters.indices.filter { used[$0] }.map { flatGradients[$0] })
        guard trained.allSatisfy(\.isFinite) else {
          throw .invalidParameter(
            name: "learningRate", value: "\(learningRate)", requirement: "small enough that training stays finite")
        }
        for (k, index) in parameters.indices.filter({ used[$0] }).enumerated() { parameters[index] = trained[k] }
        current = try current.replacingParameters(parameters)
      }
      history.trainingLoss.append(total / Double(batches))
      let loss = validationLoss(current)
      history.validationLoss.append(loss)
      if loss < bestLoss {
        bestLoss = loss
        best = current
        history.bestEpoch = epoch
      }
      if loss < (1 - minimumImprovement) * reference {
        reference = loss
        sinceImprovement = 0
      } else {
        sinceImprovement += 1
      }
      progress?(epoch, history)
      if sinceImprovement >= patience {
        history.stoppedEarly = epoch < epochs
        break
      }
    }
    return (best, history)
  }
}

/// Training or validation examples of an ``IterativeAttention`` stack: corrupted cues, their
/// targets in model space, and the targets' memory slots (needed by the retrieval objective;
/// may be empty for the regression objectives).
public struct IterativeAttentionExamples<Scalar: LinearAlgebraScalar>: Sendable {
  public var queries: Matrix<Scalar>
  public var targets: Matrix<Scalar>
  public var targetIndices: [Int]

  public init(queries: Matrix<Scalar>, targets: Matrix<Scalar>, targetIndices: [Int]) {
    self.queries = queries
    self.targets = targets
    self.targetIndices = targetIndices
  }
}
