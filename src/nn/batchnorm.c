/* batchnorm.c — batch normalization over the last axis. Rows are visited in
 * order with the C channels innermost (contiguous), and every sum over the
 * M rows is kept in double: M reaches N·H·W = 65,536 for a 32×32 batch of 64.
 * The rows are shared among the threads; each sums its rows apart, and the
 * partial sums are added in row order, so a thread count gives one answer. */
#include "batchnorm.h"
#include "parallel.h"

#include <math.h>
#include <string.h>

/* At most this many partial sums (threads) a statistic; more threads than
 * this run the sums on one. */
#define BN_PARTS 16

/* Scratch: μ, 1/σ (C doubles each), two C-double accumulators, then
 * BN_PARTS partial sums of each accumulator. */
size_t batchnorm_scratch_size(int64_t C) {
  return (size_t)((4 + 2 * BN_PARTS) * C) * sizeof(double);
}

typedef struct {
  float *out;             /* y, or dx */
  const float *x, *dy;
  double *scratch;
  const float *k1, *k2, *k3, *k4; /* per-channel factors of the row pass */
  int64_t C;
} Rows;

/* Part `part`'s sum number `which` (0 or 1), C doubles after the first 4·C. */
static double *part_sums(const Rows *t, int part, int which) {
  return t->scratch + (4 + 2 * (int64_t)part + which) * t->C;
}

/* Partial Σ dy (which 0) and Σ dy·x̂ (which 1) over rows lo..hi. Blocks of
 * BLOCK rows are summed in float, 4 channels a vector, and each block's sum
 * is added in double (a block's float sum is exact to about 1e-6 of it). */
#define BLOCK 32
#define BLOCK_C 512 /* channels up to this many take the block path */
static void sum_grad(void *ctx, int part, int64_t lo, int64_t hi) {
  const Rows *t = ctx;
  const int64_t C = t->C;
  const double *mean = t->scratch, *inv = mean + C;
  double *sb = part_sums(t, part, 0), *sg = part_sums(t, part, 1);
  if (C > BLOCK_C) {
    for (int64_t m = lo; m < hi; m++) {
      const float *xr = t->x + m * C, *dr = t->dy + m * C;
      for (int64_t c = 0; c < C; c++) {
        sb[c] += dr[c];
        sg[c] += dr[c] * ((xr[c] - mean[c]) * inv[c]);
      }
    }
    return;
  }
  float mu[BLOCK_C], iv[BLOCK_C], fb[BLOCK_C], fg[BLOCK_C];
  for (int64_t c = 0; c < C; c++) mu[c] = (float)mean[c], iv[c] = (float)inv[c];
  for (int64_t m0 = lo; m0 < hi; m0 += BLOCK) {
    int64_t m1 = m0 + BLOCK < hi ? m0 + BLOCK : hi;
    for (int64_t c = 0; c < C; c++) fb[c] = fg[c] = 0.0f;
    for (int64_t m = m0; m < m1; m++) {
      const float *restrict xr = t->x + m * C, *restrict dr = t->dy + m * C;
      for (int64_t c = 0; c < C; c++) {
        fb[c] += dr[c];
        fg[c] += dr[c] * ((xr[c] - mu[c]) * iv[c]);
      }
    }
    for (int64_t c = 0; c < C; c++) sb[c] += fb[c], sg[c] += fg[c];
  }
}

/* Partial Σ x over rows lo..hi (shift NULL), or Σ (x − μ)² given μ in
 * float (shift), in float blocks as sum_grad does. */
static void sum_block(const Rows *t, double *dst, const float *shift, int64_t lo, int64_t hi) {
  const int64_t C = t->C;
  float f[BLOCK_C];
  for (int64_t m0 = lo; m0 < hi; m0 += BLOCK) {
    int64_t m1 = m0 + BLOCK < hi ? m0 + BLOCK : hi;
    for (int64_t c = 0; c < C; c++) f[c] = 0.0f;
    for (int64_t m = m0; m < m1; m++) {
      const float *restrict xr = t->x + m * C;
      if (shift)
        for (int64_t c = 0; c < C; c++) {
          float d = xr[c] - shift[c];
          f[c] += d * d;
        }
      else
        for (int64_t c = 0; c < C; c++) f[c] += xr[c];
    }
    for (int64_t c = 0; c < C; c++) dst[c] += f[c];
  }
}

static void sum_x(void *ctx, int part, int64_t lo, int64_t hi) {
  const Rows *t = ctx;
  const int64_t C = t->C;
  double *s = part_sums(t, part, 0);
  if (C <= BLOCK_C) {
    sum_block(t, s, NULL, lo, hi);
    return;
  }
  for (int64_t m = lo; m < hi; m++) {
    const float *xr = t->x + m * C;
    for (int64_t c = 0; c < C; c++) s[c] += xr[c];
  }
}

/* Two passes, Σ x then Σ (x − μ)²: no cancellation as in E[x²] − μ². */
static void sum_sq(void *ctx, int part, int64_t lo, int64_t hi) {
  const Rows *t = ctx;
  const int64_t C = t->C;
  const double *mean = t->scratch;
  double *v = part_sums(t, part, 0);
  if (C <= BLOCK_C) {
    float mu[BLOCK_C];
    for (int64_t c = 0; c < C; c++) mu[c] = (float)mean[c];
    sum_block(t, v, mu, lo, hi);
    return;
  }
  for (int64_t m = lo; m < hi; m++) {
    const float *xr = t->x + m * C;
    for (int64_t c = 0; c < C; c++) {
      double d = xr[c] - mean[c];
      v[c] += d * d;
    }
  }
}

