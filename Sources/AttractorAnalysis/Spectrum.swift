import AttractorLinearAlgebra
import ComplexModule

/// A complex number in a form that encodes to JSON as `{"re": …, "im": …}`.
public struct ComplexValue: Codable, Sendable, Equatable, CustomStringConvertible {
  /// Real part.
  public var re: Double
  /// Imaginary part.
  public var im: Double

  public init(re: Double, im: Double) {
    self.re = re
    self.im = im
  }

  /// |z|.
  public var modulus: Double { (re * re + im * im).squareRoot() }

  public var description: String {
    im == 0 ? "\(re)" : "\(re) \(im < 0 ? "−" : "+") \(abs(im))i"
  }
}

/// Which LAPACK routine computed a Jacobian's eigenvalues.
public enum EigenSolver: String, Codable, Sendable, Equatable {
  /// `?syevd`, used when ‖J − Jᵀ‖_F ≤ tolerance · ‖J‖_F (real eigenvalues, ascending).
  case symmetric
  /// `?geev`, used otherwise (complex conjugate pairs possible, LAPACK's order).
  case general
}

/// Where a Jacobian or Hessian came from.
public enum DerivativeSource: String, Codable, Sendable, Equatable {
  /// The model's closed form (``/AttractorCore/LinearizableUpdateRule``,
  /// ``/AttractorCore/TwiceDifferentiableEnergy`` or ``/AttractorCore/BatchLinearizable``).
  case analytic
  /// Central finite differences (``/AttractorCore/FiniteDifferences``): the fallback for models
  /// without a closed form, accurate to about h² plus rounding ε/h.
  case finiteDifferences
}

/// The spectrum of the Jacobian of the update at a fixed point: whether the point attracts.
///
/// ```
/// J = ∂f/∂x (x*),   ρ(J) = maxⱼ |λⱼ(J)|
/// x* is linearly stable under x ← f(x) if ρ(J) < 1 and unstable if ρ(J) > 1
/// ```
///
/// Mathematical property relied on: near x*, f(x) − x* ≈ J (x − x*), so errors shrink by about
/// ρ(J) per step when ρ(J) < 1 (Hartman–Grobman for maps; ρ = 1 is undecided at first order).
public struct JacobianSpectrum: Codable, Sendable, Equatable {
  /// Where J came from.
  public var source: DerivativeSource
  /// The solver used (chosen by the symmetry test).
  public var solver: EigenSolver
  /// ‖J − Jᵀ‖_F / ‖J‖_F (0 for a zero matrix).
  public var asymmetry: Double
  /// Eigenvalues: ascending and real for the symmetric solver; LAPACK's order with conjugate
  /// pairs adjacent (positive imaginary part first) for the general one.
  public var eigenvalues: [ComplexValue]
  /// ρ(J) = maxⱼ |λⱼ|.
  public var spectralRadius: Double
  /// Number of conjugate pairs (eigenvalues with non-zero imaginary part, halved).
  public var complexPairCount: Int
}

/// Kind of critical point of an energy, read from its Hessian's eigenvalues.
public enum CriticalPointKind: String, Codable, Sendable, Equatable {
  /// Every eigenvalue > tolerance: a strict local minimum.
  case minimum
  /// At least one eigenvalue < −tolerance: a saddle (or maximum); the count is its index.
  case saddle
  /// No eigenvalue < −tolerance but some within ±tolerance: flat directions, undecided at second order.
  case degenerate
}

/// The spectrum of the energy's Hessian at a fixed point.
///
/// ```
/// H = ∇²E (x*),   index = #{λ < −τ},   flat = #{|λ| ≤ τ}
/// ```
///
/// Mathematical property relied on: at a critical point of E, E(x* + δ) − E(x*) ≈ ½ δᵀHδ, so all
/// λ > 0 is a strict minimum and a negative λ is a direction of descent (Morse theory).
public struct HessianSpectrum: Codable, Sendable, Equatable {
  /// Where H came from.
  public var source: DerivativeSource
  /// Eigenvalues, ascending (symmetric solver; H is symmetrised first).
  public var eigenvalues: [Double]
  /// Smallest eigenvalue.
  public var smallest: Double
  /// Largest eigenvalue.
  public var largest: Double
  /// Number of eigenvalues below −tolerance (the Morse index).
  public var index: Int
  /// Number of eigenvalues within ±tolerance.
  public var flatDirections: Int
  /// Minimum, saddle or degenerate.
  public var kind: CriticalPointKind
  /// The tolerance τ used.
  public var tolerance: Double
}

