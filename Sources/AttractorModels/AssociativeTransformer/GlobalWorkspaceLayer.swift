import AttractorCore
import AttractorLinearAlgebra

/// How the memory of priors γ is initialised before its rows are L2-normalised.
public enum PriorInitialization: String, Sendable, Codable, CaseIterable {
  /// Entries N(0, 1), then each row normalised: directions uniform on the sphere.
  case gaussian
  /// Entries uniform on [−1, 1), then each row normalised.
  case uniform
  /// Row m is the unit vector e_(m mod D): orthonormal when M ≤ D, repeating the basis when M > D.
  case identity
}

/// How the memory of priors γ takes its step from the bottleneck's output O during training
/// (no gradient either way; μ is ``GlobalWorkspaceConfiguration/memoryMomentum``).
public enum MemoryUpdate: String, Sendable, Codable, CaseIterable {
  /// γ ← normalise_rows(μ γ + (1 − μ) · mean over the batch of O): the plain EMA toward the
  /// bottleneck's output (the layer as first built; its priors collapse onto one vector).
  case ema
  /// γ ← normalise_rows(μ γ + (1 − μ) · mean over the batch of LN(γ + O)): the residual from the
  /// memory and a LayerNorm (over the D features, no affine parameters, ε = 10⁻⁵) applied to each
  /// image's bottleneck output before the EMA, as in the authors' released code.
  case residualNorm = "residual-norm"
  /// γ ← normalise_rows(μ γ + (1 − μ) (Ō − 1 ō)), Ō the mean over the batch of O and ō the mean of
  /// Ō's rows: the EMA toward each prior's deviation from the priors' mean output. The plain EMA's
  /// targets share a dominant common component (their mean pairwise cosine is near 1), which pulls
  /// every prior to the same vector; this form removes that component.
  case centered
  /// No EMA: γ is a trained parameter. Its gradient comes from everywhere γ enters the forward pass,
  /// the upscaling U = γ W_u + 1 b_u (∂γ += ∂U W_uᵀ) and the bottleneck queries Q = γ W_Q through
  /// the balance loss (∂γ += ∂Q W_Qᵀ), summed over the batch; the optimiser updates it with the
  /// other parameters (``VisionTransformer/trainingStep(images:labels:optimizer:workspace:gradient:)``:
  /// AdamW without weight decay on γ), then its rows are renormalised to unit length (a projection
  /// onto the sphere), so the layer's invariant that rows are unit vectors keeps holding. A
  /// departure from the paper, whose memory is an EMA without gradient. The bottleneck's output O
  /// then feeds nothing (the balance loss uses only P), so it is not computed: W_V and W_O reach no
  /// output and get an exactly zero gradient.
  case gradient
  /// Online k-means in the squashed patch space (the EMA codebook update of VQ-VAE, van den Oord et
  /// al. 2017): every squashed patch ŝ_j = S_j / ‖S_j‖ of the batch is assigned to the prior of
  /// largest cosine, and each prior m with assigned patches takes
  /// γ_m ← normalise(μ γ_m + (1 − μ) c_m), c_m the mean of its patches' ŝ_j. A prior that no patch
  /// chose is re-seeded onto a patch (γ_m ← ŝ_j), taking the patches worst matched by their nearest
  /// prior in order, as dead codebook entries are; so identical priors cannot stay identical (only
  /// one of them wins each patch). The bottleneck is still computed and trained by the balance loss,
  /// but the memory does not read its output. A departure from the paper, added to test whether a
  /// memory that does specialise changes the retrieval.
  case kmeans
}

/// Over which patches each prior's top-k bottleneck selection is made.
public enum SelectionScope: String, Sendable, Codable, CaseIterable {
  /// Each image's priors choose k of that image's N patches; the memory's step is the mean over the
  /// batch of the images' outputs O (the layer as first built).
  case image
  /// The priors choose k of all B·N patches of the minibatch at once, giving one output O per batch
  /// that the memory steps toward (the authors' released code). The logits of an image still do not
  /// depend on the rest of its batch; only the memory's step and the balance loss do.
  case batch
}

/// How the priors compete for patches in the bottleneck attention.
public enum PriorCompetition: String, Sendable, Codable, CaseIterable {
  /// No competition: each prior's row of logits is ranked and normalised on its own (the paper's
  /// and the released code's bottleneck).
  case none
  /// Softmax over the priors first: C[m, n] = softmax over m of A[m, n], so that a patch claimed by
  /// one prior is taken from the others (as in slot attention); then the top-k of each prior's row
  /// of C, renormalised over the admitted patches: P[m, n] = C[m, n] / Σ_(admitted n') C[m, n'].
  case priors
}

/// Shape and settings of a ``GlobalWorkspaceLayer``.
public struct GlobalWorkspaceConfiguration: Sendable, Equatable, Codable {
  /// Side of the square input image, in pixels (28 for MNIST).
  public var imageSize: Int
  /// Side of a square patch, in pixels; must divide `imageSize`.
  public var patchSize: Int
  /// Token width E of the patch stream.
  public var width: Int
  /// Number of priors M in the memory.
  public var priorCount: Int
  /// Width D of a prior (D ≤ E; the paper's low-rank memory has D ≪ E).
  public var priorWidth: Int
  /// Heads of the bottleneck attention; `priorWidth` must be a multiple of it.
  public var heads: Int
  /// Bottleneck size k: patches admitted per prior and head (1 ≤ k ≤ patches per image).
  public var bottleneck: Int
  /// Inverse temperature β of the Hopfield retrieval.
  public var beta: Double
  /// Number of Hopfield update steps applied to every patch.
  public var hopfieldSteps: Int
  /// EMA momentum μ of the memory update γ ← normalise(μ γ + (1 − μ) Ō); `nil` switches the update off.
  public var memoryMomentum: Double?
  /// Coefficient c of the bottleneck balance loss.
  public var balanceCoefficient: Double
  /// Initialisation of the memory of priors.
  public var priorInitialization: PriorInitialization
  /// The form of the memory's training step (``MemoryUpdate``); ``MemoryUpdate/ema`` by default.
  public var memoryUpdate: MemoryUpdate
  /// Over which patches the top-k selection is made (``SelectionScope``); ``SelectionScope/image`` by default.
  public var selectionScope: SelectionScope
  /// Competition among the priors (``PriorCompetition``); ``PriorCompetition/none`` by default.
  public var competition: PriorCompetition

