import AttractorCore
import AttractorLinearAlgebra
import AttractorStudies
import Foundation
import Testing

// The code between the `snippet` markers is shown verbatim in Docs/Studies.md and in the DocC
// article Sources/Attractors/Attractors.docc/AddingAModelToStudies.md; the last test checks that.

/// A model defined outside the library: one step jumps to the stored pattern with the largest
/// dot product (an "oracle" baseline).
// snippet.start model
struct SnapToNearest: UpdateRule, AssociativeMemory {
  let patterns: Matrix<Double>
  var dimension: Int { patterns.columns }

  func update(_ states: Matrix<Double>, into next: inout Matrix<Double>, workspace: inout Void) {
    let scores = states.multiplied(by: patterns, transposeOther: true)  // B × N
    for r in 0..<states.rows {
      let best = (0..<patterns.rows).max { scores[r, $0] < scores[r, $1] }!
      next.copyRow(best, of: patterns, to: r)
    }
  }

  func separation(_ states: Matrix<Double>) -> Matrix<Double> {  // one-hot weights
    let scores = states.multiplied(by: patterns, transposeOther: true)
    var weights = Matrix<Double>(rows: states.rows, columns: patterns.rows)
    for r in 0..<states.rows { weights[r, (0..<patterns.rows).max { scores[r, $0] < scores[r, $1] }!] = 1 }
    return weights
  }
}

struct SnapToNearestFactory: StudyModelFactory {
  static let name = "snap"  // "model": "snap" in study files
  static let summary = "jumps to the stored pattern with the largest dot product"
  static let parameters: [StudyParameter] = []  // e.g. [.positiveNumber("beta", summary: "β")]
  init(parameters: StudyParameterValues) throws(StudyParameterError) {}
  var label: String { "snap" }
  var encoding: StateEncoding { .real }  // .binary: stored and run on signs
  func make(patterns: Matrix<Double>, seed: UInt64) throws -> SnapToNearest { SnapToNearest(patterns: patterns) }
}
// snippet.end model

@Suite("adding a model to studies")
struct ExtensibilityTests {
  @Test("a registered factory runs in a study without changes to the study code")
  func customModel() throws {
    var registry = StudyModelRegistry.standard
    registry.register(SnapToNearestFactory.self)
    let text = """
      {"queries": 32, "steps": [1, 2], "seeds": [0, 1], "models": [{"model": "snap"}, {"model": "modern", "beta": 0.125}],
       "datasets": [{"kind": "gaussian", "count": 20, "dimension": 32}],
       "corruptions": [{"kind": "noise", "levels": [0.8]}]}
      """
    // Unknown to the standard registry, accepted by the extended one.
    #expect(throws: StudySpecError.self) { _ = try StudySpec.parse(Data(text.utf8)) }
    let study = try StudySpec.parse(Data(text.utf8), registry: registry)
    let folder = try temporaryFolder("extensibility")
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try #require(try StudyRunner(study: study).run(into: folder).report)
    let snap = report.rows.filter { $0.model == "snap" }
    #expect(snap.count == 2)
    for row in snap {
      // After one jump the state is a stored pattern: its nearest pattern by cosine is the one it
      // jumped to, so accuracy equals the fraction of queries whose best dot product is the target.
      #expect(row.regime == RegimeMix(singlePattern: 1, metastable: 0, globalAverage: 0))
      #expect(row.energyReduction == nil)  // no energy: n/a
      #expect(row.accuracy.mean > 0.9)
    }
    // The second step changes nothing: converged at step 2.
    #expect(snap[1].convergedFraction == 1 && snap[1].stepsToConverge?.mean == 2)
  }

  @Test("Docs/Studies.md and the DocC article show exactly the code compiled here")
  func documentationMatchesCode() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let source = try String(contentsOf: here, encoding: .utf8)
    let start = try #require(source.range(of: "// snippet.start model\n"))
    let end = try #require(source.range(of: "// snippet.end model\n"))
    let snippet = String(source[start.upperBound..<end.lowerBound])
    for page in ["Docs/Studies.md", "Sources/Attractors/Attractors.docc/AddingAModelToStudies.md"] {
      let text = try String(contentsOf: root.appendingPathComponent(page), encoding: .utf8)
      #expect(text.contains("```swift\n" + snippet + "```"), "\(page) shows different code")
    }
  }
}
