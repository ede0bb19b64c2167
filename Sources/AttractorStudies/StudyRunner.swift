import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import Foundation

/// Errors of running, resuming and merging studies.
public enum StudyRunError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `--shard i/n` is malformed or out of range.
  case invalidShard(String)
  /// The output folder cannot be used as asked (not creatable, not writable…).
  case outputFolder(String)
  /// The output folder holds another study's run, or a run this command may not continue or
  /// replace; refused before any work, nothing in the folder was changed. A usage error (the
  /// command's spec-error exit status).
  case folderInUse(String)
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
    case .invalidShard(let m), .outputFolder(let m), .folderInUse(let m), .mismatch(let m), .corrupt(let m),
      .incompleteMerge(let m):
      m
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

/// Runs a ``Study`` into a report folder, ``workers`` cells at a time, appending each finished
/// cell to a partial file so that an interrupted run loses nothing.
///
/// Cells run concurrently on ``workers`` threads (default: every core), each taking the next
/// group of cells that share their inputs (one dataset, seed, corruption and level: every model).
/// The partial file holds cells in the order they finished; `cells.jsonl` and the report are in
/// cell order.
///
/// OpenBLAS's thread count is process-wide state and belongs to the caller: the runner never
/// changes it. Every cell's BLAS calls run with the count in force (recorded in each cell as
/// `blasThreads`). With several workers, set one OpenBLAS thread before the run
/// (`BLAS.setThreadCount(1)`; `attractor compare` does so unless `--threads` is given): cells then
/// share the cores without oversubscribing them, and a cell's numbers do not depend on the workers
/// or on the order in which cells finish: they equal those of a one-worker run at the same
/// OpenBLAS thread count (the test suite checks it).
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
/// Before any work, a folder holding a run of another study (another spec hash in `study.json`,
/// `cells.jsonl` or `cells.partial.jsonl`) is refused (``StudyRunError/folderInUse(_:)``), and so
/// is, without `resume`, a folder holding any run (finished or not) of this study.
///
/// `resume`: cells already in `cells.partial.jsonl` (or a finished `cells.jsonl`) of the same
/// spec hash and shard are skipped. Every cell line is checked first: its checksum (FNV-1a of the
/// line's canonical JSON without the `checksum` member, which is written last) and its key fields
/// (model, dataset, corruption, level, seed, queries, number of T) against the cell its `index`
/// names. A line that fails (or repeats a cell, or is torn) is damaged: it is dropped and its cell
/// runs again (``Outcome/damaged`` counts them).
public struct StudyRunner: Sendable {
  public let study: Study
  public var shard: StudyShard?
  /// Stop after running this many cells (for tests and `--max-cells`); the run is then partial.
  public var cellLimit: Int?
  /// Tool version recorded in the files.
  public var version: String
  /// Cells run at the same time (at least 1; default: the active processor count). With one
  /// worker, cells run one after another on the calling thread; with more, on their own threads.
  /// Either way with the OpenBLAS thread count in force, which the caller sets (one thread when
  /// `workers` > 1, see the type's documentation).
  public var workers: Int

