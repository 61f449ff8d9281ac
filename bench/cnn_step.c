/* cnn_step.c — one training step of lesson 04's network made of nnlab's
 * kernels alone (until the layer table wires them into nn.Sequential): a
 * batch of 64 32×32×3 images through RandomFlip, RandomTranslation(2/32),
 * three blocks of Conv2D 5×5 (16, 20, 20 filters, padding 2)
 * [+ BatchNormalization] + ReLU + MaxPool 2×2, then Dense 320 → 10 and
 * softmax cross-entropy, forward and backward, on random data. Prints the
 * median milliseconds per step over REPS steps, in total and per kind:
 *   step <engine> bn=<0|1> total=.. augment=.. conv=.. bn=.. relu=.. pool=.. dense=.. epoch_s=..
 * (epoch_s: 782 steps, CIFAR-10's 50,000 images at batch 64; no optimizer
 * step, no data gathering). Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS;
 * CNN_STEP_CLOCK=cpu times CPU instead of wall-clock time.
 * Usage: cnn_step ENGINE(im2col|onednn) BN(0|1) [REPS] */
#include "nn/augment.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/pool2d.h"
#include "gemm.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T_AUG, T_CONV, T_BN, T_RELU, T_POOL, T_DENSE, T_N };
static const char *T_NAME[T_N] = {"augment", "conv", "bn", "relu", "pool", "dense"};
static double acc[T_N], t_last;

/* Wall time; CNN_STEP_CLOCK=cpu counts the process's CPU time instead,
 * steadier on a busy machine when one thread runs. */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Adds the time since the last mark to kind k. */
static void mark(int k) {
  double t = now();
  acc[k] += t - t_last;
  t_last = t;
}

