import AttractorLinearAlgebra

/// A scalar energy over states, evaluated on a batch (one state per row), with its gradient.
///
/// ```
/// E : ℝᵈ → ℝ,   energy(X)ᵣ = E(xᵣ),   gradient(X)ᵣ = ∇E(xᵣ)
/// ```
///
/// Conform to this protocol to define a new energy model; ``GradientDescent`` then turns it into an
/// ``UpdateRule`` that is ``EnergyDescending``, and any ``Dynamics`` runs it, with energies recorded
/// along the way.
///
/// `Scalar`, `Workspace`, `dimension` and ``BatchedStateModel/makeWorkspace(batchSize:)`` come from
/// ``BatchedStateModel`` (simple energies leave `Workspace` as `Void`). An energy is only a function:
/// the rules whose dynamics descend it say so by conforming to ``EnergyDescending``.
public protocol EnergyFunction<Scalar>: BatchedStateModel {
  /// `Float` or `Double` (restated so that a conforming type's `Scalar` is inferred from these
  /// requirements).
  associatedtype Scalar
  /// Writes E(xᵣ) for each row r of `states` into `energies` (`energies.count == states.rows`).
  func energy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace)

  /// Writes ∇E(xᵣ) for each row of `states` into the same-shaped `gradient`.
  func gradient(_ states: Matrix<Scalar>, into gradient: inout Matrix<Scalar>, workspace: inout Workspace)
}

/// An energy whose Hessian is available in closed form (used by fixed-point analysis).
///
/// ```
/// H(x)ᵢⱼ = ∂²E / ∂xᵢ∂xⱼ   (symmetric d × d)
/// ```
///
/// Eigenvalues of H at a fixed point tell a minimum (all positive), a saddle (some negative; their
/// count is the index) and flat directions (zero). Energies without a closed form can use
/// ``FiniteDifferences/hessian(of:at:step:)`` instead, which is slower and less accurate.
public protocol TwiceDifferentiableEnergy<Scalar>: EnergyFunction {
  /// The Hessian at one state.
  func hessian(at state: [Scalar]) -> Matrix<Scalar>
}

// MARK: - Default implementations

extension EnergyFunction {
  /// E(xᵣ) for each row, in a new array (allocates; loops use ``energy(_:into:workspace:)``).
  public func energy(_ states: Matrix<Scalar>) -> [Scalar] {
    var workspace = makeWorkspace(batchSize: states.rows)
    var energies = [Scalar](repeating: 0, count: states.rows)
    energy(states, into: &energies, workspace: &workspace)
    return energies
  }

  /// E(x) for one state.
  public func energy(at state: [Scalar]) -> Scalar {
    energy(Matrix(rows: 1, columns: state.count, elements: state))[0]
  }

  /// ∇E(xᵣ) for each row, in a new matrix (allocates).
  public func gradient(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var workspace = makeWorkspace(batchSize: states.rows)
    var g = Matrix<Scalar>(rows: states.rows, columns: states.columns)
    gradient(states, into: &g, workspace: &workspace)
    return g
  }
}
