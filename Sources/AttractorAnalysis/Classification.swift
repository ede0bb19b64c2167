import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Dispatch
import Foundation

/// What a fixed point is, judged from the weights of the stored patterns and its stability.
///
/// Ramsauer et al. (2020) show that the modern Hopfield update has three kinds of fixed points: a
/// global average over all stored patterns (small β), a metastable average over a subset of similar
/// patterns, and a fixed point near a single pattern (large β, well-separated patterns).
public enum FixedPointClass: String, Codable, Sendable, Equatable, CaseIterable {
  /// k ≤ ``ClassificationThresholds/singlePatternMaxK`` patterns hold the weight mass: a retrieval.
  case singlePattern
  /// Between the two: an average over a subset (the subset is the k heaviest patterns).
  case metastable
  /// An average over essentially all stored patterns that sits near their mean: by default every
  /// pattern carries at least ``ClassificationThresholds/minimumShare`` of the uniform weight 1/N
  /// and x* is closer to the mean of all patterns than to any one pattern
  /// (``GlobalAverageRule/allPatterns``); with ``GlobalAverageRule/halfOfPatterns``, k > N/2.
  case globalAverage
  /// ρ(J) ≥ ``ClassificationThresholds/spectralRadiusLimit`` or a Hessian eigenvalue below
  /// −tolerance: not an attractor, whatever its weights.
  case unstable
  /// Stable, but the model stores no patterns to classify against.
  case stable
}

/// When a fixed point counts as a ``FixedPointClass/globalAverage``.
public enum GlobalAverageRule: String, Codable, Sendable, Equatable, CaseIterable {
  /// The default, by what a global average is: the weights spread over all N stored patterns
  /// (every pᵢ ≥ ``ClassificationThresholds/minimumShare`` / N) and x* lies closer to the mean of
  /// all patterns than to its nearest pattern. A fixed point over a cluster of 3 of 4 patterns, or a
  /// saddle between 2 of 3, is metastable, whatever share of N its k₉₀ is.
  case allPatterns
  /// Class I of Ramsauer et al.'s head analysis (arXiv:2008.02217, section A.2): k₉₀ >
  /// ``ClassificationThresholds/globalFraction`` · N. With few patterns it calls a metastable state
  /// over a cluster a global average (k₉₀ = 3 of 4 > N/2); kept as an option for comparison with
  /// the paper.
  case halfOfPatterns
}

/// Thresholds of the classification. Each has a documented default; results carry the evidence so
/// that other thresholds can be applied afterwards.
///
/// ```
/// single pattern:  k ≤ singlePatternMaxK
/// global average:  (allPatterns)    min pᵢ ≥ minimumShare / N  and  ‖x* − mean(X)‖ ≤ minᵢ ‖x* − xᵢ‖
///                  (halfOfPatterns) k > globalFraction · N
/// metastable:      otherwise (an average over the subset of the k heaviest patterns)
/// ```
public struct ClassificationThresholds: Codable, Sendable, Equatable {
  /// Weight mass that k must hold (k₉₀ for the default 0.9, as in Ramsauer et al.'s head analysis).
  public var mass: Double
  /// Largest k that counts as a single-pattern fixed point. Default 1.
  public var singlePatternMaxK: Int
  /// Which rule defines a global average. Default ``GlobalAverageRule/allPatterns``.
  public var globalRule: GlobalAverageRule
  /// Under ``GlobalAverageRule/allPatterns``: the smallest weight, as a fraction of the uniform
  /// weight 1/N, that every pattern must carry. Default 0.1.
  public var minimumShare: Double
  /// Under ``GlobalAverageRule/halfOfPatterns``: a fixed point with k > globalFraction · N is a
  /// global average. Default 0.5 (class I of Ramsauer et al.: k̄ > N/2).
  public var globalFraction: Double
  /// A fixed point with ρ(J) ≥ this is unstable. Default 1.
  public var spectralRadiusLimit: Double

