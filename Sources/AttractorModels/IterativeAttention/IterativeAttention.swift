import AttractorCore
import AttractorLinearAlgebra
import Synchronization

/// Shape of an ``IterativeAttention`` stack.
public struct IterativeAttentionConfiguration: Sendable, Equatable, Codable {
  /// Number of attention layers applied in sequence in one step.
  public var layers: Int
  /// Heads per layer; `width` must be a multiple of it.
  public var heads: Int
  /// Model width d (dimension of queries, keys and values).
  public var width: Int
  /// Temperature τ: logits are scaled by 1/(τ √d_head).
  public var temperature: Double
  /// Residual connections around each layer's attention (and feed-forward) sublayer:
  /// x ← x + Attn(·). Off in seed 000's stack.
  public var residual: Bool
  /// Pre-LayerNorm: each sublayer reads LN(x) instead of x (Xiong et al., arXiv:2002.04745).
  public var layerNorm: Bool
  /// Hidden width of a feed-forward sublayer (GELU) after each attention sublayer; 0 for none.
  public var feedForwardWidth: Int
  /// What one step returns after the last layer (see ``Readout``).
  public var readout: Readout

  /// The output of one step.
  public enum Readout: String, Sendable, Codable, CaseIterable {
    /// The last layer's output, [o₁ … o_H] W_O (plus its residual and feed-forward sublayers):
    /// seed 000's stack.
    case projection
    /// The convex mixture p̄ V of the stored values under the last layer's attention weights
    /// averaged over heads, p̄ = (1/H) Σₕ pₕ; the last layer's W_V and W_O (and any feed-forward
    /// sublayer of that layer) are not used. Retrieval training puts its cross-entropy on p̄.
    case mixture
  }

  public init(
    layers: Int, heads: Int, width: Int, temperature: Double = 1, residual: Bool = false, layerNorm: Bool = false,
    feedForwardWidth: Int = 0, readout: Readout = .projection
  ) {
    self.layers = layers
    self.heads = heads
    self.width = width
    self.temperature = temperature
    self.residual = residual
    self.layerNorm = layerNorm
    self.feedForwardWidth = feedForwardWidth
    self.readout = readout
  }

  /// Whether this is seed 000's plain stack (no residual, LayerNorm or feed-forward sublayer;
  /// projection readout), which has the fast forward pass and the closed-form Jacobian.
  public var isPlain: Bool { !residual && !layerNorm && feedForwardWidth == 0 && readout == .projection }

  /// Whether layer `l` has a feed-forward sublayer (not the last layer under the mixture readout).
  public func hasFeedForward(layer l: Int) -> Bool {
    feedForwardWidth > 0 && !(readout == .mixture && l == layers - 1)
  }

  /// d_head = width / heads.
  public var headWidth: Int { width / max(1, heads) }

  /// The logit scale 1/(τ √d_head).
  public var logitScale: Double { 1 / (temperature * Double(headWidth).squareRoot()) }

  func validate() throws(ModelError) {
    guard layers >= 1 else { throw .invalidParameter(name: "layers", value: "\(layers)", requirement: "at least 1") }
    guard heads >= 1 else { throw .invalidParameter(name: "heads", value: "\(heads)", requirement: "at least 1") }
    guard width >= 1 && width % heads == 0 else {
      throw .invalidParameter(name: "width", value: "\(width)", requirement: "a positive multiple of heads (\(heads))")
    }
    guard temperature.isFinite && temperature > 0 else {
      throw .invalidParameter(name: "temperature", value: "\(temperature)", requirement: "finite and positive")
    }
    guard feedForwardWidth >= 0 else {
      throw .invalidParameter(name: "feedForwardWidth", value: "\(feedForwardWidth)", requirement: "at least 0")
    }
  }

  private enum CodingKeys: String, CodingKey {
    case layers, heads, width, temperature, residual, layerNorm, feedForwardWidth, readout
  }

  /// Decodes a configuration; the block options, absent from folders written before they existed,
  /// default to seed 000's plain stack.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
      width: try c.decode(Int.self, forKey: .width), temperature: try c.decode(Double.self, forKey: .temperature),
      residual: try c.decodeIfPresent(Bool.self, forKey: .residual) ?? false,
      layerNorm: try c.decodeIfPresent(Bool.self, forKey: .layerNorm) ?? false,
      feedForwardWidth: try c.decodeIfPresent(Int.self, forKey: .feedForwardWidth) ?? 0,
      readout: try c.decodeIfPresent(Readout.self, forKey: .readout) ?? .projection)
  }
}

