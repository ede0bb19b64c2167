// See include/CAllocationCounter.h.
#define _GNU_SOURCE
#include "CAllocationCounter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static __thread int counting;
static __thread long counted;
static __thread long counted_blas;
static __thread long probe;
// The load address of OpenBLAS, looked up by begin (dlsym and dladdr do not allocate once a
// symbol is found; they run before counting starts). NULL when OpenBLAS is not loaded.
static void *_Atomic blas_base;

// Counts one allocation whose direct caller returns to `caller`. dladdr takes the loader's
// recursive lock and does not allocate, so it is safe inside malloc.
static void note(void *caller) {
  probe += 1;
  if (!counting) return;
  void *base = blas_base;
  if (base != NULL) {
    Dl_info info;
    if (dladdr(caller, &info) != 0 && info.dli_fbase == base) {
      counted_blas += 1;
      return;
    }
  }
  counted += 1;
}

void *malloc(size_t size) {
  note(__builtin_return_address(0));
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  note(__builtin_return_address(0));
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  note(__builtin_return_address(0));
  return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
  note(__builtin_return_address(0));
  return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  note(__builtin_return_address(0));
  return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  note(__builtin_return_address(0));
  void *p = __libc_memalign(alignment, size);
  if (p == NULL) return ENOMEM;
  *result = p;
  return 0;
}

static void find_blas(void) {
  if (blas_base != NULL) return;
  void *symbol = dlsym(RTLD_DEFAULT, "openblas_get_config");
  Dl_info info;
  if (symbol != NULL && dladdr(symbol, &info) != 0) blas_base = info.dli_fbase;
}

void attractor_allocations_begin(void) {
  find_blas();
  counted = 0;
  counted_blas = 0;
  counting = 1;
}

long attractor_allocations_end(void) {
  counting = 0;
  return counted;
}

long attractor_allocations_blas(void) { return counted_blas; }

int attractor_allocations_interposed(void) {
  long before = probe;
  void *volatile p = malloc(16);
  free(p);
  return probe != before;
}
#else
void attractor_allocations_begin(void) {}
long attractor_allocations_end(void) { return 0; }
long attractor_allocations_blas(void) { return 0; }
int attractor_allocations_interposed(void) { return 0; }
#endif
