import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// The memory models a recall run can iterate (names as `attractor compare list-models` prints them).
public enum RecallModel: String, CaseIterable, Codable, Sendable {
  /// ``/AttractorModels/ModernHopfield``: f(ξ) = Xᵀ softmax(β X ξ).
  case modern
  /// ``/AttractorModels/ClassicalHopfield``: ±1 states, Hebbian weights, sign updates.
  case classical
  /// A trained ``/AttractorModels/IterativeAttention`` stack read from a model folder.
  case iterativeAttention = "iterative-attention"

  /// The name used in table headers ("modern Hopfield").
  public var displayName: String {
    switch self {
    case .modern: "modern Hopfield"
    case .classical: "classical Hopfield"
    case .iterativeAttention: "iterative attention"
    }
  }
}

/// Floating-point precision of a run: `Float` or `Double`.
public enum Precision: String, CaseIterable, Codable, Sendable {
  case float, double
}

extension Corruption.Kind {
  /// The level used when none is given: σ = 0.1 (noise), fraction 0.3 (mask) and 0.1 (flip),
  /// α = 0.7 (overlap).
  public var defaultLevel: Double {
    switch self {
    case .noise: 0.1
    case .mask: 0.3
    case .overlap: 0.7
    case .flip: 0.1
    case .none: 0
    }
  }
}

/// The machine-readable record of one recall run (`attractor recall --json`): the configuration,
/// the metrics of every step t = 0 … T and the convergence summary. Keys with no value (accuracy
/// without targets, energy of a rule without one, the step size at t = 0) are omitted.
public struct RecallReport: Codable, Sendable, Equatable {
  /// What was run: model, patterns, queries and the experiment.
  public struct Configuration: Codable, Sendable, Equatable {
    /// The stored patterns.
    public struct Patterns: Codable, Sendable, Equatable {
      /// The .npy file (or model folder), or `nil` for random patterns.
      public var file: String?
      public var count: Int
      public var dimension: Int
      /// Whether the patterns are random N(0, 1/d) vectors (their signs with the classical model).
      public var generated: Bool
      /// Whether the patterns were turned into ±1 for the classical model.
      public var binarized: Bool
    }

    /// The queries.
    public struct Queries: Codable, Sendable, Equatable {
      public var file: String?
      public var targetsFile: String?
      public var count: Int
      /// The corruption of generated queries; `nil` for queries from a file.
      public var corruption: Corruption?
      /// Whether the queries were binarised for the classical model.
      public var binarized: Bool
    }

    public var model: RecallModel
    /// β of the modern network; `nil` for the other models.
    public var beta: Double?
    public var precision: Precision
    public var seed: UInt64
    public var blasThreads: Int
    public var patterns: Patterns
    public var queries: Queries
    public var experiment: RecallExperiment
  }

  /// Version of the tool that produced the report.
  public var version: String
  public var configuration: Configuration
  /// Metrics for t = 0 … T.
  public var steps: [RecallStepMetrics]
  public var finalAccuracy: Double?
  public var convergedFraction: Double
  public var convergedCount: Int
  /// Mean ± standard error of the steps to converge, over the queries that converged.
  public var stepsToConverge: MeanAndStandardError?
  /// Where the final states were written.
  public var output: String?
  public var notes: [String]
}

/// What a recall run prints: its ``RecallReport`` as a table or as JSON, and its notes.
public struct RecallOutput: Sendable {
  /// Everything measured, with the configuration.
  public let report: RecallReport
  /// Notes and warnings (a command prints them to standard error).
  public let notes: [String]
  /// Shape of the final states (B × d).
  public let finalStateShape: (rows: Int, columns: Int)

  public init(report: RecallReport, notes: [String], finalStateShape: (rows: Int, columns: Int)) {
    self.report = report
    self.notes = notes
    self.finalStateShape = finalStateShape
  }

  /// The report as JSON (``/AttractorCore/JSONCoding``: sorted keys, non-finite numbers as "NaN"/"Infinity").
  public func jsonText() throws -> String {
    try JSONCoding.string(report)
  }

  /// The header, the per-step table (accuracy, mean energy, mean step size, converged fraction)
  /// and the summary.
  public var table: String {
    typealias F = NumberFormat
    let c = report.configuration
    var lines: [String] = []
    var head = "# \(c.model.displayName)"
    head +=
      c.patterns.generated
      ? "  N = \(c.patterns.count) random \(c.model == .classical ? "±1 (signs of N(0, 1/d))" : "N(0, 1/d)") patterns"
      : "  N = \(c.patterns.count) patterns from \(c.patterns.file ?? "?")"
    head += "  d = \(c.patterns.dimension)"
    if let beta = c.beta { head += "  β = \(F.compact(beta))" }
    lines.append(head)
    var queriesLine = "# queries B = \(c.queries.count)"
    if let corruption = c.queries.corruption {
      queriesLine += " from random targets, corruption: \(corruption)"
    } else {
      queriesLine +=
        " from \(c.queries.file ?? "?")" + (c.queries.targetsFile.map { ", targets \($0)" } ?? ", no targets")
    }
    queriesLine += "  seed \(c.seed)"
    lines.append(queriesLine)
    let schedule = if case .asynchronous = c.experiment.schedule { "asynchronous" } else { "synchronous" }
    lines.append(
      "# \(schedule)  T = \(c.experiment.steps)  ε = \(c.experiment.tolerance)  precision \(c.precision.rawValue)  BLAS threads \(c.blasThreads)"
    )
    lines.append("")
    lines.append("step  accuracy   mean energy  mean step size  converged")
    for s in report.steps {
      lines.append(
        F.pad("\(s.step)", 4) + F.fixed(s.accuracy, decimals: 4, width: 10)
          + F.general(s.meanEnergy, significant: 7, width: 14) + F.scientific(s.meanStepSize, decimals: 3, width: 16)
          + F.fixed(s.convergedFraction, decimals: 4, width: 11))
    }
    lines.append("")
    var summary = ""
    if let accuracy = report.finalAccuracy { summary += "final accuracy \(F.fixed(accuracy, decimals: 4)); " }
    summary += "converged \(report.convergedCount)/\(c.queries.count)"
    if let s = report.stepsToConverge {
      summary += ", steps to converge \(F.fixed(s.mean, decimals: 2))"
      if let se = s.standardError { summary += " ± \(F.fixed(se, decimals: 2)) (mean ± SE over converged queries)" }
    }
    lines.append(summary)
    if let path = report.output {
      lines.append(
        "final states (\(finalStateShape.rows) × \(finalStateShape.columns), \(c.precision == .float ? "float32" : "float64")) written to \(path)"
      )
    }
    return lines.joined(separator: "\n")
  }
}
