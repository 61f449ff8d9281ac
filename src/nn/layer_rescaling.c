/* layer_rescaling.c — Rescaling: y = x·scale + offset, element-wise
 * (nn.Rescaling(1/255) turns pixels into [0, 1]); dx = scale·dy.
 * As the first layer it costs nothing: the trainer applies it while it
 * gathers each minibatch from the dataset (model_input_stage). */
#include "nn.h"

typedef struct RescalingConf {
  float scale, offset;
} RescalingConf;
LAYER_CONF_FITS(RescalingConf);

static int rescaling_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l; (void)tshape; (void)err;
  if (!in) return -1;
  *out = *in;
  return 0;
}

static void rescaling_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  const RescalingConf *c = LAYER_CONF(l, RescalingConf);
  for (int64_t k = 0; k < r->B * r->F; k++) out[k] = in[k] * c->scale + c->offset;
}

static void rescaling_backward(Layer *l, const LayerRun *r, float *din, float *dout,
                               const float *in, const float *out) {
  (void)in; (void)out;
  const float s = LAYER_CONF(l, RescalingConf)->scale;
  if (din)
    for (int64_t k = 0; k < r->B * r->F; k++) din[k] = dout[k] * s;
}

static int rescaling_affine(const Layer *l, float *scale, float *offset) {
  *scale = LAYER_CONF(l, RescalingConf)->scale;
  *offset = LAYER_CONF(l, RescalingConf)->offset;
  return 1;
}

static const OptionSpec RESCALING_OPTIONS[] = {
  {"scale", OPTION_FLOAT, offsetof(RescalingConf, scale), 1, 1, 1, 0, 0, 0, 0, NULL, NULL},
  {"offset", OPTION_FLOAT, offsetof(RescalingConf, offset), 2, 0, 0, 0, 0, 0, 0, NULL, NULL},
};

const LayerKind layer_rescaling = {
  .name = "Rescaling",
  .usage = "nn.Rescaling(scale [, offset])",
  .options = RESCALING_OPTIONS, .noptions = 2,
  .v2_id = 3,
  .plan = rescaling_plan,
  .forward = rescaling_forward, .backward = rescaling_backward, .affine = rescaling_affine,
};
