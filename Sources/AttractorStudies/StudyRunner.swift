import AttractorLinearAlgebra
import Foundation

/// Errors of running, resuming and merging studies.
public enum StudyRunError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `--shard i/n` is malformed or out of range.
  case invalidShard(String)
  /// The output folder cannot be used as asked (holds another run, not writable…).
  case outputFolder(String)
  /// A partial or shard file belongs to a different study (spec hash or shard differ).
  case mismatch(String)
  /// A partial or shard file cannot be read.
  case corrupt(String)
  /// A cell failed (model construction, NaN during the dynamics…).
  case cellFailed(cell: Int, message: String)
  /// A file could not be written.
  case writeFailed(path: String, reason: String)
  /// Shards given to merge do not make up one complete study.
  case incompleteMerge(String)

  public var description: String {
    switch self {
    case .invalidShard(let m), .outputFolder(let m), .mismatch(let m), .corrupt(let m), .incompleteMerge(let m): m
    case .cellFailed(let cell, let message): "cell \(cell) failed: \(message)"
    case .writeFailed(let path, let reason): "could not write \(path): \(reason)"
    }
  }
}

/// Progress of a run, reported after every finished cell.
public struct StudyProgress: Sendable, Equatable {
  /// Cells of this run (shard) finished, including those skipped on `--resume`.
  public var done: Int
  /// Cells of this run (shard) in all.
  public var total: Int
  /// Cells skipped because a previous run finished them.
  public var resumed: Int
  /// Seconds since this run started.
  public var elapsed: Double
  /// Estimated seconds left (from the mean time of the cells run so far); `nil` before the first.
  public var remaining: Double?
  /// The cell just finished, as "model | dataset | corruption level | seed s".
  public var cell: String
}

/// The first line of a cells file: which study and which part of it the lines belong to.
struct CellsHeader: Codable, Equatable {
  var format = 1
  var specHash: String
  var shard: StudyShard?
  var totalCells: Int
  var version: String
}

/// Runs a ``Study`` into a report folder, one cell at a time, appending each finished cell to a
/// partial file so that an interrupted run loses nothing.
///
/// Files in the folder:
///
/// ```
/// study.json            the spec (as a study file) and its hash, written first
/// cells.partial.jsonl   header line, then one JSON line per finished cell (appended, fsync'd)
/// cells.jsonl           the same, complete and in cell order (atomic, when every cell of the run is done)
/// report.md, results.csv, results.json, *.svg   the report (unsharded runs and merge; atomic)
/// ```
///
/// `resume`: cells already in `cells.partial.jsonl` (or a finished `cells.jsonl`) of the same
/// spec hash and shard are skipped; a torn last line (a run killed while writing) is dropped.
/// Without `resume` a folder holding a partial file is refused; a finished run there is replaced.
public struct StudyRunner: Sendable {
  public let study: Study
  public var shard: StudyShard?
  /// Stop after running this many cells (for tests and `--max-cells`); the run is then partial.
  public var cellLimit: Int?
  /// Tool version recorded in the files.
  public var version: String

  public init(study: Study, shard: StudyShard? = nil, cellLimit: Int? = nil, version: String = "dev") {
    self.study = study
    self.shard = shard
    self.cellLimit = cellLimit
    self.version = version
  }

  public static let partialName = "cells.partial.jsonl"
  public static let cellsName = "cells.jsonl"
  public static let studyName = "study.json"

  /// The cells this run is responsible for.
  public var assignedCells: [StudyCell] { study.cells.filter { shard?.contains($0.index) ?? true } }

  /// What a run did.
  public struct Outcome: Sendable {
    /// Every finished cell of this run (shard), in cell order (complete or not).
    public var results: [StudyCellResult]
    /// Whether every assigned cell is finished.
    public var complete: Bool
    /// Cells taken from a previous run.
    public var resumed: Int
    /// Seconds this run spent.
    public var seconds: Double
    /// The report (complete unsharded runs only).
    public var report: StudyReport?
  }

