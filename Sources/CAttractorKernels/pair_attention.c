// Fused kernels of the pseudo-likelihood attractor's training step (see attractor_kernels.h): the
// bilinear logits λ x_iᵀ J_ij x_j of every ordered pair and the attention-weighted Hebbian update
// J_ij ← δ J_ij + Σ_r x_i^r (c α^r_{i←j} x_j^r)ᵀ, each computed block by block in registers instead of
// through GEMMs with a K of d (whose B × N·d outputs would be cleared, written and read back).
// Each has a portable scalar version and an AVX-512 version chosen at run time.
#include "attractor_kernels.h"

#include <math.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PAIR_X86 1
#endif

// ---- portable versions ----

static void logits_scalar(const float *x, size_t rows, size_t n, size_t d, const float *w, float lambda,
                          float *logits) {
  const size_t nd = n * d;
  for (size_t j = 0; j < n; j++) {
    for (size_t i = 0; i < n; i++) {
      if (i == j) continue;
      const float *block = w + (j * n + i) * d * d;
      for (size_t r = 0; r < rows; r++) {
        const float *xi = x + r * nd + i * d, *xj = x + r * nd + j * d;
        float s = 0;
        for (size_t a = 0; a < d; a++) {
          float f = 0;  // (J_ij x_j)[a]
          for (size_t b = 0; b < d; b++) f += block[a * d + b] * xj[b];
          s += xi[a] * f;
        }
        logits[(r * n + i) * n + j] = lambda * s;
      }
    }
  }
}

static void hebbian_scalar(const float *x, size_t rows, size_t n, size_t d, const float *alpha, float scale,
                           float decay, float *w, float *block_norms, float *v) {
  const size_t nd = n * d;
  for (size_t j = 0; j < n; j++) {
    for (size_t i = 0; i < n; i++) {
      if (i == j) continue;
      for (size_t r = 0; r < rows; r++) {
        const float c = scale * alpha[(r * n + i) * n + j];
        for (size_t b = 0; b < d; b++) v[r * d + b] = c * x[r * nd + j * d + b];
      }
      float *block = w + (j * n + i) * d * d;
      float norm = 0;
      for (size_t a = 0; a < d; a++) {
        float *row = block + a * d;
        for (size_t b = 0; b < d; b++) row[b] *= decay;
        for (size_t r = 0; r < rows; r++) {
          const float xa = x[r * nd + i * d + a];
          for (size_t b = 0; b < d; b++) row[b] += xa * v[r * d + b];
        }
        for (size_t b = 0; b < d; b++) norm += row[b] * row[b];
      }
      if (block_norms) block_norms[j * n + i] = norm;
    }
  }
}

// ---- AVX-512 versions ----
//
// Logits of one pair (i, j) for R rows at a time: u^r = J_ijᵀ x_i^r is accumulated 32 (then 16,
// masked) columns b at a time over the d rows a of J_ij (one load of a row of J serves R rows), and
// dotted with x_j^r; R = 8 keeps 16 accumulators, 8 partial dot products and the loaded row of J in
// the 32 vector registers. The Hebbian update of one pair walks 8 rows a of J_ij at a time (32, then
// 16 masked, columns b): the block starts as δ J and gains x_i^r[a] v^r for every example r, then
// is stored and its squared Frobenius norm accumulated.

#if PAIR_X86
#define AVX512 __attribute__((target("avx512f")))
#define INLINE_AVX512 static inline __attribute__((target("avx512f"), always_inline))

