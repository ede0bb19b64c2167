import AttractorIO
import AttractorLinearAlgebra
import Dispatch
import Foundation

/// A BERT-family transformer encoder (Devlin et al. 2019) in Float, batched with BLAS: the forward
/// pass of a Hugging Face `BertModel` without its pooler, with each layer's attention
/// probabilities kept for analysis when asked.
///
/// ```
/// x⁰_t   = LayerNorm(word[id_t] + position[t] + tokenType[0])
/// per layer l, head h (d_h = d / heads):
///   q, k, v = x W_Qᵀ + b_Q, x W_Kᵀ + b_K, x W_Vᵀ + b_V         (PyTorch Linear layout [out, in])
///   P_h     = softmax(q_h k_hᵀ / √d_h)   over the sequence's real tokens only
///   a       = LayerNorm(x + concat_h(P_h v_h) W_Oᵀ + b_O)
///   x'      = LayerNorm(a + GELU(a W_1ᵀ + b_1) W_2ᵀ + b_2),    GELU(z) = z (1 + erf(z/√2)) / 2
/// LayerNorm(z) = γ (z − mean z) / √(var z + ε) + β,   ε = layer_norm_eps of the configuration
/// sentence embedding = mean of x^L over the real tokens, divided by its Euclidean norm
/// ```
///
/// **Batches and padding.** A batch of sentences of different lengths is stored packed: row
/// `offsets[b] + t` holds token t of sentence b, and no padding row exists. Every operation but
/// attention is row-wise, and attention is computed per sentence over that sentence's own block
/// of rows, so the padding mask of a padded implementation (logits of padding keys at −∞, padding
/// queries discarded) holds by construction, at no cost. The projections and the feed-forward
/// network are single GEMMs over all rows of the batch; each (sentence, head) block is two GEMMs
/// (logits, then probabilities × values) on strided views of the packed Q, K, V matrix.
///
/// Properties relied on: a sentence's output does not depend on the rest of its batch (up to
/// BLAS rounding; tested), and equals an independent NumPy forward pass of the same weights
/// with an explicit padding mask (tested on a tiny committed model, and on all-MiniLM-L6-v2 when
/// it is present).
public struct BERTEncoder: Sendable {
  /// One transformer layer's parameters (weights in PyTorch's [out, in] layout).
  public struct Layer: Sendable {
    /// W_Q, W_K, W_V stacked: 3d × d; biases 3d.
    public var qkv: Matrix<Float>
    public var qkvBias: [Float]
    public var attentionOutput: Matrix<Float>
    public var attentionOutputBias: [Float]
    public var attentionNormScale: [Float]
    public var attentionNormBias: [Float]
    public var intermediate: Matrix<Float>
    public var intermediateBias: [Float]
    public var output: Matrix<Float>
    public var outputBias: [Float]
    public var outputNormScale: [Float]
    public var outputNormBias: [Float]
  }

  public let configuration: BERTConfiguration
  public let wordEmbeddings: Matrix<Float>
  public let positionEmbeddings: Matrix<Float>
  public let tokenTypeEmbeddings: Matrix<Float>
  public let embeddingNormScale: [Float]
  public let embeddingNormBias: [Float]
  public let layers: [Layer]

  /// The hidden width d.
  public var width: Int { configuration.hiddenSize }
  /// The width of a head d_h.
  public var headSize: Int { configuration.headSize }

