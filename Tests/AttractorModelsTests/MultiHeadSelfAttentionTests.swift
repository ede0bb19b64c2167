import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorModels

@Suite("Multi-head self-attention")
struct MultiHeadSelfAttentionTests {
  func random(_ rows: Int, _ columns: Int, seed: UInt64, scale: Double = 1) -> Matrix<Double> {
    var rng = SeededGenerator(seed: seed)
    return rng.gaussianMatrix(rows: rows, columns: columns, standardDeviation: scale)
  }

  /// ⟨G, MHSA(X)⟩ and its gradients.
  func probe(_ layer: MultiHeadSelfAttention<Double>, x: Matrix<Double>, g: Matrix<Double>, length: Int) -> (
    value: Double, gradient: MultiHeadSelfAttention<Double>, dx: Matrix<Double>
  ) {
    var cache = layer.makeCache(batch: x.rows / length, length: length)
    var y = Matrix<Double>(rows: x.rows, columns: x.columns)
    layer.forward(x, into: &y, cache: &cache)
    var value = 0.0
    for i in y.elements.indices { value += y.elements[i] * g.elements[i] }
    var gradient = layer
    gradient.zeroGradient()
    var dx = Matrix<Double>(rows: x.rows, columns: x.columns, repeating: .nan)
    layer.backward(g, input: x, cache: &cache, inputGradient: &dx, gradient: &gradient)
    return (value, gradient, dx)
  }

  @Test("analytic gradients of every parameter and input match central differences")
  func gradients() throws {
    var layer = try MultiHeadSelfAttention<Double>(width: 6, heads: 2, seed: 3)
    // Non-zero biases so that their gradients are exercised through the softmax.
    var all = layer.parameters
    all[1] = random(1, 18, seed: 4, scale: 0.3)
    all[3] = random(1, 6, seed: 5, scale: 0.3)
    layer.parameters = all
    let length = 5
    let x = random(2 * length, 6, seed: 6)
    let g = random(2 * length, 6, seed: 7)
    let exact = probe(layer, x: x, g: g, length: length)
    let h = 1e-6
    for k in 0..<4 {
      var worst = 0.0
      for i in exact.gradient.parameters[k].elements.indices {
        var plus = layer, minus = layer
        var p = plus.parameters
        p[k].withUnsafeMutableBufferPointer { $0[i] += h }
        plus.parameters = p
        p = minus.parameters
        p[k].withUnsafeMutableBufferPointer { $0[i] -= h }
        minus.parameters = p
        let numeric =
          (probe(plus, x: x, g: g, length: length).value - probe(minus, x: x, g: g, length: length).value)
          / (2 * h)
        worst = max(worst, abs(numeric - exact.gradient.parameters[k].elements[i]))
      }
      #expect(worst < 1e-7, "parameter \(k): \(worst)")
      #expect(exact.gradient.parameters[k].elements.map(abs).max()! > 1e-3)
    }
    var worst = 0.0
    for i in x.elements.indices {
      var plus = x, minus = x
      plus.withUnsafeMutableBufferPointer { $0[i] += h }
      minus.withUnsafeMutableBufferPointer { $0[i] -= h }
      let numeric =
        (probe(layer, x: plus, g: g, length: length).value - probe(layer, x: minus, g: g, length: length).value)
        / (2 * h)
      worst = max(worst, abs(numeric - exact.dx.elements[i]))
    }
    #expect(worst < 1e-7, "input: \(worst)")
  }

  @Test("forward equals attention written out in loops; sequences do not mix")
  func forwardMatchesLoops() throws {
    let layer = try MultiHeadSelfAttention<Double>(width: 4, heads: 2, seed: 9)
    let length = 3
    let x = random(2 * length, 4, seed: 10)
    var cache = layer.makeCache(batch: 2, length: length)
    var y = Matrix<Double>(rows: x.rows, columns: 4)
    layer.forward(x, into: &y, cache: &cache)
    let qkv = x * layer.projectionWeights
    var expected = Matrix<Double>(rows: x.rows, columns: 4)
    for s in 0..<2 {
      var heads = Matrix<Double>(rows: length, columns: 4)
      for h in 0..<2 {
        for i in 0..<length {
          var logits = [Double](repeating: 0, count: length)
          for j in 0..<length {
            for c in 0..<2 { logits[j] += qkv[s * length + i, h * 2 + c] * qkv[s * length + j, 4 + h * 2 + c] }
            logits[j] /= 2.0.squareRoot()
          }
          let p = softmax(logits)
          for c in 0..<2 {
            for j in 0..<length { heads[i, h * 2 + c] += p[j] * qkv[s * length + j, 8 + h * 2 + c] }
          }
        }
      }
      let out = heads * layer.outputWeights
      for i in 0..<length { for c in 0..<4 { expected[s * length + i, c] = out[i, c] } }
    }
    #expect(y.maxAbsDifference(expected) < 1e-12)
  }

  @Test("bad shapes are refused")
  func refusals() {
    #expect(throws: ModelError.self) { try MultiHeadSelfAttention<Double>(width: 6, heads: 4, seed: 1) }
    #expect(throws: ModelError.self) { try MultiHeadSelfAttention<Double>(width: 0, heads: 1, seed: 1) }
  }
}