  public init(
    imageSize: Int = 28, patchSize: Int = 7, width: Int = 64, priorCount: Int = 16, priorWidth: Int = 16,
    heads: Int = 4, bottleneck: Int = 8, beta: Double = 1, hopfieldSteps: Int = 3, memoryMomentum: Double? = 0.9,
    balanceCoefficient: Double = 0.01, priorInitialization: PriorInitialization = .gaussian,
    memoryUpdate: MemoryUpdate = .ema, selectionScope: SelectionScope = .image, competition: PriorCompetition = .none
  ) {
    self.imageSize = imageSize
    self.patchSize = patchSize
    self.width = width
    self.priorCount = priorCount
    self.priorWidth = priorWidth
    self.heads = heads
    self.bottleneck = bottleneck
    self.beta = beta
    self.hopfieldSteps = hopfieldSteps
    self.memoryMomentum = memoryMomentum
    self.balanceCoefficient = balanceCoefficient
    self.priorInitialization = priorInitialization
    self.memoryUpdate = memoryUpdate
    self.selectionScope = selectionScope
    self.competition = competition
  }

  private enum CodingKeys: String, CodingKey {
    case imageSize, patchSize, width, priorCount, priorWidth, heads, bottleneck, beta, hopfieldSteps
    case memoryMomentum, balanceCoefficient, priorInitialization, memoryUpdate, selectionScope, competition
  }

  /// Decodes a configuration; one written before ``memoryUpdate``, ``selectionScope`` or
  /// ``competition`` existed has the plain EMA, per-image selection and no competition.
  public init(from decoder: any Decoder) throws {
    let k = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      imageSize: try k.decode(Int.self, forKey: .imageSize), patchSize: try k.decode(Int.self, forKey: .patchSize),
      width: try k.decode(Int.self, forKey: .width), priorCount: try k.decode(Int.self, forKey: .priorCount),
      priorWidth: try k.decode(Int.self, forKey: .priorWidth), heads: try k.decode(Int.self, forKey: .heads),
      bottleneck: try k.decode(Int.self, forKey: .bottleneck), beta: try k.decode(Double.self, forKey: .beta),
      hopfieldSteps: try k.decode(Int.self, forKey: .hopfieldSteps),
      memoryMomentum: try k.decodeIfPresent(Double.self, forKey: .memoryMomentum),
      balanceCoefficient: try k.decode(Double.self, forKey: .balanceCoefficient),
      priorInitialization: try k.decode(PriorInitialization.self, forKey: .priorInitialization),
      memoryUpdate: try k.decodeIfPresent(MemoryUpdate.self, forKey: .memoryUpdate) ?? .ema,
      selectionScope: try k.decodeIfPresent(SelectionScope.self, forKey: .selectionScope) ?? .image,
      competition: try k.decodeIfPresent(PriorCompetition.self, forKey: .competition) ?? .none)
  }

  /// Patches among which one top-k selection is made for a batch of `batchSize` images: N for
  /// ``SelectionScope/image``, B·N for ``SelectionScope/batch``.
  public func selectionPatches(batchSize: Int) -> Int {
    selectionScope == .batch ? batchSize * patchCount : patchCount
  }

  /// Independent selections (groups of ``selectionPatches(batchSize:)`` patches) in a batch: B or 1.
  public func selectionGroups(batchSize: Int) -> Int { selectionScope == .batch ? 1 : batchSize }

  /// Patches per image N = (imageSize / patchSize)².
  public var patchCount: Int { (imageSize / max(1, patchSize)) * (imageSize / max(1, patchSize)) }

  /// Width of one bottleneck head, D / heads.
  public var headWidth: Int { priorWidth / max(1, heads) }

  /// Logit scale of the bottleneck attention, 1/√(D / heads).
  public var logitScale: Double { 1 / Double(headWidth).squareRoot() }

  /// Checks every setting; the first violated one is thrown.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)``.
  public func validate() throws(ModelError) {
    func fail(_ name: String, _ value: Any, _ requirement: String) -> ModelError {
      .invalidParameter(name: name, value: "\(value)", requirement: requirement)
    }
    guard patchSize >= 1 else { throw fail("patchSize", patchSize, "at least 1") }
    guard imageSize >= 1, imageSize % patchSize == 0 else {
      throw fail("imageSize", imageSize, "a positive multiple of the patch size (\(patchSize))")
    }
    guard width >= 1 else { throw fail("width", width, "at least 1") }
    guard priorCount >= 1 else { throw fail("priorCount", priorCount, "at least 1 prior") }
    guard priorWidth >= 1, priorWidth <= width else {
      throw fail("priorWidth", priorWidth, "between 1 and the token width E = \(width) (low-rank priors, D ≤ E)")
    }
    guard heads >= 1, priorWidth % heads == 0 else {
      throw fail("heads", heads, "at least 1 and a divisor of the prior width D = \(priorWidth)")
    }
    guard bottleneck >= 1, bottleneck <= patchCount else {
      throw fail("bottleneck", bottleneck, "between 1 and the number of patches per image (\(patchCount))")
    }
    guard beta.isFinite, beta > 0 else { throw fail("beta", beta, "finite and positive") }
    guard hopfieldSteps >= 1 else { throw fail("hopfieldSteps", hopfieldSteps, "at least 1") }
    if let mu = memoryMomentum {
      guard mu.isFinite, mu >= 0, mu < 1 else { throw fail("memoryMomentum", mu, "in [0, 1), or off") }
    }
    guard balanceCoefficient.isFinite, balanceCoefficient >= 0 else {
      throw fail("balanceCoefficient", balanceCoefficient, "finite and ≥ 0")
    }
  }
}

/// The trainable weights of a ``GlobalWorkspaceLayer`` (row-vector convention, y = x W).
public struct GlobalWorkspaceParameters<Scalar: LinearAlgebraScalar>: Sendable, Equatable {
  /// W_s (E × D): the squash of a patch to the prior width, s = x W_s.
  public var squash: Matrix<Scalar>
  /// W_Q (D × D): queries γ W_Q from the priors.
  public var query: Matrix<Scalar>
  /// W_K (D × D): keys S W_K from the squashed patches.
  public var key: Matrix<Scalar>
  /// W_V (D × D): values S W_V from the squashed patches.
  public var value: Matrix<Scalar>
  /// W_O (D × D): output of the concatenated heads.
  public var output: Matrix<Scalar>
  /// W_u (D × E): the learnable upscaling of a prior to the token width.
  public var upscale: Matrix<Scalar>
  /// b_u (1 × E): bias of the upscaling.
  public var upscaleBias: Matrix<Scalar>

  public init(
    squash: Matrix<Scalar>, query: Matrix<Scalar>, key: Matrix<Scalar>, value: Matrix<Scalar>,
    output: Matrix<Scalar>, upscale: Matrix<Scalar>, upscaleBias: Matrix<Scalar>
  ) {
    self.squash = squash
    self.query = query
    self.key = key
    self.value = value
    self.output = output
    self.upscale = upscale
    self.upscaleBias = upscaleBias
  }

