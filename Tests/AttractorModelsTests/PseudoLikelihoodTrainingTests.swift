import AttractorCore
import AttractorLinearAlgebra
import CAllocationCounter
import Foundation
import Testing
@testable import AttractorModels

@Suite("Pseudo-likelihood attractor: training without backpropagation")
struct PseudoLikelihoodTrainingTests {
  let configuration = PseudoLikelihoodConfiguration(tokens: 6, tokenWidth: 8, inverseTemperature: 4, selfCoupling: 0)

  @Test("the local rule lowers the pseudo-likelihood cost on the training data and keeps Σ_j ‖J_ij‖_F ≤ 1/κ")
  func localRuleLowersCost() throws {
    let data: Matrix<Double> = unitTokenStates(20, tokens: 6, width: 8, seed: 3)
    let model = try PseudoLikelihoodAttractor<Double>.zero(configuration: configuration)
    let trainer = PseudoLikelihoodTrainer(epochs: 15, batchSize: 5, learningRate: 0.5, weightDecay: 0.1, seed: 1)
    let (trained, history) = try trainer.train(model, data: data)
    #expect(history.epochsCompleted == 15)
    #expect(trained.meanCost(data) < model.meanCost(data) - 0.5)
    #expect(history.epochCost.last! < history.epochCost.first!)
    // The penalised objective the rule descends also falls.
    func objective(_ m: PseudoLikelihoodAttractor<Double>) -> Double {
      m.meanCost(data) + 0.05 * m.couplings.elements.reduce(0) { $0 + $1 * $1 }
    }
    #expect(objective(trained) < objective(model))
    #expect(trained.couplingRowNorms.allSatisfy { $0 <= 10 + 1e-9 })
  }

  @Test("a fixed seed reproduces training exactly; a checkpointed run resumed after epoch 2 ends identically")
  func reproducibleAndResumable() throws {
    let data: Matrix<Float> = unitTokenStates(12, tokens: 6, width: 8, seed: 4)
    var rng = SeededGenerator(seed: 9)
    let model = try PseudoLikelihoodAttractor<Float>.random(configuration: configuration, scale: 0.5, generator: &rng)
    let trainer = PseudoLikelihoodTrainer(
      rule: .contrastive(steps: 2), epochs: 4, batchSize: 5, learningRate: 0.3, weightDecay: 0.1, seed: 77)
    let a = try trainer.train(model, data: data)
    let b = try trainer.train(model, data: data)
    #expect(a.model.sourceMajorCouplings == b.model.sourceMajorCouplings)
    #expect(a.history.epochCost == b.history.epochCost)
    var saved: (PseudoLikelihoodAttractor<Float>, PseudoLikelihoodTrainer.History)?
    var partial = trainer
    partial.epochs = 2
    _ = try partial.train(model, data: data, checkpoint: { m, h in saved = (m, h) })
    let (m2, h2) = try #require(saved)
    let resumed = try trainer.train(m2, data: data, resumingFrom: h2)
    #expect(resumed.model.sourceMajorCouplings == a.model.sourceMajorCouplings)
    #expect(resumed.history.epochCost == a.history.epochCost)
    var other = trainer
    other.seed = 78
    #expect(try other.train(model, data: data).model.sourceMajorCouplings != a.model.sourceMajorCouplings)
  }

  @Test("the contrastive model term comes from the model's own dynamics started at the data")
  func contrastiveModelTermFromDynamics() throws {
    let data: Matrix<Double> = unitTokenStates(6, tokens: 6, width: 8, seed: 5)
    let model: PseudoLikelihoodAttractor<Double> = try randomModel(tokens: 6, width: 8, lambda: 4, gamma: 0.1, seed: 6)
    let k = 3
    var modelStates = data
    for _ in 0..<k { modelStates = model.update(modelStates) }
    let dataTerm = model.localEnergyCouplingGradient(data)
    let modelTerm = model.localEnergyCouplingGradient(modelStates)
    let direction = model.learningDirection(data, rule: .contrastive(steps: k))
    var largest = 0.0
    for e in direction.elements.indices {
      // direction = ⟨αxxᵀ⟩_data − ⟨αxxᵀ⟩_model = −∂_data + ∂_model.
      let expected = -dataTerm.elements[e] + modelTerm.elements[e]
      #expect(abs(direction.elements[e] - expected) < 1e-12)
      largest = max(largest, abs(expected))
    }
    // The model term differs from the data term (otherwise this test could not tell them apart).
    #expect(largest > 1e-3)
    // With one step fewer the direction differs: the number of dynamics steps matters.
    let fewer = model.learningDirection(data, rule: .contrastive(steps: k - 1))
    #expect(zip(fewer.elements, direction.elements).contains { abs($0 - $1) > 1e-6 })
  }

