import Foundation
import AttractorCore
import AttractorLinearAlgebra

/// Shape and temperature of a ``PseudoLikelihoodAttractor``.
public struct PseudoLikelihoodConfiguration: Sendable, Equatable, Codable {
  /// Number of tokens N (at least 2: a token attends to the others).
  public var tokens: Int
  /// Dimension d of a token (each token is a unit vector in ℝᵈ).
  public var tokenWidth: Int
  /// Inverse temperature λ of the attention softmax (finite, positive).
  public var inverseTemperature: Double
  /// Self-coupling γ ∈ [0, 1]: the weight a token keeps on its own previous value.
  public var selfCoupling: Double

  public init(tokens: Int, tokenWidth: Int, inverseTemperature: Double = 1, selfCoupling: Double = 0) {
    self.tokens = tokens
    self.tokenWidth = tokenWidth
    self.inverseTemperature = inverseTemperature
    self.selfCoupling = selfCoupling
  }

  /// Dimension of a state, N·d.
  public var stateDimension: Int { tokens * tokenWidth }

  /// Number of couplings, N(N−1)d².
  public var parameterCount: Int { tokens * (tokens - 1) * tokenWidth * tokenWidth }

  /// Throws ``ModelError/invalidParameter(name:value:requirement:)`` for N < 2, d < 1, λ not finite
  /// and positive, or γ outside [0, 1].
  public func validate() throws(ModelError) {
    try ModelError.check(tokens >= 2, "tokens", tokens, "at least 2 (a token attends to the other tokens)")
    try ModelError.check(tokenWidth >= 1, "tokenWidth", tokenWidth, "at least 1")
    try ModelError.check(
      inverseTemperature.isFinite && inverseTemperature > 0, "inverseTemperature", inverseTemperature,
      "finite and positive")
    try ModelError.check(
      selfCoupling.isFinite && selfCoupling >= 0 && selfCoupling <= 1, "selfCoupling", selfCoupling, "in [0, 1]")
  }
}

/// Self-attention as an attractor network (D'Amico & Negri, arXiv:2409.16112): N tokens on the unit
/// sphere of ℝᵈ, coupled pairwise by d × d matrices J_ij, updated by attention.
///
/// A state is the N·d vector of all tokens (token i in coordinates i·d ..< (i+1)·d), so the
/// framework's dynamics, recall and analysis work on it unchanged. For every token i:
///
/// ```
/// α_{i←j} = softmax_{j≠i}( λ x_iᵀ J_ij x_j )
/// h_i     = Σ_{j≠i} α_{i←j} J_ij x_j                      = −∂e_i/∂x_i
/// x_i     ← normalise( (1−γ) h_i + γ x_i )
/// e_i(x; J) = −λ⁻¹ log Σ_{j≠i} exp(λ x_iᵀ J_ij x_j)        (local energy)
/// ```
///
/// Mathematical properties:
/// - h_i is exactly −∂e_i/∂x_i (the derivative of e_i with respect to token i alone, the other tokens
///   held); the tests check it by finite differences.
/// - F(x) = Σ_i e_i(x) is a negative log pseudo-likelihood, not a global energy: the update of
///   token i follows −∂e_i/∂x_i only, not −∂F/∂x_i, which also holds the terms Σ_{k≠i} ∂e_k/∂x_i.
///   Nothing makes F decrease along the dynamics, so the model is deliberately not
///   ``/AttractorCore/EnergyDescending`` (``pseudoLikelihood`` is an ``/AttractorCore/EnergyFunction``
///   for diagnostics only). Trajectories can be transient and need not converge.
/// - Normalisation is the projection back to the sphere (the sources do not state it). When
///   (1−γ) h_i + γ x_i is exactly zero it cannot be normalised and token i keeps its value.
/// - The Jacobian is not symmetric in general (J_ij ≠ J_jiᵀ): fixed-point analysis uses the general
///   eigensolver (`?geev`) on finite-difference Jacobians.
///
/// One synchronous step of a batch of B states costs N GEMMs of B × d × N·d (all fields J_ij x_j
/// for one source token j at a time) plus an online softmax over j, on buffers of the
/// ``Workspace`` (B × N·d fields and accumulators, B × N × N logits), so a step allocates nothing.
///
/// Couplings are stored internally by source token: for each j the N·d × d block column
/// W_j = [J_0j; J_1j; …; J_{N−1,j}] is contiguous (J_jj is held at zero and never used).
public struct PseudoLikelihoodAttractor<Scalar: LinearAlgebraScalar>: UpdateRule, Sendable {
  public let configuration: PseudoLikelihoodConfiguration
  /// Couplings in source-major layout: rows (j·N + i)·d ..< (j·N + i + 1)·d hold J_ij (d × d).
  public internal(set) var sourceMajorCouplings: Matrix<Scalar>

