/* layer_conv2d.c — Conv2D: a 2-D convolution over N×H×W×C images with a
 * fused activation, on the kernels of conv2d.h.
 *
 *   forward   z[n,y,x,f] = b[f] + Σ_{i,j,c} x[n, y·SH − PT + i, x·SW − PL + j, c] · W[i,j,c,f]
 *             y = act(z)                  W (KH, KW, C, F) as Keras, b (F)
 *   backward  dz = act'(z) ⊙ dy
 *             dW = colsᵀ·dz,  db = Σ_{n,y,x} dz,  dx = col2im(dz·Wᵀ)
 *
 * A plan (conv2d_plan_new: oneDNN's primitives, or im2col) is made for one
 * input shape and one batch size N and runs any batch n <= N, but at the
 * cost of N images. The layer keeps a few plans in l->cache, keyed by input
 * shape and batch size: the model's workspace reservation asks for the
 * largest batch (scratch() makes its plan and reports its size), and the
 * forward makes one for a smaller batch on first sight (the trainer's last
 * partial batch) when its scratch fits, else runs a larger one. The
 * scratch ends with the batch size of the plan its forward ran, so that the
 * backward runs the same plan on what that forward left there, even when the
 * layer has run in another model (another workspace) in between. The
 * engine is oneDNN where it has a JIT kernel (CONV2D_AUTO); NNLAB_CONV=im2col
 * or =onednn forces one (bench/bench_cnn.sh measures both). */
#include "nn.h"

#include "conv2d.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Conv2DConf {
  int64_t filters, kernel[2], stride[2];
  int64_t padding;  /* OPTION_NAME_INT: -1 "valid", -2 "same", or zeros on every side */
  int act;          /* Activation (not softmax) */
  int init;         /* Init */
} Conv2DConf;
LAYER_CONF_FITS(Conv2DConf);

#define CONV_PLANS 6  /* plans kept per layer: full, last and evaluation batches, a few shapes */

typedef struct PlanSlot {
  int64_t H, W, C, N;  /* the input shape and batch it was made for; N 0: empty */
  Conv2DPlan *p;
  size_t bytes;        /* conv2d_scratch_size(p) */
  uint64_t used;       /* clock of the last use (the least recent goes first) */
} PlanSlot;

typedef struct ConvCache {
  PlanSlot slot[CONV_PLANS];
  uint64_t clock;
  PlanSlot *last;      /* the last forward's plan (kept from eviction) */
} ConvCache;

/* Floats at the end of the layer's scratch: the N of the plan its forward
 * ran (an int64_t, 0 when it had none). */
#define CONV_TAIL 2

/* conv2d_geom's padding for the option's value. */
static int64_t padding_of(const Conv2DConf *c) {
  return c->padding == -2 ? CONV2D_SAME : c->padding == -1 ? 0 : c->padding;
}

static int geom_of(const Layer *l, const Shape *in, int64_t N, Conv2DGeom *g, char *err) {
  const Conv2DConf *c = LAYER_CONF(l, Conv2DConf);
  return conv2d_geom(g, N, in->d[0], in->d[1], in->d[2], c->kernel[0], c->kernel[1], c->filters,
                     c->stride[0], c->stride[1], padding_of(c), err);
}

static int conv_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  const Conv2DConf *c = LAYER_CONF(l, Conv2DConf);
  char msg[NN_ERRLEN];
  Conv2DGeom g;
  if (!in) return -1;
  if (plan_image_input(in, err)) return -1;
  if (geom_of(l, in, 1, &g, msg)) {
    if (c->padding == -2)
      snprintf(err, LAYER_ERRLEN, "cannot convolve a %lldx%lld image", (long long)in->d[0],
               (long long)in->d[1]);
    else
      snprintf(err, LAYER_ERRLEN, "has a %lldx%lld kernel larger than its %lldx%lld input image "
               "(padded by %lld); use a smaller kernel or padding=\"same\"", (long long)c->kernel[0],
               (long long)c->kernel[1], (long long)in->d[0], (long long)in->d[1],
               (long long)padding_of(c));
    return -1;
  }
  *out = (Shape){3, {g.OH, g.OW, c->filters}};
  tshape[0] = (Shape){4, {c->kernel[0], c->kernel[1], in->d[2], c->filters}};
  tshape[1] = (Shape){1, {c->filters}};
  return 0;
}

