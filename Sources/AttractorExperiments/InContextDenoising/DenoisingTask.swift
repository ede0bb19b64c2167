import AttractorCore
import Foundation
import AttractorLinearAlgebra
import AttractorModels

/// An in-context denoising task (Smart, Bietti & Sengupta, arXiv:2502.05164): a prompt holds L clean
/// context tokens x₁ … x_L drawn from a task distribution plus one noisy query x̃ = x + z,
/// z ~ N(0, σ_Z² I), with x drawn from the same distribution; a denoiser estimates x.
///
/// ```
/// subspace:  x = σ₀ U g,             U ∈ ℝⁿˣᵈ orthonormal (a random d-dimensional subspace), g ~ N(0, I_d)
/// mixture:   x = μ_a + σ₀ ε,        a uniform in 1…p, centres μ_a uniform on the unit sphere of ℝⁿ, ε ~ N(0, I_n)
/// spheres:   x = R U g / ‖g‖,       U as for the subspace (a sphere of radius R in a random d-subspace)
/// ```
///
/// Each prompt draws its own task (a fresh U or fresh centres), so the task can only be learnt from
/// the prompt's own context. Construct with ``subspace(dimension:subspaceDimension:contextLength:signalVariance:noiseVariance:)``,
/// ``mixture(dimension:centreCount:contextLength:clusterVariance:noiseVariance:)`` or
/// ``spheres(dimension:subspaceDimension:contextLength:radius:noiseVariance:)``, which refuse bad
/// parameters (n < d, L = 0, σ ≤ 0, R ≤ 0, p = 0) with ``InContextDenoisingError``.
/// The mixture's centres, uniform on the unit sphere of ℝⁿ, are this implementation's choice (the
/// paper's exact centre law is not restated in the project's references).
public struct DenoisingTask: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  /// The three task families of the paper.
  public enum Family: String, Sendable, Codable, CaseIterable, Hashable {
    /// Gaussian on a random linear subspace.
    case subspace
    /// Gaussian mixture with p unit-norm centres.
    case mixture
    /// Uniform on a sphere of radius R in a random subspace.
    case spheres
  }

  /// Which family.
  public let family: Family
  /// Ambient dimension n (token size).
  public let dimension: Int
  /// Subspace dimension d (subspace and spheres; 0 for the mixture).
  public let subspaceDimension: Int
  /// Context tokens per prompt, L.
  public let contextLength: Int
  /// σ₀²: the variance inside the subspace, or the mixture's cluster variance (0 for spheres).
  public let signalVariance: Double
  /// σ_Z²: the variance of the query noise.
  public let noiseVariance: Double
  /// Number of mixture centres p (0 otherwise).
  public let centreCount: Int
  /// Sphere radius R (0 otherwise).
  public let radius: Double

  /// The linear-subspace task.
  public static func subspace(
    dimension n: Int, subspaceDimension d: Int, contextLength l: Int, signalVariance: Double, noiseVariance: Double
  ) throws(InContextDenoisingError) -> DenoisingTask {
    try checkCommon(n: n, l: l, noiseVariance: noiseVariance)
    try InContextDenoisingError.check(d >= 1, "d", d, "at least 1")
    try InContextDenoisingError.check(n >= d, "n", n, "at least d = \(d)")
    try InContextDenoisingError.check(
      signalVariance.isFinite && signalVariance > 0, "σ₀²", signalVariance, "finite and positive")
    return DenoisingTask(
      family: .subspace, dimension: n, subspaceDimension: d, contextLength: l, signalVariance: signalVariance,
      noiseVariance: noiseVariance, centreCount: 0, radius: 0)
  }

  /// The Gaussian-mixture task (p centres on the unit sphere, cluster variance σ₀²).
  public static func mixture(
    dimension n: Int, centreCount p: Int, contextLength l: Int, clusterVariance: Double, noiseVariance: Double
  ) throws(InContextDenoisingError) -> DenoisingTask {
    try checkCommon(n: n, l: l, noiseVariance: noiseVariance)
    try InContextDenoisingError.check(p >= 1, "p", p, "at least 1")
    try InContextDenoisingError.check(
      clusterVariance.isFinite && clusterVariance > 0, "σ₀²", clusterVariance, "finite and positive")
    return DenoisingTask(
      family: .mixture, dimension: n, subspaceDimension: 0, contextLength: l, signalVariance: clusterVariance,
      noiseVariance: noiseVariance, centreCount: p, radius: 0)
  }

  /// The spheres task (uniform on a sphere of radius R in a random d-dimensional subspace).
  public static func spheres(
    dimension n: Int, subspaceDimension d: Int, contextLength l: Int, radius: Double, noiseVariance: Double
  ) throws(InContextDenoisingError) -> DenoisingTask {
    try checkCommon(n: n, l: l, noiseVariance: noiseVariance)
    try InContextDenoisingError.check(d >= 1, "d", d, "at least 1")
    try InContextDenoisingError.check(n >= d, "n", n, "at least d = \(d)")
    try InContextDenoisingError.check(radius.isFinite && radius > 0, "R", radius, "finite and positive")
    return DenoisingTask(
      family: .spheres, dimension: n, subspaceDimension: d, contextLength: l, signalVariance: 0,
      noiseVariance: noiseVariance, centreCount: 0, radius: radius)
  }

  private static func checkCommon(n: Int, l: Int, noiseVariance: Double) throws(InContextDenoisingError) {
    try InContextDenoisingError.check(n >= 1, "n", n, "at least 1")
    try InContextDenoisingError.check(l >= 1, "L", l, "at least 1")
    try InContextDenoisingError.check(
      noiseVariance.isFinite && noiseVariance > 0, "σ_Z²", noiseVariance, "finite and positive")
  }

  /// The same task with another context length L (validated).
  public func withContextLength(_ l: Int) throws(InContextDenoisingError) -> DenoisingTask {
    try rebuilt(contextLength: l, noiseVariance: noiseVariance)
  }

  /// The same task with another noise variance σ_Z² (validated).
  public func withNoiseVariance(_ variance: Double) throws(InContextDenoisingError) -> DenoisingTask {
    try rebuilt(contextLength: contextLength, noiseVariance: variance)
  }

  private func rebuilt(contextLength l: Int, noiseVariance v: Double) throws(InContextDenoisingError) -> DenoisingTask {
    switch family {
    case .subspace:
      try .subspace(
        dimension: dimension, subspaceDimension: subspaceDimension, contextLength: l, signalVariance: signalVariance,
        noiseVariance: v)
    case .mixture:
      try .mixture(
        dimension: dimension, centreCount: centreCount, contextLength: l, clusterVariance: signalVariance,
        noiseVariance: v)
    case .spheres:
      try .spheres(
        dimension: dimension, subspaceDimension: subspaceDimension, contextLength: l, radius: radius, noiseVariance: v)
    }
  }

  /// Entries per prompt of ``PromptBatch/parameters``: n·d for a basis, p·n for centres.
  public var parameterCount: Int { family == .mixture ? centreCount * dimension : dimension * subspaceDimension }

  /// E‖x‖² under the task distribution (the MSE of the estimate 0).
  public var signalPower: Double {
    switch family {
    case .subspace: Double(subspaceDimension) * signalVariance
    case .mixture: 1 + Double(dimension) * signalVariance
    case .spheres: radius * radius
    }
  }

  public var description: String {
    switch family {
    case .subspace:
      "subspace n=\(dimension) d=\(subspaceDimension) L=\(contextLength) σ₀²=\(signalVariance) σ_Z²=\(noiseVariance)"
    case .mixture:
      "mixture n=\(dimension) p=\(centreCount) L=\(contextLength) σ₀²=\(signalVariance) σ_Z²=\(noiseVariance)"
    case .spheres:
      "spheres n=\(dimension) d=\(subspaceDimension) L=\(contextLength) R=\(radius) σ_Z²=\(noiseVariance)"
    }
  }
}

