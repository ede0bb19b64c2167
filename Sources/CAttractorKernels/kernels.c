#include "attractor_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#define VECTORISED __attribute__((target_clones("avx2,fma,default")))
enum { LANES = 16 };

#if defined(__x86_64__) || defined(__i386__)
int attractor_cpu_has_avx2_fma(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int attractor_cpu_has_avx512_skylakex(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}
#else
int attractor_cpu_has_avx2_fma(void) { return 0; }
int attractor_cpu_has_avx512_skylakex(void) { return 0; }
#endif

// exp(x) in float for x ≤ 88.72 by range reduction x = n ln2 + r, |r| ≤ ln2/2, and the minimax
// polynomial of the Cephes library for exp(r); 2ⁿ is assembled in the exponent bits. Inputs below
// −87.33 give exactly 0 (selected, not branched, so the loop vectorises).
static inline float exp_f32(float x) {
  const float low = -87.33654f, high = 88.72283f, magic = 12582912.0f;  // magic = 1.5 · 2²³
  float c = x < low ? low : x;
  c = c > high ? high : c;
  float t = c * 1.44269504088896341f + magic;  // round(x / ln2) lands in the low mantissa bits
  float n = t - magic;
  float r = c - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  int32_t ti, mi;
  memcpy(&ti, &t, 4);
  memcpy(&mi, &magic, 4);
  int32_t bits = (ti - mi + 127) * (1 << 23);
  float scale;
  memcpy(&scale, &bits, 4);
  return x < low ? 0.0f : p * scale;
}

// exp(x) in double for x ≤ 709.78: the same reduction with fdlibm's split of ln 2 and the Taylor
// series of exp(r) to degree 13 (truncation below 1e-17 for |r| ≤ ln2/2). Below −708.39 gives 0.
static inline double exp_f64(double x) {
  const double low = -708.39, high = 709.78, magic = 6755399441055744.0;  // 1.5 · 2⁵²
  double c = x < low ? low : x;
  c = c > high ? high : c;
  double t = c * 1.4426950408889634 + magic;
  double n = t - magic;
  double r = c - n * 6.93147180369123816490e-01;
  r = r - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t ti, mi;
  memcpy(&ti, &t, 8);
  memcpy(&mi, &magic, 8);
  int64_t bits = (ti - mi + 1023) * ((int64_t)1 << 52);
  double scale;
  memcpy(&scale, &bits, 8);
  return x < low ? 0.0 : p * scale;
}

// Reductions use several accumulators so that they do not serialise the loop.

VECTORISED static float max_f32(const float *restrict x, size_t count) {
  float acc[LANES];
  for (int k = 0; k < LANES; k++) acc[k] = x[0];
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
  float m = x[0];
  for (; i < count; i++) m = x[i] > m ? x[i] : m;
  for (int k = 0; k < LANES; k++) m = acc[k] > m ? acc[k] : m;
  return m;
}

VECTORISED static double max_f64(const double *restrict x, size_t count) {
  double acc[LANES];
  for (int k = 0; k < LANES; k++) acc[k] = x[0];
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
  double m = x[0];
  for (; i < count; i++) m = x[i] > m ? x[i] : m;
  for (int k = 0; k < LANES; k++) m = acc[k] > m ? acc[k] : m;
  return m;
}

VECTORISED static float exp_shift_sum_f32(float *restrict x, size_t count, float shift) {
  for (size_t i = 0; i < count; i++) x[i] = exp_f32(x[i] - shift);
  float acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += x[i + k];
  float sum = 0;
  for (; i < count; i++) sum += x[i];
  for (int k = 0; k < LANES; k++) sum += acc[k];
  return sum;
}

VECTORISED static double exp_shift_sum_f64(double *restrict x, size_t count, double shift) {
  for (size_t i = 0; i < count; i++) x[i] = exp_f64(x[i] - shift);
  double acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += x[i + k];
  double sum = 0;
  for (; i < count; i++) sum += x[i];
  for (int k = 0; k < LANES; k++) sum += acc[k];
  return sum;
}

VECTORISED static double shifted_exp_sum_f32_in_f64(const float *restrict x, size_t count, double shift) {
  double acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += exp_f64((double)x[i + k] - shift);
  double sum = 0;
  for (; i < count; i++) sum += exp_f64((double)x[i] - shift);
  for (int k = 0; k < LANES; k++) sum += acc[k];
  return sum;
}

VECTORISED static double shifted_exp_sum_f64(const double *restrict x, size_t count, double shift) {
  double acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += exp_f64(x[i + k] - shift);
  double sum = 0;
  for (; i < count; i++) sum += exp_f64(x[i] - shift);
  for (int k = 0; k < LANES; k++) sum += acc[k];
  return sum;
}

VECTORISED static void scale_f32(float *restrict x, size_t count, float factor) {
  for (size_t i = 0; i < count; i++) x[i] *= factor;
}

VECTORISED static void scale_f64(double *restrict x, size_t count, double factor) {
  for (size_t i = 0; i < count; i++) x[i] *= factor;
}

void attractor_softmax_f32(float *x, size_t count) {
  if (count == 0) return;
  float m = max_f32(x, count);
  float sum = exp_shift_sum_f32(x, count, m);
  scale_f32(x, count, 1.0f / sum);
}

void attractor_softmax_f64(double *x, size_t count) {
  if (count == 0) return;
  double m = max_f64(x, count);
  double sum = exp_shift_sum_f64(x, count, m);
  scale_f64(x, count, 1.0 / sum);
}

double attractor_log_sum_exp_f32(const float *x, size_t count) {
  double m = (double)max_f32(x, count);
  if (!isfinite(m)) return m;
  return m + log(shifted_exp_sum_f32_in_f64(x, count, m));
}

double attractor_log_sum_exp_f64(const double *x, size_t count) {
  double m = max_f64(x, count);
  if (!isfinite(m)) return m;
  return m + log(shifted_exp_sum_f64(x, count, m));
}

double attractor_log_sum_exp_above_max_f64(const double *x, size_t count, size_t *argmax) {
  double m = max_f64(x, count);
  size_t k = 0;
  while (k < count && x[k] != m) k++;
  *argmax = k < count ? k : 0;
  if (!isfinite(m)) return m;
  return log(shifted_exp_sum_f64(x, count, m));
}

VECTORISED void attractor_softmax_backward_f32(const float *restrict p, float *restrict g, size_t rows, size_t count) {
  for (size_t r = 0; r < rows; r++) {
    const float *pr = p + r * count;
    float *gr = g + r * count;
    double acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= count; i += LANES)
      for (int k = 0; k < LANES; k++) acc[k] += (double)pr[i + k] * (double)gr[i + k];
    double dot = 0;
    for (; i < count; i++) dot += (double)pr[i] * (double)gr[i];
    for (int k = 0; k < LANES; k++) dot += acc[k];
    float d = (float)dot;
    for (size_t j = 0; j < count; j++) gr[j] = pr[j] * (gr[j] - d);
  }
}

