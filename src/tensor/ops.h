/* ops.h — the tensor arithmetic core: elementwise binary operations with
 * numpy broadcasting, unary math, clamp, softmax, reductions and matmul
 * (cblas_sgemm). Knows nothing of Lua; functions that can fail return 0 or
 * -1 with a message in err (TENSOR_ERRLEN bytes). Dims here are 0-based. */
#ifndef NNLAB_OPS_H
#define NNLAB_OPS_H

#include "tensor.h"

typedef enum {
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE
} BinOp;

typedef enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_TANH, U_SIGMOID, U_RELU } UnOp;

typedef enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_STD, R_ARGMAX, R_ARGMIN } RedOp;

/* The numpy broadcast of a's and b's shapes: sizes are matched from the
 * last dimension; equal sizes or a size 1 are compatible. */
int ops_broadcast_shape(const Tensor *a, const Tensor *b, int *ndim, int64_t *shape, char *err);

/* out[i] = a[i] op b[i] over out's shape, which must be the broadcast shape
 * of a and b. out may be a itself (in place); its dtype decides how the
 * result is stored (comparisons store 0/1). Cannot fail otherwise. */
void ops_binary(Tensor *out, const Tensor *a, const Tensor *b, BinOp op);

/* In place over a contiguous t. Integer dtypes are computed in double and
 * stored back with saturation (callers convert to float32 first when the
 * result should be fractional). */
void ops_unary(Tensor *t, UnOp op);
/* t = min(max(t, lo), hi) in place (contiguous t); NaN bounds are ignored. */
void ops_clamp(Tensor *t, double lo, double hi);
/* Softmax along dim, in place over a contiguous float32 t:
 * y_j = exp(x_j - max x) / sum_k exp(x_k - max x) (stable for large x). */
void ops_softmax(Tensor *t, int dim);

/* Whole-tensor reduction of a contiguous, non-empty t (sum may be empty).
 * std is the population standard deviation (ddof = 0, numpy's default).
 * argmax/argmin give the 0-based flat position of the first extreme. */
double ops_reduce_all(const Tensor *t, RedOp op);
/* Reduction of a contiguous t along dim into the contiguous out, whose
 * shape is t's without dim; argmax/argmin write 1-based positions. Returns
 * -1 only on allocation failure. */
int ops_reduce_dim(Tensor *out, const Tensor *t, int dim, RedOp op, char *err);

/* out (m x n, float32, contiguous) = a (m x k) · b (k x n), both float32 and
 * 2-D. Views whose strides are a transposed layout go to BLAS as CblasTrans
 * without copying; other layouts are copied first. */
int ops_matmul(Tensor *out, const Tensor *a, const Tensor *b, char *err);

#endif
