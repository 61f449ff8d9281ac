/* kernel_check.c — runs one of the convolutional-network kernels on inputs
 * read from .npy files and writes what it computed back as .npy, for
 * test_kernels.py to compare with PyTorch. Besides the forward output and the
 * backward gradients it writes central finite differences of
 * L = Σ y·dy for every parameter and input value (fd_<name>.npy; at most
 * 400 values per tensor, spread evenly; NaN where none was taken or where a
 * difference is not defined, e.g. a max-pooling winner changed).
 *   kernel_check conv      DIR SH SW PAD ENGINE PLAN_N
 *       (PAD -1 = "same"; ENGINE im2col or onednn; the plan is made for
 *       PLAN_N >= N images, 0 meaning N, and run on the N of x)
 *   kernel_check maxpool   DIR PH PW SH SW
 *   kernel_check avgpool   DIR PH PW SH SW
 *   kernel_check bn        DIR TRAINING MOMENTUM EPS
 *   kernel_check flip      DIR MODE SEED
 *   kernel_check translate DIR HF WF SEED
 * DIR holds x.npy and dy.npy (and w, b / gamma, beta, rm, rv); exits 1 with
 * a message on stderr when something is missing or malformed. */
#include "nn/augment.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "npy.h"
#include "nn/pool2d.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;
/* Everything allocated, freed before exit so that LeakSanitizer stays quiet. */
static void *allocs[64];
static int nallocs;
static Tensor loaded[16];
static int nloaded;

static void free_all(void) {
  for (int i = 0; i < nallocs; i++) free(allocs[i]);
  for (int i = 0; i < nloaded; i++) tensor_free(&loaded[i]);
}

static void die(const char *msg) {
  fprintf(stderr, "kernel_check: %s\n", msg);
  exit(1);
}

static Tensor load(const char *name) {
  char path[1024], err[TENSOR_ERRLEN];
  Tensor t = {0};
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  if (npy_read(path, &t, err) != 0) die(err);
  if (t.dtype != DT_FLOAT32) die("inputs must be float32");
  if (nloaded == 16) die("too many inputs");
  loaded[nloaded++] = t;
  return t;
}

static void save(const char *name, const float *data, int ndim, const int64_t *shape) {
  char path[1024], err[TENSOR_ERRLEN];
  Tensor t = {0};
  if (tensor_init_uninit(&t, DT_FLOAT32, ndim, shape, err) != 0) die(err);
  memcpy(tensor_f32(&t), data, (size_t)tensor_numel(&t) * sizeof(float));
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  if (npy_write(path, &t, err) != 0) die(err);
  tensor_free(&t);
}

static void save_i32(const char *name, const int32_t *data, int ndim, const int64_t *shape) {
  char path[1024], err[TENSOR_ERRLEN];
  Tensor t = {0};
  if (tensor_init_uninit(&t, DT_INT32, ndim, shape, err) != 0) die(err);
  memcpy(tensor_i32(&t), data, (size_t)tensor_numel(&t) * sizeof(int32_t));
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  if (npy_write(path, &t, err) != 0) die(err);
  tensor_free(&t);
}

static void *xalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p || nallocs == 64) die("out of memory");
  allocs[nallocs++] = p;
  return p;
}

/* One kernel's forward as the finite differences see it: run() recomputes y
 * from the current inputs; unstable() says whether the last run changed a
 * discrete choice (a max-pooling winner) since the reference run. */
typedef struct Probe {
  void (*run)(struct Probe *);
  int (*unstable)(struct Probe *);
  float *y, *dy;
  int64_t ny;
} Probe;

static double loss(Probe *p) {
  p->run(p);
  double s = 0;
  for (int64_t i = 0; i < p->ny; i++) s += (double)p->y[i] * p->dy[i];
  return s;
}

/* fd[i] = (L(v + eps·e_i) − L(v − eps·e_i)) / 2eps for every entry of v, or
 * for FD_MAX entries spread evenly over it when it is larger (NaN elsewhere),
 * so that the check stays quick under AddressSanitizer. */
