import AttractorCore
import AttractorExperiments
import AttractorIO
import AttractorLinearAlgebra
import AttractorStudies
import Foundation
import Testing

/// A fresh temporary folder, removed by the caller.
func temporaryFolder(_ name: String = "study") throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("attractor-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A small study: 4 models × 2 corruptions × 2 levels × 2 seeds = 32 cells, milliseconds each.
let smallStudyJSON = """
  {
    "name": "small",
    "queries": 24,
    "steps": [1, 3],
    "seeds": [0, 1],
    "models": [
      {"model": "modern", "beta": 0.25},
      {"model": "modern", "beta": 1},
      {"model": "classical"},
      {"model": "attention"}
    ],
    "datasets": [{"kind": "gaussian", "count": 6, "dimension": 16}],
    "corruptions": [
      {"kind": "noise", "levels": [0.5, 1.0]},
      {"kind": "mask", "levels": [0.25, 0.5]}
    ]
  }
  """

func smallStudy() throws -> Study { try StudySpec.parse(Data(smallStudyJSON.utf8)) }

@Suite("comparative studies")
struct StudyTests {
  @Test("a small study runs end to end and writes the report folder")
  func endToEnd() throws {
    let study = try smallStudy()
    #expect(study.cells.count == 32)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var updates: [StudyProgress] = []
    let outcome = try StudyRunner(study: study).run(into: folder) { updates.append($0) }
    #expect(outcome.complete && outcome.results.count == 32 && outcome.resumed == 0)
    #expect(updates.map(\.done) == Array(1...32) && updates.last?.remaining == 0)
    for name in [
      "report.md", "results.csv", "results.json", "cells.jsonl", "study.json", "accuracy-noise.svg",
      "accuracy-vs-steps-mask.svg",
    ] {
      #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
    }
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(StudyRunner.partialName).path))
    let report = try #require(outcome.report)
    #expect(report.rows.count == 4 * 4 * 2)  // models × (corruption, level) × T
    for row in report.rows {
      #expect(row.seeds == 2)
      #expect((0...1).contains(row.accuracy.mean) && row.accuracy.standardError != nil)
      #expect(row.microsecondsPerQuery.mean > 0)
      // Regimes only for the real-valued attention-type models; energies only for the models that
      // descend one (EnergyDescending): not for attention, whose diagnostic energy is not descended.
      #expect((row.regime == nil) == (row.model == "classical"))
      if let r = row.regime { #expect(abs(r.singlePattern + r.metastable + r.globalAverage - 1) < 1e-12) }
      #expect((row.energyReduction == nil) == row.model.hasPrefix("attention"), "\(row.model)")
    }
    // K = 6 well-separated patterns at β‖x‖² ≈ 16: mild noise is cleaned up by the modern network.
    let modern = try #require(
      report.rows.first { $0.model == "modern β=1" && $0.corruption == .noise && $0.level == 0.5 && $0.steps == 3 })
    #expect(modern.accuracy.mean >= 0.9)
    // Its energy never increases (CCCP), so the mean drop is ≥ 0.
    #expect(modern.energyReduction!.mean >= -1e-12)
    // Identity attention with 1/√d is the modern network with β = 1/√16 = 0.25: same retrievals.
    for row in report.rows where row.model == "attention" {
      let twin = try #require(
        report.rows.first {
          $0.model == "modern β=0.25" && $0.corruption == row.corruption && $0.level == row.level
            && $0.steps == row.steps
        })
      #expect(abs(row.accuracy.mean - twin.accuracy.mean) <= 1.0 / 24 + 1e-12)
    }
    // The CSV has one line per row; the JSON decodes back to the report.
    let csv = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == report.rows.count + 1)
    let decoded = try JSONDecoder().decode(
      StudyReport.self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
    #expect(decoded == report)
    let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(markdown.contains("| classical | mask | 0.5 | 3 |") && markdown.contains("n/a"))
  }

  @Test("a run stopped after k cells, with a torn last line, resumes to the same results")
  func resume() throws {
    let study = try smallStudy()
    let whole = try temporaryFolder(), broken = try temporaryFolder()
    defer {
      try? FileManager.default.removeItem(at: whole)
      try? FileManager.default.removeItem(at: broken)
    }
    let reference = try #require(try StudyRunner(study: study).run(into: whole).report)

    let first = try StudyRunner(study: study, cellLimit: 9).run(into: broken)
    #expect(!first.complete && first.results.count == 9 && first.report == nil)
    // Kill simulation: the last cell's line was being written when the process died.
    let partial = broken.appendingPathComponent(StudyRunner.partialName)
    var bytes = try Data(contentsOf: partial)
    bytes.removeLast(40)
    try bytes.write(to: partial)
    // Without --resume the unfinished run is not thrown away.
    #expect(throws: StudyRunError.self) { _ = try StudyRunner(study: study).run(into: broken) }

    let second = try StudyRunner(study: study, cellLimit: 5).run(into: broken, resume: true)
    #expect(second.resumed == 8 && second.results.count == 13 && !second.complete)
    let third = try StudyRunner(study: study).run(into: broken, resume: true)
    #expect(third.complete && third.resumed == 13)
    let resumed = try #require(third.report)
    #expect(resumed.withoutTimings == reference.withoutTimings)
    // Resuming a finished run reruns nothing.
    let again = try StudyRunner(study: study).run(into: broken, resume: true)
    #expect(again.resumed == 32 && again.report?.withoutTimings == reference.withoutTimings)
  }

  @Test("resume refuses a partial file of another study, and re-runs the cell of a damaged middle line")
  func resumeMismatch() throws {
    let study = try smallStudy()
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try StudyRunner(study: study, cellLimit: 3).run(into: folder)
    let other = try StudySpec.parse(
      Data(smallStudyJSON.replacingOccurrences(of: "\"queries\": 24", with: "\"queries\": 25").utf8))
    #expect(other.specHash != study.specHash)
    do {
      _ = try StudyRunner(study: other).run(into: folder, resume: true)
      Issue.record("resumed a different study")
    } catch {
      #expect(error.description.contains("belongs to a different study"))
    }
    do {
      _ = try StudyRunner(study: study, shard: try StudyShard(index: 1, count: 2)).run(into: folder, resume: true)
      Issue.record("resumed with another shard")
    } catch {
      #expect(error.description.contains("resume with the same --shard"))
    }
    let partial = folder.appendingPathComponent(StudyRunner.partialName)
    var lines = try String(contentsOf: partial, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[1] = "{\"index\": 0, \"garbage\""
    try (lines.joined(separator: "\n") + "\n").write(to: partial, atomically: true, encoding: .utf8)
    let outcome = try StudyRunner(study: study).run(into: folder, resume: true)
    #expect(outcome.complete && outcome.damaged == 1 && outcome.resumed == 2)
  }

  @Test("three shards merged give the unsharded report; merge reports gaps, overlaps and mixed studies")
  func shardsAndMerge() throws {
    let study = try smallStudy()
    let root = try temporaryFolder("shards")
    defer { try? FileManager.default.removeItem(at: root) }
    let whole = try #require(try StudyRunner(study: study).run(into: root.appendingPathComponent("whole")).report)
    var folders: [URL] = []
    var seen = Set<Int>()
    for i in 1...3 {
      let folder = root.appendingPathComponent("shard\(i)")
      let runner = StudyRunner(study: study, shard: try StudyShard(index: i, count: 3))
      let outcome = try runner.run(into: folder)
      #expect(outcome.complete && outcome.report == nil)
      #expect(outcome.results.allSatisfy { $0.index % 3 == i - 1 })
      seen.formUnion(outcome.results.map(\.index))
      folders.append(folder)
    }
    #expect(seen == Set(0..<32))
    let merged = try StudyRunner.merge(folders, into: root.appendingPathComponent("merged"))
    #expect(merged.withoutTimings == whole.withoutTimings)
    #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("merged/report.md").path))

    do {
      _ = try StudyRunner.merge(Array(folders.prefix(2)), into: root.appendingPathComponent("m2"))
      Issue.record("merged an incomplete set")
    } catch {
      #expect(error.description.contains("missing shard 3/3") && error.description.contains("10 of 32 cells missing"))
    }
    do {
      _ = try StudyRunner.merge(
        [folders[0], folders[0], folders[1], folders[2]], into: root.appendingPathComponent("m3"))
      Issue.record("merged a shard twice")
    } catch {
      #expect(error.description.contains("shard 1/3 is given twice"))
    }
    // A shard of another study.
    let other = try StudySpec.parse(
      Data(smallStudyJSON.replacingOccurrences(of: "\"seeds\": [0, 1]", with: "\"seeds\": [0, 2]").utf8))
    let stranger = root.appendingPathComponent("stranger")
    _ = try StudyRunner(study: other, shard: try StudyShard(index: 3, count: 3)).run(into: stranger)
    do {
      _ = try StudyRunner.merge([folders[0], folders[1], stranger], into: root.appendingPathComponent("m4"))
      Issue.record("merged shards of two studies")
    } catch {
      #expect(error.description.contains("is a shard of a different study"))
    }
    // An unfinished shard.
    let unfinished = root.appendingPathComponent("unfinished")
    _ = try StudyRunner(study: study, shard: try StudyShard(index: 3, count: 3), cellLimit: 2).run(into: unfinished)
    do {
      _ = try StudyRunner.merge([folders[0], folders[1], unfinished], into: root.appendingPathComponent("m5"))
      Issue.record("merged an unfinished shard")
    } catch {
      #expect(error.description.contains("unfinished shard") && error.description.contains("--resume"))
    }
  }

  @Test("shard i/n parsing gives clear messages")
  func shardParsing() throws {
    #expect(try StudyShard(parsing: "2/5") == StudyShard(index: 2, count: 5))
    for (text, fragment) in [
      ("0/3", "from 1 to n = 3, got 0"), ("4/3", "from 1 to n = 3, got 4"), ("1/0", "at least 1, got 0"),
      ("3", "written i/n"), ("a/b", "written i/n"), ("1/2/3", "written i/n"),
    ] {
      do {
        _ = try StudyShard(parsing: text)
        Issue.record("accepted \(text)")
      } catch {
        #expect(error.description.contains(fragment), "\(text): \(error)")
      }
    }
  }

  @Test("a study file with every kind of mistake is rejected with every message and its JSON path")
  func everyMistake() throws {
    let text = """
      {
        "name": "broken", "queries": 0, "steps": [1, 1, -2], "seeds": [0, -1], "tolerance": -1, "colour": "red",
        "models": [
          {"model": "modern", "beta": -1},
          {"model": "hopfield-2000"},
          {"model": "modern"},
          {"model": "classical", "beta": 2},
          {"model": "attention", "heads": 3},
          {"model": "dense-polynomial", "degree": 2.5},
          {"model": "attention", "projections": "learned"},
          {"model": "modern", "beta": 1, "label": "same"},
          {"model": "modern", "beta": 2, "label": "same"},
          "modern"
        ],
        "datasets": [
          {"kind": "gaussian", "count": 0, "dimension": 16, "size": 3},
          {"kind": "npy", "path": "no/such/file.npy"},
          {"kind": "mnist", "count": 10, "directory": "no/such/folder"},
          {"kind": "csv"},
          {"kind": "gaussian", "count": 4, "dimension": 16}
        ],
        "corruptions": [
          {"kind": "mask", "levels": [0.5, 1.5, "x"]},
          {"kind": "blur", "levels": [1]},
          {"kind": "noise", "levels": []},
          {"kind": "overlap", "levels": [-0.1]},
          {"kind": "none", "levels": [0]}
        ]
      }
      """
    do {
      _ = try StudySpec.parse(Data(text.utf8), file: "broken.json")
      Issue.record("accepted a broken study")
    } catch {
      let paths = error.issues.map(\.path)
      let expected = [
        "$.colour", "$.queries", "$.steps[1]", "$.steps[2]", "$.seeds[1]", "$.tolerance",
        "$.models[0].beta", "$.models[1].model", "$.models[2].beta", "$.models[3].beta", "$.models[4]",
        "$.models[5].degree", "$.models[6].projections", "$.models[8].label", "$.models[9]",
        "$.datasets[0].size", "$.datasets[0].count", "$.datasets[1].path", "$.datasets[2].directory",
        "$.datasets[3].kind",
        "$.corruptions[0].levels[1]", "$.corruptions[0].levels[2]", "$.corruptions[1].kind", "$.corruptions[2].levels",
        "$.corruptions[3].levels[0]", "$.corruptions[4].levels",
      ]
      for p in expected { #expect(paths.contains(p), "no issue at \(p): \(error)") }
      let text = error.description
      #expect(text.hasPrefix("broken.json has \(error.issues.count) problems:"))
      for fragment in [
        "unknown key \"colour\"",
        "unknown model \"hopfield-2000\"; registered models: classical, modern, dense-polynomial",
        "$.models[2].beta: is required (inverse temperature β, a number)",
        "unknown parameter \"beta\" for model \"classical\"; it takes no parameters",
        "heads = 3 must divide the dimension d = 16", "must be an integer, got a number 2.5",
        "one of \"identity\", \"random\"",
        "label \"same\" is used by another model", "no such file", "fetch MNIST", "unknown dataset kind \"csv\"",
        "the level of a mask corruption must be a fraction in [0, 1], got 1.5", "unknown corruption \"blur\"",
        "must not be empty",
        "T = 1 appears twice",
      ] {
        #expect(text.contains(fragment), "missing: \(fragment)")
      }
    }
    // Syntax errors are reported as such.
    do {
      _ = try StudySpec.parse(Data("{\"models\": [".utf8))
      Issue.record("accepted bad JSON")
    } catch {
      #expect(error.issues.count == 1 && error.issues[0].message.hasPrefix("not valid JSON"))
    }
  }

  @Test("patterns from a .npy file, standardised, and the built-in study's file round-trips")
  func numpyDatasetAndStandard() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = SeededGenerator(seed: 7)
    let patterns: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 12, mean: 3, standardDeviation: 2)
    try NumPyFile.write(Tensor(patterns), to: folder.appendingPathComponent("mine.npy"))
    let text = """
      {"queries": 10, "steps": [2], "seeds": [4], "models": [{"model": "modern", "beta": 1}],
       "datasets": [{"kind": "npy", "path": "mine.npy", "standardize": true}],
       "corruptions": [{"kind": "none"}]}
      """
    let study = try StudySpec.parse(Data(text.utf8), baseDirectory: folder)
    #expect(study.sources[0].dimension == 12 && study.sources[0].patternCount == 5)
    let outcome = try StudyRunner(study: study).run(into: folder.appendingPathComponent("out"))
    // Uncorrupted queries of 5 standardised patterns at β‖x‖² = 12 stay retrieved.
    #expect(outcome.results[0].initialAccuracy == 1 && outcome.results[0].steps[0].accuracy == 1)

    let standard = Study.standard
    #expect(standard.spec == StudySpec.standard)
    let reparsed = try StudySpec.parse(Data(StudySpec.standard.studyFileJSON().utf8))
    #expect(reparsed.spec == StudySpec.standard && reparsed.specHash == standard.specHash)
    #expect(standard.cells.count == 7 * StudySpec.standardPatternCounts.count * 9 * 3)
    // No two models of the built-in study are the same update (identity attention was modern β = 1/√d).
    #expect(Set(standard.spec.models.map { "\($0.model) \($0.parameters)" }).count == standard.spec.models.count)
  }

  @Test("the figures have one legend entry per model, error bars and fixed accuracy axes")
  func figures() throws {
    let study = try smallStudy()
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try #require(try StudyRunner(study: study).run(into: folder).report)
    let svg = try report.accuracyByLevelChart(dataset: report.study.datasets[0].label, corruption: .noise).svg()
    for m in ["modern β=0.25", "modern β=1", "classical", "attention"] { #expect(svg.contains(">\(m)</text>")) }
    #expect(
      svg.contains(">accuracy (mean ± SE over 2 seeds)</text>") && svg.contains(">1</text>")
        && svg.contains(">0</text>"))
    let steps = try report.accuracyByStepsChart(
      dataset: report.study.datasets[0].label, corruption: report.study.corruptions[1]
    ).svg()
    // x runs over T = 0, 1, 3: three markers per model.
    #expect(steps.components(separatedBy: "<circle").count - 1 == 3 * 4)
  }
}

