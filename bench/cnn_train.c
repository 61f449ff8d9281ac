/* cnn_train.c — trains lesson 04's network on CIFAR-10 with nnlab's kernels
 * alone (until the layer table wires them into nn.Sequential), as
 * cnn_recipe_torch.py does with PyTorch: inputs /255, RandomFlip horizontal
 * and RandomTranslation(2/32, 2/32), three blocks of Conv2D 5×5 (16, 20, 20
 * filters, padding 2) [+ BatchNormalization] + ReLU + MaxPool 2×2, Dense
 * 320 → 10, softmax cross-entropy; Glorot-uniform weights and zero biases
 * (Keras's defaults); SGD with momentum [Nesterov] and weight decay on every
 * parameter (torch.optim.SGD's rule, as nnlab's optim.sgd); the learning
 * rate set per epoch (cosine decay or constant). Prints one line per epoch:
 *   epoch N lr=.. loss=.. train_acc=.. test_acc=.. seconds=..
 * It checks that the kernels train together, and times a real epoch.
 * Usage: cnn_train [--epochs 30] [--batch 128] [--lr 0.1] [--momentum 0.9]
 *   [--nesterov] [--wd 5e-4] [--sched cosine|none] [--bn] [--seed 1]
 *   [--engine onednn|im2col] [--data DIR] [--subset N]
 * Threads: OPENBLAS_NUM_THREADS and OMP_NUM_THREADS. CNN_TRAIN_DEBUG=1 also
 * prints the test accuracy with batch statistics in place of the running ones
 * (the gap shows how far Keras's slow momentum 0.99 lags a fast-moving
 * network) and block 1's running statistics beside the last batch's. */
#include "data/cifar.h"
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

#define NB 3
#define NCLS 10
static const int64_t SIZE[NB] = {32, 16, 8}, CIN[NB] = {3, 16, 20}, FILT[NB] = {16, 20, 20};
static const int64_t FEAT = 320;  /* 4·4·20 */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *buf(int64_t n) {
  float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!p) {
    fprintf(stderr, "cnn_train: out of memory\n");
    exit(1);
  }
  return p;
}

/* One parameter tensor with its gradient and momentum. */
typedef struct {
  float *p, *g, *v;
  int64_t n;
} Param;

static Param param(int64_t n) { return (Param){buf(n), buf(n), buf(n), n}; }

static void glorot(Param *w, double fan_in, double fan_out) {
  double a = sqrt(6.0 / (fan_in + fan_out));
  for (int64_t i = 0; i < w->n; i++) w->p[i] = (float)((2.0 * rng_uniform() - 1.0) * a);
}

typedef struct {
  int64_t B;
  int bn;
  Conv2DPlan *plan[NB];
  Pool2DGeom pg[NB];
  Param W[NB], b[NB], gam[NB], bet[NB], Wd, bd;
  float *rm[NB], *rv[NB];
  float *x_raw, *x_flip, *x0, *z[NB], *zb[NB], *a[NB], *p[NB], *logits;
  float *g_big, *g_big2, *g_small;
  void *cscr[NB], *bscr[NB], *pscr[NB], *fscr, *tscr;
} Net;

