import AttractorCore
import AttractorLinearAlgebra
import Testing

@testable import AttractorModels

/// The shared transformer layers: every gradient against central finite differences of a fixed
/// random linear functional L = ⟨C, y⟩, plus the invariances of layer normalisation.
@Suite("Shared layers")
struct LayersTests {
  /// L(y) = Σ c ⊙ y with a seeded random C, so ∂L/∂y = C.
  static func functional(_ y: Matrix<Double>, _ c: Matrix<Double>) -> Double {
    zip(y.elements, c.elements).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// Central difference of `f` with respect to every entry of `m`, step h.
  static func numericGradient(
    _ m: Matrix<Double>, h: Double = 1e-6, _ f: (Matrix<Double>) -> Double
  ) -> Matrix<Double> {
    var g = Matrix<Double>(rows: m.rows, columns: m.columns)
    for k in m.elements.indices {
      var plus = m, minus = m
      plus.withUnsafeMutableBufferPointer { $0[k] += h }
      minus.withUnsafeMutableBufferPointer { $0[k] -= h }
      g.withUnsafeMutableBufferPointer { $0[k] = (f(plus) - f(minus)) / (2 * h) }
    }
    return g
  }

  static func maxDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    zip(a.elements, b.elements).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  @Test("LayerNorm forward: zero mean, unit variance rows; γ and β apply")
  func layerNormForward() {
    var rng = SeededGenerator(seed: 1)
    let x: Matrix<Double> = rng.gaussianMatrix(rows: 5, columns: 16, mean: 3, standardDeviation: 2)
    let norm = LayerNormalization<Double>(width: 16, epsilon: 0)
    var y = Matrix<Double>(rows: 5, columns: 16)
    var cache = norm.makeCache(batch: 5)
    norm.forward(x, into: &y, cache: &cache)
    for i in 0..<5 {
      let row = (0..<16).map { y[i, $0] }
      let mean = row.reduce(0, +) / 16
      let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 16
      #expect(abs(mean) < 1e-12)
      #expect(abs(variance - 1) < 1e-12)
    }
  }

  @Test("LayerNorm backward matches finite differences for x, γ and β; ∂x ⟂ 1 and x̂")
  func layerNormGradients() {
    var rng = SeededGenerator(seed: 2)
    let b = 4, n = 12
    let x: Matrix<Double> = rng.gaussianMatrix(rows: b, columns: n, mean: 0.5, standardDeviation: 1.5)
    let c: Matrix<Double> = rng.gaussianMatrix(rows: b, columns: n)
    var norm = LayerNormalization<Double>(width: n, epsilon: 1e-5)
    norm.gain = rng.gaussianMatrix(rows: 1, columns: n, mean: 1, standardDeviation: 0.3)
    norm.bias = rng.gaussianMatrix(rows: 1, columns: n, standardDeviation: 0.3)
    func loss(_ layer: LayerNormalization<Double>, _ input: Matrix<Double>) -> Double {
      var y = Matrix<Double>(rows: b, columns: n)
      var cache = layer.makeCache(batch: b)
      layer.forward(input, into: &y, cache: &cache)
      return Self.functional(y, c)
    }
    var y = Matrix<Double>(rows: b, columns: n)
    var cache = norm.makeCache(batch: b)
    norm.forward(x, into: &y, cache: &cache)
    var dx = Matrix<Double>(rows: b, columns: n, repeating: .nan)
    var gradient = norm.zeroGradient()
    norm.backward(c, cache: cache, inputGradient: &dx, gradient: &gradient)

    let numericX = Self.numericGradient(x) { loss(norm, $0) }
    let numericGain = Self.numericGradient(norm.gain) { g in
      var l = norm
      l.gain = g
      return loss(l, x)
    }
    let numericBias = Self.numericGradient(norm.bias) { v in
      var l = norm
      l.bias = v
      return loss(l, x)
    }
    #expect(Self.maxDifference(dx, numericX) < 1e-7)
    #expect(Self.maxDifference(gradient.gain, numericGain) < 1e-7)
    #expect(Self.maxDifference(gradient.bias, numericBias) < 1e-7)
    // Invariances: with γ = 1 the row gradient is orthogonal to 1 and to x̂.
    let plain = LayerNormalization<Double>(width: n, epsilon: 0)
    var cache0 = plain.makeCache(batch: b)
    plain.forward(x, into: &y, cache: &cache0)
    var g0 = plain.zeroGradient()
    plain.backward(c, cache: cache0, inputGradient: &dx, gradient: &g0)
    for i in 0..<b {
      let row = (0..<n).map { dx[i, $0] }
      #expect(abs(row.reduce(0, +)) < 1e-10)
      #expect(abs(zip(row, (0..<n).map { cache0.normalized[i, $0] }).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-10)
    }
    // A second backward pass accumulates parameter gradients.
    let once = gradient.gain
    norm.backward(c, cache: cache, inputGradient: &dx, gradient: &gradient)
    #expect(Self.maxDifference(gradient.gain, once + once) < 1e-12)
  }

  @Test(
    "Feed-forward backward matches finite differences for every parameter",
    arguments: [
      FeedForwardLayer<Double>.Activation.gelu, .relu,
    ])
  func feedForwardGradients(activation: FeedForwardLayer<Double>.Activation) {
    var rng = SeededGenerator(seed: 3)
    let b = 5, n = 6, hidden = 10
    let x: Matrix<Double> = rng.gaussianMatrix(rows: b, columns: n)
    let c: Matrix<Double> = rng.gaussianMatrix(rows: b, columns: n)
    var layer = FeedForwardLayer<Double>(width: n, hidden: hidden, activation: activation, seed: 4)
    layer.inputBias = rng.gaussianMatrix(rows: 1, columns: hidden, standardDeviation: 0.5)
    layer.outputBias = rng.gaussianMatrix(rows: 1, columns: n, standardDeviation: 0.5)
    func loss(_ l: FeedForwardLayer<Double>, _ input: Matrix<Double>) -> Double {
      var y = Matrix<Double>(rows: b, columns: n)
      var cache = l.makeCache(batch: b)
      l.forward(input, into: &y, cache: &cache)
      return Self.functional(y, c)
    }
    var y = Matrix<Double>(rows: b, columns: n)
    var cache = layer.makeCache(batch: b)
    layer.forward(x, into: &y, cache: &cache)
    var dx = Matrix<Double>(rows: b, columns: n, repeating: .nan)
    var gradient = layer.zeroGradient()
    layer.backward(c, input: x, cache: &cache, inputGradient: &dx, gradient: &gradient)
    #expect(Self.maxDifference(dx, Self.numericGradient(x) { loss(layer, $0) }) < 1e-6)
    for k in 0..<4 {
      let numeric = Self.numericGradient(layer.parameters[k]) { p in
        var l = layer
        var ps = l.parameters
        ps[k] = p
        l.parameters = ps
        return loss(l, x)
      }
      #expect(Self.maxDifference(gradient.parameters[k], numeric) < 1e-6, "parameter \(k)")
    }
  }

  @Test("GELU is the exact-erf form: reference values")
  func geluValues() {
    // z Φ(z) at z = −1, 0.5, 2 (Φ from the error function; values computed independently to 12 digits).
    let cases: [(Double, Double)] = [(-1, -0.158_655_253_931), (0.5, 0.345_731_230_637), (2, 1.954_499_736_104)]
    for (z, expected) in cases {
      #expect(abs(FeedForwardLayer<Double>.apply(.gelu, z) - expected) < 1e-11)
    }
  }

  @Test("Float and Double forward passes agree")
  func floatMatchesDouble() {
    var rng = SeededGenerator(seed: 5)
    let x: Matrix<Double> = rng.gaussianMatrix(rows: 7, columns: 8)
    let d = FeedForwardLayer<Double>(width: 8, hidden: 16, seed: 6)
    let f = FeedForwardLayer<Float>(width: 8, hidden: 16, seed: 6)
    var yd = Matrix<Double>(rows: 7, columns: 8), yf = Matrix<Float>(rows: 7, columns: 8)
    var cd = d.makeCache(batch: 7), cf = f.makeCache(batch: 7)
    d.forward(x, into: &yd, cache: &cd)
    f.forward(Matrix(rows: 7, columns: 8, elements: x.elements.map(Float.init)), into: &yf, cache: &cf)
    #expect(zip(yd.elements, yf.elements).allSatisfy { abs($0.0 - Double($0.1)) < 1e-5 })
  }
}