  /// All zero, shaped for `configuration` (the gradient buffers).
  public init(zerosFor c: GlobalWorkspaceConfiguration) {
    let e = c.width, d = c.priorWidth
    self.init(
      squash: Matrix(rows: e, columns: d), query: Matrix(rows: d, columns: d), key: Matrix(rows: d, columns: d),
      value: Matrix(rows: d, columns: d), output: Matrix(rows: d, columns: d), upscale: Matrix(rows: d, columns: e),
      upscaleBias: Matrix(rows: 1, columns: e))
  }

  /// Seeded initialisation: every matrix with entries N(0, 1/fan-in), the bias zero.
  public static func random(for c: GlobalWorkspaceConfiguration, seed: UInt64) -> Self {
    var rng = SeededGenerator(seed: seed)
    let e = c.width, d = c.priorWidth
    func g(_ r: Int, _ k: Int) -> Matrix<Scalar> {
      rng.gaussianMatrix(rows: r, columns: k, standardDeviation: 1 / Double(r).squareRoot())
    }
    return Self(
      squash: g(e, d), query: g(d, d), key: g(d, d), value: g(d, d), output: g(d, d), upscale: g(d, e),
      upscaleBias: Matrix(rows: 1, columns: e))
  }

  /// The matrices in a fixed order (for ``AdamW`` and finite differences).
  public var all: [Matrix<Scalar>] {
    get { [squash, query, key, value, output, upscale, upscaleBias] }
    set {
      precondition(newValue.count == 7, "GlobalWorkspaceParameters: seven matrices")
      squash = newValue[0]
      query = newValue[1]
      key = newValue[2]
      value = newValue[3]
      output = newValue[4]
      upscale = newValue[5]
      upscaleBias = newValue[6]
    }
  }

  /// Names of ``all``, in order.
  public static var names: [String] { ["squash", "query", "key", "value", "output", "upscale", "upscaleBias"] }
}

/// The global-workspace layer of the Associative Transformer (AiT): low-rank priors that steer a
/// top-k bottleneck attention over the patches, and a continuous Hopfield retrieval of every patch
/// with the upscaled priors as stored patterns.
///
/// For one image with patch tokens X (N × E), memory γ (M × D, unit rows), heads h of width
/// D_h = D/H and s = 1/√D_h:
///
/// ```
/// S = X W_s                                     squash to the prior width (N × D)
/// A_h = s (γ W_Q)_h (S W_K)_hᵀ                  priors attend to patches (M × N)
/// P_h = softmax over the top-k entries of each row of A_h, 0 elsewhere
/// O = [P_1 (S W_V)_1 … P_H (S W_V)_H] W_O       what the workspace reads (M × D)
/// L_bal = c Σ_h cv²(Σ_m P_h[m, ·]) + cv²(#admissions of each patch)   cv² = var / (mean² + 10⁻¹⁰)
/// γ ← normalise_rows(μ γ + (1 − μ) mean over the batch of O)          (EMA, training only; ``MemoryUpdate/ema``)
/// γ ← normalise_rows(μ γ + (1 − μ) mean over the batch of LN(γ + O))  (``MemoryUpdate/residualNorm``)
/// U = γ W_u + 1 b_u                             upscaled priors (M × E)
/// ξ⁰ = x_n,  ξᵗ⁺¹ = softmax(β ξᵗ Uᵀ) U          (t < T, the ``ModernHopfield`` update)
/// Y = X + Ξᵀ                                    residual back into the token stream
/// ```
///
/// Choices (documented in Docs/AssociativeTransformer.md, following the authors' released code
/// where the paper is silent):
/// - **Top-k is made trainable by masking**: the k largest logits of each prior row are kept, the
///   softmax runs over them alone and the other entries are exactly 0, so gradients reach the
///   admitted logits only (the selection itself has no gradient; no straight-through estimator).
/// - **Per image**: each image's priors attend to that image's N patches (the released code pools
///   the patches of the whole minibatch); k ≤ N is therefore a per-image bound.
/// - **The memory is a state, not a weight**: the EMA update is applied without a gradient (as the
///   released code does), so in training the bottleneck's parameters learn only through the balance
///   loss, and the token stream depends on them only through the memory used by later batches.
///   Except with ``MemoryUpdate/gradient`` (not the paper's): γ is then a trained parameter,
///   ∂γ = ∂U W_uᵀ + ∂Q W_Qᵀ, projected back onto the unit sphere after each optimiser step.
/// - The EMA uses the updated memory in the same forward pass (γ is updated, then upscaled).
///
/// Mathematical properties:
/// - With k = N the bottleneck is plain multi-head cross-attention from the priors to the patches.
/// - The retrieval is T steps of ``ModernHopfield/update(_:into:workspace:)`` on the stored
///   patterns U, so each step descends the modern Hopfield energy of U (a CCCP step).
/// - The EMA keeps every prior a unit vector; with ``MemoryUpdate/gradient`` the training step's
///   projection (``projectMemoryOntoSphere()``) does.
///
/// Reference: Y. Sun, H. Ochiai, Z. Wu, S. Lin, R. Kanai, "Associative Transformer",
/// arXiv:2309.12862 (CVPR 2025).
public struct GlobalWorkspaceLayer<Scalar: LinearAlgebraScalar>: Sendable {
  /// Shape and settings.
  public let configuration: GlobalWorkspaceConfiguration
  /// The trainable weights.
  public var parameters: GlobalWorkspaceParameters<Scalar>
  /// The memory of priors γ (M × D), unit rows. (Set inside the module without the check only by
  /// ``VisionTransformer/parameters`` for ``MemoryUpdate/gradient``, where a gradient accumulator
  /// holds ∂γ here and a training step projects γ back onto the sphere before the next forward pass.)
  public internal(set) var memory: Matrix<Scalar>

