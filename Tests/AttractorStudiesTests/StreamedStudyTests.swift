import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorStudies
import Foundation
import Testing

/// Writes `rows × columns` seeded N(0, σ²) patterns as a float32 `.npy` file.
private func writePatterns(_ url: URL, rows: Int, columns: Int, standardDeviation: Double = 1, seed: UInt64 = 3)
  throws
{
  var rng = SeededGenerator(seed: seed)
  let m: Matrix<Double> = rng.gaussianMatrix(rows: rows, columns: columns, standardDeviation: standardDeviation)
  try NumPyFile.write(
    Tensor(Matrix<Float>(rows: rows, columns: columns, elements: m.elements.map { Float($0) })), to: url)
}

/// A study of two modern networks on one file, with every corruption kind; `stream` adds
/// `"stream": true` to the dataset.
private func studyJSON(precision: String, stream: Bool, tolerance: Double = 1e-6) -> String {
  """
  {
    "name": "streamed", "queries": 40, "steps": [1, 3, 8], "seeds": [5], "tolerance": \(tolerance),
    "precision": "\(precision)",
    "models": [{"model": "modern", "beta": 0.1}, {"model": "modern", "beta": 2}],
    "datasets": [{"kind": "npy", "path": "patterns.npy"\(stream ? ", \"stream\": true" : "")}],
    "corruptions": [
      {"kind": "noise", "levels": [1]}, {"kind": "mask", "levels": [0.5]},
      {"kind": "overlap", "levels": [0.6]}, {"kind": "flip", "levels": [0.25]}
    ]
  }
  """
}

/// Runs the study file `json` in `folder` (one worker) and returns its cells.
private func run(_ json: String, in folder: URL, output: String) throws -> [StudyCellResult] {
  let study = try StudySpec.parse(Data(json.utf8), baseDirectory: folder)
  let outcome = try StudyRunner(study: study, workers: 1).run(into: folder.appendingPathComponent(output))
  #expect(outcome.complete && outcome.report != nil)
  return outcome.results
}

