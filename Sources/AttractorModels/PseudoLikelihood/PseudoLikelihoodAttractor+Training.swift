import Foundation
import AttractorCore
import AttractorLinearAlgebra

/// Which learning rule trains a ``PseudoLikelihoodAttractor`` (no backpropagation in either).
public enum PseudoLikelihoodLearningRule: Sendable, Equatable, Codable, CustomStringConvertible {
  /// Gradient descent on the local energies of the data: ΔJ_ij = η (⟨α_{i←j} x_i x_jᵀ⟩_data − κ J_ij).
  case local
  /// Contrastive divergence: ΔJ_ij = η (⟨α_{i←j} x_i x_jᵀ⟩_data − ⟨α_{i←j} x_i x_jᵀ⟩_model − κ J_ij),
  /// the model states obtained by `steps` synchronous updates of the model's own dynamics started at
  /// the data.
  case contrastive(steps: Int)

  public var description: String {
    switch self {
    case .local: return "local"
    case .contrastive(let steps): return "contrastive (\(steps) steps)"
    }
  }
}

extension PseudoLikelihoodAttractor {
  /// Buffers for the learning rules on minibatches of up to `batchSize` states: the forward
  /// workspace, the attention-weighted tokens of one source (B × N·d), the model states of the
  /// contrastive rule, and the data and model Hebbian terms (source-major, N·N·d × d); for the fused
  /// step, the model states' attention weights (B × N × N), the squared block norms (N × N) and the
  /// kernels' scratch (B × d).
  public struct TrainingWorkspace: Sendable {
    var forward: Workspace
    var weighted: Matrix<Scalar>
    var modelStates: Matrix<Scalar>
    var scratch: Matrix<Scalar>
    var dataTerm: Matrix<Scalar>
    var modelTerm: Matrix<Scalar>
    var modelAttention: [Scalar]
    var blockNorms: [Scalar]
    var kernelScratch: [Scalar]
  }

  /// Training buffers for minibatches of exactly `batchSize` states.
  public func makeTrainingWorkspace(batchSize: Int) -> TrainingWorkspace {
    let n = tokenCount, d = tokenWidth
    return TrainingWorkspace(
      forward: makeWorkspace(batchSize: batchSize), weighted: Matrix(rows: batchSize, columns: n * d),
      modelStates: Matrix(rows: batchSize, columns: n * d), scratch: Matrix(rows: batchSize, columns: n * d),
      dataTerm: Matrix(rows: n * n * d, columns: d), modelTerm: Matrix(rows: n * n * d, columns: d),
      modelAttention: Array(repeating: 0, count: batchSize * n * n), blockNorms: Array(repeating: 0, count: n * n),
      kernelScratch: Array(repeating: 0, count: batchSize * d))
  }

  /// The mean Hebbian term of a batch, −∂⟨e_i⟩/∂J_ij = ⟨α_{i←j} x_i x_jᵀ⟩ for every ordered pair, in
  /// source-major layout (rows (j·N + i)·d … hold the (i, j) block; diagonal blocks zero), and the
  /// mean summed local energy ⟨Σ_i e_i⟩ of the batch.
  ///
  /// One forward pass, then one GEMM per source token j: the N·d × d block column is S_jᵀ X_j / B,
  /// where block i of S_j (B × d) is α_{i←j} x_i row by row.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  @discardableResult
  func hebbianTerm(
    _ states: Matrix<Scalar>, into term: inout Matrix<Scalar>, weighted: inout Matrix<Scalar>,
    workspace ws: inout Workspace
  ) -> Double {
    let b = states.rows, n = tokenCount, d = tokenWidth, nd = n * d
    attentionWeights(states, workspace: &ws)
    var cost = 0.0
    let inverseLambda = 1 / configuration.inverseTemperature
    for k in 0..<(b * n) { cost -= (Double(ws.maxima[k]) + Foundation.log(Double(ws.sums[k]))) * inverseLambda }
    let scale = 1 / Scalar(b)
    for j in 0..<n {
      states.withUnsafeBufferPointer { x in
        weighted.withUnsafeMutableBufferPointer { s in
          for r in 0..<b {
            for i in 0..<n {
              let base = r * nd + i * d
              if i == j {
                for a in 0..<d { s[base + a] = 0 }
                continue
              }
              let alpha = ws.logits[(r * n + i) * n + j]
              for a in 0..<d { s[base + a] = alpha * x[base + a] }
            }
          }
        }
      }
      weighted.withUnsafeBufferPointer { s in
        states.withUnsafeBufferPointer { x in
          term.withUnsafeMutableBufferPointer { g in
            Scalar.gemm(
              transposeA: true, transposeB: false, m: nd, n: d, k: b, alpha: scale,
              a: s.baseAddress!, lda: nd, b: x.baseAddress! + j * d, ldb: nd,
              beta: 0, c: g.baseAddress! + j * nd * d, ldc: d)
          }
        }
      }
    }
    return cost / Double(b)
  }

