import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import AttractorStudies
import Foundation
import Testing

/// A model whose construction always fails: to check how a parallel run stops.
private struct FailingFactory: StudyModelFactory {
  static let name = "failing"
  static let summary = "a model that cannot be built"
  static let parameters: [StudyParameter] = []
  init(parameters: StudyParameterValues) throws(StudyParameterError) {}
  var label: String { "failing" }
  var encoding: StateEncoding { .real }
  struct Refused: Error {}
  func make(patterns: Matrix<Double>, seed: UInt64) throws -> ModernHopfield<Double> { throw Refused() }
}

/// Every model family with a single-precision path, plus attention (double only).
private let precisionStudyJSON = """
  {
    "name": "precision",
    "queries": 24,
    "steps": [1, 4],
    "seeds": [0, 1],
    "models": [
      {"model": "classical"},
      {"model": "modern", "beta": 1},
      {"model": "dense-polynomial", "degree": 3},
      {"model": "dense-exponential"},
      {"model": "attention"}
    ],
    "datasets": [{"kind": "gaussian", "count": 6, "dimension": 16}],
    "corruptions": [{"kind": "noise", "levels": [0.5, 1.5]}, {"kind": "mask", "levels": [0.5]}]
  }
  """

/// The cells without times and without the OpenBLAS thread count (which other tests running at the
/// same time in this process may change: OpenBLAS's count is global; at these sizes OpenBLAS runs
/// every call on one thread whatever the count).
private func numbers(_ cells: [StudyCellResult]) -> [StudyCellResult] {
  cells.map {
    var c = $0.withoutTimings
    c.blasThreads = 0
    return c
  }
}

@Suite("studies: parallel cells and precision")
struct StudyParallelPrecisionTests {
  @Test("cells on three workers give exactly the numbers of one worker; cells.jsonl and the report in cell order")
  func parallelEqualsSequential() throws {
    let study = try smallStudy()
    let one = try temporaryFolder(), three = try temporaryFolder()
    defer {
      try? FileManager.default.removeItem(at: one)
      try? FileManager.default.removeItem(at: three)
    }
    let before = BLAS.threadCount
    let sequential = try StudyRunner(study: study, workers: 1).run(into: one)
    var done: [Int] = []
    let parallel = try StudyRunner(study: study, workers: 3).run(into: three) { done.append($0.done) }
    #expect(sequential.complete && parallel.complete)
    #expect(done == Array(1...32))
    #expect(parallel.results.map(\.index) == Array(0..<32))
    #expect(numbers(parallel.results) == numbers(sequential.results))
    // The runner leaves OpenBLAS's process-wide thread count alone: the cells ran with the count
    // in force. (Checked when no other test changed the count meanwhile: in-process runs of
    // `compare` set one thread for the process when they run cells side by side.)
    if BLAS.threadCount == before {
      #expect(parallel.results.allSatisfy { $0.blasThreads == before })
    }
    let a = try #require(sequential.report), b = try #require(parallel.report)
    #expect(a.withoutTimings.rows == b.withoutTimings.rows)
    let lines = try String(contentsOf: three.appendingPathComponent(StudyRunner.cellsName), encoding: .utf8)
      .split(separator: "\n").dropFirst()
    let indices = try lines.map { line -> Int in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return object?["index"] as? Int ?? -1
    }
    #expect(indices == Array(0..<32))
  }

  @Test("a shard run on two workers and resumed after a stop merges to the one-worker unsharded run")
  func parallelShardsAndResume() throws {
    let study = try smallStudy()
    let root = try temporaryFolder("parallel-shards")
    defer { try? FileManager.default.removeItem(at: root) }
    let whole = try StudyRunner(study: study, workers: 1).run(into: root.appendingPathComponent("whole"))
    var folders: [URL] = []
    for i in 1...2 {
      let folder = root.appendingPathComponent("shard-\(i)")
      let shard = try StudyShard(index: i, count: 2)
      let first = try StudyRunner(study: study, shard: shard, cellLimit: 5, workers: 2).run(into: folder)
      #expect(!first.complete && first.results.count == 5)
      let rest = try StudyRunner(study: study, shard: shard, workers: 2).run(into: folder, resume: true)
      #expect(rest.complete && rest.resumed == 5 && rest.results.count == 16)
      folders.append(folder)
    }
    let merged = try StudyRunner.merge(folders, into: root.appendingPathComponent("merged"))
    #expect(numbers(merged.cells) == numbers(whole.results))
  }

