import AttractorCore
import AttractorLinearAlgebra

/// The context-aware dense-associative-memory energy of in-context denoising (Smart, Bietti &
/// Sengupta, arXiv:2502.05164): the memories are one prompt's context tokens x₁ … x_L.
///
/// ```
/// E(s)  = ‖s‖²/(2α) − β⁻¹ log Σ_t exp(β x_tᵀ s)
/// ∇E(s) = s/α − Xᵀ p(s),          p(s) = softmax(β X s)   (X is L × n, one token per row)
/// H(s)  = I/α − β Xᵀ(diag p − p pᵀ) X
/// f(s)  = s − α ∇E(s) = α Xᵀ softmax(β X s)     (the update: one gradient step of size α)
/// ```
///
/// One step of ``update(_:into:workspace:)`` from the query s = x̃ is exactly one-layer softmax
/// attention with W_KQ = β I and W_PV = α I (``OneLayerAttention``). Iterating it converges to the
/// energy's fixed points s* = α Xᵀ softmax(β X s*), which the paper shows are worse denoisers than the
/// one step.
///
/// The energy is a rescaled modern Hopfield energy, and is computed by one: with patterns αX and
/// inverse temperature β/α, E = E_MH/α − β⁻¹ log L − M²/(2α) (M the largest norm of αX), ∇E = ∇E_MH/α,
/// H = H_MH/α, and the update is the modern Hopfield update. So energies use its cancellation-free
/// double-precision evaluation, and the update descends E for every α, β > 0: it is the modern
/// Hopfield CCCP step (Ramsauer et al., arXiv:2008.02217), and E is a positive multiple of E_MH plus
/// a constant.
public struct ContextEnergy<Scalar: LinearAlgebraScalar>: TwiceDifferentiableEnergy, EnergyDescending,
  LinearizableUpdateRule, AssociativeMemory
{
  /// The context tokens X (L × n): the memories.
  public let patterns: Matrix<Scalar>
  /// α: the weight of the quadratic term and the step size of the update.
  public let alpha: Scalar
  /// β: the inverse temperature of the log-sum-exp.
  public let beta: Scalar
  /// The modern Hopfield network with patterns αX and inverse temperature β/α that computes everything.
  public let hopfield: ModernHopfield<Scalar>
  let energyShift: Double

  /// The energy of the context `context` (L × n, L ≥ 1, finite) with α, β > 0.
  public init(context: Matrix<Scalar>, alpha: Scalar, beta: Scalar) throws(ModelError) {
    try ModelError.validatePatterns(context)
    try ModelError.check(alpha.isFinite && alpha > 0, "alpha", alpha, "finite and positive")
    try ModelError.check(beta.isFinite && beta > 0, "beta", beta, "finite and positive")
    patterns = context
    self.alpha = alpha
    self.beta = beta
    hopfield = try ModernHopfield(patterns: alpha * context, beta: beta / alpha)
    let m = Double(hopfield.maxPatternNorm)
    energyShift = -Double.log(Double(context.rows)) / Double(beta) - m * m / (2 * Double(alpha))
  }

  /// The dimension n of a state.
  public var dimension: Int { patterns.columns }

  /// The modern Hopfield workspace.
  public typealias Workspace = ModernHopfield<Scalar>.Workspace

  public func makeWorkspace(batchSize: Int) -> Workspace { hopfield.makeWorkspace(batchSize: batchSize) }

  public func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    hopfield.energy(states, into: &energies, workspace: &workspace)
    let a = Double(alpha)
    for r in 0..<states.rows { energies[r] = Scalar(Double(energies[r]) / a + energyShift) }
  }

  public func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace) {
    hopfield.gradient(states, into: &gradient, workspace: &workspace)
    let inv = 1 / alpha
    gradient.withUnsafeMutableBufferPointer { g in for k in g.indices { g[k] *= inv } }
  }

  /// s ← s − α∇E(s) = α Xᵀ softmax(β X s) for every row.
  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    hopfield.update(states, into: &next, workspace: &workspace)
  }

  public func hessian(at state: [Scalar]) -> Matrix<Scalar> {
    var h = hopfield.hessian(at: state)
    let inv = 1 / alpha
    h.withUnsafeMutableBufferPointer { p in for k in p.indices { p[k] *= inv } }
    return h
  }

  /// ∂f/∂s = α β Xᵀ(diag p − p pᵀ) X.
  public func jacobian(at state: [Scalar]) -> Matrix<Scalar> { hopfield.jacobian(at: state) }

  /// The attention weights softmax(β X s) over the context tokens, one row per state.
  public func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar> { hopfield.separation(states) }
}
