import AttractorCore
import AttractorLinearAlgebra

/// Random patterns with entries N(0, 1/d) (norms near 1), seeded.
func gaussianPatterns<S: LinearAlgebraScalar>(_ n: Int, _ d: Int, seed: UInt64, as: S.Type = S.self) -> Matrix<S> {
  var rng = SeededGenerator(seed: seed)
  return rng.gaussianMatrix(rows: n, columns: d, standardDeviation: 1 / Double(d).squareRoot())
}

func maxAbs<S: LinearAlgebraScalar>(_ a: [S], _ b: [S]) -> S {
  zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