static void net_init(Net *m, int64_t B, int bn, int engine) {
  char err[256];
  memset(m, 0, sizeof *m);
  m->B = B;
  m->bn = bn;
  m->x_raw = buf(B * 3072);
  m->x_flip = buf(B * 3072);
  m->x0 = buf(B * 3072);
  for (int l = 0; l < NB; l++) {
    Conv2DGeom g;
    if (conv2d_geom(&g, B, SIZE[l], SIZE[l], CIN[l], 5, 5, FILT[l], 1, 1, 2, err) ||
        pool2d_geom(&m->pg[l], B, SIZE[l], SIZE[l], FILT[l], 2, 2, 2, 2, err) ||
        !(m->plan[l] = conv2d_plan_new(&g, engine, err))) {
      fprintf(stderr, "cnn_train: %s\n", err);
      exit(1);
    }
    int64_t n = B * SIZE[l] * SIZE[l] * FILT[l];
    m->z[l] = buf(n);
    m->zb[l] = buf(n);
    m->a[l] = buf(n);
    m->p[l] = buf(n / 4);
    m->W[l] = param(25 * CIN[l] * FILT[l]);
    glorot(&m->W[l], 25.0 * CIN[l], 25.0 * FILT[l]);
    m->b[l] = param(FILT[l]);
    m->gam[l] = param(FILT[l]);
    m->bet[l] = param(FILT[l]);
    m->rm[l] = buf(FILT[l]);
    m->rv[l] = buf(FILT[l]);
    for (int64_t c = 0; c < FILT[l]; c++) m->gam[l].p[c] = m->rv[l][c] = 1.0f;
    m->cscr[l] = malloc(conv2d_scratch_size(m->plan[l]));
    m->bscr[l] = malloc(batchnorm_scratch_size(FILT[l]));
    m->pscr[l] = malloc(pool2d_scratch_size(&m->pg[l]));
  }
  m->Wd = param(FEAT * NCLS);
  glorot(&m->Wd, FEAT, NCLS);
  m->bd = param(NCLS);
  m->logits = buf(B * NCLS);
  m->g_big = buf(B * 32 * 32 * 16);
  m->g_big2 = buf(B * 32 * 32 * 16);
  m->g_small = buf(B * FEAT);
  m->fscr = malloc(random_flip_scratch_size(B));
  m->tscr = malloc(random_translation_scratch_size(B));
}

/* Forward of n <= B images already in x0; logits left in m->logits. */
static void net_forward(Net *m, const float *x, int64_t n, int training) {
  const float *in = x;
  for (int l = 0; l < NB; l++) {
    int64_t cnt = n * SIZE[l] * SIZE[l] * FILT[l];
    conv2d_forward(m->z[l], m->cscr[l], in, m->W[l].p, m->b[l].p, n, m->plan[l]);
    const float *pre = m->z[l];
    if (m->bn) {
      batchnorm_forward(m->zb[l], m->bscr[l], m->rm[l], m->rv[l], m->z[l], m->gam[l].p,
                        m->bet[l].p, cnt / FILT[l], FILT[l], training, 0.99f, 1e-3f);
      pre = m->zb[l];
    }
    for (int64_t i = 0; i < cnt; i++) m->a[l][i] = pre[i] > 0 ? pre[i] : 0.0f;
    Pool2DGeom pg = m->pg[l];
    pg.N = n;
    maxpool2d_forward(m->p[l], m->pscr[l], m->a[l], &pg);
    in = m->p[l];
  }
  for (int64_t i = 0; i < n; i++) memcpy(m->logits + i * NCLS, m->bd.p, NCLS * sizeof(float));
  gemm_f32(0, 0, n, NCLS, FEAT, 1.0f, m->p[NB - 1], FEAT, m->Wd.p, NCLS, 1.0f, m->logits, NCLS);
}

/* Softmax cross-entropy over n rows: returns the summed loss and the number
 * right; with grad, logits become dL/dlogits of the mean loss. */
static double net_loss(Net *m, const int32_t *y, int64_t n, int grad, int64_t *right) {
  double total = 0;
  for (int64_t i = 0; i < n; i++) {
    float *row = m->logits + i * NCLS, mx = row[0];
    int arg = 0;
    for (int j = 1; j < NCLS; j++)
      if (row[j] > mx) mx = row[j], arg = j;
    *right += arg == y[i];
    double s = 0;
    for (int j = 0; j < NCLS; j++) s += exp((double)(row[j] - mx));
    total += log(s) - (row[y[i]] - mx);
    if (grad)
      for (int j = 0; j < NCLS; j++)
        row[j] = (float)((exp((double)(row[j] - mx)) / s - (j == y[i])) / (double)n);
  }
  return total;
}

