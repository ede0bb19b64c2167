// Test support: counts the heap allocations of the calling thread between begin and end.
//
// The test executable that links this target defines malloc, calloc, realloc, memalign,
// aligned_alloc and posix_memalign; each forwards to glibc's own allocator (__libc_malloc and
// friends) and, while the calling thread is counting, adds one to that thread's count. free is
// glibc's, untouched. Nothing is counted unless a thread asked for it, so other tests running at
// the same time (Swift Testing runs tests in parallel) neither count nor are counted.
//
// Each counted allocation is attributed to the shared object its direct caller lives in: calls made
// from inside OpenBLAS are counted apart (attractor_allocations_blas), because whether OpenBLAS
// allocates depends on the kernels it picks for the CPU at run time (0.3.21's small-matrix GEMM
// kernels for AVX-512 CPUs, e.g. dgemm_small_kernel_b0_nn_COOPERLAKE, call malloc on every call;
// its SSE3 Prescott kernels do not), not on the code under test.
#ifndef C_ALLOCATION_COUNTER_H
#define C_ALLOCATION_COUNTER_H

/// Starts counting the calling thread's allocations from zero.
void attractor_allocations_begin(void);
/// Stops counting and returns how many allocations the calling thread made since begin, not
/// counting those whose direct caller is OpenBLAS (see attractor_allocations_blas).
long attractor_allocations_end(void);
/// The allocations of the last begin…end window whose direct caller was inside OpenBLAS (0 when
/// OpenBLAS is not loaded).
long attractor_allocations_blas(void);
/// Whether this process's malloc is the counting one (false when the C library's own was bound,
/// e.g. under a sanitizer that interposes malloc itself): a check that counts nothing must not pass.
int attractor_allocations_interposed(void);

#endif