  public init(
    mass: Double = 0.9, singlePatternMaxK: Int = 1, globalRule: GlobalAverageRule = .allPatterns,
    minimumShare: Double = 0.1, globalFraction: Double = 0.5, spectralRadiusLimit: Double = 1
  ) {
    self.mass = mass
    self.singlePatternMaxK = singlePatternMaxK
    self.globalRule = globalRule
    self.minimumShare = minimumShare
    self.globalFraction = globalFraction
    self.spectralRadiusLimit = spectralRadiusLimit
  }

  enum CodingKeys: String, CodingKey {
    case mass, singlePatternMaxK, globalRule, minimumShare, globalFraction, spectralRadiusLimit
  }

  /// Decodes records written before ``globalRule`` existed as ``GlobalAverageRule/halfOfPatterns``
  /// (the rule they were classified with).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    mass = try c.decode(Double.self, forKey: .mass)
    singlePatternMaxK = try c.decode(Int.self, forKey: .singlePatternMaxK)
    globalRule = try c.decodeIfPresent(GlobalAverageRule.self, forKey: .globalRule) ?? .halfOfPatterns
    minimumShare = try c.decodeIfPresent(Double.self, forKey: .minimumShare) ?? 0.1
    globalFraction = try c.decode(Double.self, forKey: .globalFraction)
    spectralRadiusLimit = try c.decode(Double.self, forKey: .spectralRadiusLimit)
  }

  func validate() throws(AnalysisError) {
    try AnalysisError.check(mass > 0 && mass <= 1, "mass", mass, "in (0, 1]")
    try AnalysisError.check(singlePatternMaxK >= 1, "singlePatternMaxK", singlePatternMaxK, "at least 1")
    try AnalysisError.check(minimumShare > 0 && minimumShare <= 1, "minimumShare", minimumShare, "in (0, 1]")
    try AnalysisError.check(globalFraction > 0 && globalFraction < 1, "globalFraction", globalFraction, "in (0, 1)")
    try AnalysisError.check(
      spectralRadiusLimit.isFinite && spectralRadiusLimit > 0, "spectralRadiusLimit", spectralRadiusLimit,
      "finite and > 0")
  }

  /// The class the weights alone give (stability not considered), from k and, under
  /// ``GlobalAverageRule/allPatterns``, the smallest weight (`nil`: unknown, never global).
  public func regime(k: Int, smallestWeight: Double?, patternCount n: Int) -> FixedPointClass {
    if k <= singlePatternMaxK { return .singlePattern }
    switch globalRule {
    case .halfOfPatterns:
      return Double(k) > globalFraction * Double(n) ? .globalAverage : .metastable
    case .allPatterns:
      guard let smallestWeight else { return .metastable }
      return smallestWeight * Double(n) >= minimumShare ? .globalAverage : .metastable
    }
  }

  /// The class of a fixed point from its evidence: ``regime(k:smallestWeight:patternCount:)`` and,
  /// under ``GlobalAverageRule/allPatterns``, x* closer to the mean of the patterns than to any one.
  public func regime(_ e: SeparationEvidence) -> FixedPointClass {
    let r = regime(k: e.k, smallestWeight: e.smallestWeight, patternCount: e.patternCount)
    if r == .globalAverage && globalRule == .allPatterns && e.distanceToMean > e.distanceToNearest {
      return .metastable
    }
    return r
  }

  /// The class from k alone under ``GlobalAverageRule/halfOfPatterns`` (k > globalFraction · N).
  public func regime(k: Int, patternCount n: Int) -> FixedPointClass {
    var half = self
    half.globalRule = .halfOfPatterns
    return half.regime(k: k, smallestWeight: nil, patternCount: n)
  }
}

/// The weight of one stored pattern at a fixed point.
public struct PatternWeight: Codable, Sendable, Equatable {
  /// Row of the pattern in the model's `patterns`.
  public var pattern: Int
  /// Its weight (from ``/AttractorCore/AssociativeMemory/separation(_:)``).
  public var weight: Double
}

