/* layer_activation.c — the activation layers ReLU, Sigmoid, Tanh and
 * Softmax: y = act(x) element-wise (softmax: per sample, over its values),
 * and dx = act'(x) ⊙ dy computed from y (activation.c gives the formulas).
 * A final Softmax hands its input to the loss as logits, so cross-entropy
 * is computed fused and stable; its backward is then the identity. */
#include "nn.h"
#include "parallel.h"

#include <stdio.h>
#include <string.h>

static int same_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l; (void)tshape; (void)err;
  if (!in) return -1;
  *out = *in;
  return 0;
}

static int softmax_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  char buf[96];
  if (in && in->nd != 1) {
    snprintf(err, LAYER_ERRLEN, "expects flat inputs, got %s per sample; add nn.Flatten() before it",
             shape_str(in->nd, in->d, buf, sizeof buf));
    return -1;
  }
  return same_plan(l, in, out, tshape, err);
}

typedef struct {
  Activation act;
  int64_t F;
  float *dst;
  const float *src, *y; /* y: the forward's output, for the backward; else NULL */
} ActRows;

/* Rows lo..hi: dst = act(src) (y NULL), or dst = act'·src given the
 * forward's output y. The batch's rows are shared among the threads. */
static void act_rows(void *ctx, int part, int64_t lo, int64_t hi) {
  const ActRows *t = ctx;
  const int64_t F = t->F;
  (void)part;
  if (t->y) activation_grad(t->dst + lo * F, t->src + lo * F, t->y + lo * F, t->act, hi - lo, F);
  else activation_apply(t->dst + lo * F, t->src + lo * F, t->act, hi - lo, F);
}

static void run_rows(const LayerRun *r, ActRows *t) {
  parallel_items(r->B, r->F, 32768, act_rows, t);
}

static void act_layer_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  run_rows(r, &(ActRows){(Activation)l->kind->act, r->F, out, in, NULL});
}

static void act_layer_backward(Layer *l, const LayerRun *r, float *din, float *dout,
                               const float *in, const float *out) {
  (void)in;
  if (!din) return;
  if (r->at_logits) memcpy(din, dout, (size_t)(r->B * r->F) * sizeof(float));
  else run_rows(r, &(ActRows){(Activation)l->kind->act, r->F, din, dout, out});
}

static const float *softmax_logits(const Layer *l, const LayerRun *r, const float *in) {
  (void)l; (void)r;
  return in;
}

#define ACTIVATION_KIND(var, NAME, ACT, CODE, PLAN, LOGITS)                               \
  const LayerKind var = {.name = NAME, .usage = "nn." NAME "()", .act = ACT, .v2_id = CODE, \
                         .plan = PLAN, .forward = act_layer_forward,                         \
                         .backward = act_layer_backward, .logits = LOGITS};

ACTIVATION_KIND(layer_relu, "ReLU", ACT_RELU, 4, same_plan, NULL)
ACTIVATION_KIND(layer_sigmoid, "Sigmoid", ACT_SIGMOID, 5, same_plan, NULL)
ACTIVATION_KIND(layer_tanh, "Tanh", ACT_TANH, 6, same_plan, NULL)
ACTIVATION_KIND(layer_softmax, "Softmax", ACT_SOFTMAX, 7, softmax_plan, softmax_logits)
