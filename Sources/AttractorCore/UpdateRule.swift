import AttractorLinearAlgebra

/// A map from states to next states, applied to a batch (one state per row): one step of a memory's
/// dynamics.
///
/// ```
/// x ← f(x)
/// ```
///
/// `Scalar`, `Workspace`, `dimension` and ``BatchedStateModel/makeWorkspace(batchSize:)`` come from
/// ``BatchedStateModel``. Optional abilities are refining protocols, checked at compile time:
/// ``EnergyDescending`` (the rule names the energy its dynamics descend, so dynamics record it),
/// ``CoordinateUpdatable`` (a coordinate-wise form that makes ``AsynchronousDynamics`` cheap),
/// ``LinearizableUpdateRule`` and ``BatchLinearizable`` (closed-form Jacobians for analysis).
public protocol UpdateRule<Scalar>: BatchedStateModel {
  /// `Float` or `Double` (restated so that a conforming type's `Scalar` is inferred from these
  /// requirements).
  associatedtype Scalar
  /// Writes f(xᵣ) for every row of `states` into the same-shaped `next`. Must not allocate.
  func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace)
}

/// An update rule whose Jacobian is available in closed form (used by fixed-point analysis).
///
/// ```
/// J(x)ᵢⱼ = ∂fᵢ / ∂xⱼ
/// ```
///
/// At a fixed point, a spectral radius below 1 means the point attracts under the synchronous
/// iteration. Rules without a closed form can use ``FiniteDifferences/jacobian(of:at:step:)``.
public protocol LinearizableUpdateRule<Scalar>: UpdateRule {
  /// The Jacobian ∂f/∂x at one state (`d × d`, row i = output coordinate i).
  func jacobian(at state: [Scalar]) -> Matrix<Scalar>
}

/// A model that stores patterns and can say how strongly a state draws on each of them.
///
/// ```
/// separation(X)ᵣμ ≥ 0,   Σ_μ separation(X)ᵣμ = 1
/// ```
///
/// For the modern Hopfield network this is the attention distribution softmax(β X ξ); analysis uses
/// it to tell single-pattern retrievals from metastable mixtures and global averages.
public protocol AssociativeMemory<Scalar>: Sendable {
  associatedtype Scalar: LinearAlgebraScalar
  /// Stored patterns, one per row (`N × d`).
  var patterns: Matrix<Scalar> { get }
  /// Weight of each stored pattern for each state (`states.rows × N`), rows summing to 1.
  func separation(_ states: Matrix<Scalar>) -> Matrix<Scalar>
}

// MARK: - Default implementations

extension UpdateRule {
  /// f(xᵣ) for every row, in a new matrix (allocates; loops use ``update(_:into:workspace:)``).
  public func update(_ states: Matrix<Scalar>) -> Matrix<Scalar> {
    var workspace = makeWorkspace(batchSize: states.rows)
    var next = Matrix<Scalar>(rows: states.rows, columns: states.columns)
    update(states, into: &next, workspace: &workspace)
    return next
  }

  /// f(x) for one state.
  public func update(at state: [Scalar]) -> [Scalar] {
    update(Matrix(rows: 1, columns: state.count, elements: state)).elements
  }
}