  public init(
    study: Study, shard: StudyShard? = nil, cellLimit: Int? = nil, version: String = "dev",
    workers: Int = ProcessInfo.processInfo.activeProcessorCount
  ) {
    self.study = study
    self.shard = shard
    self.cellLimit = cellLimit
    self.version = version
    self.workers = max(1, workers)
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
    /// Damaged lines of earlier runs dropped on resume (their cells were run again).
    public var damaged: Int = 0
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
    try checkFolder(folder, header: header, resume: resume)
    do { try fm.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
      throw .outputFolder("cannot create the output folder \(folder.path): \(error.localizedDescription)")
    }
    let partialURL = folder.appendingPathComponent(Self.partialName)
    let cellsURL = folder.appendingPathComponent(Self.cellsName)
    var done: [Int: StudyCellResult] = [:]
    var damaged = 0
    if resume {
      let allCells = study.cells
      for url in [cellsURL, partialURL] where fm.fileExists(atPath: url.path) {
        let file = try Self.readCells(url, spec: study.spec, cells: allCells, strict: false)
        try Self.check(file.header, against: header, file: url.path)
        for c in file.cells where done[c.index] == nil { done[c.index] = c }
        damaged += file.damaged.count
        if url == partialURL {
          // Keep only the verified lines, so appended lines start on a fresh line.
          try writeAtomically(file.kept, to: url)
        }
      }
    }
    try writeAtomically(
      canonicalJSON(StudyFile(specHash: header.specHash, spec: study.spec), pretty: true),
      to: folder.appendingPathComponent(Self.studyName))
    let assigned = assignedCells
    let assignedSet = Set(assigned.map(\.index))
    done = done.filter { assignedSet.contains($0.key) }
    let resumed = done.count

    // The partial file is needed only when a cell is left to run: resuming a finished run (to
    // write its report again) adds nothing to the folder.
    var handle: FileHandle? = nil
    if done.count < assigned.count {
      if !fm.fileExists(atPath: partialURL.path) {
        try writeAtomically(canonicalJSON(header) + Data("\n".utf8), to: partialURL)
      }
      do {
        handle = try FileHandle(forWritingTo: partialURL)
        try handle?.seekToEnd()
      } catch {
        throw .writeFailed(path: partialURL.path, reason: AtomicFile.reason(for: error))
      }
    }
    defer { try? handle?.close() }

    var ran = 0
    let runStart = clock.now
    var toRun = assigned.filter { done[$0.index] == nil }
    if let limit = cellLimit { toRun = Array(toRun.prefix(max(0, limit))) }
    try runCells(toRun) { (result: StudyCellResult) throws(StudyRunError) in
      do {
        try handle?.write(contentsOf: Self.cellLine(result))
        try handle?.synchronize()
      } catch {
        throw .writeFailed(path: partialURL.path, reason: AtomicFile.reason(for: error))
      }
      done[result.index] = result
      ran += 1
      let elapsed = (clock.now - runStart).seconds
      let left = assigned.count - done.count
      progress(
        StudyProgress(
          done: done.count, total: assigned.count, resumed: resumed, elapsed: elapsed,
          remaining: elapsed / Double(ran) * Double(left), cell: describe(study.cells[result.index])))
    }

    let results = assigned.compactMap { done[$0.index] }
    let complete = results.count == assigned.count
    var report: StudyReport? = nil
    if complete {
      var lines = canonicalJSON(header) + Data("\n".utf8)
      for r in results { lines += Self.cellLine(r) }
      try writeAtomically(lines, to: cellsURL)
      try? fm.removeItem(at: partialURL)
      if shard == nil || shard?.count == 1 {
        let r = StudyReport(study: study.spec, specHash: header.specHash, cells: results, version: version)
        try r.write(to: folder)
        report = r
      }
    }
    return Outcome(
      results: results, complete: complete, resumed: resumed, damaged: damaged, seconds: (clock.now - start).seconds,
      report: report)
  }

  /// Runs `cells` (in cell order), handing each result to `finished` on the calling thread: in
  /// order with one worker, in the order they finish with several. Cells sharing their inputs
  /// (dataset, seed, corruption, level) are run by one worker after one draw of the inputs. The
  /// first error (of a cell, or thrown by `finished`) stops the run: workers finish the cell they
  /// are running and start no other, and the error is thrown once they have stopped.
  func runCells(
    _ cells: [StudyCell], finished: (StudyCellResult) throws(StudyRunError) -> Void
  ) throws(StudyRunError) {
    var groups: [[StudyCell]] = []
    for cell in cells {
      if let first = groups.last?.first, first.dataset == cell.dataset, first.seed == cell.seed,
        first.corruption == cell.corruption, first.level == cell.level
      {
        groups[groups.count - 1].append(cell)
      } else {
        groups.append([cell])
      }
    }
    let study = self.study
    // OpenBLAS's thread count is left as the caller set it (see the type's documentation).
    let count = min(workers, groups.count)
    guard count > 1 else {
      var patterns = PatternCache()
      for group in groups {
        try Self.run(group, of: study, patterns: &patterns) { (r: StudyCellResult) throws(StudyRunError) in
          try finished(r)
        }
      }
      return
    }
    let board = CellBoard(groups: groups)
    board.started(workers: count)
    for _ in 0..<count {
      let thread = Thread {
        var patterns = PatternCache()
        while let group = board.nextGroup() {
          do throws(StudyRunError) {
            try Self.run(group, of: study, patterns: &patterns) { (r: StudyCellResult) throws(StudyRunError) in
              guard board.post(r) else { throw .cellFailed(cell: r.index, message: "stopped") }
            }
          } catch {
            board.fail(error)
          }
        }
        board.workerFinished()
      }
      thread.stackSize = 16 << 20
      thread.start()
    }
    do throws(StudyRunError) {
      while let batch = try board.waitForResults() {
        for r in batch { try finished(r) }
      }
    } catch {
      board.stop()
      board.waitUntilStopped()
      throw error
    }
  }