  /// The tensor names of a Hugging Face BERT checkpoint with their shapes from `configuration`;
  /// `prefix` is `""` (sentence-transformers, `BertModel`) or `"bert."` (`BertForPreTraining` and
  /// other task heads). Other tensors (pooler, task heads, `position_ids`) are allowed and ignored.
  public static func expectedTensors(
    _ configuration: BERTConfiguration, prefix: String
  ) -> [ModelFolder.TensorExpectation] {
    let c = configuration
    let d = c.hiddenSize
    var out: [ModelFolder.TensorExpectation] = [
      .init(prefix + "embeddings.word_embeddings.weight", shape: [c.vocabularySize, d]),
      .init(prefix + "embeddings.position_embeddings.weight", shape: [c.maxPositions, d]),
      .init(prefix + "embeddings.token_type_embeddings.weight", shape: [c.typeVocabularySize, d]),
      .init(prefix + "embeddings.LayerNorm.weight", shape: [d]),
      .init(prefix + "embeddings.LayerNorm.bias", shape: [d]),
    ]
    for l in 0..<c.layerCount {
      let p = prefix + "encoder.layer.\(l)."
      for part in ["query", "key", "value"] {
        out.append(.init(p + "attention.self.\(part).weight", shape: [d, d]))
        out.append(.init(p + "attention.self.\(part).bias", shape: [d]))
      }
      out += [
        .init(p + "attention.output.dense.weight", shape: [d, d]),
        .init(p + "attention.output.dense.bias", shape: [d]),
        .init(p + "attention.output.LayerNorm.weight", shape: [d]),
        .init(p + "attention.output.LayerNorm.bias", shape: [d]),
        .init(p + "intermediate.dense.weight", shape: [c.intermediateSize, d]),
        .init(p + "intermediate.dense.bias", shape: [c.intermediateSize]),
        .init(p + "output.dense.weight", shape: [d, c.intermediateSize]),
        .init(p + "output.dense.bias", shape: [d]),
        .init(p + "output.LayerNorm.weight", shape: [d]),
        .init(p + "output.LayerNorm.bias", shape: [d]),
      ]
    }
    return out
  }

  /// An encoder from checked tensors (see ``expectedTensors(_:prefix:)``); `path` names the
  /// weights file in errors.
  ///
  /// - Throws: ``/AttractorIO/ModelFolderError/missingTensor(path:name:)`` or
  ///   ``/AttractorIO/ModelFolderError/tensorMismatch(path:name:reason:)`` (also for NaN or ±∞).
  public init(
    configuration: BERTConfiguration, tensors: [String: Tensor], prefix: String, path: String = "model.safetensors"
  ) throws(ModelFolderError) {
    func matrix(_ name: String) throws(ModelFolderError) -> Matrix<Float> {
      guard let t = tensors[prefix + name] else { throw .missingTensor(path: path, name: prefix + name) }
      do { return try t.matrix(as: Float.self) } catch {
        throw .tensorMismatch(path: path, name: prefix + name, reason: "\(error)")
      }
    }
    func vector(_ name: String) throws(ModelFolderError) -> [Float] { try matrix(name).elements }
    try configuration.validate(path: "config.json")
    for e in Self.expectedTensors(configuration, prefix: prefix) {
      guard let t = tensors[e.name] else { throw .missingTensor(path: path, name: e.name) }
      guard t.shape == e.shape.map({ $0 ?? -1 }) else {
        let expected = "[" + e.shape.map { $0.map(String.init) ?? "any" }.joined(separator: ", ") + "]"
        throw .tensorMismatch(path: path, name: e.name, reason: "shape \(t.shape), expected \(expected)")
      }
    }
    self.configuration = configuration
    wordEmbeddings = try matrix("embeddings.word_embeddings.weight")
    positionEmbeddings = try matrix("embeddings.position_embeddings.weight")
    tokenTypeEmbeddings = try matrix("embeddings.token_type_embeddings.weight")
    embeddingNormScale = try vector("embeddings.LayerNorm.weight")
    embeddingNormBias = try vector("embeddings.LayerNorm.bias")
    var layers: [Layer] = []
    for l in 0..<configuration.layerCount {
      let p = "encoder.layer.\(l)."
      let q = try matrix(p + "attention.self.query.weight")
      let k = try matrix(p + "attention.self.key.weight")
      let v = try matrix(p + "attention.self.value.weight")
      let d = configuration.hiddenSize
      layers.append(
        Layer(
          qkv: Matrix(rows: 3 * d, columns: d, elements: q.elements + k.elements + v.elements),
          qkvBias: try vector(p + "attention.self.query.bias") + vector(p + "attention.self.key.bias")
            + vector(p + "attention.self.value.bias"),
          attentionOutput: try matrix(p + "attention.output.dense.weight"),
          attentionOutputBias: try vector(p + "attention.output.dense.bias"),
          attentionNormScale: try vector(p + "attention.output.LayerNorm.weight"),
          attentionNormBias: try vector(p + "attention.output.LayerNorm.bias"),
          intermediate: try matrix(p + "intermediate.dense.weight"),
          intermediateBias: try vector(p + "intermediate.dense.bias"),
          output: try matrix(p + "output.dense.weight"),
          outputBias: try vector(p + "output.dense.bias"),
          outputNormScale: try vector(p + "output.LayerNorm.weight"),
          outputNormBias: try vector(p + "output.LayerNorm.bias")))
    }
    self.layers = layers
  }

