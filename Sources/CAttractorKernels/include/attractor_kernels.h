// Small numeric kernels written in C so that clang vectorises them (the Swift generic SIMD types
// are not reliably lowered to vector code). Each has a scalar fallback selected at run time.
#ifndef ATTRACTOR_KERNELS_H
#define ATTRACTOR_KERNELS_H
#include <stddef.h>

/// Replaces x[0..<count] by softmax(x) in place (count ≥ 1). Exponentials use a degree-6
/// polynomial after range reduction (max relative error below 1e-7, i.e. under one ulp); entries
/// whose shifted logit is below −87.33 (weight < 2⁻¹²⁶) become exactly 0.
void attractor_softmax_f32(float *x, size_t count);

/// exp(x[i] − shift) in place, returning the sum of the results (same exponential as above).
float attractor_exp_shift_sum_f32(float *x, size_t count, float shift);
#endif
