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
