import AttractorCore
import AttractorLinearAlgebra

/// A model that computes the Jacobians (and optionally the Hessians) of many states at once.
///
/// ```
/// jacobianStack(X)ₖ = vec(J(xₖ))     (K × d², each row a row-major d × d block)
/// ```
///
/// Analysis prefers this over ``/AttractorCore/LinearizableUpdateRule/jacobian(at:)`` when a model
/// offers it: a batch of Jacobians can be one large BLAS-3 product instead of K small ones. The
/// values must equal the per-state closed forms; the Hessian stack is `nil` when the rule descends
/// no energy with a closed-form Hessian.
public protocol BatchLinearizable<Scalar>: UpdateRule {
  /// The Jacobian of the update at every row of `states` and the Hessian of the energy (or `nil`),
  /// as `K × d²` stacks.
  func linearizationStacks(at states: Matrix<Scalar>) -> (jacobians: Matrix<Scalar>, hessians: Matrix<Scalar>?)
}

/// A rule that descends an energy it can hand out (so analysis can take the energy's Hessian,
/// by finite differences if need be). ``/AttractorCore/GradientDescent`` conforms.
public protocol DescendsEnergy<Scalar>: UpdateRule {
  /// The energy the rule descends.
  var descendedEnergy: any EnergyFunction<Scalar> { get }
}

extension GradientDescent: DescendsEnergy {
  public var descendedEnergy: any EnergyFunction<Energy.Scalar> { energy }
}

/// How analysis obtains derivatives and reads their spectra.
///
/// Every threshold is a parameter; the defaults depend on the precision where noted.
public struct LinearizationOptions: Codable, Sendable, Equatable {
  /// Use finite differences even when the model has closed forms (to check them, or to compare).
  /// Default `false`.
  public var forceFiniteDifferences: Bool
  /// Step h of central differences. Default (`nil`): 1e-5 for Double, 3e-3 for Float.
  public var finiteDifferenceStep: Double?
  /// A Jacobian with ‖J − Jᵀ‖_F ≤ tolerance · ‖J‖_F goes to the symmetric solver. Default (`nil`):
  /// 1e-6 for Double, 1e-3 for Float (finite differences of a symmetric map are symmetric only to
  /// about that).
  public var symmetryTolerance: Double?
  /// Hessian eigenvalues within ±tolerance count as flat, below −tolerance as negative. Default
  /// (`nil`): 1e-6 for Double, 1e-3 for Float.
  public var hessianTolerance: Double?
  /// Keep every eigenvalue in the result (default `true`); `false` keeps only the summaries.
  public var keepsEigenvalues: Bool

  public init(
    forceFiniteDifferences: Bool = false, finiteDifferenceStep: Double? = nil, symmetryTolerance: Double? = nil,
    hessianTolerance: Double? = nil, keepsEigenvalues: Bool = true
  ) {
    self.forceFiniteDifferences = forceFiniteDifferences
    self.finiteDifferenceStep = finiteDifferenceStep
    self.symmetryTolerance = symmetryTolerance
    self.hessianTolerance = hessianTolerance
    self.keepsEigenvalues = keepsEigenvalues
  }

  func step<Scalar: LinearAlgebraScalar>(_: Scalar.Type) -> Double {
    finiteDifferenceStep ?? (Scalar.self == Float.self ? 3e-3 : 1e-5)
  }

  func symmetry<Scalar: LinearAlgebraScalar>(_: Scalar.Type) -> Double {
    symmetryTolerance ?? (Scalar.self == Float.self ? 1e-3 : 1e-6)
  }

  func hessian<Scalar: LinearAlgebraScalar>(_: Scalar.Type) -> Double {
    hessianTolerance ?? (Scalar.self == Float.self ? 1e-3 : 1e-6)
  }

  func validate() throws(AnalysisError) {
    if let h = finiteDifferenceStep {
      try AnalysisError.check(h.isFinite && h > 0, "finiteDifferenceStep", h, "finite and > 0")
    }
    if let t = symmetryTolerance {
      try AnalysisError.check(t.isFinite && t >= 0, "symmetryTolerance", t, "finite and ≥ 0")
    }
    if let t = hessianTolerance {
      try AnalysisError.check(t.isFinite && t >= 0, "hessianTolerance", t, "finite and ≥ 0")
    }
  }
}

/// The linearisation of a rule at a batch of states.
struct LinearizationStacks<Scalar: LinearAlgebraScalar> {
  var jacobians: Matrix<Scalar>
  var jacobianSource: DerivativeSource
  var hessians: Matrix<Scalar>?
  var hessianSource: DerivativeSource?
}

enum Linearize {
  /// Jacobians and Hessians of `rule` at every row of `states`, from the best source available:
  /// a batched closed form, then per-state closed forms, then finite differences.
  static func stacks<Rule: UpdateRule>(
    of rule: Rule, at states: Matrix<Rule.Scalar>, options: LinearizationOptions
  ) -> LinearizationStacks<Rule.Scalar> {
    typealias Scalar = Rule.Scalar
    let d = rule.dimension
    let k = states.rows
    let h = Scalar(options.step(Scalar.self))
    if !options.forceFiniteDifferences, let batched = rule as? any BatchLinearizable<Scalar> {
      let s = batched.linearizationStacks(at: states)
      return LinearizationStacks(
        jacobians: s.jacobians, jacobianSource: .analytic, hessians: s.hessians,
        hessianSource: s.hessians == nil ? nil : .analytic)
    }
    var jacobians = Matrix<Scalar>(rows: k, columns: d * d)
    let jacobianSource: DerivativeSource
    let linearizable = options.forceFiniteDifferences ? nil : rule as? any LinearizableUpdateRule<Scalar>
    for r in 0..<k {
      let x = states.row(r)
      let j = linearizable?.jacobian(at: x) ?? FiniteDifferences.jacobian(of: rule, at: x, step: h)
      jacobians.setRow(r, to: j.elements)
    }
    jacobianSource = linearizable == nil ? .finiteDifferences : .analytic

    // The Hessian of the energy the rule descends: the rule's own, or the one it hands out.
    let energy: (any EnergyFunction<Scalar>)? =
      (rule as? any EnergyFunction<Scalar>) ?? (rule as? any DescendsEnergy<Scalar>)?.descendedEnergy
    guard let energy else { return LinearizationStacks(jacobians: jacobians, jacobianSource: jacobianSource) }
    let twice = options.forceFiniteDifferences ? nil : energy as? any TwiceDifferentiableEnergy<Scalar>
    var hessians = Matrix<Scalar>(rows: k, columns: d * d)
    for r in 0..<k {
      let x = states.row(r)
      let m = twice?.hessian(at: x) ?? finiteDifferenceHessian(energy, at: x, step: h)
      hessians.setRow(r, to: m.elements)
    }
    return LinearizationStacks(
      jacobians: jacobians, jacobianSource: jacobianSource, hessians: hessians,
      hessianSource: twice == nil ? .finiteDifferences : .analytic)
  }

  private static func finiteDifferenceHessian<E: EnergyFunction>(_ energy: E, at x: [E.Scalar], step: E.Scalar) -> Matrix<E.Scalar> {
    FiniteDifferences.hessian(of: energy, at: x, step: step)
  }
}