  /// Runs (or resumes) into `folder`.
  public func run(
    into folder: URL, resume: Bool = false, progress: (StudyProgress) -> Void = { _ in }
  ) throws(StudyRunError) -> Outcome {
    let clock = ContinuousClock()
    let start = clock.now
    let header = CellsHeader(specHash: study.specHash, shard: shard, totalCells: study.cells.count, version: version)
    let fm = FileManager.default
    do { try fm.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
      throw .outputFolder("cannot create the output folder \(folder.path): \(error.localizedDescription)")
    }
    let partialURL = folder.appendingPathComponent(Self.partialName)
    let cellsURL = folder.appendingPathComponent(Self.cellsName)
    let hasPartial = fm.fileExists(atPath: partialURL.path)
    // An unfinished run is never thrown away silently; a finished one is replaced by a new run.
    if !resume && hasPartial {
      throw .outputFolder(
        "\(folder.path) holds an unfinished run (\(Self.partialName)); pass --resume to continue it, or delete that file (or choose another --output-dir) to start over"
      )
    }
    var done: [Int: StudyCellResult] = [:]
    if resume {
      for url in [cellsURL, partialURL] where fm.fileExists(atPath: url.path) {
        let (fileHeader, cells, goodPrefix) = try Self.readCells(url, allowTornTail: url == partialURL)
        try Self.check(fileHeader, against: header, file: url.path)
        for c in cells { done[c.index] = c }
        if url == partialURL {
          // Drop a torn tail so appended lines start on a fresh line.
          do { try goodPrefix.write(to: url, options: .atomic) } catch {
            throw .writeFailed(path: url.path, reason: "\(error)")
          }
        }
      }
    }
    try writeAtomically(
      canonicalJSON(StudyFile(specHash: header.specHash, spec: study.spec), pretty: true),
      to: folder.appendingPathComponent(Self.studyName))
    if !fm.fileExists(atPath: partialURL.path) {
      try writeAtomically(canonicalJSON(header) + Data("\n".utf8), to: partialURL)
    }
    let assigned = assignedCells
    let assignedSet = Set(assigned.map(\.index))
    done = done.filter { assignedSet.contains($0.key) }
    let resumed = done.count

    let handle: FileHandle
    do {
      handle = try FileHandle(forWritingTo: partialURL)
      try handle.seekToEnd()
    } catch {
      throw .writeFailed(path: partialURL.path, reason: "\(error)")
    }
    defer { try? handle.close() }

    var ran = 0
    var cachedKey: [Int]? = nil
    var cachedInputs: CellInputs? = nil
    var cachedPatternsKey: [Int]? = nil
    var cachedPatterns: Matrix<Double>? = nil
    let runStart = clock.now
    for cell in assigned where done[cell.index] == nil {
      if let limit = cellLimit, ran >= limit { break }
      let key = [cell.dataset, cell.seed, cell.corruption, cell.level]
      if key != cachedKey {
        let patternsKey = [cell.dataset, cell.seed]
        let inputs: CellInputs
        do {
          inputs = try study.inputs(
            dataset: cell.dataset, seed: cell.seed, corruption: cell.corruption, level: cell.level,
            patterns: patternsKey == cachedPatternsKey ? cachedPatterns : nil)
        } catch {
          if case .cellFailed(_, let message) = error { throw .cellFailed(cell: cell.index, message: message) }
          throw error
        }
        cachedPatternsKey = patternsKey
        cachedPatterns = inputs.patterns
        cachedKey = key
        cachedInputs = inputs
      }
      let result = try study.run(cell: cell, inputs: cachedInputs!)
      do {
        try handle.write(contentsOf: canonicalJSON(result) + Data("\n".utf8))
        try handle.synchronize()
      } catch {
        throw .writeFailed(path: partialURL.path, reason: "\(error)")
      }
      done[cell.index] = result
      ran += 1
      let elapsed = (clock.now - runStart).seconds
      let left = assigned.count - done.count
      progress(
        StudyProgress(
          done: done.count, total: assigned.count, resumed: resumed, elapsed: elapsed,
          remaining: elapsed / Double(ran) * Double(left), cell: describe(cell)))
    }

    let results = assigned.compactMap { done[$0.index] }
    let complete = results.count == assigned.count
    var report: StudyReport? = nil
    if complete {
      var lines = canonicalJSON(header) + Data("\n".utf8)
      for r in results { lines += canonicalJSON(r) + Data("\n".utf8) }
      try writeAtomically(lines, to: cellsURL)
      try? fm.removeItem(at: partialURL)
      if shard == nil || shard?.count == 1 {
        let r = StudyReport(study: study.spec, specHash: header.specHash, cells: results, version: version)
        try r.write(to: folder)
        report = r
      }
    }
    return Outcome(
      results: results, complete: complete, resumed: resumed, seconds: (clock.now - start).seconds, report: report)
  }

