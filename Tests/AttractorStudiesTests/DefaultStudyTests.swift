import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

@Suite("The built-in study: every family, no two rows alike; trained attention")
struct DefaultStudyTests {
  @Test("the built-in study names every registered family once or more, and no two models are the same")
  func everyFamily() {
    let spec = StudySpec.standard
    // global-workspace needs a trained AiT folder, so the built-in study (no download) cannot use it.
    let families = Set(StudyModelRegistry.standard.names).subtracting([GlobalWorkspaceFactory.name])
    #expect(Set(spec.models.map(\.model)) == families)
    for a in spec.models.indices {
      for b in spec.models.indices where a < b {
        #expect(spec.models[a] != spec.models[b])
        #expect(spec.models[a].label != spec.models[b].label)
      }
    }
    let attention = spec.models.first { $0.model == "attention" }
    #expect(attention?.parameters.values["projections"] == .string("trained"))
  }

  /// Gaussian patterns K × d with N(0, 1) entries.
  func patterns(_ k: Int, _ d: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SeededGenerator(seed: seed)
    return Matrix(rows: k, columns: d, elements: (0..<(k * d)).map { _ in rng.nextGaussian() })
  }

  func factory(_ projections: String, epochs: Int = 8) throws -> IterativeAttentionFactory {
    try IterativeAttentionFactory(
      parameters: StudyParameterValues([
        "layers": .number(1), "heads": .number(1), "temperature": .number(1), "projections": .string(projections),
        "epochs": .number(Double(epochs)),
      ]))
  }

  @Test("trained attention moves off the identity, lowers its training loss, and is reproducible for a seed")
  func trainedAttention() throws {
    let x = patterns(24, 16, seed: 1)
    let identity = try factory("identity").make(patterns: x, seed: 7)
    let trained = try factory("trained").make(patterns: x, seed: 7)
    let again = try factory("trained").make(patterns: x, seed: 7)
    let other = try factory("trained").make(patterns: x, seed: 8)
    #expect(trained.layers == again.layers)
    #expect(trained.layers != other.layers)
    #expect(trained.layers != identity.layers)
    // On fresh noisy cues (σ = 1) the trained one-step map is closer to the targets than the identity's.
    var rng = SeededGenerator(seed: 99)
    let targets = (0..<200).map { $0 % 24 }
    let clean = x.rows(at: targets)
    let cues = Matrix(rows: 200, columns: 16, elements: clean.elements.map { $0 + rng.nextGaussian() })
    #expect(trained.loss(queries: cues, targets: clean) < identity.loss(queries: cues, targets: clean))
    #expect(try factory("trained", epochs: 3).label == "attention trained 3 epochs")
    #expect(try factory("trained", epochs: 20).label == "attention trained")
  }

  @Test("a study with trained attention runs, and its row differs from the identity's")
  func studyRow() throws {
    let text = """
      {"queries": 32, "steps": [1, 3], "seeds": [0], "models": [
         {"model": "attention", "projections": "trained", "epochs": 5}, {"model": "attention"}],
       "datasets": [{"kind": "gaussian", "count": 24, "dimension": 16}],
       "corruptions": [{"kind": "noise", "levels": [1.5]}, {"kind": "mask", "levels": [0.5]}]}
      """
    let study = try StudySpec.parse(Data(text.utf8))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trained-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try #require(try StudyRunner(study: study).run(into: folder).report)
    let trained = report.rows.filter { $0.model == "attention trained 5 epochs" }
    let identity = report.rows.filter { $0.model == "attention" }
    #expect(trained.count == identity.count && !trained.isEmpty)
    #expect(zip(trained, identity).contains { $0.accuracy != $1.accuracy || $0.regime != $1.regime })
  }
}
