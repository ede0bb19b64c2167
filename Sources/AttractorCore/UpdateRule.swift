import AttractorLinearAlgebra

/// A map from states to next states, applied to a batch (one state per row): one step of a memory's
/// dynamics.
///
/// ```
/// x ← f(x)
/// ```
///
/// A rule may also say which energy it descends (``descentEnergy(_:into:workspace:)``; automatic
/// for a type that is also an ``EnergyFunction``) so that dynamics record energies per step, and
/// may offer a coordinate-wise form (``updateCoordinate(_:row:of:workspace:)``) that makes
/// asynchronous dynamics cheap. Both have defaults.
public protocol UpdateRule<Scalar>: Sendable {
  /// `Float` or `Double`.
  associatedtype Scalar: LinearAlgebraScalar
  /// Scratch space reused across steps; `Void` when none is needed.
  associatedtype Workspace = Void

  /// Dimension d of a state.
  var dimension: Int { get }

  /// Scratch space for batches of up to `batchSize` states.
  func makeWorkspace(batchSize: Int) -> Workspace

  /// Writes f(xᵣ) for every row of `states` into the same-shaped `next`. Must not allocate.
  func update(_ states: Matrix<Scalar>, into next: inout Matrix<Scalar>, workspace: inout Workspace)

  /// Writes the energy this rule descends for every row into `energies` and returns `true`, or
  /// returns `false` if the rule has no energy. Default: the type's own energy when it is an
  /// ``EnergyFunction``, otherwise `false`.
  func descentEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) -> Bool

  /// Called before a sweep of coordinate updates on `row`, so the rule can cache what
  /// ``updateCoordinate(_:row:of:workspace:)`` needs (fields, logits). Default: nothing.
  func prepareCoordinateUpdates(row: Int, of states: Matrix<Scalar>, workspace: inout Workspace)

  /// Sets coordinate `i` of `row` to its updated value with every other coordinate held (one step
  /// of asynchronous dynamics) and returns `true`; returns `false` if the rule has no coordinate-wise
  /// form, in which case ``AsynchronousDynamics`` applies the full update to the row and keeps
  /// coordinate `i` (correct, but a full update per coordinate). Default: `false`.
  func updateCoordinate(_ i: Int, row: Int, of states: inout Matrix<Scalar>, workspace: inout Workspace) -> Bool
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

extension UpdateRule where Workspace == Void {
  public func makeWorkspace(batchSize: Int) {}
}

extension UpdateRule {
  public func descentEnergy(
    _ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace
  ) -> Bool { false }

  public func prepareCoordinateUpdates(row: Int, of states: Matrix<Scalar>, workspace: inout Workspace) {}

  public func updateCoordinate(
    _ i: Int, row: Int, of states: inout Matrix<Scalar>, workspace: inout Workspace
  ) -> Bool { false }

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

extension UpdateRule where Self: EnergyFunction {
  public func descentEnergy(
    _ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace
  ) -> Bool {
    energy(states, into: &energies, workspace: &workspace)
    return true
  }
}
