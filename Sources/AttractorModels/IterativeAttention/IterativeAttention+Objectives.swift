import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// What an ``IterativeAttention`` stack is trained to do (issue 17's second test of seed 000).
///
/// For a batch of B corrupted cues qᵣ with targets tᵣ (stored pattern number μᵣ):
///
/// ```
/// regression            L = (1/2B) Σᵣ ‖f(qᵣ) − tᵣ‖²                 one step (the first test's objective)
/// retrieval             L = −(1/B) Σᵣ log p̄ᵣ[μᵣ],  p̄ = (1/H) Σₕ pₕ   cross-entropy of the LAST layer's attention
///                                                                  weights, averaged over heads, toward the
///                                                                  target's memory slot (mixture readout)
/// unrolledRegression(k) L = (1/2B) Σᵣ ‖fᵏ(qᵣ) − tᵣ‖²                the state after k unrolled steps (departs
///                                                                  from seed 000, which trains one step)
/// ```
///
/// Retrieval needs the ``IterativeAttentionConfiguration/Readout/mixture`` readout, so that one
/// step returns the convex mixture p̄ V that further steps can sharpen.
public enum IterativeAttentionObjective: Sendable, Hashable, Codable, CustomStringConvertible {
  case regression
  case retrieval
  case unrolledRegression(steps: Int)

  /// Steps the loss unrolls (1 for one-step objectives).
  public var unrolledSteps: Int {
    if case .unrolledRegression(let k) = self { return k }
    return 1
  }

  /// Short name used in tables and on the command line: regression, retrieval, unrolled-k.
  public var name: String {
    switch self {
    case .regression: "regression"
    case .retrieval: "retrieval"
    case .unrolledRegression(let k): "unrolled-\(k)"
    }
  }

  /// The objective named `name` (``name``), or nil.
  public init?(name: String) {
    switch name {
    case "regression": self = .regression
    case "retrieval": self = .retrieval
    default:
      guard name.hasPrefix("unrolled-"), let k = Int(name.dropFirst("unrolled-".count)), k >= 1 else { return nil }
      self = .unrolledRegression(steps: k)
    }
  }

  public var description: String {
    switch self {
    case .regression: "one-step regression ½‖f(q) − t‖²"
    case .retrieval: "retrieval: cross-entropy of the last layer's head-averaged attention toward the target slot"
    case .unrolledRegression(let k): "regression after \(k) unrolled steps ½‖f^\(k)(q) − t‖² (departs from seed 000)"
    }
  }

  /// Checks that the objective fits the configuration.
  public func validate(for configuration: IterativeAttentionConfiguration) throws(ModelError) {
    if case .unrolledRegression(let k) = self, k < 1 {
      throw .invalidParameter(name: "unrolled steps", value: "\(k)", requirement: "at least 1")
    }
    if self == .retrieval && configuration.readout != .mixture {
      throw .invalidParameter(
        name: "readout", value: configuration.readout.rawValue, requirement: "mixture for the retrieval objective")
    }
  }
}

/// Gradients of an objective with respect to every parameter of an ``IterativeAttention`` stack,
/// in the shapes of the stack's own parameters.
public struct IterativeAttentionGradients<Scalar: LinearAlgebraScalar>: Sendable {
  /// ∂L/∂(W_Q, W_K, W_V, W_O) of each layer.
  public var layers: [AttentionLayerParameters<Scalar>]
  /// ∂L/∂ of each layer's LayerNorm and feed-forward parameters.
  public var blocks: [IterativeAttentionBlock<Scalar>]

  /// Every gradient in the order of ``IterativeAttention/parameters``.
  public var all: [Matrix<Scalar>] { zip(layers, blocks).flatMap { $0.all + $1.parameters } }

  mutating func zero() {
    blocks = blocks.map { $0.zeroGradient() }
    for l in layers.indices {
      for k in 0..<4 {
        switch k {
        case 0: layers[l].query.zeroAll()
        case 1: layers[l].key.zeroAll()
        case 2: layers[l].value.zeroAll()
        default: layers[l].output.zeroAll()
        }
      }
    }
  }
}

