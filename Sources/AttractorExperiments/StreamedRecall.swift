import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// Synchronous recall over a memory streamed from a memory-mapped file
/// (``/AttractorModels/StreamedModernHopfield``), recorded as ``RecallExperiment`` records it.
///
/// The metrics of each step are those of ``RecallExperiment`` with the synchronous schedule and
/// ``RecallExperiment/freezesConvergedStates`` set: accuracy against the targets (nearest pattern
/// by cosine), mean energy, mean step size and converged fraction for t = 0 … T; a converged state
/// stops moving; once all have converged the remaining steps repeat the last record. Each step is
/// one pass over the file, which yields the update and the energy and nearest pattern of the states
/// it starts from, so T steps take T + 1 passes. Results agree with the in-memory run to rounding
/// (the update is the same blocked kernel; energies accumulate the partition sum in `Scalar`).
public struct StreamedRecall: Sendable, Equatable {
  /// Steps T (≥ 0).
  public var steps: Int
  /// A step of size ≤ tolerance has converged (finite, ≥ 0).
  public var tolerance: Double

  public init(steps: Int, tolerance: Double) {
    self.steps = steps
    self.tolerance = tolerance
  }

  /// Runs the network from each row of `queries` (B × d, finite) for ``steps`` steps.
  ///
  /// - Throws: ``RecallError`` for invalid parameters, shapes, targets or non-finite queries, and
  ///   when a state becomes NaN or infinite.
  public func run<Scalar: LinearAlgebraScalar>(
    _ model: StreamedModernHopfield<Scalar>, queries: Matrix<Scalar>, targets: [Int]?
  ) throws(RecallError) -> RecallRun<Scalar> {
    try RecallError.check(steps >= 0, "steps", steps, "at least 0")
    try RecallError.check(tolerance.isFinite && tolerance >= 0, "tolerance", tolerance, "finite and at least 0")
    let b = queries.rows
    let d = queries.columns
    let n = model.patternCount
    guard d == model.dimension else { throw .dimensionMismatch(what: "queries", columns: d, expected: model.dimension) }
    guard b >= 1 else { throw .noQueries }
    if let targets {
      guard targets.count == b else { throw .targetCountMismatch(targets: targets.count, queries: b) }
      try RecallError.checkTargets(targets, patternCount: n)
    }
    for r in 0..<b {
      for j in 0..<d where !queries[r, j].isFinite { throw .nonFiniteQuery(row: r) }
    }
    var current = queries
    var next = Matrix<Scalar>(rows: b, columns: d)
    var measures = StreamedModernHopfield<Scalar>.Measures(count: b)
    var workspace = model.makeWorkspace(batchSize: b)
    var converged = [Bool](repeating: false, count: b)
    var stepsToConverge = [Int?](repeating: nil, count: b)
    var convergedCount = 0
    var metrics: [RecallStepMetrics] = []
    var sizes = [Double](repeating: 0, count: b)

    func record(step: Int, withSizes: Bool) {
      let accuracy = targets.map { t in Double((0..<b).filter { measures.nearest[$0] == t[$0] }.count) / Double(b) }
      metrics.append(
        RecallStepMetrics(
          step: step, accuracy: accuracy, meanEnergy: measures.energies.reduce(0, +) / Double(b),
          meanStepSize: withSizes ? sizes.reduce(0, +) / Double(b) : nil,
          convergedFraction: Double(convergedCount) / Double(b)))
    }

    model.step(current, into: &next, measures: &measures, workspace: &workspace)
    record(step: 0, withSizes: false)
    var t = 0
    while convergedCount < b && t < steps {
      t += 1
      for r in 0..<b {
        if converged[r] {
          for j in 0..<d { next[r, j] = current[r, j] }
          sizes[r] = 0
          continue
        }
        var squared = 0.0
        for j in 0..<d {
          let delta = Double(next[r, j]) - Double(current[r, j])
          squared += delta * delta
        }
        let size = squared.squareRoot()
        guard size.isFinite else { throw .dynamics(.nonFiniteState(row: r, step: t)) }
        sizes[r] = size
        if size <= tolerance {
          converged[r] = true
          stepsToConverge[r] = t
          convergedCount += 1
        }
      }
      swap(&current, &next)
      model.step(current, into: &next, measures: &measures, workspace: &workspace)
      record(step: t, withSizes: true)
    }
    if t < steps, let last = metrics.last {
      for s in (t + 1)...steps {
        var repeated = last
        repeated.step = s
        repeated.meanStepSize = 0
        metrics.append(repeated)
      }
    }
    let result = RecallResult(
      queryCount: b, patternCount: n, dimension: d, steps: metrics, stepsToConverge: stepsToConverge,
      finalNearestPatterns: measures.nearest.map { $0 >= 0 ? $0 : nil }, targets: targets)
    return RecallRun(result: result, finalStates: current)
  }
}
