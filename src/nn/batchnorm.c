/* batchnorm.c — batch normalization over the last axis. Rows are visited in
 * order with the C channels innermost (contiguous), and every sum over the
 * M rows is kept in double: M reaches N·H·W = 65,536 for a 32×32 batch of 64. */
#include "batchnorm.h"

#include <math.h>
#include <string.h>

/* Scratch: μ, 1/σ (C doubles each), then two C-double accumulators. */
size_t batchnorm_scratch_size(int64_t C) { return (size_t)(4 * C) * sizeof(double); }

void batchnorm_forward(float *y, void *scratch, float *running_mean, float *running_var,
                       const float *x, const float *gamma, const float *beta, int64_t M, int64_t C,
                       int training, float momentum, float eps) {
  double *mean = scratch, *inv = mean + C, *s = inv + C, *v = s + C;
  if (training) {
    memset(s, 0, (size_t)(2 * C) * sizeof(double));
    for (int64_t m = 0; m < M; m++) {
      const float *xr = x + m * C;
      for (int64_t c = 0; c < C; c++) s[c] += xr[c];
    }
    for (int64_t c = 0; c < C; c++) mean[c] = s[c] / (double)M;
    for (int64_t m = 0; m < M; m++) {  /* two passes: no cancellation in E[x²] − μ² */
      const float *xr = x + m * C;
      for (int64_t c = 0; c < C; c++) {
        double d = xr[c] - mean[c];
        v[c] += d * d;
      }
    }
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
  for (int64_t m = 0; m < M; m++) {
    const float *xr = x + m * C;
    float *yr = y + m * C;
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - mu[c]) * a[c] + beta[c];
  }
}

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const void *scratch,
                        const float *dy, const float *x, const float *gamma, int64_t M, int64_t C,
                        int training) {
  const double *mean = scratch, *inv = mean + C;
  double *sb = (double *)scratch + 2 * C, *sg = sb + C;
  memset(sb, 0, (size_t)(2 * C) * sizeof(double));
  for (int64_t m = 0; m < M; m++) {
    const float *xr = x + m * C, *dr = dy + m * C;
    for (int64_t c = 0; c < C; c++) {
      sb[c] += dr[c];
      sg[c] += dr[c] * ((xr[c] - mean[c]) * inv[c]);
    }
  }
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
  for (int64_t m = 0; m < M; m++) {
    const float *xr = x + m * C, *dr = dy + m * C;
    float *dxr = dx + m * C;
    for (int64_t c = 0; c < C; c++) dxr[c] = p[c] * dr[c] + q[c] * (xr[c] - mu[c]) + r[c];
  }
}
