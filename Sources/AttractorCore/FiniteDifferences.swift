import AttractorLinearAlgebra

/// Central finite-difference derivatives: the fallback when a model has no closed-form Hessian or
/// Jacobian, and the independent check on those that do.
///
/// ```
/// ∂g/∂xⱼ ≈ (g(x + h eⱼ) − g(x − h eⱼ)) / (2h)      error O(h²) plus rounding O(ε/h)
/// ```
///
/// All 2d perturbed states are evaluated as one batch. For `Double`, h ≈ 1e-5 balances truncation
/// and rounding; for `Float`, h ≈ 1e-2 to 1e-3.
public enum FiniteDifferences {
  /// Gradient of the energy at `state` from central differences of E.
  public static func gradient<E: EnergyFunction>(of energy: E, at state: [E.Scalar], step h: E.Scalar) -> [E.Scalar] {
    let d = state.count
    let energies = energy.energy(perturbations(of: state, step: h))
    return (0..<d).map { j in (energies[2 * j] - energies[2 * j + 1]) / (2 * h) }
  }

  /// Hessian of the energy at `state` from central differences of its analytic gradient,
  /// symmetrised as (H + Hᵀ)/2.
  public static func hessian<E: EnergyFunction>(of energy: E, at state: [E.Scalar], step h: E.Scalar) -> Matrix<
    E.Scalar
  > {
    let d = state.count
    let g = energy.gradient(perturbations(of: state, step: h))
    var hessian = Matrix<E.Scalar>(rows: d, columns: d)
    for i in 0..<d {
      for j in 0..<d {
        let hij = (g[2 * j, i] - g[2 * j + 1, i]) / (2 * h)
        let hji = (g[2 * i, j] - g[2 * i + 1, j]) / (2 * h)
        hessian[i, j] = (hij + hji) / 2
      }
    }
    return hessian
  }

  /// Jacobian ∂fᵢ/∂xⱼ of the update at `state` from central differences.
  public static func jacobian<R: UpdateRule>(of rule: R, at state: [R.Scalar], step h: R.Scalar) -> Matrix<R.Scalar> {
    let d = state.count
    let f = rule.update(perturbations(of: state, step: h))
    var jacobian = Matrix<R.Scalar>(rows: d, columns: d)
    for i in 0..<d {
      for j in 0..<d { jacobian[i, j] = (f[2 * j, i] - f[2 * j + 1, i]) / (2 * h) }
    }
    return jacobian
  }

  /// Rows 2j and 2j + 1 are x + h eⱼ and x − h eⱼ.
  static func perturbations<Scalar: LinearAlgebraScalar>(of state: [Scalar], step h: Scalar) -> Matrix<Scalar> {
    let d = state.count
    var m = Matrix<Scalar>(rows: 2 * d, columns: d)
    for j in 0..<d {
      m.setRow(2 * j, to: state)
      m.setRow(2 * j + 1, to: state)
      m[2 * j, j] += h
      m[2 * j + 1, j] -= h
    }
    return m
  }
}
