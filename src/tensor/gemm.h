/* gemm.h — the one matrix product every part of nnlab calls (row-major
 * single precision), so that the library and kernels behind it are chosen in
 * one place. Cannot fail. */
#ifndef NNLAB_GEMM_H
#define NNLAB_GEMM_H

#include <stdint.h>

/* C = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when tX is nonzero.
 * op(A) is M×K, op(B) is K×N, C is M×N; lda, ldb, ldc are row strides. */
void gemm_f32(int tA, int tB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

#endif