extension Matrix {
  /// Sets every element to zero, reusing storage.
  mutating func zeroAll() {
    withUnsafeMutableBufferPointer { p in
      if let base = p.baseAddress { base.update(repeating: 0, count: p.count) }
    }
  }

  /// `self += alpha · other` (same shape), one BLAS axpy.
  mutating func add(_ other: Matrix, scaledBy alpha: Scalar = 1) {
    precondition(other.rows == rows && other.columns == columns, "add: shapes differ")
    let n = rows * columns
    if n == 0 { return }
    other.withUnsafeBufferPointer { x in
      withUnsafeMutableBufferPointer { y in
        Scalar.axpy(n: n, alpha: alpha, x: x.baseAddress!, incx: 1, y: y.baseAddress!, incy: 1)
      }
    }
  }
}

extension IterativeAttention {
  // MARK: Parameters

  /// Every parameter, layer by layer: W_Q, W_K, W_V, W_O, then the layer's block
  /// (``IterativeAttentionBlock/parameters``: LN₁, LN₂, feed-forward, those present).
  public var parameters: [Matrix<Scalar>] { zip(layers, blocks).flatMap { $0.all + $1.parameters } }

  /// Whether the forward pass uses each entry of ``parameters``: under the mixture readout the last
  /// layer's W_V and W_O are not used (training leaves them at their initial values).
  public var parameterIsUsed: [Bool] {
    var used: [Bool] = []
    for l in layers.indices {
      let mixtureLayer = configuration.readout == .mixture && l == layers.count - 1
      used += [true, true, !mixtureLayer, !mixtureLayer]
      used += Array(repeating: true, count: blocks[l].parameters.count)
    }
    return used
  }

  /// The same stack with `parameters` in the order of ``parameters``.
  ///
  /// - Throws: ``ModelError`` for a wrong count or shapes, or non-finite values.
  public func replacingParameters(_ parameters: [Matrix<Scalar>]) throws(ModelError) -> Self {
    let current = self.parameters
    guard parameters.count == current.count,
      zip(parameters, current).allSatisfy({ $0.rows == $1.rows && $0.columns == $1.columns })
    else {
      throw .invalidParameter(
        name: "parameters", value: "\(parameters.count) matrices",
        requirement: "\(current.count) in the shapes of the stack's parameters")
    }
    var rest = parameters[...]
    var newLayers: [AttentionLayerParameters<Scalar>] = []
    var newBlocks = blocks
    for l in layers.indices {
      let p = Array(rest.prefix(4))
      rest = rest.dropFirst(4)
      newLayers.append(AttentionLayerParameters(query: p[0], key: p[1], value: p[2], output: p[3]))
      newBlocks[l].take(from: &rest)
    }
    return try Self(configuration: configuration, keys: keys, values: values, layers: newLayers, blocks: newBlocks)
  }

  /// Zero gradients in the shapes of the parameters.
  public func zeroObjectiveGradients() -> IterativeAttentionGradients<Scalar> {
    IterativeAttentionGradients(layers: zeroGradients(), blocks: blocks.map { $0.zeroGradient() })
  }

  // MARK: The general forward pass

  /// The activations of one application of the stack (one step) to a batch, kept for the backward
  /// pass: each layer's input, its attention buffers and attention output, the step's output and,
  /// under the mixture readout, the last layer's head-averaged weights p̄.
  public struct StepActivations: Sendable {
    let batch: Int
    var inputs: [Matrix<Scalar>]  // x_l, B × d
    var normalized: [Matrix<Scalar>]  // a_l = LN₁(x_l) (LayerNorm only)
    var attention: [LayerBuffers]
    var attentionOutputs: [Matrix<Scalar>]  // y_l = Attn_l(a_l), B × d
    var hidden: [Matrix<Scalar>]  // h_l = x_l + y_l or y_l (feed-forward only)
    var feedForwardInputs: [Matrix<Scalar>]  // b_l = LN₂(h_l) (LayerNorm and feed-forward)
    var feedForwardOutputs: [Matrix<Scalar>]  // FF(b_l) (feed-forward only)
    var attentionNormCaches: [LayerNormalization<Scalar>.Cache]
    var feedForwardNormCaches: [LayerNormalization<Scalar>.Cache]
    var feedForwardCaches: [FeedForwardLayer<Scalar>.Cache]
    var output: Matrix<Scalar>  // B × d
    var meanWeights: Matrix<Scalar>  // p̄, B × M (mixture readout)
  }