  /// Six planted sequences of six 16-dimensional tokens, trained by the local rule; each start has
  /// two of its six tokens replaced by random unit vectors (start overlap ≈ 0.65). Measured: the
  /// dynamics raise the overlap with the planted sequence to above 0.9 within a few steps (the planted
  /// sequence is then the nearest one) for every start — a transient retrieval — and then drift away
  /// (no start ends within 0.95 of its sequence after 20 steps): long-lived transients, not fixed points.
  @Test("planted sequences are retrieved from corrupted starts as transients after local-rule training")
  func plantedSequences() throws {
    let (n, d, p) = (6, 16, 6)
    let config = PseudoLikelihoodConfiguration(tokens: n, tokenWidth: d, inverseTemperature: 2, selfCoupling: 0)
    let planted: Matrix<Double> = unitTokenStates(p, tokens: n, width: d, seed: 13)
    let model = try PseudoLikelihoodAttractor<Double>.zero(configuration: config)
    let (trained, _) = try PseudoLikelihoodTrainer(
      epochs: 60, batchSize: p, learningRate: 0.5, weightDecay: 0.2, seed: 2
    ).train(model, data: planted)
    var rng = SeededGenerator(seed: 21)
    var starts = Matrix<Double>(rows: p * 4, columns: n * d)
    var targets: [Int] = []
    for s in 0..<(p * 4) {
      let mu = s % p
      starts.copyRow(mu, of: planted, to: s)
      var tokens = Array(0..<n)
      rng.shuffle(&tokens)
      for i in tokens.prefix(2) {
        var v = (0..<d).map { _ in rng.nextGaussian() }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / norm }
        for a in 0..<d { starts[s, i * d + a] = v[a] }
      }
      targets.append(mu)
    }
    let result = try SynchronousDynamics(maxSteps: 20, tolerance: 0, recordStates: true).run(trained, from: starts)
    func overlap(_ state: [Double], _ mu: Int) -> Double {
      (0..<(n * d)).reduce(0) { $0 + state[$1] * planted[mu, $1] } / Double(n)
    }
    var transient = 0, final = 0, startOverlap = 0.0, steps: [Int] = []
    for s in 0..<starts.rows {
      startOverlap += overlap(starts.row(s), targets[s]) / Double(starts.rows)
      let states = try #require(result.trajectories[s].states)
      if let t = states.firstIndex(where: { x in
        overlap(x, targets[s]) > 0.9 && (0..<p).allSatisfy { overlap(x, $0) <= overlap(x, targets[s]) }
      }) {
        transient += 1
        steps.append(t)
      }
      if overlap(result.finalStates.row(s), targets[s]) > 0.95 { final += 1 }
    }
    let fraction = Double(transient) / Double(starts.rows)
    print(
      "planted sequences: start overlap \(startOverlap), transient retrieval \(fraction) at steps \(steps), "
        + "final retrieval \(Double(final) / Double(starts.rows))")
    #expect(startOverlap < 0.7)
    #expect(fraction >= 0.9)
    #expect(steps.allSatisfy { $0 >= 1 && $0 <= 5 })
    // One step from a planted sequence stays close to it.
    let once = trained.update(planted)
    for mu in 0..<p { #expect(overlap(once.row(mu), mu) > 0.9) }
  }
}

