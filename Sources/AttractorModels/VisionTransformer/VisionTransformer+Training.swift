import AttractorCore
import AttractorLinearAlgebra

extension VisionTransformer {
  /// The buffers of one block's forward and backward pass.
  struct BlockCache: Sendable {
    var input: Matrix<Scalar>  // x (B·N × E)
    var attentionInput: Matrix<Scalar>  // LN₁(x)
    var middle: Matrix<Scalar>  // x + MHSA(LN₁(x))
    var feedForwardInput: Matrix<Scalar>  // LN₂(middle)
    var attentionNormCache: LayerNormalization<Scalar>.Cache
    var attentionCache: MultiHeadSelfAttention<Scalar>.Cache
    var feedForwardNormCache: LayerNormalization<Scalar>.Cache
    var feedForwardCache: FeedForwardLayer<Scalar>.Cache
  }

}

extension VisionTransformer.BlockCache {
  /// x ← x + MHSA(LN₁(x)); x ← x + FFN(LN₂(x)), keeping what the backward pass needs.
  mutating func forward(
    _ block: VisionTransformerBlock<Scalar>, stream x: inout Matrix<Scalar>, scratch: inout Matrix<Scalar>
  ) {
    input.assign(x)
    block.attentionNorm.forward(x, into: &attentionInput, cache: &attentionNormCache)
    block.attention.forward(attentionInput, into: &scratch, cache: &attentionCache)
    VisionTransformer.add(scratch, to: &x)
    middle.assign(x)
    block.feedForwardNorm.forward(x, into: &feedForwardInput, cache: &feedForwardNormCache)
    block.feedForward.forward(feedForwardInput, into: &scratch, cache: &feedForwardCache)
    VisionTransformer.add(scratch, to: &x)
  }

  /// The block's backward pass: ∂x_out in `dx` becomes ∂x_in (residuals included); parameter
  /// gradients are added into `gradient`.
  mutating func backward(
    _ block: VisionTransformerBlock<Scalar>, streamGradient dx: inout Matrix<Scalar>, scratch: inout Matrix<Scalar>,
    scratch2: inout Matrix<Scalar>, gradient: inout VisionTransformerBlock<Scalar>
  ) {
    // x_out = middle + FFN(LN₂(middle))
    block.feedForward.backward(
      dx, input: feedForwardInput, cache: &feedForwardCache, inputGradient: &scratch, gradient: &gradient.feedForward)
    block.feedForwardNorm.backward(
      scratch, cache: feedForwardNormCache, inputGradient: &scratch2, gradient: &gradient.feedForwardNorm)
    VisionTransformer.add(scratch2, to: &dx)
    // middle = x + MHSA(LN₁(x))
    block.attention.backward(
      dx, input: attentionInput, cache: &attentionCache, inputGradient: &scratch, gradient: &gradient.attention)
    block.attentionNorm.backward(
      scratch, cache: attentionNormCache, inputGradient: &scratch2, gradient: &gradient.attentionNorm)
    VisionTransformer.add(scratch2, to: &dx)
  }
}

extension VisionTransformer {
  /// Every buffer of a forward and backward pass over exactly `batchSize` images, preallocated.
  public struct Workspace: Sendable {
    /// Images in the batch.
    public let batchSize: Int
    var patches: Matrix<Scalar>  // B·N × p²
    var blocks: [BlockCache]
    var workspaceInput: Matrix<Scalar>  // tokens entering the workspace layer
    var workspaceBuffers: GlobalWorkspaceLayer<Scalar>.Workspace?
    var tokens: Matrix<Scalar>  // the token stream after the last block
    var pooled: Matrix<Scalar>  // B × E
    var normalized: Matrix<Scalar>  // LN_f(pooled), B × E
    var finalNormCache: LayerNormalization<Scalar>.Cache
    /// The tokens that entered the workspace layer in the last forward pass (B·N × E; AiT only).
    public var workspaceTokens: Matrix<Scalar> { workspaceInput }
    /// The workspace layer's buffers after the last forward pass (AiT only).
    public var workspaceState: GlobalWorkspaceLayer<Scalar>.Workspace? { workspaceBuffers }
    /// The logits of the last forward pass, B × classes.
    public internal(set) var logits: Matrix<Scalar>
    // Backward scratch.
    var dA: Matrix<Scalar>  // B·N × E
    var dB: Matrix<Scalar>  // B·N × E
    var dC: Matrix<Scalar>  // B·N × E
    var dPooled: Matrix<Scalar>  // B × E
    var dNormalized: Matrix<Scalar>  // B × E
    var dLogits: Matrix<Scalar>  // B × classes
    var workspaceGradients: GlobalWorkspaceParameters<Scalar>?
  }