static float *buf(int64_t n) {
  float *p = calloc((size_t)n, sizeof(float));
  if (!p) {
    fprintf(stderr, "cnn_step: out of memory\n");
    exit(1);
  }
  return p;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define B 64
#define NB 3

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cnn_step im2col|onednn 0|1 [REPS]\n");
    return 2;
  }
  int engine = strcmp(argv[1], "onednn") == 0 ? CONV2D_ONEDNN : CONV2D_IM2COL;
  int use_bn = atoi(argv[2]), reps = argc > 3 ? atoi(argv[3]) : 20;
  const char *clk = getenv("CNN_STEP_CLOCK");
  if (clk && strcmp(clk, "cpu") == 0) clock_id = CLOCK_PROCESS_CPUTIME_ID;
  if (reps < 1) reps = 1;
  char err[256];
  const int64_t size[NB] = {32, 16, 8}, cin[NB] = {3, 16, 20}, filt[NB] = {16, 20, 20};
  Conv2DGeom cg[NB];
  Conv2DPlan *plan[NB];
  Pool2DGeom pg[NB];
  float *x_in = buf(B * 32 * 32 * 3), *x_aug = buf(B * 32 * 32 * 3), *x0 = buf(B * 32 * 32 * 3);
  float *in[NB], *z[NB], *zb[NB], *a[NB], *p[NB], *W[NB], *b[NB], *dW[NB], *db[NB];
  float *gam[NB], *bet[NB], *rm[NB], *rv[NB], *dgam[NB], *dbet[NB];
  void *cscr[NB], *bscr[NB], *pscr[NB];
  void *fscr = malloc(random_flip_scratch_size(B)), *tscr = malloc(random_translation_scratch_size(B));
  rng_seed(1);
  for (int64_t i = 0; i < B * 32 * 32 * 3; i++) x_in[i] = (float)rng_uniform();
  float *prev = x0;
  for (int l = 0; l < NB; l++) {
    if (conv2d_geom(&cg[l], B, size[l], size[l], cin[l], 5, 5, filt[l], 1, 1, 2, err) ||
        pool2d_geom(&pg[l], B, size[l], size[l], filt[l], 2, 2, 2, 2, err) ||
        !(plan[l] = conv2d_plan_new(&cg[l], engine, err))) {
      fprintf(stderr, "cnn_step: %s\n", err);
      return 1;
    }
    int64_t n_out = B * size[l] * size[l] * filt[l], k = 25 * cin[l] * filt[l];
    in[l] = prev;
    z[l] = buf(n_out);  /* conv output */
    zb[l] = buf(n_out); /* BN output */
    a[l] = buf(n_out);  /* after ReLU */
    p[l] = buf(n_out / 4);
    W[l] = buf(k); dW[l] = buf(k);
    for (int64_t i = 0; i < k; i++) W[l][i] = (float)((rng_uniform() * 2 - 1) * sqrt(6.0 / (25.0 * (cin[l] + filt[l]))));
    b[l] = buf(filt[l]); db[l] = buf(filt[l]);
    gam[l] = buf(filt[l]); bet[l] = buf(filt[l]); rm[l] = buf(filt[l]); rv[l] = buf(filt[l]);
    dgam[l] = buf(filt[l]); dbet[l] = buf(filt[l]);
    for (int64_t c = 0; c < filt[l]; c++) gam[l][c] = rv[l][c] = 1.0f;
    cscr[l] = malloc(conv2d_scratch_size(plan[l]));
    bscr[l] = malloc(batchnorm_scratch_size(filt[l]));
    pscr[l] = malloc(pool2d_scratch_size(&pg[l]));
    prev = p[l];
  }
  const int64_t F = 320, K = 10;
  float *Wd = buf(F * K), *bd = buf(K), *dWd = buf(F * K), *dbd = buf(K), *logits = buf(B * K);
  for (int64_t i = 0; i < F * K; i++) Wd[i] = (float)((rng_uniform() * 2 - 1) * sqrt(6.0 / (F + K)));
  float *g_big = buf(B * 32 * 32 * 16), *g_big2 = buf(B * 32 * 32 * 16), *g_small = buf(B * F);
  int labels[B];
  for (int i = 0; i < B; i++) labels[i] = (int)rng_below(10);
  double *steps = malloc(sizeof(double) * (size_t)reps), *kind[T_N];
  for (int k = 0; k < T_N; k++) kind[k] = malloc(sizeof(double) * (size_t)reps);

  for (int r = -3; r < reps; r++) {
    memset(acc, 0, sizeof acc);
    double t0 = now();
    t_last = t0;
    random_flip_forward(x_aug, fscr, x_in, B, 32, 32, 3, FLIP_HORIZONTAL);
    random_translation_forward(x0, tscr, x_aug, B, 32, 32, 3, 2.0 / 32, 2.0 / 32);
    mark(T_AUG);
    for (int l = 0; l < NB; l++) {
      int64_t n = B * size[l] * size[l] * filt[l];
      conv2d_forward(z[l], cscr[l], in[l], W[l], b[l], B, plan[l]);
      mark(T_CONV);
      const float *pre = z[l];
      if (use_bn) {
        batchnorm_forward(zb[l], bscr[l], rm[l], rv[l], z[l], gam[l], bet[l], n / filt[l], filt[l],
                          1, 0.99f, 1e-3f);
        pre = zb[l];
        mark(T_BN);
      }
      for (int64_t i = 0; i < n; i++) a[l][i] = pre[i] > 0 ? pre[i] : 0.0f;
      mark(T_RELU);
      maxpool2d_forward(p[l], pscr[l], a[l], &pg[l]);
      mark(T_POOL);
    }
    /* dense + softmax cross-entropy: dlogits = softmax − onehot, /B */
    for (int i = 0; i < B; i++) memcpy(logits + i * K, bd, K * sizeof(float));
    gemm_f32(0, 0, B, K, F, 1.0f, p[NB - 1], F, Wd, K, 1.0f, logits, K);
    for (int i = 0; i < B; i++) {
      float *row = logits + i * K, mx = row[0];
      double s = 0;
      for (int j = 1; j < K; j++) mx = row[j] > mx ? row[j] : mx;
      for (int j = 0; j < K; j++) s += row[j] = expf(row[j] - mx);
      for (int j = 0; j < K; j++) row[j] = (float)(row[j] / s - (j == labels[i])) / B;
    }
    gemm_f32(1, 0, F, K, B, 1.0f, p[NB - 1], F, logits, K, 0.0f, dWd, K);
    for (int j = 0; j < K; j++) dbd[j] = 0;
    for (int i = 0; i < B; i++) for (int j = 0; j < K; j++) dbd[j] += logits[i * K + j];
    gemm_f32(0, 1, B, F, K, 1.0f, logits, K, Wd, K, 0.0f, g_small, F);
    mark(T_DENSE);
    float *g_out = g_small;  /* gradient w.r.t. p[l] */
    for (int l = NB - 1; l >= 0; l--) {
      int64_t n = B * size[l] * size[l] * filt[l];
      maxpool2d_backward(g_big, pscr[l], g_out, &pg[l]);
      mark(T_POOL);
      for (int64_t i = 0; i < n; i++) g_big[i] = a[l][i] > 0 ? g_big[i] : 0.0f;
      mark(T_RELU);
      if (use_bn) {
        batchnorm_backward(g_big, dgam[l], dbet[l], bscr[l], g_big, z[l], gam[l], n / filt[l],
                           filt[l], 1);
        mark(T_BN);
      }
      conv2d_backward(l ? g_big2 : NULL, dW[l], db[l], cscr[l], g_big, in[l], W[l], B, plan[l]);
      mark(T_CONV);
      g_out = g_big2;  /* dL/dp[l-1] */
    }
    if (r >= 0) {
      steps[r] = now() - t0;
      for (int k = 0; k < T_N; k++) kind[k][r] = acc[k];
    }
  }
  qsort(steps, (size_t)reps, sizeof(double), cmp);
  printf("step %s bn=%d total=%.2f", argv[1], use_bn, 1e3 * steps[reps / 2]);
  for (int k = 0; k < T_N; k++) {
    qsort(kind[k], (size_t)reps, sizeof(double), cmp);
    printf(" %s=%.2f", T_NAME[k], 1e3 * kind[k][reps / 2]);
  }
  printf(" epoch_s=%.1f engine=%s\n", 782 * steps[reps / 2], conv2d_plan_engine(plan[0]));
  return 0;
}
