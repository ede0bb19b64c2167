import AttractorLinearAlgebra

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
  /// Indices (in the order of ``update(_:gradients:)``'s matrices) of the parameters that get no
  /// weight decay; empty by default (every parameter decays).
  public var undecayed: Set<Int> = []
  var firstMoments: [[Scalar]] = []
  var secondMoments: [[Scalar]] = []

  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0.01
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// The step count and both moment vectors of every parameter (for a checkpoint).
  public var state: (step: Int, firstMoments: [[Scalar]], secondMoments: [[Scalar]]) {
    (step, firstMoments, secondMoments)
  }

  /// Continues from a checkpoint's ``state``: the next ``update(_:gradients:)`` is step `step + 1`
  /// with these moments (one vector per parameter matrix, in the order of the updates).
  public mutating func restore(step: Int, firstMoments: [[Scalar]], secondMoments: [[Scalar]]) {
    precondition(step >= 0 && firstMoments.count == secondMoments.count, "AdamW.restore: inconsistent state")
    precondition(zip(firstMoments, secondMoments).allSatisfy { $0.count == $1.count }, "AdamW.restore: shapes differ")
    self.step = step
    self.firstMoments = firstMoments
    self.secondMoments = secondMoments
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
      let count = firstMoments[k].count
      precondition(parameters[k].elements.count == count, "AdamW: shapes changed")
      gradients[k].withUnsafeBufferPointer { g in
        parameters[k].withUnsafeMutableBufferPointer { theta in
          firstMoments[k].withUnsafeMutableBufferPointer { m in
            secondMoments[k].withUnsafeMutableBufferPointer { v in
              Scalar.adamWStep(
                parameters: theta.baseAddress!, gradients: g.baseAddress!, firstMoments: m.baseAddress!,
                secondMoments: v.baseAddress!, count: count, beta1: b1, beta2: b2, learningRate: eta, epsilon: eps,
                weightDecay: undecayed.contains(k) ? 0 : lambda, c1: c1, c2: c2)
            }
          }
        }
      }
    }
  }
}