  func makeStepActivations(batch b: Int) -> StepActivations {
    let d = dimension, m = memorySize, l = layers.count, h = configuration.heads
    let c = configuration
    let mixture = c.readout == .mixture
    let ff = c.feedForwardWidth > 0
    func matrices(_ on: Bool) -> [Matrix<Scalar>] { Array(repeating: Matrix(rows: on ? b : 0, columns: d), count: l) }
    let empty = LayerNormalization<Scalar>(width: max(1, d)).makeCache(batch: 0)
    let anyFeedForward = blocks.compactMap(\.feedForward).first
    return StepActivations(
      batch: b, inputs: matrices(true), normalized: matrices(c.layerNorm),
      attention: Array(repeating: LayerBuffers(batch: b, width: d, memory: m, headCount: h), count: l),
      attentionOutputs: matrices(true), hidden: matrices(ff), feedForwardInputs: matrices(ff && c.layerNorm),
      feedForwardOutputs: matrices(ff),
      attentionNormCaches: blocks.map { $0.attentionNorm?.makeCache(batch: b) ?? empty },
      feedForwardNormCaches: blocks.map { $0.feedForwardNorm?.makeCache(batch: b) ?? empty },
      feedForwardCaches: anyFeedForward.map { any in
        blocks.map { ($0.feedForward ?? any).makeCache(batch: $0.feedForward == nil ? 0 : b) }
      } ?? [],
      output: Matrix(rows: b, columns: d), meanWeights: Matrix(rows: mixture ? b : 0, columns: m))
  }

  /// One step on `x` through every layer, for any configuration:
  ///
  /// ```
  /// layer l:  a = LN₁(x),  h = x + Attn_l(a),  b = LN₂(h),  x ← h + FF(b)
  ///           (each LN, residual connection and feed-forward sublayer only when configured)
  /// last layer, mixture readout:  p̄ = (1/H) Σₕ softmax(s (a W_Q)ₕ (K W_K)ₕᵀ),  output = p̄ V
  /// ```
  func forwardStep(
    _ x: Matrix<Scalar>, activations a: inout StepActivations, projectedKeys: [Matrix<Scalar>],
    projectedValues: [Matrix<Scalar>]
  ) {
    let count = layers.count
    let residual = configuration.residual
    a.inputs[0].assign(x)
    for l in 0..<count {
      let last = l == count - 1
      let input = a.inputs[l]
      if let norm = blocks[l].attentionNorm {
        norm.forward(input, into: &a.normalized[l], cache: &a.attentionNormCaches[l])
      }
      let attentionInput = blocks[l].attentionNorm == nil ? input : a.normalized[l]
      if last && configuration.readout == .mixture {
        attentionWeights(l, input: attentionInput, buffers: &a.attention[l], projectedKeys: projectedKeys[l])
        Self.meanOfHeads(a.attention[l].weights, into: &a.meanWeights)
        Matrix.multiply(a.meanWeights, values, into: &a.output)
        return
      }
      applyLayer(
        l, input: attentionInput, output: &a.attentionOutputs[l], buffers: &a.attention[l],
        projectedKeys: projectedKeys[l], projectedValues: projectedValues[l])
      var next = Matrix<Scalar>(rows: 0, columns: 0)
      if last { swap(&next, &a.output) } else { swap(&next, &a.inputs[l + 1]) }
      if let ff = blocks[l].feedForward {
        a.hidden[l].assign(a.attentionOutputs[l])
        if residual { a.hidden[l].add(input) }
        if let norm = blocks[l].feedForwardNorm {
          norm.forward(a.hidden[l], into: &a.feedForwardInputs[l], cache: &a.feedForwardNormCaches[l])
        }
        let ffInput = blocks[l].feedForwardNorm == nil ? a.hidden[l] : a.feedForwardInputs[l]
        ff.forward(ffInput, into: &a.feedForwardOutputs[l], cache: &a.feedForwardCaches[l])
        next.assign(a.feedForwardOutputs[l])
        if residual { next.add(a.hidden[l]) }
      } else {
        next.assign(a.attentionOutputs[l])
        if residual { next.add(input) }
      }
      if last { swap(&next, &a.output) } else { swap(&next, &a.inputs[l + 1]) }
    }
  }