/// Buffers of one thread's eigenvalue calls for d × d blocks, allocated once and reused.
struct SpectrumWorkspace<Scalar: LinearAlgebraScalar> {
  /// d² elements: LAPACK's copy of the block (it overwrites it), or the symmetrised Hessian.
  var scratch: [Scalar]
  /// `?geev`'s or `?syevd`'s real parts (d).
  var real: [Scalar]
  /// `?geev`'s imaginary parts (d).
  var imaginary: [Scalar]
  /// The last symmetric spectrum, ascending, in Double (d): what H = I − J is read from.
  var values: [Double]
  /// The BLAS-free path (``SymmetricEigenvalueWorkspace``), for d ≤ its largest dimension.
  var small: SymmetricEigenvalueWorkspace?

  init(dimension d: Int) {
    scratch = [Scalar](repeating: 0, count: d * d)
    real = [Scalar](repeating: 0, count: d)
    imaginary = [Scalar](repeating: 0, count: d)
    values = [Double](repeating: 0, count: d)
    small = d <= SymmetricEigenvalueWorkspace.largestDimension ? SymmetricEigenvalueWorkspace(dimension: d) : nil
  }

  /// Whether the symmetric eigenvalues go through the BLAS-free path (no BLAS call per point, so
  /// points may run on several threads whatever OpenBLAS's thread count).
  var isBLASFree: Bool { small != nil }

  /// The eigenvalues, ascending, of the symmetric d × d block whose upper triangle is at `block`
  /// (row-major), into ``values``: the BLAS-free path for small d, `?syevd` (eigenvalues only)
  /// on a copy otherwise. `block` is not modified.
  mutating func symmetricEigenvalues(
    upperTriangleOf block: UnsafePointer<Scalar>, dimension d: Int
  ) throws(AnalysisError) {
    if small != nil {
      do {
        try values.withUnsafeMutableBufferPointer { (v) throws(LinearAlgebraError) in
          try small!.eigenvalues(upperTriangleOf: block, leadingDimension: d, into: v.baseAddress!)
        }
      } catch {
        throw .linearAlgebra(error)
      }
      return
    }
    scratch.withUnsafeMutableBufferPointer { s in s.baseAddress!.update(from: block, count: d * d) }
    let info: Int32 = scratch.withUnsafeMutableBufferPointer { a in
      real.withUnsafeMutableBufferPointer { w in
        Scalar.syevd(computeVectors: false, n: d, a: a.baseAddress!, lda: d, w: w.baseAddress!)
      }
    }
    try SpectrumComputation.checkInfo(info, routine: "syevd", scalar: Scalar.self)
    for j in 0..<d { values[j] = Double(real[j]) }
  }
}

enum SpectrumComputation {
  /// Eigenvalues of the d × d block of `stack` at row `k`, with the symmetric solver when the block is
  /// symmetric to `symmetryTolerance` (its values, ascending, are left in `w.values`) and the
  /// general one otherwise.
  static func jacobianSpectrum<Scalar: LinearAlgebraScalar>(
    stack: Matrix<Scalar>, block k: Int, dimension d: Int, source: DerivativeSource, symmetryTolerance: Double,
    keepEigenvalues: Bool, workspace w: inout SpectrumWorkspace<Scalar>
  ) throws(AnalysisError) -> JacobianSpectrum {
    try stack.elements.withUnsafeBufferPointer { (p) throws(AnalysisError) -> JacobianSpectrum in
      try jacobianSpectrum(
        block: p.baseAddress! + k * d * d, index: k, dimension: d, source: source,
        symmetryTolerance: symmetryTolerance, keepEigenvalues: keepEigenvalues, workspace: &w)
    }
  }