static void net_backward(Net *m, const float *x, int64_t n) {
  gemm_f32(1, 0, FEAT, NCLS, n, 1.0f, m->p[NB - 1], FEAT, m->logits, NCLS, 0.0f, m->Wd.g, NCLS);
  memset(m->bd.g, 0, NCLS * sizeof(float));
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < NCLS; j++) m->bd.g[j] += m->logits[i * NCLS + j];
  gemm_f32(0, 1, n, FEAT, NCLS, 1.0f, m->logits, NCLS, m->Wd.p, NCLS, 0.0f, m->g_small, FEAT);
  float *g_out = m->g_small;
  for (int l = NB - 1; l >= 0; l--) {
    int64_t cnt = n * SIZE[l] * SIZE[l] * FILT[l];
    Pool2DGeom pg = m->pg[l];
    pg.N = n;
    maxpool2d_backward(m->g_big, m->pscr[l], g_out, &pg);
    for (int64_t i = 0; i < cnt; i++) m->g_big[i] = m->a[l][i] > 0 ? m->g_big[i] : 0.0f;
    if (m->bn)
      batchnorm_backward(m->g_big, m->gam[l].g, m->bet[l].g, m->bscr[l], m->g_big, m->z[l],
                         m->gam[l].p, cnt / FILT[l], FILT[l], 1);
    conv2d_backward(l ? m->g_big2 : NULL, m->W[l].g, m->b[l].g, m->cscr[l], m->g_big,
                    l ? m->p[l - 1] : x, m->W[l].p, n, m->plan[l]);
    g_out = m->g_big2;
  }
}

/* torch.optim.SGD: g += wd·p; v = μ·v + g; p -= lr·(nesterov ? g + μ·v : v). */
static void sgd(Param *w, float lr, float mu, float wd, int nesterov) {
  for (int64_t i = 0; i < w->n; i++) {
    float g = w->g[i] + wd * w->p[i];
    w->v[i] = mu * w->v[i] + g;
    w->p[i] -= lr * (nesterov ? g + mu * w->v[i] : w->v[i]);
  }
}

static void net_step(Net *m, float lr, float mu, float wd, int nesterov) {
  for (int l = 0; l < NB; l++) {
    sgd(&m->W[l], lr, mu, wd, nesterov);
    sgd(&m->b[l], lr, mu, wd, nesterov);
    if (m->bn) {
      sgd(&m->gam[l], lr, mu, wd, nesterov);
      sgd(&m->bet[l], lr, mu, wd, nesterov);
    }
  }
  sgd(&m->Wd, lr, mu, wd, nesterov);
  sgd(&m->bd, lr, mu, wd, nesterov);
}

/* x[r] = X[idx[r]] / 255 for a uint8 N×32×32×3 tensor. */
static void gather(float *x, const uint8_t *X, const int32_t *idx, int64_t first, int64_t n) {
  for (int64_t r = 0; r < n; r++) {
    const uint8_t *s = X + (int64_t)(idx ? idx[first + r] : first + r) * 3072;
    for (int64_t j = 0; j < 3072; j++) x[r * 3072 + j] = s[j] * (1.0f / 255.0f);
  }
}