#define FD_MAX 400
static void finite_diff(Probe *p, float *v, int64_t n, float eps, const char *name, int ndim,
                        const int64_t *shape) {
  float *fd = xalloc((size_t)n * sizeof(float));
  int64_t count = n < FD_MAX ? n : FD_MAX;
  for (int64_t i = 0; i < n; i++) fd[i] = NAN;
  for (int64_t k = 0; k < count; k++) {
    int64_t i = k * n / count;
    float keep = v[i];
    v[i] = keep + eps;
    double up = loss(p);
    int bad = p->unstable && p->unstable(p);
    v[i] = keep - eps;
    double down = loss(p);
    bad = bad || (p->unstable && p->unstable(p));
    v[i] = keep;
    fd[i] = bad ? NAN : (float)((up - down) / (2.0 * eps));
  }
  p->run(p);
  char fname[64];
  snprintf(fname, sizeof fname, "fd_%s", name);
  save(fname, fd, ndim, shape);
}

/* ---- Conv2D ----------------------------------------------------------- */
typedef struct {
  Probe p;
  Conv2DGeom g;
  Conv2DPlan *plan;
  void *scratch;
  float *x, *w, *b;
} ConvProbe;

static void conv_run(Probe *p) {
  ConvProbe *c = (ConvProbe *)p;
  conv2d_forward(p->y, c->scratch, c->x, c->w, c->b, c->g.N, c->plan);
}

static void check_conv(char **argv) {
  Tensor x = load("x"), w = load("w"), b = load("b"), dy = load("dy");
  char err[256];
  ConvProbe c = {.p = {.run = conv_run}, .x = tensor_f32(&x), .w = tensor_f32(&w),
                 .b = tensor_f32(&b)};
  if (x.ndim != 4 || w.ndim != 4) die("conv: x and w must be 4-D");
  int64_t plan_n = atoll(argv[4]) > x.shape[0] ? atoll(argv[4]) : x.shape[0];
  int engine = strcmp(argv[3], "onednn") == 0 ? CONV2D_ONEDNN : CONV2D_IM2COL;
  Conv2DGeom pg;
  if (conv2d_geom(&pg, plan_n, x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[1],
                  w.shape[3], atoll(argv[0]), atoll(argv[1]), atoll(argv[2]), err) != 0)
    die(err);
  c.g = pg;
  c.g.N = x.shape[0];
  c.plan = conv2d_plan_new(&pg, engine, err);
  if (!c.plan) die(err);
  fprintf(stderr, "kernel_check: conv engine %s\n", conv2d_plan_engine(c.plan));
  Conv2DGeom *g = &c.g;
  int64_t yshape[4] = {g->N, g->OH, g->OW, g->F};
  c.p.ny = g->N * g->OH * g->OW * g->F;
  if (tensor_numel(&dy) != c.p.ny) die("conv: dy has the wrong size");
  c.scratch = xalloc(conv2d_scratch_size(c.plan));
  c.p.y = xalloc((size_t)c.p.ny * sizeof(float));
  c.p.dy = tensor_f32(&dy);
  float *dx = xalloc((size_t)tensor_numel(&x) * sizeof(float));
  float *dw = xalloc((size_t)tensor_numel(&w) * sizeof(float));
  float *db = xalloc((size_t)g->F * sizeof(float));
  conv_run(&c.p);
  save("y", c.p.y, 4, yshape);
  conv2d_backward(dx, dw, db, c.scratch, c.p.dy, c.x, c.w, g->N, c.plan);
  save("dx", dx, 4, x.shape);
  save("dw", dw, 4, w.shape);
  save("db", db, 1, b.shape);
  /* backward with din = NULL must give the same dW, db */
  conv_run(&c.p);
  conv2d_backward(NULL, dw, db, c.scratch, c.p.dy, c.x, c.w, g->N, c.plan);
  save("dw_nodx", dw, 4, w.shape);
  finite_diff(&c.p, c.x, tensor_numel(&x), 1e-2f, "dx", 4, x.shape);
  finite_diff(&c.p, c.w, tensor_numel(&w), 1e-2f, "dw", 4, w.shape);
  finite_diff(&c.p, c.b, g->F, 1e-2f, "db", 1, b.shape);
  conv2d_plan_free(c.plan);
}

/* ---- pooling ------------------------------------------------------------ */
typedef struct {
  Probe p;
  Pool2DGeom g;
  int max;
  int32_t *arg, *arg0;
  float *x;
} PoolProbe;

static void pool_run(Probe *p) {
  PoolProbe *c = (PoolProbe *)p;
  if (c->max) maxpool2d_forward(p->y, c->arg, c->x, &c->g);
  else avgpool2d_forward(p->y, c->x, &c->g);
}

static int pool_unstable(Probe *p) {
  PoolProbe *c = (PoolProbe *)p;
  return c->max && memcmp(c->arg, c->arg0, (size_t)p->ny * sizeof(int32_t)) != 0;
}