  /// The patterns of the last (dataset, seed) a worker drew, reused by its next group.
  struct PatternCache {
    var key: [Int]? = nil
    var patterns: Matrix<Double>? = nil
  }

  /// Draws the inputs of `group` (cells sharing dataset, seed, corruption and level) and runs its
  /// cells in order.
  static func run(
    _ group: [StudyCell], of study: Study, patterns cache: inout PatternCache,
    finished: (StudyCellResult) throws(StudyRunError) -> Void
  ) throws(StudyRunError) {
    guard let first = group.first else { return }
    let patternsKey = [first.dataset, first.seed]
    let inputs: CellInputs
    do {
      inputs = try study.inputs(
        dataset: first.dataset, seed: first.seed, corruption: first.corruption, level: first.level,
        patterns: patternsKey == cache.key ? cache.patterns : nil)
    } catch {
      if case .cellFailed(_, let message) = error { throw .cellFailed(cell: first.index, message: message) }
      throw error
    }
    cache.key = patternsKey
    cache.patterns = inputs.patterns
    for cell in group { try finished(study.run(cell: cell, inputs: inputs)) }
  }

  func describe(_ cell: StudyCell) -> String {
    let s = study.spec
    let c = s.corruptions[cell.corruption]
    return
      "\(s.models[cell.model].label) | \(s.datasets[cell.dataset].label) | \(c.kind) \(compactNumber(c.levels[cell.level])) | seed \(s.seeds[cell.seed])"
  }

  /// A cells file as read: its header, the verified cell lines, the line numbers (1-based) of the
  /// damaged ones, and the header and verified lines as bytes.
  struct CellsFile {
    var header: CellsHeader
    var cells: [StudyCellResult]
    var damaged: [Int]
    var kept: Data
  }

  /// The line of `result` in a cells file: its canonical JSON with a last member
  /// `"checksum": FNV-1a of that canonical JSON`, and a line break.
  static func cellLine(_ result: StudyCellResult) -> Data {
    let body = canonicalJSON(result)
    let sum = Fingerprint.hex(Fingerprint.fnv1a(body))
    return body.dropLast() + Data(",\"checksum\":\"\(sum)\"}\n".utf8)
  }

  static let checksumPrefix = Array(",\"checksum\":\"".utf8)

  /// The cell result a line holds, if the line is what a run of `spec` writes for the cell its
  /// `index` names; otherwise why not. Lines without a checksum (older runs) are accepted when
  /// their key fields match.
  static func verify(_ line: Data, spec: StudySpec, cells: [StudyCell]) -> Result<StudyCellResult, StudyRunError> {
    var body = Data(line)
    // `…,"checksum":"<16 hex digits>"}`
    let suffixCount = checksumPrefix.count + 16 + 2
    if body.count > suffixCount {
      let tail = Array(body.suffix(suffixCount))
      if Array(tail.prefix(checksumPrefix.count)) == checksumPrefix {
        let written = String(decoding: tail[checksumPrefix.count..<(checksumPrefix.count + 16)], as: UTF8.self)
        body = body.prefix(body.count - suffixCount) + Data("}".utf8)
        guard Fingerprint.hex(Fingerprint.fnv1a(body)) == written else {
          return .failure(.corrupt("its checksum does not match its contents"))
        }
      }
    }
    guard let r = try? JSONDecoder().decode(StudyCellResult.self, from: body) else {
      return .failure(.corrupt("it is not a cell result"))
    }
    guard cells.indices.contains(r.index) else {
      return .failure(.corrupt("it names cell \(r.index), not a cell of this study (0..<\(cells.count))"))
    }
    let cell = cells[r.index]
    let corruption = spec.corruptions[cell.corruption]
    let expected =
      "\(spec.models[cell.model].label) | \(spec.datasets[cell.dataset].label) | \(corruption.kind.rawValue) \(corruption.levels[cell.level]) | seed \(spec.seeds[cell.seed]) | \(spec.queries) queries | \(spec.steps.count) T"
    let found =
      "\(r.model) | \(r.dataset) | \(r.corruption.rawValue) \(r.level) | seed \(r.seed) | \(r.queries) queries | \(r.steps.count) T"
    guard expected == found else {
      return .failure(.corrupt("it names cell \(r.index) (\(expected)) but holds \(found)"))
    }
    return .success(r)
  }