/// The errors of the in-context denoising building blocks.
public enum InContextDenoisingError: InvalidParameterError, Equatable, Sendable, CustomStringConvertible {
  /// A task or denoiser parameter is out of range.
  case invalidParameter(name: String, value: String, requirement: String)
  /// Arrays of the wrong shape were passed (`what` says which).
  case shapeMismatch(String)
  /// An eigen-decomposition failed.
  case numerics(String)

  public var description: String {
    switch self {
    case .invalidParameter(let name, let value, let requirement):
      "in-context denoising: " + Self.invalidParameterMessage(name: name, value: value, requirement: requirement)
    case .shapeMismatch(let what): "in-context denoising: shape mismatch: \(what)"
    case .numerics(let what): "in-context denoising: a linear-algebra step failed: \(what)"
    }
  }
}

/// One drawn task: the basis U (n × d, orthonormal columns) or the centres (p × n), with the
/// task's sampling law and its Bayes-optimal denoiser (``BayesOptimalDenoiser``).
public struct DenoisingTaskInstance<Scalar: LinearAlgebraScalar>: Sendable {
  /// The task family and its scalars.
  public let task: DenoisingTask
  /// U (n × d) for subspace and spheres; the centres (p × n) for the mixture.
  public let parameters: Matrix<Scalar>

