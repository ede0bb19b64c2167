import AttractorCore
import AttractorExperiments
import AttractorLinearAlgebra

extension Study {
  /// Seconds per batch of the dynamics of model `model` on the first dataset, first seed, first
  /// corruption at its first level, with ``StudySpec/queries`` queries and the largest T steps
  /// (converged states frozen, no energies recorded): the median of `repetitions` runs after one
  /// warm-up, monotonic clock; model construction and query generation are not timed.
  public func benchmark(model m: Int, repetitions: Int) throws(StudyRunError) -> Double {
    try benchmark(model: m, factory: factories[m], repetitions: repetitions)
  }

  /// ``benchmark(model:repetitions:)`` with the factory given (opened from the existential).
  public func benchmark(model m: Int, factory: any StudyModelFactory, repetitions: Int) throws(StudyRunError) -> Double
  {
    let inputs = try self.inputs(dataset: 0, seed: 0, corruption: 0, level: 0, patterns: nil)
    if spec.precision == .float, let single = factory as? any SinglePrecisionStudyModelFactory {
      return try timeSingle(single, model: m, inputs: inputs, repetitions: max(1, repetitions))
    }
    return try timeDouble(factory, model: m, inputs: inputs, repetitions: max(1, repetitions))
  }

  /// The precision ``benchmark(model:repetitions:)`` runs model `m` in: the study's, or double
  /// when the model has no single-precision path.
  public func benchmarkPrecision(model m: Int) -> StudyPrecision {
    spec.precision == .float && factories[m] is any SinglePrecisionStudyModelFactory ? .float : .double
  }

  private func timeDouble<Factory: StudyModelFactory>(
    _ factory: Factory, model m: Int, inputs: CellInputs, repetitions: Int
  ) throws(StudyRunError) -> Double {
    try timeDynamics(
      factory, model: m, inputs: inputs, repetitions: repetitions, make: { try factory.make(patterns: $0, seed: $1) })
  }

  private func timeSingle<Factory: SinglePrecisionStudyModelFactory>(
    _ factory: Factory, model m: Int, inputs: CellInputs, repetitions: Int
  ) throws(StudyRunError) -> Double {
    try timeDynamics(
      factory, model: m, inputs: inputs, repetitions: repetitions,
      make: { try factory.makeSingle(patterns: $0, seed: $1) })
  }

  private func timeDynamics<Factory: StudyModelFactory, Model: UpdateRule>(
    _ factory: Factory, model m: Int, inputs: CellInputs, repetitions: Int,
    make: (Matrix<Model.Scalar>, UInt64) throws -> Model
  ) throws(StudyRunError) -> Double {
    let binary = factory.encoding == .binary
    let patterns: Matrix<Model.Scalar> = converted(
      binary ? Binarization.binarized(inputs.patterns) : inputs.patterns)
    let queries: Matrix<Model.Scalar> = converted(
      binary ? Binarization.binarized(inputs.queries, keepingZeros: true) : inputs.queries)
    let model: Model
    do { model = try make(patterns, modelSeed(dataset: 0, seed: 0, model: m)) } catch {
      throw .cellFailed(cell: -1, message: "cannot build \(spec.models[m].label): \(error)")
    }
    let dynamics = SynchronousDynamics(maxSteps: spec.steps.last ?? 1, tolerance: spec.tolerance, recordEnergies: false)
    let times = try BenchmarkTimes.measure(repetitions: repetitions) { () throws(StudyRunError) in
      do { _ = try dynamics.run(model, from: queries) } catch {
        throw .cellFailed(cell: -1, message: "\(spec.models[m].label): \(error)")
      }
    }
    return times.median
  }
}

/// Queries per second of every model of a study (`attractor bench compare`).
///
/// **Measured:** per model, the dynamics a study cell runs, without the measurements: a batch of
/// ``queryCount`` queries of the study's first dataset, first seed, first corruption at its first
/// level, run for the largest T with converged states frozen and no energies recorded
/// (``Study/benchmark(model:repetitions:)``); model construction and query generation are not
/// timed. In the precision the study runs each model in (``Study/benchmarkPrecision(model:)``). In the study's precision (single by default; double for a model
/// without a single-precision path).
///
/// **Ratio against:** the fastest model of the study (time / fastest time).
///
/// **Threads:** the OpenBLAS thread count in force (recorded); median of ``repetitions`` runs after
/// one warm-up.
public struct StudyThroughputBenchmark: Sendable {
  public var study: Study
  /// Queries per batch B (replaces the study's own query count).
  public var queryCount = 1024
  public var repetitions = 5

  public init(study: Study) { self.study = study }

  /// One model's figures.
  public struct Row: Sendable, Codable, Equatable {
    public var model: String
    /// Median seconds of one batch.
    public var secondsPerBatch: Double
    public var queriesPerSecond: Double
    public var microsecondsPerQuery: Double
    /// This model's time / the fastest model's time.
    public var relativeToFastest: Double
    /// The precision the model ran in.
    public var precision: StudyPrecision?
  }

  /// What ``run()`` measured.
  public struct Report: Sendable, Codable, Equatable {
    public var study: String
    public var dataset: String
    public var queryCount: Int
    public var steps: Int
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    public var rows: [Row]

    /// The header lines and the Markdown table.
    public var markdown: String {
      let table = BenchmarkTable(
        header: ["model", "precision", "ms per batch", "queries / s", "µs / query", "× fastest"],
        rows: rows.map { r in
          [
            r.model, r.precision?.rawValue ?? "double", BenchmarkTable.fixed(r.secondsPerBatch * 1e3, 2),
            BenchmarkTable.fixed(r.queriesPerSecond, 0), BenchmarkTable.fixed(r.microsecondsPerQuery, 2),
            BenchmarkTable.fixed(r.relativeToFastest, 2),
          ]
        }, leftColumns: 2)
      return text(
        title:
          "Study throughput (\(study)): \(dataset), B = \(queryCount) queries, T = \(steps) steps",
        note: "(× fastest = time / the fastest model's time)", table: table)
    }
  }

  /// Times every model of the study in turn.
  ///
  /// - Throws: ``StudyRunError`` when a model cannot be built or its dynamics fail.
  public func run() throws(StudyRunError) -> Report {
    var spec = study.spec
    spec.queries = queryCount
    let sized = Study(spec: spec, factories: study.factories, sources: study.sources)
    var times: [Double] = []
    for m in sized.factories.indices {
      times.append(try sized.benchmark(model: m, repetitions: repetitions))
    }
    let fastest = times.min() ?? 1
    let rows = zip(spec.models.indices, times).map { m, t in
      Row(
        model: spec.models[m].label, secondsPerBatch: t, queriesPerSecond: Double(queryCount) / t,
        microsecondsPerQuery: t / Double(queryCount) * 1e6, relativeToFastest: t / fastest,
        precision: sized.benchmarkPrecision(model: m))
    }
    let machine = BenchmarkMachine.current
    return Report(
      study: spec.name, dataset: spec.datasets.first?.label ?? "", queryCount: queryCount, steps: spec.steps.last ?? 1,
      repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores, rows: rows)
  }
}

extension StudyThroughputBenchmark.Report: BenchmarkReport {}
