import AttractorCore
import AttractorLinearAlgebra
import PropertyBased
import Testing

@testable import AttractorModels

/// Laws as properties (issue 16): every model with an energy never increases it under its own
/// update, on generated patterns and states (small N, d).
///
/// Cases are seeded by the property checker (a failure prints the `.fixedSeed` that reproduces it)
/// and shrink to a small failing input. Each check uses 1,000 cases. Tolerances are relative to
/// the energy's scale and stated per law. Measured: with no tolerance at all the binary models
/// never rose, while ModernHopfield<Double> rose by rounding (about 2e-15 of its scale); the Float
/// network stayed within 1e-7 of its scale.
@Suite("Energy descent: properties")
struct EnergyDescentPropertyTests {
  // MARK: Modern Hopfield (synchronous and coordinate-wise updates)

  /// Patterns (N ∈ 1…4, d ∈ 1…4, entries in [−2, 2]), β ∈ [0.05, 8], a state with entries in
  /// [−3, 3] and a coordinate order of 12 updates.
  static let modernInputs = zip(
    Gen.int(in: 1...4), Gen.int(in: 1...4), Gen.double(in: -2...2).array(of: 16), Gen.double(in: 0.05...8),
    Gen.double(in: -3...3).array(of: 4), Gen.int(in: 0...3).array(of: 12))

  /// Scale of the modern energy at ξ: 1 + ½‖ξ‖² + M‖ξ‖ + ½M² + β⁻¹ log N (each of its terms is
  /// bounded by it).
  static func modernScale(_ model: ModernHopfield<Double>, _ state: [Double]) -> Double {
    let norm = state.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let m = Double(model.maxPatternNorm)
    return 1 + 0.5 * norm * norm + m * norm + 0.5 * m * m + Double.log(Double(model.patternCount)) / model.beta
  }

  static func modern<S: LinearAlgebraScalar>(
    _ n: Int, _ d: Int, _ x: [Double], _ beta: Double, as: S.Type
  ) throws -> ModernHopfield<S> {
    let patterns = Matrix<S>(rows: n, columns: d, elements: x.prefix(n * d).map { S($0) })
    return try ModernHopfield(patterns: patterns, beta: S(beta))
  }

  @Test("ModernHopfield<Double>: E(f(ξ)) ≤ E(ξ) + 1e-12·scale, and along coordinate updates (1,000 cases)", .shrinking)
  func modernDouble() async throws {
    await propertyCheck(count: 1000, input: Self.modernInputs) { n, d, x, beta, s, order in
      let model = try Self.modern(n, d, x, beta, as: Double.self)
      let state = Array(s.prefix(d))
      let tolerance = 1e-12 * Self.modernScale(model, state)
      let before = model.energy(at: state)
      let after = model.energy(at: model.update(at: state))
      #expect(after <= before + tolerance, "synchronous: E rose from \(before) to \(after)")
      for failure in coordinateDescentFailures(model, from: state, order: order.map { $0 % d }, tolerance: tolerance) {
        Issue.record("coordinate-wise: \(failure)")
      }
    }
  }

  @Test("ModernHopfield<Float>: E(f(ξ)) ≤ E(ξ) + 1e-6·scale, and along coordinate updates (1,000 cases)", .shrinking)
  func modernFloat() async throws {
    await propertyCheck(count: 1000, input: Self.modernInputs) { n, d, x, beta, s, order in
      let model = try Self.modern(n, d, x, beta, as: Float.self)
      let reference = try Self.modern(n, d, x, beta, as: Double.self)
      let state = Array(s.prefix(d)).map { Float($0) }
      let tolerance = Float(1e-6 * Self.modernScale(reference, state.map { Double($0) }))
      let before = model.energy(at: state)
      let after = model.energy(at: model.update(at: state))
      #expect(after <= before + tolerance, "synchronous: E rose from \(before) to \(after)")
      for failure in coordinateDescentFailures(model, from: state, order: order.map { $0 % d }, tolerance: tolerance) {
        Issue.record("coordinate-wise: \(failure)")
      }
    }
  }

  // MARK: Binary models (asynchronous coordinate updates)

  /// ±1 patterns (K ∈ 1…4, N ∈ 1…8), a ±1 state and a coordinate order of 24 updates.
  static let binaryInputs = zip(
    Gen.int(in: 1...4), Gen.int(in: 1...8), Gen.bool.array(of: 32), Gen.bool.array(of: 8),
    Gen.int(in: 0...7).array(of: 24))

