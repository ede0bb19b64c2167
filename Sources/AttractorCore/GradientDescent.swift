import AttractorLinearAlgebra

/// Gradient descent on any ``EnergyFunction``, as an ``UpdateRule``: the dynamics a new energy
/// model gets for free.
///
/// ```
/// x ← x − η ∇E(x)
/// ```
///
/// Mathematical properties: if ∇E is L-Lipschitz and 0 < η ≤ 1/L, then
/// E(x − η∇E(x)) ≤ E(x) − (η/2)‖∇E(x)‖², so the energy never increases and fixed points are the
/// stationary points of E. With a larger step no such guarantee holds; the recorded energies show it.
/// It conforms to ``EnergyDescending`` with `energy` as the descended energy, so dynamics record
/// it per step (the descent holds for η ≤ 1/L).
public struct GradientDescent<Energy: EnergyFunction>: EnergyDescending {
  public typealias Scalar = Energy.Scalar
  public typealias Workspace = Energy.Workspace

  /// The energy descended.
  public let energy: Energy
  /// Step size η > 0.
  public let stepSize: Scalar

  /// - Precondition: `stepSize` is finite and positive.
  public init(_ energy: Energy, stepSize: Scalar) {
    precondition(
      stepSize.isFinite && stepSize > 0, "GradientDescent step size must be finite and positive, got \(stepSize)")
    self.energy = energy
    self.stepSize = stepSize
  }

  public var dimension: Int { energy.dimension }

  public func makeWorkspace(batchSize: Int) -> Workspace { energy.makeWorkspace(batchSize: batchSize) }

  public func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace) {
    energy.gradient(states, into: &next, workspace: &workspace)
    let eta = stepSize
    states.withUnsafeBufferPointer { x in
      next.withUnsafeMutableBufferPointer { n in
        for k in n.indices { n[k] = x[k] - eta * n[k] }
      }
    }
  }

  /// `energy`.
  public var descendedEnergy: Energy { energy }

  /// E(xᵣ) of `energy`.
  public func descendedEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    energy.energy(states, into: &energies, workspace: &workspace)
  }
}