  /// The mean summed local energy ⟨Σ_i e_i(x^μ; J)⟩ over the rows of `states`: the negative log
  /// pseudo-likelihood cost the local rule descends (without its weight-decay term).
  public func meanCost(_ states: Matrix<Scalar>, batchSize: Int = 256) -> Double {
    var total = 0.0
    var ws = makeWorkspace(batchSize: min(batchSize, states.rows))
    var start = 0
    while start < states.rows {
      let end = min(start + batchSize, states.rows)
      let chunk = states.rows(at: start..<end)
      attentionWeights(chunk, workspace: &ws)
      for k in 0..<(chunk.rows * tokenCount) {
        total -= (Double(ws.maxima[k]) + Foundation.log(Double(ws.sums[k]))) / configuration.inverseTemperature
      }
      start = end
    }
    return total / Double(max(1, states.rows))
  }

  /// ∂⟨e_i⟩/∂J_ij of a batch as N·N·d × d in the natural (i, j) order: −⟨α_{i←j} x_i x_jᵀ⟩.
  public func localEnergyCouplingGradient(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var ws = makeTrainingWorkspace(batchSize: states.rows)
    hebbianTerm(states, into: &ws.dataTerm, weighted: &ws.weighted, workspace: &ws.forward)
    var g = Self.transposeBlocks(ws.dataTerm, tokens: tokenCount, width: tokenWidth)
    g.withUnsafeMutableBufferPointer { p in for k in p.indices { p[k] = -p[k] } }
    return g
  }

  /// The update direction of one step of `rule` on a batch (natural (i, j) order, without the
  /// weight decay): the data term ⟨α x_i x_jᵀ⟩_data, minus the model term for the contrastive rule.
  /// Exposed so that tests can check where the model term comes from.
  public func learningDirection(_ states: Matrix<Scalar>, rule: PseudoLikelihoodLearningRule) -> Matrix<Scalar> {
    var ws = makeTrainingWorkspace(batchSize: states.rows)
    _ = direction(states, rule: rule, workspace: &ws)
    return Self.transposeBlocks(ws.dataTerm, tokens: tokenCount, width: tokenWidth)
  }

  /// Leaves the direction (data term, minus model term when contrastive) in `ws.dataTerm`; returns
  /// the batch's mean cost.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  func direction(
    _ states: Matrix<Scalar>, rule: PseudoLikelihoodLearningRule, workspace ws: inout TrainingWorkspace
  ) -> Double {
    let cost = hebbianTerm(states, into: &ws.dataTerm, weighted: &ws.weighted, workspace: &ws.forward)
    if case .contrastive(let steps) = rule {
      // Model states: `steps` synchronous updates of the model's own dynamics from the data.
      ws.modelStates.assign(states)
      for _ in 0..<steps {
        update(ws.modelStates, into: &ws.scratch, workspace: &ws.forward)
        swap(&ws.modelStates, &ws.scratch)
      }
      hebbianTerm(ws.modelStates, into: &ws.modelTerm, weighted: &ws.weighted, workspace: &ws.forward)
      ws.modelTerm.withUnsafeBufferPointer { m in
        ws.dataTerm.withUnsafeMutableBufferPointer { g in
          for k in g.indices { g[k] -= m[k] }
        }
      }
    }
    return cost
  }

  /// Σ_{j≠i} ‖J_ij‖_F for every target token i: the quantity the training bound keeps ≤ B.
  public var couplingRowNorms: [Double] { rowNorms() }

  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  func rowNorms() -> [Double] {
    let n = tokenCount, d = tokenWidth, dd = d * d
    var out = [Double](repeating: 0, count: n)
    for j in 0..<n {
      for i in 0..<n where i != j {
        let base = (j * n + i) * dd
        let s = sourceMajorCouplings.withUnsafeBufferPointer { w in
          Double(Self.dot(w.baseAddress! + base, w.baseAddress! + base, count: dd))
        }
        out[i] += s.squareRoot()
      }
    }
    return out
  }

  /// Scales the couplings into token i by B / Σ_j ‖J_ij‖_F wherever that sum exceeds `bound`.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  mutating func project(onto bound: Double) {
    let norms = couplingRowNorms
    let n = tokenCount, d = tokenWidth, dd = d * d
    sourceMajorCouplings.withUnsafeMutableBufferPointer { w in
      for i in 0..<n where norms[i] > bound {
        let factor = Scalar(bound / norms[i])
        for j in 0..<n where j != i {
          let base = (j * n + i) * dd
          for k in 0..<dd { w[base + k] *= factor }
        }
      }
    }
  }
}

