import CAttractorKernels

/// Fused single-precision kernels for attention between every ordered pair of tokens with a d × d
/// coupling block per pair (the pseudo-likelihood attractor's training step), written in C
/// (`attractor_kernels.h`).
///
/// States are `rows` × N·d row-major (token i of row r at `x[r·N·d + i·d]`); couplings are stored by
/// source token: block j·N + i (d × d, row-major) is J_ij.
///
/// ```
/// logits:   L[(r·N + i)·N + j] = λ x_iᵀ J_ij x_j                                (i ≠ j)
/// softmax:  α[(r·N + i)·N + j] = exp(L_ij) / Σ_{k≠i} exp(L_ik),  α_ii = 0;  returns Σ_{r,i} e_i,
///           e_i = −λ⁻¹ log Σ_{j≠i} exp(L_ij)
/// hebbian:  J_ij ← δ J_ij + Σ_r x_i^r (c α^r_{i←j} x_j^r)ᵀ,   and ‖J_ij‖²_F
/// ```
///
/// Each pair's block is applied to the states in vector registers (8 states, or 8 rows of the
/// block, at a time) instead of through GEMMs whose inner dimension would be d: no B × N·d field
/// matrix is cleared, written and read back, and the Hebbian update, the weight decay and the
/// block norms are one pass over the couplings. The AVX-512 versions run when the CPU has AVX-512 F
/// and `vectorised` is true; otherwise portable loops compute the same sums in another order.
public enum PairAttentionKernels {
  /// True when the kernels run their AVX-512 versions on this CPU.
  public static var isVectorised: Bool { attractor_pair_kernels_vectorised() != 0 }

  /// Writes λ x_iᵀ J_ij x_j into `logits[(r·N + i)·N + j]` for every row r and pair i ≠ j (the
  /// diagonal entries are left as they are).
  public static func logits(
    states x: UnsafePointer<Float>, rows: Int, tokens n: Int, width d: Int, couplings w: UnsafePointer<Float>,
    inverseTemperature lambda: Float, into logits: UnsafeMutablePointer<Float>, vectorised: Bool = true
  ) {
    attractor_pair_logits_f32(x, rows, n, d, w, lambda, logits, vectorised ? 1 : 0)
  }

  /// Replaces every logit row (r, i) by its softmax over j ≠ i (α_ii = 0) and returns
  /// Σ_{r,i} e_i = −λ⁻¹ Σ_{r,i} log Σ_{j≠i} exp(L_ij), accumulated in Double.
  public static func softmax(
    _ logits: UnsafeMutablePointer<Float>, rows: Int, tokens n: Int, inverseTemperature lambda: Float,
    vectorised: Bool = true
  ) -> Double {
    attractor_pair_softmax_f32(logits, rows, n, lambda, vectorised ? 1 : 0)
  }

  /// J_ij ← `decay` · J_ij + Σ_r x_i^r (`scale` · α^r_{i←j} x_j^r)ᵀ for every i ≠ j, in place, with
  /// α read from `attention[(r·N + i)·N + j]`; when `blockNorms` is given, writes ‖J_ij‖²_F after the
  /// update into `blockNorms[j·N + i]`. `scratch` holds `rows`·d values.
  public static func hebbianUpdate(
    states x: UnsafePointer<Float>, rows: Int, tokens n: Int, width d: Int, attention: UnsafePointer<Float>,
    scale: Float, decay: Float, couplings w: UnsafeMutablePointer<Float>, blockNorms: UnsafeMutablePointer<Float>?,
    scratch: UnsafeMutablePointer<Float>, vectorised: Bool = true
  ) {
    attractor_pair_hebbian_update_f32(
      x, rows, n, d, attention, scale, decay, w, blockNorms, scratch, vectorised ? 1 : 0)
  }
}
