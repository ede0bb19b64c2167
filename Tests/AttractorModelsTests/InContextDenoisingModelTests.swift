import AttractorCore
import AttractorLinearAlgebra
import AttractorModels
import Foundation
import Testing

/// Plain prompts for the model tests (the task generators live in AttractorExperiments).
struct PlainPrompts<Scalar: LinearAlgebraScalar>: AttentionPrompts {
  var contexts: Matrix<Scalar>
  var queries: Matrix<Scalar>
  var targets: Matrix<Scalar>

  init(batch b: Int, length l: Int, dimension n: Int, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    contexts = rng.gaussianMatrix(rows: b * l, columns: n, standardDeviation: 1 / Double(n).squareRoot())
    queries = rng.gaussianMatrix(rows: b, columns: n, standardDeviation: 1 / Double(n).squareRoot())
    targets = rng.gaussianMatrix(rows: b, columns: n, standardDeviation: 1 / Double(n).squareRoot())
  }
}

@Suite("In-context denoising: the context energy and one-layer attention")
struct InContextDenoisingModelTests {
  @Test("The energy equals ‖s‖²/(2α) − β⁻¹ log Σ exp(β x_tᵀ s), computed directly")
  func energyClosedForm() throws {
    let x = gaussianPatterns(7, 5, seed: 1, as: Double.self)
    for (alpha, beta) in [(1.0, 1.0), (1.6, 0.2), (0.5, 5.0)] {
      let e = try ContextEnergy(context: x, alpha: alpha, beta: beta)
      var rng = SeededGenerator(seed: 2)
      let s: Matrix<Double> = rng.gaussianMatrix(rows: 4, columns: 5)
      let values = e.energy(s)
      for r in 0..<4 {
        let state = s.row(r)
        let logits = (0..<7).map { t in beta * zip(x.row(t), state).reduce(0) { $0 + $1.0 * $1.1 } }
        let m = logits.max()!
        let lse = m + log(logits.reduce(0) { $0 + exp($1 - m) })
        let direct = state.reduce(0) { $0 + $1 * $1 } / (2 * alpha) - lse / beta
        #expect(
          abs(values[r] - direct) < 1e-12 * max(1, abs(direct)), "α=\(alpha) β=\(beta): \(values[r]) vs \(direct)")
      }
    }
  }

  @Test("Gradient and Hessian agree with central finite differences")
  func derivatives() throws {
    let x = gaussianPatterns(9, 6, seed: 3, as: Double.self)
    let e = try ContextEnergy(context: x, alpha: 1.6, beta: 2.5)
    var rng = SeededGenerator(seed: 4)
    for _ in 0..<3 {
      let s: [Double] = rng.gaussianMatrix(rows: 1, columns: 6, standardDeviation: 0.5).elements
      let g = e.gradient(Matrix(rows: 1, columns: 6, elements: s)).elements
      let fd = FiniteDifferences.gradient(of: e, at: s, step: 1e-5)
      #expect(maxAbs(g, fd) < 1e-8, "gradient \(g) vs \(fd)")
      let h = e.hessian(at: s)
      let fdh = FiniteDifferences.hessian(of: e, at: s, step: 1e-4)
      #expect(h.maxAbsDifference(fdh) < 1e-6)
      // The update's Jacobian is I − αH.
      let j = e.jacobian(at: s)
      #expect(j.maxAbsDifference(Matrix.identity(6) - 1.6 * h) < 1e-12)
    }
  }

  @Test("One gradient step of size α from x̃ equals softmax attention with W_KQ = βI, W_PV = αI, to rounding")
  func oneStepEquivalence() throws {
    let n = 8, l = 30, b = 5
    for (alpha, beta) in [(1.0, 1.0), (1.607, 0.194), (1.0, 5.127)] {
      let prompts = PlainPrompts<Double>(batch: b, length: l, dimension: n, seed: 5)
      let attention = try OneLayerAttention<Double>.scaledIdentity(
        variant: .softmax, dimension: n, beta: beta, alpha: alpha)
      let out = attention.denoise(prompts)
      for r in 0..<b {
        let context = prompts.contexts.rows(at: (r * l)..<((r + 1) * l))
        let energy = try ContextEnergy(context: context, alpha: alpha, beta: beta)
        let q = prompts.queries.row(r)
        let g = energy.gradient(Matrix(rows: 1, columns: n, elements: q)).elements
        let step = zip(q, g).map { $0 - alpha * $1 }
        let update = energy.update(at: q)
        #expect(maxAbs(out.row(r), step) < 1e-14, "α=\(alpha) β=\(beta) prompt \(r)")
        #expect(maxAbs(out.row(r), update) < 1e-14)
      }
      // Float: to Float rounding.
      let pf = PlainPrompts<Float>(batch: b, length: l, dimension: n, seed: 5)
      let af = try OneLayerAttention<Float>.scaledIdentity(
        variant: .softmax, dimension: n, beta: Float(beta), alpha: Float(alpha))
      let ef = try ContextEnergy(context: pf.contexts.rows(at: 0..<l), alpha: Float(alpha), beta: Float(beta))
      #expect(maxAbs(af.denoise(pf).row(0), ef.update(at: pf.queries.row(0))) < 1e-6)
    }
  }

  @Test(
    "Attention gradients agree with central finite differences (linear and softmax)", arguments: ["linear", "softmax"])
  func attentionGradients(variantName: String) throws {
    let variant = OneLayerAttention<Double>.Variant(rawValue: variantName)!
    let n = 4, l = 6, b = 3
    let prompts = PlainPrompts<Double>(batch: b, length: l, dimension: n, seed: 6)
    let model = try OneLayerAttention<Double>.random(variant: variant, dimension: n, scale: 1.5, seed: 7)
    var ws = model.makeWorkspace(batchSize: b, contextLength: l)
    model.lossAndGradients(prompts, workspace: &ws)
    let h = 1e-6
    for which in 0..<2 {
      let analytic = which == 0 ? ws.keyQueryGradient : ws.projectionValueGradient
      for i in 0..<n {
        for j in 0..<n {
          func shifted(_ delta: Double) throws -> Double {
            var kq = model.keyQuery, pv = model.projectionValue
            if which == 0 { kq[i, j] += delta } else { pv[i, j] += delta }
            return try OneLayerAttention(variant: variant, keyQuery: kq, projectionValue: pv).loss(prompts)
          }
          let fd = (try shifted(h) - shifted(-h)) / (2 * h)
          #expect(
            abs(analytic[i, j] - fd) < 1e-7 * max(1, abs(fd)),
            "\(variant) W\(which) [\(i),\(j)]: \(analytic[i, j]) vs \(fd)")
        }
      }
    }
  }

  @Test("Bad parameters are refused: α, β ≤ 0, empty or non-finite contexts, mismatched weights")
  func badParameters() {
    let x = gaussianPatterns(3, 2, seed: 8, as: Double.self)
    #expect(throws: ModelError.self) { try ContextEnergy(context: x, alpha: 0, beta: 1) }
    #expect(throws: ModelError.self) { try ContextEnergy(context: x, alpha: 1, beta: -1) }
    #expect(throws: ModelError.self) {
      try ContextEnergy(context: Matrix<Double>(rows: 0, columns: 2), alpha: 1, beta: 1)
    }
    var bad = x
    bad[0, 0] = .nan
    #expect(throws: ModelError.self) { try ContextEnergy(context: bad, alpha: 1, beta: 1) }
    #expect(throws: ModelError.self) {
      try OneLayerAttention(variant: .linear, keyQuery: Matrix<Double>.identity(3), projectionValue: .identity(4))
    }
    let model = try! OneLayerAttention<Double>.scaledIdentity(variant: .linear, dimension: 2, beta: 1, alpha: 1)
    var prompts = PlainPrompts<Double>(batch: 2, length: 3, dimension: 2, seed: 9)
    prompts.contexts = Matrix(rows: 5, columns: 2)
    #expect(throws: ModelError.self) { try model.validate(prompts) }
  }
}
