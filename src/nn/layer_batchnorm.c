/* layer_batchnorm.c — BatchNormalization over the last axis (features after
 * Dense, channels after Conv2D), as Keras: x is seen as M rows of C values,
 * M = batch × (height × width), and per channel c
 *   training   μ, σ² of the batch (biased)      x̂ = (x − μ)/√(σ² + eps)
 *              moving_mean     = momentum·moving_mean     + (1 − momentum)·μ
 *              moving_variance = momentum·moving_variance + (1 − momentum)·σ²
 *   inference  μ = moving_mean, σ² = moving_variance
 *   y = γ·x̂ + β
 *   backward   dβ = Σ dy   dγ = Σ dy·x̂
 *              dx = (γ/σ)·(dy − dβ/M − x̂·dγ/M)   (training: μ, σ depend on x)
 *              dx = (γ/σ)·dy                     (inference)
 * γ and β are trained; the moving statistics are state (saved, never
 * trained). The kernels are batchnorm.c's. Scratch: one float saying whether
 * the forward used the batch's statistics (the backward follows the forward,
 * whatever the model's mode is by then), then the kernel's doubles, aligned. */
#include "nn.h"

#include "batchnorm.h"
#include <stdio.h>

typedef struct BatchNormConf {
  double momentum, eps;
} BatchNormConf;
LAYER_CONF_FITS(BatchNormConf);

/* The kernel's part of the scratch: after the mode float, 8-byte aligned. */
static void *kernel_scratch(float *scratch) {
  return (void *)(((uintptr_t)(scratch + 1) + 7) & ~(uintptr_t)7);
}

static int bn_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l;
  if (!in) return -1;
  if (in->nd < 1 || in->d[in->nd - 1] < 1) {
    snprintf(err, LAYER_ERRLEN, "needs at least one feature or channel, got none");
    return -1;
  }
  *out = *in;
  for (int k = 0; k < 4; k++) tshape[k] = (Shape){1, {in->d[in->nd - 1]}};
  return 0;
}

/* γ = 1, β = 0, moving_mean = 0, moving_variance = 1 (Keras's). */
static void bn_init(Layer *l, const Shape *in) {
  (void)in;
  int64_t C = tensor_numel(l->t[0]);
  float *g = tensor_f32(l->t[0]), *b = tensor_f32(l->t[1]);
  float *mm = tensor_f32(l->t[2]), *mv = tensor_f32(l->t[3]);
  for (int64_t c = 0; c < C; c++) { g[c] = 1; b[c] = 0; mm[c] = 0; mv[c] = 1; }
}

/* Floats: the mode, up to one of padding, then the kernel's bytes rounded up. */
static int64_t bn_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)l; (void)out; (void)B;
  size_t bytes = batchnorm_scratch_size(in->d[in->nd - 1]);
  return 2 + (int64_t)((bytes + sizeof(float) - 1) / sizeof(float));
}

static void bn_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  const BatchNormConf *c = LAYER_CONF(l, BatchNormConf);
  int64_t C = r->in->d[r->in->nd - 1], M = r->B * r->F / C;
  r->scratch[0] = r->training ? 1.0f : 0.0f;
  batchnorm_forward(out, kernel_scratch(r->scratch), tensor_f32(l->t[2]), tensor_f32(l->t[3]), in,
                    tensor_f32(l->t[0]), tensor_f32(l->t[1]), M, C, r->training,
                    (float)c->momentum, (float)c->eps);
}

static void bn_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                        const float *out) {
  (void)out;
  int64_t C = r->in->d[r->in->nd - 1], M = r->B * r->F / C;
  batchnorm_backward(din, tensor_f32(l->grad[0]), tensor_f32(l->grad[1]),
                     kernel_scratch(r->scratch), dout, in, tensor_f32(l->t[0]), M, C,
                     r->scratch[0] != 0.0f);
}

static const OptionSpec BN_OPTIONS[] = {
  {"momentum", OPTION_DOUBLE, offsetof(BatchNormConf, momentum), 0, 0, 0.99, 0, 1, '[', ']', NULL, NULL},
  {"eps", OPTION_DOUBLE, offsetof(BatchNormConf, eps), 0, 0, 0.001, 0, 0, '(', 0, NULL, NULL},
};

static const TensorDecl BN_TENSORS[] = {
  {"gamma", "dgamma"}, {"beta", "dbeta"}, {"moving_mean", NULL}, {"moving_variance", NULL},
};

const LayerKind layer_batchnorm = {
  .name = "BatchNormalization",
  .usage = "nn.BatchNormalization([{momentum=0.99, eps=0.001}])",
  .options = BN_OPTIONS, .noptions = 2,
  .tensors = BN_TENSORS, .ntensors = 4,
  .plan = bn_plan, .init = bn_init, .scratch = bn_scratch,
  .forward = bn_forward, .backward = bn_backward,
};
