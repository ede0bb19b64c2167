import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

@Suite("In-context denoising: training one-layer attention")
struct InContextTrainingTests {
  static func smallSetup(_ variant: OneLayerAttention<Float>.Variant, seed: UInt64 = 3) throws -> InContextTraining {
    let task = try DenoisingTask.subspace(
      dimension: 8, subspaceDimension: 4, contextLength: 40, signalVariance: 2, noiseVariance: 1)
    return InContextTraining(
      variant: variant, task: task, steps: 150, batchSize: 16, learningRate: 0.03, validationSize: 200,
      evaluationInterval: 50, seed: seed)
  }

  @Test("Training lowers the validation MSE (linear and softmax)", arguments: ["linear", "softmax"])
  func trainingLowersValidation(name: String) throws {
    let setup = try Self.smallSetup(.init(rawValue: name)!)
    var calls = 0
    let (_, history) = try setup.run(as: Float.self) { _, _, _ in calls += 1 }
    #expect(calls == history.steps.count && history.steps == [0, 50, 100, 150])
    let first = history.validationLoss.first!, last = history.validationLoss.last!
    // Untrained: MSE ≈ E‖x‖² = dσ₀² = 8; the Bayes MSE is dσ₀²σ_Z²/(σ₀² + σ_Z²) ≈ 2.67.
    #expect(last < 0.6 * first, "\(name): validation \(first) → \(last)")
    #expect(last > 2.4, "\(name): cannot beat the Bayes MSE by much: \(last)")
  }

  @Test("A fixed seed reproduces training exactly; another seed does not")
  func reproducible() throws {
    let a = try Self.smallSetup(.softmax).run(as: Float.self)
    let b = try Self.smallSetup(.softmax).run(as: Float.self)
    #expect(a.model == b.model && a.history == b.history)
    let c = try Self.smallSetup(.softmax, seed: 4).run(as: Float.self)
    #expect(a.model != c.model)
  }

  @Test("Linear attention on the subspace task (n 16, d 8, σ₀² 2, σ_Z² 1, L 500): ⟨w_KQ⟩⟨w_PV⟩ within 10 % of 1/3")
  func linearProduct() throws {
    let task = try DenoisingTask.subspace(
      dimension: 16, subspaceDimension: 8, contextLength: 500, signalVariance: 2, noiseVariance: 1)
    let setup = InContextTraining(
      variant: .linear, task: task, steps: 400, batchSize: 32, learningRate: 0.02, validationSize: 256,
      evaluationInterval: 100, seed: 1)
    let (model, _) = try setup.run(as: Float.self)
    let s = model.structure
    #expect(abs(s.product * 3 - 1) < 0.1, "product \(s.product)")
    // Scaled identities: off-diagonal entries small against the diagonal.
    #expect(s.keyQuery.offDiagonalRMS < 0.1 * s.keyQuery.diagonalMean)
    #expect(s.projectionValue.offDiagonalRMS < 0.1 * s.projectionValue.diagonalMean)
  }

  @Test("Training refuses bad settings with a clear error")
  func badSettings() throws {
    var setup = try Self.smallSetup(.linear)
    setup.batchSize = 0
    #expect(throws: InContextDenoisingError.self) { try setup.run(as: Float.self) }
    setup.batchSize = 4
    setup.learningRate = -1
    #expect(throws: InContextDenoisingError.self) { try setup.run(as: Float.self) }
  }
}
