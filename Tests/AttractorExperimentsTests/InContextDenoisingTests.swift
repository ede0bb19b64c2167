import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import Foundation
import Testing

/// Self-normalised importance-sampling estimate of E[x | x̃] with its per-coordinate standard error
/// (delta method): x_i drawn from the task's prior, weights ∝ exp(−‖x̃ − x_i‖²/(2σ_Z²)).
func monteCarloPosteriorMean(
  query: [Double], instance: DenoisingTaskInstance<Double>, samples: Int, seed: UInt64
) -> (mean: [Double], standardError: [Double]) {
  var rng = SeededGenerator(seed: seed)
  let x = instance.sample(count: samples, generator: &rng)
  let n = query.count
  let s2 = instance.task.noiseVariance
  var logw = [Double](repeating: 0, count: samples)
  for i in 0..<samples {
    var s = 0.0
    for j in 0..<n { s += (query[j] - x[i, j]) * (query[j] - x[i, j]) }
    logw[i] = -s / (2 * s2)
  }
  let m = logw.max()!
  let w = logw.map { exp($0 - m) }
  let total = w.reduce(0, +)
  var mean = [Double](repeating: 0, count: n)
  for i in 0..<samples { for j in 0..<n { mean[j] += w[i] * x[i, j] / total } }
  var se = [Double](repeating: 0, count: n)
  for i in 0..<samples {
    for j in 0..<n {
      let r = w[i] / total * (x[i, j] - mean[j])
      se[j] += r * r
    }
  }
  return (mean, se.map { $0.squareRoot() })
}

@Suite("In-context denoising: tasks and denoisers")
struct InContextDenoisingTaskTests {
  static let smallTasks: [DenoisingTask] = [
    try! .subspace(dimension: 4, subspaceDimension: 2, contextLength: 10, signalVariance: 1, noiseVariance: 0.5),
    try! .mixture(dimension: 3, centreCount: 3, contextLength: 10, clusterVariance: 0.1, noiseVariance: 0.3),
    try! .spheres(dimension: 3, subspaceDimension: 2, contextLength: 10, radius: 1, noiseVariance: 0.3),
  ]

