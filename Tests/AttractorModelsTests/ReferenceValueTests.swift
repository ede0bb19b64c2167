import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing
@testable import AttractorModels

/// Compares with values computed independently by NumPy in Scripts/generate_reference.py
/// (Reference/hopfield_reference.json, marked GENERATED).
@Suite("NumPy reference values")
struct ReferenceValueTests {
  struct ModernCase: Decodable {
    let patterns: [[Double]], queries: [[Double]], beta: Double
    let energy: [Double], gradient: [[Double]], update: [[Double]], energy_after_update: [Double]
    let jacobian_query0: [[Double]], jacobian_eigenvalues_query0: [Double], hessian_eigenvalues_query0: [Double]
  }
  struct ClassicalCase: Decodable {
    let patterns: [[Double]], states: [[Double]], energy: [Double], synchronous_update: [[Double]]
    let weight_eigenvalues: [Double]
  }
  struct Document: Decodable {
    let GENERATED: String
    let modern: [ModernCase]
    let classical: [ClassicalCase]
  }

  static func load() throws -> Document {
    let url = try #require(
      Bundle.module.url(forResource: "hopfield_reference", withExtension: "json", subdirectory: "Reference"))
    return try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
  }

  @Test("modern Hopfield: energies, gradient, one update, Jacobian and its eigenvalues (Double and Float)")
  func modern() throws {
    let doc = try Self.load()
    #expect(doc.GENERATED.contains("generate_reference.py"))
    for c in doc.modern {
      try compare(c, as: Double.self, tolerance: 1e-10)
      try compare(c, as: Float.self, tolerance: 2e-4)
    }
  }

  func compare<S: LinearAlgebraScalar>(_ c: ModernCase, as: S.Type, tolerance: Double) throws {
    let patterns = Matrix(rowArrays: c.patterns.map { $0.map { S($0) } })
    let queries = Matrix(rowArrays: c.queries.map { $0.map { S($0) } })
    let model = try ModernHopfield(patterns: patterns, beta: S(c.beta))
    // Tolerances scale with β: logits are β-amplified before the softmax.
    let tol = tolerance * max(1, c.beta)
    func close(_ a: [S], _ b: [Double], _ what: String) {
      for (x, y) in zip(a, b) { #expect(abs(Double(x) - y) <= tol * max(1, abs(y)), "\(what) β=\(c.beta) \(S.self)") }
    }
    close(model.energy(queries), c.energy, "energy")
    close(model.gradient(queries).elements, c.gradient.flatMap { $0 }, "gradient")
    let next = model.update(queries)
    close(next.elements, c.update.flatMap { $0 }, "update")
    close(model.energy(next), c.energy_after_update, "energy after update")
    let j = model.jacobian(at: queries.row(0))
    close(j.elements, c.jacobian_query0.flatMap { $0 }, "Jacobian")
    close(
      try j.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues, c.jacobian_eigenvalues_query0, "eig J")
    close(
      try model.hessian(at: queries.row(0)).symmetricEigendecomposition(computeEigenvectors: false).eigenvalues,
      c.hessian_eigenvalues_query0, "eig H")
  }

  @Test("classical Hopfield: energies, synchronous update, weight spectrum")
  func classical() throws {
    for c in try Self.load().classical {
      let model = try ClassicalHopfield(patterns: Matrix(rowArrays: c.patterns))
      let states = Matrix(rowArrays: c.states)
      for (x, y) in zip(model.energy(states), c.energy) { #expect(abs(x - y) < 1e-10) }
      #expect(model.update(states) == Matrix(rowArrays: c.synchronous_update))
      let eigenvalues = try model.weights.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues
      for (x, y) in zip(eigenvalues, c.weight_eigenvalues) { #expect(abs(x - y) < 1e-10) }
    }
  }
}