  /// p̄ = (1/H) Σₕ Pₕ.
  static func meanOfHeads(_ weights: [Matrix<Scalar>], into mean: inout Matrix<Scalar>) {
    mean.zeroAll()
    let inverse = 1 / Scalar(weights.count)
    for w in weights { mean.add(w, scaledBy: inverse) }
  }

  /// ``update(_:into:workspace:)`` for stacks that are not plain (``IterativeAttentionConfiguration/isPlain``).
  func generalUpdate(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    if workspace.step?.batch != states.rows { workspace.step = makeStepActivations(batch: states.rows) }
    var step = workspace.step!
    workspace.step = nil
    forwardStep(
      states, activations: &step, projectedKeys: workspace.projectedKeys, projectedValues: workspace.projectedValues)
    next.assign(step.output)
    workspace.step = step
  }

  // MARK: The general backward pass

  /// Scratch matrices of the backward pass through one step.
  struct BackwardScratch: Sendable {
    var upstream: Matrix<Scalar>  // ∂L/∂(output of the current layer), B × d
    var downstream: Matrix<Scalar>  // ∂L/∂(input of the current layer), B × d
    var headGradient: Matrix<Scalar>  // ∂L/∂O, B × d
    var queryGradient: Matrix<Scalar>  // ∂L/∂Z, B × d
    var logitGradient: Matrix<Scalar>  // ∂L/∂Pₕ, then ∂L/∂Aₕ, B × M
    var meanGradient: Matrix<Scalar>  // ∂L/∂p̄, B × M
    var keyGradient: Matrix<Scalar>  // ∂L/∂(K W_K), M × d
    var valueGradient: Matrix<Scalar>  // ∂L/∂(V W_V), M × d
    var blockGradient: Matrix<Scalar>  // ∂L/∂h or ∂L/∂b of the feed-forward sublayer, B × d
    var normGradient: Matrix<Scalar>  // ∂L/∂(LN input), B × d

    init(batch b: Int, width d: Int, memory m: Int) {
      blockGradient = Matrix(rows: b, columns: d)
      normGradient = Matrix(rows: b, columns: d)
      upstream = Matrix(rows: b, columns: d)
      downstream = Matrix(rows: b, columns: d)
      headGradient = Matrix(rows: b, columns: d)
      queryGradient = Matrix(rows: b, columns: d)
      logitGradient = Matrix(rows: b, columns: m)
      meanGradient = Matrix(rows: b, columns: m)
      keyGradient = Matrix(rows: m, columns: d)
      valueGradient = Matrix(rows: m, columns: d)
    }
  }

