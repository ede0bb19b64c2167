import AttractorCore
import AttractorLinearAlgebra

/// The sublayers of one layer of an ``IterativeAttention`` stack besides attention: the pre-LayerNorms
/// and the feed-forward sublayer of a standard pre-LN transformer block (Xiong et al., arXiv:2002.04745),
/// each present only when the configuration asks for it.
///
/// ```
/// a = LN₁(x)             (x itself without LayerNorm)
/// h = x + Attn(a)        (Attn(a) without residual connections)
/// b = LN₂(h)             (h without LayerNorm)
/// y = h + FF(b)          (FF(b) without residual connections; y = h without a feed-forward sublayer)
/// ```
///
/// The normalisations and the feed-forward layer are the shared ``LayerNormalization`` and
/// ``FeedForwardLayer`` (GELU). Under the mixture readout the last layer has neither a feed-forward
/// sublayer nor LN₂ (its output is p̄ V).
public struct IterativeAttentionBlock<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// LN₁ before attention (with ``IterativeAttentionConfiguration/layerNorm``).
  public var attentionNorm: LayerNormalization<Scalar>?
  /// LN₂ before the feed-forward sublayer (with LayerNorm and a feed-forward sublayer).
  public var feedForwardNorm: LayerNormalization<Scalar>?
  /// The feed-forward sublayer (``IterativeAttentionConfiguration/feedForwardWidth`` > 0).
  public var feedForward: FeedForwardLayer<Scalar>?

  public init(
    attentionNorm: LayerNormalization<Scalar>? = nil, feedForwardNorm: LayerNormalization<Scalar>? = nil,
    feedForward: FeedForwardLayer<Scalar>? = nil
  ) {
    self.attentionNorm = attentionNorm
    self.feedForwardNorm = feedForwardNorm
    self.feedForward = feedForward
  }

  /// The blocks a configuration needs, LayerNorms at γ = 1, β = 0 and feed-forward weights
  /// N(0, 1/fan_in) seeded by `seed` and the layer number.
  ///
  /// With `zeroFeedForwardOutput` the feed-forward output projection starts at W₂ = 0 (b₂ is zero
  /// either way), so that with residual connections the sublayer starts as the identity,
  /// y = h + FF(b) = h (the usual start of a residual branch; W₁ keeps its random start, and the
  /// gradient of W₂, Hᵀ G, is non-zero from the first step).
  public static func initial(
    configuration c: IterativeAttentionConfiguration, seed: UInt64, zeroFeedForwardOutput: Bool = false
  ) -> [Self] {
    (0..<max(0, c.layers)).map { l in
      let ff = c.hasFeedForward(layer: l)
      var feedForward: FeedForwardLayer<Scalar>? =
        ff
        ? FeedForwardLayer(
          width: c.width, hidden: c.feedForwardWidth, activation: .gelu, seed: seed &+ UInt64(l) &* 0x9E37)
        : nil
      if zeroFeedForwardOutput, let f = feedForward {
        feedForward!.outputWeights = Matrix(rows: f.hidden, columns: f.width)
      }
      return Self(
        attentionNorm: c.layerNorm ? LayerNormalization(width: c.width) : nil,
        feedForwardNorm: c.layerNorm && ff ? LayerNormalization(width: c.width) : nil,
        feedForward: feedForward)
    }
  }

  /// Every parameter, in the order LN₁ (γ, β), LN₂ (γ, β), FF (W₁, b₁, W₂, b₂), of those present.
  public var parameters: [Matrix<Scalar>] {
    (attentionNorm?.parameters ?? []) + (feedForwardNorm?.parameters ?? []) + (feedForward?.parameters ?? [])
  }

  /// Named tensors of a model folder, `prefix` + attention_norm.{gain,bias}, feed_forward_norm.{gain,bias},
  /// feed_forward.{input_weights,input_bias,output_weights,output_bias}.
  public static func tensorNames(configuration c: IterativeAttentionConfiguration, layer l: Int) -> [String] {
    let p = "layers.\(l)."
    var names: [String] = []
    if c.layerNorm { names += [p + "attention_norm.gain", p + "attention_norm.bias"] }
    if c.layerNorm && c.hasFeedForward(layer: l) {
      names += [p + "feed_forward_norm.gain", p + "feed_forward_norm.bias"]
    }
    if c.hasFeedForward(layer: l) {
      names += ["input_weights", "input_bias", "output_weights", "output_bias"].map { p + "feed_forward." + $0 }
    }
    return names
  }

  /// The shapes of ``tensorNames(configuration:layer:)``, in the same order.
  public static func tensorShapes(configuration c: IterativeAttentionConfiguration, layer l: Int) -> [[Int]] {
    let w = c.width, h = c.feedForwardWidth
    var shapes: [[Int]] = []
    if c.layerNorm { shapes += [[1, w], [1, w]] }
    if c.layerNorm && c.hasFeedForward(layer: l) { shapes += [[1, w], [1, w]] }
    if c.hasFeedForward(layer: l) { shapes += [[w, h], [1, h], [h, w], [1, w]] }
    return shapes
  }

  /// The same block with `parameters` (order and shapes of ``parameters``) taken from the front of
  /// `values`, which loses them.
  mutating func take(from values: inout ArraySlice<Matrix<Scalar>>) {
    func next(_ n: Int) -> [Matrix<Scalar>] {
      let part = Array(values.prefix(n))
      values = values.dropFirst(n)
      return part
    }
    if attentionNorm != nil { attentionNorm!.parameters = next(2) }
    if feedForwardNorm != nil { feedForwardNorm!.parameters = next(2) }
    if feedForward != nil { feedForward!.parameters = next(4) }
  }

  /// Zero gradients of the same shapes.
  func zeroGradient() -> Self {
    Self(
      attentionNorm: attentionNorm?.zeroGradient(), feedForwardNorm: feedForwardNorm?.zeroGradient(),
      feedForward: feedForward?.zeroGradient())
  }

  /// Checks that the block has exactly the sublayers layer `l` of `c` needs, of the right widths
  /// and finite.
  func validate(configuration c: IterativeAttentionConfiguration, layer l: Int) throws(ModelError) {
    let ff = c.hasFeedForward(layer: l)
    guard (attentionNorm != nil) == c.layerNorm, (feedForwardNorm != nil) == (c.layerNorm && ff),
      (feedForward != nil) == ff
    else {
      throw .invalidParameter(
        name: "layer \(l) blocks",
        value:
          "LN₁ \(attentionNorm != nil), LN₂ \(feedForwardNorm != nil), feed-forward \(feedForward != nil)",
        requirement: "the sublayers the configuration asks for (layerNorm \(c.layerNorm), feed-forward \(ff))")
    }
    if let n = attentionNorm, n.width != c.width {
      throw .invalidParameter(name: "layer \(l) LN₁ width", value: "\(n.width)", requirement: "\(c.width)")
    }
    if let n = feedForwardNorm, n.width != c.width {
      throw .invalidParameter(name: "layer \(l) LN₂ width", value: "\(n.width)", requirement: "\(c.width)")
    }
    if let f = feedForward, f.width != c.width || f.hidden != c.feedForwardWidth {
      throw .invalidParameter(
        name: "layer \(l) feed-forward", value: "\(f.width) → \(f.hidden)",
        requirement: "\(c.width) → \(c.feedForwardWidth)")
    }
    guard parameters.allSatisfy(\.isFinite) else {
      throw .invalidParameter(name: "layer \(l) blocks", value: "non-finite", requirement: "finite")
    }
  }
}