/// How a training step is computed: through GEMMs (``PseudoLikelihoodAttractor/direction(_:rule:workspace:)``,
/// any scalar type) or through the fused pair kernels (``/AttractorLinearAlgebra/PairAttentionKernels``,
/// Float only). `automatic` takes the fused kernels for Float when they run vectorised on this CPU.
enum PseudoLikelihoodTrainingKernels: Sendable, Equatable {
  case automatic
  case gemm
  case fused(vectorised: Bool)
}

extension PseudoLikelihoodAttractor {
  /// One minibatch step of `rule` through the fused pair kernels (Scalar must be Float):
  ///
  /// ```
  /// α     = softmax_j(λ x_iᵀ J_ij x_j)                   (logits kernel + softmax kernel; the data,
  ///                                                        and for the contrastive rule the model states)
  /// J_ij ← (1 − ηκ) J_ij + (η/B) Σ_r x_i^r (α^r_{i←j} x_j^r)ᵀ   [− (η/B) Σ_r over the model states]
  /// J_i· ← J_i· · min(1, bound / Σ_j ‖J_ij‖_F)
  /// ```
  ///
  /// the same step as the GEMM path (`direction`, then J ← (1 − ηκ)J + ηD, then `project`) up to
  /// rounding. Every buffer is in `ws`; returns the batch's mean cost ⟨Σ_i e_i⟩ before the step.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  mutating func fusedStep(
    _ batch: Matrix<Scalar>, rule: PseudoLikelihoodLearningRule, learningRate: Scalar, decay: Scalar,
    bound: Double, vectorised: Bool, workspace ws: inout TrainingWorkspace
  ) -> Double {
    precondition(Scalar.self == Float.self, "fusedStep: the pair kernels are single precision")
    let b = batch.rows, n = tokenCount, d = tokenWidth
    precondition(batch.columns == n * d && ws.kernelScratch.count >= b * d, "fusedStep: batch does not fit")
    ws.forward.fit(batch: b, tokens: n, width: d)
    let lambda = Float(configuration.inverseTemperature)
    var contrastiveSteps = 0
    if case .contrastive(let steps) = rule {
      // Model states: `steps` synchronous updates of the model's own dynamics from the data (old J).
      contrastiveSteps = steps
      ws.modelStates.assign(batch)
      for _ in 0..<steps {
        update(ws.modelStates, into: &ws.scratch, workspace: &ws.forward)
        swap(&ws.modelStates, &ws.scratch)
      }
    }
    var cost = 0.0
    sourceMajorCouplings.withUnsafeBufferPointer { wp in
      let w = UnsafeRawPointer(wp.baseAddress!).assumingMemoryBound(to: Float.self)
      func attention(_ states: Matrix<Scalar>, into weights: inout [Scalar]) -> Double {
        states.withUnsafeBufferPointer { xp in
          weights.withUnsafeMutableBufferPointer { lp in
            let x = UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: Float.self)
            let l = UnsafeMutableRawPointer(lp.baseAddress!).assumingMemoryBound(to: Float.self)
            PairAttentionKernels.logits(
              states: x, rows: b, tokens: n, width: d, couplings: w, inverseTemperature: lambda, into: l,
              vectorised: vectorised)
            return PairAttentionKernels.softmax(
              l, rows: b, tokens: n, inverseTemperature: lambda, vectorised: vectorised)
          }
        }
      }
      cost = attention(batch, into: &ws.forward.logits)
      if contrastiveSteps > 0 { _ = attention(ws.modelStates, into: &ws.modelAttention) }
    }
    let scale = Float(learningRate) / Float(b)
    sourceMajorCouplings.withUnsafeMutableBufferPointer { wp in
      ws.kernelScratch.withUnsafeMutableBufferPointer { sp in
        ws.blockNorms.withUnsafeMutableBufferPointer { np in
          let w = UnsafeMutableRawPointer(wp.baseAddress!).assumingMemoryBound(to: Float.self)
          let scratch = UnsafeMutableRawPointer(sp.baseAddress!).assumingMemoryBound(to: Float.self)
          let norms = UnsafeMutableRawPointer(np.baseAddress!).assumingMemoryBound(to: Float.self)
          func hebbian(_ states: Matrix<Scalar>, _ weights: [Scalar], scale: Float, decay: Float, last: Bool) {
            states.withUnsafeBufferPointer { xp in
              weights.withUnsafeBufferPointer { ap in
                PairAttentionKernels.hebbianUpdate(
                  states: UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: Float.self), rows: b, tokens: n,
                  width: d, attention: UnsafeRawPointer(ap.baseAddress!).assumingMemoryBound(to: Float.self),
                  scale: scale, decay: decay, couplings: w, blockNorms: last ? norms : nil, scratch: scratch,
                  vectorised: vectorised)
              }
            }
          }
          hebbian(batch, ws.forward.logits, scale: scale, decay: Float(decay), last: contrastiveSteps == 0)
          if contrastiveSteps > 0 { hebbian(ws.modelStates, ws.modelAttention, scale: -scale, decay: 1, last: true) }
        }
      }
    }
    // The projection onto Σ_j ‖J_ij‖_F ≤ bound, from the block norms the update left.
    for i in 0..<n {
      var norm = 0.0
      for j in 0..<n where j != i { norm += Double(ws.blockNorms[j * n + i]).squareRoot() }
      guard norm > bound else { continue }
      let factor = Scalar(bound / norm), dd = d * d
      sourceMajorCouplings.withUnsafeMutableBufferPointer { w in
        for j in 0..<n where j != i {
          let base = (j * n + i) * dd
          for k in 0..<dd { w[base + k] *= factor }
        }
      }
    }
    return cost / Double(b)
  }
}