  /// Backward through one step: from ∂L/∂(output) (`outputGradient`, or none) and ∂L/∂p̄ of the
  /// mixture readout (`meanWeightGradient`, or none), ACCUMULATES the parameter gradients into
  /// `gradients` and leaves ∂L/∂(input) in `scratch.upstream`.
  ///
  /// Per layer with input X, Z = X W_Q, Pₕ = softmax(s Zₕ (K W_K)ₕᵀ), Oₕ = Pₕ (V W_V)ₕ, Y = O W_O:
  ///
  /// ```
  /// ∂W_O += Oᵀ ∂Y             ∂O = ∂Y W_Oᵀ
  /// ∂Pₕ = ∂Oₕ (V W_V)ₕᵀ        ∂W_V[:, h] += Vᵀ Pₕᵀ ∂Oₕ
  /// ∂Aₕ = Pₕ ⊙ (∂Pₕ − rowsum(∂Pₕ ⊙ Pₕ))
  /// ∂Zₕ = s ∂Aₕ (K W_K)ₕ      ∂W_K[:, h] += s Kᵀ ∂Aₕᵀ Zₕ
  /// ∂W_Q += Xᵀ ∂Z             ∂X = ∂Z W_Qᵀ  (+ ∂Y with residual connections)
  /// mixture readout (last layer): ∂p̄ = ∂(output) Vᵀ (+ the cross-entropy's), ∂Pₕ = ∂p̄ / H
  /// ```
  func backwardStep(
    _ a: inout StepActivations, outputGradient: Matrix<Scalar>?, meanWeightGradient: Matrix<Scalar>?,
    gradients: inout IterativeAttentionGradients<Scalar>, scratch s: inout BackwardScratch,
    projectedKeys: [Matrix<Scalar>], projectedValues: [Matrix<Scalar>]
  ) {
    let count = layers.count
    let residual = configuration.residual
    for l in stride(from: count - 1, through: 0, by: -1) {
      let input = blocks[l].attentionNorm == nil ? a.inputs[l] : a.normalized[l]
      if l == count - 1 && configuration.readout == .mixture {
        if let outputGradient {
          Matrix.multiply(outputGradient, values, transposeB: true, into: &s.meanGradient)
        } else {
          s.meanGradient.zeroAll()
        }
        if let meanWeightGradient { s.meanGradient.add(meanWeightGradient) }
        let inverseHeads = 1 / Scalar(configuration.heads)
        let meanGradient = s.meanGradient
        attentionLogitBackward(
          l, input: input, buffers: a.attention[l], scratch: &s, gradients: &gradients.layers[l],
          projectedKeys: projectedKeys[l]
        ) { _, dP in
          dP.zeroAll()
          dP.add(meanGradient, scaledBy: inverseHeads)
        }
        normBackward(l, activations: a, scratch: &s, gradients: &gradients)
        swap(&s.upstream, &s.downstream)
        continue
      }
      if l == count - 1 {
        if let outputGradient { s.upstream.assign(outputGradient) } else { s.upstream.zeroAll() }
      }
      // Feed-forward sublayer: ∂b = FFᵀ(∂y), ∂h = LN₂ᵀ(∂b) (+ ∂y with the residual connection).
      if let ff = blocks[l].feedForward {
        let ffInput = blocks[l].feedForwardNorm == nil ? a.hidden[l] : a.feedForwardInputs[l]
        ff.backward(
          s.upstream, input: ffInput, cache: &a.feedForwardCaches[l], inputGradient: &s.blockGradient,
          gradient: &gradients.blocks[l].feedForward!)
        if let norm = blocks[l].feedForwardNorm {
          norm.backward(
            s.blockGradient, cache: a.feedForwardNormCaches[l], inputGradient: &s.normGradient,
            gradient: &gradients.blocks[l].feedForwardNorm!)
          swap(&s.blockGradient, &s.normGradient)
        }
        if residual { s.blockGradient.add(s.upstream) }
        swap(&s.upstream, &s.blockGradient)
      }
      // Attention sublayer: ∂W_O, then ∂O, then per head.
      Matrix.multiply(a.attention[l].heads, s.upstream, transposeA: true, beta: 1, into: &gradients.layers[l].output)
      Matrix.multiply(s.upstream, layers[l].output, transposeB: true, into: &s.headGradient)
      let b = input.rows, d = dimension, m = memorySize, dh = configuration.headWidth
      let headGradient = s.headGradient
      var valueGradient = s.valueGradient
      s.valueGradient = Matrix(rows: 0, columns: 0)
      attentionLogitBackward(
        l, input: input, buffers: a.attention[l], scratch: &s, gradients: &gradients.layers[l],
        projectedKeys: projectedKeys[l]
      ) { h, dP in
        let offset = h * dh
        headGradient.withUnsafeBufferPointer { dO in
          projectedValues[l].withUnsafeBufferPointer { vp in
            dP.withUnsafeMutableBufferPointer { dA in
              // ∂Pₕ = ∂Oₕ (V W_V)ₕᵀ   (B × M)
              Scalar.gemm(
                transposeA: false, transposeB: true, m: b, n: m, k: dh, alpha: 1,
                a: dO.baseAddress! + offset, lda: d, b: vp.baseAddress! + offset, ldb: d,
                beta: 0, c: dA.baseAddress!, ldc: m)
            }
            a.attention[l].weights[h].withUnsafeBufferPointer { p in
              valueGradient.withUnsafeMutableBufferPointer { dV in
                // ∂(V W_V)ₕ = Pₕᵀ ∂Oₕ   (M × d_h)
                Scalar.gemm(
                  transposeA: true, transposeB: false, m: m, n: dh, k: b, alpha: 1,
                  a: p.baseAddress!, lda: m, b: dO.baseAddress! + offset, ldb: d,
                  beta: 0, c: dV.baseAddress! + offset, ldc: d)
              }
            }
          }
        }
      }
      Matrix.multiply(values, valueGradient, transposeA: true, beta: 1, into: &gradients.layers[l].value)
      s.valueGradient = valueGradient
      normBackward(l, activations: a, scratch: &s, gradients: &gradients)
      if residual { s.downstream.add(s.upstream) }
      swap(&s.upstream, &s.downstream)
    }
  }

