import AttractorCore
import AttractorLinearAlgebra

/// One pre-LayerNorm transformer block: x ← x + MHSA(LN₁(x)); x ← x + FFN(LN₂(x)).
public struct VisionTransformerBlock<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// LN₁, before the self-attention.
  public var attentionNorm: LayerNormalization<Scalar>
  /// The multi-head self-attention.
  public var attention: MultiHeadSelfAttention<Scalar>
  /// LN₂, before the feed-forward layer.
  public var feedForwardNorm: LayerNormalization<Scalar>
  /// The feed-forward layer (GELU).
  public var feedForward: FeedForwardLayer<Scalar>

  /// The parameters in a fixed order: LN₁ (gain, bias), MHSA (4), LN₂ (gain, bias), FFN (4).
  public var parameters: [Matrix<Scalar>] {
    get { attentionNorm.parameters + attention.parameters + feedForwardNorm.parameters + feedForward.parameters }
    set {
      precondition(newValue.count == Self.parameterCount, "VisionTransformerBlock: twelve matrices")
      attentionNorm.parameters = Array(newValue[0..<2])
      attention.parameters = Array(newValue[2..<6])
      feedForwardNorm.parameters = Array(newValue[6..<8])
      feedForward.parameters = Array(newValue[8..<12])
    }
  }

  /// Matrices per block.
  public static var parameterCount: Int { 12 }

  /// Names of ``parameters``, in order.
  public static var parameterNames: [String] {
    [
      "attention_norm.gain", "attention_norm.bias", "attention.qkv_weight", "attention.qkv_bias",
      "attention.output_weight", "attention.output_bias", "feed_forward_norm.gain", "feed_forward_norm.bias",
      "feed_forward.input_weight", "feed_forward.input_bias", "feed_forward.output_weight",
      "feed_forward.output_bias",
    ]
  }

}

/// A small vision transformer classifier for square grey images, optionally with the Associative
/// Transformer's global-workspace layer (``GlobalWorkspaceLayer``) inserted between two blocks (the
/// AiT); forward and hand-written backward passes on preallocated buffers, generic over Float
/// (training) and Double (finite-difference tests).
///
/// For an image cut into N patches of p² pixels (rows of P, N × p²):
///
/// ```
/// x⁰ = P W_p + 1 b_p + Π                         patch embedding plus learned positions Π (N × E)
/// for each block l:  x ← x + MHSA(LN₁(x));  x ← x + FFN(LN₂(x))          (pre-LayerNorm)
///   after block `workspaceAfterBlock` (AiT only): x ← GlobalWorkspaceLayer(x) = x + Ξᵀ
/// z = LN_f(mean over the N tokens of x)          mean pooling
/// logits = z W_h + b_h,  loss = mean over images of −log softmax(logits)[label]  (+ L_bal for AiT)
/// ```
///
/// Properties relied on: the gradient of the loss with respect to every parameter is exact (checked
/// by central finite differences in the tests); images are independent (no batch statistics), so an
/// image's output does not depend on the rest of its batch; the workspace's memory is a state updated
/// by EMA in training (``forward(images:labels:training:workspace:)`` with `training` true), not a
/// trained weight, except with ``MemoryUpdate/gradient``: then γ is a trained parameter (in
/// ``parameters``), its rows projected back to unit length after every optimiser step.
///
/// Reference: A. Dosovitskiy et al., "An image is worth 16×16 words: transformers for image
/// recognition at scale", ICLR 2021 (the vision transformer); Y. Sun et al., "Associative
/// Transformer", arXiv:2309.12862 (the workspace layer).
public struct VisionTransformer<Scalar: LinearAlgebraScalar>: Sendable {
  /// Shape.
  public internal(set) var configuration: VisionTransformerConfiguration
  /// W_p (p² × E): the patch embedding.
  public var patchWeights: Matrix<Scalar>
  /// b_p (1 × E).
  public var patchBias: Matrix<Scalar>
  /// Π (N × E): the learned position embeddings.
  public var positions: Matrix<Scalar>
  /// The transformer blocks.
  public var blocks: [VisionTransformerBlock<Scalar>]
  /// The global-workspace layer (AiT), or `nil` for the plain transformer.
  public var workspace: GlobalWorkspaceLayer<Scalar>?
  /// LN_f, after the mean pooling.
  public var finalNorm: LayerNormalization<Scalar>
  /// W_h (E × classes): the linear head.
  public var headWeights: Matrix<Scalar>
  /// b_h (1 × classes).
  public var headBias: Matrix<Scalar>
  /// Whether the workspace's Hopfield retrieval acts (AiT only). Off, the workspace layer is skipped
  /// (Y = X): the workspace reaches the token stream only through the retrieval, so this is
  /// "retrieval removed" for a trained model at test time. (T = 0 steps would give Y = 2X, not no
  /// retrieval, so it is not used for this.)
  public var retrievalEnabled = true