/// The four projections of one attention layer, each `width × width`, acting on row vectors.
public struct AttentionLayerParameters<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// W_Q: z = q W_Q.
  public var query: Matrix<Scalar>
  /// W_K: projected keys K W_K.
  public var key: Matrix<Scalar>
  /// W_V: projected values V W_V.
  public var value: Matrix<Scalar>
  /// W_O: output = concat(heads) W_O.
  public var output: Matrix<Scalar>

  public init(query: Matrix<Scalar>, key: Matrix<Scalar>, value: Matrix<Scalar>, output: Matrix<Scalar>) {
    self.query = query
    self.key = key
    self.value = value
    self.output = output
  }

  /// Identity projections.
  public static func identity(width: Int) -> Self {
    Self(query: .identity(width), key: .identity(width), value: .identity(width), output: .identity(width))
  }

  var all: [Matrix<Scalar>] { [query, key, value, output] }
}

/// A stack of multi-head attention layers over a fixed memory of keys and values, applied as an
/// update rule at test time: one step is one pass through the whole stack.
///
/// For layer l with projections W_Q, W_K, W_V, W_O and heads h = 1…H of width d_h = d/H:
///
/// ```
/// z_h   = q W_Q[:, h]                    (1 × d_h; the head's columns of W_Q)
/// p_h   = softmax(s · z_h (K W_K[:, h])ᵀ),   s = 1/(τ √d_h)      (1 × M)
/// o_h   = p_h (V W_V[:, h])              (1 × d_h)
/// f_l(q) = [o_1 … o_H] W_O               (1 × d)
/// f(q)  = f_L(… f_1(q))
/// ```
///
/// Mathematical properties:
/// - With one layer, one head and identity projections, f(q) = V softmax(s K q) with s = 1/(τ√d):
///   the modern Hopfield update with β = s and patterns K = V (Ramsauer et al.).
/// - The Jacobian is the chain-rule product J = J_L ⋯ J_1 of the layers' Jacobians, each
///   J_l = Σ_h W_O[h]ᵀ (V W_V[:, h])ᵀ (diag p_h − p_h p_hᵀ) s (K W_K[:, h]) W_Q[:, h]ᵀ;
///   in general it is not symmetric (separate query and key projections), so its eigenvalues may
///   be complex.
/// - ``diagnosticEnergy(_:into:workspace:)`` reports the diagnostic energy of seed 000,
///   E(q) = −log Σᵢ exp(q·kᵢ/√d) on the raw keys. The update does not descend it (not even in the
///   Hopfield case above, which descends lse plus a quadratic term), so the stack is not
///   ``/AttractorCore/EnergyDescending``: dynamics record no energies for it, and studies report none.
///
/// One step of a batch of B queries costs, per layer, three GEMMs of B × d × d or B × M × d and a
/// row softmax per head, on buffers preallocated in the ``Workspace``; the projected memory K W_K,
/// V W_V is computed once per workspace.
///
/// References: Vaswani et al., "Attention Is All You Need" (2017); Ramsauer et al., arXiv:2008.02217;
/// "Associative retrieval as test-time optimization in transformer attention" (seed 000).
public struct IterativeAttention<Scalar: LinearAlgebraScalar>: LinearizableUpdateRule, AssociativeMemory {
  public let configuration: IterativeAttentionConfiguration
  /// Memory keys, one per row (M × d).
  public let keys: Matrix<Scalar>
  /// Memory values, one per row (M × d).
  public let values: Matrix<Scalar>
  /// Parameters of each layer, first applied first.
  public let layers: [AttentionLayerParameters<Scalar>]
  /// The LayerNorm and feed-forward sublayers of each layer (``IterativeAttentionBlock``); empty
  /// blocks for seed 000's plain stack.
  public let blocks: [IterativeAttentionBlock<Scalar>]
  /// K W_K and V W_V of every layer, computed on first use and shared by every workspace and
  /// Jacobian of this model (and its copies).
  let projection = ProjectedMemory<Scalar>()