/// What ``PseudoLikelihoodTrainer/validateData(_:for:)`` found first: a non-finite entry (its index)
/// or a token off the sphere (its index and norm).
private enum DataProblem {
  case nonFinite(Int)
  case norm(token: Int, Double)
}

/// Trains a ``PseudoLikelihoodAttractor`` on data states (one per row, every token a unit vector)
/// by a local rule or by contrastive divergence, without backpropagation.
///
/// Each epoch visits the data in a seeded random order (the order of epoch e depends only on
/// `seed` and e, so a run resumed from a checkpoint after epoch e continues exactly as the
/// uninterrupted run). A minibatch step of either rule is
///
/// ```
/// J_ij ← (1 − ηκ) J_ij + η D_ij,    then  J_i· ← J_i· · min(1, B / Σ_j ‖J_ij‖_F)
/// D_ij = ⟨α_{i←j} x_i x_jᵀ⟩_data                                   (local rule)
/// D_ij = ⟨α_{i←j} x_i x_jᵀ⟩_data − ⟨α_{i←j} x_i x_jᵀ⟩_model          (contrastive)
/// ```
///
/// The local rule is gradient descent on ⟨Σ_i e_i⟩ + (κ/2) Σ ‖J_ij‖²_F (the updates of different
/// target tokens i touch disjoint couplings, so updating all i at once equals updating each in turn).
///
/// **Bound on the couplings.** Without a constraint the local rule diverges: e_i decreases without
/// limit as J grows along ⟨α x_i x_jᵀ⟩ (the local energies are not normalised over x_i). Two
/// mechanisms keep J bounded: weight decay κ, and a projection of each target token's couplings onto
/// Σ_j ‖J_ij‖_F ≤ B (default B = 1/κ). For the local rule with ηκ ≤ 1 and unit tokens the projection
/// never acts: since Σ_j α_{i←j} = 1 and ‖x_i x_jᵀ‖_F = 1, Σ_j ‖J'_ij‖_F ≤ (1 − ηκ) Σ_j ‖J_ij‖_F + η,
/// which stays ≤ 1/κ once it is. The contrastive rule has no such guarantee (its direction is a
/// difference), so there the projection is what bounds J. Either way every logit satisfies
/// |λ x_iᵀ J_ij x_j| ≤ λB.
public struct PseudoLikelihoodTrainer: Sendable, Equatable, Codable {
  public var rule: PseudoLikelihoodLearningRule
  public var epochs: Int
  public var batchSize: Int
  /// η.
  public var learningRate: Double
  /// κ ≥ 0.
  public var weightDecay: Double
  /// B > 0: the bound on Σ_j ‖J_ij‖_F for every i.
  public var couplingBound: Double
  public var seed: UInt64

