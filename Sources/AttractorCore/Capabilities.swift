import AttractorLinearAlgebra

// Optional abilities of an update rule, as refining protocols. Code that uses an ability asks for it
// in its generic signature (or overloads on it), so whether a rule has it is decided at compile
// time from the rule's static type; there is no run-time fallback to get wrong.

/// A rule whose dynamics descend a known energy: E never increases along the rule's own updates.
///
/// ```
/// E(x_{t+1}) ≤ E(x_t)   along x_{t+1} = f(x_t)   (or along its coordinate-wise form)
/// ```
///
/// ``SynchronousDynamics`` and ``AsynchronousDynamics`` record E per step for these rules (and only
/// for these), and analysis takes the Hessian of ``descendedEnergy`` (in closed form when it is a
/// ``TwiceDifferentiableEnergy``). The property code relies on is the descent itself: the recorded
/// energies and "energy drops" of studies are meaningful only because the rule does descend E.
/// Say in the conformance for which schedule it holds. Built-in conformances:
/// ``GradientDescent`` (for a step size η ≤ 1/L, L the Lipschitz constant of ∇E), the modern
/// Hopfield network (a CCCP step, Ramsauer et al., arXiv:2008.02217), the classical Hopfield
/// network and dense associative memories (under asynchronous updates, Hopfield 1982; Krotov &
/// Hopfield 2016). A rule with only a diagnostic energy that it does not descend must not conform.
///
/// A type that is also an ``EnergyFunction`` gets both requirements for free: it descends itself.
public protocol EnergyDescending<Scalar>: UpdateRule {
  associatedtype Scalar
  /// The energy the rule descends (`Self` for a type that is its own energy).
  associatedtype DescendedEnergy: EnergyFunction<Scalar>

  /// The energy the rule descends, as a value (analysis takes its Hessian).
  var descendedEnergy: DescendedEnergy { get }

  /// Writes E(xᵣ) of ``descendedEnergy`` for every row of `states` into `energies`
  /// (`energies.count == states.rows`), with the rule's own workspace. Must not allocate.
  func descendedEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace)
}

extension EnergyDescending where Self: EnergyFunction {
  /// The rule itself.
  public var descendedEnergy: Self { self }
}

extension EnergyDescending where Self: EnergyFunction, DescendedEnergy == Self {
  /// ``EnergyFunction/energy(_:into:workspace:)``.
  @inlinable
  public func descendedEnergy(_ states: Matrix<Scalar>, into energies: inout [Scalar], workspace: inout Workspace) {
    energy(states, into: &energies, workspace: &workspace)
  }
}

/// A rule with a coordinate-wise form: one coordinate of one state updated with every other
/// coordinate held, cheaper than a full update.
///
/// ```
/// xᵢ ← fᵢ(x)        (x₋ᵢ held)
/// ```
///
/// ``AsynchronousDynamics`` uses it for these rules (O(field update) per coordinate); for any other
/// rule it computes the full update of the state and keeps coordinate i (the same result, d times
/// the work). The property relied on: after ``prepareCoordinateUpdates(of:workspace:)`` on `state`,
/// a sequence of ``updateCoordinate(_:of:workspace:)`` calls on that same state sets each
/// coordinate i to fᵢ of the current state, exactly as the full update would (up to rounding).
///
/// Shape: `state` is a single state, a `1 × d` matrix (a batch of one, so the same buffer serves
/// ``UpdateRule/update(_:into:workspace:)`` and the energy), with a workspace made for a batch of
/// at least 1. Between the preparation and the updates, only ``updateCoordinate(_:of:workspace:)``
/// may change `state`.
public protocol CoordinateUpdatable<Scalar>: UpdateRule {
  associatedtype Scalar
  /// Caches in `workspace` what ``updateCoordinate(_:of:workspace:)`` needs for `state` (fields,
  /// logits, overlaps). Called before each sweep. Default: nothing.
  func prepareCoordinateUpdates(of state: Matrix<Scalar>, workspace: inout Workspace)

  /// Sets coordinate `i` of `state` (`1 × d`) to fᵢ(state), keeping the workspace's cache in step.
  func updateCoordinate(_ i: Int, of state: inout Matrix<Scalar>, workspace: inout Workspace)
}

extension CoordinateUpdatable {
  public func prepareCoordinateUpdates(of state: Matrix<Scalar>, workspace: inout Workspace) {}
}

/// A rule that computes the Jacobians (and optionally the Hessians) of many states at once.
///
/// ```
/// jacobianStack(X)ₖ = vec(J(xₖ))     (K × d², each row a row-major d × d block)
/// ```
///
/// Analysis prefers this over ``LinearizableUpdateRule/jacobian(at:)`` when a model offers it: a
/// batch of Jacobians can be one large BLAS-3 product instead of K small ones. The values must equal
/// the per-state closed forms; the Hessian stack is `nil` when the rule descends no energy with a
/// closed-form Hessian.
public protocol BatchLinearizable<Scalar>: UpdateRule {
  associatedtype Scalar
  /// The Jacobian of the update at every row of `states` and the Hessian of the descended energy
  /// (or `nil`), as `K × d²` stacks.
  func linearizationStacks(at states: Matrix<Scalar>) -> (jacobians: Matrix<Scalar>, hessians: Matrix<Scalar>?)
}