  @Test("a cell that fails stops a parallel run with that cell's error; the finished cells are kept")
  func parallelFailure() throws {
    var registry = StudyModelRegistry.standard
    registry.register(FailingFactory.self)
    let json = smallStudyJSON.replacingOccurrences(
      of: "{\"model\": \"classical\"},", with: "{\"model\": \"classical\"}, {\"model\": \"failing\"},")
    let study = try StudySpec.parse(Data(json.utf8), registry: registry)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    do {
      _ = try StudyRunner(study: study, workers: 2).run(into: folder)
      Issue.record("a run with a failing model finished")
    } catch {
      guard case .cellFailed(let cell, let message) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(cell % 5 == 3 && message.contains("cannot build failing"))
    }
    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(StudyRunner.partialName).path))
  }

  @Test("precision: float by default, double on request, other values refused; old study.json files read as double")
  func precisionKey() throws {
    #expect(try smallStudy().spec.precision == .float)
    #expect(StudySpec.standard.precision == .float)
    let double = try StudySpec.parse(
      Data(
        smallStudyJSON.replacingOccurrences(of: "\"queries\": 24,", with: "\"queries\": 24, \"precision\": \"double\",")
          .utf8))
    #expect(double.spec.precision == .double)
    #expect(double.specHash != (try smallStudy()).specHash)
    do {
      _ = try StudySpec.parse(
        Data(
          smallStudyJSON.replacingOccurrences(of: "\"queries\": 24,", with: "\"queries\": 24, \"precision\": \"half\",")
            .utf8))
      Issue.record("accepted precision half")
    } catch {
      #expect(error.description.contains("$.precision: unknown precision \"half\"; use one of float, double"))
    }
    // A spec written before the key existed (those runs were in double precision).
    var object = try #require(
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(double.spec)) as? [String: Any])
    object.removeValue(forKey: "precision")
    let old = try JSONDecoder().decode(StudySpec.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(old == double.spec)
  }

  @Test(
    "float and double: ±1 models give the same numbers, the modern network within rounding, attention runs in double")
  func floatAgainstDouble() throws {
    let float = try StudySpec.parse(Data(precisionStudyJSON.utf8))
    let double = try StudySpec.parse(
      Data(
        precisionStudyJSON.replacingOccurrences(
          of: "\"queries\": 24,", with: "\"queries\": 24, \"precision\": \"double\","
        ).utf8))
    let a = try temporaryFolder(), b = try temporaryFolder()
    defer {
      try? FileManager.default.removeItem(at: a)
      try? FileManager.default.removeItem(at: b)
    }
    let f = numbers(try StudyRunner(study: float).run(into: a).results)
    let d = numbers(try StudyRunner(study: double).run(into: b).results)
    #expect(f.count == 30 && d.count == 30)
    for (x, y) in zip(f, d) {
      #expect(x.precision == (x.model == "attention" ? .double : .float), "\(x.model)")
      #expect(y.precision == .double)
      #expect(x.initialAccuracy == y.initialAccuracy, "\(x.model) cell \(x.index)")
      switch x.model {
      case "attention":
        #expect(x == y, "attention runs in double precision in both")
      case "modern β=1":
        for (p, q) in zip(x.steps, y.steps) {
          #expect(abs(p.accuracy - q.accuracy) <= 1.0 / 24 + 1e-12, "cell \(x.index)")
          let e = try #require(p.energyReduction), g = try #require(q.energyReduction)
          #expect(abs(e - g) <= 1e-4 * max(1, abs(g)), "cell \(x.index) energy \(e) vs \(g)")
        }
      default:
        // ±1 models: integer fields and overlaps, exact in both precisions.
        for (p, q) in zip(x.steps, y.steps) {
          #expect(p.accuracy == q.accuracy && p.convergedFraction == q.convergedFraction, "\(x.model) \(x.index)")
          #expect(p.meanStepsToConverge == q.meanStepsToConverge, "\(x.model) \(x.index)")
          let e = try #require(p.energyReduction), g = try #require(q.energyReduction)
          #expect(abs(e - g) <= 1e-5 * max(1, abs(g)), "\(x.model) cell \(x.index) energy \(e) vs \(g)")
        }
      }
    }
  }
}
