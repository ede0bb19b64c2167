import AttractorCore
import AttractorIO
import AttractorLinearAlgebra
import AttractorModels
import Foundation

extension RecallSession {
  /// The run with ``streamsPatterns`` set: the `--patterns` file memory-mapped and streamed in
  /// chunks through ``/AttractorModels/StreamedModernHopfield`` and ``StreamedRecall``, so N is
  /// bounded by the disk, not by memory. Modern model, synchronous schedule; queries from a file,
  /// or generated from random targets with the same seeds as the in-memory run (so a run with and
  /// without streaming starts from the same queries), except overlap corruption, which blends in
  /// random other patterns and is refused here.
  func runStreamed<Scalar: LinearAlgebraScalar>(as _: Scalar.Type) throws -> RecallOutput {
    guard case .file(let path) = patterns else {
      throw InputError("--stream-patterns streams a patterns file: give --patterns FILE.npy")
    }
    guard model == .modern else { throw InputError("--stream-patterns runs the modern network only (--model modern)") }
    guard !asynchronous else {
      throw InputError("--stream-patterns runs synchronous updates only; leave out --asynchronous")
    }
    var notes: [String] = []
    let root = SeededGenerator(seed: seed)
    let openStart = StreamTiming()
    let source: MappedNumPyMatrix
    do { source = try MappedNumPyMatrix(path: path) } catch { throw InputError("\(error)") }
    let usedBeta = beta ?? Self.defaultBeta
    let network: StreamedModernHopfield<Scalar>
    do { network = try StreamedModernHopfield(source: source, beta: Scalar(usedBeta)) } catch {
      throw InputError("cannot build the modern network over \(path): \(error)")
    }
    let opening = openStart.elapsed()
    let n = network.patternCount
    let d = network.dimension
    if network.zeroPatternCount == n {
      throw InputError(
        "every stored pattern is all zeros: no pattern is nearest to any state, so retrieval is meaningless; check the patterns"
      )
    }
    if network.zeroPatternCount > 0 {
      let listed =
        network.firstZeroPatterns.map(String.init).joined(separator: ", ") + (network.zeroPatternCount > 5 ? ", …" : "")
      notes.append(
        "warning: \(network.zeroPatternCount) of the \(n) stored patterns are all zeros (rows \(listed)); they are never retrieved"
      )
    }
    notes.append(
      "patterns streamed from the memory-mapped \(path) in chunks of \(network.chunkRows) rows (\(source.dtype), read as \(Scalar.numpyName))"
    )

    var queryMatrix: Matrix<Scalar>
    var targetList: [Int]?
    var corruptionUsed: Corruption?
    var queriesFile: String?, targetsFile: String?
    switch queries {
    case .file(let file, let targets):
      queriesFile = file
      targetsFile = targets
      (queryMatrix, targetList) = try Self.fileQueries(
        file, targets: targets, dimension: d, patternCount: n, as: Scalar.self)
    case .generated(let count, _, let level):
      let kind = corruption
      if kind == .overlap {
        throw InputError(
          "--corruption overlap is not available with --stream-patterns (it blends in other stored patterns); use noise, mask or flip"
        )
      }
      try MatrixSizeLimit.check(rows: count, columns: d, what: "--query-count × d")
      let corruptionValue = Corruption(kind: kind, level: level ?? kind.defaultLevel)
      if kind == .none, level != nil { notes.append("--level is not used by --corruption none") }
      var targetRNG = root.derived(1)
      let chosen = Corruption.randomTargets(count: count, patternCount: n, using: &targetRNG)
      // The targets' rows, read from the file; the corruption draws per query as in the in-memory run.
      var bases = Matrix<Scalar>(rows: count, columns: d)
      for (k, target) in chosen.enumerated() { bases.setRow(k, to: source.row(target, as: Scalar.self)) }
      var corruptionRNG = root.derived(2)
      do {
        queryMatrix =
          try corruptionValue.queries(
            corrupting: bases, patterns: bases, targets: Array(0..<count), using: &corruptionRNG
          ).queries
      } catch { throw InputError("cannot make queries: \(error)") }
      targetList = chosen
      corruptionUsed = corruptionValue
    }

    let experiment = RecallExperiment(steps: maxSteps, tolerance: tolerance, schedule: .synchronous)
    let runStart = StreamTiming()
    let outcome: Result<RecallRun<Scalar>, RecallError> = Result {
      () throws(RecallError) -> RecallRun<Scalar> in
      try StreamedRecall(steps: maxSteps, tolerance: tolerance).run(network, queries: queryMatrix, targets: targetList)
    }
    let run: RecallRun<Scalar>
    switch outcome {
    case .success(let value): run = value
    case .failure(let error):
      if case .targetOutOfRange = error, let targetsFile { throw InputError("--targets \(targetsFile): \(error)") }
      throw InputError("recall failed: \(error)")
    }
    let running = runStart.elapsed()
    // One pass per step that ran, plus one (the measures of the final states).
    let passes = (run.result.steps.last { $0.meanStepSize != 0 || $0.step == 0 }?.step ?? 0) + 1
    notes.append(
      "timing: opening and checking the file \(NumberFormat.fixed(opening.wall, decimals: 2)) s wall; "
        + "\(passes) passes over it \(NumberFormat.fixed(running.wall, decimals: 2)) s wall, "
        + "\(NumberFormat.fixed(running.cpu, decimals: 2)) s CPU (all threads), i.e. per query per pass "
        + "\(NumberFormat.fixed(running.wall / Double(passes * queryMatrix.rows) * 1e6, decimals: 1)) µs wall, "
        + "\(NumberFormat.fixed(running.cpu / Double(passes * queryMatrix.rows) * 1e6, decimals: 1)) µs CPU")
    if let output {
      do { try NumPyFile.write(Tensor(run.finalStates), to: URL(fileURLWithPath: output)) } catch {
        throw InputError("cannot write the final states: \(error)")
      }
    }
    let configuration = RecallReport.Configuration(
      model: model, beta: usedBeta, precision: precision, seed: seed, blasThreads: BLAS.threadCount,
      patterns: .init(file: path, count: n, dimension: d, generated: false, binarized: false),
      queries: .init(
        file: queriesFile, targetsFile: targetsFile, count: queryMatrix.rows, corruption: corruptionUsed,
        binarized: false),
      experiment: experiment)
    let report = RecallReport(
      version: version, configuration: configuration, steps: run.result.steps, finalAccuracy: run.result.finalAccuracy,
      convergedFraction: run.result.convergedFraction,
      convergedCount: run.result.stepsToConverge.compactMap { $0 }.count,
      stepsToConverge: run.result.stepsToConvergeSummary, output: output, notes: notes)
    return RecallOutput(report: report, notes: notes, finalStateShape: (run.finalStates.rows, run.finalStates.columns))
  }
}

/// Wall and process CPU time since creation (the note of a streamed run).
struct StreamTiming {
  let wall = ContinuousClock.now
  let cpu = StreamTiming.processCPUSeconds()

  func elapsed() -> (wall: Double, cpu: Double) {
    ((ContinuousClock.now - wall).seconds, StreamTiming.processCPUSeconds() - cpu)
  }

  static func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }
}