  /// A layer with given weights and memory.
  ///
  /// - Throws: ``ModelError`` for an invalid configuration, wrongly shaped or non-finite weights,
  ///   or a memory whose rows are not finite unit vectors (within 10⁻⁴).
  public init(
    configuration: GlobalWorkspaceConfiguration, parameters: GlobalWorkspaceParameters<Scalar>, memory: Matrix<Scalar>
  ) throws(ModelError) {
    try configuration.validate()
    let shapes = GlobalWorkspaceParameters<Scalar>(zerosFor: configuration).all
    for (k, (given, needed)) in zip(parameters.all, shapes).enumerated() {
      let name = GlobalWorkspaceParameters<Scalar>.names[k]
      guard given.rows == needed.rows, given.columns == needed.columns else {
        throw .invalidParameter(
          name: name, value: "\(given.rows) × \(given.columns)", requirement: "\(needed.rows) × \(needed.columns)")
      }
      guard given.isFinite else {
        throw .invalidParameter(name: name, value: "non-finite entries", requirement: "finite")
      }
    }
    guard memory.rows == configuration.priorCount, memory.columns == configuration.priorWidth else {
      throw .invalidParameter(
        name: "memory", value: "\(memory.rows) × \(memory.columns)",
        requirement: "\(configuration.priorCount) × \(configuration.priorWidth)")
    }
    guard memory.isFinite, memory.rowNorms().allSatisfy({ abs(Double($0) - 1) < 1e-4 }) else {
      throw .invalidParameter(name: "memory", value: "rows not finite unit vectors", requirement: "L2-normalised rows")
    }
    self.configuration = configuration
    self.parameters = parameters
    self.memory = memory
  }

  /// A seeded layer: weights from ``GlobalWorkspaceParameters/random(for:seed:)``, memory from
  /// ``initialMemory(_:seed:)`` with the configured initialisation.
  public init(configuration: GlobalWorkspaceConfiguration, seed: UInt64) throws(ModelError) {
    try configuration.validate()
    try self.init(
      configuration: configuration, parameters: .random(for: configuration, seed: seed),
      memory: Self.initialMemory(configuration, seed: seed &+ 1))
  }