  /// What ``encode(_:keepAttention:keepProjections:)`` keeps besides the final hidden states.
  public struct Output: Sendable {
    /// Tokens per sentence.
    public var lengths: [Int]
    /// Row of each sentence's first token in the packed matrices.
    public var offsets: [Int]
    /// Final hidden states, packed: (Σ lengths) × d.
    public var hiddenStates: Matrix<Float>
    /// `attention[l][b]`: layer l's probabilities for sentence b, heads stacked:
    /// (heads · n) × n, row h·n + i = head h, query i (when kept).
    public var attention: [[Matrix<Float>]]?
    /// `projections[l]`: layer l's packed q | k | v with biases, (Σ lengths) × 3d (when kept).
    public var projections: [Matrix<Float>]?

    /// The rows of sentence `b` of a packed matrix.
    public func rows(of b: Int, in m: Matrix<Float>) -> Matrix<Float> {
      m.rows(at: offsets[b]..<offsets[b] + lengths[b])
    }

    /// Mean of each sentence's final hidden states over its tokens, divided by its norm
    /// (sentence-transformers' mean pooling and normalisation): B × d.
    public func sentenceEmbeddings() -> Matrix<Float> {
      let d = hiddenStates.columns
      var out = Matrix<Float>(rows: lengths.count, columns: d)
      hiddenStates.withUnsafeBufferPointer { h in
        for b in lengths.indices {
          var mean = [Double](repeating: 0, count: d)
          for t in offsets[b]..<offsets[b] + lengths[b] {
            for j in 0..<d { mean[j] += Double(h[t * d + j]) }
          }
          let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12 * Double(lengths[b]))
          out.setRow(b, to: mean.map { Float($0 / norm) })
        }
      }
      return out
    }
  }

  /// Runs the encoder on a batch of token-id sequences (each with its `[CLS]` and `[SEP]`).
  ///
  /// - Parameters:
  ///   - batch: One id sequence per sentence, each 1…max_position_embeddings long, ids in
  ///     0..<vocab_size.
  ///   - keepAttention: Keep every layer's attention probabilities (``Output/attention``).
  ///   - keepProjections: Keep every layer's q | k | v (``Output/projections``).
  /// - Throws: ``TransformerEncoderError/invalidInput(_:)``.
  public func encode(
    _ batch: [[Int]], keepAttention: Bool = false, keepProjections: Bool = false
  ) throws(TransformerEncoderError) -> Output {
    let c = configuration
    guard !batch.isEmpty else { throw .invalidInput("the batch holds no sentence") }
    var offsets: [Int] = []
    var total = 0
    for (b, ids) in batch.enumerated() {
      guard !ids.isEmpty else { throw .invalidInput("sentence \(b) has no tokens") }
      guard ids.count <= c.maxPositions else {
        throw .invalidInput("sentence \(b) has \(ids.count) tokens; the model has \(c.maxPositions) positions")
      }
      if let bad = ids.first(where: { $0 < 0 || $0 >= c.vocabularySize }) {
        throw .invalidInput("sentence \(b) has token id \(bad), outside 0..<\(c.vocabularySize)")
      }
      offsets.append(total)
      total += ids.count
    }
    let lengths = batch.map(\.count)
    let d = c.hiddenSize
    let eps = Float(c.layerNormEpsilon)

    // Embeddings.
    var x = Matrix<Float>(rows: total, columns: d)
    x.withUnsafeMutableBufferPointer { xp in
      wordEmbeddings.withUnsafeBufferPointer { w in
        positionEmbeddings.withUnsafeBufferPointer { p in
          tokenTypeEmbeddings.withUnsafeBufferPointer { tt in
            for (b, ids) in batch.enumerated() {
              for (t, id) in ids.enumerated() {
                let row = (offsets[b] + t) * d
                for j in 0..<d { xp[row + j] = w[id * d + j] + p[t * d + j] + tt[j] }
              }
            }
          }
        }
      }
    }
    Self.layerNorm(&x, scale: embeddingNormScale, bias: embeddingNormBias, epsilon: eps)

    var qkv = Matrix<Float>(rows: total, columns: 3 * d)
    var context = Matrix<Float>(rows: total, columns: d)
    var attended = Matrix<Float>(rows: total, columns: d)
    var hidden = Matrix<Float>(rows: total, columns: c.intermediateSize)
    var attention: [[Matrix<Float>]] = []
    var projections: [Matrix<Float>] = []
    for layer in layers {
      // q | k | v = x W_QKVᵀ + b.
      Self.fillRows(&qkv, with: layer.qkvBias)
      Matrix.multiply(x, layer.qkv, transposeB: true, beta: 1, into: &qkv)
      if keepProjections { projections.append(qkv) }
      let probabilities = attend(qkv: qkv, lengths: lengths, offsets: offsets, into: &context, keep: keepAttention)
      if keepAttention { attention.append(probabilities) }
      // a = LayerNorm(x + context W_Oᵀ + b_O).
      attended.assign(x)
      Self.addRows(&attended, layer.attentionOutputBias)
      Matrix.multiply(context, layer.attentionOutput, transposeB: true, beta: 1, into: &attended)
      Self.layerNorm(&attended, scale: layer.attentionNormScale, bias: layer.attentionNormBias, epsilon: eps)
      // x' = LayerNorm(a + GELU(a W_1ᵀ + b_1) W_2ᵀ + b_2).
      Self.fillRows(&hidden, with: layer.intermediateBias)
      Matrix.multiply(attended, layer.intermediate, transposeB: true, beta: 1, into: &hidden)
      Self.gelu(&hidden)
      x.assign(attended)
      Self.addRows(&x, layer.outputBias)
      Matrix.multiply(hidden, layer.output, transposeB: true, beta: 1, into: &x)
      Self.layerNorm(&x, scale: layer.outputNormScale, bias: layer.outputNormBias, epsilon: eps)
    }
    return Output(
      lengths: lengths, offsets: offsets, hiddenStates: x, attention: keepAttention ? attention : nil,
      projections: keepProjections ? projections : nil)
  }

  /// Scaled dot-product attention of every (sentence, head) block into `context`; returns the
  /// probabilities per sentence when `keep` (else an empty array).
  func attend(
    qkv: Matrix<Float>, lengths: [Int], offsets: [Int], into context: inout Matrix<Float>, keep: Bool
  ) -> [Matrix<Float>] {
    let d = width
    let dh = headSize
    let heads = configuration.headCount
    let scale = 1 / Float(dh).squareRoot()
    var kept: [Matrix<Float>] = []
    let longest = lengths.max() ?? 0
    var scores = [Float](repeating: 0, count: longest * longest)
    qkv.withUnsafeBufferPointer { qp in
      context.withUnsafeMutableBufferPointer { cp in
        let base = qp.baseAddress!
        for (b, n) in lengths.enumerated() {
          var probabilities = keep ? Matrix<Float>(rows: heads * n, columns: n) : Matrix<Float>(rows: 0, columns: 0)
          let row = offsets[b]
          for h in 0..<heads {
            scores.withUnsafeMutableBufferPointer { s in
              let sp = s.baseAddress!
              Float.gemm(
                transposeA: false, transposeB: true, m: n, n: n, k: dh, alpha: scale,
                a: base + row * 3 * d + h * dh, lda: 3 * d, b: base + row * 3 * d + d + h * dh, ldb: 3 * d,
                beta: 0, c: sp, ldc: n)
              for i in 0..<n { Float.softmaxInPlace(sp + i * n, count: n) }
              Float.gemm(
                transposeA: false, transposeB: false, m: n, n: dh, k: n, alpha: 1, a: sp, lda: n,
                b: base + row * 3 * d + 2 * d + h * dh, ldb: 3 * d, beta: 0,
                c: cp.baseAddress! + row * d + h * dh, ldc: d)
              if keep {
                probabilities.withUnsafeMutableBufferPointer { pp in
                  pp.baseAddress!.advanced(by: h * n * n).update(from: sp, count: n * n)
                }
              }
            }
          }
          if keep { kept.append(probabilities) }
        }
      }
    }
    return kept
  }

  /// Every row of `m` set to `values`.
  static func fillRows(_ m: inout Matrix<Float>, with values: [Float]) {
    let c = m.columns
    let rows = m.rows
    m.withUnsafeMutableBufferPointer { p in
      values.withUnsafeBufferPointer { v in
        for r in 0..<rows { (p.baseAddress! + r * c).update(from: v.baseAddress!, count: c) }
      }
    }
  }

  /// `values` added to every row of `m`.
  static func addRows(_ m: inout Matrix<Float>, _ values: [Float]) {
    let c = m.columns
    let rows = m.rows
    m.withUnsafeMutableBufferPointer { p in
      for r in 0..<rows {
        for j in 0..<c { p[r * c + j] += values[j] }
      }
    }
  }

  /// Row-wise LayerNorm in place (mean and variance accumulated in double precision).
  static func layerNorm(_ m: inout Matrix<Float>, scale: [Float], bias: [Float], epsilon: Float) {
    let c = m.columns
    let rows = m.rows
    m.withUnsafeMutableBufferPointer { p in
      let base = p.baseAddress!
      concurrentChunks(rows, work: rows * c) { range in
        for r in range {
          let x = base + r * c
          var sum = 0.0
          for j in 0..<c { sum += Double(x[j]) }
          let mean = sum / Double(c)
          var sq = 0.0
          for j in 0..<c {
            let z = Double(x[j]) - mean
            sq += z * z
          }
          let inv = 1 / (sq / Double(c) + Double(epsilon)).squareRoot()
          for j in 0..<c { x[j] = Float((Double(x[j]) - mean) * inv) * scale[j] + bias[j] }
        }
      }
    }
  }

  /// Exact GELU in place: z (1 + erf(z / √2)) / 2.
  static func gelu(_ m: inout Matrix<Float>) {
    let count = m.rows * m.columns
    m.withUnsafeMutableBufferPointer { p in
      let base = p.baseAddress!
      concurrentChunks(count, work: count) { range in
        for i in range {
          let z = base[i]
          base[i] = 0.5 * z * (1 + erff(z * 0.707_106_77))
        }
      }
    }
  }

  /// Runs `body` over disjoint chunks of 0..<count, on all cores when the work is large.
  static func concurrentChunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    let parts = work >= 1 << 16 ? min(ProcessInfo.processInfo.activeProcessorCount, max(1, count)) : 1
    if parts <= 1 {
      body(0..<count)
      return
    }
    withoutActuallyEscaping(body) { body in
      let box = EncoderSendableBox(body)
      DispatchQueue.concurrentPerform(iterations: parts) { i in
        box.value((i * count / parts)..<((i + 1) * count / parts))
      }
    }
  }
}

/// Carries a non-Sendable closure into `concurrentPerform`, whose iterations touch disjoint rows.
struct EncoderSendableBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// Errors of the transformer encoder and its model folder; each names the file, tensor or input.
public enum TransformerEncoderError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The model folder, its configuration or its weights are unusable.
  case folder(ModelFolderError)
  /// The vocabulary is unusable.
  case vocabulary(VocabularyError)
  /// The token ids given to the encoder are unusable.
  case invalidInput(String)

  public var description: String {
    switch self {
    case .folder(let e): return e.description
    case .vocabulary(let e): return e.description
    case .invalidInput(let s): return "invalid encoder input: \(s)"
    }
  }
}