  /// ∂x = LN₁ᵀ(∂a) in `scratch.downstream` when layer `l` has LN₁ (∂a is there before).
  private func normBackward(
    _ l: Int, activations a: StepActivations, scratch s: inout BackwardScratch,
    gradients: inout IterativeAttentionGradients<Scalar>
  ) {
    guard let norm = blocks[l].attentionNorm else { return }
    norm.backward(
      s.downstream, cache: a.attentionNormCaches[l], inputGradient: &s.normGradient,
      gradient: &gradients.blocks[l].attentionNorm!)
    swap(&s.downstream, &s.normGradient)
  }

  /// The part of a layer's backward pass shared by both readouts: `fill(h, ∂Pₕ)` writes ∂L/∂Pₕ
  /// into the given matrix; then the softmax backward pass, ∂Zₕ and ∂(K W_K)ₕ for every head,
  /// ∂W_K += Kᵀ ∂(K W_K), ∂W_Q += Xᵀ ∂Z, and ∂X = ∂Z W_Qᵀ into `scratch.downstream`.
  private func attentionLogitBackward(
    _ l: Int, input: Matrix<Scalar>, buffers: LayerBuffers, scratch s: inout BackwardScratch,
    gradients: inout AttentionLayerParameters<Scalar>, projectedKeys: Matrix<Scalar>,
    fill: (Int, inout Matrix<Scalar>) -> Void
  ) {
    let b = input.rows, d = dimension, m = memorySize, dh = configuration.headWidth
    let scale = Scalar(configuration.logitScale)
    for h in 0..<configuration.heads {
      let offset = h * dh
      fill(h, &s.logitGradient)
      buffers.weights[h].withUnsafeBufferPointer { p in
        s.logitGradient.withUnsafeMutableBufferPointer { dA in
          Scalar.softmaxBackwardInPlace(probabilities: p.baseAddress!, gradients: dA.baseAddress!, rows: b, count: m)
        }
      }
      s.logitGradient.withUnsafeBufferPointer { dA in
        projectedKeys.withUnsafeBufferPointer { kp in
          s.queryGradient.withUnsafeMutableBufferPointer { dZ in
            // ∂Zₕ = s ∂Aₕ (K W_K)ₕ   (B × d_h)
            Scalar.gemm(
              transposeA: false, transposeB: false, m: b, n: dh, k: m, alpha: scale,
              a: dA.baseAddress!, lda: m, b: kp.baseAddress! + offset, ldb: d,
              beta: 0, c: dZ.baseAddress! + offset, ldc: d)
          }
        }
        buffers.queries.withUnsafeBufferPointer { z in
          s.keyGradient.withUnsafeMutableBufferPointer { dK in
            // ∂(K W_K)ₕ = s ∂Aₕᵀ Zₕ   (M × d_h)
            Scalar.gemm(
              transposeA: true, transposeB: false, m: m, n: dh, k: b, alpha: scale,
              a: dA.baseAddress!, lda: m, b: z.baseAddress! + offset, ldb: d,
              beta: 0, c: dK.baseAddress! + offset, ldc: d)
          }
        }
      }
    }
    Matrix.multiply(keys, s.keyGradient, transposeA: true, beta: 1, into: &gradients.key)
    Matrix.multiply(input, s.queryGradient, transposeA: true, beta: 1, into: &gradients.query)
    Matrix.multiply(s.queryGradient, layers[l].query, transposeB: true, into: &s.downstream)
  }