static inline __mmask16 tail_mask(size_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

INLINE_AVX512 void logits_tile(const float *x, size_t nd, size_t io, size_t jo, const float *block, size_t d,
                               float lambda, float *out, size_t out_stride, const int R) {
  __m512 dot[8];
  for (int t = 0; t < R; t++) dot[t] = _mm512_setzero_ps();
  size_t c = 0;
  for (; c + 32 <= d; c += 32) {
    __m512 u0[8], u1[8];
    for (int t = 0; t < R; t++) u0[t] = u1[t] = _mm512_setzero_ps();
    for (size_t a = 0; a < d; a++) {
      const __m512 j0 = _mm512_loadu_ps(block + a * d + c), j1 = _mm512_loadu_ps(block + a * d + c + 16);
      for (int t = 0; t < R; t++) {
        const __m512 s = _mm512_set1_ps(x[t * nd + io + a]);
        u0[t] = _mm512_fmadd_ps(s, j0, u0[t]);
        u1[t] = _mm512_fmadd_ps(s, j1, u1[t]);
      }
    }
    for (int t = 0; t < R; t++) {
      dot[t] = _mm512_fmadd_ps(u0[t], _mm512_loadu_ps(x + t * nd + jo + c), dot[t]);
      dot[t] = _mm512_fmadd_ps(u1[t], _mm512_loadu_ps(x + t * nd + jo + c + 16), dot[t]);
    }
  }
  for (; c < d; c += 16) {
    const __mmask16 m = tail_mask(d - c);
    __m512 u[8];
    for (int t = 0; t < R; t++) u[t] = _mm512_setzero_ps();
    for (size_t a = 0; a < d; a++) {
      const __m512 j0 = _mm512_maskz_loadu_ps(m, block + a * d + c);
      for (int t = 0; t < R; t++) u[t] = _mm512_fmadd_ps(_mm512_set1_ps(x[t * nd + io + a]), j0, u[t]);
    }
    for (int t = 0; t < R; t++) dot[t] = _mm512_fmadd_ps(u[t], _mm512_maskz_loadu_ps(m, x + t * nd + jo + c), dot[t]);
  }
  for (int t = 0; t < R; t++) out[t * out_stride] = lambda * _mm512_reduce_add_ps(dot[t]);
}

AVX512 static void logits_avx512(const float *x, size_t rows, size_t n, size_t d, const float *w, float lambda,
                                 float *logits) {
  const size_t nd = n * d, stride = n * n;
  for (size_t j = 0; j < n; j++) {
    for (size_t i = 0; i < n; i++) {
      if (i == j) continue;
      const float *block = w + (j * n + i) * d * d;
      size_t r = 0;
      for (; r + 8 <= rows; r += 8)
        logits_tile(x + r * nd, nd, i * d, j * d, block, d, lambda, logits + (r * n + i) * n + j, stride, 8);
      for (; r < rows; r++)
        logits_tile(x + r * nd, nd, i * d, j * d, block, d, lambda, logits + (r * n + i) * n + j, stride, 1);
    }
  }
}

INLINE_AVX512 __m512 hebbian_tile(const float *x, size_t rows, size_t nd, size_t ia, const float *v, size_t d,
                                  float *rows_of_block, float decay, __m512 norm, const int A) {
  const __m512 delta = _mm512_set1_ps(decay);
  size_t c = 0;
  for (; c + 32 <= d; c += 32) {
    __m512 g0[8], g1[8];
    for (int t = 0; t < A; t++) {
      g0[t] = _mm512_mul_ps(delta, _mm512_loadu_ps(rows_of_block + t * d + c));
      g1[t] = _mm512_mul_ps(delta, _mm512_loadu_ps(rows_of_block + t * d + c + 16));
    }
    for (size_t r = 0; r < rows; r++) {
      const __m512 v0 = _mm512_loadu_ps(v + r * d + c), v1 = _mm512_loadu_ps(v + r * d + c + 16);
      for (int t = 0; t < A; t++) {
        const __m512 s = _mm512_set1_ps(x[r * nd + ia + t]);
        g0[t] = _mm512_fmadd_ps(s, v0, g0[t]);
        g1[t] = _mm512_fmadd_ps(s, v1, g1[t]);
      }
    }
    for (int t = 0; t < A; t++) {
      _mm512_storeu_ps(rows_of_block + t * d + c, g0[t]);
      _mm512_storeu_ps(rows_of_block + t * d + c + 16, g1[t]);
      norm = _mm512_fmadd_ps(g0[t], g0[t], norm);
      norm = _mm512_fmadd_ps(g1[t], g1[t], norm);
    }
  }
  for (; c < d; c += 16) {
    const __mmask16 m = tail_mask(d - c);
    __m512 g[8];
    for (int t = 0; t < A; t++) g[t] = _mm512_mul_ps(delta, _mm512_maskz_loadu_ps(m, rows_of_block + t * d + c));
    for (size_t r = 0; r < rows; r++) {
      const __m512 v0 = _mm512_maskz_loadu_ps(m, v + r * d + c);
      for (int t = 0; t < A; t++) g[t] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * nd + ia + t]), v0, g[t]);
    }
    for (int t = 0; t < A; t++) {
      _mm512_mask_storeu_ps(rows_of_block + t * d + c, m, g[t]);
      norm = _mm512_fmadd_ps(g[t], g[t], norm);
    }
  }
  return norm;
}

AVX512 static void hebbian_avx512(const float *x, size_t rows, size_t n, size_t d, const float *alpha, float scale,
                                  float decay, float *w, float *block_norms, float *v) {
  const size_t nd = n * d;
  for (size_t j = 0; j < n; j++) {
    for (size_t i = 0; i < n; i++) {
      if (i == j) continue;
      for (size_t r = 0; r < rows; r++) {
        const __m512 c = _mm512_set1_ps(scale * alpha[(r * n + i) * n + j]);
        for (size_t b = 0; b < d; b += 16) {
          const __mmask16 m = tail_mask(d - b);
          _mm512_mask_storeu_ps(v + r * d + b, m, _mm512_mul_ps(c, _mm512_maskz_loadu_ps(m, x + r * nd + j * d + b)));
        }
      }
      float *block = w + (j * n + i) * d * d;
      __m512 norm = _mm512_setzero_ps();
      size_t a = 0;
      for (; a + 8 <= d; a += 8) norm = hebbian_tile(x, rows, nd, i * d + a, v, d, block + a * d, decay, norm, 8);
      for (; a < d; a++) norm = hebbian_tile(x, rows, nd, i * d + a, v, d, block + a * d, decay, norm, 1);
      if (block_norms) block_norms[j * n + i] = _mm512_reduce_add_ps(norm);
    }
  }
}