/* Keras's fans for a kernel: fan_in = KH·KW·C, fan_out = KH·KW·F. */
static void conv_init(Layer *l, const Shape *in) {
  const Conv2DConf *c = LAYER_CONF(l, Conv2DConf);
  int64_t k = c->kernel[0] * c->kernel[1];
  init_weights_fans(tensor_f32(l->t[0]), tensor_numel(l->t[0]), tensor_f32(l->t[1]), c->filters,
                    (Init)c->init, k * in->d[2], k * c->filters);
}

/* ---- the plans ---------------------------------------------------------- */

static int same_shape(const PlanSlot *s, const Shape *in) {
  return s->N > 0 && s->H == in->d[0] && s->W == in->d[1] && s->C == in->d[2];
}

static void slot_clear(PlanSlot *s) {
  conv2d_plan_free(s->p);
  memset(s, 0, sizeof *s);
}

/* The engine NNLAB_CONV asks for: "im2col", "onednn", else the choice by
 * machine (unknown values too: the variable is for measuring, not a switch
 * users need). */
static int conv_engine(void) {
  const char *e = getenv("NNLAB_CONV");
  if (e && strcmp(e, "im2col") == 0) return CONV2D_IM2COL;
  if (e && strcmp(e, "onednn") == 0) return CONV2D_ONEDNN;
  return CONV2D_AUTO;
}

static ConvCache *cache_of(Layer *l) {
  if (!l->cache) l->cache = calloc(1, sizeof(ConvCache));
  return l->cache;
}

/* The plan for exactly N images of shape in, made (and kept) when missing;
 * NULL when it cannot be made (out of memory) or its scratch exceeds max
 * bytes. */
static PlanSlot *plan_exact(Layer *l, const Shape *in, int64_t N, size_t max) {
  ConvCache *c = cache_of(l);
  PlanSlot *free_slot = NULL, *victim = NULL;
  Conv2DGeom g;
  char err[NN_ERRLEN];
  if (!c) return NULL;
  for (int i = 0; i < CONV_PLANS; i++) {
    PlanSlot *s = &c->slot[i];
    if (same_shape(s, in) && s->N == N) return s->bytes <= max ? s : NULL;
    if (!s->N) { if (!free_slot) free_slot = s; }
    else if (s != c->last && (!victim || s->used < victim->used)) victim = s;
  }
  if (geom_of(l, in, N, &g, err)) return NULL;
  Conv2DPlan *p = conv2d_plan_new(&g, conv_engine(), err);
  if (!p) return NULL;
  if (conv2d_scratch_size(p) > max) {
    conv2d_plan_free(p);
    return NULL;
  }
  PlanSlot *s = free_slot ? free_slot : victim;
  slot_clear(s);
  *s = (PlanSlot){in->d[0], in->d[1], in->d[2], N, p, conv2d_scratch_size(p), ++c->clock};
  return s;
}

/* The plan a batch of B runs with scratch of max bytes: its own when it has
 * or can make one that fits, else the smallest kept for more images. */
static PlanSlot *plan_for(Layer *l, const Shape *in, int64_t B, size_t max) {
  PlanSlot *s = plan_exact(l, in, B, max);
  ConvCache *c = l->cache;
  if (!s && c)
    for (int i = 0; i < CONV_PLANS; i++) {
      PlanSlot *t = &c->slot[i];
      if (same_shape(t, in) && t->N >= B && t->bytes <= max && (!s || t->N < s->N)) s = t;
    }
  if (s) s->used = ++c->clock;
  return s;
}

static void conv_release(Layer *l) {
  ConvCache *c = l->cache;
  for (int i = 0; i < CONV_PLANS; i++) slot_clear(&c->slot[i]);
  free(c);
  l->cache = NULL;
}

/* The scratch of the plan for B images, in floats (rounded up); making the
 * plan changes only the cache, which is why the const is cast away. */
static int64_t conv_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)out;
  PlanSlot *s = plan_exact((Layer *)l, in, B, (size_t)-1);
  if (!s) return -1;
  return (int64_t)((s->bytes + sizeof(float) - 1) / sizeof(float)) + CONV_TAIL;
}

/* The plans' part of the scratch, in bytes (the tail excluded). */
static size_t plan_bytes(const LayerRun *r) {
  return r->nscratch > CONV_TAIL ? (size_t)(r->nscratch - CONV_TAIL) * sizeof(float) : 0;
}