static void check_pool(char **argv, int max) {
  Tensor x = load("x"), dy = load("dy");
  char err[256];
  PoolProbe c = {.p = {.run = pool_run, .unstable = pool_unstable}, .max = max,
                 .x = tensor_f32(&x)};
  if (x.ndim != 4) die("pool: x must be 4-D");
  if (pool2d_geom(&c.g, x.shape[0], x.shape[1], x.shape[2], x.shape[3], atoll(argv[0]),
                  atoll(argv[1]), atoll(argv[2]), atoll(argv[3]), err) != 0)
    die(err);
  Pool2DGeom *g = &c.g;
  int64_t yshape[4] = {g->N, g->OH, g->OW, g->C};
  c.p.ny = g->N * g->OH * g->OW * g->C;
  if (tensor_numel(&dy) != c.p.ny) die("pool: dy has the wrong size");
  c.arg = xalloc(pool2d_scratch_size(g));
  c.arg0 = xalloc(pool2d_scratch_size(g));
  c.p.y = xalloc((size_t)c.p.ny * sizeof(float));
  c.p.dy = tensor_f32(&dy);
  float *dx = xalloc((size_t)tensor_numel(&x) * sizeof(float));
  pool_run(&c.p);
  memcpy(c.arg0, c.arg, pool2d_scratch_size(g));
  save("y", c.p.y, 4, yshape);
  if (max) maxpool2d_backward(dx, c.arg, c.p.dy, g);
  else avgpool2d_backward(dx, c.p.dy, g);
  save("dx", dx, 4, x.shape);
  finite_diff(&c.p, c.x, tensor_numel(&x), 1e-3f, "dx", 4, x.shape);
}

/* ---- BatchNormalization --------------------------------------------------- */
typedef struct {
  Probe p;
  int64_t M, C;
  int training;
  float momentum, eps;
  void *scratch;
  float *x, *gamma, *beta, *rm, *rv, *rm_tmp, *rv_tmp;
} BNProbe;

/* Every run starts from the same running statistics (the forward moves them). */
static void bn_run(Probe *p) {
  BNProbe *c = (BNProbe *)p;
  memcpy(c->rm_tmp, c->rm, (size_t)c->C * sizeof(float));
  memcpy(c->rv_tmp, c->rv, (size_t)c->C * sizeof(float));
  batchnorm_forward(p->y, c->scratch, c->rm_tmp, c->rv_tmp, c->x, c->gamma, c->beta, c->M, c->C,
                    c->training, c->momentum, c->eps);
}

static void check_bn(char **argv) {
  Tensor x = load("x"), gamma = load("gamma"), beta = load("beta"), rm = load("rm"),
         rv = load("rv"), dy = load("dy");
  int64_t C = x.shape[x.ndim - 1];
  BNProbe c = {.p = {.run = bn_run}, .C = C, .M = tensor_numel(&x) / C,
               .training = atoi(argv[0]), .momentum = (float)atof(argv[1]),
               .eps = (float)atof(argv[2]), .x = tensor_f32(&x), .gamma = tensor_f32(&gamma),
               .beta = tensor_f32(&beta), .rm = tensor_f32(&rm), .rv = tensor_f32(&rv)};
  if (tensor_numel(&gamma) != C || tensor_numel(&dy) != tensor_numel(&x)) die("bn: sizes differ");
  c.p.ny = tensor_numel(&x);
  c.p.y = xalloc((size_t)c.p.ny * sizeof(float));
  c.p.dy = tensor_f32(&dy);
  c.scratch = xalloc(batchnorm_scratch_size(C));
  c.rm_tmp = xalloc((size_t)C * sizeof(float));
  c.rv_tmp = xalloc((size_t)C * sizeof(float));
  float *dx = xalloc((size_t)c.p.ny * sizeof(float));
  float *dg = xalloc((size_t)C * sizeof(float)), *db = xalloc((size_t)C * sizeof(float));
  bn_run(&c.p);
  save("y", c.p.y, x.ndim, x.shape);
  save("rm_out", c.rm_tmp, 1, gamma.shape);
  save("rv_out", c.rv_tmp, 1, gamma.shape);
  batchnorm_backward(dx, dg, db, c.scratch, c.p.dy, c.x, c.gamma, c.M, C, c.training);
  save("dx", dx, x.ndim, x.shape);
  save("dgamma", dg, 1, gamma.shape);
  save("dbeta", db, 1, gamma.shape);
  /* in place: dx over dy */
  float *inplace = xalloc((size_t)c.p.ny * sizeof(float));
  memcpy(inplace, c.p.dy, (size_t)c.p.ny * sizeof(float));
  batchnorm_backward(inplace, dg, db, c.scratch, inplace, c.x, c.gamma, c.M, C, c.training);
  save("dx_inplace", inplace, x.ndim, x.shape);
  finite_diff(&c.p, c.x, c.p.ny, 1e-2f, "dx", x.ndim, x.shape);
  finite_diff(&c.p, c.gamma, C, 1e-2f, "dgamma", 1, gamma.shape);
  finite_diff(&c.p, c.beta, C, 1e-2f, "dbeta", 1, gamma.shape);
}