  /// A network with the couplings given as an N·N·d × d matrix in the natural (i, j) order: rows
  /// (i·N + j)·d ..< (i·N + j + 1)·d hold J_ij (the row-major layout of an (N, N, d, d) tensor).
  /// The diagonal blocks J_ii must be zero (they do not exist in the model).
  ///
  /// - Throws: ``ModelError`` for an invalid configuration, couplings of the wrong shape, a
  ///   non-finite coupling or a non-zero diagonal block.
  public init(configuration: PseudoLikelihoodConfiguration, couplings: Matrix<Scalar>) throws(ModelError) {
    try configuration.validate()
    let n = configuration.tokens, d = configuration.tokenWidth
    guard couplings.rows == n * n * d, couplings.columns == d else {
      throw .invalidParameter(
        name: "couplings", value: "\(couplings.rows) × \(couplings.columns)",
        requirement: "\(n * n * d) × \(d) (J_ij for every ordered pair, row-major (N, N, d, d))")
    }
    for k in couplings.elements.indices where !couplings.elements[k].isFinite {
      let block = k / (d * d)
      throw .invalidParameter(
        name: "couplings J[\(block / n)][\(block % n)]", value: "\(couplings.elements[k])", requirement: "finite")
    }
    for i in 0..<n {
      let base = (i * n + i) * d * d
      for k in 0..<(d * d) where couplings.elements[base + k] != 0 {
        throw .invalidParameter(
          name: "couplings J[\(i)][\(i)]", value: "non-zero", requirement: "zero (a token has no self-coupling block)")
      }
    }
    self.configuration = configuration
    self.sourceMajorCouplings = Self.transposeBlocks(couplings, tokens: n, width: d)
  }