/// The problems a study file with one dataset entry `dataset` (and `models`) is refused with.
private func issues(dataset: String, models: String = #"[{"model": "modern", "beta": 1}]"#, in folder: URL)
  -> [StudySpecIssue]
{
  let json = """
    {"models": \(models), "datasets": [\(dataset)], "corruptions": [{"kind": "none"}]}
    """
  do {
    _ = try StudySpec.parse(Data(json.utf8), baseDirectory: folder)
    Issue.record("accepted \(dataset)")
    return []
  } catch {
    return error.issues
  }
}

@Suite("studies: streamed datasets")
struct StreamedStudyTests {
  @Test("a streamed study equals the same study in memory (double precision: to rounding)")
  func streamedEqualsInMemoryDouble() throws {
    let folder = try temporaryFolder("streamed")
    defer { try? FileManager.default.removeItem(at: folder) }
    // 1,300 patterns: three pattern blocks of the online softmax (512 each), the last one partial.
    try writePatterns(folder.appendingPathComponent("patterns.npy"), rows: 1300, columns: 32)
    let memory = try run(studyJSON(precision: "double", stream: false), in: folder, output: "memory")
    let streamed = try run(studyJSON(precision: "double", stream: true), in: folder, output: "streamed")
    #expect(memory.count == 2 * 4 && streamed.count == memory.count)
    for (m, s) in zip(memory, streamed) {
      #expect(s.precision == .double && s.patterns == 1300 && s.dimension == 32)
      #expect(s.initialAccuracy == m.initialAccuracy, "cell \(m.index)")
      for (a, b) in zip(m.steps, s.steps) {
        #expect(a.steps == b.steps)
        #expect(a.accuracy == b.accuracy, "cell \(m.index) T = \(a.steps)")
        #expect(a.convergedFraction == b.convergedFraction, "cell \(m.index) T = \(a.steps)")
        #expect(a.meanStepsToConverge == b.meanStepsToConverge, "cell \(m.index) T = \(a.steps)")
        #expect(a.regime == b.regime, "cell \(m.index) T = \(a.steps)")
        let (x, y) = (a.energyReduction ?? .nan, b.energyReduction ?? .nan)
        #expect(abs(x - y) <= 1e-9 * max(1, abs(x)), "cell \(m.index) T = \(a.steps): \(x) against \(y)")
      }
    }
    // The study is not trivial: retrievals (β = 2) and global averages (β = 0.1) occur.
    let finals = memory.map { $0.steps.last! }
    #expect(finals.contains { $0.accuracy >= 0.8 } && finals.contains { $0.accuracy < 0.5 })
    #expect(finals.contains { $0.regime?.singlePattern == 1 } && finals.contains { $0.regime?.globalAverage == 1 })
  }

  @Test("a streamed study equals the same study in memory (single precision: to Float rounding)")
  func streamedEqualsInMemoryFloat() throws {
    let folder = try temporaryFolder("streamed")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writePatterns(folder.appendingPathComponent("patterns.npy"), rows: 700, columns: 16)
    // A tolerance well above Float's step-size floor (~1e-7 per coordinate), so convergence is
    // decided the same way (Docs/Studies.md, "Precision").
    let memory = try run(studyJSON(precision: "float", stream: false, tolerance: 1e-4), in: folder, output: "memory")
    let streamed = try run(studyJSON(precision: "float", stream: true, tolerance: 1e-4), in: folder, output: "streamed")
    let oneQuery = 1.0 / 40
    for (m, s) in zip(memory, streamed) {
      #expect(s.precision == .float)
      #expect(abs(s.initialAccuracy - m.initialAccuracy) <= oneQuery, "cell \(m.index)")
      for (a, b) in zip(m.steps, s.steps) {
        #expect(abs(a.accuracy - b.accuracy) <= oneQuery, "cell \(m.index) T = \(a.steps)")
        #expect(abs(a.convergedFraction - b.convergedFraction) <= oneQuery, "cell \(m.index) T = \(a.steps)")
        let (x, y) = (a.energyReduction ?? .nan, b.energyReduction ?? .nan)
        #expect(abs(x - y) <= 1e-4 * max(1, abs(x)), "cell \(m.index) T = \(a.steps): \(x) against \(y)")
        if let r = a.regime, let q = b.regime {
          #expect(
            abs(r.singlePattern - q.singlePattern) <= oneQuery && abs(r.globalAverage - q.globalAverage) <= oneQuery)
        } else {
          Issue.record("cell \(m.index): no regime")
        }
      }
    }
  }

  @Test("a streamed dataset is written back to its study file and hashed by its contents")
  func specRoundTripAndHash() throws {
    let folder = try temporaryFolder("streamed")
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("patterns.npy")
    try writePatterns(file, rows: 50, columns: 8)
    let study = try StudySpec.parse(Data(studyJSON(precision: "float", stream: true).utf8), baseDirectory: folder)
    #expect(study.spec.datasets[0].stream == true && study.sources[0].patternCount == 50)
    let text = study.spec.studyFileJSON()
    #expect(text.contains("\"stream\" : true"))
    let again = try StudySpec.parse(Data(text.utf8), baseDirectory: folder)
    #expect(again.spec == study.spec && again.specHash == study.specHash)
    // In memory the dataset has no "stream" key, and another hash.
    let memory = try StudySpec.parse(Data(studyJSON(precision: "float", stream: false).utf8), baseDirectory: folder)
    #expect(memory.spec.datasets[0].stream == nil && !memory.spec.studyFileJSON().contains("\"stream\""))
    #expect(memory.specHash != study.specHash)
    // Other contents, another hash.
    try writePatterns(file, rows: 50, columns: 8, seed: 4)
    let changed = try StudySpec.parse(Data(studyJSON(precision: "float", stream: true).utf8), baseDirectory: folder)
    #expect(changed.specHash != study.specHash)
  }

  @Test("bad streamed files, standardize and models that cannot stream are refused with the reason")
  func refusals() throws {
    let folder = try temporaryFolder("streamed")
    defer { try? FileManager.default.removeItem(at: folder) }
    func entry(_ name: String) -> String { #"{"kind": "npy", "path": "\#(name)", "stream": true}"# }
    func only(_ found: [StudySpecIssue], path: String, containing text: String, _ comment: Comment) {
      #expect(found.count == 1 && found.first?.path == path, comment)
      #expect(found.first?.message.contains(text) == true, "\(comment): \(found.first?.message ?? "none")")
    }
    // A missing file.
    only(
      issues(dataset: entry("absent.npy"), in: folder), path: "$.datasets[0].path", containing: "absent.npy", "missing")
    // A 1-D array, integers, a NaN, a file cut short, an empty matrix, all-zero patterns.
    try NumPyFile.write(
      Tensor(shape: [6], storage: .float64([Double](repeating: 1, count: 6))),
      to: folder.appendingPathComponent("flat.npy"))
    only(issues(dataset: entry("flat.npy"), in: folder), path: "$.datasets[0].path", containing: "2-D", "1-D")
    try NumPyFile.write(
      Tensor(shape: [3, 4], storage: .int32([Int32](repeating: 1, count: 12))),
      to: folder.appendingPathComponent("ints.npy"))
    only(
      issues(dataset: entry("ints.npy"), in: folder), path: "$.datasets[0].path", containing: "float32 or float64",
      "int32")
    var withNaN = Matrix<Float>(rows: 4, columns: 3, elements: [Float](repeating: 0.5, count: 12))
    withNaN[2, 1] = .nan
    try NumPyFile.write(Tensor(withNaN), to: folder.appendingPathComponent("nan.npy"))
    only(
      issues(dataset: entry("nan.npy"), in: folder), path: "$.datasets[0].path", containing: "row 2, column 1", "NaN")
    let good = folder.appendingPathComponent("good.npy")
    try writePatterns(good, rows: 20, columns: 8)
    let bytes = try Data(contentsOf: good)
    try bytes.prefix(bytes.count - 5).write(to: folder.appendingPathComponent("short.npy"))
    only(
      issues(dataset: entry("short.npy"), in: folder), path: "$.datasets[0].path", containing: "short.npy", "truncated")
    try NumPyFile.write(Tensor(Matrix<Float>(rows: 0, columns: 4)), to: folder.appendingPathComponent("empty.npy"))
    only(
      issues(dataset: entry("empty.npy"), in: folder), path: "$.datasets[0].path", containing: "at least one pattern",
      "0 × 4")
    try NumPyFile.write(Tensor(Matrix<Float>(rows: 3, columns: 4)), to: folder.appendingPathComponent("zeros.npy"))
    only(issues(dataset: entry("zeros.npy"), in: folder), path: "$.datasets[0].path", containing: "all zeros", "zeros")
    // standardize is not applied to a streamed file.
    only(
      issues(dataset: #"{"kind": "npy", "path": "good.npy", "stream": true, "standardize": true}"#, in: folder),
      path: "$.datasets[0].standardize", containing: "standardise it once", "standardize")
    // Models other than the modern network are refused, each with its reason; on an in-memory
    // dataset they are fine.
    let models = #"""
      [{"model": "modern", "beta": 1}, {"model": "classical"}, {"model": "dense-polynomial"}, {"model": "attention"}]
      """#
    let refused = issues(dataset: entry("good.npy"), models: models, in: folder)
    #expect(refused.map(\.path) == ["$.models[1].model", "$.models[2].model", "$.models[3].model"])
    #expect(
      refused.allSatisfy {
        $0.message.contains("cannot run on the streamed dataset 0") && $0.message.contains("run modern only")
      })
    #expect(refused[0].message.contains("Hebbian"))
    let inMemory = """
      {"models": \(models), "datasets": [{"kind": "npy", "path": "good.npy"}], "corruptions": [{"kind": "none"}]}
      """
    #expect(throws: Never.self) { try StudySpec.parse(Data(inMemory.utf8), baseDirectory: folder) }
  }
}
