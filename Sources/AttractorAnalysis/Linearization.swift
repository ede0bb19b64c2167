import AttractorCore
import AttractorLinearAlgebra
import AttractorModels

/// A rule fixed-point analysis can linearize: where its Jacobians, and the Hessians of the energy
/// it descends, come from.
///
/// ```
/// J(x) = ∂f/∂x   from ``/AttractorCore/BatchLinearizable`` › ``/AttractorCore/LinearizableUpdateRule`` › finite differences
/// H(x) = ∇²E(x)  for ``/AttractorCore/EnergyDescending`` rules, of their descended energy:
///                 ``/AttractorCore/BatchLinearizable`` › ``/AttractorCore/TwiceDifferentiableEnergy`` › finite differences
/// ```
///
/// Conform with an empty extension (`extension MyRule: AnalyzableRule {}`): every requirement has a
/// default, and the compiler picks, when the conformance is declared, the most specific default
/// the type's capabilities allow (a rule that is not ``/AttractorCore/EnergyDescending`` gets no
/// Hessian). A generic type gets the defaults its generic constraints allow at the conformance
/// (``/AttractorCore/GradientDescent`` takes its energy's Hessian by finite differences, since its
/// `Energy` is any ``/AttractorCore/EnergyFunction`` there). ``LinearizationOptions/forceFiniteDifferences``
/// overrides every closed form. The built-in models and ``/AttractorCore/GradientDescent`` conform.
public protocol AnalyzableRule: UpdateRule {
  /// The Jacobian at every row of `states` as a `K × d²` stack, and where it came from.
  func jacobianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource)
  /// The Hessian of the descended energy at every row as a `K × d²` stack, or `nil` when the rule
  /// descends no energy.
  func hessianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource)?
  /// Both, from the best source (a ``/AttractorCore/BatchLinearizable`` rule computes them together).
  func linearization(at states: Matrix<Scalar>, options: LinearizationOptions) -> Linearization<Scalar>
}

extension AnalyzableRule {
  /// Central finite differences of the update.
  public func jacobianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource) {
    let h = Scalar(options.step(Scalar.self))
    return (perRow(states) { FiniteDifferences.jacobian(of: self, at: $0, step: h) }, .finiteDifferences)
  }

  /// None: the rule descends no energy.
  public func hessianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource)? { nil }

  /// ``jacobianStack(at:options:)`` and ``hessianStack(at:options:)``.
  public func linearization(at states: Matrix<Scalar>, options: LinearizationOptions) -> Linearization<Scalar> {
    let j = jacobianStack(at: states, options: options)
    let h = hessianStack(at: states, options: options)
    return Linearization(jacobians: j.stack, jacobianSource: j.source, hessians: h?.stack, hessianSource: h?.source)
  }

  /// `K × d²`: row k holds `block(row k of states)` row-major.
  func perRow(_ states: Matrix<Scalar>, _ block: ([Scalar]) -> Matrix<Scalar>) -> Matrix<Scalar> {
    let d = dimension
    var stack = Matrix<Scalar>(rows: states.rows, columns: d * d)
    for r in 0..<states.rows { stack.setRow(r, to: block(states.row(r)).elements) }
    return stack
  }
}

extension AnalyzableRule where Self: LinearizableUpdateRule {
  /// ``/AttractorCore/LinearizableUpdateRule/jacobian(at:)`` (finite differences when forced).
  public func jacobianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource) {
    let h = Scalar(options.step(Scalar.self))
    if options.forceFiniteDifferences {
      return (perRow(states) { FiniteDifferences.jacobian(of: self, at: $0, step: h) }, .finiteDifferences)
    }
    return (perRow(states) { jacobian(at: $0) }, .analytic)
  }
}

extension AnalyzableRule where Self: EnergyDescending {
  /// Finite differences of the descended energy's gradient.
  public func hessianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource)? {
    let h = Scalar(options.step(Scalar.self))
    let energy = descendedEnergy
    return (perRow(states) { FiniteDifferences.hessian(of: energy, at: $0, step: h) }, .finiteDifferences)
  }
}

extension AnalyzableRule where Self: EnergyDescending, DescendedEnergy: TwiceDifferentiableEnergy {
  /// The descended energy's ``/AttractorCore/TwiceDifferentiableEnergy/hessian(at:)`` (finite
  /// differences when forced).
  public func hessianStack(
    at states: Matrix<Scalar>, options: LinearizationOptions
  ) -> (stack: Matrix<Scalar>, source: DerivativeSource)? {
    let h = Scalar(options.step(Scalar.self))
    let energy = descendedEnergy
    if options.forceFiniteDifferences {
      return (perRow(states) { FiniteDifferences.hessian(of: energy, at: $0, step: h) }, .finiteDifferences)
    }
    return (perRow(states) { energy.hessian(at: $0) }, .analytic)
  }
}

