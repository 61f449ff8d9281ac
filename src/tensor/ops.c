/* ops.c — elementwise arithmetic with numpy broadcasting, unary math,
 * softmax, reductions and matmul over tensor views. Broadcasting gives a
 * stride of 0 to every dimension an operand repeats; dimensions that are
 * laid out back to back in all operands are merged, so a contiguous add is
 * one flat loop the compiler vectorises. */
#pragma GCC optimize("O3")
#include "ops.h"

#include "act.h"

#include "gemm.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_broadcast_shape(const Tensor *a, const Tensor *b, int *ndim, int64_t *shape, char *err) {
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int d = 0; d < nd; d++) {
    int ia = d - (nd - a->ndim), ib = d - (nd - b->ndim);
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char x[96], y[96];
      snprintf(err, TENSOR_ERRLEN,
               "shapes %s and %s cannot be broadcast (dimension %d: %lld vs %lld)",
               tensor_shape_str(a, x, sizeof x), tensor_shape_str(b, y, sizeof y), d + 1,
               (long long)sa, (long long)sb);
      return -1;
    }
    shape[d] = sa == 1 ? sb : sa;
  }
  *ndim = nd;
  return 0;
}

/* ---- the strided iterator -------------------------------------------- */

typedef struct {
  int nd;
  int64_t shape[TENSOR_MAXDIM];
  int64_t st[3][TENSOR_MAXDIM]; /* out, a, b */
} Iter;

static void align_strides(const Tensor *x, int nd, const int64_t *shape, int64_t *st) {
  for (int d = 0; d < nd; d++) {
    int i = d - (nd - x->ndim);
    st[d] = (i >= 0 && x->shape[i] == shape[d] && shape[d] != 1) ? x->stride[i] : 0;
  }
}

/* Drops size-1 dimensions and merges dimension d into d+1 when every
 * operand steps over d exactly as far as over the whole of d+1. */
static void iter_build(Iter *it, const Tensor *o, const Tensor *a, const Tensor *b) {
  int64_t st[3][TENSOR_MAXDIM];
  align_strides(o, o->ndim, o->shape, st[0]);
  align_strides(a, o->ndim, o->shape, st[1]);
  align_strides(b, o->ndim, o->shape, st[2]);
  it->nd = 0;
  for (int d = 0; d < o->ndim; d++) {
    if (o->shape[d] == 1) continue;
    int k = it->nd;
    if (k > 0) {
      int merge = 1;
      for (int q = 0; q < 3; q++)
        if (it->st[q][k - 1] != st[q][d] * o->shape[d]) merge = 0;
      if (merge) {
        it->shape[k - 1] *= o->shape[d];
        for (int q = 0; q < 3; q++) it->st[q][k - 1] = st[q][d];
        continue;
      }
    }
    it->shape[k] = o->shape[d];
    for (int q = 0; q < 3; q++) it->st[q][k] = st[q][d];
    it->nd++;
  }
  if (it->nd == 0) {
    it->nd = 1;
    it->shape[0] = 1;
    for (int q = 0; q < 3; q++) it->st[q][0] = 1;
  }
}

/* ---- float kernels ----------------------------------------------------- */

/* One row of n elements. The three unit-stride and scalar cases are
 * written out so each becomes a vectorised loop. */
#define FKERNEL(name, OT, EXPR)                                                              \
  static void name(OT *o, const float *a, const float *b, int64_t n, int64_t so, int64_t sa, \
                   int64_t sb) {                                                             \
    if (so == 1 && sa == 1 && sb == 1) {                                                     \
      for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = (OT)(EXPR); }       \
    } else if (so == 1 && sa == 1 && sb == 0) {                                              \
      float y = b[0];                                                                        \
      for (int64_t i = 0; i < n; i++) { float x = a[i]; o[i] = (OT)(EXPR); }                 \
    } else if (so == 1 && sa == 0 && sb == 1) {                                              \
      float x = a[0];                                                                        \
      for (int64_t i = 0; i < n; i++) { float y = b[i]; o[i] = (OT)(EXPR); }                 \
    } else {                                                                                 \
      for (int64_t i = 0; i < n; i++) {                                                      \
        float x = a[i * sa], y = b[i * sb];                                                  \
        o[i * so] = (OT)(EXPR);                                                              \
      }                                                                                      \
    }                                                                                        \
  }

