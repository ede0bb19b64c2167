import AttractorLinearAlgebra
import Foundation

/// The Bayes-optimal denoisers E[x | x̃] of the three task families, in closed form with the true
/// task parameters (Smart, Bietti & Sengupta, arXiv:2502.05164, section 2).
///
/// ```
/// subspace:  E[x | x̃] = σ₀²/(σ₀² + σ_Z²) · U Uᵀ x̃
/// mixture:   E[x | x̃] = c x̃ + (1 − c) Σ_a w_a μ_a,   c = σ₀²/(σ₀² + σ_Z²),
///            w = softmax_a(−‖x̃ − μ_a‖² / (2(σ₀² + σ_Z²)))
/// spheres:   E[x | x̃] = R · A_d(κ) · U y / ‖y‖,   y = Uᵀ x̃,  κ = R‖y‖/σ_Z²,
///            A_d(κ) = I_{d/2}(κ) / I_{d/2−1}(κ)   (the von Mises–Fisher mean resultant length)
/// ```
///
/// The mixture's form holds for equally likely centres and isotropic clusters; the spheres' form
/// because the posterior on the sphere is a von Mises–Fisher law with concentration κ.
public enum BayesOptimalDenoiser {
  /// E[x | x̃] for every query row, with prompt b's task (`batch.instance(b)`).
  public static func denoise<Scalar: LinearAlgebraScalar>(_ batch: PromptBatch<Scalar>) -> Matrix<Scalar> {
    var out = Matrix<Scalar>(rows: batch.size, columns: batch.task.dimension)
    for b in 0..<batch.size {
      out.setRow(b, to: posteriorMean(query: batch.queries.row(b), instance: batch.instance(b)))
    }
    return out
  }

  /// E[x | x̃ = query] for one drawn task.
  public static func posteriorMean<Scalar: LinearAlgebraScalar>(
    query: [Scalar], instance: DenoisingTaskInstance<Scalar>
  ) -> [Scalar] {
    let task = instance.task
    let n = task.dimension
    precondition(query.count == n, "posteriorMean: query has \(query.count) entries, needs \(n)")
    let q = query.map { Double($0) }
    let p = instance.parameters.elements.map { Double($0) }
    let s2 = task.noiseVariance
    switch task.family {
    case .subspace:
      let d = task.subspaceDimension
      let y = project(q, basis: p, n: n, d: d)
      let c = task.signalVariance / (task.signalVariance + s2)
      return lift(y, basis: p, n: n, d: d).map { Scalar(c * $0) }
    case .mixture:
      let total = task.signalVariance + s2
      let c = task.signalVariance / total
      var logits = [Double](repeating: 0, count: task.centreCount)
      for a in logits.indices {
        var s = 0.0
        for j in 0..<n { s += (q[j] - p[a * n + j]) * (q[j] - p[a * n + j]) }
        logits[a] = -s / (2 * total)
      }
      let w = softmax(logits)
      var out = q.map { c * $0 }
      for a in w.indices { for j in 0..<n { out[j] += (1 - c) * w[a] * p[a * n + j] } }
      return out.map { Scalar($0) }
    case .spheres:
      let d = task.subspaceDimension
      let y = project(q, basis: p, n: n, d: d)
      let norm = y.reduce(0) { $0 + $1 * $1 }.squareRoot()
      guard norm > 0 else { return [Scalar](repeating: 0, count: n) }
      let kappa = task.radius * norm / s2
      let f = task.radius * besselRatio(order: Double(d) / 2, kappa) / norm
      return lift(y, basis: p, n: n, d: d).map { Scalar(f * $0) }
    }
  }

  /// A_ν(κ) = I_ν(κ) / I_{ν−1}(κ) for ν > 0, κ ≥ 0, by the continued fraction
  /// I_ν/I_{ν−1} = 1/(2ν/κ + 1/(2(ν+1)/κ + …)) (modified Lentz, relative accuracy 1e-15).
  ///
  /// Closed forms it must match: ν = 1/2 gives tanh κ, ν = 3/2 gives coth κ − 1/κ.
  public static func besselRatio(order nu: Double, _ kappa: Double) -> Double {
    precondition(nu > 0 && kappa >= 0, "besselRatio: needs ν > 0 and κ ≥ 0")
    if kappa == 0 { return 0 }
    let tiny = 1e-300
    var f = 2 * nu / kappa
    if f == 0 { f = tiny }
    var c = f, d = 0.0
    for k in 1..<100_000 {
      let b = 2 * (nu + Double(k)) / kappa
      d = b + d
      d = d == 0 ? 1 / tiny : 1 / d
      c = b + 1 / c
      if c == 0 { c = tiny }
      let delta = c * d
      f *= delta
      if abs(delta - 1) < 1e-15 { break }
    }
    return 1 / f
  }

  static func project(_ q: [Double], basis p: [Double], n: Int, d: Int) -> [Double] {
    var y = [Double](repeating: 0, count: d)
    for i in 0..<n { for e in 0..<d { y[e] += p[i * d + e] * q[i] } }
    return y
  }

  static func lift(_ y: [Double], basis p: [Double], n: Int, d: Int) -> [Double] {
    var out = [Double](repeating: 0, count: n)
    for i in 0..<n { for e in 0..<d { out[i] += p[i * d + e] * y[e] } }
    return out
  }

