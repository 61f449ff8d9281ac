/* layer_dense.c — Dense: a fully connected layer with a fused activation.
 *
 *   forward   z = x·W + b        x (B, n_in), W (n_in, units), b (units)
 *             y = act(z)         per element, or a softmax per row
 *   backward  dz = act'(z) ⊙ dy  (skipped when the loss already gives dL/dz)
 *             dW = xᵀ·dz   (n_in, units)      db = Σ_rows dz   (units)
 *             dx = dz·Wᵀ   (B, n_in), skipped for the first layer
 *
 * W is inputs×units like Keras, so a linear classifier's W reshapes to one
 * image per class. With a softmax, z is kept in the layer's scratch so the
 * cross-entropy can be computed from the logits (stable for any z); in a
 * training step that loss reads only them, and the softmax is not applied
 * (LayerRun.logits_only). Matrix products go through gemm_f32 with
 * transpose flags (no copies).
 *
 * Trained by SGD with momentum in fit, the layer folds its gradients into
 * the velocity: v = μ·v + xᵀ·dz is one sgemm with beta = μ, and the
 * optimizer's pass then reads and writes 3 arrays in place of 5
 * (LayerRun.fold; optim.c).
 *
 * As the first layer of a training step it takes its input feature-major
 * (x stored n_in × B, the trainer's gather writes it so): then dW = xᵀ·dz
 * reads x without a transpose, which oneDNN's sgemm runs at 103 GFLOP/s a
 * core against 82 for x stored B × n_in (3072×64×64, 2-core EPYC), and
 * the forward runs as fast either way. */
#include "nn.h"

#include "gemm.h"
#include <stdio.h>
#include <string.h>

typedef struct DenseConf {
  int64_t units;
  int act;   /* Activation */
  int init;  /* Init */
} DenseConf;

LAYER_CONF_FITS(DenseConf);

/* out = in·W + b, with in (B x n_in), or (n_in x B) when fm, W (n_in x n_out), b (n_out). */
static void dense_forward(float *out, const float *in, int fm, const float *W, const float *b,
                          int64_t B, int64_t n_in, int64_t n_out) {
  for (int64_t r = 0; r < B; r++) memcpy(out + r * n_out, b, (size_t)n_out * sizeof(float));
  gemm_f32(fm, 0, B, n_out, n_in, 1.0f, in, fm ? B : n_in, W, n_out, 1.0f, out, n_out);
}

/* Given dz = dL/d(out) (B x n_out): din (B x n_in) unless NULL, then
 * dW = beta·dW + xᵀ·dz and db = beta·db + Σ dz (beta 0: the gradients;
 * else dW and db are SGD's velocities). din comes first: W may be updated
 * as soon as its gradient is known. */
static void dense_backward(float *din, float *dW, float *db, float beta, const float *dz,
                           const float *in, int fm, const float *W, int64_t B, int64_t n_in,
                           int64_t n_out) {
  if (din)
    gemm_f32(0, 1, B, n_in, n_out, 1.0f, dz, n_out, W, n_out, 0.0f, din, n_in);
  gemm_f32(!fm, 0, n_in, n_out, B, 1.0f, in, fm ? B : n_in, dz, n_out, beta, dW, n_out);
  if (beta == 0.0f) memset(db, 0, (size_t)n_out * sizeof(float));
  else for (int64_t j = 0; j < n_out; j++) db[j] *= beta;
  for (int64_t r = 0; r < B; r++) {
    const float *d = dz + r * n_out;
    for (int64_t j = 0; j < n_out; j++) db[j] += d[j];
  }
}

static int dense_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  const DenseConf *c = LAYER_CONF(l, DenseConf);
  char buf[96];
  out->nd = 1;
  out->d[0] = c->units;
  if (!in) return 0;
  if (in->nd != 1) {
    snprintf(err, LAYER_ERRLEN, "expects flat inputs (features), got %s per sample; add "
             "nn.Flatten() before it", shape_str(in->nd, in->d, buf, sizeof buf));
    return -1;
  }
  if (in->d[0] < 1) {
    snprintf(err, LAYER_ERRLEN, "needs at least one input feature, got 0");
    return -1;
  }
  tshape[0] = (Shape){2, {in->d[0], c->units}};
  tshape[1] = (Shape){1, {c->units}};
  return 0;
}

static void dense_init(Layer *l, const Shape *in) {
  const DenseConf *c = LAYER_CONF(l, DenseConf);
  init_weights(tensor_f32(l->t[0]), tensor_f32(l->t[1]), (Init)c->init, in->d[0], c->units);
}

static int64_t dense_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)in;
  return LAYER_CONF(l, DenseConf)->act == ACT_SOFTMAX ? B * out->d[0] : 0;
}

static void dense_fwd(Layer *l, const LayerRun *r, float *out, const float *in) {
  const DenseConf *c = LAYER_CONF(l, DenseConf);
  const float *W = tensor_f32(l->t[0]), *b = tensor_f32(l->t[1]);
  if (c->act == ACT_SOFTMAX) {
    dense_forward(r->scratch, in, r->in_fm, W, b, r->B, r->F, r->Fo);
    if (r->logits_only) return;
    memcpy(out, r->scratch, (size_t)(r->B * r->Fo) * sizeof(float));
  } else {
    dense_forward(out, in, r->in_fm, W, b, r->B, r->F, r->Fo);
  }
  activation_forward(out, (Activation)c->act, r->B, r->Fo);
}

static void dense_bwd(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                      const float *out) {
  const DenseConf *c = LAYER_CONF(l, DenseConf);
  if (!r->at_logits) activation_backward(dout, out, (Activation)c->act, r->B, r->Fo);
  /* W and b are both trained, so the trainer folds both or neither */
  int fold = r->fold && r->fold[0] && r->fold[1];
  dense_backward(din, fold ? r->fold[0] : tensor_f32(l->grad[0]),
                 fold ? r->fold[1] : tensor_f32(l->grad[1]), fold ? r->fold_beta : 0.0f, dout, in,
                 r->in_fm, tensor_f32(l->t[0]), r->B, r->F, r->Fo);
}

static const float *dense_logits(const Layer *l, const LayerRun *r, const float *in) {
  (void)in;
  return LAYER_CONF(l, DenseConf)->act == ACT_SOFTMAX ? r->scratch : NULL;
}

static const OptionSpec DENSE_OPTIONS[] = {
  {"units", OPTION_INT, offsetof(DenseConf, units), 1, 1, 1, 1, 1 << 24, '[', ']', NULL, NULL},
  {"activation", OPTION_NAME, offsetof(DenseConf, act), 2, 0, ACT_LINEAR, 0, 0, 0, 0,
   ACTIVATION_NAMES, "relu, sigmoid, tanh, softmax or linear"},
  {"init", OPTION_NAME, offsetof(DenseConf, init), 0, 0, INIT_GLOROT_UNIFORM, 0, 0, 0, 0,
   INIT_NAMES, NULL},
};

static const TensorDecl DENSE_TENSORS[] = {{"W", "dW"}, {"b", "db"}};

const LayerKind layer_dense = {
  .name = "Dense",
  .usage = "nn.Dense(units [, activation] [, {init=}])",
  .options = DENSE_OPTIONS, .noptions = 3,
  .tensors = DENSE_TENSORS, .ntensors = 2,
  .v2_id = 1,
  .folds = 1, .feature_major = 1,
  .plan = dense_plan, .init = dense_init, .scratch = dense_scratch,
  .forward = dense_fwd, .backward = dense_bwd, .logits = dense_logits,
};