  func describe(_ cell: StudyCell) -> String {
    let s = study.spec
    let c = s.corruptions[cell.corruption]
    return
      "\(s.models[cell.model].label) | \(s.datasets[cell.dataset].label) | \(c.kind) \(compactNumber(c.levels[cell.level])) | seed \(s.seeds[cell.seed])"
  }

  /// Reads a cells file: header, cell lines, and the bytes up to the last good line.
  static func readCells(_ url: URL, allowTornTail: Bool) throws(StudyRunError) -> (CellsHeader, [StudyCellResult], Data)
  {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw .corrupt("cannot read \(url.path): \(error.localizedDescription)")
    }
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    // The text after the last newline is a torn line (or empty).
    let tail = lines.removeLast()
    if !tail.isEmpty && !allowTornTail {
      throw .corrupt("\(url.path) does not end with a newline; it is not a finished cells file")
    }
    guard let first = lines.first, let header = try? JSONDecoder().decode(CellsHeader.self, from: Data(first)) else {
      throw .corrupt("\(url.path) does not start with a study header line; it was not written by `attractor compare`")
    }
    var cells: [StudyCellResult] = []
    var good = Data(first) + Data("\n".utf8)
    for (k, line) in lines.dropFirst().enumerated() {
      guard let cell = try? JSONDecoder().decode(StudyCellResult.self, from: Data(line)) else {
        if allowTornTail && k == lines.count - 2 { break }  // a torn last line that happens to end in a newline
        throw .corrupt("\(url.path): line \(k + 2) is not a cell result; the file is damaged (delete it to start over)")
      }
      cells.append(cell)
      good += Data(line) + Data("\n".utf8)
    }
    return (header, cells, good)
  }

  static func check(_ found: CellsHeader, against expected: CellsHeader, file: String) throws(StudyRunError) {
    guard found.specHash == expected.specHash else {
      throw .mismatch(
        "\(file) belongs to a different study (spec hash \(found.specHash), this study \(expected.specHash)); use the same study file and data, or another --output"
      )
    }
    guard found.shard == expected.shard else {
      throw .mismatch(
        "\(file) holds shard \(found.shard?.description ?? "none (the whole study)"), but this run is \(expected.shard.map { "shard \($0)" } ?? "the whole study"); resume with the same --shard"
      )
    }
  }
}

/// `study.json`: the spec and its hash.
struct StudyFile: Codable {
  var specHash: String
  var spec: StudySpec
}

/// Writes `data` to `url` atomically (temporary file renamed into place).
func writeAtomically(_ data: Data, to url: URL) throws(StudyRunError) {
  do { try data.write(to: url, options: .atomic) } catch {
    throw .writeFailed(path: url.path, reason: error.localizedDescription)
  }
}

