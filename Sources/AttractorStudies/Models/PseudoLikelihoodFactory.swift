import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// A ``/AttractorModels/PseudoLikelihoodAttractor`` that has stored a study's patterns by training on
/// them, with the patterns it was trained on (tokens normalised), for studies.
///
/// ```
/// pattern ξ ∈ ℝ^{D}  →  N consecutive blocks of d = D/N coordinates, each normalised to the sphere
/// separation(x)_μ = softmax_μ( λ N m(x, ξ^μ) ),   m(x, ξ) = (1/N) Σ_i x_i·ξ_i / ‖x_i‖
/// ```
///
/// The separation is the analogue of the attention weights over stored patterns (the network has
/// no such weights: it stores patterns in its couplings); it is used only to classify end states.
public struct PseudoLikelihoodMemory<Scalar: LinearAlgebraScalar>: UpdateRule, AssociativeMemory {
  public let model: PseudoLikelihoodAttractor<Scalar>
  /// The stored patterns with every token normalised (K × N·d).
  public let patterns: Matrix<Scalar>

  public typealias Workspace = PseudoLikelihoodAttractor<Scalar>.Workspace
  public var dimension: Int { model.dimension }
  public func makeWorkspace(batchSize: Int) -> Workspace { model.makeWorkspace(batchSize: batchSize) }

  /// The model's synchronous update (its output tokens are unit vectors whatever the input's scale).
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    model.update(states, into: &next, workspace: &workspace)
  }

  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var x = states
    PseudoLikelihoodAttractor<Scalar>.normalizeTokens(&x, tokenWidth: model.tokenWidth)
    var g = x.multiplied(by: patterns, transposeOther: true)
    let scale = Scalar(model.configuration.inverseTemperature)
    for r in 0..<g.rows {
      var best = -Scalar.infinity
      for c in 0..<g.columns { best = max(best, g[r, c]) }
      var sum: Scalar = 0
      for c in 0..<g.columns {
        g[r, c] = Scalar.exp(scale * (g[r, c] - best))
        sum += g[r, c]
      }
      for c in 0..<g.columns { g[r, c] /= sum }
    }
    return g
  }
}

/// The pseudo-likelihood attractor (D'Amico & Negri) in studies:
/// `{"model": "pseudo-likelihood", "tokens": 4, "lambda": 4, "gamma": 0.5, "epochs": 30, "weightDecay": 1}`.
///
/// A study pattern of dimension D becomes N = `tokens` tokens of d = D/N consecutive coordinates,
/// each normalised to the unit sphere (a pattern with a zero block cannot be stored and is refused);
/// the couplings are trained by the local rule on the K stored patterns (full batch, η = 0.5, weight
/// decay κ, bound Σ_j ‖J_ij‖_F ≤ 1/κ), seeded by the cell's seed. No energy column: the model
/// descends no global energy.
public struct PseudoLikelihoodFactory: StudyModelFactory {
  public static let name = "pseudo-likelihood"
  public static let summary =
    "self-attention attractor network (D'Amico & Negri): patterns cut into N unit tokens, couplings trained by the local rule"
  public static let parameters: [StudyParameter] = [
    .integer("tokens", summary: "tokens N (must divide d; at least 2)", default: 4, range: 2...4096),
    .positiveNumber("lambda", summary: "inverse temperature λ", default: 4),
    StudyParameter(
      name: "gamma", kind: .number, summary: "self-coupling γ in [0, 1]", defaultValue: .number(0.5),
      requirement: "in [0, 1]", isValid: { v in v.number.map { $0 >= 0 && $0 <= 1 } ?? false }),
    .integer("epochs", summary: "local-rule epochs (full batch)", default: 30, range: 1...100_000),
    .positiveNumber("weightDecay", summary: "weight decay κ (bound 1/κ)", default: 1),
  ]

  public let tokens: Int
  public let lambda: Double
  public let gamma: Double
  public let epochs: Int
  public let weightDecay: Double

  public init(parameters: StudyParameterValues) throws(StudyParameterError) {
    tokens = parameters.integer("tokens")
    lambda = parameters.number("lambda")
    gamma = parameters.number("gamma")
    epochs = parameters.integer("epochs")
    weightDecay = parameters.number("weightDecay")
  }

  public var label: String { "pseudo-likelihood N\(tokens) λ=\(compactNumber(lambda)) γ=\(compactNumber(gamma))" }
  public var encoding: StateEncoding { .real }

  public func check(dimension: Int, patternCount: Int) -> [String] {
    dimension % tokens == 0 ? [] : ["tokens = \(tokens) must divide the dimension d = \(dimension)"]
  }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> PseudoLikelihoodMemory<Double> {
    let d = patterns.columns / tokens
    var stored = patterns
    PseudoLikelihoodAttractor<Double>.normalizeTokens(&stored, tokenWidth: d)
    let configuration = PseudoLikelihoodConfiguration(
      tokens: tokens, tokenWidth: d, inverseTemperature: lambda, selfCoupling: gamma)
    let trainer = PseudoLikelihoodTrainer(
      epochs: epochs, batchSize: patterns.rows, learningRate: min(0.5, 1 / weightDecay), weightDecay: weightDecay,
      seed: seed)
    let (model, _) = try trainer.train(try .zero(configuration: configuration), data: stored)
    return PseudoLikelihoodMemory(model: model, patterns: stored)
  }
}
