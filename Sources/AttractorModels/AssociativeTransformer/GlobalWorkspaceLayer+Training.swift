import AttractorCore
import AttractorLinearAlgebra

extension GlobalWorkspaceLayer {
  /// The gradient of ⟨∂Y, Y⟩ + ⟨∂O, O⟩ + L_bal after ``forward(_:updateMemory:workspace:)``, by a
  /// hand-written backward pass on the workspace's buffers (every product a strided BLAS GEMM, the
  /// softmax backward the C kernel of the attention training code).
  ///
  /// `outputGradient` is ∂Y (B·N × E); `bottleneckOutputGradient` is ∂O (B·M × D) or `nil` for none
  /// (in the AiT layer O feeds only the memory, which carries no gradient, so training passes `nil`
  /// and the bottleneck learns through the balance loss alone). Writes the parameter gradients into
  /// `gradients` and ∂X into `tokenGradient` (B·N × E). The memory is treated as a constant, except
  /// with ``MemoryUpdate/gradient``: then ∂γ = ∂U W_uᵀ + ∂Q W_Qᵀ goes into the workspace's
  /// ``Workspace/memoryGradient`` (and `bottleneckOutputGradient` must be `nil`: O is not computed).
  ///
  /// ```
  /// Hopfield step t (P = softmax(β ξᵗ Uᵀ), ξᵗ⁺¹ = P U):
  ///   ∂U += Pᵀ ∂ξᵗ⁺¹ + β ∂Zᵀ ξᵗ,   ∂Z = P ⊙ (∂P − rowsum(∂P ⊙ P)),  ∂P = ∂ξᵗ⁺¹ Uᵀ,  ∂ξᵗ = β ∂Z U
  /// upscaling U = γ W_u + b_u:   ∂W_u = γᵀ ∂U,  ∂b_u = 1ᵀ ∂U
  /// bottleneck (per image and head): ∂W_O = Hᵀ ∂O,  ∂H = ∂O W_Oᵀ,
  ///   ∂P_h = ∂H_h V_hᵀ + ∂L_bal/∂P_h,  ∂V_h = P_hᵀ ∂H_h,  ∂A_h = masked softmax backward,
  ///   ∂Q_h += s ∂A_h K_h,  ∂K_h = s ∂A_hᵀ Q_h,  ∂W_Q = γᵀ ∂Q,  ∂W_K = Sᵀ ∂K,  ∂W_V = Sᵀ ∂V,
  ///   ∂S = ∂K W_Kᵀ + ∂V W_Vᵀ,  ∂W_s = Xᵀ ∂S
  /// ∂X = ∂Y + ∂ξ⁰ + ∂S W_sᵀ
  /// ∂γ = ∂U W_uᵀ + ∂Q W_Qᵀ                     (``MemoryUpdate/gradient`` only)
  /// ```
  ///
  /// The masked softmax's backward is the ordinary one on P with zeros outside the top-k, so
  /// gradients reach the admitted logits only. The balance loss's importance term is
  /// differentiated (∂cv²/∂I_j = 2(I_j − Ī)/((N−1)(Ī² + ε)) − 2 var Ī/(N (Ī² + ε)²)); its load term
  /// counts admissions and has zero gradient almost everywhere.
  public func backward(
    tokens: Matrix<Scalar>, outputGradient: Matrix<Scalar>, bottleneckOutputGradient: Matrix<Scalar>?,
    workspace ws: inout Workspace, gradients: inout GlobalWorkspaceParameters<Scalar>,
    tokenGradient: inout Matrix<Scalar>
  ) {
    let c = configuration
    let b = ws.batchSize, rows = ws.batchSize * c.patchCount, d = c.priorWidth, m = c.priorCount, heads = c.heads,
      dh = c.headWidth
    let e = c.width, steps = c.hopfieldSteps
    let beta = Scalar(c.beta), s = Scalar(c.logitScale)
    precondition(tokens.rows == rows && tokens.columns == e, "backward: tokens must be B·N × E of the forward pass")
    precondition(outputGradient.rows == rows && outputGradient.columns == e, "backward: ∂Y must be B·N × E")
    precondition(tokenGradient.rows == rows && tokenGradient.columns == e, "backward: ∂X must be B·N × E")

    // Hopfield retrieval, step by step from the last.
    ws.dStateNext.assign(outputGradient)
    for t in stride(from: steps - 1, through: 0, by: -1) {
      // ∂U = Pᵀ ∂ξᵗ⁺¹ (+ the previous steps' contributions)
      Matrix.multiply(
        ws.probabilities[t], ws.dStateNext, transposeA: true, beta: t == steps - 1 ? 0 : 1, into: &ws.dUpscaled)
      // ∂P = ∂ξᵗ⁺¹ Uᵀ, then ∂Z
      Matrix.multiply(ws.dStateNext, ws.upscaled, transposeB: true, into: &ws.dLogits)
      ws.probabilities[t].withUnsafeBufferPointer { p in
        ws.dLogits.withUnsafeMutableBufferPointer { g in
          Scalar.softmaxBackwardInPlace(probabilities: p.baseAddress!, gradients: g.baseAddress!, rows: rows, count: m)
        }
      }
      Matrix.multiply(ws.dLogits, ws.states[t], transposeA: true, alpha: beta, beta: 1, into: &ws.dUpscaled)
      Matrix.multiply(ws.dLogits, ws.upscaled, alpha: beta, into: &ws.dState)  // ∂ξᵗ
      swap(&ws.dState, &ws.dStateNext)
    }
    // ∂X = ∂Y + ∂ξ⁰
    tokenGradient.assign(outputGradient)
    tokenGradient.withUnsafeMutableBufferPointer { g in
      ws.dStateNext.withUnsafeBufferPointer { d0 in for i in g.indices { g[i] += d0[i] } }
    }
    // Upscaling.
    Matrix.multiply(ws.usedMemory, ws.dUpscaled, transposeA: true, into: &gradients.upscale)
    let trainsMemory = c.memoryUpdate == .gradient
    if trainsMemory { Matrix.multiply(ws.dUpscaled, parameters.upscale, transposeB: true, into: &ws.dMemory) }
    gradients.upscaleBias.withUnsafeMutableBufferPointer { gb in
      ws.dUpscaled.withUnsafeBufferPointer { du in
        for j in 0..<e { gb[j] = 0 }
        for r in 0..<m { for j in 0..<e { gb[j] += du[r * e + j] } }
      }
    }

    // Bottleneck attention and balance loss, per selection group (an image, or the whole batch).
    let groups = c.selectionGroups(batchSize: b), n = c.selectionPatches(batchSize: b)
    let compete = c.competition == .priors
    let balanceScale = c.balanceCoefficient / Double(groups)
    guard bottleneckOutputGradient != nil || balanceScale > 0 else {
      for k in [0, 1, 2, 3, 4] {
        var all = gradients.all
        all[k].withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
        gradients.all = all
      }
      return
    }
    if let dO = bottleneckOutputGradient {
      precondition(dO.rows == b * m && dO.columns == d, "backward: ∂O must be B·M × D")
      precondition(!trainsMemory, "backward: O is not computed with a gradient-trained memory; pass no ∂O")
      Matrix.multiply(ws.headOutputs, dO, transposeA: true, into: &gradients.output)
      Matrix.multiply(dO, parameters.output, transposeB: true, into: &ws.dHeads)
    } else {
      gradients.output.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
      ws.dHeads.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
      ws.dValues.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
    }
    // Without ∂O the head outputs carry no gradient: ∂P_h and ∂V_h are zero (no GEMMs needed).
    let readsOutput = bottleneckOutputGradient != nil
    for image in 0..<groups {
      for h in 0..<heads {
        let block = (image * heads + h) * m * n
        if !readsOutput {
          ws.dWeights.withUnsafeMutableBufferPointer { dP in for i in 0..<(m * n) { dP[i] = 0 } }
        }
        if readsOutput {
          ws.dHeads.withUnsafeBufferPointer { dH in
            ws.values.withUnsafeBufferPointer { v in
              ws.dWeights.withUnsafeMutableBufferPointer { dP in
                // ∂P_h = ∂H_h V_hᵀ   (M × N)
                Scalar.gemm(
                  transposeA: false, transposeB: true, m: m, n: n, k: dh, alpha: 1,
                  a: dH.baseAddress! + image * m * d + h * dh, lda: d, b: v.baseAddress! + image * n * d + h * dh,
                  ldb: d, beta: 0, c: dP.baseAddress!, ldc: n)
              }
            }
            ws.weights.withUnsafeBufferPointer { p in
              ws.dValues.withUnsafeMutableBufferPointer { dV in
                // ∂V_h = P_hᵀ ∂H_h   (N × D_h)
                Scalar.gemm(
                  transposeA: true, transposeB: false, m: n, n: dh, k: m, alpha: 1, a: p.baseAddress! + block, lda: n,
                  b: dH.baseAddress! + image * m * d + h * dh, ldb: d, beta: 0,
                  c: dV.baseAddress! + image * n * d + h * dh, ldc: d)
              }
            }
          }
        }
        if balanceScale > 0 && n > 1 {
          ws.weights.withUnsafeBufferPointer { p in
            Self.columnSums(p.baseAddress! + block, rows: m, columns: n, into: &ws.importance)
          }
          var mean = 0.0
          for j in 0..<n { mean += ws.importance[j] }
          mean /= Double(n)
          var variance = 0.0
          for j in 0..<n { variance += (ws.importance[j] - mean) * (ws.importance[j] - mean) }
          variance /= Double(n - 1)
          let q = mean * mean + 1e-10
          // The second term is the same for every patch j; since every row of P sums to 1 it is
          // removed again by the softmax backward (shift invariance), but it is kept so that the
          // formula is the full derivative of cv².
          ws.dWeights.withUnsafeMutableBufferPointer { dP in
            for j in 0..<n {
              let g =
                balanceScale
                * (2 * (ws.importance[j] - mean) / (Double(n - 1) * q) - 2 * variance * mean / (Double(n) * q * q))
              let gs = Scalar(g)
              for r in 0..<m { dP[r * n + j] += gs }
            }
          }
        }
        ws.weights.withUnsafeBufferPointer { p in
          ws.dWeights.withUnsafeMutableBufferPointer { dA in
            Scalar.softmaxBackwardInPlace(
              probabilities: p.baseAddress! + block, gradients: dA.baseAddress!, rows: m, count: n)
          }
        }
        if compete {
          // Through log C = A − lse over the priors: ∂A[m, j] = ∂logC[m, j] − C[m, j] Σ_m' ∂logC[m', j].
          ws.competitive.withUnsafeBufferPointer { lc in
            ws.dWeights.withUnsafeMutableBufferPointer { dA in
              for j in 0..<n {
                var sum: Scalar = 0
                for r in 0..<m { sum += dA[r * n + j] }
                for r in 0..<m { dA[r * n + j] -= Scalar.exp(lc[block + r * n + j]) * sum }
              }
            }
          }
        }
        ws.dWeights.withUnsafeBufferPointer { dA in
          ws.keys.withUnsafeBufferPointer { k in
            ws.dQueries.withUnsafeMutableBufferPointer { dQ in
              // ∂Q_h += s ∂A_h K_h   (M × D_h)
              Scalar.gemm(
                transposeA: false, transposeB: false, m: m, n: dh, k: n, alpha: s, a: dA.baseAddress!, lda: n,
                b: k.baseAddress! + image * n * d + h * dh, ldb: d, beta: image == 0 ? 0 : 1,
                c: dQ.baseAddress! + h * dh, ldc: d)
            }
          }
          ws.queries.withUnsafeBufferPointer { q in
            ws.dKeys.withUnsafeMutableBufferPointer { dK in
              // ∂K_h = s ∂A_hᵀ Q_h   (N × D_h)
              Scalar.gemm(
                transposeA: true, transposeB: false, m: n, n: dh, k: m, alpha: s, a: dA.baseAddress!, lda: n,
                b: q.baseAddress! + h * dh, ldb: d, beta: 0, c: dK.baseAddress! + image * n * d + h * dh, ldc: d)
            }
          }
        }
      }
    }
    let p = parameters
    Matrix.multiply(ws.bottleneckMemory, ws.dQueries, transposeA: true, into: &gradients.query)
    Matrix.multiply(ws.squashed, ws.dKeys, transposeA: true, into: &gradients.key)
    Matrix.multiply(ws.dKeys, p.key, transposeB: true, into: &ws.dSquashed)
    if readsOutput {
      Matrix.multiply(ws.squashed, ws.dValues, transposeA: true, into: &gradients.value)
      Matrix.multiply(ws.dValues, p.value, transposeB: true, beta: 1, into: &ws.dSquashed)
    } else {
      gradients.value.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0 } }
    }
    // ∂γ += ∂Q W_Qᵀ (the queries' share; the upscaling's was added above).
    if trainsMemory { Matrix.multiply(ws.dQueries, p.query, transposeB: true, beta: 1, into: &ws.dMemory) }
    Matrix.multiply(tokens, ws.dSquashed, transposeA: true, into: &gradients.squash)
    Matrix.multiply(ws.dSquashed, p.squash, transposeB: true, beta: 1, into: &tokenGradient)
  }

  /// The objective ⟨∂Y, Y⟩ + ⟨∂O, O⟩ + L_bal and its gradients for one batch, with fresh buffers and
  /// the memory left unchanged (no EMA): the form the finite-difference tests check. `memoryGradient`
  /// is ∂γ for ``MemoryUpdate/gradient`` (zero otherwise).
  ///
  /// - Throws: ``ModelError`` for tokens of the wrong shape or non-finite entries.
  public func probeObjective(
    tokens: Matrix<Scalar>, outputWeights: Matrix<Scalar>, bottleneckOutputWeights: Matrix<Scalar>?
  ) throws(ModelError) -> (
    value: Double, gradients: GlobalWorkspaceParameters<Scalar>, tokenGradient: Matrix<Scalar>,
    memoryGradient: Matrix<Scalar>
  ) {
    try validate(tokens: tokens)
    var layer = self
    var ws = makeWorkspace(batchSize: tokens.rows / configuration.patchCount)
    let y = try layer.forward(tokens, updateMemory: false, workspace: &ws)
    var value = Double(ws.balanceLoss)
    for i in y.elements.indices { value += Double(y.elements[i]) * Double(outputWeights.elements[i]) }
    if let w = bottleneckOutputWeights {
      for i in w.elements.indices { value += Double(ws.bottleneckOutput.elements[i]) * Double(w.elements[i]) }
    }
    var gradients = GlobalWorkspaceParameters<Scalar>(zerosFor: configuration)
    var dX = Matrix<Scalar>(rows: tokens.rows, columns: tokens.columns)
    layer.backward(
      tokens: tokens, outputGradient: outputWeights, bottleneckOutputGradient: bottleneckOutputWeights,
      workspace: &ws, gradients: &gradients, tokenGradient: &dX)
    return (value, gradients, dX, ws.dMemory)
  }
}