VECTORISED void attractor_softmax_backward_f64(const double *restrict p, double *restrict g, size_t rows, size_t count) {
  for (size_t r = 0; r < rows; r++) {
    const double *pr = p + r * count;
    double *gr = g + r * count;
    double acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= count; i += LANES)
      for (int k = 0; k < LANES; k++) acc[k] += pr[i + k] * gr[i + k];
    double dot = 0;
    for (; i < count; i++) dot += pr[i] * gr[i];
    for (int k = 0; k < LANES; k++) dot += acc[k];
    for (size_t j = 0; j < count; j++) gr[j] = pr[j] * (gr[j] - dot);
  }
}

VECTORISED void attractor_adamw_f32(float *restrict theta, const float *restrict g, float *restrict m, float *restrict v,
                                    size_t count, float beta1, float beta2, float eta, float epsilon, float lambda,
                                    float c1, float c2) {
  for (size_t i = 0; i < count; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    float mhat = m[i] / c1, vhat = v[i] / c2;
    theta[i] -= eta * (mhat / (sqrtf(vhat) + epsilon) + lambda * theta[i]);
  }
}

VECTORISED void attractor_adamw_f64(double *restrict theta, const double *restrict g, double *restrict m, double *restrict v,
                                    size_t count, double beta1, double beta2, double eta, double epsilon, double lambda,
                                    double c1, double c2) {
  for (size_t i = 0; i < count; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    double mhat = m[i] / c1, vhat = v[i] / c2;
    theta[i] -= eta * (mhat / (sqrt(vhat) + epsilon) + lambda * theta[i]);
  }
}

// MARK: Online softmax (blocked attention)