  /// Settings; `couplingBound` defaults to 1/κ (and must be given when κ = 0).
  public init(
    rule: PseudoLikelihoodLearningRule = .local, epochs: Int = 10, batchSize: Int = 100, learningRate: Double = 0.5,
    weightDecay: Double = 0.05, couplingBound: Double? = nil, seed: UInt64 = 0
  ) {
    self.rule = rule
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.couplingBound = couplingBound ?? (weightDecay > 0 ? 1 / weightDecay : .infinity)
    self.seed = seed
  }

  /// Throws for settings out of range.
  public func validate() throws(ModelError) {
    try ModelError.check(epochs >= 0, "epochs", epochs, "at least 0")
    try ModelError.check(batchSize >= 1, "batchSize", batchSize, "at least 1")
    try ModelError.check(learningRate.isFinite && learningRate > 0, "learningRate", learningRate, "finite and positive")
    try ModelError.check(weightDecay.isFinite && weightDecay >= 0, "weightDecay", weightDecay, "finite and at least 0")
    try ModelError.check(
      learningRate * weightDecay <= 1, "learningRate × weightDecay", learningRate * weightDecay, "at most 1")
    try ModelError.check(
      couplingBound.isFinite && couplingBound > 0, "couplingBound", couplingBound,
      "finite and positive (give it explicitly when weightDecay is 0)")
    if case .contrastive(let steps) = rule {
      try ModelError.check(steps >= 1, "contrastive steps", steps, "at least 1")
    }
  }

  /// What training has done so far: the cost per epoch and the number of epochs completed.
  public struct History: Sendable, Equatable, Codable {
    /// ⟨Σ_i e_i⟩ on the training data before training.
    public var initialCost: Double
    /// Mean minibatch cost ⟨Σ_i e_i⟩ of each epoch (before each step's update).
    public var epochCost: [Double] = []
    /// max_i Σ_j ‖J_ij‖_F after each epoch.
    public var maxRowNorm: [Double] = []
    /// Seconds spent in each epoch.
    public var epochSeconds: [Double] = []

    public init(initialCost: Double) { self.initialCost = initialCost }
    /// Epochs completed.
    public var epochsCompleted: Int { epochCost.count }
  }

  /// Progress after an epoch: epoch (1-based), total epochs, the history, and the estimated seconds left.
  public struct Progress: Sendable {
    public let epoch: Int
    public let epochs: Int
    public let history: History
    public let secondsLeft: Double
  }

