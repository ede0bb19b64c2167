import AttractorExperiments
import AttractorLinearAlgebra
import Foundation

/// Asynchronous sweeps of a dense associative memory, timed (`attractor bench dense-sweep`).
///
/// **Measured:** the capacity experiment's runner on K random ±1 patterns of N units from
/// ``starts`` random starts, one unit at a time with the energy-difference rule of Krotov &
/// Hopfield, until a sweep changes no unit or ``maxSweeps``; reported as unit updates per second
/// (and pattern terms, unit updates × K, per second). The starts run on worker threads.
///
/// **Ratio against:** the same run on one worker thread: speed-up = rate with ``workers`` / rate
/// with 1. `Scripts/dam_bench.py` runs the same sweeps in NumPy beside it.
///
/// **Threads:** worker threads 1 and ``workers``; no BLAS calls (the OpenBLAS thread count is
/// recorded all the same); median of ``repetitions`` runs after one warm-up per worker count.
public struct DenseSweepBenchmark: Sendable, Equatable {
  /// The interaction function F.
  public var model: CapacityModel = .polynomial(degree: 3)
  /// Units N.
  public var units = 100
  /// Stored patterns K.
  public var count = 10
  /// Random starts.
  public var starts = 1000
  /// Most asynchronous sweeps per start.
  public var maxSweeps = 1000
  /// Worker threads of the second row (the first runs on one).
  public var workers = ProcessInfo.processInfo.activeProcessorCount
  public var repetitions = 3
  public var seed: UInt64 = 0

  public init() {}

  /// One worker count's figures.
  public struct Row: Sendable, Codable, Equatable {
    public var workers: Int
    /// Unit updates of one run (the same in every run).
    public var unitUpdates: Int
    /// Median seconds of one run.
    public var seconds: Double
    public var unitUpdatesPerSecond: Double
    /// Unit updates × K per second.
    public var patternTermsPerSecond: Double
    /// This rate / the rate on one worker.
    public var speedUp: Double
  }

  /// What ``run()`` measured.
  public struct Report: Sendable, Codable, Equatable {
    public var model: String
    public var units: Int
    public var count: Int
    public var starts: Int
    public var maxSweeps: Int
    public var seed: UInt64
    public var repetitions: Int
    public var blasThreads: Int
    public var cores: Int
    public var rows: [Row]

    /// The header lines and the Markdown table.
    public var markdown: String {
      let table = BenchmarkTable(
        header: ["workers", "unit updates", "seconds", "unit updates / s", "pattern terms / s", "speed-up"],
        rows: rows.map { r in
          [
            "\(r.workers)", "\(r.unitUpdates)", BenchmarkTable.fixed(r.seconds, 3),
            BenchmarkTable.general(r.unitUpdatesPerSecond),
            BenchmarkTable.general(r.patternTermsPerSecond), BenchmarkTable.fixed(r.speedUp, 2),
          ]
        })
      return text(
        title:
          "Asynchronous sweeps: \(model), N = \(units), K = \(count), \(starts) random starts, up to \(maxSweeps) sweeps, seed \(seed)",
        note: "(speed-up = rate / rate on 1 worker)", table: table)
    }
  }

  /// Times the sweeps on 1 worker and on ``workers``.
  ///
  /// - Throws: ``/AttractorExperiments/CapacityError`` for an invalid model or sizes.
  public func run() throws(CapacityError) -> Report {
    try model.validate()
    let experiment = CapacityExperiment(
      units: [units], patternCounts: [count], starts: starts, start: .random, seed: seed, maxSweeps: maxSweeps)
    let stored = experiment.randomPatterns(units: units, count: count)
    var rows: [Row] = []
    for w in workers > 1 ? [1, workers] : [1] {
      var updates = 0
      var seconds: [Double] = []
      _ = try experiment.measure(model: model, patterns: stored, threads: w)  // warm-up
      for _ in 0..<max(1, repetitions) {
        let p = try experiment.measure(model: model, patterns: stored, threads: w)
        updates = p.unitUpdates
        seconds.append(p.seconds)
      }
      let median = BenchmarkTimes.median(seconds)
      let rate = Double(updates) / median
      rows.append(
        Row(
          workers: w, unitUpdates: updates, seconds: median, unitUpdatesPerSecond: rate,
          patternTermsPerSecond: rate * Double(count),
          speedUp: rate / (rows.first?.unitUpdatesPerSecond ?? rate)))
    }
    let machine = BenchmarkMachine.current
    return Report(
      model: model.description, units: units, count: count, starts: starts, maxSweeps: maxSweeps, seed: seed,
      repetitions: repetitions, blasThreads: machine.blasThreads, cores: machine.cores, rows: rows)
  }
}

extension DenseSweepBenchmark.Report: BenchmarkReport {}