  // MARK: Objectives

  /// Every buffer of one forward and backward pass of an objective over batches of `batchSize`:
  /// the projected memory, the activations of each unrolled step, and the backward scratch.
  public struct ObjectiveWorkspace: Sendable {
    let batchSize: Int
    var projectedKeys: [Matrix<Scalar>]
    var projectedValues: [Matrix<Scalar>]
    var steps: [StepActivations]
    var scratch: BackwardScratch
    var outputGradient: Matrix<Scalar>  // B × d
    var meanWeightGradient: Matrix<Scalar>  // B × M
  }

  /// Buffers for ``lossAndGradients(objective:queries:targets:targetIndices:workspace:gradients:)``.
  public func makeObjectiveWorkspace(objective: IterativeAttentionObjective, batchSize b: Int) -> ObjectiveWorkspace {
    let d = dimension, m = memorySize, l = layers.count
    return ObjectiveWorkspace(
      batchSize: b, projectedKeys: Array(repeating: Matrix(rows: m, columns: d), count: l),
      projectedValues: Array(repeating: Matrix(rows: m, columns: d), count: l),
      steps: (0..<max(1, objective.unrolledSteps)).map { _ in makeStepActivations(batch: b) },
      scratch: BackwardScratch(batch: b, width: d, memory: m), outputGradient: Matrix(rows: b, columns: d),
      meanWeightGradient: Matrix(rows: b, columns: m))
  }

  /// The loss of `objective` on a batch and its gradients with respect to every parameter
  /// (written into `gradients`, overwriting them), by a hand-written backward pass through every
  /// unrolled step (``IterativeAttentionObjective`` gives the losses). `targets` are the target
  /// patterns in model space (B × d), `targetIndices` their memory slots (used by retrieval).
  ///
  /// Checked against central finite differences for every parameter kind in the tests.
  public func lossAndGradients(
    objective: IterativeAttentionObjective, queries: Matrix<Scalar>, targets: Matrix<Scalar>, targetIndices: [Int],
    workspace ws: inout ObjectiveWorkspace, gradients: inout IterativeAttentionGradients<Scalar>
  ) -> Scalar {
    let b = queries.rows, d = dimension, m = memorySize
    precondition(queries.columns == d && targets.columns == d && targets.rows == b, "lossAndGradients: shapes")
    precondition(b == ws.batchSize && ws.steps.count == max(1, objective.unrolledSteps), "lossAndGradients: workspace")
    precondition(objective != .retrieval || targetIndices.count == b, "lossAndGradients: one target slot per query")
    for l in layers.indices {
      Matrix.multiply(keys, layers[l].key, into: &ws.projectedKeys[l])
      Matrix.multiply(values, layers[l].value, into: &ws.projectedValues[l])
    }
    let k = ws.steps.count
    for i in 0..<k {
      let input = i == 0 ? queries : ws.steps[i - 1].output
      forwardStep(
        input, activations: &ws.steps[i], projectedKeys: ws.projectedKeys, projectedValues: ws.projectedValues)
    }
    var loss: Scalar = 0
    let inverseBatch = 1 / Scalar(b)
    gradients.zero()
    if objective == .retrieval {
      ws.meanWeightGradient.zeroAll()
      ws.steps[k - 1].meanWeights.withUnsafeBufferPointer { p in
        ws.meanWeightGradient.withUnsafeMutableBufferPointer { g in
          for r in 0..<b {
            let t = targetIndices[r]
            precondition(t >= 0 && t < m, "lossAndGradients: target slot \(t) outside the memory")
            let q = max(p[r * m + t], Scalar.leastNormalMagnitude)
            loss -= Scalar(Foundation.log(Double(q)))
            g[r * m + t] = -inverseBatch / q
          }
        }
      }
      loss *= inverseBatch
      backwardStep(
        &ws.steps[k - 1], outputGradient: nil, meanWeightGradient: ws.meanWeightGradient, gradients: &gradients,
        scratch: &ws.scratch, projectedKeys: ws.projectedKeys, projectedValues: ws.projectedValues)
    } else {
      ws.steps[k - 1].output.withUnsafeBufferPointer { f in
        targets.withUnsafeBufferPointer { t in
          ws.outputGradient.withUnsafeMutableBufferPointer { g in
            for i in 0..<(b * d) {
              let r = f[i] - t[i]
              loss += r * r
              g[i] = r * inverseBatch
            }
          }
        }
      }
      loss *= inverseBatch / 2
      backwardStep(
        &ws.steps[k - 1], outputGradient: ws.outputGradient, meanWeightGradient: nil, gradients: &gradients,
        scratch: &ws.scratch, projectedKeys: ws.projectedKeys, projectedValues: ws.projectedValues)
    }
    for i in stride(from: k - 2, through: 0, by: -1) {
      ws.outputGradient.assign(ws.scratch.upstream)
      backwardStep(
        &ws.steps[i], outputGradient: ws.outputGradient, meanWeightGradient: nil, gradients: &gradients,
        scratch: &ws.scratch, projectedKeys: ws.projectedKeys, projectedValues: ws.projectedValues)
    }
    return loss
  }

