import AttractorLinearAlgebra
import AttractorModels

// Single-precision models of the built-in Hopfield factories, for studies with
// `"precision": "float"` (the default): the same models as their `make(patterns:seed:)`, in Float.

extension ClassicalHopfieldFactory: SinglePrecisionStudyModelFactory {
  /// ``/AttractorModels/ClassicalHopfield`` in `Float`: its fields d·W x of ±1 (or masked 0)
  /// states are integers of magnitude at most K·d, exact in single precision while K·d ≤ 2²⁴, so
  /// its decisions are then those of the double model.
  public func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> ClassicalHopfield<Float> {
    try ClassicalHopfield(patterns: patterns)
  }
}

extension ModernHopfieldFactory: SinglePrecisionStudyModelFactory {
  /// ``/AttractorModels/ModernHopfield`` in `Float` with β rounded to `Float`.
  public func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> ModernHopfield<Float> {
    try ModernHopfield(patterns: patterns, beta: Float(beta))
  }
}

extension DensePolynomialFactory: SinglePrecisionStudyModelFactory {
  /// ``/AttractorModels/DenseAssociativeMemory`` on `Float` states: its overlaps are integers and
  /// its decisions are made from its double-precision table of D(x), as in the double model.
  public func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> DenseAssociativeMemory<Float, Polynomial> {
    try DenseAssociativeMemory(patterns: patterns, interaction: Polynomial(degree: degree))
  }
}

extension DenseExponentialFactory: SinglePrecisionStudyModelFactory {
  /// ``/AttractorModels/DenseAssociativeMemory`` with F(x) = exp(βx) on `Float` states (decisions
  /// from the double-precision log table, as in the double model).
  public func makeSingle(patterns: Matrix<Float>, seed: UInt64) throws -> DenseAssociativeMemory<Float, Exponential> {
    try DenseAssociativeMemory(patterns: patterns, interaction: Exponential(beta: beta))
  }
}