/// The evidence a classification rests on: how the weight of the stored patterns is spread at a
/// fixed point x*, and where x* lies relative to them.
///
/// ```
/// p = separation(x*)                         (softmax(β X x*) for the modern network)
/// k = min{ m : sum of the m largest pᵢ ≥ mass }        (k₉₀ for mass 0.9)
/// entropy = −Σ pᵢ log pᵢ  (nats; log N for uniform, 0 for one pattern)
/// participation ratio = 1 / Σ pᵢ²  (N for uniform, 1 for one pattern)
/// ```
public struct SeparationEvidence: Codable, Sendable, Equatable {
  /// k: how many of the heaviest patterns hold the weight mass.
  public var k: Int
  /// The mass used for k (0.9 by default).
  public var mass: Double
  /// The k heaviest patterns, heaviest first (the subset of a metastable point). Patterns with
  /// equal weights are ordered by index.
  public var heaviest: [PatternWeight]
  /// The smallest weight minᵢ pᵢ (`nil` in records written before it was kept).
  public var smallestWeight: Double?
  /// −Σ pᵢ log pᵢ in nats.
  public var entropy: Double
  /// 1 / Σ pᵢ².
  public var participationRatio: Double
  /// The pattern closest to x* in Euclidean distance.
  public var nearestPattern: Int
  /// ‖x* − x_nearest‖.
  public var distanceToNearest: Double
  /// ‖x* − mean of all patterns‖.
  public var distanceToMean: Double
  /// Number of stored patterns N.
  public var patternCount: Int

  /// The k heaviest patterns' indices, ascending (the subset of a metastable point).
  public var subset: [Int] { heaviest.map(\.pattern).sorted() }
}

/// A state classified: stability, evidence, the weight-based regime and the final label.
public struct ClassifiedState: Codable, Sendable, Equatable {
  /// Jacobian spectrum.
  public var jacobian: JacobianSpectrum
  /// Hessian spectrum, when the rule descends an energy.
  public var hessian: HessianSpectrum?
  /// Weight evidence, when the model stores patterns.
  public var evidence: SeparationEvidence?
  /// The class the weights give (`nil` without patterns).
  public var regime: FixedPointClass?
  /// The label: ``FixedPointClass/unstable`` when ρ(J) or the Hessian says so, else the regime
  /// (``FixedPointClass/stable`` without patterns).
  public var label: FixedPointClass

  /// Whether the state passed both stability tests.
  public var isStable: Bool { label != .unstable }
}

