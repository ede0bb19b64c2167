import Dispatch
import Foundation
import Testing
@testable import AttractorLinearAlgebra

/// The BLAS-free eigenvalues (Householder tridiagonalisation in C, then LAPACK's dsterf) against
/// LAPACK's dsyevd and against spectra fixed by construction, including degenerate and clustered ones.
@Suite("Symmetric eigenvalues without BLAS")
struct SymmetricEigenvaluesTests {
  /// The path's eigenvalues of `a` (n × n, upper triangle read).
  static func values(_ a: Matrix<Double>) throws -> [Double] {
    var workspace = SymmetricEigenvalueWorkspace(dimension: a.rows)
    var w = [Double](repeating: .nan, count: a.rows)
    try a.elements.withUnsafeBufferPointer { p in
      try w.withUnsafeMutableBufferPointer {
        try workspace.eigenvalues(upperTriangleOf: p.baseAddress!, leadingDimension: a.rows, into: $0.baseAddress!)
      }
    }
    return w
  }

  /// |λ − reference| ≤ 20 n ε max|λ| elementwise (both ascending): backward stability of the reduction.
  static func expectClose(_ got: [Double], _ reference: [Double], _ label: String) {
    #expect(got.count == reference.count)
    let scale = reference.map(abs).max() ?? 0
    let tolerance = 20 * Double(max(1, got.count)) * Double.ulpOfOne * scale
    let error = zip(got, reference).map { abs($0 - $1) }.max() ?? 0
    #expect(error <= tolerance, "\(label): error \(error) > \(tolerance)")
    #expect(zip(got, got.dropFirst()).allSatisfy { $0 <= $1 }, "\(label): not ascending")
  }

  static func randomSymmetric(_ n: Int, seed: UInt64) -> Matrix<Double> {
    var rng = TestRNG(seed: seed)
    let b: Matrix<Double> = rng.matrix(n, n)
    return b + b.transposed()
  }

  /// Q diag(λ) Qᵀ with Q orthogonal (eigenvectors of a random symmetric matrix).
  static func withSpectrum(_ lambda: [Double], seed: UInt64) throws -> Matrix<Double> {
    let n = lambda.count
    let q = try #require(try randomSymmetric(n, seed: seed).symmetricEigendecomposition().eigenvectors)
    var scaled = q
    for i in 0..<n { for j in 0..<n { scaled[i, j] *= lambda[j] } }
    let a = scaled * q.transposed()
    return Matrix(rows: n, columns: n) { i, j in i <= j ? a[i, j] : a[j, i] }  // exactly symmetric
  }

  @Test("Random symmetric matrices: equal to dsyevd's eigenvalues", arguments: [1, 2, 3, 5, 17, 64, 100, 160])
  func random(n: Int) throws {
    let a = Self.randomSymmetric(n, seed: UInt64(n))
    let reference = try a.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues
    Self.expectClose(try Self.values(a), reference, "n \(n)")
  }

  @Test("Degenerate, clustered, rank-one, zero, diagonal and badly scaled spectra")
  func special() throws {
    let n = 24
    let degenerate = (0..<n).map { Double($0 / 8) }  // 0 ×8, 1 ×8, 2 ×8
    let clustered = (0..<n).map { 1 + Double($0) * 1e-12 }
    let split = (0..<n).map { $0 < n / 2 ? -1.0 : 1.0 }
    for (label, lambda) in [("degenerate", degenerate), ("clustered", clustered), ("±1", split)] {
      let a = try Self.withSpectrum(lambda, seed: 7)
      let reference = try a.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues
      let got = try Self.values(a)
      Self.expectClose(got, reference, label)
      Self.expectClose(got, lambda, label + " (constructed)")
    }
    // Rank one: v vᵀ has ‖v‖² once and 0 n − 1 times.
    var rng = TestRNG(seed: 3)
    let v = (0..<n).map { _ in rng.uniform() }
    let rankOne = Matrix<Double>(rows: n, columns: n) { i, j in v[i] * v[j] }
    let norm2 = v.reduce(0) { $0 + $1 * $1 }
    Self.expectClose(try Self.values(rankOne), [Double](repeating: 0, count: n - 1) + [norm2], "rank one")
    // Zero and diagonal matrices need no reflection (already tridiagonal): exact.
    #expect(try Self.values(Matrix(rows: n, columns: n)) == [Double](repeating: 0, count: n))
    let diagonal = Matrix<Double>(rows: n, columns: n) { i, j in i == j ? Double(n - i) : 0 }
    #expect(try Self.values(diagonal) == (1...n).map(Double.init))
    // Entries near underflow and overflow (the reflector's norm is taken on scaled entries).
    for scale in [1e-160, 1e-300, 1e150, 1e300] {
      let a = Self.randomSymmetric(12, seed: 5)
      let scaledA = Matrix<Double>(rows: 12, columns: 12) { i, j in a[i, j] * scale }
      let reference = try a.symmetricEigendecomposition(computeEigenvectors: false).eigenvalues.map { $0 * scale }
      let got = try Self.values(scaledA)
      #expect(got.allSatisfy { $0.isFinite }, "scale \(scale)")
      Self.expectClose(got, reference, "scale \(scale)")
    }
  }