  /// The same for the d × d block at `base` (row-major, not modified), the Jacobian at point
  /// `index` (named in errors).
  static func jacobianSpectrum<Scalar: LinearAlgebraScalar>(
    block base: UnsafePointer<Scalar>, index k: Int, dimension d: Int, source: DerivativeSource,
    symmetryTolerance: Double, keepEigenvalues: Bool, workspace w: inout SpectrumWorkspace<Scalar>
  ) throws(AnalysisError) -> JacobianSpectrum {
    let a = Kernels.asymmetry(base, n: d)
    guard a.norm.isFinite && a.difference.isFinite else {
      throw .nonFinite(what: "the Jacobian at fixed point \(k)")
    }
    let asymmetry = a.norm > 0 ? (a.difference / a.norm).squareRoot() : 0
    if asymmetry <= symmetryTolerance {
      try w.symmetricEigenvalues(upperTriangleOf: base, dimension: d)
      var radius = 0.0
      var values: [ComplexValue] = []
      if keepEigenvalues { values.reserveCapacity(d) }
      for j in 0..<d {
        let re = w.values[j]
        radius = max(radius, abs(re))
        if keepEigenvalues { values.append(ComplexValue(re: re, im: 0)) }
      }
      return JacobianSpectrum(
        source: source, solver: .symmetric, asymmetry: asymmetry, eigenvalues: values, spectralRadius: radius,
        complexPairCount: 0)
    }
    w.scratch.withUnsafeMutableBufferPointer { s in s.baseAddress!.update(from: base, count: d * d) }
    let info: Int32 = w.scratch.withUnsafeMutableBufferPointer { a in
      w.real.withUnsafeMutableBufferPointer { wr in
        w.imaginary.withUnsafeMutableBufferPointer { wi in
          Scalar.geev(
            computeVectors: false, n: d, a: a.baseAddress!, lda: d, wr: wr.baseAddress!, wi: wi.baseAddress!,
            vr: nil, ldvr: 1)
        }
      }
    }
    try checkInfo(info, routine: "geev", scalar: Scalar.self)
    var radius = 0.0
    var pairs = 0
    var values: [ComplexValue] = []
    if keepEigenvalues { values.reserveCapacity(d) }
    for j in 0..<d {
      let re = Double(w.real[j])
      let im = Double(w.imaginary[j])
      radius = max(radius, (re * re + im * im).squareRoot())
      if im > 0 { pairs += 1 }
      if keepEigenvalues { values.append(ComplexValue(re: re, im: im)) }
    }
    return JacobianSpectrum(
      source: source, solver: .general, asymmetry: asymmetry, eigenvalues: values, spectralRadius: radius,
      complexPairCount: pairs)
  }

  /// Eigenvalues of the (symmetrised) d × d Hessian block at row `k` of `stack`.
  static func hessianSpectrum<Scalar: LinearAlgebraScalar>(
    stack: Matrix<Scalar>, block k: Int, dimension d: Int, source: DerivativeSource, tolerance: Double,
    keepEigenvalues: Bool, workspace w: inout SpectrumWorkspace<Scalar>
  ) throws(AnalysisError) -> HessianSpectrum {
    stack.withUnsafeBufferPointer { p in
      w.scratch.withUnsafeMutableBufferPointer { s in
        s.baseAddress!.update(from: p.baseAddress! + k * d * d, count: d * d)
      }
    }
    return try hessianSpectrum(
      ofScratch: k, dimension: d, source: source, tolerance: tolerance, keepEigenvalues: keepEigenvalues,
      workspace: &w)
  }

  /// Eigenvalues of H = I − J for the d × d Jacobian block at `base` (row-major, not modified; the
  /// Jacobian at point `index`, named in errors), formed in the workspace's scratch, then
  /// symmetrised and decomposed: the fallback of the H = I − J shortcut when J went to the
  /// general solver.
  static func hessianSpectrum<Scalar: LinearAlgebraScalar>(
    identityMinusBlock base: UnsafePointer<Scalar>, index k: Int, dimension d: Int, source: DerivativeSource,
    tolerance: Double, keepEigenvalues: Bool, workspace w: inout SpectrumWorkspace<Scalar>
  ) throws(AnalysisError) -> HessianSpectrum {
    w.scratch.withUnsafeMutableBufferPointer { s in
      for e in 0..<(d * d) { s[e] = -base[e] }
      for i in 0..<d { s[i * d + i] += 1 }
    }
    return try hessianSpectrum(
      ofScratch: k, dimension: d, source: source, tolerance: tolerance, keepEigenvalues: keepEigenvalues,
      workspace: &w)
  }