/* ---- augmentation ----------------------------------------------------------- */
typedef struct {
  Probe p;
  int64_t N, H, W, C;
  int flip, mode;
  double hf, wf;
  uint64_t seed;
  void *scratch;
  float *x;
} AugProbe;

/* Reseeded before every run, so every run draws the same transforms. */
static void aug_run(Probe *p) {
  AugProbe *c = (AugProbe *)p;
  rng_seed(c->seed);
  if (c->flip) random_flip_forward(p->y, c->scratch, c->x, c->N, c->H, c->W, c->C, c->mode);
  else random_translation_forward(p->y, c->scratch, c->x, c->N, c->H, c->W, c->C, c->hf, c->wf);
}

static void check_aug(char **argv, int flip) {
  Tensor x = load("x"), dy = load("dy");
  if (x.ndim != 4 || tensor_numel(&dy) != tensor_numel(&x)) die("augment: x must be 4-D, dy alike");
  AugProbe c = {.p = {.run = aug_run}, .N = x.shape[0], .H = x.shape[1], .W = x.shape[2],
                .C = x.shape[3], .flip = flip, .x = tensor_f32(&x)};
  if (flip) {
    c.mode = atoi(argv[0]);
    c.seed = strtoull(argv[1], NULL, 10);
  } else {
    c.hf = atof(argv[0]);
    c.wf = atof(argv[1]);
    c.seed = strtoull(argv[2], NULL, 10);
  }
  size_t sbytes = flip ? random_flip_scratch_size(c.N) : random_translation_scratch_size(c.N);
  c.scratch = xalloc(sbytes);
  c.p.ny = tensor_numel(&x);
  c.p.y = xalloc((size_t)c.p.ny * sizeof(float));
  c.p.dy = tensor_f32(&dy);
  float *dx = xalloc((size_t)c.p.ny * sizeof(float));
  aug_run(&c.p);
  save("y", c.p.y, 4, x.shape);
  int64_t dshape[2] = {c.N, flip ? 1 : 2};
  save_i32("draws", c.scratch, 2, dshape);
  /* the same seed must give the same draws */
  float *again = xalloc((size_t)c.p.ny * sizeof(float));
  void *scratch2 = xalloc(sbytes);
  rng_seed(c.seed);
  if (flip) random_flip_forward(again, scratch2, c.x, c.N, c.H, c.W, c.C, c.mode);
  else random_translation_forward(again, scratch2, c.x, c.N, c.H, c.W, c.C, c.hf, c.wf);
  save("y_again", again, 4, x.shape);
  if (flip) random_flip_backward(dx, c.scratch, c.p.dy, c.N, c.H, c.W, c.C);
  else random_translation_backward(dx, c.scratch, c.p.dy, c.N, c.H, c.W, c.C);
  save("dx", dx, 4, x.shape);
  finite_diff(&c.p, c.x, c.p.ny, 1e-2f, "dx", 4, x.shape);
}

int main(int argc, char **argv) {
  static const struct { const char *op; int nargs; } ops[] = {
      {"conv", 5}, {"maxpool", 4}, {"avgpool", 4}, {"bn", 3}, {"flip", 2}, {"translate", 3}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (argc < 3 || strcmp(argv[1], ops[i].op) != 0) continue;
    if (argc != 3 + ops[i].nargs) die("wrong number of arguments (see the file's header)");
    dir = argv[2];
    char **a = argv + 3;
    switch (i) {
    case 0: check_conv(a); break;
    case 1: check_pool(a, 1); break;
    case 2: check_pool(a, 0); break;
    case 3: check_bn(a); break;
    case 4: check_aug(a, 1); break;
    default: check_aug(a, 0); break;
    }
    free_all();
    return 0;
  }
  die("usage: kernel_check conv|maxpool|avgpool|bn|flip|translate DIR ARGS...");
  return 1;
}
