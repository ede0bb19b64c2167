// Row-parallel softmax on a persistent pool of threads (see attractor_kernels.h). libdispatch's
// concurrentPerform allocates on every call (its block and continuation), which a dynamics step
// must not do; this pool allocates only when it starts its threads, on first use.
#include "attractor_kernels.h"

#include <pthread.h>
#include <unistd.h>

enum { MAX_PARTS = 64 };

typedef void (*part_fn)(void *context, int part, int parts);

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;  // guards every field below
static pthread_cond_t pool_start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pool_caller = PTHREAD_MUTEX_INITIALIZER;  // one parallel call at a time
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_threads;  // started worker threads
static unsigned long pool_generation;
static part_fn job_fn;
static void *job_context;
static int job_parts, job_next, job_done;

static void *pool_worker(void *unused) {
  (void)unused;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    while (pool_generation == seen) pthread_cond_wait(&pool_start, &pool_lock);
    seen = pool_generation;
    while (job_next < job_parts) {
      int part = job_next++;
      part_fn fn = job_fn;
      void *context = job_context;
      int parts = job_parts;
      pthread_mutex_unlock(&pool_lock);
      fn(context, part, parts);
      pthread_mutex_lock(&pool_lock);
      if (++job_done == job_parts) pthread_cond_signal(&pool_done);
    }
  }
  return NULL;
}

static void pool_start_threads(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int wanted = cores > 1 ? (int)(cores - 1 < MAX_PARTS - 1 ? cores - 1 : MAX_PARTS - 1) : 0;
  for (int i = 0; i < wanted; i++) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, pool_worker, NULL) != 0) break;
    pthread_detach(thread);
    pool_threads += 1;
  }
}

// Runs fn(context, p, parts) for p in 0..<parts: on the caller and the pool when the pool is free,
// all on the caller when another thread is using it (or it has no threads).
static void run_parts(int parts, part_fn fn, void *context) {
  pthread_once(&pool_once, pool_start_threads);
  if (parts <= 1 || pool_threads == 0 || pthread_mutex_trylock(&pool_caller) != 0) {
    for (int p = 0; p < parts; p++) fn(context, p, parts);
    return;
  }
  pthread_mutex_lock(&pool_lock);
  job_fn = fn;
  job_context = context;
  job_parts = parts;
  job_next = 0;
  job_done = 0;
  pool_generation += 1;
  pthread_cond_broadcast(&pool_start);
  while (job_next < job_parts) {
    int part = job_next++;
    pthread_mutex_unlock(&pool_lock);
    fn(context, part, parts);
    pthread_mutex_lock(&pool_lock);
    job_done += 1;
  }
  while (job_done < job_parts) pthread_cond_wait(&pool_done, &pool_lock);
  pthread_mutex_unlock(&pool_lock);
  pthread_mutex_unlock(&pool_caller);
}

typedef struct {
  void *x;
  size_t rows, count;
} rows_job;

static void softmax_part_f32(void *context, int part, int parts) {
  const rows_job *job = context;
  size_t lo = job->rows * (size_t)part / (size_t)parts, hi = job->rows * (size_t)(part + 1) / (size_t)parts;
  for (size_t i = lo; i < hi; i++) attractor_softmax_f32((float *)job->x + i * job->count, job->count);
}

static void softmax_part_f64(void *context, int part, int parts) {
  const rows_job *job = context;
  size_t lo = job->rows * (size_t)part / (size_t)parts, hi = job->rows * (size_t)(part + 1) / (size_t)parts;
  for (size_t i = lo; i < hi; i++) attractor_softmax_f64((double *)job->x + i * job->count, job->count);
}

static int clamp_parts(int parts, size_t rows) {
  if (parts > MAX_PARTS) parts = MAX_PARTS;
  if ((size_t)parts > rows) parts = (int)rows;
  return parts < 1 ? 1 : parts;
}

void attractor_softmax_rows_f32(float *x, size_t rows, size_t count, int parts) {
  rows_job job = {x, rows, count};
  run_parts(clamp_parts(parts, rows), softmax_part_f32, &job);
}

void attractor_softmax_rows_f64(double *x, size_t rows, size_t count, int parts) {
  rows_job job = {x, rows, count};
  run_parts(clamp_parts(parts, rows), softmax_part_f64, &job);
}

typedef struct {
  void *s, *row_max, *row_sum, *acc;
  size_t rows, cols, lds, ldacc, d;
} online_job;

static void online_part_f32(void *context, int part, int parts) {
  const online_job *j = context;
  size_t lo = j->rows * (size_t)part / (size_t)parts, hi = j->rows * (size_t)(part + 1) / (size_t)parts;
  attractor_online_softmax_rows_f32((float *)j->s + lo * j->lds, hi - lo, j->cols, j->lds, (float *)j->row_max + lo,
                                    (float *)j->row_sum + lo, (float *)j->acc + lo * j->ldacc, j->ldacc, j->d);
}

static void online_part_f64(void *context, int part, int parts) {
  const online_job *j = context;
  size_t lo = j->rows * (size_t)part / (size_t)parts, hi = j->rows * (size_t)(part + 1) / (size_t)parts;
  attractor_online_softmax_rows_f64((double *)j->s + lo * j->lds, hi - lo, j->cols, j->lds,
                                    (double *)j->row_max + lo, (double *)j->row_sum + lo,
                                    (double *)j->acc + lo * j->ldacc, j->ldacc, j->d);
}

void attractor_online_softmax_rows_parallel_f32(float *s, size_t rows, size_t cols, size_t lds, float *row_max,
                                                float *row_sum, float *acc, size_t ldacc, size_t d, int parts) {
  online_job job = {s, row_max, row_sum, acc, rows, cols, lds, ldacc, d};
  run_parts(clamp_parts(parts, rows), online_part_f32, &job);
}

void attractor_online_softmax_rows_parallel_f64(double *s, size_t rows, size_t cols, size_t lds, double *row_max,
                                                double *row_sum, double *acc, size_t ldacc, size_t d, int parts) {
  online_job job = {s, row_max, row_sum, acc, rows, cols, lds, ldacc, d};
  run_parts(clamp_parts(parts, rows), online_part_f64, &job);
}