  /// Symmetrises the d × d Hessian in the workspace's scratch and summarises its eigenvalues.
  static func hessianSpectrum<Scalar: LinearAlgebraScalar>(
    ofScratch k: Int, dimension d: Int, source: DerivativeSource, tolerance: Double, keepEigenvalues: Bool,
    workspace w: inout SpectrumWorkspace<Scalar>
  ) throws(AnalysisError) -> HessianSpectrum {
    let finite = w.scratch.withUnsafeBufferPointer { s in Kernels.asymmetry(s.baseAddress!, n: d).norm.isFinite }
    guard finite else { throw .nonFinite(what: "the Hessian at fixed point \(k)") }
    // The solvers read the upper triangle; symmetrising first makes the result independent of
    // which triangle a finite-difference Hessian got slightly wrong.
    Kernels.symmetrize(&w.scratch, n: d)
    let scratch = w.scratch
    try scratch.withUnsafeBufferPointer { (s) throws(AnalysisError) in
      try w.symmetricEigenvalues(upperTriangleOf: s.baseAddress!, dimension: d)
    }
    return hessianSpectrum(ascending: w.values, source: source, tolerance: tolerance, keepEigenvalues: keepEigenvalues)
  }

  /// The Hessian spectrum of H = I − J read off the eigenvalues of a symmetric J (ascending, in
  /// `jacobianEigenvalues`): λⱼ(H) = 1 − λ_{d−1−j}(J), ascending, with no second decomposition.
  ///
  /// Holds when H = I − J exactly and J is symmetric: the orthogonal eigenvectors of J
  /// (J = V diag(λ) Vᵀ) diagonalise I − J = V diag(1 − λ) Vᵀ. The values equal those of a separate
  /// decomposition of I − J to rounding (about d·ε·‖J‖).
  static func hessianSpectrum(
    identityMinusSymmetricJacobianEigenvalues jacobianEigenvalues: [Double], dimension d: Int,
    source: DerivativeSource, tolerance: Double, keepEigenvalues: Bool
  ) -> HessianSpectrum {
    let values = [Double](unsafeUninitializedCapacity: d) { buffer, count in
      for j in 0..<d { buffer[j] = 1 - jacobianEigenvalues[d - 1 - j] }
      count = d
    }
    return hessianSpectrum(ascending: values, source: source, tolerance: tolerance, keepEigenvalues: keepEigenvalues)
  }

  /// Index, flat directions and kind from ascending eigenvalues.
  static func hessianSpectrum(
    ascending values: [Double], source: DerivativeSource, tolerance: Double, keepEigenvalues: Bool
  ) -> HessianSpectrum {
    var index = 0
    var flat = 0
    for v in values {
      if v < -tolerance { index += 1 } else if v <= tolerance { flat += 1 }
    }
    let kind: CriticalPointKind = index > 0 ? .saddle : (flat > 0 ? .degenerate : .minimum)
    return HessianSpectrum(
      source: source, eigenvalues: keepEigenvalues ? values : [], smallest: values.first ?? 0,
      largest: values.last ?? 0, index: index, flatDirections: flat, kind: kind, tolerance: tolerance)
  }

  static func checkInfo<Scalar>(_ info: Int32, routine: String, scalar: Scalar.Type) throws(AnalysisError) {
    let name = (Scalar.self == Float.self ? "s" : "d") + routine
    if info < 0 { throw .linearAlgebra(.illegalArgument(routine: name, position: Int(-info))) }
    if info > 0 { throw .linearAlgebra(.noConvergence(routine: name, info: Int(info))) }
  }
}

extension Kernels {
  /// A ← (A + Aᵀ)/2 for an n × n row-major array.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  static func symmetrize<Scalar: LinearAlgebraScalar>(_ a: inout [Scalar], n: Int) {
    a.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        for j in (i + 1)..<max(i + 1, n) {
          let m = (p[i * n + j] + p[j * n + i]) / 2
          p[i * n + j] = m
          p[j * n + i] = m
        }
      }
    }
  }
}