  static func softmax(_ z: [Double]) -> [Double] {
    let m = z.max() ?? 0
    let e = z.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }
}

/// Denoisers that see only the prompt (its L context tokens and the query), not the task's
/// parameters: the in-context counterparts of ``BayesOptimalDenoiser``, and exact retrieval.
///
/// ```
/// projection (subspace):  c · P̂ x̃,   P̂ the projector on the top-d eigenvectors of (1/L) Σ_t x_t x_tᵀ,  c = σ₀²/(σ₀² + σ_Z²)
/// empirical posterior:    Σ_t softmax_t(−‖x̃ − x_t‖² / (2σ_Z²)) x_t     (the posterior mean when the prior is the
///                         context's empirical distribution; the mixture and spheres baseline)
/// nearest token:          x_{t*},  t* = argmin_t ‖x̃ − x_t‖              (exact retrieval of a context token)
/// ```
public enum InContextDenoiser {
  /// The family's in-context estimate for every prompt: the estimated projection for the
  /// subspace task, the empirical posterior mean for the mixture and spheres.
  public static func denoise<Scalar: LinearAlgebraScalar>(
    _ batch: PromptBatch<Scalar>
  ) throws(InContextDenoisingError) -> Matrix<Scalar> {
    batch.task.family == .subspace ? try projection(batch) : empiricalPosteriorMean(batch)
  }

  /// c · P̂ x̃ with P̂ from the context's second moment (LAPACK `?syevd` per prompt).
  public static func projection<Scalar: LinearAlgebraScalar>(
    _ batch: PromptBatch<Scalar>
  ) throws(InContextDenoisingError) -> Matrix<Scalar> {
    let task = batch.task
    let n = task.dimension, l = task.contextLength
    let d = task.family == .mixture ? 1 : task.subspaceDimension
    let c = task.family == .subspace ? Scalar(task.signalVariance / (task.signalVariance + task.noiseVariance)) : 1
    var out = Matrix<Scalar>(rows: batch.size, columns: n)
    var moment = Matrix<Scalar>(rows: n, columns: n)
    for b in 0..<batch.size {
      let x = batch.context(b)
      Matrix.multiply(x, x, transposeA: true, alpha: 1 / Scalar(l), into: &moment)
      let eig: SymmetricEigendecomposition<Scalar>
      do { eig = try moment.symmetricEigendecomposition() } catch { throw .numerics("\(error)") }
      let v = eig.eigenvectors!  // columns, ascending eigenvalues
      let q = batch.queries.row(b)
      var y = [Scalar](repeating: 0, count: n)
      for e in (n - d)..<n {
        var s: Scalar = 0
        for i in 0..<n { s += v[i, e] * q[i] }
        for i in 0..<n { y[i] += c * s * v[i, e] }
      }
      out.setRow(b, to: y)
    }
    return out
  }

  /// Σ_t softmax_t(−‖x̃ − x_t‖²/(2σ_Z²)) x_t for every prompt (σ_Z² of the task).
  public static func empiricalPosteriorMean<Scalar: LinearAlgebraScalar>(_ batch: PromptBatch<Scalar>) -> Matrix<Scalar>
  {
    let task = batch.task
    let n = task.dimension, l = task.contextLength
    let inv = 1 / task.noiseVariance
    var out = Matrix<Scalar>(rows: batch.size, columns: n)
    var logits = [Scalar](repeating: 0, count: l)
    batch.contexts.withUnsafeBufferPointer { x in
      batch.queries.withUnsafeBufferPointer { q in
        out.withUnsafeMutableBufferPointer { o in
          logits.withUnsafeMutableBufferPointer { z in
            for b in 0..<batch.size {
              let xb = x.baseAddress! + b * l * n
              let qb = q.baseAddress! + b * n
              for t in 0..<l {
                var s = 0.0
                for j in 0..<n {
                  let r = Double(qb[j]) - Double(xb[t * n + j])
                  s += r * r
                }
                z[t] = Scalar(-s * inv / 2)
              }
              Scalar.softmaxInPlace(z.baseAddress!, count: l)
              Scalar.gemv(
                transpose: true, m: l, n: n, alpha: 1, a: xb, lda: n, x: z.baseAddress!, incx: 1, beta: 0,
                y: o.baseAddress! + b * n, incy: 1)
            }
          }
        }
      }
    }
    return out
  }

  /// The context token nearest to each query (exact retrieval).
  public static func nearestToken<Scalar: LinearAlgebraScalar>(_ batch: PromptBatch<Scalar>) -> Matrix<Scalar> {
    let n = batch.task.dimension, l = batch.task.contextLength
    var out = Matrix<Scalar>(rows: batch.size, columns: n)
    for b in 0..<batch.size {
      let q = batch.queries.row(b)
      var best = 0, bestDistance = Double.infinity
      for t in 0..<l {
        var s = 0.0
        for j in 0..<n {
          let r = Double(q[j]) - Double(batch.contexts[b * l + t, j])
          s += r * r
        }
        if s < bestDistance {
          bestDistance = s
          best = t
        }
      }
      out.setRow(b, to: batch.contexts.row(b * l + best))
    }
    return out
  }
}
