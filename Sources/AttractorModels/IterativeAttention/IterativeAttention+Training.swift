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
    precondition(queries.columns == dimension && targets.columns == dimension && queries.rows == targets.rows,
      "lossAndGradients: queries and targets must both be B × \(dimension)")
    let b = queries.rows, d = dimension, m = memorySize, dh = configuration.headWidth, heads = configuration.heads
    let s = Scalar(configuration.logitScale)
    var workspace = makeWorkspace(batchSize: b)

    // Forward, keeping what the backward pass needs.
    var inputs: [Matrix<Scalar>] = [queries]
    var projected: [Matrix<Scalar>] = []
    var weights: [[Matrix<Scalar>]] = []
    var headOutputs: [Matrix<Scalar>] = []
    var output = Matrix<Scalar>(rows: b, columns: d)
    for l in 0..<layers.count {
      applyLayer(l, input: inputs[l], output: &output, workspace: &workspace)
      projected.append(workspace.queries)
      weights.append(workspace.weights)
      headOutputs.append(workspace.heads)
      inputs.append(output)
    }
    var residual = inputs[layers.count] - targets
    var loss: Scalar = 0
    for v in residual.elements { loss += v * v }
    loss /= 2 * Scalar(b)
    residual = (1 / Scalar(b)) * residual  // ∂L/∂f

    // Backward.
    var gradients = layers.map { _ in
      AttentionLayerParameters<Scalar>(
        query: Matrix(rows: d, columns: d), key: Matrix(rows: d, columns: d), value: Matrix(rows: d, columns: d),
        output: Matrix(rows: d, columns: d))
    }
    var upstream = residual  // ∂L/∂Y of the current layer
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      Matrix.multiply(headOutputs[l], upstream, transposeA: true, into: &gradients[l].output)
      let dO = upstream.multiplied(by: layer.output, transposeOther: true)  // B × d
      var dZ = Matrix<Scalar>(rows: b, columns: d)
      var dKp = Matrix<Scalar>(rows: m, columns: d)
      var dVp = Matrix<Scalar>(rows: m, columns: d)
      let kp = workspace.projectedKeys[l], vp = workspace.projectedValues[l]
      for h in 0..<heads {
        let p = weights[l][h]  // B × M
        let dOh = Matrix<Scalar>(rows: b, columns: dh) { r, j in dO[r, h * dh + j] }
        let zh = Matrix<Scalar>(rows: b, columns: dh) { r, j in projected[l][r, h * dh + j] }
        let kh = Matrix<Scalar>(rows: m, columns: dh) { i, j in kp[i, h * dh + j] }
        let vh = Matrix<Scalar>(rows: m, columns: dh) { i, j in vp[i, h * dh + j] }
        var dA = dOh.multiplied(by: vh, transposeOther: true)  // ∂P, B × M
        let dVh = p.multiplied(by: dOh, transposeSelf: true)  // M × d_h
        for r in 0..<b {
          var dotPd: Scalar = 0
          for i in 0..<m { dotPd += p[r, i] * dA[r, i] }
          for i in 0..<m { dA[r, i] = p[r, i] * (dA[r, i] - dotPd) }
        }
        let dZh = s * dA.multiplied(by: kh)  // B × d_h
        let dKh = s * dA.multiplied(by: zh, transposeSelf: true)  // M × d_h
        for r in 0..<b { for j in 0..<dh { dZ[r, h * dh + j] = dZh[r, j] } }
        for i in 0..<m {
          for j in 0..<dh {
            dKp[i, h * dh + j] = dKh[i, j]
            dVp[i, h * dh + j] = dVh[i, j]
          }
        }
      }
      Matrix.multiply(keys, dKp, transposeA: true, into: &gradients[l].key)
      Matrix.multiply(values, dVp, transposeA: true, into: &gradients[l].value)
      Matrix.multiply(inputs[l], dZ, transposeA: true, into: &gradients[l].query)
      upstream = dZ.multiplied(by: layer.query, transposeOther: true)
    }
    return (loss, gradients)
  }

  /// The same memory and configuration with other projections (shapes as in `layers`).
  public func replacingLayers(_ newLayers: [AttentionLayerParameters<Scalar>]) throws(ModelError) -> Self {
    try Self(configuration: configuration, keys: keys, values: values, layers: newLayers)
  }
}

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, arXiv:1711.05101).
///
/// ```
/// m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
/// θ ← θ − η ( m̂ / (√v̂ + ε) + λ θ ),   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
/// ```
public struct AdamW<Scalar: LinearAlgebraScalar>: Sendable {
  public var learningRate: Double
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  public var weightDecay: Double
  /// Steps taken so far.
  public private(set) var step = 0
  var firstMoments: [[Scalar]] = []
  var secondMoments: [[Scalar]] = []