  @Test("Only the upper triangle is read; Float input equals its Double conversion exactly")
  func triangleAndFloat() throws {
    let n = 40
    let a = Self.randomSymmetric(n, seed: 11)
    var junk = a
    for i in 0..<n { for j in 0..<i { junk[i, j] = 1e3 * Double(i - j) } }
    #expect(try Self.values(junk) == Self.values(a))
    var rng = TestRNG(seed: 12)
    let f: Matrix<Float> = rng.matrix(n, n)
    let fs = f + f.transposed()
    var workspace = SymmetricEigenvalueWorkspace(dimension: n)
    var got = [Double](repeating: 0, count: n)
    try fs.elements.withUnsafeBufferPointer { p in
      try got.withUnsafeMutableBufferPointer {
        try workspace.eigenvalues(upperTriangleOf: p.baseAddress!, leadingDimension: n, into: $0.baseAddress!)
      }
    }
    #expect(got == (try Self.values(Matrix(rows: n, columns: n, elements: fs.elements.map(Double.init)))))
  }

  @Test("Threads computing at once give the same bits as one thread")
  func concurrent() throws {
    let n = 64
    let matrices = (0..<16).map { Self.randomSymmetric(n, seed: 100 + UInt64($0)) }
    let sequential = try matrices.map { try Self.values($0) }
    let results = UnsafeMutableBufferPointer<[Double]>.allocate(capacity: matrices.count)
    results.initialize(repeating: [])
    defer { results.deallocate() }
    let box = Box(results)
    DispatchQueue.concurrentPerform(iterations: matrices.count) { k in
      box.value[k] = (try? Self.values(matrices[k])) ?? []
    }
    #expect(Array(results) == sequential)
  }

  final class Box<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
  }
}

/// The C weight statistics against a plain Swift loop (bit for bit) and a full sort.
@Suite("Weight statistics")
struct WeightStatisticsTests {
  @Test("Sums equal a plain loop bit for bit; the k heaviest equal sorting all weights (ties by index)")
  func againstPlainLoop() {
    var rng = TestRNG(seed: 21)
    for (n, sharpness) in [(1, 1.0), (7, 0.0), (300, 0.5), (1000, 6.0), (1000, 40.0), (64, 1e-3)] {
      // Softmax weights, with exact ties every fifth entry (sharpness 0: all equal).
      var z = (0..<n).map { _ in sharpness * rng.uniform() }
      for i in stride(from: 0, to: n, by: 5) { z[i] = z[0] }
      let m = z.max()!
      let e = z.map { Foundation.exp($0 - m) }
      let s = e.reduce(0, +)
      let p = e.map { $0 / s }
      for mass in [0.5, 0.9, 1.0] {
        var workspace = WeightStatisticsWorkspace(count: n)
        let sums = p.withUnsafeBufferPointer { workspace.compute($0.baseAddress!, mass: mass) }
        var total = 0.0, squares = 0.0, entropy = 0.0, smallest = Double.infinity
        for w in p {
          total += w
          squares += w * w
          smallest = min(smallest, w)
          if w > 0 { entropy -= w * Foundation.log(w) }
        }
        #expect(sums.total == total && sums.squares == squares && sums.smallest == smallest)
        #expect(sums.entropy == entropy, "n \(n) sharpness \(sharpness)")
        let sorted = p.enumerated().sorted {
          $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset)
        }
        var expected: [Int] = []
        var sum = 0.0
        for c in sorted where c.element >= (1 - mass) / Double(n) {
          expected.append(c.offset)
          sum += c.element
          if sum >= mass * total { break }
        }
        let got = (0..<workspace.k).map { workspace.heaviest($0).index }
        #expect(got == expected, "n \(n) sharpness \(sharpness) mass \(mass)")
        #expect((0..<workspace.k).allSatisfy { workspace.heaviest($0).weight == p[workspace.heaviest($0).index] })
        // Float weights: the same statistics of their Double conversions.
        let pf = p.map(Float.init)
        var wf = WeightStatisticsWorkspace(count: n)
        var wd = WeightStatisticsWorkspace(count: n)
        let a = pf.withUnsafeBufferPointer { wf.compute($0.baseAddress!, mass: mass) }
        let b = pf.map(Double.init).withUnsafeBufferPointer { wd.compute($0.baseAddress!, mass: mass) }
        #expect(a == b && wf.k == wd.k)
      }
    }
  }
}
