// See include/CAllocationCounter.h.
#include "CAllocationCounter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static __thread int counting;
static __thread long counted;
static __thread long probe;

static inline void note(void) {
  if (counting) counted += 1;
  probe += 1;
}

void *malloc(size_t size) {
  note();
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  note();
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  note();
  return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  note();
  void *p = __libc_memalign(alignment, size);
  if (p == NULL) return ENOMEM;
  *result = p;
  return 0;
}

void attractor_allocations_begin(void) {
  counted = 0;
  counting = 1;
}

long attractor_allocations_end(void) {
  counting = 0;
  return counted;
}

int attractor_allocations_interposed(void) {
  long before = probe;
  void *volatile p = malloc(16);
  free(p);
  return probe != before;
}
#else
void attractor_allocations_begin(void) {}
long attractor_allocations_end(void) { return 0; }
int attractor_allocations_interposed(void) { return 0; }
#endif