  /// A stack over the memory `keys`/`values` with the given layer parameters.
  ///
  /// `blocks` holds the LayerNorm and feed-forward sublayers the configuration asks for; `nil`
  /// gives ``IterativeAttentionBlock/initial(configuration:seed:)`` with seed 0.
  ///
  /// - Throws: ``ModelError`` for an invalid configuration, an empty or non-finite memory, keys and
  ///   values of different shapes, a layer whose projections are not `width × width` or not finite,
  ///   or blocks that do not match the configuration.
  public init(
    configuration: IterativeAttentionConfiguration, keys: Matrix<Scalar>, values: Matrix<Scalar>,
    layers: [AttentionLayerParameters<Scalar>], blocks: [IterativeAttentionBlock<Scalar>]? = nil
  ) throws(ModelError) {
    try configuration.validate()
    try ModelError.validatePatterns(keys)
    try ModelError.validatePatterns(values)
    let d = configuration.width
    guard keys.columns == d, values.rows == keys.rows, values.columns == d else {
      throw .invalidParameter(
        name: "memory", value: "keys \(keys.rows) × \(keys.columns), values \(values.rows) × \(values.columns)",
        requirement: "keys and values of the same shape M × \(d)")
    }
    guard layers.count == configuration.layers else {
      throw .invalidParameter(
        name: "layers", value: "\(layers.count) parameter sets", requirement: "\(configuration.layers)")
    }
    for (l, layer) in layers.enumerated() {
      for m in layer.all {
        guard m.rows == d && m.columns == d else {
          throw .invalidParameter(
            name: "layer \(l) projection", value: "\(m.rows) × \(m.columns)", requirement: "\(d) × \(d)")
        }
        guard m.isFinite else {
          throw .invalidParameter(name: "layer \(l) projection", value: "non-finite", requirement: "finite")
        }
      }
    }
    let blocks = blocks ?? IterativeAttentionBlock.initial(configuration: configuration, seed: 0)
    guard blocks.count == configuration.layers else {
      throw .invalidParameter(
        name: "blocks", value: "\(blocks.count) blocks", requirement: "one per layer (\(configuration.layers))")
    }
    for (l, block) in blocks.enumerated() { try block.validate(configuration: configuration, layer: l) }
    self.configuration = configuration
    self.keys = keys
    self.values = values
    self.layers = layers
    self.blocks = blocks
  }

  /// Identity projections in every layer.
  public static func identity(
    configuration: IterativeAttentionConfiguration, keys: Matrix<Scalar>, values: Matrix<Scalar>
  ) throws(ModelError) -> Self {
    try Self(
      configuration: configuration, keys: keys, values: values,
      layers: Array(repeating: .identity(width: configuration.width), count: max(0, configuration.layers)))
  }

  /// Projections drawn from N(0, 1/d) (variance-preserving), seeded.
  public static func random(
    configuration: IterativeAttentionConfiguration, keys: Matrix<Scalar>, values: Matrix<Scalar>,
    generator: inout SeededGenerator
  ) throws(ModelError) -> Self {
    let d = configuration.width
    let sd = 1 / Double(max(1, d)).squareRoot()
    var layers: [AttentionLayerParameters<Scalar>] = []
    for _ in 0..<max(0, configuration.layers) {
      layers.append(
        AttentionLayerParameters(
          query: generator.gaussianMatrix(rows: d, columns: d, standardDeviation: sd),
          key: generator.gaussianMatrix(rows: d, columns: d, standardDeviation: sd),
          value: generator.gaussianMatrix(rows: d, columns: d, standardDeviation: sd),
          output: generator.gaussianMatrix(rows: d, columns: d, standardDeviation: sd)))
    }
    // Blocks (LayerNorm, feed-forward) only for stacks that have them: LayerNorm gains and biases
    // are drawn near 1 and 0 so that tests see every parameter matter.
    var blocks: [IterativeAttentionBlock<Scalar>]? = nil
    if !configuration.isPlain {
      var made = IterativeAttentionBlock<Scalar>.initial(configuration: configuration, seed: generator.next())
      for l in made.indices {
        for norm in [\IterativeAttentionBlock<Scalar>.attentionNorm, \.feedForwardNorm]
        where made[l][keyPath: norm] != nil {
          made[l][keyPath: norm]!.gain =
            Matrix<Scalar>(rows: 1, columns: d, repeating: 1)
            + generator.gaussianMatrix(rows: 1, columns: d, standardDeviation: 0.2)
          made[l][keyPath: norm]!.bias = generator.gaussianMatrix(rows: 1, columns: d, standardDeviation: 0.2)
        }
      }
      blocks = made
    }
    return try Self(configuration: configuration, keys: keys, values: values, layers: layers, blocks: blocks)
  }

  public var dimension: Int { configuration.width }
  /// Memory size M.
  public var memorySize: Int { keys.rows }
  /// The stored keys (for retrieval accuracy and analysis).
  public var patterns: Matrix<Scalar> { keys }

  /// The per-layer buffers of a forward pass over a batch: projected queries, the attention
  /// weights of every head, and the concatenated head outputs.
  struct LayerBuffers: Sendable {
    var queries: Matrix<Scalar>  // B × d, q W_Q
    var weights: [Matrix<Scalar>]  // per head, B × M
    var heads: Matrix<Scalar>  // B × d, concatenated head outputs

