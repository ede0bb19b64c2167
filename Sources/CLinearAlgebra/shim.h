// CBLAS and LAPACKE, as shipped by Debian's libopenblas-dev and liblapacke-dev.
// OpenBLAS is linked directly (not through libblas.so.3) so the fast library is
// the one in use whatever the system's BLAS alternative points at.
#ifndef ATTRACTORS_CLINEARALGEBRA_SHIM_H
#define ATTRACTORS_CLINEARALGEBRA_SHIM_H
#include <cblas.h>
#include <lapacke.h>

// Declared by OpenBLAS's cblas.h; repeated here so a netlib cblas.h on the
// include path does not hide them (the library we link always has them).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The name of the kernel set OpenBLAS chose at load time ("Prescott", "Haswell", "SkylakeX", …).
char *openblas_get_corename(void);
// The library's build configuration ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64").
char *openblas_get_config(void);
#endif
