/* matmul_dnnl.h — C = alpha·A·B + beta·C (row-major, neither operand
 * transposed) through oneDNN's matmul primitive, kept per shape. */
#ifndef NNLAB_MATMUL_DNNL_H
#define NNLAB_MATMUL_DNNL_H

#include <stdint.h>

/* Returns 0 when done, or -1 when that primitive is not the faster choice
 * for this shape here, cannot be made, or alpha is not 1: the caller then
 * runs sgemm.
 * Which one a shape gets depends only on the shape and the processor.
 * May be called at once by the threads of an OpenMP parallel region (it
 * then runs on the calling thread); outside one, by one thread at a time. */
int matmul_dnnl(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

#endif