extension StudyRunner {
  /// Combines the finished `cells.jsonl` of shard folders into one report in `output`.
  ///
  /// Checks that every folder holds a finished shard of the same study (same spec hash and shard
  /// count), that no shard or cell appears twice, and that together they hold every cell; lists
  /// what is missing otherwise.
  public static func merge(_ folders: [URL], into output: URL, version: String = "dev") throws(StudyRunError)
    -> StudyReport
  {
    guard !folders.isEmpty else { throw .incompleteMerge("merge needs at least one shard folder") }
    var spec: StudySpec? = nil
    var hash: String? = nil
    var shardCount: Int? = nil
    var total = 0
    var seenShards: [Int: String] = [:]
    var cells: [Int: StudyCellResult] = [:]
    for folder in folders {
      let cellsURL = folder.appendingPathComponent(cellsName)
      let studyURL = folder.appendingPathComponent(studyName)
      guard FileManager.default.fileExists(atPath: cellsURL.path) else {
        let partial = FileManager.default.fileExists(atPath: folder.appendingPathComponent(partialName).path)
        throw .incompleteMerge(
          partial
            ? "\(folder.path) holds an unfinished shard (\(partialName) only); finish it with the same command and --resume"
            : "\(folder.path) holds no \(cellsName); is it the --output of an `attractor compare --shard` run?")
      }
      let file: StudyFile
      do { file = try JSONDecoder().decode(StudyFile.self, from: Data(contentsOf: studyURL)) } catch {
        throw .corrupt("cannot read \(studyURL.path): \(error.localizedDescription)")
      }
      let (header, results, _) = try readCells(cellsURL, allowTornTail: false)
      guard header.specHash == file.specHash else {
        throw .mismatch("\(folder.path): \(cellsName) and \(studyName) disagree on the spec hash")
      }
      if let hash, hash != header.specHash {
        throw .mismatch(
          "\(folder.path) is a shard of a different study (spec hash \(header.specHash), first folder \(hash))")
      }
      hash = header.specHash
      spec = file.spec
      total = header.totalCells
      let count = header.shard?.count ?? 1
      let index = header.shard?.index ?? 1
      if let shardCount, shardCount != count {
        throw .mismatch(
          "\(folder.path) is shard \(index)/\(count), but an earlier folder was split into \(shardCount) shards")
      }
      shardCount = count
      if let other = seenShards[index] {
        throw .incompleteMerge("shard \(index)/\(count) is given twice: \(other) and \(folder.path)")
      }
      seenShards[index] = folder.path
      for r in results {
        guard r.index >= 0 && r.index < total else {
          throw .corrupt("\(cellsURL.path): cell \(r.index) is not a cell of this study (0..<\(total))")
        }
        guard header.shard?.contains(r.index) ?? true else {
          throw .corrupt("\(cellsURL.path): cell \(r.index) does not belong to shard \(index)/\(count)")
        }
        if cells[r.index] != nil {
          throw .incompleteMerge("cell \(r.index) appears in more than one folder (overlapping shards)")
        }
        cells[r.index] = r
      }
    }
    let missingShards = (1...(shardCount ?? 1)).filter { seenShards[$0] == nil }
    let missingCells = (0..<total).filter { cells[$0] == nil }
    if !missingShards.isEmpty || !missingCells.isEmpty {
      var message = "the shards do not cover the study:"
      if !missingShards.isEmpty {
        message +=
          " missing shard\(missingShards.count == 1 ? "" : "s") \(missingShards.map { "\($0)/\(shardCount ?? 1)" }.joined(separator: ", "));"
      }
      let shown = missingCells.prefix(20).map(String.init).joined(separator: ", ")
      message += " \(missingCells.count) of \(total) cells missing (\(shown)\(missingCells.count > 20 ? ", …" : ""))"
      throw .incompleteMerge(message)
    }
    let results = (0..<total).map { cells[$0]! }
    do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
      throw .outputFolder("cannot create \(output.path): \(error.localizedDescription)")
    }
    try writeAtomically(
      canonicalJSON(StudyFile(specHash: hash!, spec: spec!), pretty: true), to: output.appendingPathComponent(studyName)
    )
    var lines =
      canonicalJSON(CellsHeader(specHash: hash!, shard: nil, totalCells: total, version: version)) + Data("\n".utf8)
    for r in results { lines += canonicalJSON(r) + Data("\n".utf8) }
    try writeAtomically(lines, to: output.appendingPathComponent(cellsName))
    let report = StudyReport(study: spec!, specHash: hash!, cells: results, version: version)
    try report.write(to: output)
    return report
  }
}
