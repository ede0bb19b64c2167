// Test support: counts the heap allocations of the calling thread between begin and end.
//
// The test executable that links this target defines malloc, calloc, realloc, memalign,
// aligned_alloc and posix_memalign; each forwards to glibc's own allocator (__libc_malloc and
// friends) and, while the calling thread is counting, adds one to that thread's count. free is
// glibc's, untouched. Nothing is counted unless a thread asked for it, so other tests running at
// the same time (Swift Testing runs tests in parallel) neither count nor are counted.
#ifndef C_ALLOCATION_COUNTER_H
#define C_ALLOCATION_COUNTER_H

/// Starts counting the calling thread's allocations from zero.
void attractor_allocations_begin(void);
/// Stops counting and returns how many allocations the calling thread made since begin.
long attractor_allocations_end(void);
/// Whether this process's malloc is the counting one (false when the C library's own was bound,
/// e.g. under a sanitizer that interposes malloc itself): a check that counts nothing must not pass.
int attractor_allocations_interposed(void);

#endif