  /// The loss of `objective` and its gradients on one batch (allocating; for tests and small uses).
  public func lossAndGradients(
    objective: IterativeAttentionObjective, queries: Matrix<Scalar>, targets: Matrix<Scalar>, targetIndices: [Int]
  ) -> (loss: Scalar, gradients: IterativeAttentionGradients<Scalar>) {
    var ws = makeObjectiveWorkspace(objective: objective, batchSize: queries.rows)
    var g = zeroObjectiveGradients()
    let loss = lossAndGradients(
      objective: objective, queries: queries, targets: targets, targetIndices: targetIndices, workspace: &ws,
      gradients: &g)
    return (loss, g)
  }

  /// The loss of `objective` without gradients, in chunks of `batchSize` rows (the validation loss
  /// of training).
  public func loss(
    objective: IterativeAttentionObjective, queries: Matrix<Scalar>, targets: Matrix<Scalar>, targetIndices: [Int],
    batchSize: Int = 1024
  ) -> Double {
    let n = queries.rows, d = dimension, m = memorySize
    guard n > 0 else { return 0 }
    let chunk = max(1, min(batchSize, n))
    let projected = projectedMemory
    var total = 0.0
    var start = 0
    let k = max(1, objective.unrolledSteps)
    while start < n {
      let rows = Array(start..<min(start + chunk, n))
      var state = queries.rows(at: rows)
      let t = targets.rows(at: rows)
      var activations = makeStepActivations(batch: rows.count)
      for _ in 0..<k {
        forwardStep(
          state, activations: &activations, projectedKeys: projected.keys, projectedValues: projected.values)
        state.assign(activations.output)
      }
      if objective == .retrieval {
        activations.meanWeights.withUnsafeBufferPointer { p in
          for (i, r) in rows.enumerated() {
            total -= Foundation.log(Double(max(p[i * m + targetIndices[r]], Scalar.leastNormalMagnitude)))
          }
        }
      } else {
        state.withUnsafeBufferPointer { fp in
          t.withUnsafeBufferPointer { tp in
            for i in 0..<(rows.count * d) {
              let r = Double(fp[i] - tp[i])
              total += r * r / 2
            }
          }
        }
      }
      start += chunk
    }
    return total / Double(n)
  }
}