  /// Wraps drawn parameters (shape checked).
  public init(task: DenoisingTask, parameters: Matrix<Scalar>) throws(InContextDenoisingError) {
    let expected =
      task.family == .mixture
      ? (task.centreCount, task.dimension) : (task.dimension, task.subspaceDimension)
    guard parameters.rows == expected.0 && parameters.columns == expected.1 else {
      throw .shapeMismatch(
        "task parameters are \(parameters.rows) × \(parameters.columns), need \(expected.0) × \(expected.1)")
    }
    self.task = task
    self.parameters = parameters
  }

  /// `count` clean tokens drawn from this task (count × n).
  public func sample(count: Int, generator: inout SeededGenerator) -> Matrix<Scalar> {
    var out = Matrix<Scalar>(rows: count, columns: task.dimension)
    var scratch = [Scalar]()
    out.withUnsafeMutableBufferPointer { o in
      parameters.withUnsafeBufferPointer { p in
        PromptSampling.drawTokens(
          task: task, parameters: p.baseAddress!, count: count, into: o.baseAddress!, scratch: &scratch,
          generator: &generator)
      }
    }
    return out
  }
}

/// A batch of B prompts stored contiguously.
///
/// `contexts` is (B·L) × n, prompt b's tokens being rows b·L ..< (b+1)·L; `queries` (noisy) and
/// `targets` (clean) are B × n; `parameters` is B × (``DenoisingTask/parameterCount``), row b the
/// row-major U (n × d) or centres (p × n) of prompt b.
public struct PromptBatch<Scalar: LinearAlgebraScalar>: Sendable {
  /// The task the prompts are drawn from.
  public let task: DenoisingTask
  /// The context tokens, (B·L) × n.
  public internal(set) var contexts: Matrix<Scalar>
  /// The noisy queries x̃, B × n.
  public internal(set) var queries: Matrix<Scalar>
  /// The clean tokens x behind the queries, B × n.
  public internal(set) var targets: Matrix<Scalar>
  /// Each prompt's task parameters, B × parameterCount.
  public internal(set) var parameters: Matrix<Scalar>
  var scratch: [Scalar] = []

  /// An empty batch of `size` prompts (filled by ``DenoisingTaskSampler/fill(_:index:)``).
  public init(task: DenoisingTask, size: Int) {
    self.task = task
    let n = task.dimension
    contexts = Matrix(rows: size * task.contextLength, columns: n)
    queries = Matrix(rows: size, columns: n)
    targets = Matrix(rows: size, columns: n)
    parameters = Matrix(rows: size, columns: task.parameterCount)
  }

  /// Number of prompts B.
  public var size: Int { queries.rows }

  /// Prompt b's context, L × n (a copy).
  public func context(_ b: Int) -> Matrix<Scalar> {
    let l = task.contextLength
    return contexts.rows(at: (b * l)..<((b + 1) * l))
  }

  /// Prompt b's drawn task.
  public func instance(_ b: Int) -> DenoisingTaskInstance<Scalar> {
    let rows = task.family == .mixture ? task.centreCount : task.dimension
    let columns = task.family == .mixture ? task.dimension : task.subspaceDimension
    // Shapes are right by construction.
    return try! DenoisingTaskInstance(
      task: task, parameters: Matrix(rows: rows, columns: columns, elements: parameters.row(b)))
  }

  /// The mean over prompts of ‖estimateᵦ − xᵦ‖² (the paper's MSE, summed over coordinates).
  public func meanSquaredError(_ estimates: Matrix<Scalar>) -> Double {
    precondition(estimates.rows == size && estimates.columns == task.dimension, "meanSquaredError: shape")
    return PromptBatch.meanSquaredDistance(estimates, targets)
  }