extension AnalyzableRule where Self: BatchLinearizable {
  /// ``/AttractorCore/BatchLinearizable/linearizationStacks(at:)`` (the per-state forms when
  /// forced to finite differences).
  public func linearization(at states: Matrix<Scalar>, options: LinearizationOptions) -> Linearization<Scalar> {
    if options.forceFiniteDifferences {
      let j = jacobianStack(at: states, options: options)
      let h = hessianStack(at: states, options: options)
      return Linearization(jacobians: j.stack, jacobianSource: j.source, hessians: h?.stack, hessianSource: h?.source)
    }
    let s = linearizationStacks(at: states)
    return Linearization(
      jacobians: s.jacobians, jacobianSource: .analytic, hessians: s.hessians,
      hessianSource: s.hessians == nil ? nil : .analytic)
  }
}

extension GradientDescent: AnalyzableRule {}
extension ClassicalHopfield: AnalyzableRule {}
extension DenseAssociativeMemory: AnalyzableRule {}
extension IterativeAttention: AnalyzableRule {}
/// Finite-difference Jacobians, general (`?geev`) spectra; no Hessian (the model descends no energy).
extension PseudoLikelihoodAttractor: AnalyzableRule {}

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

/// The linearisation of a rule at a batch of states: `K × d²` stacks, row k the row-major d × d
/// block at state k.
///
/// A rule whose descended energy has Hessian H = I − J (the modern Hopfield network:
/// E(ξ) = −β⁻¹ lse(β X ξ) + ½ ξᵀξ + const, ∇E = ξ − f(ξ), so ∇²E = I − ∂f/∂ξ) can say so with
/// ``hessianIsIdentityMinusJacobian`` instead of storing a second stack; ``hessians`` then forms
/// I − J on request, and the classification reads the Hessian's eigenvalues off the Jacobian's
/// (one decomposition instead of two, see ``Classifier``).
public struct Linearization<Scalar: LinearAlgebraScalar>: Sendable {
  /// J(xₖ) per row.
  public var jacobians: Matrix<Scalar>
  public var jacobianSource: DerivativeSource
  /// The Hessian stack when it is stored; `nil` when the rule descends no energy or when
  /// ``hessianIsIdentityMinusJacobian``.
  var storedHessians: Matrix<Scalar>?
  /// H = I − J exactly (same source as the Jacobian), so no Hessian stack is stored.
  public var hessianIsIdentityMinusJacobian: Bool
  public var hessianSource: DerivativeSource?
  /// The pattern weights at the states (``/AttractorCore/AssociativeMemory/separation(_:)``, K × N)
  /// when forming the Jacobians computed them anyway (the modern Hopfield network's pₖ); the
  /// classification then reads its weight evidence from them instead of a second softmax.
  public var separation: Matrix<Scalar>?

  /// H(xₖ) of the descended energy per row; `nil` when the rule descends none. Formed from the
  /// Jacobians (I − J, one new stack) when ``hessianIsIdentityMinusJacobian``.
  public var hessians: Matrix<Scalar>? {
    hessianIsIdentityMinusJacobian ? Kernels.identityMinus(jacobians, dimension: dimension) : storedHessians
  }

  /// d, from the stack width d².
  var dimension: Int { Int(Double(jacobians.columns).squareRoot().rounded()) }

  public init(
    jacobians: Matrix<Scalar>, jacobianSource: DerivativeSource, hessians: Matrix<Scalar>? = nil,
    hessianSource: DerivativeSource? = nil
  ) {
    self.jacobians = jacobians
    self.jacobianSource = jacobianSource
    self.storedHessians = hessians
    self.hessianIsIdentityMinusJacobian = false
    self.hessianSource = hessianSource
  }

  /// Jacobians of a rule whose descended energy has Hessian I − J (no second stack).
  public init(jacobiansWithHessianIdentityMinusJacobian jacobians: Matrix<Scalar>, source: DerivativeSource) {
    self.jacobians = jacobians
    self.jacobianSource = source
    self.storedHessians = nil
    self.hessianIsIdentityMinusJacobian = true
    self.hessianSource = source
  }
}