FKERNEL(k_add, float, x + y)
FKERNEL(k_sub, float, x - y)
FKERNEL(k_mul, float, x * y)
FKERNEL(k_div, float, x / y)
FKERNEL(k_pow, float, y == 2.0f ? x * x : powf(x, y))
FKERNEL(k_eq, uint8_t, x == y)
FKERNEL(k_ne, uint8_t, x != y)
FKERNEL(k_lt, uint8_t, x < y)
FKERNEL(k_le, uint8_t, x <= y)
FKERNEL(k_gt, uint8_t, x > y)
FKERNEL(k_ge, uint8_t, x >= y)

typedef void (*FloatRow)(float *, const float *, const float *, int64_t, int64_t, int64_t, int64_t);
typedef void (*MaskRow)(uint8_t *, const float *, const float *, int64_t, int64_t, int64_t, int64_t);

/* ---- the generic (any dtype) path ----------------------------------- */

static double load(const void *base, DType dt, int64_t off) {
  switch (dt) {
  case DT_FLOAT32: return ((const float *)base)[off];
  case DT_UINT8: return ((const uint8_t *)base)[off];
  default: return ((const int32_t *)base)[off];
  }
}

static void store(void *base, DType dt, int64_t off, double v) {
  switch (dt) {
  case DT_FLOAT32: ((float *)base)[off] = (float)v; break;
  case DT_UINT8: ((uint8_t *)base)[off] = tensor_to_u8(v); break;
  default: ((int32_t *)base)[off] = tensor_to_i32(v); break;
  }
}

static double apply(BinOp op, double x, double y) {
  switch (op) {
  case OP_ADD: return x + y;
  case OP_SUB: return x - y;
  case OP_MUL: return x * y;
  case OP_DIV: return x / y;
  case OP_POW: return pow(x, y);
  case OP_EQ: return x == y;
  case OP_NE: return x != y;
  case OP_LT: return x < y;
  case OP_LE: return x <= y;
  case OP_GT: return x > y;
  default: return x >= y;
  }
}

/* One run of ops_binary: the merged iterator, the operands and the op. (A
 * second thread taking half of the outermost dimension was tried: adds on
 * 10M floats are bound by memory and page faults and ran no faster.) */
typedef struct {
  Iter it;
  int64_t off[3];
  BinOp op;
  int fast;
  void *ob;
  const void *ab, *bb;
  DType od, ad, bd;
} Job;