  static func meanSquaredDistance(_ a: Matrix<Scalar>, _ b: Matrix<Scalar>) -> Double {
    var total = 0.0
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        for i in pa.indices {
          let r = Double(pa[i]) - Double(pb[i])
          total += r * r
        }
      }
    }
    return a.rows == 0 ? 0 : total / Double(a.rows)
  }
}

/// Draws prompt batches of a task, seeded: batch `index` comes from the stream
/// `SeededGenerator(seed: seed).derived(index)`, so any batch can be redrawn alone and a run does
/// not depend on the order batches are drawn in.
public struct DenoisingTaskSampler: Sendable {
  /// The task.
  public let task: DenoisingTask
  /// The seed of every batch's stream.
  public let seed: UInt64

  /// A sampler of `task` seeded with `seed`.
  public init(task: DenoisingTask, seed: UInt64) {
    self.task = task
    self.seed = seed
  }

  /// Batch `index` of `size` prompts (allocates; training loops use ``fill(_:index:)``).
  public func batch<Scalar: LinearAlgebraScalar>(
    _ index: Int, size: Int, as: Scalar.Type = Scalar.self
  ) -> PromptBatch<Scalar> {
    var b = PromptBatch<Scalar>(task: task, size: size)
    fill(&b, index: index)
    return b
  }

  /// Redraws every prompt of `batch` as batch `index`: a fresh task per prompt, its L context tokens,
  /// its clean token x and the query x + z. Allocation-free once the batch's scratch has grown.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func fill<Scalar: LinearAlgebraScalar>(_ batch: inout PromptBatch<Scalar>, index: Int) {
    precondition(batch.task == task, "fill: the batch was made for another task")
    var generator = SeededGenerator(seed: seed).derived(index)
    let n = task.dimension, l = task.contextLength, pc = task.parameterCount
    let noise = Scalar(task.noiseVariance.squareRoot())
    var scratch = batch.scratch
    batch.scratch = []
    defer { batch.scratch = scratch }
    let size = batch.size
    var (pm, cm, tm, qm) = (batch.parameters, batch.contexts, batch.targets, batch.queries)
    batch.parameters = Matrix(rows: 0, columns: 0)
    batch.contexts = batch.parameters
    batch.targets = batch.parameters
    batch.queries = batch.parameters
    defer { (batch.parameters, batch.contexts, batch.targets, batch.queries) = (pm, cm, tm, qm) }
    pm.withUnsafeMutableBufferPointer { params in
      cm.withUnsafeMutableBufferPointer { contexts in
        tm.withUnsafeMutableBufferPointer { targets in
          qm.withUnsafeMutableBufferPointer { queries in
            for b in 0..<size {
              let p = params.baseAddress! + b * pc
              PromptSampling.drawParameters(task: task, into: p, scratch: &scratch, generator: &generator)
              PromptSampling.drawTokens(
                task: task, parameters: p, count: l, into: contexts.baseAddress! + b * l * n, scratch: &scratch,
                generator: &generator)
              PromptSampling.drawTokens(
                task: task, parameters: p, count: 1, into: targets.baseAddress! + b * n, scratch: &scratch,
                generator: &generator)
              let q = queries.baseAddress! + b * n
              PromptSampling.fillGaussian(q, count: n, scale: noise, generator: &generator)
              for j in 0..<n { q[j] += targets[b * n + j] }
            }
          }
        }
      }
    }
  }
}

