// OpenBLAS's CBLAS and the reference LAPACKE interface, from Debian's libopenblas-dev and liblapacke-dev.
#include <cblas.h>
#include <lapacke.h>
// OpenBLAS extensions: set or read the number of BLAS threads.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
