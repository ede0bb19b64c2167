// Statistics of one row of pattern weights (see attractor_kernels.h): sums in index order, exactly
// as a plain loop in double precision would form them (no vectorisation or fused multiply-add that
// would change their rounding), and the heaviest weights by selection and a radix sort.
#include "attractor_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

enum { SELECTED_FIRST = 16 };

// Heavier first; equal weights by lower index.
static inline int heavier(double wa, uint64_t ia, double wb, uint64_t ib) { return wa > wb || (wa == wb && ia < ib); }

// Stable least-significant-digit radix sort of count keys (with their payloads) in ascending key
// order, 8 bits per pass; a pass whose digit is the same for every key is skipped. Returns the
// buffer holding the sorted payloads (payload or payload2).
static uint64_t *radix_sort(uint64_t *keys, uint64_t *payload, uint64_t *keys2, uint64_t *payload2, size_t count) {
  size_t histogram[256];
  for (unsigned shift = 0; shift < 64; shift += 8) {
    memset(histogram, 0, sizeof histogram);
    for (size_t i = 0; i < count; i++) histogram[(keys[i] >> shift) & 0xFF] += 1;
    if (histogram[(keys[0] >> shift) & 0xFF] == count) continue;
    size_t offset = 0;
    for (int b = 0; b < 256; b++) {
      const size_t c = histogram[b];
      histogram[b] = offset;
      offset += c;
    }
    for (size_t i = 0; i < count; i++) {
      const size_t slot = histogram[(keys[i] >> shift) & 0xFF]++;
      keys2[slot] = keys[i];
      payload2[slot] = payload[i];
    }
    uint64_t *t = keys;
    keys = keys2;
    keys2 = t;
    t = payload;
    payload = payload2;
    payload2 = t;
  }
  return payload;
}

// The heaviest candidates until their sum reaches target, in order. Candidates (weights cw,
// indices ci, count nc) arrive in ascending index order; taken[] marks those already chosen.
static size_t heaviest(double *cw, uint64_t *ci, size_t nc, double target, double largest, uint64_t *top_index,
                       double *top_weight, uint64_t *scratch) {
  size_t k = 0;
  double sum = 0;
  // Most fixed points need one or a few: pick them one at a time (a chosen weight becomes −1),
  // unless even SELECTED_FIRST of the largest weight cannot reach the target.
  const size_t first = largest * SELECTED_FIRST < target ? 0 : SELECTED_FIRST;
  while (k < first && k < nc) {
    size_t best = nc;
    for (size_t i = 0; i < nc; i++) {
      if (cw[i] < 0) continue;
      if (best == nc || heavier(cw[i], ci[i], cw[best], ci[best])) best = i;
    }
    top_index[k] = ci[best];
    top_weight[k] = cw[best];
    k += 1;
    sum += cw[best];
    cw[best] = -1;
    if (sum >= target) return k;
  }
  // The rest sorted at once: descending weight is ascending complemented bit pattern (weights are
  // non-negative, whose bit patterns order like the numbers); the sort is stable and the
  // candidates are in index order, so equal weights stay in index order.
  uint64_t *keys = scratch, *order = scratch + nc, *keys2 = scratch + 2 * nc, *order2 = scratch + 3 * nc;
  size_t m = 0;
  for (size_t i = 0; i < nc; i++) {
    if (cw[i] < 0) continue;
    uint64_t bits;
    memcpy(&bits, &cw[i], sizeof bits);
    keys[m] = ~bits;
    order[m] = i;
    m += 1;
  }
  if (m > 0) order = radix_sort(keys, order, keys2, order2, m);
  for (size_t r = 0; r < m; r++) {
    const size_t i = (size_t)order[r];
    top_index[k] = ci[i];
    top_weight[k] = cw[i];
    k += 1;
    sum += cw[i];
    if (sum >= target) break;
  }
  return k;
}

#define WEIGHT_STATISTICS(NAME, TYPE)                                                                       \
  size_t NAME(const TYPE *p, size_t n, double mass, uint64_t *top_index, double *top_weight, double *sums,  \
              uint64_t *scratch) {                                                                          \
    double total = 0, squares = 0, entropy = 0, smallest = INFINITY, largest = 0;                           \
    const double cut = (1 - mass) / (double)n;                                                              \
    double *cw = (double *)(void *)scratch;                                                                 \
    uint64_t *ci = scratch + n;                                                                             \
    size_t nc = 0;                                                                                          \
    for (size_t i = 0; i < n; i++) {                                                                        \
      const double w = (double)p[i];                                                                        \
      total += w;                                                                                           \
      squares += w * w;                                                                                     \
      smallest = w < smallest ? w : smallest;                                                               \
      largest = w > largest ? w : largest;                                                                  \
      if (w > 0) entropy -= w * log(w);                                                                     \
      if (w >= cut) {                                                                                       \
        cw[nc] = w;                                                                                         \
        ci[nc] = i;                                                                                         \
        nc += 1;                                                                                            \
      }                                                                                                     \
    }                                                                                                       \
    sums[0] = total;                                                                                        \
    sums[1] = squares;                                                                                      \
    sums[2] = entropy;                                                                                      \
    sums[3] = smallest;                                                                                     \
    return heaviest(cw, ci, nc, mass * total, largest, top_index, top_weight, scratch + 2 * n);             \
  }

WEIGHT_STATISTICS(attractor_weight_statistics_f64, double)
WEIGHT_STATISTICS(attractor_weight_statistics_f32, float)