  /// Buffers for batches of exactly `batchSize` images.
  public func makeWorkspace(batchSize b: Int) -> Workspace {
    let c = configuration
    let rows = b * c.patchCount, e = c.width
    func m(_ r: Int, _ k: Int) -> Matrix<Scalar> { Matrix(rows: r, columns: k) }
    let blockCaches = blocks.map { block in
      BlockCache(
        input: m(rows, e), attentionInput: m(rows, e), middle: m(rows, e), feedForwardInput: m(rows, e),
        attentionNormCache: block.attentionNorm.makeCache(batch: rows),
        attentionCache: block.attention.makeCache(batch: b, length: c.patchCount),
        feedForwardNormCache: block.feedForwardNorm.makeCache(batch: rows),
        feedForwardCache: block.feedForward.makeCache(batch: rows))
    }
    return Workspace(
      batchSize: b, patches: m(rows, c.patchPixels), blocks: blockCaches, workspaceInput: m(rows, e),
      workspaceBuffers: workspace?.makeWorkspace(batchSize: b), tokens: m(rows, e), pooled: m(b, e),
      normalized: m(b, e), finalNormCache: finalNorm.makeCache(batch: b), logits: m(b, c.classes), dA: m(rows, e),
      dB: m(rows, e), dC: m(rows, e), dPooled: m(b, e), dNormalized: m(b, e), dLogits: m(b, c.classes),
      workspaceGradients: workspace.map { GlobalWorkspaceParameters(zerosFor: $0.configuration) })
  }

  /// Cuts each image (a row of `images`) into its N patches: row b·N + (i·(S/p) + j) holds patch
  /// (i, j) of image b, its pixels row by row.
  static func patchify(
    _ images: Matrix<Scalar>, into patches: inout Matrix<Scalar>, configuration c: VisionTransformerConfiguration
  ) {
    let p = c.patchSize, side = c.imageSize / p, s = c.imageSize, n = c.patchCount, pp = c.patchPixels
    images.withUnsafeBufferPointer { x in
      patches.withUnsafeMutableBufferPointer { out in
        for b in 0..<images.rows {
          for i in 0..<side {
            for j in 0..<side {
              let row = (b * n + i * side + j) * pp
              for u in 0..<p {
                for v in 0..<p { out[row + u * p + v] = x[b * s * s + (i * p + u) * s + j * p + v] }
              }
            }
          }
        }
      }
    }
  }