// One block of logits z (rows × cols, leading dimension lds) against the running state of each
// row: maximum m, sum l = Σ exp(z − m) so far, accumulator a = Σ exp(z − m) x (d values, leading
// dimension ldacc). z is replaced by exp(z − m_new); l and a are rescaled by exp(m_old − m_new)
// when the maximum moves. The shift is 0 while the maximum is −∞ (so −∞ logits give weight 0 and
// NaN stays NaN); +∞ or NaN logits make the row NaN, as in attractor_softmax_*.
#define ONLINE_SOFTMAX(T, SUFFIX, EXP, NEG_INF)                                                             \
  void attractor_online_softmax_rows_##SUFFIX(T *s, size_t rows, size_t cols, size_t lds, T *row_max,     \
                                              T *row_sum, T *acc, size_t ldacc, size_t d) {               \
    if (cols == 0) return;                                                                                \
    for (size_t r = 0; r < rows; r++) {                                                                   \
      T *z = s + r * lds;                                                                                 \
      T m_block = max_##SUFFIX(z, cols);                                                                  \
      T m_old = row_max[r];                                                                               \
      T m_new = m_block > m_old ? m_block : m_old;                                                        \
      if (m_block != m_block) m_new = m_block;                                                            \
      T shift = m_new == NEG_INF ? (T)0 : m_new;                                                          \
      T sum = exp_shift_sum_##SUFFIX(z, cols, shift);                                                     \
      if (m_old != m_new) {                                                                               \
        T c = m_old == NEG_INF ? (T)0 : EXP(m_old - shift);                                               \
        row_sum[r] = row_sum[r] * c + sum;                                                                \
        if (c != (T)1) scale_##SUFFIX(acc + r * ldacc, d, c);                                             \
      } else {                                                                                            \
        row_sum[r] += sum;                                                                                \
      }                                                                                                   \
      row_max[r] = m_new;                                                                                 \
    }                                                                                                     \
  }                                                                                                       \
  void attractor_online_softmax_finish_##SUFFIX(T *acc, size_t rows, size_t ldacc, size_t d,             \
                                                const T *row_sum) {                                       \
    for (size_t r = 0; r < rows; r++) scale_##SUFFIX(acc + r * ldacc, d, (T)1 / row_sum[r]);              \
  }                                                                                                       \
  void attractor_block_scores_##SUFFIX(const T *s, size_t rows, size_t cols, size_t lds, size_t first,    \
                                       const T *inverse_norms, T *logit_max, size_t *logit_argmax,        \
                                       T *best, T *second, size_t *best_index, T *logit_min) {            \
    for (size_t r = 0; r < rows; r++) {                                                                   \
      const T *z = s + r * lds;                                                                           \
      if (logit_min) {                                                                                    \
        T lo = logit_min[r];                                                                              \
        for (size_t j = 0; j < cols; j++)                                                                 \
          if (z[j] < lo) lo = z[j];                                                                       \
        logit_min[r] = lo;                                                                                \
      }                                                                                                   \
      T m = logit_max[r];                                                                                 \
      size_t k = logit_argmax[r];                                                                         \
      T b = best[r], sb = second[r];                                                                      \
      size_t bi = best_index[r];                                                                          \
      for (size_t j = 0; j < cols; j++) {                                                                 \
        if (z[j] > m) {                                                                                   \
          m = z[j];                                                                                       \
          k = first + j;                                                                                  \
        }                                                                                                 \
        T v = z[j] * inverse_norms[j];                                                                    \
        if (v > b) {                                                                                      \
          sb = b;                                                                                         \
          b = v;                                                                                          \
          bi = first + j;                                                                                 \
        } else if (v > sb) {                                                                              \
          sb = v;                                                                                         \
        }                                                                                                 \
      }                                                                                                   \
      logit_max[r] = m;                                                                                   \
      logit_argmax[r] = k;                                                                                \
      best[r] = b;                                                                                        \
      second[r] = sb;                                                                                     \
      best_index[r] = bi;                                                                                 \
    }                                                                                                     \
  }

ONLINE_SOFTMAX(float, f32, exp_f32, -INFINITY)
ONLINE_SOFTMAX(double, f64, exp_f64, -(double)INFINITY)

// MARK: GELU

// Exact GELU φ(z) = z Φ(z), Φ(z) = ½ erfc(−z/√2), and its derivative φ'(z) = Φ(z) + z e^{−z²/2}/√(2π),
// in one vectorised pass. Float: erfc(u) for u = |z|/√2 ≥ 0 by Abramowitz & Stegun 7.1.26,
// erfc(u) ≈ t (a₁ + t (a₂ + t (a₃ + t (a₄ + t a₅)))) e^{−u²}, t = 1/(1 + p u) (absolute error below
// 1.5e-7), so Φ(z) = ½ erfc(u) for z < 0 (no cancellation in the tail) and 1 − ½ erfc(u) otherwise;
// e^{−u²} = e^{−z²/2} serves Φ and the derivative. Measured against double-precision erfc:
// |ΔΦ| < 3.0e-7, |Δφ| < 4.2e-7 (the float rounding of z Φ(z) alone gives 4.5e-7 at |z| = 8).
VECTORISED void attractor_gelu_f32(const float *restrict z, float *restrict h, float *restrict derivative,
                                   size_t count) {
  for (size_t i = 0; i < count; i++) {
    float x = z[i];
    float u = fabsf(x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.3275911f * u);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float e = exp_f32(-u * u);
    float tail = 0.5f * p * t * e;
    float cdf = x >= 0.0f ? 1.0f - tail : tail;
    h[i] = x * cdf;
    derivative[i] = cdf + x * e * 0.39894228040143268f;
  }
}

// The double-precision GELU pass with the C library's erfc and exp (scalar, accurate to about one ulp).
void attractor_gelu_f64(const double *restrict z, double *restrict h, double *restrict derivative, size_t count) {
  for (size_t i = 0; i < count; i++) {
    double x = z[i];
    double cdf = 0.5 * erfc(-x * 0.70710678118654752440);
    h[i] = x * cdf;
    derivative[i] = cdf + x * exp(-0.5 * x * x) * 0.39894228040143267794;
  }
}