@Suite("load sweeps")
struct LoadSweepTests {
  @Test("a load sweep gets recall-against-K/d figures with capacity marks and tables at one reference load")
  func loadSweep() throws {
    let text = """
      {"queries": 16, "steps": [2], "seeds": [0, 1],
       "models": [{"model": "classical"}, {"model": "dense-polynomial", "degree": 3}, {"model": "modern", "beta": 1}],
       "datasets": [{"kind": "gaussian", "count": 2, "dimension": 16}, {"kind": "gaussian", "count": 8, "dimension": 16},
                    {"kind": "gaussian", "count": 32, "dimension": 16}],
       "corruptions": [{"kind": "noise", "levels": [0.5, 1]}]}
      """
    let study = try StudySpec.parse(Data(text.utf8))
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try #require(try StudyRunner(study: study).run(into: folder).report)
    let loads = try #require(report.loadSweep)
    #expect(loads.map { $0.count! } == [2, 8, 32])
    // K/d = 1/8, 1/2, 2: the reference load is the one nearest 0.5.
    #expect(report.referenceLoad?.count == 8)
    let chart = report.accuracyByLoadChart(corruption: study.spec.corruptions[0])
    #expect(chart.xScale == .logarithmic)
    #expect(chart.series.map { $0.points.map(\.x) } == Array(repeating: [0.125, 0.5, 2], count: 3))
    // Classical 0.138·16/16 = 0.138 and x³: 16²/(6 ln 16)/16 ≈ 0.962 fall on the axis; modern has none.
    #expect(chart.markers.map(\.x).count == 2)
    #expect(abs(chart.markers[0].x - 0.138) < 1e-12)
    #expect(abs(chart.markers[1].x - 16 / (6 * log(16.0))) < 1e-12)
    #expect(chart.markers[0].labelRow != chart.markers[1].labelRow)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(files.contains("accuracy-vs-load-noise.svg"))
    let md = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(md.contains("## Recall against load") && md.contains("K/d = 0.125"))
    // Full tables at the reference load only.
    #expect(md.contains("## gaussian K=8") && !md.contains("## gaussian K=32"))
  }
}