  /// The forward pass over a batch (B × imageSize² pixels): the logits into
  /// ``Workspace/logits`` and, with labels, the mean cross-entropy plus (AiT) the balance loss.
  ///
  /// With `training` true the workspace's memory takes its EMA step from this batch (AiT).
  /// Inputs must be valid (``validate(images:labels:)``) and fill the workspace's batch.
  ///
  /// - Throws: ``ModelError`` if the workspace layer refuses its tokens (non-finite values).
  @discardableResult
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func forward(
    images: Matrix<Scalar>, labels: [Int]?, training: Bool, workspace ws: inout Workspace
  ) throws(ModelError) -> (loss: Double, crossEntropy: Double, balance: Double) {
    let c = configuration
    let b = ws.batchSize, n = c.patchCount, e = c.width
    precondition(images.rows == b && images.columns == c.pixels, "forward: images must fill the workspace's batch")
    Self.patchify(images, into: &ws.patches, configuration: c)
    var x = ws.tokens
    ws.tokens = Matrix(rows: 0, columns: 0)  // keep x's buffer uniquely referenced
    Matrix.multiply(ws.patches, patchWeights, into: &x)
    x.withUnsafeMutableBufferPointer { t in
      patchBias.withUnsafeBufferPointer { bias in
        positions.withUnsafeBufferPointer { pos in
          for r in 0..<(b * n) {
            let token = r % n
            for j in 0..<e { t[r * e + j] += bias[j] + pos[token * e + j] }
          }
        }
      }
    }
    var balance = 0.0
    for l in blocks.indices {
      ws.blocks[l].forward(blocks[l], stream: &x, scratch: &ws.dA)
      if l + 1 == c.workspaceAfterBlock, workspace != nil, retrievalEnabled {
        ws.workspaceInput.assign(x)
        x = try workspace!.forward(x, updateMemory: training, workspace: &ws.workspaceBuffers!)
        balance = Double(ws.workspaceBuffers!.balanceLoss)
      }
    }
    ws.tokens = x
    // Mean pooling over each image's tokens.
    let inv = 1 / Scalar(n)
    ws.pooled.withUnsafeMutableBufferPointer { p in
      x.withUnsafeBufferPointer { t in
        for i in p.indices { p[i] = 0 }
        for r in 0..<(b * n) {
          let image = r / n
          for j in 0..<e { p[image * e + j] += inv * t[r * e + j] }
        }
      }
    }
    finalNorm.forward(ws.pooled, into: &ws.normalized, cache: &ws.finalNormCache)
    Matrix.multiply(ws.normalized, headWeights, into: &ws.logits)
    MultiHeadSelfAttention<Scalar>.addRow(headBias, to: &ws.logits)
    guard let labels else { return (balance, 0, balance) }
    let crossEntropy = Self.crossEntropy(ws.logits, labels: labels, gradient: &ws.dLogits)
    return (crossEntropy + balance, crossEntropy, balance)
  }

  /// Mean cross-entropy of softmax(logits) and, into `gradient`, its derivative (softmax − onehot)/B.
  static func crossEntropy(_ logits: Matrix<Scalar>, labels: [Int], gradient: inout Matrix<Scalar>) -> Double {
    let b = logits.rows, k = logits.columns
    gradient.assign(logits)
    var total = 0.0
    gradient.withUnsafeMutableBufferPointer { g in
      logits.withUnsafeBufferPointer { z in
        for r in 0..<b {
          total += Scalar.logSumExp(z.baseAddress! + r * k, count: k) - Double(z[r * k + labels[r]])
          Scalar.softmaxInPlace(g.baseAddress! + r * k, count: k)
          g[r * k + labels[r]] -= 1
          for j in 0..<k { g[r * k + j] /= Scalar(b) }
        }
      }
    }
    return total / Double(b)
  }