  /// Checks that `data` is B × N·d, finite, with every token of unit norm (within 1e-3).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public static func validateData<Scalar: LinearAlgebraScalar>(
    _ data: Matrix<Scalar>, for model: PseudoLikelihoodAttractor<Scalar>
  ) throws(ModelError) {
    let d = model.tokenWidth
    guard data.rows >= 1, data.columns == model.dimension else {
      throw .invalidParameter(
        name: "data", value: "\(data.rows) × \(data.columns)", requirement: "at least one row of \(model.dimension)")
    }
    // The first non-finite entry, else the first token off the sphere (nil: none).
    let problem: DataProblem? = data.withUnsafeBufferPointer { x in
      for k in x.indices where !x[k].isFinite { return .nonFinite(k) }
      for t in 0..<(x.count / d) {
        var s = 0.0
        for a in 0..<d { s += Double(x[t * d + a]) * Double(x[t * d + a]) }
        guard abs(s.squareRoot() - 1) <= 1e-3 else { return .norm(token: t, s.squareRoot()) }
      }
      return nil
    }
    switch problem {
    case nil: return
    case .nonFinite(let k): throw .nonFinitePattern(row: k / data.columns, column: k % data.columns)
    case .norm(let t, let norm):
      throw .invalidParameter(
        name: "data row \(t * d / data.columns) token \((t * d % data.columns) / d)", value: "norm \(norm)",
        requirement: "a unit vector (tokens live on the sphere)")
    }
  }

  /// Trains `model` on `data` for the remaining epochs after `history` (nil: from the start), calling
  /// `progress` and then `checkpoint` after every epoch; returns the trained model and its history.
  ///
  /// - Throws: ``ModelError`` for bad settings or data, or if the couplings become non-finite;
  ///   rethrows what `checkpoint` throws (as ``ModelError/invalidParameter(name:value:requirement:)``).
  ///
  /// A Float model trains through the fused pair kernels when they run vectorised on this CPU
  /// (``/AttractorLinearAlgebra/PairAttentionKernels``), otherwise, and in Double, through GEMMs; the
  /// two compute the same step up to rounding (tested).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func train<Scalar: LinearAlgebraScalar>(
    _ model: PseudoLikelihoodAttractor<Scalar>, data: Matrix<Scalar>, resumingFrom history: History? = nil,
    progress: ((Progress) -> Void)? = nil,
    checkpoint: ((PseudoLikelihoodAttractor<Scalar>, History) throws -> Void)? = nil
  ) throws(ModelError) -> (model: PseudoLikelihoodAttractor<Scalar>, history: History) {
    try train(
      model, data: data, resumingFrom: history, progress: progress, checkpoint: checkpoint, kernels: .automatic)
  }

  /// ``train(_:data:resumingFrom:progress:checkpoint:)`` with the step's implementation chosen.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  func train<Scalar: LinearAlgebraScalar>(
    _ model: PseudoLikelihoodAttractor<Scalar>, data: Matrix<Scalar>, resumingFrom history: History?,
    progress: ((Progress) -> Void)?, checkpoint: ((PseudoLikelihoodAttractor<Scalar>, History) throws -> Void)?,
    kernels: PseudoLikelihoodTrainingKernels
  ) throws(ModelError) -> (model: PseudoLikelihoodAttractor<Scalar>, history: History) {
    try validate()
    var fused: Bool? = nil  // nil: GEMMs; otherwise fused kernels, vectorised or not
    switch kernels {
    case .automatic: if Scalar.self == Float.self && PairAttentionKernels.isVectorised { fused = true }
    case .gemm: break
    case .fused(let vectorised):
      precondition(Scalar.self == Float.self, "the fused pair kernels are single precision")
      fused = vectorised
    }
    try Self.validateData(data, for: model)
    var current = model
    var history = history ?? History(initialCost: model.meanCost(data))
    let p = data.rows
    let root = SeededGenerator(seed: seed)
    var order = [Int](repeating: 0, count: p)
    var workspaces: [Int: PseudoLikelihoodAttractor<Scalar>.TrainingWorkspace] = [:]
    let eta = Scalar(learningRate), decay = 1 - Scalar(learningRate * weightDecay)
    let clock = ContinuousClock()
    var batch = Matrix<Scalar>(rows: 0, columns: model.dimension)
    var epoch = history.epochsCompleted
    while epoch < epochs {
      epoch += 1
      let started = clock.now
      var rng = root.derived(epoch)
      rng.shuffle(&order)
      var total = 0.0, batches = 0, start = 0
      while start < p {
        let end = min(start + batchSize, p)
        let count = end - start
        if batch.rows != count { batch = Matrix(rows: count, columns: model.dimension) }
        let width = model.dimension
        data.withUnsafeBufferPointer { src in
          batch.withUnsafeMutableBufferPointer { dst in
            for (k, row) in order[start..<end].enumerated() {
              (dst.baseAddress! + k * width).update(from: src.baseAddress! + row * width, count: width)
            }
          }
        }
        start = end
        var ws = workspaces.removeValue(forKey: count) ?? current.makeTrainingWorkspace(batchSize: count)
        batches += 1
        if let vectorised = fused {
          total += current.fusedStep(
            batch, rule: rule, learningRate: eta, decay: decay, bound: couplingBound, vectorised: vectorised,
            workspace: &ws)
        } else {
          total += current.direction(batch, rule: rule, workspace: &ws)
          ws.dataTerm.withUnsafeBufferPointer { g in
            current.sourceMajorCouplings.withUnsafeMutableBufferPointer { w in
              for k in w.indices { w[k] = decay * w[k] + eta * g[k] }
            }
          }
          current.project(onto: couplingBound)
        }
        workspaces[count] = ws
      }
      guard current.sourceMajorCouplings.isFinite else {
        throw .invalidParameter(
          name: "learningRate", value: "\(learningRate)", requirement: "small enough to stay finite")
      }
      history.epochCost.append(total / Double(batches))
      history.maxRowNorm.append(current.couplingRowNorms.max() ?? 0)
      history.epochSeconds.append((clock.now - started).seconds)
      let mean = history.epochSeconds.reduce(0, +) / Double(history.epochSeconds.count)
      progress?(Progress(epoch: epoch, epochs: epochs, history: history, secondsLeft: mean * Double(epochs - epoch)))
      if let checkpoint {
        do { try checkpoint(current, history) } catch {
          throw .invalidParameter(name: "checkpoint", value: "\(error)", requirement: "writable")
        }
      }
    }
    return (current, history)
  }
}