static void tail_put(const LayerRun *r, int64_t N) {
  if (r->nscratch >= CONV_TAIL) memcpy(r->scratch + r->nscratch - CONV_TAIL, &N, sizeof N);
}

static int64_t tail_get(const LayerRun *r) {
  int64_t N = 0;
  if (r->nscratch >= CONV_TAIL) memcpy(&N, r->scratch + r->nscratch - CONV_TAIL, sizeof N);
  return N;
}

static void fill_nan(float *p, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = NAN;
}

/* Without a plan (memory ran out while making one) the outputs are NaN,
 * which the trainer reports as a diverged loss: there is no way to fail. */
static void conv_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  const Conv2DConf *c = LAYER_CONF(l, Conv2DConf);
  PlanSlot *s = plan_for(l, r->in, r->B, plan_bytes(r));
  if (l->cache) ((ConvCache *)l->cache)->last = s;
  tail_put(r, s ? s->N : 0);
  if (!s) {
    fill_nan(out, r->B * r->Fo);
    return;
  }
  conv2d_forward(out, r->scratch, in, tensor_f32(l->t[0]), tensor_f32(l->t[1]), r->B, s->p);
  activation_forward(out, (Activation)c->act, r->B, r->Fo);
}

static void conv_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                          const float *out) {
  const Conv2DConf *c = LAYER_CONF(l, Conv2DConf);
  /* the plan of the forward that filled this scratch (made again if it was
   * dropped: the same geometry and batch give the same layout) */
  int64_t N = tail_get(r);
  PlanSlot *s = N >= r->B ? plan_exact(l, r->in, N, plan_bytes(r)) : NULL;
  if (!s) {
    fill_nan(tensor_f32(l->grad[0]), tensor_numel(l->grad[0]));
    fill_nan(tensor_f32(l->grad[1]), tensor_numel(l->grad[1]));
    if (din) fill_nan(din, r->B * r->F);
    return;
  }
  if (!r->at_logits) activation_backward(dout, out, (Activation)c->act, r->B, r->Fo);
  conv2d_backward(din, tensor_f32(l->grad[0]), tensor_f32(l->grad[1]), r->scratch, dout, in,
                  tensor_f32(l->t[0]), r->B, s->p);
}

static const char *const CONV_ACTIVATIONS[] = {"linear", "relu", "sigmoid", "tanh", NULL};
static const char *const PADDINGS[] = {"valid", "same", NULL};

static const OptionSpec CONV_OPTIONS[] = {
  {"filters", OPTION_INT, offsetof(Conv2DConf, filters), 1, 1, 1, 1, 1 << 16, '[', ']', NULL, NULL},
  {"kernel_size", OPTION_INT2, offsetof(Conv2DConf, kernel), 2, 1, 1, 1, 1 << 12, '[', ']', NULL, NULL},
  {"activation", OPTION_NAME, offsetof(Conv2DConf, act), 3, 0, ACT_LINEAR, 0, 0, 0, 0,
   CONV_ACTIVATIONS, "relu, sigmoid, tanh or linear"},
  {"stride", OPTION_INT2, offsetof(Conv2DConf, stride), 0, 0, 1, 1, 1 << 12, '[', ']', NULL, NULL},
  {"padding", OPTION_NAME_INT, offsetof(Conv2DConf, padding), 0, 0, -1, 0, 1 << 12, '[', ']',
   PADDINGS, "\"valid\", \"same\""},
  {"init", OPTION_NAME, offsetof(Conv2DConf, init), 0, 0, INIT_GLOROT_UNIFORM, 0, 0, 0, 0,
   INIT_NAMES, NULL},
};

static const TensorDecl CONV_TENSORS[] = {{"W", "dW"}, {"b", "db"}};

const LayerKind layer_conv2d = {
  .name = "Conv2D",
  .usage = "nn.Conv2D(filters, kernel_size [, activation] [, {stride=, padding=, init=}])",
  .options = CONV_OPTIONS, .noptions = 6,
  .tensors = CONV_TENSORS, .ntensors = 2,
  .plan = conv_plan, .init = conv_init, .scratch = conv_scratch,
  .forward = conv_forward, .backward = conv_backward, .release = conv_release,
};