  /// Reads a cells file of `spec` (whose cells are `cells`): header, then every line verified
  /// (``verify(_:spec:cells:)``); a second line for the same cell is damaged too. `strict`: any
  /// damage, or a missing final line break, throws; otherwise damaged lines are listed and
  /// left out, and text after the last line break (a torn last line) is dropped silently.
  static func readCells(_ url: URL, spec: StudySpec, cells: [StudyCell], strict: Bool) throws(StudyRunError)
    -> CellsFile
  {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw .corrupt("cannot read \(url.path): \(error.localizedDescription)")
    }
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    // The text after the last newline is a torn line (or empty).
    let tail = lines.removeLast()
    if !tail.isEmpty && strict {
      throw .corrupt("\(url.path) does not end with a newline; it is not a finished cells file")
    }
    guard let first = lines.first, let header = try? JSONDecoder().decode(CellsHeader.self, from: Data(first)) else {
      throw .corrupt(
        "\(url.path) does not start with a study header line; it was not written by `attractor compare` or is damaged (delete it, or choose another --output-dir, to start over)"
      )
    }
    var file = CellsFile(header: header, cells: [], damaged: [], kept: Data(first) + Data("\n".utf8))
    var seen = Set<Int>()
    for (k, line) in lines.dropFirst().enumerated() {
      var outcome = verify(Data(line), spec: spec, cells: cells)
      if case .success(let r) = outcome, seen.contains(r.index) {
        outcome = .failure(.corrupt("cell \(r.index) appears on an earlier line too"))
      }
      switch outcome {
      case .success(let r):
        seen.insert(r.index)
        file.cells.append(r)
        file.kept += Data(line) + Data("\n".utf8)
      case .failure(let why):
        if strict { throw .corrupt("\(url.path): line \(k + 2) is damaged: \(why)") }
        file.damaged.append(k + 2)
      }
    }
    return file
  }

  /// Refuses, before any work, a folder this run may not use: one holding another study's run, or
  /// (without `resume`) any run.
  func checkFolder(_ folder: URL, header: CellsHeader, resume: Bool) throws(StudyRunError) {
    let fm = FileManager.default
    let wayOut = "nothing was changed; choose another --output-dir, or delete \(folder.path) to start over"
    var hashes: [(file: String, hash: String)] = []
    let studyURL = folder.appendingPathComponent(Self.studyName)
    if let data = try? Data(contentsOf: studyURL), let file = try? JSONDecoder().decode(StudyFile.self, from: data) {
      hashes.append((Self.studyName, file.specHash))
    }
    var runs: [String] = []
    for name in [Self.cellsName, Self.partialName] {
      let url = folder.appendingPathComponent(name)
      guard fm.fileExists(atPath: url.path) else { continue }
      runs.append(name)
      // Only the first line is needed; a damaged header is reported when the file is read.
      if let handle = try? FileHandle(forReadingFrom: url) {
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 1 << 16)) ?? Data()
        let firstLine = head.split(separator: UInt8(ascii: "\n"), maxSplits: 1).first.map { Data($0) } ?? Data()
        if let h = try? JSONDecoder().decode(CellsHeader.self, from: firstLine) { hashes.append((name, h.specHash)) }
      }
    }
    if let other = hashes.first(where: { $0.hash != header.specHash }) {
      throw .folderInUse(
        "\(folder.path) holds a run that belongs to a different study (\(other.file): spec hash \(other.hash), this study \(header.specHash)); \(wayOut)"
      )
    }
    guard !resume else { return }
    if runs.contains(Self.partialName) {
      throw .folderInUse(
        "\(folder.path) holds an unfinished run of this study (\(Self.partialName)); pass --resume to continue it, or \(wayOut.dropFirst("nothing was changed; ".count))"
      )
    }
    if runs.contains(Self.cellsName) {
      throw .folderInUse(
        "\(folder.path) holds a finished run of this study (\(Self.cellsName)); pass --resume to rewrite its report without running any cell, or \(wayOut.dropFirst("nothing was changed; ".count))"
      )
    }
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

