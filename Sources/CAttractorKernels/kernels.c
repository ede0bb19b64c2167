#include "attractor_kernels.h"
#include <stdint.h>
#include <string.h>

// exp(x) for x ≤ 88.72 by range reduction x = n ln2 + r, |r| ≤ ln2/2, and the minimax polynomial
// of the Cephes library for exp(r); 2ⁿ is assembled in the exponent bits. Inputs below −87.33 give
// exactly 0 (selected, not branched, so the loop vectorises).
static inline float exp_poly(float x) {
  const float low = -87.33654f, high = 88.72283f, magic = 12582912.0f;  // magic = 1.5 · 2²³
  float c = x < low ? low : x;
  c = c > high ? high : c;
  float t = c * 1.44269504088896341f + magic;  // round(x / ln2) in the low mantissa bits
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

enum { LANES = 16 };

__attribute__((target_clones("avx2,fma,default")))
float attractor_exp_shift_sum_f32(float *restrict x, size_t count, float shift) {
  for (size_t i = 0; i < count; i++) x[i] = exp_poly(x[i] - shift);
  // Several accumulators so the sum does not serialise the loop.
  float acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= count; i += LANES)
    for (int k = 0; k < LANES; k++) acc[k] += x[i + k];
  float sum = 0;
  for (; i < count; i++) sum += x[i];
  for (int k = 0; k < LANES; k++) sum += acc[k];
  return sum;
}

__attribute__((target_clones("avx2,fma,default")))
static float max_f32(const float *restrict x, size_t count) {
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

__attribute__((target_clones("avx2,fma,default")))
static void scale_f32(float *restrict x, size_t count, float factor) {
  for (size_t i = 0; i < count; i++) x[i] *= factor;
}

void attractor_softmax_f32(float *x, size_t count) {
  if (count == 0) return;
  float m = max_f32(x, count);
  float sum = attractor_exp_shift_sum_f32(x, count, m);
  scale_f32(x, count, 1.0f / sum);
}
