import AttractorIO
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorExperiments

@Suite("recall: degenerate stored patterns (issue 16, item 7)")
struct RecallPatternWarningTests {
  @Test("All-zero patterns are an error; identical patterns and zero rows are warnings; ordinary patterns are silent")
  func degeneratePatterns() throws {
    #expect(throws: InputError.self) { _ = try RecallSession.patternWarnings(Matrix<Double>(rows: 3, columns: 4)) }
    let same = Matrix<Double>(rowArrays: [[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    #expect(try RecallSession.patternWarnings(same).contains { $0.contains("all 3 stored patterns are identical") })
    let oneZero = Matrix<Double>(rowArrays: [[1, 0, 0], [0, 0, 0], [0, 1, 0]])
    #expect(
      try RecallSession.patternWarnings(oneZero) == [
        "warning: 1 of the 3 stored patterns are all zeros (rows 1); they are never retrieved"
      ])
    #expect(try RecallSession.patternWarnings(Matrix<Double>(rowArrays: [[1, 0], [0, 1]])).isEmpty)
  }

  @Test("A recall run on identical patterns carries the warning among its notes")
  func sessionNotes() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("same-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    try NumPyFile.write(Tensor(Matrix<Double>(rowArrays: [[1, 1, 1, 1], [1, 1, 1, 1]])), to: url)
    let session = RecallSession(
      patterns: .file(url.path), queries: .generated(count: 2, corruption: nil, level: nil), model: .modern, beta: nil,
      maxSteps: 2, tolerance: 1e-6, precision: .double, asynchronous: false, seed: 0, output: nil, version: "test")
    #expect(try session.run().notes.contains { $0.contains("identical") })
  }
}