/// Classifies states (normally fixed points) of a model: the batch path used by
/// ``FixedPointAnalyzer`` and by the benchmark.
///
/// Per batch: one call for all Jacobians/Hessians (``/AttractorCore/BatchLinearizable`` when the
/// model has it, see ``AnalyzableRule``), one separation call and one GEMM for all distances to the
/// patterns; then per point one LAPACK eigenvalue call (`jobz = 'N'`) for J and, unless H = I − J,
/// one for H, with the weight statistics.
///
/// **One decomposition when H = I − J.** When the linearisation says the descended energy's
/// Hessian is I − J (``Linearization/hessianIsIdentityMinusJacobian``; the modern Hopfield
/// network) and J is symmetric to the tolerance (so it went to `?syevd`), the Hessian's
/// eigenvalues are 1 − those of J, in reverse order: J = V diag(λ) Vᵀ gives I − J = V diag(1 − λ) Vᵀ.
/// A J that failed the symmetry test gets its own decomposition of the symmetrised I − J.
///
/// **Modern Hopfield Jacobians stay packed.** For the modern Hopfield network (analytic
/// derivatives, Khatri–Rao path) the batch holds each Jₖ as the packed upper triangle of
/// β Xᵀ diag(pₖ) X and the mean mₖ (d(d+1)/2 + d numbers instead of d²), and each worker unpacks
/// its own points into a d × d buffer with the same arithmetic as the batch unpacking, so the
/// calling thread runs only the batch GEMMs and the results are those of the unpacked stack bit
/// for bit (tested).
///
/// **Parallel and deterministic.** The per-point work (unpacking, eigenvalues and weight
/// statistics) runs on ``workers`` threads. For d ≤ ``/AttractorLinearAlgebra/SymmetricEigenvalueWorkspace/largestDimension``
/// it calls no BLAS: a symmetric J's eigenvalues come from a Householder reduction in C and
/// LAPACK's `dsterf` (no BLAS inside), the weight statistics from C, so the workers neither queue
/// on OpenBLAS's thread pool nor need its process-wide thread count changed (which this type never
/// touches). Only the batch GEMMs before them use OpenBLAS's threads. A point's numbers do not
/// depend on which worker takes it: the results are identical to a sequential run (`workers = 1`;
/// tested). The first failing point (by index) is reported.
public struct Classifier: Sendable {
  /// Derivative options.
  public var linearization: LinearizationOptions
  /// Class thresholds.
  public var thresholds: ClassificationThresholds
  /// Threads classifying points at once. `nil` (the default): every core when the per-point work
  /// calls no BLAS (d ≤ ``/AttractorLinearAlgebra/SymmetricEigenvalueWorkspace/largestDimension``),
  /// else one (larger matrices go to `?syevd`, whose BLAS calls use OpenBLAS's own threads; two
  /// callers at once would queue on its pool). Measured in Docs/Benchmarks.md. Results do not depend
  /// on it.
  public var workers: Int?
  /// Most elements of one stack of Jacobians (or Hessians) held at once; larger batches are split.
  var stackLimit = 1 << 24
  /// Modern Hopfield Jacobians stay packed and each worker unpacks its own points (`false`: the
  /// calling thread unpacks the whole K × d² stack first; the same results, for tests).
  var defersUnpacking = true

  public init(
    linearization: LinearizationOptions = LinearizationOptions(),
    thresholds: ClassificationThresholds = ClassificationThresholds(), workers: Int? = nil
  ) {
    self.linearization = linearization
    self.thresholds = thresholds
    self.workers = workers
  }

