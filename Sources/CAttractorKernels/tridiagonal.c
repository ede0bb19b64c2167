// Householder reduction of a small symmetric matrix to tridiagonal form, without BLAS.
//
// The classification of fixed points needs the eigenvalues of one small d × d symmetric matrix per
// point, on several threads at once. LAPACK's ?sytrd does this reduction through BLAS calls
// (?symv, ?syr2, ?gemv, ?syr2k), which in OpenBLAS may hand work to its own thread pool and take
// process-wide locks; this kernel calls nothing, so any number of threads can run it at once. The
// tridiagonal matrix then goes to LAPACK's ?sterf, which calls no BLAS either.
#include "attractor_kernels.h"
#include <math.h>
#include <string.h>

#define VECTORISED __attribute__((target_clones("avx512f,avx2,default")))

// Σ x[i] y[i] over m values with eight partial sums (a fixed order, so every thread and run gives
// the same bits; plain loops are not vectorised without reassociation).
static inline double dot(const double *restrict x, const double *restrict y, size_t m) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    for (int l = 0; l < 8; l++) acc[l] += x[j + l] * y[j + l];
  }
  double s = 0;
  for (; j < m; j++) s += x[j] * y[j];
  return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// One step of the reduction on the m × m symmetric trailing block b (leading dimension ld) with
// Householder vector v (v[0] = 1) and factor tau:
//   p ← tau b v  (as Σⱼ vⱼ b[j, :], rows of the symmetric b: no horizontal sums)
//   w ← p − (tau/2)(pᵀv) v
//   b ← b − v wᵀ − w vᵀ
VECTORISED
static void reflect(double *restrict b, size_t ld, size_t m, const double *restrict v, double tau,
                    double *restrict p) {
  for (size_t j = 0; j < m; j++) p[j] = 0;
  for (size_t i = 0; i < m; i++) {
    const double *restrict row = b + i * ld;
    const double vi = v[i];
    for (size_t j = 0; j < m; j++) p[j] += vi * row[j];
  }
  for (size_t j = 0; j < m; j++) p[j] *= tau;
  const double c = 0.5 * tau * dot(p, v, m);
  for (size_t j = 0; j < m; j++) p[j] -= c * v[j];
  for (size_t i = 0; i < m; i++) {
    double *restrict row = b + i * ld;
    const double vi = v[i], wi = p[i];
    for (size_t j = 0; j < m; j++) row[j] -= vi * p[j] + wi * v[j];
  }
}

// Σ x[i]² for i ≥ 1 of the m values at x, and the Householder reflector H = I − tau v vᵀ with
// H x = beta e₁ (LAPACK's ?larfg): returns tau (0 when x[1...] is zero: H = I, beta = x[0]).
static double householder(const double *x, size_t m, double *v, double *beta_out) {
  const double alpha = x[0];
  double tail = m > 1 ? dot(x + 1, x + 1, m - 1) : 0;
  double norm;
  if (tail == 0) {
    // Either already reduced, or every entry so small that its square underflows: decide on the
    // entries themselves.
    double scale = 0;
    for (size_t i = 1; i < m; i++) scale = fmax(scale, fabs(x[i]));
    if (scale == 0) {
      *beta_out = alpha;
      return 0;
    }
  }
  if (tail >= 0x1p-900 && tail <= 0x1p900) {
    norm = sqrt(alpha * alpha + tail);
  } else {  // squares near underflow or overflow: the norm of x scaled by its largest entry
    double scale = fabs(alpha);
    for (size_t i = 1; i < m; i++) scale = fmax(scale, fabs(x[i]));
    double s = 0;
    for (size_t i = 0; i < m; i++) {
      const double t = x[i] / scale;
      s += t * t;
    }
    norm = scale * sqrt(s);
  }
  const double beta = -copysign(norm, alpha);
  const double f = 1 / (alpha - beta);  // |alpha − beta| = |alpha| + |beta| ≥ every |x[i]|
  v[0] = 1;
  for (size_t i = 1; i < m; i++) v[i] = x[i] * f;
  *beta_out = beta;
  return (beta - alpha) / beta;
}

// Reduces the symmetric n × n matrix a (row-major, both triangles, leading dimension n; destroyed)
// to the tridiagonal T = Qᵀ a Q: diagonal d[0..<n], off-diagonal e[0..<n−1]. work holds 2n doubles.
static void tridiagonalize(double *a, size_t n, double *d, double *e, double *work) {
  double *v = work, *p = work + n;
  if (n == 1) {
    d[0] = a[0];
    return;
  }
  for (size_t k = 0; k + 2 < n; k++) {
    const size_t m = n - k - 1;
    d[k] = a[k * n + k];
    const double tau = householder(a + k * n + k + 1, m, v, &e[k]);  // row k right of the diagonal
    if (tau != 0) reflect(a + (k + 1) * n + k + 1, n, m, v, tau, p);
  }
  d[n - 2] = a[(n - 2) * n + n - 2];
  e[n - 2] = a[(n - 2) * n + n - 1];
  d[n - 1] = a[(n - 1) * n + n - 1];
}

void attractor_symmetric_tridiagonal_f64(const double *source, size_t n, size_t ld, double *scratch, double *d,
                                         double *e, double *work) {
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i; j < n; j++) {
      const double x = source[i * ld + j];
      scratch[i * n + j] = x;
      scratch[j * n + i] = x;
    }
  }
  tridiagonalize(scratch, n, d, e, work);
}

void attractor_symmetric_tridiagonal_f32(const float *source, size_t n, size_t ld, double *scratch, double *d,
                                         double *e, double *work) {
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i; j < n; j++) {
      const double x = (double)source[i * ld + j];
      scratch[i * n + j] = x;
      scratch[j * n + i] = x;
    }
  }
  tridiagonalize(scratch, n, d, e, work);
}