/* Runs fn over the rows in parts (which add into their zeroed partial sums)
 * and adds the parts' sums 0 (and 1), in order, into dst (and dst2). */
static void sum_rows(RangeFn fn, Rows *t, int64_t M, double *dst, double *dst2) {
  const int64_t C = t->C;
  int parts = parallel_parts();
  if (parts > BN_PARTS || C * M < 32768) parts = 1;
  memset(part_sums(t, 0, 0), 0, (size_t)(2 * parts * C) * sizeof(double));
  if (parts == 1) fn(t, 0, 0, M);
  else parallel_ranges(M, 0, 1, fn, t);
  memset(dst, 0, (size_t)C * sizeof(double));
  if (dst2) memset(dst2, 0, (size_t)C * sizeof(double));
  for (int p = 0; p < parts; p++) {
    const double *s = part_sums(t, p, 0), *s2 = part_sums(t, p, 1);
    for (int64_t c = 0; c < C; c++) dst[c] += s[c];
    if (dst2)
      for (int64_t c = 0; c < C; c++) dst2[c] += s2[c];
  }
}

/* y = (x − μ)·a + β over rows lo..hi (k1 = a, k2 = μ, k3 = β). */
static void normalize_rows(void *ctx, int part, int64_t lo, int64_t hi) {
  const Rows *t = ctx;
  const int64_t C = t->C;
  const float *a = t->k1, *mu = t->k2, *beta = t->k3;
  (void)part;
  for (int64_t m = lo; m < hi; m++) {
    const float *xr = t->x + m * C;
    float *yr = t->out + m * C;
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - mu[c]) * a[c] + beta[c];
  }
}

/* dx = p·dy + q·(x − μ) + r over rows lo..hi (k1..k4 = p, q, r, μ). */
static void grad_rows(void *ctx, int part, int64_t lo, int64_t hi) {
  const Rows *t = ctx;
  const int64_t C = t->C;
  const float *p = t->k1, *q = t->k2, *r = t->k3, *mu = t->k4;
  (void)part;
  for (int64_t m = lo; m < hi; m++) {
    const float *xr = t->x + m * C, *dr = t->dy + m * C;
    float *dxr = t->out + m * C;
    for (int64_t c = 0; c < C; c++) dxr[c] = p[c] * dr[c] + q[c] * (xr[c] - mu[c]) + r[c];
  }
}

static void each_row(RangeFn fn, Rows *t, int64_t M) {
  parallel_items(M, t->C, 32768, fn, t);
}

void batchnorm_forward(float *y, void *scratch, float *running_mean, float *running_var,
                       const float *x, const float *gamma, const float *beta, int64_t M, int64_t C,
                       int training, float momentum, float eps) {
  double *mean = scratch, *inv = mean + C, *s = inv + C, *v = s + C;
  Rows t = {.out = y, .x = x, .scratch = scratch, .C = C};
  if (training) {
    sum_rows(sum_x, &t, M, s, NULL);
    for (int64_t c = 0; c < C; c++) mean[c] = s[c] / (double)M;
    sum_rows(sum_sq, &t, M, v, NULL);
    for (int64_t c = 0; c < C; c++) {
      double var = v[c] / (double)M;
      inv[c] = 1.0 / sqrt(var + eps);
      running_mean[c] = (float)(momentum * running_mean[c] + (1.0 - momentum) * mean[c]);
      running_var[c] = (float)(momentum * running_var[c] + (1.0 - momentum) * var);
    }
  } else {
    for (int64_t c = 0; c < C; c++) {
      mean[c] = running_mean[c];
      inv[c] = 1.0 / sqrt((double)running_var[c] + eps);
    }
  }
  /* y = (x − μ)·a + β with a = γ/σ per channel; x − μ first, so that a large
   * mean does not cancel digits away. */
  float *a = (float *)s, *mu = a + C;  /* the accumulators are free again */
  for (int64_t c = 0; c < C; c++) {
    a[c] = (float)(gamma[c] * inv[c]);
    mu[c] = (float)mean[c];
  }
  t.k1 = a, t.k2 = mu, t.k3 = beta;
  each_row(normalize_rows, &t, M);
}

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const void *scratch,
                        const float *dy, const float *x, const float *gamma, int64_t M, int64_t C,
                        int training) {
  const double *mean = scratch, *inv = mean + C;
  double *sb = (double *)scratch + 2 * C, *sg = sb + C;
  Rows t = {.out = dx, .x = x, .dy = dy, .scratch = (double *)scratch, .C = C};
  sum_rows(sum_grad, &t, M, sb, sg);
  for (int64_t c = 0; c < C; c++) {
    dbeta[c] = (float)sb[c];
    dgamma[c] = (float)sg[c];
  }
  if (!dx) return;
  /* dx = k·dy − k·dβ/M − x̂·k·dγ/M with k = γ/σ and x̂ = (x − μ)/σ, that is
   * dx = p·dy + q·(x − μ) + r per channel. In inference mode μ and σ are
   * constants and only the first term remains. */
  float *p = (float *)sb, *q = p + C, *r = q + C, *mu = r + C;  /* over the sums, read above */
  for (int64_t c = 0; c < C; c++) {
    double k = gamma[c] * inv[c], db = dbeta[c], dg = dgamma[c];
    p[c] = (float)k;
    q[c] = training ? (float)(-k * dg * inv[c] / (double)M) : 0.0f;
    r[c] = training ? (float)(-k * db / (double)M) : 0.0f;
    mu[c] = (float)mean[c];
  }
  t.k1 = p, t.k2 = q, t.k3 = r, t.k4 = mu;
  each_row(grad_rows, &t, M);
}