  /// Classifies every row of `states` for a model with stored patterns.
  ///
  /// - Throws: ``AnalysisError`` for invalid thresholds, wrong dimensions, non-finite states or
  ///   derivatives, and LAPACK failures.
  public func classify<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, at states: Matrix<Model.Scalar>
  ) throws(AnalysisError) -> [ClassifiedState] {
    try classify(rule: model, memory: model, at: states)
  }

  /// Classifies every row of `states` by stability alone (the model stores no patterns).
  public func classify<Rule: AnalyzableRule>(_ rule: Rule, at states: Matrix<Rule.Scalar>) throws(AnalysisError)
    -> [ClassifiedState]
  {
    try classify(rule: rule, memory: Optional<NoMemory<Rule.Scalar>>.none, at: states)
  }

  /// The classification of every row of `states`; Jacobians are formed for at most `batchSize`
  /// states at a time (and at most 2²⁴ stack elements), and `progress` hears how many are done.
  /// `memory` is `rule` itself or `nil` (the linearisation's pattern weights are reused for it).
  func classify<Rule: AnalyzableRule, Memory: AssociativeMemory>(
    rule: Rule, memory: Memory?, at states: Matrix<Rule.Scalar>, batchSize: Int? = nil,
    progress: ((Int) -> Void)? = nil
  ) throws(AnalysisError) -> [ClassifiedState] where Memory.Scalar == Rule.Scalar {
    typealias Scalar = Rule.Scalar
    try linearization.validate()
    try thresholds.validate()
    if let workers { try AnalysisError.check(workers >= 1, "workers", workers, "at least 1") }
    let d = rule.dimension
    guard d >= 1 else { throw .empty(what: "the rule works on states of dimension 0") }
    guard states.columns == d else { throw .dimensionMismatch(expected: d, actual: states.columns) }
    guard states.isFinite else { throw .nonFinite(what: "the states to classify") }
    let k = states.rows
    if k == 0 { return [] }

    // Jacobians, Hessians and pattern weights in chunks (at most 2²⁴ elements per stack), so
    // memory stays bounded for large d and large memories.
    var chunk = max(1, min(stackLimit / max(1, d * d), batchSize ?? k))
    if let progress {
      chunk = min(chunk, max(32, (k + 9) / 10))  // about ten updates
      progress(0)
    }
    let threads =
      workers
      ?? (d <= SymmetricEigenvalueWorkspace.largestDimension ? ProcessInfo.processInfo.activeProcessorCount : 1)
    var results: [ClassifiedState] = []
    results.reserveCapacity(k)
    var start = 0
    while start < k {
      let end = min(k, start + chunk)
      let part = start == 0 && end == k ? states : states.rows(at: start..<end)
      // The modern Hopfield network's Jacobians stay packed (half the memory, and the unpacking
      // runs in the workers, not on this thread); other rules give their stacks.
      let deferred =
        defersUnpacking ? (rule as? ModernHopfield<Scalar>)?.packedLinearization(at: part, options: linearization) : nil
      let stacks = deferred?.0 ?? rule.linearization(at: part, options: linearization)
      let evidence = try memory.map { m throws(AnalysisError) in
        try SeparationInputs(m, at: part, mass: thresholds.mass, weights: stacks.separation)
      }
      let points = PointClassifier(
        stacks: stacks, packed: deferred?.1, evidence: evidence, dimension: d, thresholds: thresholds,
        symmetryTolerance: linearization.symmetry(Scalar.self), hessianTolerance: linearization.hessian(Scalar.self),
        keepEigenvalues: linearization.keepsEigenvalues)
      results += try points.classifyAll(count: end - start, workers: threads)
      start = end
      progress?(end)
    }
    return results
  }

  /// Weight statistics and distances for every row of `states`.
  func separationEvidence<Memory: AssociativeMemory>(
    _ memory: Memory, at states: Matrix<Memory.Scalar>
  ) throws(AnalysisError) -> [SeparationEvidence] {
    let inputs = try SeparationInputs(memory, at: states, mass: thresholds.mass)
    return (0..<states.rows).map { inputs.evidence(row: $0) }
  }
}

/// What the weight evidence of a batch of states needs, computed for the whole batch (the pattern
/// weights, one GEMM for the nearest patterns, the mean of the patterns); ``evidence(row:)`` then
/// reads one state's statistics (safe to call from several threads).
struct SeparationInputs<Scalar: LinearAlgebraScalar>: Sendable {
  var weights: Matrix<Scalar>
  var states: Matrix<Scalar>
  var nearest: [(index: Int, distance: Double)]
  var mean: [Scalar]
  var mass: Double

  /// `weights`: the memory's separation at `states` when already computed (else computed here).
  init<Memory: AssociativeMemory>(
    _ memory: Memory, at states: Matrix<Scalar>, mass: Double, weights known: Matrix<Scalar>? = nil
  ) throws(AnalysisError)
  where Memory.Scalar == Scalar {
    let patterns = memory.patterns
    let n = patterns.rows
    guard n >= 1 else { throw .empty(what: "the model stores no patterns") }
    guard patterns.columns == states.columns else {
      throw .dimensionMismatch(expected: patterns.columns, actual: states.columns)
    }
    let weights = known ?? memory.separation(states)
    guard weights.rows == states.rows && weights.columns == n else {
      throw .invalidParameter(
        name: "separation", value: "\(weights.rows) × \(weights.columns)",
        requirement: "one row of \(n) weights per state (the model's separation(_:) is inconsistent)")
    }
    guard weights.isFinite else { throw .nonFinite(what: "the pattern weights (separation)") }
    let gram = states.multiplied(by: patterns, transposeOther: true)  // K × N
    self.nearest = Kernels.nearestRows(
      gram: gram, stateNorms: Kernels.squaredRowNorms(states), patternNorms: Kernels.squaredRowNorms(patterns))
    let ones = [Scalar](repeating: 1 / Scalar(n), count: n)
    self.mean = patterns.multiplied(byVector: ones, transpose: true)
    self.weights = weights
    self.states = states
    self.mass = mass
  }

