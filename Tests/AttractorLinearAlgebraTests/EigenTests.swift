import ComplexModule
import Testing
@testable import AttractorLinearAlgebra

@Suite("LAPACK eigen-decompositions")
struct EigenTests {
  @Test("symmetric: A = V diag(λ) Vᵀ, VᵀV = I, λ ascending (Float and Double)", arguments: [1, 2, 5, 40])
  func symmetricReconstructs(n: Int) throws {
    try symmetric(Double.self, n: n, tolerance: 1e-10)
    try symmetric(Float.self, n: n, tolerance: 2e-4)
  }

  func symmetric<S: LinearAlgebraScalar>(_: S.Type, n: Int, tolerance: S) throws {
    var rng = TestRNG(seed: UInt64(n))
    let b: Matrix<S> = rng.matrix(n, n)
    let a = b + b.transposed()
    let eig = try a.symmetricEigendecomposition()
    let v = try #require(eig.eigenvectors)
    #expect(zip(eig.eigenvalues, eig.eigenvalues.dropFirst()).allSatisfy { $0 <= $1 })
    var scaled = v
    for i in 0..<n { for j in 0..<n { scaled[i, j] *= eig.eigenvalues[j] } }
    #expect((scaled * v.transposed()).maxAbsDifference(a) < tolerance * S(n))
    #expect(v.multiplied(by: v, transposeSelf: true).maxAbsDifference(.identity(n)) < tolerance * S(n))
    let valuesOnly = try a.symmetricEigendecomposition(computeEigenvectors: false)
    #expect(valuesOnly.eigenvectors == nil)
    for (x, y) in zip(valuesOnly.eigenvalues, eig.eigenvalues) { #expect(abs(x - y) < tolerance * S(n)) }
  }

  @Test("general: A v = λ v for every eigenpair, complex ones included", arguments: [1, 3, 6, 30])
  func generalSatisfiesDefinition(n: Int) throws {
    var rng = TestRNG(seed: 100 + UInt64(n))
    let a: Matrix<Double> = rng.matrix(n, n)
    let eig = try a.generalEigendecomposition()
    let vectors = try #require(eig.eigenvectors)
    #expect(vectors.count == n)
    for (lambda, v) in zip(eig.eigenvalues, vectors) {
      for i in 0..<n {
        var av = Complex<Double>(0, 0)
        for j in 0..<n { av = av + Complex(a[i, j], 0) * v[j] }
        #expect((av - lambda * v[i]).length < 1e-10)
      }
      let norm = v.reduce(0) { $0 + $1.lengthSquared }
      #expect(abs(norm - 1) < 1e-10)
    }
    // The trace is the sum of the eigenvalues.
    let trace = (0..<n).reduce(0) { $0 + a[$1, $1] }
    let sum = eig.eigenvalues.reduce(Complex<Double>(0, 0), +)
    #expect(abs(sum.real - trace) < 1e-10 && abs(sum.imaginary) < 1e-10)
  }

  @Test("a rotation has eigenvalues cos θ ± i sin θ")
  func rotation() throws {
    let theta = 0.3
    let r = Matrix<Float>(rowArrays: [
      [Float(Double.cos(theta)), Float(-Double.sin(theta))], [Float(Double.sin(theta)), Float(Double.cos(theta))],
    ])
    let eig = try r.generalEigendecomposition()
    let sorted = eig.eigenvalues.sorted { $0.imaginary > $1.imaginary }
    #expect(
      abs(sorted[0].real - Float(Double.cos(theta))) < 1e-6
        && abs(sorted[0].imaginary - Float(Double.sin(theta))) < 1e-6)
    #expect(abs(sorted[1].imaginary + Float(Double.sin(theta))) < 1e-6)
    #expect(abs(eig.spectralRadius - 1) < 1e-6)
  }

  @Test("bad input throws typed errors")
  func errors() {
    #expect(throws: LinearAlgebraError.notSquare(operation: "symmetricEigendecomposition", rows: 2, columns: 3)) {
      try Matrix<Double>(rows: 2, columns: 3).symmetricEigendecomposition()
    }
    #expect(throws: LinearAlgebraError.nonFinite(operation: "generalEigendecomposition")) {
      try Matrix<Double>(rowArrays: [[1, .nan], [0, 1]]).generalEigendecomposition()
    }
    #expect(throws: LinearAlgebraError.nonFinite(operation: "symmetricEigendecomposition")) {
      try Matrix<Float>(rowArrays: [[1, .infinity], [.infinity, 1]]).symmetricEigendecomposition()
    }
    #expect(throws: LinearAlgebraError.illegalArgument(routine: "dsyevd", position: 4)) {
      try LinearAlgebraError.check(-4, routine: "dsyevd")
    }
    #expect(throws: LinearAlgebraError.noConvergence(routine: "dgeev", info: 2)) {
      try LinearAlgebraError.check(2, routine: "dgeev")
    }
    #expect(throws: Never.self) { try LinearAlgebraError.check(0, routine: "dgeev") }
  }
}
