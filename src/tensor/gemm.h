/* gemm.h — the one matrix product every part of nnlab calls (row-major
 * single precision), and the library behind it: oneDNN's sgemm, which picks
 * its kernels by the processor's instruction sets, or OpenBLAS when the
 * environment says NNLAB_GEMM=openblas. */
#ifndef NNLAB_GEMM_H
#define NNLAB_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* C = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when tX is nonzero.
 * op(A) is M×K, op(B) is K×N, C is M×N; lda, ldb, ldc are row strides.
 * Cannot fail. */
void gemm_f32(int tA, int tB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* Makes the library ready to work: oneDNN writes its sgemm kernels on the
 * first product (30 ms on a 2-core EPYC, a tenth of a CIFAR-10 epoch of the
 * course's model). The trainer calls it before an epoch's clock starts, so
 * that the first epoch is timed like the others. Idempotent; cannot fail. */
void gemm_prepare(void);
/* Sets the library's threads; n <= 0 means the user's OMP_NUM_THREADS or
 * OPENBLAS_NUM_THREADS when set, else all cores. Returns the count used. */
int gemm_set_threads(int n);
/* "oneDNN" or "OpenBLAS". */
const char *gemm_library(void);
/* One line for --version: library, version, kernels, threads. */
void gemm_describe(char *buf, size_t len);

#endif