  /// The memory γ (M × D) of `configuration`'s initialisation, rows L2-normalised.
  public static func initialMemory(_ c: GlobalWorkspaceConfiguration, seed: UInt64) -> Matrix<Scalar> {
    var rng = SeededGenerator(seed: seed)
    var g = Matrix<Scalar>(rows: c.priorCount, columns: c.priorWidth)
    switch c.priorInitialization {
    case .gaussian: g = rng.gaussianMatrix(rows: c.priorCount, columns: c.priorWidth)
    case .uniform:
      g.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Scalar(2 * rng.nextUniform() - 1) } }
    case .identity:
      for m in 0..<c.priorCount { g[m, m % c.priorWidth] = 1 }
    }
    normalizeRows(&g)
    return g
  }

  /// Replaces the memory (for instance with a trained one).
  ///
  /// - Throws: ``ModelError`` if the shape is wrong or the rows are not finite unit vectors.
  public mutating func setMemory(_ newMemory: Matrix<Scalar>) throws(ModelError) {
    self = try Self(configuration: configuration, parameters: parameters, memory: newMemory)
  }

  /// Every buffer of a forward and backward pass over `batchSize` images, preallocated.
  public struct Workspace: Sendable {
    /// Images in the batch.
    public let batchSize: Int
    var squashed: Matrix<Scalar>  // S, B·N × D
    var keys: Matrix<Scalar>  // S W_K, B·N × D
    var values: Matrix<Scalar>  // S W_V, B·N × D
    var queries: Matrix<Scalar>  // γ W_Q, M × D
    var weights: Matrix<Scalar>  // P, (B·H·M) × N, block (b, h)
    var admitted: Matrix<Scalar>  // 0/1 mask of the top-k, same layout as weights
    var competitive: Matrix<Scalar>  // log C (the priors' log-softmax) with competition, same layout; else empty
    var headOutputs: Matrix<Scalar>  // [P_h (S W_V)_h], B·M × D
    /// The bottleneck's output O of every image, B·M × D.
    public internal(set) var bottleneckOutput: Matrix<Scalar>
    /// The memory used for the retrieval (after the EMA when it ran), M × D.
    public internal(set) var usedMemory: Matrix<Scalar>
    /// The upscaled priors U = γ W_u + b_u, M × E (the Hopfield network's stored patterns).
    public internal(set) var upscaled: Matrix<Scalar>
    var states: [Matrix<Scalar>]  // ξ⁰ … ξᵀ, B·N × E each
    var probabilities: [Matrix<Scalar>]  // softmax(β ξᵗ Uᵀ), B·N × M each
    var hopfield: ModernHopfield<Scalar>.Workspace?
    /// The top-k admission mask of the last bottleneck pass: 1 where patch n was admitted for prior
    /// m in head h of image b, row (b·H + h)·M + m, column n.
    public var admittedMask: Matrix<Scalar> { admitted }
    /// The bottleneck weights P of the last pass, laid out as ``admittedMask``: row (g·H + h)·M + m,
    /// column n of selection group g (an image, or the whole batch for ``SelectionScope/batch``).
    public var bottleneckWeights: Matrix<Scalar> { weights }
    /// The Hopfield attention weights softmax(β ξᵗ Uᵀ) of step t of the last retrieval (B·N × M).
    public func retrievalWeights(step t: Int) -> Matrix<Scalar> { probabilities[t] }
    /// The balance loss of the last forward pass.
    public internal(set) var balanceLoss: Scalar = 0
    // Backward scratch.
    var dHeads: Matrix<Scalar>  // B·M × D
    var dWeights: Matrix<Scalar>  // M × G (G = patches per selection)
    var dQueries: Matrix<Scalar>  // M × D
    var dKeys: Matrix<Scalar>  // B·N × D
    var dValues: Matrix<Scalar>  // B·N × D
    var dSquashed: Matrix<Scalar>  // B·N × D
    var dState: Matrix<Scalar>  // B·N × E
    var dLogits: Matrix<Scalar>  // B·N × M
    var dUpscaled: Matrix<Scalar>  // M × E
    var dStateNext: Matrix<Scalar>  // B·N × E
    var order: [Int]  // top-k selection scratch, G
    var importance: [Double]  // Σ_m P[m, n] of one block, G
    var loads: [Double]  // admissions of each patch in one block, G
    var bottleneckMemory: Matrix<Scalar>  // γ as the bottleneck saw it (before the EMA), M × D
    var memoryStep: Matrix<Scalar>  // the residual-norm update's batch mean of LN(γ + O), M × D (kmeans: c_m)
    var nearestPrior: [Int]  // kmeans: each patch's prior (B·N; empty otherwise)
    var nearestCosine: [Double]  // kmeans: its cosine (B·N; empty otherwise)
    var clusterSize: [Int]  // kmeans: patches per prior (M; empty otherwise)
    var dMemory: Matrix<Scalar>  // ∂γ (``MemoryUpdate/gradient``), M × D
    /// ∂γ of the last ``GlobalWorkspaceLayer/backward(tokens:outputGradient:bottleneckOutputGradient:workspace:gradients:tokenGradient:)``
    /// with ``MemoryUpdate/gradient`` (M × D; zero for the other memory updates, whose memory is a state).
    public var memoryGradient: Matrix<Scalar> { dMemory }
  }

  /// Buffers for batches of exactly `batchSize` images.
  public func makeWorkspace(batchSize: Int) -> Workspace {
    let c = configuration
    let b = batchSize, n = c.patchCount, d = c.priorWidth, e = c.width, m = c.priorCount, h = c.heads
    let g = c.selectionPatches(batchSize: b)
    return Workspace(
      batchSize: b, squashed: Matrix(rows: b * n, columns: d), keys: Matrix(rows: b * n, columns: d),
      values: Matrix(rows: b * n, columns: d), queries: Matrix(rows: m, columns: d),
      weights: Matrix(rows: b * h * m, columns: n), admitted: Matrix(rows: b * h * m, columns: n),
      competitive: c.competition == .priors ? Matrix(rows: b * h * m, columns: n) : Matrix(rows: 0, columns: 0),
      headOutputs: Matrix(rows: b * m, columns: d), bottleneckOutput: Matrix(rows: b * m, columns: d),
      usedMemory: Matrix(rows: m, columns: d), upscaled: Matrix(rows: m, columns: e),
      states: Array(repeating: Matrix(rows: b * n, columns: e), count: c.hopfieldSteps + 1),
      probabilities: Array(repeating: Matrix(rows: b * n, columns: m), count: c.hopfieldSteps), hopfield: nil,
      dHeads: Matrix(rows: b * m, columns: d), dWeights: Matrix(rows: m, columns: g),
      dQueries: Matrix(rows: m, columns: d), dKeys: Matrix(rows: b * n, columns: d),
      dValues: Matrix(rows: b * n, columns: d), dSquashed: Matrix(rows: b * n, columns: d),
      dState: Matrix(rows: b * n, columns: e), dLogits: Matrix(rows: b * n, columns: m),
      dUpscaled: Matrix(rows: m, columns: e), dStateNext: Matrix(rows: b * n, columns: e), order: Array(0..<g),
      importance: Array(repeating: 0, count: g), loads: Array(repeating: 0, count: g),
      bottleneckMemory: Matrix(rows: m, columns: d), memoryStep: Matrix(rows: m, columns: d),
      nearestPrior: c.memoryUpdate == .kmeans ? Array(repeating: 0, count: b * n) : [],
      nearestCosine: c.memoryUpdate == .kmeans ? Array(repeating: 0, count: b * n) : [],
      clusterSize: c.memoryUpdate == .kmeans ? Array(repeating: 0, count: m) : [],
      dMemory: Matrix(rows: m, columns: d))
  }

  /// Checks a batch of patch tokens: B·N × E with B ≥ 1, finite.
  ///
  /// - Throws: ``ModelError/invalidParameter(name:value:requirement:)``.
  public func validate(tokens: Matrix<Scalar>) throws(ModelError) {
    let n = configuration.patchCount, e = configuration.width
    guard tokens.rows >= n, tokens.rows % n == 0, tokens.columns == e else {
      throw .invalidParameter(
        name: "tokens", value: "\(tokens.rows) × \(tokens.columns)",
        requirement: "B·\(n) × \(e) (N = \(n) patches of width E = \(e) per image, B ≥ 1)")
    }
    guard tokens.isFinite else {
      throw .invalidParameter(name: "tokens", value: "non-finite entries", requirement: "finite")
    }
  }

  /// One ``MemoryUpdate/kmeans`` step from the squashed patches of the last bottleneck pass: assign,
  /// average, move the assigned priors by the EMA, re-seed the others (rows renormalised).
  mutating func kmeansStep(momentum mu: Scalar, workspace ws: inout Workspace) {
    let m = configuration.priorCount, d = configuration.priorWidth, rows = ws.squashed.rows
    for i in 0..<m { ws.clusterSize[i] = 0 }
    ws.memoryStep.withUnsafeMutableBufferPointer { step in
      for i in 0..<(m * d) { step[i] = 0 }
    }
    memory.withUnsafeBufferPointer { g in
      ws.squashed.withUnsafeBufferPointer { sq in
        ws.memoryStep.withUnsafeMutableBufferPointer { step in
          for r in 0..<rows {
            var norm = 0.0
            for j in 0..<d { norm += Double(sq[r * d + j]) * Double(sq[r * d + j]) }
            norm = norm.squareRoot()
            guard norm > 0 else {
              ws.nearestPrior[r] = -1
              ws.nearestCosine[r] = .infinity  // never a re-seeding target
              continue
            }
            var best = 0, bestDot = -Double.infinity
            for p in 0..<m {
              var dot = 0.0
              for j in 0..<d { dot += Double(g[p * d + j]) * Double(sq[r * d + j]) }
              if dot > bestDot { (best, bestDot) = (p, dot) }
            }
            ws.nearestPrior[r] = best
            ws.nearestCosine[r] = bestDot / norm
            ws.clusterSize[best] += 1
            for j in 0..<d { step[best * d + j] += Scalar(Double(sq[r * d + j]) / norm) }
          }
        }
      }
    }
    // Priors no patch chose take the worst-matched patches, in order of increasing cosine (arrays
    // are made only then: after the first steps a prior is rarely left without patches).
    var dead: [Int] = [], targets: [Int] = []
    if ws.clusterSize.contains(0) {
      dead = (0..<m).filter { ws.clusterSize[$0] == 0 }
      targets = (0..<rows).filter { ws.nearestPrior[$0] >= 0 }.sorted {
        (ws.nearestCosine[$0], $0) < (ws.nearestCosine[$1], $1)
      }
    }
    memory.withUnsafeMutableBufferPointer { g in
      ws.memoryStep.withUnsafeBufferPointer { step in
        for p in 0..<m where ws.clusterSize[p] > 0 {
          let inv = (1 - mu) / Scalar(ws.clusterSize[p])
          for j in 0..<d { g[p * d + j] = mu * g[p * d + j] + inv * step[p * d + j] }
        }
      }
      ws.squashed.withUnsafeBufferPointer { sq in
        for (p, r) in zip(dead, targets) {
          for j in 0..<d { g[p * d + j] = sq[r * d + j] }
        }
      }
    }
  }

  /// The layer's output Y = X + Ξᵀ for a batch of patch tokens (B·N × E, image b in rows b·N ..< (b+1)·N).
  ///
  /// With `updateMemory` true and a momentum set, the memory takes one EMA step from this batch
  /// before the retrieval (training); otherwise it is left as it is (evaluation).
  ///
  /// - Throws: ``ModelError`` for tokens of the wrong shape or with non-finite entries.
  public mutating func forward(
    _ tokens: Matrix<Scalar>, updateMemory: Bool, workspace ws: inout Workspace
  ) throws(ModelError) -> Matrix<Scalar> {
    try validate(tokens: tokens)
    precondition(tokens.rows == ws.batchSize * configuration.patchCount, "forward: workspace is for another batch size")
    bottleneck(tokens, workspace: &ws)
    if updateMemory, let mu = configuration.memoryMomentum, configuration.memoryUpdate != .gradient {
      // One output O per selection group: per image (B of them) or per batch (one).
      let b = configuration.selectionGroups(batchSize: ws.batchSize)
      let m = configuration.priorCount, d = configuration.priorWidth
      let mix = (1 - Scalar(mu)) / Scalar(b)
      switch configuration.memoryUpdate {
      case .ema:
        memory.withUnsafeMutableBufferPointer { g in
          ws.bottleneckOutput.withUnsafeBufferPointer { o in
            for i in 0..<(m * d) { g[i] *= Scalar(mu) }
            for image in 0..<b {
              for i in 0..<(m * d) { g[i] += mix * o[image * m * d + i] }
            }
          }
        }
      case .centered:
        memory.withUnsafeMutableBufferPointer { g in
          ws.bottleneckOutput.withUnsafeBufferPointer { o in
            ws.memoryStep.withUnsafeMutableBufferPointer { step in
              // step = Ō − 1 ō (ō: the mean over the priors), scaled by (1 − μ); then γ ← μ γ + step.
              for i in 0..<(m * d) { step[i] = 0 }
              for image in 0..<b {
                for i in 0..<(m * d) { step[i] += mix * o[image * m * d + i] }
              }
              for j in 0..<d {
                var mean: Scalar = 0
                for row in 0..<m { mean += step[row * d + j] }
                mean /= Scalar(m)
                for row in 0..<m { step[row * d + j] -= mean }
              }
              for i in 0..<(m * d) { g[i] = Scalar(mu) * g[i] + step[i] }
            }
          }
        }
      case .gradient: break  // excluded above: γ is trained by the optimiser
      case .kmeans: kmeansStep(momentum: Scalar(mu), workspace: &ws)
      case .residualNorm:
        memory.withUnsafeMutableBufferPointer { g in
          ws.bottleneckOutput.withUnsafeBufferPointer { o in
            ws.memoryStep.withUnsafeMutableBufferPointer { step in
              // step = mean over the batch of LN(γ + O_b), γ still the old memory; then γ ← μ γ + (1 − μ) step.
              for i in 0..<(m * d) { step[i] = 0 }
              for image in 0..<b {
                let base = image * m * d
                for row in 0..<m {
                  var mean = 0.0, square = 0.0
                  for j in 0..<d { mean += Double(g[row * d + j]) + Double(o[base + row * d + j]) }
                  mean /= Double(d)
                  for j in 0..<d {
                    let v = Double(g[row * d + j]) + Double(o[base + row * d + j]) - mean
                    square += v * v
                  }
                  let inv = 1 / (square / Double(d) + 1e-5).squareRoot()
                  for j in 0..<d {
                    let v = Double(g[row * d + j]) + Double(o[base + row * d + j]) - mean
                    step[row * d + j] += mix * Scalar(v * inv)
                  }
                }
              }
              for i in 0..<(m * d) { g[i] = Scalar(mu) * g[i] + step[i] }
            }
          }
        }
      }
      Self.normalizeRows(&memory)
    }
    try retrieve(tokens, memory: memory, workspace: &ws)
    var y = ws.states[configuration.hopfieldSteps]
    y.withUnsafeMutableBufferPointer { p in
      tokens.withUnsafeBufferPointer { x in for i in p.indices { p[i] += x[i] } }
    }
    return y
  }

  /// The bottleneck attention and its balance loss (into the workspace): O = ``Workspace/bottleneckOutput``,
  /// L_bal = ``Workspace/balanceLoss``, with the memory as it is now. The tokens must be valid
  /// (``validate(tokens:)``) and fill the workspace's batch; a mismatch is a programming error.
  public func bottleneck(_ tokens: Matrix<Scalar>, workspace ws: inout Workspace) {
    precondition(
      tokens.rows == ws.batchSize * configuration.patchCount && tokens.columns == configuration.width,
      "bottleneck: tokens must be B·N × E for the workspace's batch")
    let c = configuration
    let d = c.priorWidth, m = c.priorCount, heads = c.heads, dh = c.headWidth
    // Selection groups: each image's N patches, or the batch's B·N patches at once (``SelectionScope``).
    let groups = c.selectionGroups(batchSize: ws.batchSize), n = c.selectionPatches(batchSize: ws.batchSize)
    let k = c.bottleneck, s = Scalar(c.logitScale), compete = c.competition == .priors
    // With a gradient-trained memory O feeds nothing (the balance loss uses P alone): not computed.
    let readsOutput = c.memoryUpdate != .gradient
    let p = parameters
    Matrix.multiply(tokens, p.squash, into: &ws.squashed)
    Matrix.multiply(ws.squashed, p.key, into: &ws.keys)
    if readsOutput { Matrix.multiply(ws.squashed, p.value, into: &ws.values) }
    Matrix.multiply(memory, p.query, into: &ws.queries)
    ws.bottleneckMemory.assign(memory)
    var balance = 0.0
    for group in 0..<groups {
      for h in 0..<heads {
        let block = (group * heads + h) * m * n
        ws.queries.withUnsafeBufferPointer { q in
          ws.keys.withUnsafeBufferPointer { kk in
            ws.weights.withUnsafeMutableBufferPointer { w in
              // A_h = s Q_h K_hᵀ   (M × G)
              Scalar.gemm(
                transposeA: false, transposeB: true, m: m, n: n, k: dh, alpha: s, a: q.baseAddress! + h * dh, lda: d,
                b: kk.baseAddress! + group * n * d + h * dh, ldb: d, beta: 0, c: w.baseAddress! + block, ldc: n)
            }
          }
        }
        if compete {
          // log C = A − log Σ_m exp A[m, ·]: the priors' softmax for each patch, kept for the backward.
          ws.weights.withUnsafeMutableBufferPointer { w in
            ws.competitive.withUnsafeMutableBufferPointer { lc in
              Self.columnLogSoftmax(w.baseAddress! + block, rows: m, columns: n)
              for i in 0..<(m * n) { lc[block + i] = w[block + i] }
            }
          }
        }
        ws.weights.withUnsafeMutableBufferPointer { w in
          ws.admitted.withUnsafeMutableBufferPointer { a in
            ws.order.withUnsafeMutableBufferPointer { order in
              // Softmax over the top-k of each row; on log C it is C renormalised over the admitted patches.
              for row in 0..<m {
                Self.maskedSoftmax(
                  w.baseAddress! + block + row * n, mask: a.baseAddress! + block + row * n, count: n, k: k,
                  order: order)
              }
            }
          }
        }
        ws.weights.withUnsafeBufferPointer { w in
          if readsOutput {
            ws.values.withUnsafeBufferPointer { v in
              ws.headOutputs.withUnsafeMutableBufferPointer { o in
                // P_h V_h   (M × D_h)
                Scalar.gemm(
                  transposeA: false, transposeB: false, m: m, n: dh, k: n, alpha: 1, a: w.baseAddress! + block,
                  lda: n, b: v.baseAddress! + group * n * d + h * dh, ldb: d, beta: 0,
                  c: o.baseAddress! + group * m * d + h * dh, ldc: d)
              }
            }
          }
          ws.admitted.withUnsafeBufferPointer { a in
            Self.columnSums(w.baseAddress! + block, rows: m, columns: n, into: &ws.importance)
            Self.columnSums(a.baseAddress! + block, rows: m, columns: n, into: &ws.loads)
          }
        }
        balance +=
          Self.coefficientOfVariationSquared(ws.importance, count: n)
          + Self.coefficientOfVariationSquared(ws.loads, count: n)
      }
    }
    if readsOutput { Matrix.multiply(ws.headOutputs, p.output, into: &ws.bottleneckOutput) }
    ws.balanceLoss = Scalar(c.balanceCoefficient * balance / Double(groups))
  }

  /// The Hopfield retrieval of every patch with the upscaled priors of `memory` (M × D; it becomes
  /// ``Workspace/usedMemory``): U = γ W_u + b_u, then T steps of the framework's ``ModernHopfield``
  /// update from ξ⁰ = x. The states ξ⁰ … ξᵀ and each step's attention weights are kept for the
  /// backward pass.
  ///
  /// - Throws: ``ModelError`` if the upscaled priors are not finite.
  public func retrieve(_ tokens: Matrix<Scalar>, memory g: Matrix<Scalar>, workspace ws: inout Workspace)
    throws(ModelError)
  {
    precondition(
      g.rows == configuration.priorCount && g.columns == configuration.priorWidth, "retrieve: memory must be M × D")
    ws.usedMemory.assign(g)
    precondition(
      tokens.rows == ws.batchSize * configuration.patchCount && tokens.columns == configuration.width,
      "retrieve: tokens must be B·N × E for the workspace's batch")
    let network = try hopfieldNetwork(memory: ws.usedMemory, upscaled: &ws.upscaled)
    var hw = ws.hopfield ?? network.makeWorkspace(batchSize: tokens.rows)
    ws.hopfield = nil  // keep the buffers uniquely referenced, so the steps below write in place
    // The scratch is reused across networks; drop the caches that belong to the previous patterns.
    hw.patternColumns = nil
    hw.energyBuffers = nil
    ws.states[0].assign(tokens)
    for t in 0..<configuration.hopfieldSteps {
      network.update(ws.states[t], into: &ws.states[t + 1], workspace: &hw)
      ws.probabilities[t].assign(hw.logits)  // softmax(β ξᵗ Uᵀ), left in the workspace by the update
    }
    ws.hopfield = hw
  }

  /// The modern Hopfield network whose stored patterns are the upscaled priors U = γ W_u + b_u
  /// (written into `upscaled`) at the configured β.
  public func hopfieldNetwork(memory g: Matrix<Scalar>, upscaled: inout Matrix<Scalar>) throws(ModelError)
    -> ModernHopfield<Scalar>
  {
    Matrix.multiply(g, parameters.upscale, into: &upscaled)
    let e = configuration.width
    upscaled.withUnsafeMutableBufferPointer { u in
      parameters.upscaleBias.withUnsafeBufferPointer { bias in
        for r in 0..<g.rows { for j in 0..<e { u[r * e + j] += bias[j] } }
      }
    }
    return try ModernHopfield(patterns: upscaled, beta: Scalar(configuration.beta))
  }

  /// Mean and largest cosine between two different priors of the memory, over all M(M − 1)/2 pairs
  /// (the rows are unit vectors, so the cosine is γ_i · γ_j); 1 for both when the memory has
  /// collapsed onto one vector, (0, 0) for a single prior.
  public var priorCosines: (mean: Double, max: Double) {
    let m = memory.rows, d = memory.columns
    guard m > 1 else { return (0, 0) }
    var sum = 0.0, largest = -Double.infinity
    for i in 0..<m {
      for j in (i + 1)..<m {
        var dot = 0.0
        for k in 0..<d { dot += Double(memory[i, k]) * Double(memory[j, k]) }
        sum += dot
        largest = max(largest, dot)
      }
    }
    return (sum / Double(m * (m - 1) / 2), largest)
  }

  /// What the memory's last training step was pulled toward, and how much the priors' selections
  /// overlapped, from the buffers of the last forward pass (the collapse diagnostics).
  public struct SelectionDiagnostics: Sendable, Codable, Equatable {
    /// Mean over selection groups, heads and pairs of different priors of |S_m ∩ S_m'| / k, where
    /// S_m is the set of patches prior m admitted: 1 when every prior admits the same patches.
    public var overlap: Double
    /// The overlap that independent uniformly random k-subsets of G patches would have: k / G.
    public var chanceOverlap: Double
    /// Mean cosine between different rows of the memory's step target (the mean over the groups of
    /// O, of LN(γ + O) for ``MemoryUpdate/residualNorm``, centred over the priors for
    /// ``MemoryUpdate/centered``, the cluster means for ``MemoryUpdate/kmeans``): 1 when the EMA
    /// pulls every prior to the same vector.
    public var targetCosine: Double
  }

  /// ``SelectionDiagnostics`` of the last forward pass in `ws` (the memory is the one the bottleneck
  /// saw). With ``MemoryUpdate/gradient`` there is no step target: its cosine is reported as 0.
  public func selectionDiagnostics(_ ws: Workspace) -> SelectionDiagnostics {
    let c = configuration
    let groups = c.selectionGroups(batchSize: ws.batchSize), n = c.selectionPatches(batchSize: ws.batchSize)
    let m = c.priorCount, d = c.priorWidth, k = c.bottleneck
    var overlap = 0.0, pairs = 0
    ws.admitted.withUnsafeBufferPointer { a in
      for block in 0..<(groups * c.heads) {
        let base = block * m * n
        for i in 0..<m {
          for j in (i + 1)..<m {
            var shared = 0.0
            for col in 0..<n { shared += Double(a[base + i * n + col] * a[base + j * n + col]) }
            overlap += shared / Double(k)
            pairs += 1
          }
        }
      }
    }
    if c.memoryUpdate == .gradient {
      return SelectionDiagnostics(
        overlap: pairs > 0 ? overlap / Double(pairs) : 0, chanceOverlap: Double(k) / Double(n), targetCosine: 0)
    }
    // The step target, row by row, as the memory update forms it (kmeans: the cluster means c_m, a
    // prior without patches counted as a zero row, which adds 0 to the cosine).
    var target = [Double](repeating: 0, count: m * d)
    if c.memoryUpdate == .kmeans {
      for row in 0..<m { for j in 0..<d { target[row * d + j] = Double(ws.memoryStep[row, j]) } }
    }
    for group in 0..<groups where c.memoryUpdate != .kmeans {
      for row in 0..<m {
        var v = (0..<d).map { Double(ws.bottleneckOutput[group * m + row, $0]) }
        if c.memoryUpdate == .residualNorm {
          for j in 0..<d { v[j] += Double(ws.bottleneckMemory[row, j]) }
          let mean = v.reduce(0, +) / Double(d)
          let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d) + 1e-5).squareRoot()
          v = v.map { ($0 - mean) / sd }
        }
        for j in 0..<d { target[row * d + j] += v[j] / Double(groups) }
      }
    }
    if c.memoryUpdate == .centered {
      for j in 0..<d {
        let mean = (0..<m).reduce(0.0) { $0 + target[$1 * d + j] } / Double(m)
        for row in 0..<m { target[row * d + j] -= mean }
      }
    }
    var cosine = 0.0, cosinePairs = 0
    for i in 0..<m {
      for j in (i + 1)..<m {
        var dot = 0.0, ni = 0.0, nj = 0.0
        for t in 0..<d {
          dot += target[i * d + t] * target[j * d + t]
          ni += target[i * d + t] * target[i * d + t]
          nj += target[j * d + t] * target[j * d + t]
        }
        cosine += ni > 0 && nj > 0 ? dot / (ni * nj).squareRoot() : 0
        cosinePairs += 1
      }
    }
    return SelectionDiagnostics(
      overlap: pairs > 0 ? overlap / Double(pairs) : 0, chanceOverlap: Double(k) / Double(n),
      targetCosine: cosinePairs > 0 ? cosine / Double(cosinePairs) : 0)
  }

  /// The stored patterns of the retrieval for the current memory: U = γ W_u + b_u (M × E).
  public var upscaledPriors: Matrix<Scalar> {
    var u = Matrix<Scalar>(rows: configuration.priorCount, columns: configuration.width)
    Matrix.multiply(memory, parameters.upscale, into: &u)
    for r in 0..<u.rows { for j in 0..<u.columns { u[r, j] += parameters.upscaleBias[0, j] } }
    return u
  }

  /// Renormalises every row of the memory to unit length (a zero row stays zero): the projection
  /// onto the sphere that follows each optimiser step of a ``MemoryUpdate/gradient`` memory.
  public mutating func projectMemoryOntoSphere() { Self.normalizeRows(&memory) }

  // MARK: Kernels

  /// Rows scaled to unit L2 norm (a zero row is left zero).
  static func normalizeRows(_ g: inout Matrix<Scalar>) {
    let d = g.columns
    g.withUnsafeMutableBufferPointer { p in
      for r in 0..<(d == 0 ? 0 : p.count / d) {
        var sum = 0.0
        for j in 0..<d { sum += Double(p[r * d + j]) * Double(p[r * d + j]) }
        guard sum > 0 else { continue }
        let inv = Scalar(1 / sum.squareRoot())
        for j in 0..<d { p[r * d + j] *= inv }
      }
    }
  }

  /// In place on one row of `count` logits: the `k` largest (ties to the lower index) get the
  /// softmax over those k alone, the rest 0; `mask` receives 1 for admitted entries, 0 otherwise.
  static func maskedSoftmax(
    _ x: UnsafeMutablePointer<Scalar>, mask: UnsafeMutablePointer<Scalar>, count n: Int, k: Int,
    order: UnsafeMutableBufferPointer<Int>
  ) {
    for i in 0..<n { order[i] = i }
    if k < n {
      // Partial selection sort is enough for the patch counts here (N ≤ a few hundred, k ≤ N).
      for a in 0..<k {
        var best = a
        for j in (a + 1)..<n
        where x[order[j]] > x[order[best]] || (x[order[j]] == x[order[best]] && order[j] < order[best]) {
          best = j
        }
        order.swapAt(a, best)
      }
    }
    for i in 0..<n { mask[i] = 0 }
    var top = -Scalar.infinity
    for a in 0..<k {
      mask[order[a]] = 1
      top = max(top, x[order[a]])
    }
    var sum: Scalar = 0
    for i in 0..<n {
      if mask[i] == 1 {
        x[i] = Scalar.exp(x[i] - top)
        sum += x[i]
      } else {
        x[i] = 0
      }
    }
    for i in 0..<n { x[i] /= sum }
  }

  /// In place on a rows × columns block: every column replaced by its log-softmax over the rows.
  static func columnLogSoftmax(_ x: UnsafeMutablePointer<Scalar>, rows m: Int, columns n: Int) {
    for j in 0..<n {
      var top = -Scalar.infinity
      for r in 0..<m { top = max(top, x[r * n + j]) }
      var sum: Scalar = 0
      for r in 0..<m { sum += Scalar.exp(x[r * n + j] - top) }
      let shift = top + Scalar.log(sum)
      for r in 0..<m { x[r * n + j] -= shift }
    }
  }

  /// cv²(v) = var(v) / (mean(v)² + 10⁻¹⁰) with the unbiased variance (0 for a single entry).
  static func coefficientOfVariationSquared(_ v: UnsafePointer<Double>, count n: Int) -> Double {
    guard n > 1 else { return 0 }
    var mean = 0.0
    for i in 0..<n { mean += v[i] }
    mean /= Double(n)
    var variance = 0.0
    for i in 0..<n { variance += (v[i] - mean) * (v[i] - mean) }
    variance /= Double(n - 1)
    return variance / (mean * mean + 1e-10)
  }

  /// out[j] ← Σ_r x[r, j] of a rows × columns block, in double precision.
  static func columnSums(_ x: UnsafePointer<Scalar>, rows m: Int, columns n: Int, into out: inout [Double]) {
    for j in 0..<n { out[j] = 0 }
    for r in 0..<m { for j in 0..<n { out[j] += Double(x[r * n + j]) } }
  }
}
