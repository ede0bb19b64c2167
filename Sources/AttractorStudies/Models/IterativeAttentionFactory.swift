import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// ``/AttractorModels/IterativeAttention`` in studies:
/// `{"model": "attention", "layers": 1, "heads": 1, "temperature": 1, "projections": "identity"}`.
///
/// ```
/// one step: q ← f_L(… f_1(q)),  f_l(q) = [softmax(s · q W_Q,h (K W_K,h)ᵀ) V W_V,h]_h W_O,  s = 1/(τ √d_h)
/// ```
///
/// Keys and values are the stored patterns (K = V = X). With the defaults (one layer, one head,
/// τ = 1, identity projections) a step is plain attention with the 1/√d scale, i.e. the modern
/// Hopfield update with β = 1/√d. `"projections": "random"` draws every W from N(0, 1/d), seeded
/// by the cell's seed. `"projections": "trained"` starts from the identity and trains all projections
/// on the study's own patterns (corrupted cues → their pattern, one-step loss, AdamW, early stopping;
/// `epochs` at most; the recipe is `TrainedAttention` in IterativeAttentionFactory+Training.swift), so the row is a trained attention model and
/// not a copy of the modern network. The regime of end states comes from the first layer's attention
/// weights (averaged over heads).
///
/// Parameters are read in ``init(parameters:)`` and the model is built in
/// ``make(patterns:seed:)``: a new source of projections (such as trained weights from a model
/// folder) is one more value of `projections` or one more parameter here.
///
/// References: Vaswani et al. (2017); Ramsauer et al., ICLR 2021.
public struct IterativeAttentionFactory: StudyModelFactory {
  public static let name = "attention"
  public static let summary =
    "iterative multi-head attention over the stored patterns (keys = values), logits scaled by 1/(τ√d_head)"
  public static let parameters: [StudyParameter] = [
    .integer("layers", summary: "attention layers per step", default: 1, range: 1...64),
    .integer("heads", summary: "heads per layer (must divide d)", default: 1, range: 1...4096),
    .positiveNumber("temperature", summary: "temperature τ", default: 1),
    StudyParameter(
      name: "projections", kind: .choice(["identity", "random", "trained"]),
      summary:
        "W_Q, W_K, W_V, W_O: identity, random N(0, 1/d) seeded by the cell's seed, or trained on the study's patterns",
      defaultValue: .string("identity")),
    .integer("epochs", summary: "training epochs at most (projections = trained)", default: 20, range: 1...10_000),
  ]

  public let layers: Int
  public let heads: Int
  public let temperature: Double
  /// `identity`, `random` or `trained`.
  public let projections: String
  /// Training epochs at most (early stopping), for `trained`.
  public let epochs: Int

  public init(parameters: StudyParameterValues) throws(StudyParameterError) {
    layers = parameters.integer("layers")
    heads = parameters.integer("heads")
    temperature = parameters.number("temperature")
    projections = parameters.string("projections")
    epochs = parameters.integer("epochs")
  }

  public var label: String {
    var s = "attention"
    if layers != 1 { s += " L\(layers)" }
    if heads != 1 { s += " H\(heads)" }
    if temperature != 1 { s += " τ=\(compactNumber(temperature))" }
    if projections != "identity" { s += " \(projections)" }
    if projections == "trained" && epochs != 20 { s += " \(epochs) epochs" }
    return s
  }

  public var encoding: StateEncoding { .real }

  public func check(dimension: Int, patternCount: Int) -> [String] {
    var problems: [String] = []
    if dimension % heads != 0 { problems.append("heads = \(heads) must divide the dimension d = \(dimension)") }
    let (size, overflow) = dimension.multipliedReportingOverflow(by: dimension)
    if overflow || size > 1 << 31 {
      problems.append("the d × d projections (d = \(dimension)) are more than 2³¹ values each")
    }
    return problems
  }

  public func make(patterns: Matrix<Double>, seed: UInt64) throws -> IterativeAttention<Double> {
    let configuration = IterativeAttentionConfiguration(
      layers: layers, heads: heads, width: patterns.columns, temperature: temperature)
    if projections == "random" {
      var generator = SeededGenerator(seed: seed)
      return try IterativeAttention.random(
        configuration: configuration, keys: patterns, values: patterns, generator: &generator)
    }
    let identity = try IterativeAttention.identity(configuration: configuration, keys: patterns, values: patterns)
    guard projections == "trained" else { return identity }
    let key = TrainedAttentionCache.key(
      patterns: patterns, seed: seed,
      settings: [UInt64(layers), UInt64(heads), temperature.bitPattern, UInt64(epochs)])
    return try TrainedAttentionCache.shared.model(key: key) {
      try TrainedAttention.train(identity, patterns: patterns, epochs: epochs, seed: seed)
    }
  }
}