int main(int argc, char **argv) {
  int epochs = 30, bn = 0, nesterov = 0, engine = CONV2D_ONEDNN;
  int64_t B = 128, subset = 0;
  double lr0 = 0.1, mu = 0.9, wd = 5e-4;
  uint64_t seed = 1;
  const char *sched = "cosine", *data = getenv("NNLAB_DATA");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--bn")) bn = 1;
    else if (!strcmp(a, "--nesterov")) nesterov = 1;
    else if (!strcmp(a, "--epochs")) epochs = atoi(v), i++;
    else if (!strcmp(a, "--batch")) B = atoll(v), i++;
    else if (!strcmp(a, "--lr")) lr0 = atof(v), i++;
    else if (!strcmp(a, "--momentum")) mu = atof(v), i++;
    else if (!strcmp(a, "--wd")) wd = atof(v), i++;
    else if (!strcmp(a, "--sched")) sched = v, i++;
    else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--engine")) engine = strcmp(v, "im2col") ? CONV2D_ONEDNN : CONV2D_IM2COL, i++;
    else if (!strcmp(a, "--data")) data = v, i++;
    else if (!strcmp(a, "--subset")) subset = atoll(v), i++;
    else {
      fprintf(stderr, "cnn_train: unknown option %s (see the file's header)\n", a);
      return 2;
    }
  }
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/cifar-10-binary.tar.gz", data ? data : "../shared/data");
  Tensor Xtr = {0}, ytr = {0}, Xte = {0}, yte = {0};
  CifarOut co = {.Xtr = &Xtr, .ytr = &ytr, .Xte = &Xte, .yte = &yte};
  if (cifar_read(path, &co, err) != 0) {
    fprintf(stderr, "cnn_train: %s\n", err);
    return 1;
  }
  int64_t ntr = Xtr.shape[0], nte = Xte.shape[0];
  if (subset > 0 && subset < ntr) ntr = subset;
  int32_t *ytrain = malloc(sizeof(int32_t) * (size_t)ntr), *ytest = malloc(sizeof(int32_t) * (size_t)nte);
  for (int64_t i = 0; i < ntr; i++) ytrain[i] = tensor_i32(&ytr)[i] - 1;  /* 1-based in nnlab */
  for (int64_t i = 0; i < nte; i++) ytest[i] = tensor_i32(&yte)[i] - 1;
  rng_seed(seed);
  Net m;
  net_init(&m, B, bn, engine);
  printf("# epochs=%d batch=%lld lr=%g momentum=%g nesterov=%d wd=%g sched=%s bn=%d seed=%llu "
         "train=%lld engine=%s\n", epochs, (long long)B, lr0, mu, nesterov, wd, sched, bn,
         (unsigned long long)seed, (long long)ntr, conv2d_plan_engine(m.plan[0]));
  fflush(stdout);
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)ntr), *ybatch = malloc(sizeof(int32_t) * (size_t)B);
  for (int64_t i = 0; i < ntr; i++) idx[i] = (int32_t)i;
  for (int e = 0; e < epochs; e++) {
    double lr = strcmp(sched, "cosine") == 0 ? lr0 * 0.5 * (1 + cos(M_PI * e / epochs)) : lr0;
    double t0 = now(), loss = 0;
    int64_t right = 0;
    rng_shuffle_i32(idx, ntr);
    for (int64_t first = 0; first < ntr; first += B) {
      int64_t n = ntr - first < B ? ntr - first : B;
      gather(m.x_raw, tensor_u8(&Xtr), idx, first, n);
      for (int64_t r = 0; r < n; r++) ybatch[r] = ytrain[idx[first + r]];
      random_flip_forward(m.x_flip, m.fscr, m.x_raw, n, 32, 32, 3, FLIP_HORIZONTAL);
      random_translation_forward(m.x0, m.tscr, m.x_flip, n, 32, 32, 3, 2.0 / 32, 2.0 / 32);
      net_forward(&m, m.x0, n, 1);
      loss += net_loss(&m, ybatch, n, 1, &right);
      net_backward(&m, m.x0, n);
      net_step(&m, (float)lr, (float)mu, (float)wd, nesterov);
    }
    double secs = now() - t0;
    int64_t test_right = 0, test_right_bs = 0;
    int debug = getenv("CNN_TRAIN_DEBUG") != NULL;
    for (int64_t first = 0; first < nte; first += B) {
      int64_t n = nte - first < B ? nte - first : B;
      gather(m.x0, tensor_u8(&Xte), NULL, first, n);
      net_forward(&m, m.x0, n, 0);
      net_loss(&m, ytest + first, n, 0, &test_right);
      if (debug) {  /* batch statistics instead of the running ones */
        float keep[2][NB][20];
        for (int l = 0; l < NB; l++) {
          memcpy(keep[0][l], m.rm[l], sizeof(float) * (size_t)FILT[l]);
          memcpy(keep[1][l], m.rv[l], sizeof(float) * (size_t)FILT[l]);
        }
        net_forward(&m, m.x0, n, 1);
        net_loss(&m, ytest + first, n, 0, &test_right_bs);
        for (int l = 0; l < NB; l++) {
          memcpy(m.rm[l], keep[0][l], sizeof(float) * (size_t)FILT[l]);
          memcpy(m.rv[l], keep[1][l], sizeof(float) * (size_t)FILT[l]);
        }
      }
    }
    if (debug) {
      const double *bm = m.bscr[0];  /* the last batch's mean, 1/σ */
      printf("debug test_acc with batch statistics %.4f; block 1 running mean/var vs the last batch's:", (double)test_right_bs / nte);
      for (int c = 0; c < 4; c++) printf(" %.3g/%.3g (%.3g/%.3g)", m.rm[0][c], m.rv[0][c], bm[c], 1 / (bm[16 + c] * bm[16 + c]));
      printf("\n");
    }
    printf("epoch %d lr=%.5f loss=%.4f train_acc=%.4f test_acc=%.4f seconds=%.1f\n", e + 1, lr,
           loss / ntr, (double)right / ntr, (double)test_right / nte, secs);
    fflush(stdout);
  }
  return 0;
}