  /// A seeded model: patch embedding and head N(0, 1/fan-in), positions N(0, 0.02²), biases 0,
  /// LayerNorm γ = 1, β = 0; each block and the workspace from their own derived seeds.
  ///
  /// - Throws: ``ModelError`` for an invalid configuration.
  public init(configuration c: VisionTransformerConfiguration, seed: UInt64) throws(ModelError) {
    try c.validate()
    var rng = SeededGenerator(seed: seed)
    configuration = c
    patchWeights = rng.gaussianMatrix(
      rows: c.patchPixels, columns: c.width, standardDeviation: 1 / Double(c.patchPixels).squareRoot())
    patchBias = Matrix(rows: 1, columns: c.width)
    positions = rng.gaussianMatrix(rows: c.patchCount, columns: c.width, standardDeviation: 0.02)
    var blocks: [VisionTransformerBlock<Scalar>] = []
    for l in 0..<c.depth {
      let blockSeed = seed &+ 1000 &* UInt64(l + 1)
      blocks.append(
        VisionTransformerBlock(
          attentionNorm: LayerNormalization(width: c.width, epsilon: c.layerNormEpsilon),
          attention: try MultiHeadSelfAttention(width: c.width, heads: c.heads, seed: blockSeed),
          feedForwardNorm: LayerNormalization(width: c.width, epsilon: c.layerNormEpsilon),
          feedForward: FeedForwardLayer(width: c.width, hidden: c.hidden, activation: .gelu, seed: blockSeed &+ 1)))
    }
    self.blocks = blocks
    workspace = try c.workspace.map { w throws(ModelError) in
      try GlobalWorkspaceLayer(configuration: w, seed: seed &+ 77)
    }
    finalNorm = LayerNormalization(width: c.width, epsilon: c.layerNormEpsilon)
    headWeights = rng.gaussianMatrix(
      rows: c.width, columns: c.classes, standardDeviation: 1 / Double(c.width).squareRoot())
    headBias = Matrix(rows: 1, columns: c.classes)
  }

  /// Every trainable matrix in a fixed order (for ``AdamW``, finite differences and the model
  /// folder): W_p, b_p, Π, each block's twelve, the workspace's seven (AiT), LN_f (gain, bias), W_h, b_h.
  /// The workspace's memory is not among them (it is a state; see ``GlobalWorkspaceLayer/memory``),
  /// except with ``MemoryUpdate/gradient``, where γ is trained and follows the workspace's seven as
  /// `workspace.memory` (``memoryParameterIndex``).
  public var parameters: [Matrix<Scalar>] {
    get {
      var all = [patchWeights, patchBias, positions]
      for block in blocks { all += block.parameters }
      if let workspace {
        all += workspace.parameters.all
        if trainsMemory { all.append(workspace.memory) }
      }
      return all + finalNorm.parameters + [headWeights, headBias]
    }
    set {
      precondition(newValue.count == parameters.count, "VisionTransformer: wrong number of parameter matrices")
      for (k, old) in parameters.enumerated() {
        precondition(
          newValue[k].rows == old.rows && newValue[k].columns == old.columns, "VisionTransformer: shape changed")
      }
      patchWeights = newValue[0]
      patchBias = newValue[1]
      positions = newValue[2]
      var at = 3
      for l in blocks.indices {
        blocks[l].parameters = Array(newValue[at..<(at + VisionTransformerBlock<Scalar>.parameterCount)])
        at += VisionTransformerBlock<Scalar>.parameterCount
      }
      if workspace != nil {
        workspace!.parameters.all = Array(newValue[at..<(at + 7)])
        at += 7
        if trainsMemory {
          // Unchecked: a gradient accumulator holds ∂γ here; a training step projects γ onto the sphere.
          workspace!.memory = newValue[at]
          at += 1
        }
      }
      finalNorm.parameters = Array(newValue[at..<(at + 2)])
      headWeights = newValue[at + 2]
      headBias = newValue[at + 3]
    }
  }

  /// Names of ``parameters``, in order (the tensor names of the model folder).
  public var parameterNames: [String] {
    var names = ["patch_embedding.weight", "patch_embedding.bias", "positions"]
    for l in blocks.indices { names += VisionTransformerBlock<Scalar>.parameterNames.map { "blocks.\(l).\($0)" } }
    if workspace != nil { names += GlobalWorkspaceParameters<Scalar>.names.map { "workspace.\($0)" } }
    if trainsMemory { names.append("workspace.memory") }
    return names + ["final_norm.gain", "final_norm.bias", "head.weight", "head.bias"]
  }

  /// Whether the workspace's memory γ is a trained parameter (``MemoryUpdate/gradient``).
  public var trainsMemory: Bool { workspace?.configuration.memoryUpdate == .gradient }

  /// The index of γ in ``parameters`` when it is trained (``trainsMemory``), else `nil`.
  public var memoryParameterIndex: Int? {
    trainsMemory ? 3 + blocks.count * VisionTransformerBlock<Scalar>.parameterCount + 7 : nil
  }

  /// Number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.rows * $1.columns } }

  /// All parameters zero (a gradient accumulator of the same shape).
  public func zeroGradient() -> VisionTransformer {
    var g = self
    g.parameters = parameters.map { Matrix(rows: $0.rows, columns: $0.columns) }
    return g
  }

  /// Checks a batch of images: B × (imageSize²) with B ≥ 1, finite; labels (if given) one per image in 0 ..< classes.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)``.
  public func validate(images: Matrix<Scalar>, labels: [Int]?) throws(ModelError) {
    let c = configuration
    guard images.rows >= 1, images.columns == c.pixels else {
      throw .invalidParameter(
        name: "images", value: "\(images.rows) × \(images.columns)",
        requirement: "B × \(c.pixels) (one \(c.imageSize) × \(c.imageSize) image per row, B ≥ 1)")
    }
    guard images.isFinite else {
      throw .invalidParameter(name: "images", value: "non-finite entries", requirement: "finite")
    }
    if let labels {
      guard labels.count == images.rows else {
        throw .invalidParameter(name: "labels", value: "\(labels.count)", requirement: "one per image (\(images.rows))")
      }
      if let bad = labels.first(where: { $0 < 0 || $0 >= c.classes }) {
        throw .invalidParameter(name: "labels", value: "\(bad)", requirement: "in 0 ..< \(c.classes)")
      }
    }
  }
}