@Suite("study datasets")
struct StudyDatasetTests {
  @Test("MNIST-format IDX images: K chosen per seed, standardised; too many images is a spec error")
  func mnistFormat() throws {
    let folder = try temporaryFolder("idx")
    defer { try? FileManager.default.removeItem(at: folder) }
    // Twelve 4 × 4 "images" with distinct random pixels.
    var rng = SeededGenerator(seed: 3)
    let pixels = (0..<(12 * 16)).map { _ in UInt8(rng.next(upperBound: UInt64(256))) }
    try IDXFile.writeUnsignedBytes(
      pixels, shape: [12, 4, 4], to: folder.appendingPathComponent("train-images-idx3-ubyte"))
    let text = """
      {"queries": 16, "steps": [1], "seeds": [0, 1], "models": [{"model": "modern", "beta": 1}],
       "datasets": [{"kind": "mnist", "count": 5, "directory": "."}], "corruptions": [{"kind": "none"}]}
      """
    let study = try StudySpec.parse(Data(text.utf8), baseDirectory: folder)
    #expect(study.sources[0].dimension == 16 && study.sources[0].patternCount == 5)
    let outcome = try StudyRunner(study: study).run(into: folder.appendingPathComponent("out"))
    // Uncorrupted queries start on their own (distinct) images.
    #expect(outcome.results.allSatisfy { $0.initialAccuracy == 1 && $0.patterns == 5 && $0.dimension == 16 })
    do {
      _ = try StudySpec.parse(
        Data(text.replacingOccurrences(of: "\"count\": 5", with: "\"count\": 13").utf8), baseDirectory: folder)
      Issue.record("accepted 13 of 12 images")
    } catch {
      #expect(
        error.issues.map(\.path) == ["$.datasets[0].count"] && error.description.contains("at most the 12 images"))
    }
  }

  @Test("sizes that cannot be allocated and degrees that overflow are spec errors, in file order")
  func sizes() throws {
    let text = """
      {"corruptions": [{"kind": "mask", "levels": [7]}], "queries": 1048576,
       "models": [{"model": "dense-polynomial", "degree": 64}, {"model": "classical"}],
       "datasets": [{"kind": "gaussian", "count": 16777216, "dimension": 128}, {"kind": "gaussian", "count": 4, "dimension": 1048576}]}
      """
    do {
      _ = try StudySpec.parse(Data(text.utf8))
      Issue.record("accepted an impossible study")
    } catch {
      let paths = error.issues.map(\.path)
      // models before datasets before corruptions, whatever the order in the file
      #expect(paths.first == "$.models[0]" && paths.last == "$.corruptions[0].levels[0]")
      #expect(error.description.contains("x^64 overflows double precision at the overlaps of d = 1048576 units"))
      #expect(error.description.contains("the d × d weight matrix (d = 1048576) is more than 2³¹ values"))
      #expect(error.description.contains("queries × patterns = 1048576 × 16777216 is more than"))
    }
  }
}