/// The fused pair kernels (``PairAttentionKernels``: AVX-512 and portable) against the GEMM path of
/// the same training step, on shapes that exercise every remainder of the kernels: d below, between
/// and above the 16- and 32-lane blocks and not a multiple of 8 (7, 35, 48), N odd, minibatches that
/// are not a multiple of the 8-row tile with a shorter last minibatch, both rules, and a coupling
/// bound small enough that the projection acts.
@Suite("Pseudo-likelihood attractor: fused training kernels equal the GEMM path")
struct PseudoLikelihoodFusedKernelTests {
  @Test(
    "three epochs through the fused kernels end at the GEMM path's couplings and costs within 1e-6",
    arguments: [(5, 7, 29, 13), (3, 35, 20, 9), (4, 48, 17, 17), (2, 1, 5, 2)])
  func fusedEqualsGEMM(tokens: Int, width: Int, rows: Int, batch: Int) throws {
    let data: Matrix<Float> = unitTokenStates(rows, tokens: tokens, width: width, seed: UInt64(10 + width))
    let configuration = PseudoLikelihoodConfiguration(
      tokens: tokens, tokenWidth: width, inverseTemperature: 3, selfCoupling: 0.2)
    var rng = SeededGenerator(seed: UInt64(width))
    let model = try PseudoLikelihoodAttractor<Float>.random(configuration: configuration, scale: 0.5, generator: &rng)
    for (rule, bound) in [(PseudoLikelihoodLearningRule.local, 4.0), (.contrastive(steps: 2), 0.3)] {
      let trainer = PseudoLikelihoodTrainer(
        rule: rule, epochs: 3, batchSize: batch, learningRate: 0.4, weightDecay: 0.2, couplingBound: bound, seed: 5)
      func run(_ kernels: PseudoLikelihoodTrainingKernels) throws -> (PseudoLikelihoodAttractor<Float>, [Double]) {
        let (m, h) = try trainer.train(
          model, data: data, resumingFrom: nil, progress: nil, checkpoint: nil, kernels: kernels)
        return (m, h.epochCost)
      }
      let (reference, referenceCost) = try run(.gemm)
      #expect(reference.sourceMajorCouplings != model.sourceMajorCouplings)
      if case .contrastive = rule, tokens >= 3 {
        // The bound is small enough that the projection acts: weight decay alone (a factor 0.92 per
        // step, at most 9 steps) could not bring the initial rows under it.
        #expect(model.couplingRowNorms.min()! * 0.4 > bound)
        #expect(reference.couplingRowNorms.allSatisfy { $0 <= bound + 1e-5 })
      }
      for vectorised in [true, false] {
        let (fused, cost) = try run(.fused(vectorised: vectorised))
        var largest: Float = 0
        for (a, b) in zip(fused.sourceMajorCouplings.elements, reference.sourceMajorCouplings.elements) {
          largest = max(largest, abs(a - b))
        }
        print(
          "fused kernels vs GEMMs, \(rule), N \(tokens) d \(width) B \(batch) vectorised \(vectorised): max abs ΔJ \(largest)"
        )
        #expect(largest <= 1e-6, "\(rule) N \(tokens) d \(width) B \(batch) vectorised \(vectorised): |ΔJ| \(largest)")
        for (a, b) in zip(cost, referenceCost) {
          #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(rule) cost \(a) vs \(b)")
        }
      }
    }
  }

  @Test("a fused training step allocates nothing once its workspace exists (both rules)")
  func fusedStepAllocatesNothing() throws {
    let data: Matrix<Float> = unitTokenStates(11, tokens: 5, width: 7, seed: 21)
    let configuration = PseudoLikelihoodConfiguration(
      tokens: 5, tokenWidth: 7, inverseTemperature: 3, selfCoupling: 0.2)
    var rng = SeededGenerator(seed: 22)
    var model = try PseudoLikelihoodAttractor<Float>.random(configuration: configuration, scale: 0.5, generator: &rng)
    var ws = model.makeTrainingWorkspace(batchSize: data.rows)
    for rule in [PseudoLikelihoodLearningRule.local, .contrastive(steps: 2)] {
      for vectorised in [true, false] {
        func step() {
          _ = model.fusedStep(
            data, rule: rule, learningRate: 0.3, decay: 0.9, bound: 1, vectorised: vectorised, workspace: &ws)
        }
        step()
        attractor_allocations_begin()
        for _ in 0..<3 { step() }
        #expect(attractor_allocations_end() == 0, "\(rule) vectorised \(vectorised)")
      }
    }
  }
}
