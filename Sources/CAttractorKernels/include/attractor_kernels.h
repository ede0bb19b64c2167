// Small numeric kernels written in C so that clang vectorises them (the Swift generic SIMD types
// are not reliably lowered to vector code, and generic Swift loops called across modules run
// unspecialised). Each has a scalar fallback selected at run time through target_clones.
#ifndef ATTRACTOR_KERNELS_H
#define ATTRACTOR_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU runs AVX2 and FMA (OpenBLAS's Haswell kernels), else 0.
int attractor_cpu_has_avx2_fma(void);
/// 1 when the CPU runs AVX-512 F, CD, BW, DQ and VL (OpenBLAS's SkylakeX kernels), else 0.
int attractor_cpu_has_avx512_skylakex(void);

/// Replaces x[0..<count] by softmax(x) in place (count ≥ 1). Exponentials use a degree-6
/// polynomial after range reduction (max relative error below 1e-7, i.e. under one ulp); entries
/// whose shifted logit is below −87.33 (weight < 2⁻¹²⁶) become exactly 0.
void attractor_softmax_f32(float *x, size_t count);

/// Replaces x[0..<count] by softmax(x) in place (count ≥ 1), with a double-precision polynomial
/// exp (degree-13 Taylor after range reduction, about 1 ulp); shifted logits below −708.39 give 0.
void attractor_softmax_f64(double *x, size_t count);

/// log Σᵢ exp(x[i]) for count ≥ 1, accumulated in double precision (so the result carries about
/// 1e-16 relative error even for float input). Returns x's maximum when that is ±∞ or NaN.
double attractor_log_sum_exp_f32(const float *x, size_t count);

/// log Σᵢ exp(x[i]) for count ≥ 1, in double precision.
double attractor_log_sum_exp_f64(const double *x, size_t count);
/// log Σᵢ exp(x[i] − x[k]) for count ≥ 1, where k (stored in *argmax) is the first index of x's
/// maximum, in double precision: lse(x) − max x without forming either (the result lies in
/// [0, log count] and keeps its full relative precision however large the logits). Returns x's
/// maximum when that is ±∞ or NaN (*argmax is then 0 if no entry equals it).
double attractor_log_sum_exp_above_max_f64(const double *x, size_t count, size_t *argmax);

/// Softmax backward pass in place over `rows` rows of `count` values: for each row,
/// g[i] ← p[i] (g[i] − Σⱼ p[j] g[j]), the gradient with respect to the logits given the gradient g
/// with respect to the probabilities p = softmax(logits). The dot product is accumulated in double.
void attractor_softmax_backward_f32(const float *p, float *g, size_t rows, size_t count);

/// The double-precision softmax backward pass (see `attractor_softmax_backward_f32`).
void attractor_softmax_backward_f64(const double *p, double *g, size_t rows, size_t count);

/// Adam with decoupled weight decay on `count` parameters in place: m ← β₁m + (1−β₁)g,
/// v ← β₂v + (1−β₂)g², θ ← θ − η(m/c₁ / (√(v/c₂) + ε) + λθ), where c₁, c₂ are the bias corrections.
void attractor_adamw_f32(float *theta, const float *g, float *m, float *v, size_t count,
                         float beta1, float beta2, float eta, float epsilon, float lambda, float c1, float c2);

/// The double-precision AdamW step (see `attractor_adamw_f32`).
void attractor_adamw_f64(double *theta, const double *g, double *m, double *v, size_t count,
                         double beta1, double beta2, double eta, double epsilon, double lambda, double c1, double c2);
/// One block of an online (streaming) softmax-weighted sum, for rows × cols logits z (leading
/// dimension lds) against each row's running maximum m, sum l = Σ exp(z − m) and accumulator a
/// (d values, leading dimension ldacc): m ← max(m, max z), l and a rescaled by exp(m_old − m_new),
/// z replaced by exp(z − m_new) (so a GEMM can then add z · X to a), l += Σ z. Start from m = −∞,
/// l = 0, a = 0. −∞ logits get weight 0; a row with a +∞ or NaN logit becomes NaN, as in
/// attractor_softmax_f32.
void attractor_online_softmax_rows_f32(float *s, size_t rows, size_t cols, size_t lds, float *row_max,
                                       float *row_sum, float *acc, size_t ldacc, size_t d);