static int has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#endif

// ---- entry points ----

int attractor_pair_kernels_vectorised(void) {
#if PAIR_X86
  return has_avx512();
#else
  return 0;
#endif
}

void attractor_pair_logits_f32(const float *x, size_t rows, size_t n, size_t d, const float *w, float lambda,
                               float *logits, int vectorised) {
#if PAIR_X86
  if (vectorised && has_avx512()) {
    logits_avx512(x, rows, n, d, w, lambda, logits);
    return;
  }
#endif
  (void)vectorised;
  logits_scalar(x, rows, n, d, w, lambda, logits);
}

void attractor_pair_hebbian_update_f32(const float *x, size_t rows, size_t n, size_t d, const float *alpha,
                                       float scale, float decay, float *w, float *block_norms, float *scratch,
                                       int vectorised) {
#if PAIR_X86
  if (vectorised && has_avx512()) {
    hebbian_avx512(x, rows, n, d, alpha, scale, decay, w, block_norms, scratch);
    return;
  }
#endif
  (void)vectorised;
  hebbian_scalar(x, rows, n, d, alpha, scale, decay, w, block_norms, scratch);
}

#if PAIR_X86
// exp on 16 lanes: the range reduction and Cephes polynomial of exp_f32 in kernels.c, lane by lane
// (inputs below −87.33 give exactly 0, as there).
INLINE_AVX512 __m512 exp_avx512(__m512 x) {
  const __m512 low = _mm512_set1_ps(-87.33654f), magic = _mm512_set1_ps(12582912.0f);
  const __m512 c = _mm512_min_ps(_mm512_max_ps(x, low), _mm512_set1_ps(88.72283f));
  const __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504088896341f), magic);
  const __m512 k = _mm512_sub_ps(t, magic);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), c);
  r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.12194440e-4f), r);
  const __m512 r2 = _mm512_mul_ps(r, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
  const __m512i bits = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic)), _mm512_set1_epi32(127)), 23);
  const __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, low, _CMP_GE_OQ), e);
}

// Rows of at most 32 logits: two masked vectors per row, entry i excluded.
AVX512 static double softmax_avx512(float *logits, size_t rows, size_t n, float lambda) {
  const __mmask16 m0 = tail_mask(n), m1 = n > 16 ? tail_mask(n - 16) : 0;
  const __m512 minus_infinity = _mm512_set1_ps(-INFINITY);
  double cost = 0;
  for (size_t r = 0; r < rows; r++) {
    for (size_t i = 0; i < n; i++) {
      float *row = logits + (r * n + i) * n;
      const __mmask16 k0 = m0 & (__mmask16) ~(i < 16 ? 1u << i : 0u);
      const __mmask16 k1 = m1 & (__mmask16) ~(i >= 16 ? 1u << (i - 16) : 0u);
      const __m512 x0 = _mm512_mask_loadu_ps(minus_infinity, k0, row);
      const __m512 x1 = _mm512_mask_loadu_ps(minus_infinity, k1, row + 16);
      const float m = _mm512_reduce_max_ps(_mm512_max_ps(x0, x1));
      const __m512 shift = _mm512_set1_ps(m);
      const __m512 e0 = exp_avx512(_mm512_sub_ps(x0, shift)), e1 = exp_avx512(_mm512_sub_ps(x1, shift));
      const float sum = _mm512_reduce_add_ps(_mm512_add_ps(e0, e1));
      const __m512 inverse = _mm512_set1_ps(1.0f / sum);
      _mm512_mask_storeu_ps(row, m0, _mm512_mul_ps(e0, inverse));
      if (m1) _mm512_mask_storeu_ps(row + 16, m1, _mm512_mul_ps(e1, inverse));
      cost -= ((double)m + log((double)sum)) / (double)lambda;
    }
  }
  return cost;
}
#endif

double attractor_pair_softmax_f32(float *logits, size_t rows, size_t n, float lambda, int vectorised) {
#if PAIR_X86
  if (vectorised && n <= 32 && has_avx512()) return softmax_avx512(logits, rows, n, lambda);
#endif
  (void)vectorised;
  double cost = 0;
  for (size_t r = 0; r < rows; r++) {
    for (size_t i = 0; i < n; i++) {
      float *row = logits + (r * n + i) * n;
      row[i] = -INFINITY;
      size_t argmax = i == 0 ? 1 : 0;
      for (size_t j = 0; j < n; j++)
        if (row[j] > row[argmax]) argmax = j;
      const float m = row[argmax];
      attractor_softmax_f32(row, n);
      // softmax's largest weight is exp(0)/s, so log s = −log α_max (α_max ≥ 1/(N−1): no cancellation).
      cost -= ((double)m - log((double)row[argmax])) / (double)lambda;
    }
  }
  return cost;
}
