/* layer_dropout.c — Dropout(p), inverted: while training each value is kept
 * with probability 1-p and scaled by 1/(1-p), so the expected activation
 * matches inference, where the layer is the identity.
 *   forward   m_i = keep ? 1/(1-p) : 0  (drawn from the seeded generator)
 *             y = x ⊙ m                 (training; else y = x)
 *   backward  dx = dy ⊙ m               (training; else dx = dy)
 * The mask lives in the layer's scratch, one float per input value. */
#include "nn.h"

#include "rng.h"
#include <string.h>

typedef struct DropoutConf {
  float p;
} DropoutConf;
LAYER_CONF_FITS(DropoutConf);

static void dropout_mask_forward(float *out, float *mask, const float *in, int64_t n, float p) {
  float keep = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < n; i++) {
    mask[i] = rng_uniform() < p ? 0.0f : keep;
    out[i] = in[i] * mask[i];
  }
}

static int dropout_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l; (void)tshape; (void)err;
  if (!in) return -1;
  *out = *in;
  return 0;
}

static int64_t dropout_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)l; (void)out;
  return B * shape_numel(in);
}

static void dropout_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  float p = LAYER_CONF(l, DropoutConf)->p;
  if (r->training && p > 0) dropout_mask_forward(out, r->scratch, in, r->B * r->F, p);
  else memcpy(out, in, (size_t)(r->B * r->F) * sizeof(float));
}

static void dropout_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                             const float *out) {
  (void)in; (void)out;
  int64_t n = r->B * r->F;
  if (!din) return;
  if (r->training && LAYER_CONF(l, DropoutConf)->p > 0)
    for (int64_t k = 0; k < n; k++) din[k] = dout[k] * r->scratch[k];
  else
    memcpy(din, dout, (size_t)n * sizeof(float));
}

static const OptionSpec DROPOUT_OPTIONS[] = {
  {"p", OPTION_FLOAT, offsetof(DropoutConf, p), 1, 1, 0, 0, 1, '[', ')', NULL, NULL},
};

const LayerKind layer_dropout = {
  .name = "Dropout",
  .usage = "nn.Dropout(p)",
  .options = DROPOUT_OPTIONS, .noptions = 1,
  .v2_id = 8,
  .plan = dropout_plan, .scratch = dropout_scratch,
  .forward = dropout_forward, .backward = dropout_backward,
};
