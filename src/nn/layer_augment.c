/* layer_augment.c — the augmentation layers RandomFlip(mode) and
 * RandomTranslation(height_factor, width_factor) on H×W×C images, as Keras's:
 * while training, each sample gets its own transform T_n drawn from the
 * seeded generator (augment.c: mirrors with probability 1/2 per axis; whole
 * pixel shifts in [−⌊f·H⌋, ⌊f·H⌋] × [−⌊f·W⌋, ⌊f·W⌋], zero fill), otherwise
 * the identity:
 *   forward   y_n = T_n x_n          (training; else y = x)
 *   backward  dx_n = T_nᵀ dy_n       (a flip is its own transpose; a shift's
 *                                     is the opposite shift, zero fill)
 * Scratch: one float saying whether the forward drew (the backward follows
 * the forward, whatever the model's mode is by then), then what it drew. */
#include "nn.h"

#include "augment.h"
#include <stdio.h>
#include <string.h>

typedef struct FlipConf {
  int mode;  /* index into FLIP_NAMES; the kernel's flags are mode + 1 */
} FlipConf;
LAYER_CONF_FITS(FlipConf);

typedef struct TranslationConf {
  double height_factor, width_factor;
} TranslationConf;
LAYER_CONF_FITS(TranslationConf);

static const char *const FLIP_NAMES[] = {"horizontal", "vertical", "horizontal_and_vertical", NULL};
_Static_assert(FLIP_HORIZONTAL == 1 && FLIP_VERTICAL == 2, "FLIP_NAMES index + 1 is the kernel's mode");

/* Images only; the output has the input's shape. */
static int image_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l; (void)tshape;
  char buf[96];
  if (!in) return -1;
  if (in->nd != 3) {
    snprintf(err, LAYER_ERRLEN, "expects images (height x width x channels), got %s per sample%s",
             shape_str(in->nd, in->d, buf, sizeof buf),
             in->nd == 2 ? "; give N x H x W images a channel: X:reshape(N, H, W, 1)" : "");
    return -1;
  }
  *out = *in;
  return 0;
}

static int64_t floats_for(size_t bytes) {
  return 1 + (int64_t)((bytes + sizeof(float) - 1) / sizeof(float));
}

/* The identity of inference: the forward copies, the backward copies back. */
static void identity(float *dst, const float *src, const LayerRun *r) {
  memcpy(dst, src, (size_t)(r->B * r->F) * sizeof(float));
}

static int64_t flip_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)l; (void)in; (void)out;
  return floats_for(random_flip_scratch_size(B));
}

static void flip_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  const int64_t *d = r->in->d;
  r->scratch[0] = r->training ? 1.0f : 0.0f;
  if (!r->training) { identity(out, in, r); return; }
  random_flip_forward(out, r->scratch + 1, in, r->B, d[0], d[1], d[2],
                      LAYER_CONF(l, FlipConf)->mode + 1);
}

static void flip_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                          const float *out) {
  (void)l; (void)in; (void)out;
  const int64_t *d = r->in->d;
  if (!din) return;
  if (r->scratch[0] == 0.0f) { identity(din, dout, r); return; }
  random_flip_backward(din, r->scratch + 1, dout, r->B, d[0], d[1], d[2]);
}

static int64_t translation_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  (void)l; (void)in; (void)out;
  return floats_for(random_translation_scratch_size(B));
}

static void translation_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  const TranslationConf *c = LAYER_CONF(l, TranslationConf);
  const int64_t *d = r->in->d;
  r->scratch[0] = r->training ? 1.0f : 0.0f;
  if (!r->training) { identity(out, in, r); return; }
  random_translation_forward(out, r->scratch + 1, in, r->B, d[0], d[1], d[2], c->height_factor,
                             c->width_factor);
}

static void translation_backward(Layer *l, const LayerRun *r, float *din, float *dout,
                                 const float *in, const float *out) {
  (void)l; (void)in; (void)out;
  const int64_t *d = r->in->d;
  if (!din) return;
  if (r->scratch[0] == 0.0f) { identity(din, dout, r); return; }
  random_translation_backward(din, r->scratch + 1, dout, r->B, d[0], d[1], d[2]);
}

static const OptionSpec FLIP_OPTIONS[] = {
  {"mode", OPTION_NAME, offsetof(FlipConf, mode), 1, 0, 2, 0, 0, 0, 0, FLIP_NAMES, NULL},
};

static const OptionSpec TRANSLATION_OPTIONS[] = {
  {"height_factor", OPTION_DOUBLE, offsetof(TranslationConf, height_factor), 1, 1, 0, 0, 1, '[',
   ')', NULL, NULL},
  {"width_factor", OPTION_DOUBLE, offsetof(TranslationConf, width_factor), 2, 1, 0, 0, 1, '[', ')',
   NULL, NULL},
};

const LayerKind layer_random_flip = {
  .name = "RandomFlip",
  .usage = "nn.RandomFlip([mode])",
  .options = FLIP_OPTIONS, .noptions = 1,
  .plan = image_plan, .scratch = flip_scratch,
  .forward = flip_forward, .backward = flip_backward,
};

const LayerKind layer_random_translation = {
  .name = "RandomTranslation",
  .usage = "nn.RandomTranslation(height_factor, width_factor)",
  .options = TRANSLATION_OPTIONS, .noptions = 2,
  .plan = image_plan, .scratch = translation_scratch,
  .forward = translation_forward, .backward = translation_backward,
};