/// The shared state of a run's worker threads: the next group of cells to take, the finished
/// results not yet handed over, the first error, and how many workers are still running.
final class CellBoard: @unchecked Sendable {
  private let condition = NSCondition()
  private let groups: [[StudyCell]]
  private var next = 0
  private var results: [StudyCellResult] = []
  private var error: StudyRunError? = nil
  private var stopped = false
  private var running = 0
  private var launched = false

  init(groups: [[StudyCell]]) { self.groups = groups }

  /// Records how many workers were started (before waiting on them).
  func started(workers: Int) {
    condition.lock()
    running += workers
    launched = true
    condition.broadcast()
    condition.unlock()
  }

  /// The next group of cells, or `nil` when there is none left or the run was stopped.
  func nextGroup() -> [StudyCell]? {
    condition.lock()
    defer { condition.unlock() }
    guard !stopped && next < groups.count else { return nil }
    next += 1
    return groups[next - 1]
  }

  /// Hands over a finished cell; `false` when the run was stopped (the worker should stop too).
  func post(_ result: StudyCellResult) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !stopped else { return false }
    results.append(result)
    condition.broadcast()
    return true
  }

  /// Records a worker's error (the first one is kept) and stops the run.
  func fail(_ failure: StudyRunError) {
    condition.lock()
    if error == nil && !stopped { error = failure }
    stopped = true
    condition.broadcast()
    condition.unlock()
  }

  func stop() {
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }

  func workerFinished() {
    condition.lock()
    running -= 1
    condition.broadcast()
    condition.unlock()
  }

  /// Waits for finished cells and returns them; `nil` when every worker has ended and every
  /// result was returned. Throws a worker's error once every worker has ended.
  func waitForResults() throws(StudyRunError) -> [StudyCellResult]? {
    condition.lock()
    defer { condition.unlock() }
    while results.isEmpty && error == nil && (!launched || running > 0) { condition.wait() }
    if let failure = error {
      while running > 0 { condition.wait() }
      throw failure
    }
    if results.isEmpty { return nil }
    defer { results.removeAll(keepingCapacity: true) }
    return results
  }

  /// Waits until every worker has ended.
  func waitUntilStopped() {
    condition.lock()
    while !launched || running > 0 { condition.wait() }
    condition.unlock()
  }
}

/// `study.json`: the spec and its hash.
struct StudyFile: Codable {
  var specHash: String
  var spec: StudySpec
}

/// Writes `data` to `url` atomically (``AtomicFile/write(_:to:)``: a temporary file flushed and
/// renamed into place, removed when the write fails, which then names the system's reason).
func writeAtomically(_ data: Data, to url: URL) throws(StudyRunError) {
  do { try AtomicFile.write(data, to: url) } catch {
    throw .writeFailed(path: url.path, reason: error.reason)
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
      let read = try readCells(cellsURL, spec: file.spec, cells: Study.cells(of: file.spec), strict: true)
      let (header, results) = (read.header, read.cells)
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
    for r in results { lines += cellLine(r) }
    try writeAtomically(lines, to: output.appendingPathComponent(cellsName))
    let report = StudyReport(study: spec!, specHash: hash!, cells: results, version: version)
    try report.write(to: output)
    return report
  }
}
