// What OpenBLAS does when threads call small LAPACK routines at once (issue 15, item 2).
//
// For K random symmetric n × n matrices (n = 64, K = 1,000 by default), times per matrix, with OpenBLAS at 1
// and 2 threads and the matrices split over 1 and 2 user threads (pthreads):
//   LAPACKE_dsyevd (row-major, eigenvalues only), dsytrd alone, dsterf alone (on dsytrd's output),
//   and the project's BLAS-free path: attractor_symmetric_tridiagonal_f64 (C) + dsterf.
// Prints wall time / K and the user threads' CPU time / K (best of the repetitions), and the largest
// difference between the BLAS-free path's eigenvalues and dsyevd's (relative to max |λ|).
//
// Build and run (from the repository root; set the kernel set the `attractor` binary would use):
//   clang -O2 -o /tmp/openblas_small_calls Scripts/openblas_small_calls.c Sources/CAttractorKernels/tridiagonal.c \
//      -ISources/CAttractorKernels/include -llapacke -lopenblas -lpthread -lm
//   OPENBLAS_CORETYPE=SkylakeX /tmp/openblas_small_calls [n] [repetitions] [K]
#define _GNU_SOURCE
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attractor_kernels.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);

static int n = 64, K = 1000;
static double *matrices, *diagonals, *offdiagonals;

static double now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
  int lo, hi, mode;
  double cpu;
} job;

static void *run(void *argument) {
  job *j = argument;
  double *a = malloc(sizeof(double) * n * n), *w = malloc(sizeof(double) * n), *e = malloc(sizeof(double) * n);
  double *tau = malloc(sizeof(double) * n), *scratch = malloc(sizeof(double) * 2 * n);
  int lwork = 64 * n, info;
  double *work = malloc(sizeof(double) * lwork);
  const double start = now(CLOCK_THREAD_CPUTIME_ID);
  for (int k = j->lo; k < j->hi; k++) {
    const double *m = matrices + (size_t)k * n * n;
    if (j->mode == 0) {
      memcpy(a, m, sizeof(double) * n * n);
      LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', n, a, n, w);
    } else if (j->mode == 1) {
      memcpy(a, m, sizeof(double) * n * n);
      char uplo = 'L';
      LAPACK_dsytrd(&uplo, &n, a, &n, w, e, tau, work, &lwork, &info);
    } else if (j->mode == 2) {
      memcpy(w, diagonals + k * n, sizeof(double) * n);
      memcpy(e, offdiagonals + k * n, sizeof(double) * n);
      LAPACK_dsterf(&n, w, e, &info);
    } else {
      attractor_symmetric_tridiagonal_f64(m, n, n, a, w, e, scratch);
      LAPACK_dsterf(&n, w, e, &info);
    }
  }
  j->cpu = now(CLOCK_THREAD_CPUTIME_ID) - start;
  free(a), free(w), free(e), free(tau), free(scratch), free(work);
  return NULL;
}

static double time_once(int threads, int mode, double *cpu) {
  pthread_t thread[2];
  job jobs[2];
  const double start = now(CLOCK_MONOTONIC);
  for (int t = 0; t < threads; t++) {
    jobs[t] = (job){t * K / threads, (t + 1) * K / threads, mode, 0};
    pthread_create(&thread[t], NULL, run, &jobs[t]);
  }
  *cpu = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(thread[t], NULL);
    *cpu += jobs[t].cpu;
  }
  return now(CLOCK_MONOTONIC) - start;
}

int main(int argc, char **argv) {
  if (argc > 1) n = atoi(argv[1]);
  const int repetitions = argc > 2 ? atoi(argv[2]) : 5;
  if (argc > 3) K = atoi(argv[3]);
  matrices = malloc(sizeof(double) * n * n * K);
  diagonals = malloc(sizeof(double) * n * K);
  offdiagonals = malloc(sizeof(double) * n * K);
  srand(1);
  for (int k = 0; k < K; k++) {  // (G + Gᵀ)/2, G uniform in [−½, ½]
    double *m = matrices + (size_t)k * n * n;
    for (int i = 0; i < n * n; i++) m[i] = rand() / (double)RAND_MAX - 0.5;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = (m[i * n + j] + m[j * n + i]) / 2;
  }
  double error = 0;
  {
    double *a = malloc(sizeof(double) * n * n), *w1 = malloc(sizeof(double) * n), *w2 = malloc(sizeof(double) * n);
    double *e = malloc(sizeof(double) * n), *tau = malloc(sizeof(double) * n), *scratch = malloc(sizeof(double) * 2 * n);
    int lwork = 64 * n, info;
    double *work = malloc(sizeof(double) * lwork);
    char uplo = 'L';
    for (int k = 0; k < K; k++) {
      const double *m = matrices + (size_t)k * n * n;
      memcpy(a, m, sizeof(double) * n * n);
      LAPACK_dsytrd(&uplo, &n, a, &n, diagonals + k * n, offdiagonals + k * n, tau, work, &lwork, &info);
      memcpy(a, m, sizeof(double) * n * n);
      LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', n, a, n, w1);
      attractor_symmetric_tridiagonal_f64(m, n, n, a, w2, e, scratch);
      LAPACK_dsterf(&n, w2, e, &info);
      double scale = 0;
      for (int i = 0; i < n; i++) scale = fmax(scale, fabs(w1[i]));
      for (int i = 0; i < n; i++) error = fmax(error, fabs(w1[i] - w2[i]) / scale);
    }
  }
  printf("n = %d, K = %d matrices, OpenBLAS kernels %s; best of %d\n", n, K, openblas_get_corename(), repetitions);
  printf("max |lambda(BLAS-free) - lambda(dsyevd)| / max |lambda| = %.2e\n\n", error);
  printf("| OpenBLAS threads | user threads | routine | wall / K (us) | CPU of user threads / K (us) |\n");
  printf("|---:|---:|---|---:|---:|\n");
  const char *names[] = {"LAPACKE_dsyevd", "dsytrd", "dsterf", "C tridiagonal + dsterf"};
  for (int blas = 1; blas <= 2; blas++) {
    openblas_set_num_threads(blas);
    for (int mode = 0; mode < 4; mode++) {
      for (int users = 1; users <= 2; users++) {
        double wall = INFINITY, cpu = INFINITY;
        for (int r = 0; r < repetitions; r++) {
          double c;
          wall = fmin(wall, time_once(users, mode, &c));
          cpu = fmin(cpu, c);
        }
        printf("| %d | %d | %s | %.1f | %.1f |\n", blas, users, names[mode], wall * 1e6 / K, cpu * 1e6 / K);
      }
    }
  }
  return 0;
}