  public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// Updates each parameter matrix in place from its gradient (same shapes, same order every call).
  public mutating func update(_ parameters: inout [Matrix<Scalar>], gradients: [Matrix<Scalar>]) {
    precondition(parameters.count == gradients.count, "AdamW: parameters and gradients differ in count")
    if firstMoments.isEmpty {
      firstMoments = parameters.map { [Scalar](repeating: 0, count: $0.elements.count) }
      secondMoments = firstMoments
    }
    step += 1
    let b1 = Scalar(beta1), b2 = Scalar(beta2), eta = Scalar(learningRate), lambda = Scalar(weightDecay)
    let c1 = 1 - Scalar(Double.pow(beta1, Double(step))), c2 = 1 - Scalar(Double.pow(beta2, Double(step)))
    let eps = Scalar(epsilon)
    for k in parameters.indices {
      precondition(parameters[k].elements.count == gradients[k].elements.count, "AdamW: shapes changed")
      let g = gradients[k].elements
      parameters[k].withUnsafeMutableBufferPointer { theta in
        for i in theta.indices {
          firstMoments[k][i] = b1 * firstMoments[k][i] + (1 - b1) * g[i]
          secondMoments[k][i] = b2 * secondMoments[k][i] + (1 - b2) * g[i] * g[i]
          let mHat = firstMoments[k][i] / c1, vHat = secondMoments[k][i] / c2
          theta[i] -= eta * (mHat / (vHat.squareRoot() + eps) + lambda * theta[i])
        }
      }
    }
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

  public init(epochs: Int = 100, batchSize: Int = 64, patience: Int = 5, learningRate: Double = 1e-3, weightDecay: Double = 0.01, seed: UInt64 = 0) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.patience = patience
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.seed = seed
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

  /// Trains from `model`'s current parameters; returns the best model by validation loss.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)`` for bad settings or shapes,
  ///   or if the parameters become non-finite (for example a learning rate that is far too large).
  public func train<Scalar: LinearAlgebraScalar>(
    _ model: IterativeAttention<Scalar>,
    training: (queries: Matrix<Scalar>, targets: Matrix<Scalar>),
    validation: (queries: Matrix<Scalar>, targets: Matrix<Scalar>)
  ) throws(ModelError) -> (model: IterativeAttention<Scalar>, history: History) {
    guard epochs >= 0 else { throw .invalidParameter(name: "epochs", value: "\(epochs)", requirement: "at least 0") }
    guard batchSize >= 1 else { throw .invalidParameter(name: "batchSize", value: "\(batchSize)", requirement: "at least 1") }
    guard patience >= 1 else { throw .invalidParameter(name: "patience", value: "\(patience)", requirement: "at least 1") }
    guard learningRate.isFinite && learningRate > 0 else {
      throw .invalidParameter(name: "learningRate", value: "\(learningRate)", requirement: "finite and positive")
    }
    let d = model.dimension
    for (name, pair) in [("training", training), ("validation", validation)] {
      guard pair.queries.columns == d, pair.targets.columns == d, pair.queries.rows == pair.targets.rows, pair.queries.rows >= 1 else {
        throw .invalidParameter(
          name: name, value: "queries \(pair.queries.rows) × \(pair.queries.columns), targets \(pair.targets.rows) × \(pair.targets.columns)",
          requirement: "at least one pair, both B × \(d)")
      }
      guard pair.queries.isFinite && pair.targets.isFinite else {
        throw .invalidParameter(name: name, value: "non-finite entries", requirement: "finite")
      }
    }
    var rng = SeededGenerator(seed: seed)
    var optimizer = AdamW<Scalar>(learningRate: learningRate, weightDecay: weightDecay)
    var current = model
    var best = model
    var bestLoss = Double(model.lossAndGradients(queries: validation.queries, targets: validation.targets).loss)
    var history = History(initialValidationLoss: bestLoss)
    var order = [Int](repeating: 0, count: training.queries.rows)
    var sinceImprovement = 0
    for epoch in 1...max(1, epochs) where epochs > 0 {
      rng.shuffle(&order)
      var total = 0.0, batches = 0
      var start = 0
      while start < order.count {
        let batch = Array(order[start..<min(start + batchSize, order.count)])
        start += batchSize
        let (loss, gradients) = current.lossAndGradients(
          queries: training.queries.rows(at: batch), targets: training.targets.rows(at: batch))
        total += Double(loss)
        batches += 1
        var parameters = current.layers.flatMap(\.all)
        optimizer.update(&parameters, gradients: gradients.flatMap(\.all))
        guard parameters.allSatisfy(\.isFinite) else {
          throw .invalidParameter(name: "learningRate", value: "\(learningRate)", requirement: "small enough that training stays finite")
        }
        let layers = stride(from: 0, to: parameters.count, by: 4).map {
          AttentionLayerParameters(query: parameters[$0], key: parameters[$0 + 1], value: parameters[$0 + 2], output: parameters[$0 + 3])
        }
        current = try current.replacingLayers(layers)
      }
      history.trainingLoss.append(total / Double(batches))
      let validationLoss = Double(current.lossAndGradients(queries: validation.queries, targets: validation.targets).loss)
      history.validationLoss.append(validationLoss)
      if validationLoss < bestLoss {
        bestLoss = validationLoss
        best = current
        history.bestEpoch = epoch
        sinceImprovement = 0
      } else {
        sinceImprovement += 1
        if sinceImprovement >= patience {
          history.stoppedEarly = epoch < epochs
          break
        }
      }
    }
    return (best, history)
  }
}
