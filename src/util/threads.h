/* threads.h — the --threads setting, shared by BLAS and nnlab's own kernels. */
#ifndef NNLAB_THREADS_H
#define NNLAB_THREADS_H

/* Sets the matrix library's and kernel threads; n <= 0 means the user's
 * OMP_NUM_THREADS or OPENBLAS_NUM_THREADS, else all cores. */
void nnlab_set_threads(int n);
int nnlab_threads(void);

#endif
