import ArgumentParser
import Attractors
import Foundation

/// `--model` values of `attractor bench dense-sweep` (the names of `attractor compare list-models`).
public enum DenseSweepModel: String, CaseIterable, ExpressibleByArgument, Sendable {
  case classical
  case densePolynomial = "dense-polynomial"
  case denseRectified = "dense-rectified"
  case denseExponential = "dense-exponential"
}

/// `attractor bench dense-sweep`: `DenseSweepBenchmark`.
public struct BenchDenseSweep: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dense-sweep",
    abstract: "Asynchronous sweeps of dense associative memories (unit updates per second).",
    discussion: """
      K random ±1 patterns (--count) of N units (--dimension) are stored; the asynchronous dynamics \
      of `attractor capacity` (one unit at a time, the energy-difference rule of Krotov & Hopfield) \
      run from --starts random starts until a sweep changes no unit or --max-steps sweeps, on one \
      worker thread and on --workers; speed-up = rate / rate on one worker. \
      Scripts/dam_bench.py runs the same sweeps in NumPy beside it.
      """)

  @Option(
    help:
      "The interaction: classical (x²), dense-polynomial (xⁿ), dense-rectified (max(x, 0)ⁿ), dense-exponential (exp(βx))."
  )
  var model: DenseSweepModel = .densePolynomial

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Degree n of the polynomial and rectified models.", valueName: "n"))
  var degree = 3

  @Option(parsing: .unconditional, help: ArgumentHelp("β of the exponential model.", valueName: "β"))
  var beta = 1.0

  @Option(parsing: .unconditional, help: ArgumentHelp("Number N of units.", valueName: "N"))
  var dimension = 100

  @Option(parsing: .unconditional, help: ArgumentHelp("Number K of stored patterns.", valueName: "K"))
  var count = 10

  @Option(parsing: .unconditional, help: ArgumentHelp("Random starts.", valueName: "S"))
  var starts = 1000

  @Option(parsing: .unconditional, help: ArgumentHelp("Most asynchronous sweeps per start.", valueName: "T"))
  var maxSteps = 1000

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Worker threads of the second row (default: all cores).", valueName: "n"))
  var workers: Int?

  @OptionGroup var bench: BenchmarkRunOptions

  public init() {}

  var benchmark: DenseSweepBenchmark {
    var b = DenseSweepBenchmark()
    switch model {
    case .classical: b.model = .classical
    case .densePolynomial: b.model = .polynomial(degree: degree)
    case .denseRectified: b.model = .rectified(degree: degree)
    case .denseExponential: b.model = .exponential(beta: beta)
    }
    b.units = dimension
    b.count = count
    b.starts = starts
    b.maxSweeps = maxSteps
    if let workers { b.workers = workers }
    return bench.configured(b)
  }

  public func validate() throws {
    try BenchLimits.check("--degree", degree, 1...64)
    guard beta.isFinite && beta > 0 else { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
    try BenchLimits.check("--dimension", dimension, 1...1 << 20)
    try BenchLimits.check("--count", count, 1...1 << 24)
    try BenchLimits.check("--starts", starts, 1...1 << 24)
    try BenchLimits.check("--max-steps", maxSteps, 1...1_000_000)
    if let workers { try BenchLimits.check("--workers", workers, 1...1024) }
  }

  /// What the command prints: the table, or one JSON object with --json.
  public func printed() throws -> String {
    try bench.printed { try benchmark.run() }
  }

  public func run() throws { print(try printed(), terminator: "") }
}