/// The double-precision online softmax block (see attractor_online_softmax_rows_f32).
void attractor_online_softmax_rows_f64(double *s, size_t rows, size_t cols, size_t lds, double *row_max,
                                       double *row_sum, double *acc, size_t ldacc, size_t d);
/// attractor_online_softmax_rows_f32 with the rows split into `parts` contiguous ranges run at once
/// on the caller and the thread pool of attractor_softmax_rows_f32 (rows are independent, so the
/// result is the same bits as one call). No BLAS call, no allocation after the pool has started.
void attractor_online_softmax_rows_parallel_f32(float *s, size_t rows, size_t cols, size_t lds, float *row_max,
                                                float *row_sum, float *acc, size_t ldacc, size_t d, int parts);
/// The double-precision version (see attractor_online_softmax_rows_parallel_f32).
void attractor_online_softmax_rows_parallel_f64(double *s, size_t rows, size_t cols, size_t lds, double *row_max,
                                                double *row_sum, double *acc, size_t ldacc, size_t d, int parts);
/// a ← a / l for each row: the end of an online softmax.
void attractor_online_softmax_finish_f32(float *acc, size_t rows, size_t ldacc, size_t d, const float *row_sum);
/// a ← a / l for each row (double precision).
void attractor_online_softmax_finish_f64(double *acc, size_t rows, size_t ldacc, size_t d, const double *row_sum);
/// Running per-row scores over a block of raw logits z (before the online softmax overwrites them),
/// patterns first … first + cols − 1: the largest logit and its first index, and the best and
/// second-best z_j · inverse_norms[j] (a cosine up to the row's positive factor) with the index of
/// the best. NaN scores (give NaN inverse norms for unusable patterns) are never chosen. When
/// `logit_min` is not NULL, also the smallest logit of each row (the smallest softmax weight).
void attractor_block_scores_f32(const float *s, size_t rows, size_t cols, size_t lds, size_t first,
                                const float *inverse_norms, float *logit_max, size_t *logit_argmax,
                                float *best, float *second, size_t *best_index, float *logit_min);
/// The double-precision block scores (see attractor_block_scores_f32).
void attractor_block_scores_f64(const double *s, size_t rows, size_t cols, size_t lds, size_t first,
                                const double *inverse_norms, double *logit_max, size_t *logit_argmax,
                                double *best, double *second, size_t *best_index, double *logit_min);

/// Softmax of each of `rows` rows of `count` values (count ≥ 1) in place, split into `parts`
/// contiguous row ranges run at once by the caller and a persistent pool of threads (one fewer
/// than the cores online, started on first use). Allocates nothing after that first call, unlike
/// libdispatch. When another thread is using the pool, the caller does all parts itself.
void attractor_softmax_rows_f32(float *x, size_t rows, size_t count, int parts);

/// The double-precision row softmax (see `attractor_softmax_rows_f32`).
void attractor_softmax_rows_f64(double *x, size_t rows, size_t count, int parts);

/// Exact GELU in one pass over `count` values: h = z Φ(z) and derivative = Φ(z) + z e^{−z²/2}/√(2π),
/// Φ(z) = ½ erfc(−z/√2). Float: vectorised, erfc by Abramowitz & Stegun 7.1.26 (|ΔΦ| < 3e-7,
/// |Δh| < 4.2e-7 against double precision); NaN in gives NaN out.
void attractor_gelu_f32(const float *z, float *h, float *derivative, size_t count);
/// The double-precision GELU pass (the C library's erfc and exp, about one ulp).
void attractor_gelu_f64(const double *z, double *h, double *derivative, size_t count);
/// 1 when the pair kernels below run their AVX-512 versions on this CPU, else 0 (portable loops).
int attractor_pair_kernels_vectorised(void);
/// The pseudo-likelihood attractor's logits for `rows` states x (rows × n·d, token i of row r at
/// x[r·n·d + i·d]) and couplings w stored by source token (block j·n + i, d × d row-major, is J_ij):
/// logits[(r·n + i)·n + j] ← λ x_iᵀ J_ij x_j for every i ≠ j (the diagonal entries are not written).
/// Each pair's d × d block is applied to the states in registers, 8 rows at a time (AVX-512 when
/// `vectorised` is non-zero and the CPU has it; otherwise portable loops).
void attractor_pair_logits_f32(const float *x, size_t rows, size_t n, size_t d, const float *w, float lambda,
                               float *logits, int vectorised);
