import AttractorCore
import AttractorLinearAlgebra
import Foundation
import Testing

@testable import AttractorModels

@Suite("Global workspace layer (AiT)")
struct GlobalWorkspaceLayerTests {
  /// 8 × 8 images in 2 × 2 patches: N = 16 patches of width E = 8; M = 3 priors of width D = 4, two heads.
  func configuration(
    bottleneck: Int = 4, beta: Double = 1, steps: Int = 3, momentum: Double? = nil, balance: Double = 0,
    initialization: PriorInitialization = .gaussian, scope: SelectionScope = .image,
    competition: PriorCompetition = .none, update: MemoryUpdate = .ema
  ) -> GlobalWorkspaceConfiguration {
    GlobalWorkspaceConfiguration(
      imageSize: 8, patchSize: 2, width: 8, priorCount: 3, priorWidth: 4, heads: 2, bottleneck: bottleneck, beta: beta,
      hopfieldSteps: steps, memoryMomentum: momentum, balanceCoefficient: balance,
      priorInitialization: initialization, memoryUpdate: update, selectionScope: scope, competition: competition)
  }

  /// Central differences of `probeObjective` against the analytic ∂γ (``MemoryUpdate/gradient``), for
  /// every entry of the memory (perturbed off the sphere: the Euclidean gradient AdamW uses); returns
  /// the largest error relative to max(1, |∂γ|) and the largest |∂γ|.
  func largestMemoryGradientError(
    _ layer: GlobalWorkspaceLayer<Double>, images: Int, outputWeights: Bool
  ) throws -> (error: Double, size: Double) {
    let c = layer.configuration
    let tokens = random(images * c.patchCount, c.width, seed: 11)
    let gY =
      outputWeights
      ? random(tokens.rows, c.width, seed: 12) : Matrix<Double>(rows: tokens.rows, columns: c.width)
    let analytic = try layer.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: nil)
    let h = 1e-6
    var worst = 0.0
    for i in 0..<c.priorCount {
      for j in 0..<c.priorWidth {
        var plus = layer, minus = layer
        plus.memory[i, j] += h
        minus.memory[i, j] -= h
        let fPlus = try plus.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: nil).value
        let fMinus = try minus.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: nil).value
        let exact = analytic.memoryGradient[i, j]
        worst = max(worst, abs((fPlus - fMinus) / (2 * h) - exact) / max(1, abs(exact)))
      }
    }
    return (worst, analytic.memoryGradient.elements.map(abs).max()!)
  }

  @Test(
    "gradient-trained memory: ∂γ (upscaling and, through the balance loss, the queries) matches central differences",
    arguments: [(1.0, 1), (1.0, 3), (2.5, 3)])
  func memoryGradients(beta: Double, steps: Int) throws {
    // Everything together: the retrieval's ∂U W_uᵀ and the balance loss's ∂Q W_Qᵀ.
    let layer = try GlobalWorkspaceLayer<Double>(
      configuration: configuration(beta: beta, steps: steps, balance: 1, update: .gradient), seed: 21)
    let all = try largestMemoryGradientError(layer, images: 2, outputWeights: true)
    #expect(all.error < 1e-6, "relative error \(all.error)")
    #expect(all.size > 1e-3, "∂γ is zero")
    // The balance loss alone (no ∂Y): only the queries' share, still non-zero.
    let balance = try largestMemoryGradientError(layer, images: 2, outputWeights: false)
    #expect(balance.error < 1e-6, "relative error \(balance.error)")
    #expect(balance.size > 1e-4, "the balance loss does not reach γ")
    // The retrieval alone (c = 0): only the upscaling's share.
    let retrieval = try GlobalWorkspaceLayer<Double>(
      configuration: configuration(beta: beta, steps: steps, balance: 0, update: .gradient), seed: 21)
    let up = try largestMemoryGradientError(retrieval, images: 2, outputWeights: true)
    #expect(up.error < 1e-6, "relative error \(up.error)")
    #expect(up.size > 1e-3, "the retrieval does not reach γ")
    // The other parameters and the tokens keep their exact gradients with this memory; W_V and W_O
    // reach nothing (O is not computed), so their gradient is exactly zero.
    let errors = try largestGradientError(layer, images: 2, outputWeights: true, bottleneckWeights: false)
    for k in 0..<7 { #expect(errors.parameters[k] < 1e-6, "\(GlobalWorkspaceParameters<Double>.names[k])") }
    #expect(errors.tokens < 1e-6)
    for k in [0, 1, 2, 5, 6, 7] { #expect(errors.sizes[k] > 1e-4) }
    #expect(errors.sizes[3] == 0 && errors.sizes[4] == 0)
    // The ema layer with the same weights leaves ∂γ at zero (its memory is a state).
    let ema = try GlobalWorkspaceLayer<Double>(configuration: configuration(balance: 1), seed: 21)
    let c = ema.configuration
    let probe = try ema.probeObjective(
      tokens: random(2 * c.patchCount, c.width, seed: 11), outputWeights: random(2 * c.patchCount, c.width, seed: 12),
      bottleneckOutputWeights: nil)
    #expect(probe.memoryGradient.elements.allSatisfy { $0 == 0 })
  }

  @Test("gradient-trained memory: a training forward pass takes no EMA step")
  func gradientMemoryHasNoEMA() throws {
    var layer = try GlobalWorkspaceLayer<Double>(
      configuration: configuration(momentum: 0.9, balance: 1, update: .gradient), seed: 22)
    let before = layer.memory
    let c = layer.configuration
    var ws = layer.makeWorkspace(batchSize: 2)
    _ = try layer.forward(random(2 * c.patchCount, c.width, seed: 3), updateMemory: true, workspace: &ws)
    #expect(layer.memory == before)
    #expect(ws.balanceLoss > 0)
  }

  func random(_ rows: Int, _ columns: Int, seed: UInt64, scale: Double = 1) -> Matrix<Double> {
    var rng = SeededGenerator(seed: seed)
    return rng.gaussianMatrix(rows: rows, columns: columns, standardDeviation: scale)
  }

  /// Central differences of `probeObjective` against the analytic gradient, for every parameter
  /// entry and every token entry; returns the largest error relative to max(1, |gradient|).
  func largestGradientError(
    _ layer: GlobalWorkspaceLayer<Double>, images: Int, outputWeights: Bool, bottleneckWeights: Bool
  ) throws -> (parameters: [Double], tokens: Double, sizes: [Double]) {
    let c = layer.configuration
    let tokens = random(images * c.patchCount, c.width, seed: 11)
    let gY =
      outputWeights
      ? random(tokens.rows, c.width, seed: 12) : Matrix<Double>(rows: tokens.rows, columns: c.width)
    let gO = bottleneckWeights ? random(images * c.priorCount, c.priorWidth, seed: 13) : nil
    let analytic = try layer.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: gO)
    let h = 1e-6
    func error(_ numeric: Double, _ exact: Double) -> Double { abs(numeric - exact) / max(1, abs(exact)) }
    var parameterErrors: [Double] = []
    for k in 0..<7 {
      var worst = 0.0
      let shape = layer.parameters.all[k]
      for i in 0..<shape.rows {
        for j in 0..<shape.columns {
          var plus = layer, minus = layer
          var all = plus.parameters.all
          all[k][i, j] += h
          plus.parameters.all = all
          all = minus.parameters.all
          all[k][i, j] -= h
          minus.parameters.all = all
          let fPlus = try plus.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: gO).value
          let fMinus = try minus.probeObjective(tokens: tokens, outputWeights: gY, bottleneckOutputWeights: gO).value
          worst = max(worst, error((fPlus - fMinus) / (2 * h), analytic.gradients.all[k][i, j]))
        }
      }
      parameterErrors.append(worst)
    }
    var tokenError = 0.0
    for i in 0..<tokens.rows {
      for j in 0..<tokens.columns {
        var plus = tokens, minus = tokens
        plus[i, j] += h
        minus[i, j] -= h
        let fPlus = try layer.probeObjective(tokens: plus, outputWeights: gY, bottleneckOutputWeights: gO).value
        let fMinus = try layer.probeObjective(tokens: minus, outputWeights: gY, bottleneckOutputWeights: gO).value
        tokenError = max(tokenError, error((fPlus - fMinus) / (2 * h), analytic.tokenGradient[i, j]))
      }
    }
    // The largest analytic entry of each parameter's gradient and of ∂X (so that no check passes on zeros).
    let sizes =
      analytic.gradients.all.map { $0.elements.map(abs).max()! } + [analytic.tokenGradient.elements.map(abs).max()!]
    return (parameterErrors, tokenError, sizes)
  }

  @Test("bottleneck attention: analytic gradients match central differences")
  func bottleneckGradients() throws {
    let layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(balance: 0), seed: 1)
    let errors = try largestGradientError(layer, images: 2, outputWeights: false, bottleneckWeights: true)
    // squash, query, key, value, output carry the bottleneck's gradient; upscaling none here.
    for k in 0..<5 { #expect(errors.parameters[k] < 1e-6, "\(GlobalWorkspaceParameters<Double>.names[k])") }
    #expect(errors.tokens < 1e-6)
    for k in [0, 1, 2, 3, 4, 7] { #expect(errors.sizes[k] > 1e-3) }
  }

  @Test("balance loss: analytic gradients match central differences")
  func balanceGradients() throws {
    let layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(balance: 1), seed: 2)
    let c = layer.configuration
    let tokens = random(2 * c.patchCount, c.width, seed: 11)
    let zero = Matrix<Double>(rows: tokens.rows, columns: c.width)
    let probe = try layer.probeObjective(tokens: tokens, outputWeights: zero, bottleneckOutputWeights: nil)
    #expect(probe.value > 0.01, "the balance loss is not trivially zero")
    let errors = try largestGradientError(layer, images: 2, outputWeights: false, bottleneckWeights: false)
    for k in 0..<4 { #expect(errors.parameters[k] < 1e-6, "\(GlobalWorkspaceParameters<Double>.names[k])") }
    #expect(errors.tokens < 1e-6)
    for k in [0, 1, 2, 7] { #expect(errors.sizes[k] > 1e-4) }
    #expect(probe.gradients.query.elements.contains { abs($0) > 1e-6 }, "the balance loss reaches W_Q")
  }

  @Test(
    "upscaling and Hopfield steps: analytic gradients match central differences",
    arguments: [(1.0, 1), (1.0, 3), (2.5, 3)])
  func retrievalGradients(beta: Double, steps: Int) throws {
    let layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(beta: beta, steps: steps), seed: 3)
    let errors = try largestGradientError(layer, images: 2, outputWeights: true, bottleneckWeights: false)
    #expect(errors.parameters[5] < 1e-6, "upscale")
    #expect(errors.parameters[6] < 1e-6, "upscaleBias")
    #expect(errors.tokens < 1e-6)
    for k in [5, 6, 7] { #expect(errors.sizes[k] > 1e-3) }
  }

  @Test("all parts together: analytic gradients match central differences")
  func combinedGradients() throws {
    let layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(bottleneck: 5, balance: 0.3), seed: 4)
    let errors = try largestGradientError(layer, images: 3, outputWeights: true, bottleneckWeights: true)
    for k in 0..<7 { #expect(errors.parameters[k] < 1e-6, "\(GlobalWorkspaceParameters<Double>.names[k])") }
    #expect(errors.tokens < 1e-6)
    for k in 0..<8 { #expect(errors.sizes[k] > 1e-3) }
  }

  @Test(
    "batch-wide top-k and competition among the priors: analytic gradients match central differences",
    arguments: [(SelectionScope.batch, PriorCompetition.none), (.image, .priors), (.batch, .priors)])
  func selectionVariantGradients(scope: SelectionScope, competition: PriorCompetition) throws {
    let c = configuration(bottleneck: 5, balance: 0.3, scope: scope, competition: competition)
    let layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 41)
    let errors = try largestGradientError(layer, images: 3, outputWeights: true, bottleneckWeights: true)
    for k in 0..<7 { #expect(errors.parameters[k] < 1e-6, "\(GlobalWorkspaceParameters<Double>.names[k])") }
    #expect(errors.tokens < 1e-6)
    for k in 0..<8 { #expect(errors.sizes[k] > 1e-3) }
  }

  @Test("batch-wide top-k: each prior admits the k largest logits among all B·N patches of the batch")
  func batchTopK() throws {
    let c = configuration(bottleneck: 5, momentum: 0.9, scope: .batch)
    var layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 42)
    let before = layer.memory
    let images = 3, n = c.patchCount, m = c.priorCount, dh = c.headWidth
    let x = random(images * n, c.width, seed: 43)
    var ws = layer.makeWorkspace(batchSize: images)
    let y = try layer.forward(x, updateMemory: true, workspace: &ws)
    // One selection group: rows h·M + m of the weights hold the whole batch's B·N columns.
    let w = ws.weights.elements, a = ws.admitted.elements, g = images * n
    for h in 0..<c.heads {
      for r in 0..<m {
        let base = (h * m + r) * g
        let mask = Array(a[base..<(base + g)]), row = Array(w[base..<(base + g)])
        let logits = (0..<g).map { j in
          (0..<dh).reduce(0.0) { $0 + ws.queries[r, h * dh + $1] * ws.keys[j, h * dh + $1] }
        }
        let largest = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5))
        #expect(Set(mask.indices.filter { mask[$0] == 1 }) == largest)
        #expect(abs(row.reduce(0, +) - 1) < 1e-12)
      }
    }
    // The memory steps toward the batch's single output O (rows 0 ..< M).
    for r in 0..<m {
      var row = (0..<c.priorWidth).map { j in 0.9 * before[r, j] + 0.1 * ws.bottleneckOutput[r, j] }
      let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
      row = row.map { $0 / norm }
      for j in 0..<c.priorWidth { #expect(abs(layer.memory[r, j] - row[j]) < 1e-12) }
    }
    // An image's output does not depend on the rest of its batch (the retrieval uses only the memory).
    var alone = layer.makeWorkspace(batchSize: 1)
    var frozen = layer
    let single = try frozen.forward(x.rows(at: 0..<n), updateMemory: false, workspace: &alone)
    var all = layer.makeWorkspace(batchSize: images)
    let batch = try frozen.forward(x, updateMemory: false, workspace: &all)
    #expect(single.maxAbsDifference(batch.rows(at: 0..<n)) < 1e-12)
    #expect(y.rows == images * n)
  }

  @Test("competition among the priors: P = C renormalised over the admitted patches, C the softmax over priors")
  func competitionWeights() throws {
    for k in [16, 4] {
      let c = configuration(bottleneck: k, competition: .priors)
      let layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 44)
      let images = 2, n = c.patchCount, m = c.priorCount, dh = c.headWidth
      var ws = layer.makeWorkspace(batchSize: images)
      layer.bottleneck(random(images * n, c.width, seed: 45), workspace: &ws)
      let s = 1 / Double(dh).squareRoot()
      for image in 0..<images {
        for h in 0..<c.heads {
          // C[r, j] = exp(A[r, j]) / Σ_r' exp(A[r', j]), computed in loops.
          var logits = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
          for r in 0..<m {
            for j in 0..<n {
              logits[r][j] =
                s * (0..<dh).reduce(0.0) { $0 + ws.queries[r, h * dh + $1] * ws.keys[image * n + j, h * dh + $1] }
            }
          }
          for r in 0..<m {
            let competitive = (0..<n).map { j in
              Foundation.exp(logits[r][j]) / (0..<m).reduce(0.0) { $0 + Foundation.exp(logits[$1][j]) }
            }
            let admitted = Set(competitive.indices.sorted { competitive[$0] > competitive[$1] }.prefix(k))
            let total = admitted.reduce(0.0) { $0 + competitive[$1] }
            let row = (image * c.heads + h) * m + r
            for j in 0..<n {
              let expected = admitted.contains(j) ? competitive[j] / total : 0
              #expect(abs(ws.weights[row, j] - expected) < 1e-12)
            }
          }
        }
      }
    }
  }

  @Test("the top-k admits exactly k patches per prior and head; the admitted weights sum to 1")
  func topKMask() throws {
    let layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(bottleneck: 3), seed: 5)
    let c = layer.configuration
    var ws = layer.makeWorkspace(batchSize: 2)
    layer.bottleneck(random(2 * c.patchCount, c.width, seed: 6), workspace: &ws)
    let n = c.patchCount, m = c.priorCount, dh = c.headWidth
    for row in 0..<ws.weights.rows {
      let w = ws.weights.row(row), mask = ws.admitted.row(row)
      #expect(mask.filter { $0 == 1 }.count == 3)
      #expect(abs(w.reduce(0, +) - 1) < 1e-12)
      #expect(zip(w, mask).allSatisfy { $1 == 1 || $0 == 0 })
      // The admitted patches are those of the three largest logits q_h · k_h, recomputed here.
      let image = row / (c.heads * m), h = (row / m) % c.heads, r = row % m
      let logits = (0..<n).map { j in
        (0..<dh).reduce(0.0) { $0 + ws.queries[r, h * dh + $1] * ws.keys[image * n + j, h * dh + $1] }
      }
      let largest = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(3))
      #expect(Set(mask.indices.filter { mask[$0] == 1 }) == largest)
    }
  }

  @Test("with k = N and the EMA off, the bottleneck is plain multi-head cross-attention")
  func fullBottleneckIsCrossAttention() throws {
    let c = configuration(bottleneck: 16, momentum: nil)
    let layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 7)
    let images = 2
    let x = random(images * c.patchCount, c.width, seed: 8)
    var ws = layer.makeWorkspace(batchSize: images)
    var moving = layer
    _ = try moving.forward(x, updateMemory: true, workspace: &ws)
    #expect(moving.memory == layer.memory, "with the momentum off the memory never moves")
    // Independent loops: S = X W_s, Q = γ W_Q, K = S W_K, V = S W_V, per head softmax(s Q_h K_hᵀ) V_h, then W_O.
    let p = layer.parameters
    let n = c.patchCount, d = c.priorWidth, dh = c.headWidth, m = c.priorCount
    let q = layer.memory * p.query
    let s = 1 / Double(dh).squareRoot()
    for image in 0..<images {
      let xs = x.rows(at: (image * n)..<((image + 1) * n))
      let squashed = xs * p.squash
      let k = squashed * p.key, v = squashed * p.value
      var heads = Matrix<Double>(rows: m, columns: d)
      for h in 0..<c.heads {
        for r in 0..<m {
          var logits = [Double](repeating: 0, count: n)
          for j in 0..<n { for t in 0..<dh { logits[j] += s * q[r, h * dh + t] * k[j, h * dh + t] } }
          let top = logits.max()!
          let e = logits.map { Foundation.exp($0 - top) }
          let z = e.reduce(0, +)
          for t in 0..<dh { heads[r, h * dh + t] = (0..<n).reduce(0) { $0 + e[$1] / z * v[$1, h * dh + t] } }
        }
      }
      let expected = heads * p.output
      let got = ws.bottleneckOutput.rows(at: (image * m)..<((image + 1) * m))
      #expect(got.maxAbsDifference(expected) < 1e-12)
    }
  }

  @Test("the retrieval is the framework's modern Hopfield update with the upscaled priors as patterns")
  func retrievalIsModernHopfield() throws {
    for (beta, steps) in [(1.0, 3), (0.5, 1), (4.0, 10)] {
      let c = configuration(beta: beta, steps: steps)
      var layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 9)
      // U = γ W_u + b_u, computed here by loops.
      var bias = Matrix<Double>(rows: 1, columns: c.width)
      for j in 0..<c.width { bias[0, j] = 0.1 * Double(j) - 0.3 }
      layer.parameters.upscaleBias = bias
      var u = Matrix<Double>(rows: c.priorCount, columns: c.width)
      for r in 0..<c.priorCount {
        for j in 0..<c.width {
          u[r, j] =
            bias[0, j] + (0..<c.priorWidth).reduce(0) { $0 + layer.memory[r, $1] * layer.parameters.upscale[$1, j] }
        }
      }
      #expect(layer.upscaledPriors.maxAbsDifference(u) < 1e-12)
      let x = random(2 * c.patchCount, c.width, seed: 10)
      var ws = layer.makeWorkspace(batchSize: 2)
      let y = try layer.forward(x, updateMemory: false, workspace: &ws)
      let network = try ModernHopfield(patterns: u, beta: beta)
      var state = x
      var next = x
      var hw = network.makeWorkspace(batchSize: x.rows)
      for _ in 0..<steps {
        network.update(state, into: &next, workspace: &hw)
        state = next
      }
      #expect(y.maxAbsDifference(x + state) < 1e-12, "Y = X + f^T(X) for β = \(beta), T = \(steps)")
    }
  }

  @Test("every retrieval step does not increase the modern Hopfield energy of the upscaled priors")
  func retrievalDescendsEnergy() throws {
    let c = configuration(beta: 2, steps: 4)
    let layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 21)
    let x = random(2 * c.patchCount, c.width, seed: 22)
    var ws = layer.makeWorkspace(batchSize: 2)
    try layer.retrieve(x, memory: layer.memory, workspace: &ws)
    #expect(ws.upscaled.maxAbsDifference(layer.upscaledPriors) < 1e-12)
    let network = try ModernHopfield(patterns: layer.upscaledPriors, beta: 2.0)
    var hw = network.makeWorkspace(batchSize: x.rows)
    var previous = [Double](repeating: 0, count: x.rows)
    network.energy(ws.states[0], into: &previous, workspace: &hw)
    for t in 1...c.hopfieldSteps {
      var energies = [Double](repeating: 0, count: x.rows)
      network.energy(ws.states[t], into: &energies, workspace: &hw)
      #expect(zip(energies, previous).allSatisfy { $0 <= $1 + 1e-12 }, "step \(t)")
      #expect(zip(energies, previous).contains { $0 < $1 - 1e-6 }, "step \(t) moves")
      previous = energies
    }
  }

  @Test("a fixed seed reproduces the layer and its output exactly")
  func seededReproducibility() throws {
    let c = configuration(momentum: 0.9, balance: 0.01)
    var a = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 31)
    var b = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 31)
    let x = random(2 * c.patchCount, c.width, seed: 32)
    var wa = a.makeWorkspace(batchSize: 2), wb = b.makeWorkspace(batchSize: 2)
    let ya = try a.forward(x, updateMemory: true, workspace: &wa)
    let yb = try b.forward(x, updateMemory: true, workspace: &wb)
    #expect(ya == yb && a.memory == b.memory && wa.balanceLoss == wb.balanceLoss)
    let other = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 33)
    #expect(other.parameters != a.parameters)
  }

  @Test(
    "the EMA update keeps every prior a unit vector and follows μγ + (1 − μ)Ō", arguments: PriorInitialization.allCases)
  func emaKeepsRowsNormalised(initialization: PriorInitialization) throws {
    let c = configuration(momentum: 0.7, initialization: initialization)
    var layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 12)
    for r in 0..<c.priorCount {
      #expect(abs(layer.memory.row(r).reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
    }
    var ws = layer.makeWorkspace(batchSize: 3)
    for batch in 0..<5 {
      let before = layer.memory
      _ = try layer.forward(
        random(3 * c.patchCount, c.width, seed: 100 + UInt64(batch), scale: 3), updateMemory: true, workspace: &ws)
      // Expected: normalise(0.7 γ + 0.3 mean_b O_b) row by row.
      for r in 0..<c.priorCount {
        var row = (0..<c.priorWidth).map { j in
          0.7 * before[r, j] + 0.3 * (0..<3).reduce(0) { $0 + ws.bottleneckOutput[$1 * c.priorCount + r, j] } / 3
        }
        let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        row = row.map { $0 / norm }
        for j in 0..<c.priorWidth { #expect(abs(layer.memory[r, j] - row[j]) < 1e-12) }
        #expect(abs(layer.memory.row(r).reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
      }
      #expect(layer.memory != before)
    }
  }

  @Test("the identity initialisation is orthonormal when M ≤ D")
  func identityInitialisation() {
    let g = GlobalWorkspaceLayer<Double>.initialMemory(configuration(initialization: .identity), seed: 0)
    #expect(g.multiplied(by: g, transposeOther: true).maxAbsDifference(.identity(3)) < 1e-15)
  }

  @Test("Float and Double agree")
  func floatMatchesDouble() throws {
    let c = configuration(balance: 0.5)
    let layer = try GlobalWorkspaceLayer<Double>(configuration: c, seed: 14)
    let p = layer.parameters
    func f(_ m: Matrix<Double>) -> Matrix<Float> {
      Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map(Float.init))
    }
    let single = try GlobalWorkspaceLayer<Float>(
      configuration: c,
      parameters: GlobalWorkspaceParameters(
        squash: f(p.squash), query: f(p.query), key: f(p.key), value: f(p.value), output: f(p.output),
        upscale: f(p.upscale), upscaleBias: f(p.upscaleBias)),
      memory: f(layer.memory))
    let x = random(2 * c.patchCount, c.width, seed: 15)
    let g = random(x.rows, c.width, seed: 16)
    let double = try layer.probeObjective(tokens: x, outputWeights: g, bottleneckOutputWeights: nil)
    let float = try single.probeObjective(tokens: f(x), outputWeights: f(g), bottleneckOutputWeights: nil)
    #expect(abs(double.value - float.value) < 1e-3 * max(1, abs(double.value)))
    for k in 0..<7 {
      let a = double.gradients.all[k].elements, b = float.gradients.all[k].elements
      #expect(zip(a, b).allSatisfy { abs($0 - Double($1)) < 1e-3 * max(1, abs($0)) })
    }
  }

  @Test("bad configurations are refused with a named parameter")
  func badConfigurations() {
    func refused(_ name: String, _ c: GlobalWorkspaceConfiguration) {
      #expect {
        try GlobalWorkspaceLayer<Double>(configuration: c, seed: 0)
      } throws: { error in
        guard case .invalidParameter(let parameter, _, _) = error as? ModelError else { return false }
        return parameter == name
      }
    }
    var c = configuration()
    c.bottleneck = 17
    refused("bottleneck", c)  // k > N = 16
    c = configuration()
    c.bottleneck = 0
    refused("bottleneck", c)
    c = configuration()
    c.priorWidth = 12
    refused("priorWidth", c)  // D > E = 8
    c = configuration()
    c.priorCount = 0
    refused("priorCount", c)
    for beta in [0, -1, Double.nan, .infinity] {
      c = configuration()
      c.beta = beta
      refused("beta", c)
    }
    c = configuration()
    c.imageSize = 9
    refused("imageSize", c)  // 9 is not a multiple of the patch size 2
    c = configuration()
    c.heads = 3
    refused("heads", c)  // D = 4 is not a multiple of 3
    c = configuration()
    c.hopfieldSteps = 0
    refused("hopfieldSteps", c)
    c = configuration(momentum: 1)
    refused("memoryMomentum", c)
    c = configuration(balance: -1)
    refused("balanceCoefficient", c)
  }

  @Test("bad tokens and memories are refused")
  func badInputs() throws {
    var layer = try GlobalWorkspaceLayer<Double>(configuration: configuration(), seed: 0)
    var ws = layer.makeWorkspace(batchSize: 1)
    #expect(throws: ModelError.self) {
      _ = try layer.forward(Matrix(rows: 15, columns: 8), updateMemory: false, workspace: &ws)
    }
    #expect(throws: ModelError.self) {
      _ = try layer.forward(Matrix(rows: 16, columns: 7), updateMemory: false, workspace: &ws)
    }
    var x = Matrix<Double>(rows: 16, columns: 8)
    x[3, 4] = .nan
    #expect(throws: ModelError.self) { _ = try layer.forward(x, updateMemory: false, workspace: &ws) }
    #expect(throws: ModelError.self) { try layer.setMemory(Matrix(rows: 3, columns: 4, repeating: 1)) }
    #expect(throws: ModelError.self) { try layer.setMemory(Matrix(rows: 2, columns: 4)) }
  }
}