  /// The backward pass after ``forward(images:labels:training:workspace:)`` with labels: the
  /// gradient of the loss (cross-entropy + balance loss) with respect to every parameter, ADDED
  /// into `gradient` (a model of the same shape; start from ``zeroGradient()``). The workspace's
  /// memory is held constant, as in its own backward, except with ``MemoryUpdate/gradient``, where
  /// ∂γ is added into the gradient's `workspace.memory` (the `workspace.memory` entry of ``parameters``).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func backward(workspace ws: inout Workspace, gradient: inout VisionTransformer) {
    let c = configuration
    let b = ws.batchSize, n = c.patchCount, e = c.width
    // Head and final LayerNorm.
    Matrix.multiply(ws.normalized, ws.dLogits, transposeA: true, beta: 1, into: &gradient.headWeights)
    MultiHeadSelfAttention<Scalar>.addColumnSums(of: ws.dLogits, to: &gradient.headBias)
    Matrix.multiply(ws.dLogits, headWeights, transposeB: true, into: &ws.dNormalized)
    finalNorm.backward(
      ws.dNormalized, cache: ws.finalNormCache, inputGradient: &ws.dPooled, gradient: &gradient.finalNorm)
    // Mean pooling: every token of image b receives ∂pooled_b / N.
    var dx = ws.dB
    ws.dB = Matrix(rows: 0, columns: 0)  // keep dx's buffer uniquely referenced
    let inv = 1 / Scalar(n)
    dx.withUnsafeMutableBufferPointer { d in
      ws.dPooled.withUnsafeBufferPointer { p in
        for r in 0..<(b * n) {
          let image = r / n
          for j in 0..<e { d[r * e + j] = inv * p[image * e + j] }
        }
      }
    }
    for l in blocks.indices.reversed() {
      if l + 1 == c.workspaceAfterBlock, let layer = workspace, retrievalEnabled {
        layer.backward(
          tokens: ws.workspaceInput, outputGradient: dx, bottleneckOutputGradient: nil,
          workspace: &ws.workspaceBuffers!, gradients: &ws.workspaceGradients!, tokenGradient: &ws.dC)
        var all = gradient.workspace!.parameters.all
        for (k, g) in ws.workspaceGradients!.all.enumerated() { Self.add(g, to: &all[k]) }
        gradient.workspace!.parameters.all = all
        if trainsMemory { Self.add(ws.workspaceBuffers!.memoryGradient, to: &gradient.workspace!.memory) }
        swap(&dx, &ws.dC)
      }
      ws.blocks[l].backward(
        blocks[l], streamGradient: &dx, scratch: &ws.dA, scratch2: &ws.dC, gradient: &gradient.blocks[l])
    }
    // Embedding.
    Matrix.multiply(ws.patches, dx, transposeA: true, beta: 1, into: &gradient.patchWeights)
    MultiHeadSelfAttention<Scalar>.addColumnSums(of: dx, to: &gradient.patchBias)
    gradient.positions.withUnsafeMutableBufferPointer { gp in
      dx.withUnsafeBufferPointer { d in
        for r in 0..<(b * n) {
          let token = r % n
          for j in 0..<e { gp[token * e + j] += d[r * e + j] }
        }
      }
    }
    ws.dB = dx
  }

  /// The loss of one labelled batch and its gradient (fresh buffers, the memory left unchanged):
  /// the form the finite-difference tests check.
  ///
  /// - Throws: ``ModelError`` for invalid images or labels.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func lossAndGradient(images: Matrix<Scalar>, labels: [Int]) throws(ModelError) -> (
    loss: Double, gradient: VisionTransformer
  ) {
    try validate(images: images, labels: labels)
    var model = self
    var ws = makeWorkspace(batchSize: images.rows)
    let loss = try model.forward(images: images, labels: labels, training: false, workspace: &ws).loss
    var gradient = zeroGradient()
    model.backward(workspace: &ws, gradient: &gradient)
    return (loss, gradient)
  }

  /// The predicted class of every image (argmax of the logits), in batches of `batchSize`; the
  /// memory is not updated.
  ///
  /// - Throws: ``ModelError`` for invalid images.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func predict(images: Matrix<Scalar>, batchSize: Int = 256) throws(ModelError) -> [Int] {
    try validate(images: images, labels: nil)
    var model = self
    var predictions: [Int] = []
    predictions.reserveCapacity(images.rows)
    var full = makeWorkspace(batchSize: min(batchSize, images.rows))
    var start = 0
    while start < images.rows {
      let count = min(full.batchSize, images.rows - start)
      var ws = count == full.batchSize ? full : makeWorkspace(batchSize: count)
      let batch = images.rows(at: start..<(start + count))
      try model.forward(images: batch, labels: nil, training: false, workspace: &ws)
      let k = configuration.classes
      ws.logits.withUnsafeBufferPointer { z in
        for r in 0..<count {
          var best = 0
          for j in 1..<k where z[r * k + j] > z[r * k + best] { best = j }
          predictions.append(best)
        }
      }
      if count == full.batchSize { full = ws }
      start += count
    }
    return predictions
  }

  /// a += b, elementwise (same shapes).
  static func add(_ b: Matrix<Scalar>, to a: inout Matrix<Scalar>) {
    precondition(a.rows == b.rows && a.columns == b.columns, "add: shapes differ")
    a.withUnsafeMutableBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in for i in pa.indices { pa[i] += pb[i] } }
    }
  }
}