/// The attention-weighted Hebbian update of every coupling block, in place:
/// J_ij ← decay · J_ij + Σ_r x_i^r (scale · α[(r·n + i)·n + j] · x_j^r)ᵀ for every i ≠ j (J_jj untouched),
/// with x and w laid out as in attractor_pair_logits_f32. When block_norms is not NULL,
/// block_norms[j·n + i] ← ‖J_ij‖²_F after the update. scratch holds rows · d floats.
void attractor_pair_hebbian_update_f32(const float *x, size_t rows, size_t n, size_t d, const float *alpha,
                                       float scale, float decay, float *w, float *block_norms, float *scratch,
                                       int vectorised);
/// Replaces each of the rows · n logit rows (row (r·n + i), n entries) by its softmax over j ≠ i
/// (entry i becomes 0) and returns Σ_{r,i} e_i = −Σ λ⁻¹ log Σ_{j≠i} exp(logit_ij), in double. The
/// exponential is the polynomial of attractor_softmax_f32 (AVX-512, two vectors per row, when
/// `vectorised` is non-zero, n ≤ 32 and the CPU has it).
double attractor_pair_softmax_f32(float *logits, size_t rows, size_t n, float lambda, int vectorised);

/// Householder reduction of a symmetric n × n matrix to tridiagonal form T = Qᵀ A Q (eigenvalues
/// unchanged), calling no BLAS and taking no lock, so any number of threads may run it at once.
/// Reads the upper triangle of `source` (row-major, leading dimension ld ≥ n; the lower triangle is
/// ignored, as LAPACK's ?syevd with uplo 'U' on row-major data does), copies it into `scratch`
/// (n² doubles, overwritten), and writes the diagonal d[0..<n] and off-diagonal e[0..<n−1] in
/// double precision. `work` holds 2n doubles. For n ≥ 1; the result goes to LAPACK's ?sterf.
void attractor_symmetric_tridiagonal_f64(const double *source, size_t n, size_t ld, double *scratch, double *d,
                                         double *e, double *work);
/// The same for float input (converted to double on the copy; the reduction runs in double).
void attractor_symmetric_tridiagonal_f32(const float *source, size_t n, size_t ld, double *scratch, double *d,
                                         double *e, double *work);

/// Statistics of one row of n ≥ 1 non-negative weights p (in double precision, sums in index
/// order as a plain loop forms them): sums[0] = Σ p, sums[1] = Σ p², sums[2] = −Σ_{p>0} p log p
/// (libm's log), sums[3] = min p. Returns k, the smallest number of weights whose sum reaches
/// mass · Σ p, and writes them heaviest first (equal weights by lower index) to top_index[0..<k] and
/// top_weight[0..<k]; only weights ≥ (1 − mass)/n can be among them. Exactly what sorting all
/// such candidates would give: up to 16 are selected one at a time, the rest radix-sorted.
/// top_index and top_weight hold n entries; scratch holds 6n 64-bit words.
size_t attractor_weight_statistics_f64(const double *p, size_t n, double mass, uint64_t *top_index, double *top_weight,
                                       double *sums, uint64_t *scratch);
/// The same for float weights (each converted to double).
size_t attractor_weight_statistics_f32(const float *p, size_t n, double mass, uint64_t *top_index, double *top_weight,
                                       double *sums, uint64_t *scratch);
#endif