  @Test("Bayes-optimal denoisers agree with Monte-Carlo E[x | x̃] within 4.5 standard errors", arguments: smallTasks)
  func bayesAgainstMonteCarlo(task: DenoisingTask) {
    let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: 11).batch(0, size: 3)
    for b in 0..<batch.size {
      let instance = batch.instance(b)
      let q = batch.queries.row(b)
      let bayes = BayesOptimalDenoiser.posteriorMean(query: q, instance: instance)
      let mc = monteCarloPosteriorMean(query: q, instance: instance, samples: 60_000, seed: 100 + UInt64(b))
      for j in 0..<task.dimension {
        #expect(
          abs(bayes[j] - mc.mean[j]) <= 4.5 * mc.standardError[j] + 1e-9,
          "\(task) prompt \(b) coordinate \(j): Bayes \(bayes[j]), MC \(mc.mean[j]) ± \(mc.standardError[j])")
      }
      // The comparison has power: the unshrunk estimate (projection, or the nearest centre) is rejected.
      if task.family == .subspace && b == 0 {
        let wrong = BayesOptimalDenoiser.posteriorMean(query: q, instance: instance).map { $0 * 3 / 2 }
        let rejected = (0..<task.dimension).contains {
          abs(wrong[$0] - mc.mean[$0]) > 4.5 * mc.standardError[$0] + 1e-9
        }
        #expect(rejected, "a 1.5× too large estimate must fail the same check")
      }
    }
  }

  @Test("The Bessel ratio matches its closed forms: tanh κ (ν = 1/2) and coth κ − 1/κ (ν = 3/2)")
  func besselRatio() {
    for kappa in [1e-3, 0.1, 1, 5, 30, 300] {
      #expect(abs(BayesOptimalDenoiser.besselRatio(order: 0.5, kappa) - tanh(kappa)) < 1e-12)
      let closed = 1 / tanh(kappa) - 1 / kappa
      #expect(abs(BayesOptimalDenoiser.besselRatio(order: 1.5, kappa) - closed) < 1e-9 * max(1, closed))
    }
    #expect(BayesOptimalDenoiser.besselRatio(order: 4, 0) == 0)
  }

  @Test("Generators: orthonormal bases, tokens in the subspace, the right second moments, noise σ_Z²")
  func generatorStatistics() throws {
    let task = try DenoisingTask.subspace(
      dimension: 6, subspaceDimension: 3, contextLength: 400, signalVariance: 2, noiseVariance: 0.5)
    let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: 3).batch(0, size: 20)
    var power = 0.0, outside = 0.0, noise = 0.0
    for b in 0..<batch.size {
      let u = batch.instance(b).parameters
      let gram = u.multiplied(by: u, transposeSelf: true)
      #expect(gram.maxAbsDifference(.identity(3)) < 1e-12)
      let x = batch.context(b)
      let coordinates = x.multiplied(by: u)
      let back = coordinates.multiplied(by: u, transposeOther: true)
      outside = max(outside, back.maxAbsDifference(x))
      power += x.rowNorms().reduce(0) { $0 + $1 * $1 }
      for j in 0..<6 { noise += pow(batch.queries[b, j] - batch.targets[b, j], 2) }
    }
    #expect(outside < 1e-12)
    // E‖x‖² = dσ₀² = 6 over 8000 tokens (relative SE ≈ √(2/(3·8000)) ≈ 0.9 %).
    #expect(abs(power / 8000 / 6 - 1) < 0.04)
    // E‖z‖² = nσ_Z² = 3 over 20 queries (relative SE ≈ 13 %).
    #expect(abs(noise / 20 / 3 - 1) < 0.5)

    let mixture = try DenoisingTask.mixture(
      dimension: 5, centreCount: 4, contextLength: 300, clusterVariance: 0.01, noiseVariance: 0.1)
    let mb: PromptBatch<Double> = DenoisingTaskSampler(task: mixture, seed: 4).batch(2, size: 5)
    for b in 0..<mb.size {
      let centres = mb.instance(b).parameters
      #expect(centres.rowNorms().allSatisfy { abs($0 - 1) < 1e-12 })
      // every token lies within 6σ₀√n of some centre
      let x = mb.context(b)
      for t in 0..<x.rows {
        let nearest = (0..<4).map { x.rowDistance(t, to: centres, row: $0) }.min()!
        #expect(nearest < 6 * 0.1 * sqrt(5.0))
      }
    }
    let spheres = try DenoisingTask.spheres(
      dimension: 5, subspaceDimension: 3, contextLength: 50, radius: 1.5, noiseVariance: 0.1)
    let sb: PromptBatch<Double> = DenoisingTaskSampler(task: spheres, seed: 5).batch(0, size: 4)
    #expect(sb.contexts.rowNorms().allSatisfy { abs($0 - 1.5) < 1e-12 })
  }

  @Test("A seed and batch index give the same prompts; another index gives others")
  func seeding() throws {
    let task = try DenoisingTask.mixture(
      dimension: 4, centreCount: 2, contextLength: 7, clusterVariance: 0.1, noiseVariance: 0.1)
    let sampler = DenoisingTaskSampler(task: task, seed: 9)
    let a: PromptBatch<Float> = sampler.batch(3, size: 5)
    var b = PromptBatch<Float>(task: task, size: 5)
    sampler.fill(&b, index: 0)
    sampler.fill(&b, index: 3)
    #expect(a.contexts == b.contexts && a.queries == b.queries && a.parameters == b.parameters)
    let c: PromptBatch<Float> = sampler.batch(4, size: 5)
    #expect(a.contexts != c.contexts)
  }

  @Test("In-context denoisers approach the Bayes-optimal MSE with a long context")
  func inContextApproachesBayes() throws {
    let subspace = try DenoisingTask.subspace(
      dimension: 8, subspaceDimension: 3, contextLength: 500, signalVariance: 2, noiseVariance: 1)
    let mixture = try DenoisingTask.mixture(
      dimension: 8, centreCount: 4, contextLength: 500, clusterVariance: 0.02, noiseVariance: 0.1)
    for task in [subspace, mixture] {
      let batch: PromptBatch<Double> = DenoisingTaskSampler(task: task, seed: 21).batch(0, size: 300)
      let bayes = batch.meanSquaredError(BayesOptimalDenoiser.denoise(batch))
      let context = batch.meanSquaredError(try InContextDenoiser.denoise(batch))
      let nearest = batch.meanSquaredError(InContextDenoiser.nearestToken(batch))
      let raw = batch.meanSquaredError(batch.queries)
      #expect(context < 1.15 * bayes, "\(task): in-context \(context) vs Bayes \(bayes)")
      #expect(bayes <= context * 1.02, "\(task): Bayes \(bayes) should not lose to in-context \(context)")
      #expect(bayes < nearest && bayes < raw, "\(task): Bayes \(bayes), nearest \(nearest), raw \(raw)")
    }
  }

  @Test("Bad parameters are refused with a clear error")
  func badParameters() {
    func message(_ body: () throws(InContextDenoisingError) -> DenoisingTask) -> String? {
      do {
        _ = try body()
        return nil
      } catch { return error.description }
    }
    let cases: [(String, () throws(InContextDenoisingError) -> DenoisingTask)] = [
      (
        "n = 4",
        { () throws(InContextDenoisingError) in
          try .subspace(dimension: 4, subspaceDimension: 8, contextLength: 5, signalVariance: 1, noiseVariance: 1)
        }
      ),
      (
        "L = 0",
        { () throws(InContextDenoisingError) in
          try .subspace(dimension: 8, subspaceDimension: 4, contextLength: 0, signalVariance: 1, noiseVariance: 1)
        }
      ),
      (
        "σ_Z² = 0.0",
        { () throws(InContextDenoisingError) in
          try .mixture(dimension: 8, centreCount: 2, contextLength: 5, clusterVariance: 1, noiseVariance: 0)
        }
      ),
      (
        "σ₀² = -1.0",
        { () throws(InContextDenoisingError) in
          try .subspace(dimension: 8, subspaceDimension: 4, contextLength: 5, signalVariance: -1, noiseVariance: 1)
        }
      ),
      (
        "σ_Z² = nan",
        { () throws(InContextDenoisingError) in
          try .spheres(dimension: 8, subspaceDimension: 4, contextLength: 5, radius: 1, noiseVariance: .nan)
        }
      ),
      (
        "R = 0.0",
        { () throws(InContextDenoisingError) in
          try .spheres(dimension: 8, subspaceDimension: 4, contextLength: 5, radius: 0, noiseVariance: 1)
        }
      ),
      (
        "p = 0",
        { () throws(InContextDenoisingError) in
          try .mixture(dimension: 8, centreCount: 0, contextLength: 5, clusterVariance: 1, noiseVariance: 1)
        }
      ),
    ]
    for (expected, body) in cases {
      let m = message(body)
      #expect(m?.contains(expected) == true, "expected an error naming \(expected), got \(m ?? "no error")")
    }
  }
}
