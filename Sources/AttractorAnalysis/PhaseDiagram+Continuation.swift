import AttractorCore
import AttractorLinearAlgebra
import Foundation

/// How the global fixed point stops being a stable attractor.
public enum TransitionKind: String, Codable, Sendable, Equatable, CaseIterable {
  /// A saddle-node: the branch meets a saddle and both vanish; ρ(J) → 1 like c·√(β* − β) just
  /// below, and above β* no fixed point is left near the branch.
  case fold
  /// An eigenvalue of J crosses 1 while the point goes on existing: above β* it is still a fixed
  /// point, now with ρ(J) > 1 (a saddle), as at the origin between two antipodal patterns.
  case eigenvalueCrossing
}

/// Natural-parameter continuation of the global fixed point in β: the point at β is found by
/// Newton's method from the point at a nearby smaller β, with a residual test (‖f(x) − x‖ ≤ tol),
/// never a step-size test, so slow dynamics near a fold cannot stop it short.
///
/// ```
/// Newton:  x ← x + (I − J(x))⁻¹ (f(x) − x)   until ‖f(x) − x‖ ≤ tol      (at most 60 steps)
/// step:    β → β·e^h; on failure h ← h/2, on success h ← 2h (at most to the target)
/// end:     h below the resolution, the last β reached is the end of the branch
/// ```
///
/// Near a saddle-node the two fixed points that collide are a distance ~√(β* − β) apart and Newton
/// converges (linearly at the fold itself); above β* no nearby fixed point exists and Newton fails,
/// so the bracket [last β with a point, first β without] holds β*.
struct BranchFollower<Model: AnalyzableRule> {
  typealias Scalar = Model.Scalar
  /// Residual tolerance ‖f(x) − x‖.
  var tolerance: Double
  /// Largest distance one Newton solve may move the state (keeps it on the branch).
  var maxMove: Double
  /// Derivative options for J.
  var linearization: LinearizationOptions
  /// Newton steps per solve.
  var maxSteps = 60

  /// Newton's method for f(x) = x from `start`; the point when the residual test passes.
  func solve(_ model: Model, from start: [Scalar]) -> [Scalar]? {
    let d = start.count
    var x = start
    for _ in 0...maxSteps {
      let fx = model.update(at: x)
      guard fx.allSatisfy({ $0.isFinite }) else { return nil }
      if Kernels.distance(fx, x) <= tolerance { return x }
      let j = model.linearization(at: Matrix(rows: 1, columns: d, elements: x), options: linearization).jacobians
      var a = [Double](repeating: 0, count: d * d)
      for p in 0..<(d * d) { a[p] = -Double(j.elements[p]) }
      for i in 0..<d { a[i * d + i] += 1 }
      var b = (0..<d).map { Double(fx[$0]) - Double(x[$0]) }
      guard LinearSolve.solve(&a, &b, n: d) else { return nil }
      let next = (0..<d).map { x[$0] + Scalar(b[$0]) }
      guard next.allSatisfy({ $0.isFinite }), Kernels.distance(next, start) <= maxMove else { return nil }
      x = next
    }
    return nil
  }

  /// Follows the branch from (`beta`, `x`) up to `target` in steps of at most `maxLogStep` in log β;
  /// stops early when a step below `resolution` (in log β) fails. Returns the last β reached, its
  /// point, and the smallest β tried without success (`nil` when `target` was reached).
  func follow(
    from beta: Double, _ x: [Scalar], to target: Double, resolution: Double,
    build: (Double) throws(AnalysisError) -> Model
  ) throws(AnalysisError) -> (beta: Double, x: [Scalar], failedAt: Double?) {
    var b = beta
    var point = x
    var h = Foundation.log(target / beta)
    var failed: Double? = nil
    while b < target {
      let next = min(target, b * Foundation.exp(h))
      if let y = solve(try build(next), from: point) {
        b = next
        point = y
        failed = nil
        h *= 2
      } else {
        failed = next
        h = Foundation.log(next / b) / 2
        if h < resolution { return (b, point, failed) }
      }
    }
    return (b, point, nil)
  }
}

extension PhaseDiagram {
  /// Classifies a branch point as a probe.
  static func probe<Model: AnalyzableRule & AssociativeMemory>(
    _ model: Model, at x: [Model.Scalar], analyzer: FixedPointAnalyzer
  ) throws(AnalysisError) -> GlobalFixedPointProbe {
    let c = try analyzer.classifier.classify(model, at: Matrix(rows: 1, columns: x.count, elements: x))[0]
    let residual = Kernels.distance(model.update(at: x), x)
    return GlobalFixedPointProbe(
      found: true, residual: residual, regime: c.regime, k: c.evidence?.k, spectralRadius: c.jacobian.spectralRadius,
      hessianSmallest: c.hessian?.smallest, isStableGlobal: c.regime == .globalAverage && c.isStable, onBranch: true)
  }
}