  /// Couplings drawn from N(0, σ²) with σ = scale/√d for i ≠ j (zero diagonal blocks), seeded.
  public static func random(
    configuration: PseudoLikelihoodConfiguration, scale: Double = 1, generator: inout SeededGenerator
  ) throws(ModelError) -> Self {
    try configuration.validate()
    try ModelError.check(scale.isFinite && scale >= 0, "scale", scale, "finite and at least 0")
    let n = configuration.tokens, d = configuration.tokenWidth
    var j = generator.gaussianMatrix(
      rows: n * n * d, columns: d, standardDeviation: scale / Double(d).squareRoot(), as: Scalar.self)
    j.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        let base = (i * n + i) * d * d
        for k in 0..<(d * d) { p[base + k] = 0 }
      }
    }
    return try Self(configuration: configuration, couplings: j)
  }

  /// All couplings zero (uniform attention).
  public static func zero(configuration: PseudoLikelihoodConfiguration) throws(ModelError) -> Self {
    try configuration.validate()
    let n = configuration.tokens, d = configuration.tokenWidth
    return try Self(configuration: configuration, couplings: Matrix(rows: n * n * d, columns: d))
  }

  /// Swaps the (i, j) block order of an N·N·d × d block matrix (its own inverse).
  static func transposeBlocks(_ m: Matrix<Scalar>, tokens n: Int, width d: Int) -> Matrix<Scalar> {
    var out = Matrix<Scalar>(rows: n * n * d, columns: d)
    let dd = d * d
    m.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for i in 0..<n {
          for j in 0..<n {
            let from = (i * n + j) * dd, to = (j * n + i) * dd
            for k in 0..<dd { dst[to + k] = src[from + k] }
          }
        }
      }
    }
    return out
  }

  /// The couplings in the natural (i, j) order (rows (i·N + j)·d … hold J_ij).
  public var couplings: Matrix<Scalar> {
    Self.transposeBlocks(sourceMajorCouplings, tokens: tokenCount, width: tokenWidth)
  }

  /// J_ij as a d × d matrix.
  public func coupling(_ i: Int, _ j: Int) -> Matrix<Scalar> {
    let n = tokenCount, d = tokenWidth
    precondition(i >= 0 && i < n && j >= 0 && j < n, "coupling: token index out of range")
    let base = (j * n + i) * d * d
    return Matrix(rows: d, columns: d, elements: Array(sourceMajorCouplings.elements[base..<(base + d * d)]))
  }

  /// Number of tokens N.
  public var tokenCount: Int { configuration.tokens }
  /// Dimension d of a token.
  public var tokenWidth: Int { configuration.tokenWidth }
  /// State dimension N·d.
  public var dimension: Int { configuration.stateDimension }

  /// Buffers of one forward pass over a batch: the fields J_ij x_j of one source token j for every
  /// target i (B × N·d), the running softmax accumulators (B × N·d), maxima and sums (B × N), and
  /// all logits λ x_iᵀ J_ij x_j (B × N × N, the diagonal unused).
  public struct Workspace: Sendable {
    var batch: Int
    var fields: Matrix<Scalar>
    var accumulated: Matrix<Scalar>
    var maxima: [Scalar]
    var sums: [Scalar]
    var logits: [Scalar]

    init(batch: Int, tokens n: Int, width d: Int) {
      self.batch = batch
      fields = Matrix(rows: batch, columns: n * d)
      accumulated = Matrix(rows: batch, columns: n * d)
      maxima = Array(repeating: 0, count: batch * n)
      sums = Array(repeating: 0, count: batch * n)
      logits = Array(repeating: 0, count: batch * n * n)
    }

    mutating func fit(batch b: Int, tokens n: Int, width d: Int) {
      if b != batch { self = Workspace(batch: b, tokens: n, width: d) }
    }
  }

  public func makeWorkspace(batchSize: Int) -> Workspace {
    Workspace(batch: batchSize, tokens: tokenCount, width: tokenWidth)
  }

  /// The forward pass: for every state and token i, the logits λ x_iᵀ J_ij x_j, the attention
  /// field h_i = Σ_j α_{i←j} J_ij x_j (in `workspace.accumulated`) and the softmax maximum and sum
  /// (so that e_i = −(m_i + log s_i)/λ and α_{i←j} = exp(l_ij − m_i)/s_i).
  ///
  /// One GEMM per source token j (B × d by d × N·d), then an online softmax over j.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  func forward(_ states: Matrix<Scalar>, workspace ws: inout Workspace) {
    let b = states.rows, n = tokenCount, d = tokenWidth, nd = n * d
    precondition(states.columns == nd, "PseudoLikelihoodAttractor: states have \(states.columns) columns, need \(nd)")
    ws.fit(batch: b, tokens: n, width: d)
    let lambda = Scalar(configuration.inverseTemperature)
    for k in 0..<(b * n) {
      ws.maxima[k] = -.infinity
      ws.sums[k] = 0
    }
    ws.accumulated.withUnsafeMutableBufferPointer { acc in
      for k in acc.indices { acc[k] = 0 }
    }
    for j in 0..<n {
      // fields[b, i·d ..] = (J_ij x_j)ᵀ for every i: X_j W_jᵀ.
      states.withUnsafeBufferPointer { x in
        sourceMajorCouplings.withUnsafeBufferPointer { w in
          ws.fields.withUnsafeMutableBufferPointer { f in
            Scalar.gemm(
              transposeA: false, transposeB: true, m: b, n: nd, k: d, alpha: 1,
              a: x.baseAddress! + j * d, lda: nd, b: w.baseAddress! + j * nd * d, ldb: d,
              beta: 0, c: f.baseAddress!, ldc: nd)
          }
        }
      }
      states.withUnsafeBufferPointer { x in
        ws.fields.withUnsafeBufferPointer { f in
          ws.accumulated.withUnsafeMutableBufferPointer { acc in
            ws.maxima.withUnsafeMutableBufferPointer { mx in
              ws.sums.withUnsafeMutableBufferPointer { sm in
                ws.logits.withUnsafeMutableBufferPointer { lg in
                  for r in 0..<b {
                    for i in 0..<n where i != j {
                      let xi = x.baseAddress! + r * nd + i * d
                      let fi = f.baseAddress! + r * nd + i * d
                      let l = lambda * Self.dot(xi, fi, count: d)
                      let k = r * n + i
                      lg[k * n + j] = l
                      let ai = acc.baseAddress! + r * nd + i * d
                      var weight: Scalar = 1
                      if l > mx[k] {
                        let c = Scalar.exp(mx[k] - l)
                        for a in 0..<d { ai[a] *= c }
                        sm[k] *= c
                        mx[k] = l
                      } else {
                        weight = Scalar.exp(l - mx[k])
                      }
                      for a in 0..<d { ai[a] += weight * fi[a] }
                      sm[k] += weight
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    ws.accumulated.withUnsafeMutableBufferPointer { acc in
      for r in 0..<b {
        for i in 0..<n {
          let inv = 1 / ws.sums[r * n + i]
          let base = r * nd + i * d
          for a in 0..<d { acc[base + a] *= inv }
        }
      }
    }
  }

  /// Σ_a x[a] y[a] with four partial sums (independent chains the compiler can keep in registers;
  /// a single running sum serialises on the adder's latency).
  @inline(__always)
  static func dot(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, count d: Int) -> Scalar {
    var s0: Scalar = 0, s1: Scalar = 0, s2: Scalar = 0, s3: Scalar = 0
    var a = 0
    while a + 4 <= d {
      s0 += x[a] * y[a]
      s1 += x[a + 1] * y[a + 1]
      s2 += x[a + 2] * y[a + 2]
      s3 += x[a + 3] * y[a + 3]
      a += 4
    }
    while a < d {
      s0 += x[a] * y[a]
      a += 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// The attention weights only, for training: the N field GEMMs of ``forward(_:workspace:)`` and
  /// the logits, then one softmax over the sources of every (state, target) pair, leaving
  /// α_{i←j} in `logits[(r·N + i)·N + j]` (α_{i←i} = 0) and the softmax maximum and sum in `maxima`
  /// and `sums` (so e_i = −(m_i + log s_i)/λ). Skips the fields' weighted sum h_i, which the
  /// learning rules do not need, and computes each exponential once.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  func attentionWeights(_ states: Matrix<Scalar>, workspace ws: inout Workspace) {
    let b = states.rows, n = tokenCount, d = tokenWidth, nd = n * d
    precondition(states.columns == nd, "PseudoLikelihoodAttractor: states have \(states.columns) columns, need \(nd)")
    ws.fit(batch: b, tokens: n, width: d)
    let lambda = Scalar(configuration.inverseTemperature)
    for j in 0..<n {
      states.withUnsafeBufferPointer { x in
        sourceMajorCouplings.withUnsafeBufferPointer { w in
          ws.fields.withUnsafeMutableBufferPointer { f in
            Scalar.gemm(
              transposeA: false, transposeB: true, m: b, n: nd, k: d, alpha: 1,
              a: x.baseAddress! + j * d, lda: nd, b: w.baseAddress! + j * nd * d, ldb: d,
              beta: 0, c: f.baseAddress!, ldc: nd)
          }
        }
      }
      states.withUnsafeBufferPointer { x in
        ws.fields.withUnsafeBufferPointer { f in
          ws.logits.withUnsafeMutableBufferPointer { lg in
            for r in 0..<b {
              for i in 0..<n where i != j {
                let base = r * nd + i * d
                lg[(r * n + i) * n + j] = lambda * Self.dot(x.baseAddress! + base, f.baseAddress! + base, count: d)
              }
            }
          }
        }
      }
    }
    ws.logits.withUnsafeMutableBufferPointer { lg in
      for k in 0..<(b * n) {
        let i = k % n, row = lg.baseAddress! + k * n
        var m = -Scalar.infinity
        for j in 0..<n where j != i { m = max(m, row[j]) }
        var sum: Scalar = 0
        for j in 0..<n where j != i {
          let e = Scalar.exp(row[j] - m)
          row[j] = e
          sum += e
        }
        let inverse = 1 / sum
        for j in 0..<n { row[j] = j == i ? 0 : row[j] * inverse }
        ws.maxima[k] = m
        ws.sums[k] = sum
      }
    }
  }

  /// x_i ← normalise((1−γ) h_i + γ x_i) for every token of every state (synchronous).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    forward(states, workspace: &workspace)
    let b = states.rows, n = tokenCount, d = tokenWidth, nd = n * d
    let gamma = Scalar(configuration.selfCoupling)
    states.withUnsafeBufferPointer { x in
      workspace.accumulated.withUnsafeBufferPointer { h in
        next.withUnsafeMutableBufferPointer { y in
          for r in 0..<b {
            for i in 0..<n {
              let base = r * nd + i * d
              Self.combine(
                field: h.baseAddress! + base, token: x.baseAddress! + base, gamma: gamma, width: d,
                into: y.baseAddress! + base)
            }
          }
        }
      }
    }
  }

  /// y ← normalise((1−γ) h + γ x); y ← x when that vector is zero.
  @inline(__always)
  static func combine(
    field h: UnsafePointer<Scalar>, token x: UnsafePointer<Scalar>, gamma: Scalar, width d: Int,
    into y: UnsafeMutablePointer<Scalar>
  ) {
    var norm2: Scalar = 0
    for a in 0..<d {
      let v = (1 - gamma) * h[a] + gamma * x[a]
      y[a] = v
      norm2 += v * v
    }
    if norm2 > 0 && norm2.isFinite {
      let inv = 1 / norm2.squareRoot()
      for a in 0..<d { y[a] *= inv }
    } else {
      for a in 0..<d { y[a] = x[a] }
    }
  }

  /// The attention fields h_i = Σ_j α_{i←j} J_ij x_j = −∂e_i/∂x_i of every token (B × N·d): the
  /// update before the self-coupling and the normalisation.
  public func attentionFields(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var ws = makeWorkspace(batchSize: states.rows)
    forward(states, workspace: &ws)
    return ws.accumulated
  }

  /// The local energies e_i(x; J) = −λ⁻¹ log Σ_{j≠i} exp(λ x_iᵀ J_ij x_j) of every token of every
  /// state (B × N).
  public func localEnergies(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var ws = makeWorkspace(batchSize: states.rows)
    var e = Matrix<Scalar>(rows: states.rows, columns: tokenCount)
    localEnergies(states, into: &e, workspace: &ws)
    return e
  }

  /// Writes the local energies into `energies` (B × N) with a preallocated workspace.
  public func localEnergies(_ states: Matrix<Scalar>, into energies: inout Matrix<Scalar>, workspace: inout Workspace) {
    forward(states, workspace: &workspace)
    let inverseLambda = 1 / configuration.inverseTemperature
    let ws = workspace
    energies.withUnsafeMutableBufferPointer { e in
      for k in 0..<(states.rows * tokenCount) {
        let m = Double(ws.maxima[k]), s = Double(ws.sums[k])
        e[k] = Scalar(-(m + Foundation.log(s)) * inverseLambda)
      }
    }
  }

  /// The attention weights α_{i←j} of every state (B × N·N, row-major (i, j); α_{i←i} = 0).
  public func attention(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var ws = makeWorkspace(batchSize: states.rows)
    forward(states, workspace: &ws)
    let n = tokenCount
    var out = Matrix<Scalar>(rows: states.rows, columns: n * n)
    out.withUnsafeMutableBufferPointer { o in
      for k in 0..<(states.rows * n) {
        let i = k % n
        for j in 0..<n where j != i {
          let l: Scalar = ws.logits[k * n + j] - ws.maxima[k]
          o[k * n + j] = Scalar.exp(l) / ws.sums[k]
        }
      }
    }
    return out
  }

  /// Updates token `i` of the single state `state` (1 × N·d) in place, the other tokens held: the
  /// asynchronous (token-by-token) form of the update. Costs N d² (one d × d product per source).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func updateToken(_ i: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace) {
    let n = tokenCount, d = tokenWidth
    precondition(state.rows == 1 && state.columns == n * d, "updateToken: state must be 1 × \(n * d)")
    workspace.fit(batch: 1, tokens: n, width: d)
    let lambda = Scalar(configuration.inverseTemperature)
    let gamma = Scalar(configuration.selfCoupling)
    state.withUnsafeMutableBufferPointer { x in
      sourceMajorCouplings.withUnsafeBufferPointer { w in
        workspace.fields.withUnsafeMutableBufferPointer { f in
          workspace.logits.withUnsafeMutableBufferPointer { lg in
            let xi = x.baseAddress! + i * d
            var maxLogit = -Scalar.infinity
            for j in 0..<n where j != i {
              // f_j = J_ij x_j into fields[j·d ..]
              let block = w.baseAddress! + (j * n + i) * d * d
              let xj = x.baseAddress! + j * d
              let fj = f.baseAddress! + j * d
              var l: Scalar = 0
              for a in 0..<d {
                var s: Scalar = 0
                for c in 0..<d { s += block[a * d + c] * xj[c] }
                fj[a] = s
                l += xi[a] * s
              }
              lg[j] = lambda * l
              maxLogit = max(maxLogit, lg[j])
            }
            var sum: Scalar = 0
            for j in 0..<n where j != i {
              lg[j] = Scalar.exp(lg[j] - maxLogit)
              sum += lg[j]
            }
            // Accumulate h_i into fields[i·d ..] (unused by the loop above).
            let h = f.baseAddress! + i * d
            for a in 0..<d { h[a] = 0 }
            for j in 0..<n where j != i {
              let weight = lg[j] / sum
              let fj = f.baseAddress! + j * d
              for a in 0..<d { h[a] += weight * fj[a] }
            }
            Self.combine(field: UnsafePointer(h), token: UnsafePointer(xi), gamma: gamma, width: d, into: h)
            for a in 0..<d { xi[a] = h[a] }
          }
        }
      }
    }
  }

  /// The negative log pseudo-likelihood F(x) = Σ_i e_i(x; J) as an energy function (with its full
  /// gradient ∂F/∂x_k = −h_k − Σ_{i≠k} α_{i←k} J_ikᵀ x_i). A diagnostic: the dynamics do not descend it.
  public var pseudoLikelihood: PseudoLikelihoodCost<Scalar> { PseudoLikelihoodCost(model: self) }

  /// Projects every token of every row of `states` onto the unit sphere (a zero token is left at zero).
  public static func normalizeTokens(_ states: inout Matrix<Scalar>, tokenWidth d: Int) {
    let count = states.elements.count / max(1, d)
    states.withUnsafeMutableBufferPointer { x in
      for t in 0..<count {
        var s: Scalar = 0
        for a in 0..<d { s += x[t * d + a] * x[t * d + a] }
        if s > 0 {
          let inv = 1 / s.squareRoot()
          for a in 0..<d { x[t * d + a] *= inv }
        }
      }
    }
  }
}

/// F(x) = Σ_i e_i(x; J), the negative log pseudo-likelihood of a ``PseudoLikelihoodAttractor``
/// state, with its gradient with respect to the whole state.
///
/// ```
/// F(x) = −λ⁻¹ Σ_i log Σ_{j≠i} exp(λ x_iᵀ J_ij x_j)
/// ∂F/∂x_k = −Σ_{j≠k} α_{k←j} J_kj x_j − Σ_{i≠k} α_{i←k} J_ikᵀ x_i
/// ```
///
/// The attractor's update of token k follows only the first term; this is why F is not descended
/// by the dynamics and the model does not conform to ``/AttractorCore/EnergyDescending``.
public struct PseudoLikelihoodCost<Scalar: LinearAlgebraScalar>: EnergyFunction {
  public let model: PseudoLikelihoodAttractor<Scalar>
  public typealias Workspace = PseudoLikelihoodAttractor<Scalar>.Workspace

  public var dimension: Int { model.dimension }
  public func makeWorkspace(batchSize: Int) -> Workspace { model.makeWorkspace(batchSize: batchSize) }

  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    let n = model.tokenCount
    var local = Matrix<Scalar>(rows: states.rows, columns: n)
    model.localEnergies(states, into: &local, workspace: &workspace)
    for r in 0..<states.rows {
      var s: Double = 0
      for i in 0..<n { s += Double(local[r, i]) }
      energies[r] = Scalar(s)
    }
  }

  public func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace) {
    let b = states.rows, n = model.tokenCount, d = model.tokenWidth, nd = n * d
    let alpha = model.attention(states)
    // First term: −h_k.
    model.forward(states, workspace: &workspace)
    let h = workspace.accumulated
    gradient.withUnsafeMutableBufferPointer { g in
      for k in 0..<(b * nd) { g[k] = -h.elements[k] }
    }
    // Second term: for each source k, −W_kᵀ S_k with S_k block i = α_{i←k} x_i.
    var s = Matrix<Scalar>(rows: b, columns: nd)
    var g = Matrix<Scalar>(rows: b, columns: d)
    for k in 0..<n {
      s.withUnsafeMutableBufferPointer { sp in
        for r in 0..<b {
          for i in 0..<n {
            let w: Scalar = i == k ? 0 : alpha[r, i * n + k]
            let base = r * nd + i * d
            for a in 0..<d { sp[base + a] = w * states.elements[base + a] }
          }
        }
      }
      s.withUnsafeBufferPointer { sp in
        model.sourceMajorCouplings.withUnsafeBufferPointer { w in
          g.withUnsafeMutableBufferPointer { gp in
            Scalar.gemm(
              transposeA: false, transposeB: false, m: b, n: d, k: nd, alpha: 1,
              a: sp.baseAddress!, lda: nd, b: w.baseAddress! + k * nd * d, ldb: d,
              beta: 0, c: gp.baseAddress!, ldc: d)
          }
        }
      }
      for r in 0..<b { for a in 0..<d { gradient[r, k * d + a] -= g[r, a] } }
    }
  }
}

extension PseudoLikelihoodAttractor: BlockUpdatable {
  /// The blocks are the N tokens.
  public var blockCount: Int { tokenCount }

  /// ``updateToken(_:of:workspace:)``.
  public func updateBlock(_ k: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace) {
    updateToken(k, of: &state, workspace: &workspace)
  }
}