    init(batch: Int, width d: Int, memory m: Int, headCount: Int) {
      queries = Matrix(rows: batch, columns: d)
      weights = Array(repeating: Matrix(rows: batch, columns: m), count: headCount)
      heads = Matrix(rows: batch, columns: d)
    }
  }

  /// Buffers for a batch: the projected memory of each layer, one set of per-layer buffers
  /// (projected queries, attention weights of every head, concatenated head outputs), and the
  /// input of each layer after the first.
  public struct Workspace: Sendable {
    /// K W_K and V W_V per layer (M × d), computed once.
    var projectedKeys: [Matrix<Scalar>]
    var projectedValues: [Matrix<Scalar>]
    var buffers: LayerBuffers
    var layerInputs: [Matrix<Scalar>]  // input of layers 2…L (B × d)
    var diagnosticLogits: Matrix<Scalar>  // B × M
    var step: StepActivations? = nil  // the general forward pass (stacks that are not plain)

    mutating func fit(batch: Int, width d: Int, memory m: Int, headCount: Int, layerCount: Int) {
      if buffers.queries.rows == batch { return }
      buffers = LayerBuffers(batch: batch, width: d, memory: m, headCount: headCount)
      layerInputs = Array(repeating: Matrix(rows: batch, columns: d), count: max(0, layerCount - 1))
      diagnosticLogits = Matrix(rows: batch, columns: m)
    }
  }

  /// K W_K and V W_V of every layer (M × d each), computed once per model.
  var projectedMemory: (keys: [Matrix<Scalar>], values: [Matrix<Scalar>]) {
    projection.value {
      (layers.map { keys.multiplied(by: $0.key) }, layers.map { values.multiplied(by: $0.value) })
    }
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    let d = dimension, m = memorySize, h = configuration.heads
    let projected = projectedMemory
    var w = Workspace(
      projectedKeys: projected.keys,
      projectedValues: projected.values,
      buffers: LayerBuffers(batch: 0, width: d, memory: m, headCount: h), layerInputs: [],
      diagnosticLogits: Matrix(rows: 0, columns: m))
    w.fit(batch: batchSize, width: d, memory: m, headCount: h, layerCount: layers.count)
    return w
  }

  /// One layer: `output ← f_l(input)`, leaving the attention weights of each head in the workspace.
  func applyLayer(
    _ l: Int, input: Matrix<Scalar>, output: inout Matrix<Scalar>, workspace: inout Workspace
  ) {
    applyLayer(
      l, input: input, output: &output, buffers: &workspace.buffers, projectedKeys: workspace.projectedKeys[l],
      projectedValues: workspace.projectedValues[l])
  }

  /// One layer on explicit buffers: Z = X W_Q; per head Pₕ = softmax(s Zₕ (K W_K)ₕᵀ) and
  /// Oₕ = Pₕ (V W_V)ₕ, each a strided GEMM on the head's column block; Y = O W_O.
  func applyLayer(
    _ l: Int, input: Matrix<Scalar>, output: inout Matrix<Scalar>, buffers: inout LayerBuffers,
    projectedKeys: Matrix<Scalar>, projectedValues: Matrix<Scalar>
  ) {
    let b = input.rows, d = dimension, m = memorySize, dh = configuration.headWidth
    attentionWeights(l, input: input, buffers: &buffers, projectedKeys: projectedKeys)
    for h in 0..<configuration.heads {
      // heads[:, h] = p_h · (V W_V)[:, h]   (B × d_h)
      buffers.weights[h].withUnsafeBufferPointer { p in
        projectedValues.withUnsafeBufferPointer { v in
          buffers.heads.withUnsafeMutableBufferPointer { o in
            Scalar.gemm(
              transposeA: false, transposeB: false, m: b, n: dh, k: m, alpha: 1,
              a: p.baseAddress!, lda: m, b: v.baseAddress! + h * dh, ldb: d,
              beta: 0, c: o.baseAddress! + h * dh, ldc: d)
          }
        }
      }
    }
    Matrix.multiply(buffers.heads, layers[l].output, into: &output)
  }

