import AttractorLinearAlgebra

/// SplitMix64: a tiny seeded generator so this test target does not depend on AttractorCore.
struct TestRNG: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 * 2 - 1 }
  mutating func matrix<S: LinearAlgebraScalar>(_ rows: Int, _ columns: Int, as: S.Type = S.self) -> Matrix<S> {
    Matrix(rows: rows, columns: columns) { _, _ in S(uniform()) }
  }
}

func naiveProduct<S: LinearAlgebraScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Matrix<S> {
  Matrix(rows: a.rows, columns: b.columns) { i, j in
    var s: S = 0
    for k in 0..<a.columns { s += a[i, k] * b[k, j] }
    return s
  }
}