/// The sampling kernels shared by the sampler and task instances.
enum PromptSampling {
  /// Fills `count` entries with independent N(0, scale²) draws (Marsaglia's polar method, pairs).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func fillGaussian<Scalar: LinearAlgebraScalar>(
    _ out: UnsafeMutablePointer<Scalar>, count: Int, scale: Scalar, generator: inout SeededGenerator
  ) {
    var k = 0
    let s = Double(scale)
    while k < count {
      var u = 0.0, v = 0.0, r = 0.0
      repeat {
        u = 2 * generator.nextUniform() - 1
        v = 2 * generator.nextUniform() - 1
        r = u * u + v * v
      } while r >= 1 || r == 0
      let f = s * (-2 * Foundation.log(r) / r).squareRoot()
      out[k] = Scalar(u * f)
      if k + 1 < count { out[k + 1] = Scalar(v * f) }
      k += 2
    }
  }

  /// Draws one task's parameters into `p`: an orthonormal n × d basis (Gram–Schmidt on a Gaussian
  /// matrix, in double precision) or p unit centres.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func drawParameters<Scalar: LinearAlgebraScalar>(
    task: DenoisingTask, into p: UnsafeMutablePointer<Scalar>, scratch: inout [Scalar], generator: inout SeededGenerator
  ) {
    let n = task.dimension
    switch task.family {
    case .mixture:
      let count = task.centreCount
      fillGaussian(p, count: count * n, scale: 1, generator: &generator)
      for a in 0..<count {
        var s = 0.0
        for j in 0..<n { s += Double(p[a * n + j]) * Double(p[a * n + j]) }
        let inv = 1 / s.squareRoot()
        for j in 0..<n { p[a * n + j] = Scalar(Double(p[a * n + j]) * inv) }
      }
    case .subspace, .spheres:
      let d = task.subspaceDimension
      var column = [Double](repeating: 0, count: n)
      var basis = [Double](repeating: 0, count: n * d)  // column-major: column c at c·n
      var c = 0
      while c < d {
        for j in 0..<n {
          var u = 0.0, v = 0.0, r = 0.0
          repeat {
            u = 2 * generator.nextUniform() - 1
            v = 2 * generator.nextUniform() - 1
            r = u * u + v * v
          } while r >= 1 || r == 0
          column[j] = u * (-2 * Foundation.log(r) / r).squareRoot()
        }
        for _ in 0..<2 {  // twice is enough (Kahan–Parlett)
          for e in 0..<c {
            var dotProduct = 0.0
            for j in 0..<n { dotProduct += basis[e * n + j] * column[j] }
            for j in 0..<n { column[j] -= dotProduct * basis[e * n + j] }
          }
        }
        var s = 0.0
        for j in 0..<n { s += column[j] * column[j] }
        if s < 1e-12 { continue }  // a draw in the span (probability 0): draw again
        let inv = 1 / s.squareRoot()
        for j in 0..<n { basis[c * n + j] = column[j] * inv }
        c += 1
      }
      for i in 0..<n {
        for e in 0..<d { p[i * d + e] = Scalar(basis[e * n + i]) }
      }
    }
  }

  /// Draws `count` tokens of the task with parameters `p` into `out` (count × n, row-major).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func drawTokens<Scalar: LinearAlgebraScalar>(
    task: DenoisingTask, parameters p: UnsafePointer<Scalar>, count: Int, into out: UnsafeMutablePointer<Scalar>,
    scratch: inout [Scalar], generator: inout SeededGenerator
  ) {
    let n = task.dimension
    switch task.family {
    case .mixture:
      let sigma = Scalar(task.signalVariance.squareRoot())
      fillGaussian(out, count: count * n, scale: sigma, generator: &generator)
      let centres = UInt64(task.centreCount)
      for t in 0..<count {
        let a = Int(generator.next(upperBound: centres))
        for j in 0..<n { out[t * n + j] += p[a * n + j] }
      }
    case .subspace, .spheres:
      let d = task.subspaceDimension
      if scratch.count < count * d { scratch = [Scalar](repeating: 0, count: count * d) }
      scratch.withUnsafeMutableBufferPointer { g in
        let z = g.baseAddress!
        if task.family == .subspace {
          fillGaussian(z, count: count * d, scale: Scalar(task.signalVariance.squareRoot()), generator: &generator)
        } else {
          fillGaussian(z, count: count * d, scale: 1, generator: &generator)
          for t in 0..<count {
            var s = 0.0
            for e in 0..<d { s += Double(z[t * d + e]) * Double(z[t * d + e]) }
            let f = task.radius / s.squareRoot()
            for e in 0..<d { z[t * d + e] = Scalar(Double(z[t * d + e]) * f) }
          }
        }
        // tokens = Z Uᵀ  (count × d times d × n)
        Scalar.gemm(
          transposeA: false, transposeB: true, m: count, n: n, k: d, alpha: 1, a: z, lda: d, b: p, ldb: d, beta: 0,
          c: out, ldc: n)
      }
    }
  }
}

extension PromptBatch: AttentionPrompts {}