static void run_job(const Job *j) {
  static const FloatRow frow[] = {k_add, k_sub, k_mul, k_div, k_pow};
  static const MaskRow mrow[] = {k_eq, k_ne, k_lt, k_le, k_gt, k_ge};
  const Iter *it = &j->it;
  int64_t idx[TENSOR_MAXDIM] = {0}, off[3] = {j->off[0], j->off[1], j->off[2]};
  int last = it->nd - 1;
  int64_t n = it->shape[last], so = it->st[0][last], sa = it->st[1][last], sb = it->st[2][last];
  for (;;) {
    if (j->fast && j->op < OP_EQ) {
      frow[j->op]((float *)j->ob + off[0], (const float *)j->ab + off[1],
                  (const float *)j->bb + off[2], n, so, sa, sb);
    } else if (j->fast) {
      mrow[j->op - OP_EQ]((uint8_t *)j->ob + off[0], (const float *)j->ab + off[1],
                          (const float *)j->bb + off[2], n, so, sa, sb);
    } else {
      for (int64_t i = 0; i < n; i++)
        store(j->ob, j->od, off[0] + i * so,
              apply(j->op, load(j->ab, j->ad, off[1] + i * sa), load(j->bb, j->bd, off[2] + i * sb)));
    }
    /* advance the outer dimensions like an odometer */
    int d = last - 1;
    for (; d >= 0; d--) {
      for (int q = 0; q < 3; q++) off[q] += it->st[q][d];
      if (++idx[d] < it->shape[d]) break;
      for (int q = 0; q < 3; q++) off[q] -= it->st[q][d] * it->shape[d];
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

void ops_binary(Tensor *out, const Tensor *a, const Tensor *b, BinOp op) {
  Job j;
  if (tensor_numel(out) == 0) return;
  iter_build(&j.it, out, a, b);
  j.off[0] = out->offset;
  j.off[1] = a->offset;
  j.off[2] = b->offset;
  j.op = op;
  j.fast = a->dtype == DT_FLOAT32 && b->dtype == DT_FLOAT32 &&
           out->dtype == (op >= OP_EQ ? DT_UINT8 : DT_FLOAT32);
  j.ob = out->storage->data;
  j.ab = a->storage->data;
  j.bb = b->storage->data;
  j.od = out->dtype;
  j.ad = a->dtype;
  j.bd = b->dtype;
  run_job(&j);
}

/* ---- unary ----------------------------------------------------------- */

static double unary1(UnOp op, double x) {
  switch (op) {
  case U_NEG: return -x;
  case U_EXP: return exp(x);
  case U_LOG: return log(x);
  case U_SQRT: return sqrt(x);
  case U_ABS: return fabs(x);
  case U_TANH: return tanh(x);
  case U_SIGMOID: return 1.0 / (1.0 + exp(-x));
  default: return x > 0 ? x : 0;
  }
}

void ops_unary(Tensor *t, UnOp op) {
  int64_t n = tensor_numel(t);
  if (t->dtype != DT_FLOAT32) {
    void *base = tensor_data(t);
    for (int64_t i = 0; i < n; i++) store(base, t->dtype, i, unary1(op, load(base, t->dtype, i)));
    return;
  }
  float *p = tensor_f32(t);
  switch (op) {
  case U_NEG: for (int64_t i = 0; i < n; i++) p[i] = -p[i]; break;
  case U_EXP: for (int64_t i = 0; i < n; i++) p[i] = expf(p[i]); break;
  case U_LOG: for (int64_t i = 0; i < n; i++) p[i] = logf(p[i]); break;
  case U_SQRT: for (int64_t i = 0; i < n; i++) p[i] = sqrtf(p[i]); break;
  case U_ABS: for (int64_t i = 0; i < n; i++) p[i] = fabsf(p[i]); break;
  case U_TANH: act_tanh(p, p, n); break;
  case U_SIGMOID: act_sigmoid(p, p, n); break;
  default: act_relu(p, p, n); break;
  }
}

void ops_clamp(Tensor *t, double lo, double hi) {
  int64_t n = tensor_numel(t);
  void *base = tensor_data(t);
  if (t->dtype == DT_FLOAT32) {
    float *p = base, l = lo == lo ? (float)lo : -INFINITY, h = hi == hi ? (float)hi : INFINITY;
    for (int64_t i = 0; i < n; i++) {
      float x = p[i] < l ? l : p[i];
      p[i] = x > h ? h : x;
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    double x = load(base, t->dtype, i);
    if (lo == lo && x < lo) x = lo;
    if (hi == hi && x > hi) x = hi;
    store(base, t->dtype, i, x);
  }
}

/* Splits t's shape around dim: outer x n x inner, C order. */
static void split_dim(const Tensor *t, int dim, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < dim; d++) *outer *= t->shape[d];
  for (int d = dim + 1; d < t->ndim; d++) *inner *= t->shape[d];
  *n = t->shape[dim];
}

void ops_softmax(Tensor *t, int dim) {
  int64_t outer, n, inner;
  float *p = tensor_f32(t);
  split_dim(t, dim, &outer, &n, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < inner; k++) act_softmax(p + o * n * inner + k, n, inner);
}

/* ---- reductions ------------------------------------------------------ */

/* Converts n contiguous elements of any dtype starting at element off to
 * doubles. */
static void load_row(double *dst, const void *base, DType dt, int64_t off, int64_t n) {
  switch (dt) {
  case DT_FLOAT32: { const float *p = (const float *)base + off; for (int64_t i = 0; i < n; i++) dst[i] = p[i]; break; }
  case DT_UINT8: { const uint8_t *p = (const uint8_t *)base + off; for (int64_t i = 0; i < n; i++) dst[i] = p[i]; break; }
  default: { const int32_t *p = (const int32_t *)base + off; for (int64_t i = 0; i < n; i++) dst[i] = p[i]; break; }
  }
}

#define CHUNK 4096
/* x replaces the best so far when it compares better, or when it is the
 * first NaN: as in numpy, max/min of data with a NaN are NaN and
 * argmax/argmin point at the first NaN. */
#define BETTER(cmp, x, best) ((x) cmp (best) || ((x) != (x) && (best) == (best)))

double ops_reduce_all(const Tensor *t, RedOp op) {
  int64_t n = tensor_numel(t);
  const void *base = tensor_data(t);
  double buf[CHUNK], acc = 0, best = 0, mean = 0;
  int64_t at = 0;
  if (op == R_SUM || op == R_MEAN || op == R_STD) {
    if (t->dtype == DT_FLOAT32) {
      /* four partial sums: faster, and rounding grows more slowly */
      const float *p = base;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = 0;
      for (; i + 4 <= n; i += 4) { s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]; }
      for (; i < n; i++) s0 += p[i];
      acc = (s0 + s1) + (s2 + s3);
    } else {
      for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        load_row(buf, base, t->dtype, i, m);
        for (int64_t j = 0; j < m; j++) acc += buf[j];
      }
    }
    if (op == R_SUM) return acc;
    mean = acc / (double)n;
    if (op == R_MEAN) return mean;
    /* std = sqrt(sum (x - mean)^2 / n): ddof = 0 as numpy's default */
    acc = 0;
    for (int64_t i = 0; i < n; i += CHUNK) {
      int64_t m = n - i < CHUNK ? n - i : CHUNK;
      load_row(buf, base, t->dtype, i, m);
      for (int64_t j = 0; j < m; j++) acc += (buf[j] - mean) * (buf[j] - mean);
    }
    return sqrt(acc / (double)n);
  }
  best = load(base, t->dtype, 0);
  for (int64_t i = 0; i < n; i += CHUNK) {
    int64_t m = n - i < CHUNK ? n - i : CHUNK;
    load_row(buf, base, t->dtype, i, m);
    if (op == R_MAX || op == R_ARGMAX) {
      for (int64_t j = 0; j < m; j++) if (BETTER(>, buf[j], best)) { best = buf[j]; at = i + j; }
    } else {
      for (int64_t j = 0; j < m; j++) if (BETTER(<, buf[j], best)) { best = buf[j]; at = i + j; }
    }
  }
  return (op == R_ARGMAX || op == R_ARGMIN) ? (double)at : best;
}

/* Walks the rows of length inner (one per outer, j) accumulating into
 * acc[inner]; arg ops keep the position of the best value in pos. */
int ops_reduce_dim(Tensor *out, const Tensor *t, int dim, RedOp op, char *err) {
  int64_t outer, n, inner;
  split_dim(t, dim, &outer, &n, &inner);
  if (inner == 1) { /* along the last dimension: each result is a contiguous run */
    for (int64_t o = 0; o < outer; o++) {
      Tensor run = *t;
      run.ndim = 1;
      run.shape[0] = n;
      run.stride[0] = 1;
      run.offset = t->offset + o * n;
      double r = ops_reduce_all(&run, op);
      store(tensor_data(out), out->dtype, o, (op == R_ARGMAX || op == R_ARGMIN) ? r + 1 : r);
    }
    return 0;
  }
  size_t sz = (size_t)(inner ? inner : 1);
  double *row = malloc(sz * sizeof(double)), *acc = malloc(sz * sizeof(double)),
         *mean = malloc(sz * sizeof(double));
  int64_t *pos = malloc(sz * sizeof(int64_t));
  if (!row || !acc || !mean || !pos) {
    free(row); free(acc); free(mean); free(pos);
    snprintf(err, TENSOR_ERRLEN, "out of memory");
    return -1;
  }
  const void *base = tensor_data(t);
  void *ob = tensor_data(out);
  for (int64_t o = 0; o < outer; o++) {
    int64_t first = o * n * inner;
    for (int64_t k = 0; k < inner; k++) { acc[k] = 0; pos[k] = 0; }
    if (n > 0 && op != R_SUM && op != R_MEAN && op != R_STD) load_row(acc, base, t->dtype, first, inner);
    for (int64_t j = 0; j < n; j++) {
      load_row(row, base, t->dtype, first + j * inner, inner);
      switch (op) {
      case R_SUM: case R_MEAN: case R_STD:
        for (int64_t k = 0; k < inner; k++) acc[k] += row[k];
        break;
      case R_MAX: case R_ARGMAX:
        for (int64_t k = 0; k < inner; k++) if (BETTER(>, row[k], acc[k])) { acc[k] = row[k]; pos[k] = j; }
        break;
      default:
        for (int64_t k = 0; k < inner; k++) if (BETTER(<, row[k], acc[k])) { acc[k] = row[k]; pos[k] = j; }
        break;
      }
    }
    if (op == R_MEAN || op == R_STD)
      for (int64_t k = 0; k < inner; k++) acc[k] /= (double)n;
    if (op == R_STD) { /* second pass: population variance (ddof = 0) */
      for (int64_t k = 0; k < inner; k++) { mean[k] = acc[k]; acc[k] = 0; }
      for (int64_t j = 0; j < n; j++) {
        load_row(row, base, t->dtype, first + j * inner, inner);
        for (int64_t k = 0; k < inner; k++) acc[k] += (row[k] - mean[k]) * (row[k] - mean[k]);
      }
      for (int64_t k = 0; k < inner; k++) acc[k] = sqrt(acc[k] / (double)n);
    }
    for (int64_t k = 0; k < inner; k++)
      store(ob, out->dtype, o * inner + k,
            (op == R_ARGMAX || op == R_ARGMIN) ? (double)(pos[k] + 1) : acc[k]);
  }
  free(row); free(acc); free(mean); free(pos);
  return 0;
}

/* ---- matmul ---------------------------------------------------------- */

/* How BLAS can read an r x c view in place: row-major with leading
 * dimension ld (NoTrans), or as the transpose of a row-major c x r matrix
 * (a view with strides (1, ld)). Returns -1 when neither fits. */
static int gemm_layout(const Tensor *t, int *trans, int64_t *ld) {
  int64_t r = t->shape[0], c = t->shape[1], s0 = t->stride[0], s1 = t->stride[1];
  if ((c == 1 || s1 == 1) && (r == 1 || s0 >= (c > 1 ? c : 1))) {
    *trans = 0;
    *ld = r == 1 ? (c > 1 ? c : 1) : s0;
    return 0;
  }
  if ((r == 1 || s0 == 1) && (c == 1 || s1 >= (r > 1 ? r : 1))) {
    *trans = 1;
    *ld = c == 1 ? (r > 1 ? r : 1) : s1;
    return 0;
  }
  return -1;
}

int ops_matmul(Tensor *out, const Tensor *a, const Tensor *b, char *err) {
  Tensor ca = {0}, cb = {0};
  const Tensor *pa = a, *pb = b;
  int ta = 0, tb = 0, rc = 0;
  int64_t lda = 1, ldb = 1;
  int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
  if (m == 0 || n == 0) return 0;
  if (k == 0) { tensor_fill(out, 0); return 0; }
  if (gemm_layout(a, &ta, &lda)) {
    if (tensor_copy_new(&ca, a, DT_FLOAT32, err)) { rc = -1; goto done; }
    pa = &ca;
    gemm_layout(pa, &ta, &lda);
  }
  if (gemm_layout(b, &tb, &ldb)) {
    if (tensor_copy_new(&cb, b, DT_FLOAT32, err)) { rc = -1; goto done; }
    pb = &cb;
    gemm_layout(pb, &tb, &ldb);
  }
  gemm_f32(ta, tb, m, n, k, 1.0f, tensor_f32(pa), lda, tensor_f32(pb), ldb, 0.0f,
           tensor_f32(out), n);
done:
  tensor_free(&ca);
  tensor_free(&cb);
  return rc;
}