  /// The evidence of row `r`.
  func evidence(row r: Int) -> SeparationEvidence {
    var workspace = WeightStatisticsWorkspace(count: weights.columns)
    return evidence(row: r, workspace: &workspace)
  }

  /// The evidence of row `r`, with the weight statistics' buffers of the calling thread.
  func evidence(row r: Int, workspace: inout WeightStatisticsWorkspace) -> SeparationEvidence {
    let n = weights.columns
    let sums = weights.withUnsafeBufferPointer { w in workspace.compute(w.baseAddress! + r * n, mass: mass) }
    let heaviest = (0..<workspace.k).map { j in
      let h = workspace.heaviest(j)
      return PatternWeight(pattern: h.index, weight: h.weight)
    }
    let distanceToMean = states.withUnsafeBufferPointer { s in
      mean.withUnsafeBufferPointer { m in
        Kernels.rowDistanceInDouble(s.baseAddress! + r * states.columns, m.baseAddress!, count: states.columns)
      }
    }
    return SeparationEvidence(
      k: workspace.k, mass: mass, heaviest: heaviest, smallestWeight: sums.smallest, entropy: sums.entropy,
      participationRatio: sums.squares > 0 ? 1 / sums.squares : 0, nearestPattern: nearest[r].index,
      distanceToNearest: nearest[r].distance, distanceToMean: distanceToMean, patternCount: n)
  }
}

/// The per-point part of a classification for one chunk: spectra and evidence of each point, on
/// one or several threads (see ``Classifier``).
struct PointClassifier<Scalar: LinearAlgebraScalar>: Sendable {
  var stacks: Linearization<Scalar>
  /// The Jacobians, packed, when `stacks.jacobians` is empty: each point's block is unpacked into
  /// its worker's buffer.
  var packed: PackedJacobians<Scalar>?
  var evidence: SeparationInputs<Scalar>?
  var dimension: Int
  var thresholds: ClassificationThresholds
  var symmetryTolerance: Double
  var hessianTolerance: Double
  var keepEigenvalues: Bool

  /// The buffers of one thread, allocated once per thread and chunk.
  struct PointWorkspace {
    var spectrum: SpectrumWorkspace<Scalar>
    var weights: WeightStatisticsWorkspace?
    /// A point's unpacked Jacobian (d², when the Jacobians are packed).
    var block: [Scalar]

    init(dimension d: Int, patterns n: Int?, packed: Bool) {
      spectrum = SpectrumWorkspace(dimension: d)
      weights = n.map { WeightStatisticsWorkspace(count: $0) }
      block = [Scalar](repeating: 0, count: packed ? d * d : 0)
    }
  }

  /// Classifies points 0..<count on `workers` threads; identical results either way.
  func classifyAll(count: Int, workers: Int) throws(AnalysisError) -> [ClassifiedState] {
    let threads = max(1, min(workers, count))
    var outcomes = [Result<ClassifiedState, AnalysisError>?](repeating: nil, count: count)
    if threads == 1 {
      var workspace = PointWorkspace(dimension: dimension, patterns: evidence?.weights.columns, packed: packed != nil)
      for r in 0..<count { outcomes[r] = Result { () throws(AnalysisError) in try classify(r, &workspace) } }
    } else {
      outcomes.withUnsafeMutableBufferPointer { out in
        let target = UncheckedSendable(out)
        // Contiguous ranges, one per thread: point r always takes the same code path.
        DispatchQueue.concurrentPerform(iterations: threads) { t in
          var workspace = PointWorkspace(
            dimension: dimension, patterns: evidence?.weights.columns, packed: packed != nil)
          for r in (t * count / threads)..<((t + 1) * count / threads) {
            target.value[r] = Result { () throws(AnalysisError) in try classify(r, &workspace) }
          }
        }
      }
    }
    var results: [ClassifiedState] = []
    results.reserveCapacity(count)
    for outcome in outcomes {
      switch outcome! {
      case .success(let state): results.append(state)
      case .failure(let error): throw error
      }
    }
    return results
  }