  /// The attention weights of layer `l`'s heads at `input`: Z = X W_Q into `buffers.queries` and
  /// Pₕ = softmax(s Zₕ (K W_K)ₕᵀ) into `buffers.weights[h]`.
  func attentionWeights(
    _ l: Int, input: Matrix<Scalar>, buffers: inout LayerBuffers, projectedKeys: Matrix<Scalar>
  ) {
    let b = input.rows, d = dimension, m = memorySize, dh = configuration.headWidth
    let scale = Scalar(configuration.logitScale)
    Matrix.multiply(input, layers[l].query, into: &buffers.queries)
    for h in 0..<configuration.heads {
      // logits_h = s · Z[:, h] · (K W_K)[:, h]ᵀ   (B × M), on column blocks of width d_h.
      buffers.queries.withUnsafeBufferPointer { z in
        projectedKeys.withUnsafeBufferPointer { k in
          buffers.weights[h].withUnsafeMutableBufferPointer { a in
            Scalar.gemm(
              transposeA: false, transposeB: true, m: b, n: m, k: dh, alpha: scale,
              a: z.baseAddress! + h * dh, lda: d, b: k.baseAddress! + h * dh, ldb: d,
              beta: 0, c: a.baseAddress!, ldc: m)
          }
        }
      }
      buffers.weights[h].softmaxRows()
    }
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    if !configuration.isPlain {
      generalUpdate(states, into: &next, workspace: &workspace)
      return
    }
    workspace.fit(
      batch: states.rows, width: dimension, memory: memorySize, headCount: configuration.heads, layerCount: layers.count
    )
    let count = layers.count
    if count == 1 {
      applyLayer(0, input: states, output: &next, workspace: &workspace)
      return
    }
    var buffers = workspace.layerInputs
    workspace.layerInputs = []
    applyLayer(0, input: states, output: &buffers[0], workspace: &workspace)
    for l in 1..<count {
      if l == count - 1 {
        applyLayer(l, input: buffers[l - 1], output: &next, workspace: &workspace)
      } else {
        let input = buffers[l - 1]
        applyLayer(l, input: input, output: &buffers[l], workspace: &workspace)
      }
    }
    workspace.layerInputs = buffers
  }

  /// E(q) = −log Σᵢ exp(q·kᵢ/√d) on the raw keys (seed 000's diagnostic energy), for each row.
  ///
  /// A diagnostic only: the update does not descend it, and it can rise along the dynamics.
  public func diagnosticEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    workspace.fit(
      batch: states.rows, width: dimension, memory: memorySize, headCount: configuration.heads, layerCount: layers.count
    )
    let m = memorySize
    Matrix.multiply(
      states, keys, transposeB: true, alpha: 1 / Scalar(dimension).squareRoot(), into: &workspace.diagnosticLogits)
    workspace.diagnosticLogits.withUnsafeBufferPointer { z in
      for r in 0..<states.rows { energies[r] = Scalar(-Scalar.logSumExp(z.baseAddress! + r * m, count: m)) }
    }
  }

  /// Attention of the first layer's heads, averaged over heads (B × M): how strongly each state
  /// draws on each memory entry.
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var workspace = makeWorkspace(batchSize: states.rows)
    var out = Matrix<Scalar>(rows: states.rows, columns: dimension)
    applyLayer(0, input: states, output: &out, workspace: &workspace)
    var mean = Matrix<Scalar>(rows: states.rows, columns: memorySize)
    let inv = 1 / Scalar(configuration.heads)
    let count = states.rows * memorySize
    if count == 0 { return mean }
    mean.withUnsafeMutableBufferPointer { out in
      for w in workspace.buffers.weights {
        w.withUnsafeBufferPointer { p in
          Scalar.axpy(n: count, alpha: inv, x: p.baseAddress!, incx: 1, y: out.baseAddress!, incy: 1)
        }
      }
    }
    return mean
  }

  /// J = J_L ⋯ J_1 at `state`, by the chain rule (see the type's documentation and
  /// ``jacobians(at:)``).
  public func jacobian(at state: [Scalar]) -> Matrix<Scalar> {
    precondition(state.count == dimension, "jacobian: state has \(state.count) entries, needs \(dimension)")
    let d = dimension
    return Matrix(rows: d, columns: d, elements: jacobians(at: Matrix(rows: 1, columns: d, elements: state)).elements)
  }
}

/// The projected memory of an ``IterativeAttention`` model, computed on first use (a model loaded
/// in one precision and analysed in another never projects the first).
final class ProjectedMemory<Scalar: LinearAlgebraScalar>: Sendable {
  private let storage = Mutex<(keys: [Matrix<Scalar>], values: [Matrix<Scalar>])?>(nil)

  init() {}

  /// The stored projection, or `make()`'s result stored and returned.
  func value(
    _ make: () -> (keys: [Matrix<Scalar>], values: [Matrix<Scalar>])
  ) -> (keys: [Matrix<Scalar>], values: [Matrix<Scalar>]) {
    storage.withLock { stored in
      if let stored { return stored }
      let made = make()
      stored = made
      return made
    }
  }
}
