import AttractorLinearAlgebra

/// What energies and update rules share: states of a fixed dimension, processed a batch at a time
/// (one state per row of a `Matrix`), with scratch space reused across calls.
///
/// ```
/// states X ∈ ℝ^{B × d},   row r = state x_r ∈ ℝᵈ
/// ```
///
/// Models that need scratch space (logits, fields) declare a `Workspace` type and create it in
/// ``makeWorkspace(batchSize:)``; dynamics create one workspace per run and pass it to every call, so
/// a step allocates nothing. Simple models leave `Workspace` as `Void` and get ``makeWorkspace(batchSize:)``
/// for free. A type that is both an ``EnergyFunction`` and an ``UpdateRule`` has one `Scalar`, one
/// `Workspace` and one `dimension`, shared by both.
public protocol BatchedStateModel<Scalar>: Sendable {
  /// `Float` or `Double`.
  associatedtype Scalar: LinearAlgebraScalar
  /// Scratch space reused across calls; `Void` when none is needed.
  associatedtype Workspace = Void

  /// Dimension d of a state.
  var dimension: Int { get }

  /// Scratch space for batches of up to `batchSize` states.
  func makeWorkspace(batchSize: Int) -> Workspace
}

extension BatchedStateModel where Workspace == Void {
  public func makeWorkspace(batchSize: Int) {}
}