  /// Spectra, evidence and label of point `r` of the chunk.
  func classify(_ r: Int, _ workspace: inout PointWorkspace) throws(AnalysisError) -> ClassifiedState {
    let d = dimension
    if let packed {
      workspace.block.withUnsafeMutableBufferPointer { b in packed.unpack(row: r, into: b.baseAddress!) }
      let block = workspace.block  // shares the buffer: nothing writes it until the next point
      return try block.withUnsafeBufferPointer { (b) throws(AnalysisError) -> ClassifiedState in
        try classify(r, jacobian: b.baseAddress!, &workspace)
      }
    }
    return try stacks.jacobians.elements.withUnsafeBufferPointer { (p) throws(AnalysisError) -> ClassifiedState in
      try classify(r, jacobian: p.baseAddress! + r * d * d, &workspace)
    }
  }

  /// The same with point `r`'s d × d Jacobian at `jacobianBlock` (row-major).
  func classify(
    _ r: Int, jacobian jacobianBlock: UnsafePointer<Scalar>, _ workspace: inout PointWorkspace
  ) throws(AnalysisError) -> ClassifiedState {
    let d = dimension
    let jacobian = try SpectrumComputation.jacobianSpectrum(
      block: jacobianBlock, index: r, dimension: d, source: stacks.jacobianSource,
      symmetryTolerance: symmetryTolerance, keepEigenvalues: keepEigenvalues, workspace: &workspace.spectrum)
    var hessian: HessianSpectrum? = nil
    if stacks.hessianIsIdentityMinusJacobian, let source = stacks.hessianSource {
      if jacobian.solver == .symmetric {
        hessian = SpectrumComputation.hessianSpectrum(
          identityMinusSymmetricJacobianEigenvalues: workspace.spectrum.values, dimension: d, source: source,
          tolerance: hessianTolerance,
          keepEigenvalues: keepEigenvalues)
      } else {
        hessian = try SpectrumComputation.hessianSpectrum(
          identityMinusBlock: jacobianBlock, index: r, dimension: d, source: source, tolerance: hessianTolerance,
          keepEigenvalues: keepEigenvalues, workspace: &workspace.spectrum)
      }
    } else if let h = stacks.storedHessians, let source = stacks.hessianSource {
      hessian = try SpectrumComputation.hessianSpectrum(
        stack: h, block: r, dimension: d, source: source, tolerance: hessianTolerance,
        keepEigenvalues: keepEigenvalues, workspace: &workspace.spectrum)
    }
    var e: SeparationEvidence? = nil
    if let evidence, workspace.weights != nil { e = evidence.evidence(row: r, workspace: &workspace.weights!) }
    let regime = e.map { thresholds.regime($0) }
    let unstable = jacobian.spectralRadius >= thresholds.spectralRadiusLimit || (hessian?.index ?? 0) > 0
    return ClassifiedState(
      jacobian: jacobian, hessian: hessian, evidence: e, regime: regime,
      label: unstable ? .unstable : (regime ?? .stable))
  }
}

/// Carries a buffer into `concurrentPerform`, whose iterations write disjoint elements.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// Stands in for "no associative memory" in the generic path.
struct NoMemory<Scalar: LinearAlgebraScalar>: AssociativeMemory {
  var patterns: Matrix<Scalar> { Matrix(rows: 0, columns: 0) }
  func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> { Matrix(rows: states.rows, columns: 0) }
}