  static func signs<S: LinearAlgebraScalar>(_ bits: [Bool], as: S.Type = S.self) -> [S] { bits.map { $0 ? 1 : -1 } }

  @Test(
    "ClassicalHopfield: no coordinate update raises E = −½xᵀWx (tolerance 1e-12·(1 + Σ|Wᵢⱼ|)) (1,000 cases)",
    .shrinking)
  func classical() async throws {
    await propertyCheck(count: 1000, input: Self.binaryInputs) { k, n, p, s, order in
      let patterns = Matrix<Double>(rows: k, columns: n, elements: Self.signs(Array(p.prefix(k * n))))
      let model = try ClassicalHopfield(patterns: patterns)
      let scale = 1 + model.weights.elements.reduce(0) { $0 + abs($1) }
      for failure in coordinateDescentFailures(
        model, from: Self.signs(Array(s.prefix(n))), order: order.map { $0 % n }, tolerance: 1e-12 * scale)
      {
        Issue.record("\(failure)")
      }
    }
  }

  /// Coordinate-wise descent of a dense associative memory with the given interaction; the
  /// tolerance is 1e-12 · (1 + |E|) at each step.
  static func denseDescends<F: InteractionFunction>(
    _ interaction: F, _ k: Int, _ n: Int, _ p: [Bool], _ s: [Bool], _ order: [Int]
  ) throws {
    let patterns = Matrix<Double>(rows: k, columns: n, elements: signs(Array(p.prefix(k * n))))
    let model = try DenseAssociativeMemory(patterns: patterns, interaction: interaction)
    let state: [Double] = signs(Array(s.prefix(n)))
    let scale = 1 + abs(model.energy(at: state))
    for failure in coordinateDescentFailures(model, from: state, order: order.map { $0 % n }, tolerance: 1e-12 * scale)
    {
      Issue.record("\(interaction): \(failure)")
    }
  }

  @Test("DenseAssociativeMemory, F(x) = xⁿ (n ∈ 2…5): no coordinate update raises E (1,000 cases)", .shrinking)
  func densePolynomial() async throws {
    await propertyCheck(count: 1000, input: Self.binaryInputs, Gen.int(in: 2...5)) { inputs, degree in
      let (k, n, p, s, order) = inputs
      try Self.denseDescends(try Polynomial(degree: degree), k, n, p, s, order)
    }
  }

  @Test("DenseAssociativeMemory, F(x) = max(x, 0)ⁿ (n ∈ 2…5): no coordinate update raises E (1,000 cases)", .shrinking)
  func denseRectified() async throws {
    await propertyCheck(count: 1000, input: Self.binaryInputs, Gen.int(in: 2...5)) { inputs, degree in
      let (k, n, p, s, order) = inputs
      try Self.denseDescends(try RectifiedPolynomial(degree: degree), k, n, p, s, order)
    }
  }

  @Test(
    "DenseAssociativeMemory, F(x) = exp(βx) (β ∈ [0.05, 4]): no coordinate update raises the reported energy (1,000 cases)",
    .shrinking)
  func denseExponential() async throws {
    await propertyCheck(count: 1000, input: Self.binaryInputs, Gen.double(in: 0.05...4)) { inputs, beta in
      let (k, n, p, s, order) = inputs
      try Self.denseDescends(try Exponential(beta: beta), k, n, p, s, order)
    }
  }
}

/// Applies the coordinate updates of `order` one at a time (one `prepareCoordinateUpdates` first,
/// as a sweep does) and describes every update after which E rose by more than `tolerance`.
func coordinateDescentFailures<Rule: CoordinateUpdatable & EnergyFunction>(
  _ rule: Rule, from start: [Rule.Scalar], order: [Int], tolerance: Rule.Scalar
) -> [String] {
  var state = Matrix(rows: 1, columns: start.count, elements: start)
  var workspace = rule.makeWorkspace(batchSize: 1)
  rule.prepareCoordinateUpdates(of: state, workspace: &workspace)
  var energy = rule.energy(at: state.elements)
  var failures: [String] = []
  for (step, i) in order.enumerated() {
    rule.updateCoordinate(i, of: &state, workspace: &workspace)
    let next = rule.energy(at: state.elements)
    if next > energy + tolerance { failures.append("update \(step) (unit \(i)): E rose from \(energy) to \(next)") }
    energy = next
  }
  return failures
}
