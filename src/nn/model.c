/* model.c — the Sequential pipeline over layers of any kind: planning each
 * layer's per-sample shape from the input shape, one workspace holding every
 * activation and every layer's scratch, and the forward and backward passes.
 * It asks each layer's kind (layer.h) and never names one. A kind marked
 * alias (Flatten) shares its input buffer and runs no kernel. */
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t shape_numel(const Shape *s) {
  int64_t p = 1;
  for (int i = 0; i < s->nd; i++) {
    if (s->d[i] < 0 || (s->d[i] > 0 && p > INT64_MAX / s->d[i])) return -1;
    p *= s->d[i];
  }
  return p;
}

int plan_image_input(const Shape *in, char *err) {
  char buf[96];
  if (in->nd != 3) {
    snprintf(err, LAYER_ERRLEN, "expects images H x W x C per sample, got %s; give it the images "
             "unflattened (N x H x W x C, e.g. X:reshape(N, 32, 32, 3))",
             shape_str(in->nd, in->d, buf, sizeof buf));
    return -1;
  }
  if (in->d[0] < 1 || in->d[1] < 1 || in->d[2] < 1) {
    snprintf(err, LAYER_ERRLEN, "needs a non-empty image, got %s", shape_str(in->nd, in->d, buf, sizeof buf));
    return -1;
  }
  return 0;
}

int layer_trains(const Layer *l) {
  for (int k = 0; k < l->kind->ntensors; k++)
    if (l->kind->tensors[k].grad) return 1;
  return 0;
}

const OptionSpec *layer_option(const LayerKind *k, const char *name) {
  for (int i = 0; i < k->noptions; i++)
    if (strcmp(k->options[i].name, name) == 0) return &k->options[i];
  return NULL;
}

/* Plans layer l on input shape in: the output shape and its tensors'
 * shapes, the message prefixed "Kind (layer i) ". */
static int plan_layer(const Layer *l, int i, const Shape *in, Shape *out, Shape *tshape, char *err) {
  char msg[LAYER_ERRLEN];
  if (l->kind->plan(l, in, out, tshape, msg)) {
    snprintf(err, NN_ERRLEN, "%.20s (layer %d) %s", l->kind->name, i + 1, msg);
    return -1;
  }
  if (out->nd < 1 || out->nd > TENSOR_MAXDIM || shape_numel(out) < 0) {
    snprintf(err, NN_ERRLEN, "%s (layer %d) output shape is too large", l->kind->name, i + 1);
    return -1;
  }
  return 0;
}

int model_layer_tensor_shapes(const Model *m, int i, Shape *tshape, char *err) {
  Shape out;
  return plan_layer(m->layers[i], i, &m->shape[i], &out, tshape, err);
}

int model_plan(Model *m, const Shape *in, char *err) {
  char buf[96], a[96], b[96];
  Shape tshape[LAYER_MAXTENSORS];
  m->shape[0] = *in;
  m->feat[0] = shape_numel(in);
  if (m->feat[0] < 0) {
    snprintf(err, NN_ERRLEN, "input shape %s is too large", shape_str(in->nd, in->d, buf, sizeof buf));
    return -1;
  }
  for (int i = 0; i < m->n; i++) {
    const Layer *l = m->layers[i];
    if (plan_layer(l, i, &m->shape[i], &m->shape[i + 1], tshape, err)) return -1;
    /* a layer built before (taken from another model) must fit */
    for (int k = 0; k < l->kind->ntensors; k++) {
      const Tensor *t = l->t[k];
      if (t && (t->ndim != tshape[k].nd ||
                memcmp(t->shape, tshape[k].d, sizeof(int64_t) * (size_t)t->ndim) != 0)) {
        snprintf(err, NN_ERRLEN, "%s (layer %d) has %s of shape %s, its input needs %s",
                 l->kind->name, i + 1, l->kind->tensors[k].name, tensor_shape_str(t, a, sizeof a),
                 shape_str(tshape[k].nd, tshape[k].d, b, sizeof b));
        return -1;
      }
    }
    m->feat[i + 1] = shape_numel(&m->shape[i + 1]);
  }
  model_free_workspace(m);
  return 0;
}

void model_free_workspace(Model *m) {
  free(m->ws);
  m->ws = NULL;
  m->ws_batch = 0;
  m->last_batch = 0;
}

static int64_t scratch_of(const Model *m, int i, int64_t B) {
  const Layer *l = m->layers[i];
  return l->kind->scratch ? l->kind->scratch(l, &m->shape[i], &m->shape[i + 1], B) : 0;
}

/* Workspace layout for B samples: act[0], g1, g2, then per layer its output
 * (unless it aliases its input) and its scratch. */
int model_reserve(Model *m, int64_t B, char *err) {
  if (m->ws && m->ws_batch >= B) return 0;
  int64_t maxf = m->feat[0], total = 0, s[NN_MAXLAYERS], t;
  int over = 0;  /* a size past int64_t: no allocation can hold it */
  for (int i = 0; i <= m->n; i++) if (m->feat[i] > maxf) maxf = m->feat[i];
  over |= __builtin_mul_overflow(maxf, 2, &t) || __builtin_add_overflow(t, m->feat[0], &t) ||
          __builtin_mul_overflow(t, B, &total);
  for (int i = 0; i < m->n; i++) {
    if (!m->layers[i]->kind->alias)
      over |= __builtin_mul_overflow(m->feat[i + 1], B, &t) || __builtin_add_overflow(total, t, &total);
    if (over) break;
    if ((s[i] = scratch_of(m, i, B)) < 0) {
      snprintf(err, NN_ERRLEN, "%s (layer %d) out of memory for a batch of %lld",
               m->layers[i]->kind->name, i + 1, (long long)B);
      return -1;
    }
    over |= __builtin_add_overflow(total, s[i], &total);
  }
  float *ws = over || (uint64_t)total > SIZE_MAX / sizeof(float) ? NULL
                                                                   : malloc((size_t)total * sizeof(float));
  if (!ws && over) {
    snprintf(err, NN_ERRLEN, "out of memory for a batch of %lld (more floats than memory holds)",
             (long long)B);
    return -1;
  }
  if (!ws) {
    snprintf(err, NN_ERRLEN, "out of memory for a batch of %lld (%lld floats)", (long long)B,
             (long long)total);
    return -1;
  }
  model_free_workspace(m);
  m->ws = ws;
  m->ws_batch = B;
  float *p = ws;
  m->act[0] = p; p += B * m->feat[0];
  m->g1 = p; p += B * maxf;
  m->g2 = p; p += B * maxf;
  for (int i = 0; i < m->n; i++) {
    if (m->layers[i]->kind->alias) m->act[i + 1] = m->act[i];
    else { m->act[i + 1] = p; p += B * m->feat[i + 1]; }
    m->scratch[i] = s[i] > 0 ? p : NULL;
    m->nscratch[i] = s[i];
    p += s[i];
  }
  return 0;
}

int model_input_stage(const Model *m, float *scale, float *offset) {
  if (m->n > 0 && m->layers[0]->kind->affine && m->layers[0]->kind->affine(m->layers[0], scale, offset))
    return 1;
  *scale = 1.0f;
  *offset = 0.0f;
  return 0;
}

int model_gather(Model *m, const Tensor *X, const int32_t *idx, int64_t first, int64_t B, int fm) {
  float scale, offset;
  int start = model_input_stage(m, &scale, &offset), i = start;
  while (i < m->n && m->layers[i]->kind->alias) i++;
  m->fm_layer = i;
  m->in_fm = fm && i < m->n && m->layers[i]->kind->feature_major &&
             gather_rows_fm(m->act[start], X, idx, first, B, m->feat[0], scale, offset);
  if (!m->in_fm) gather_rows(m->act[start], X, idx, first, B, m->feat[0], scale, offset);
  return start;
}

static LayerRun run_of(const Model *m, int i, int64_t B) {
  LayerRun r = {B, &m->shape[i], &m->shape[i + 1], m->feat[i], m->feat[i + 1], m->scratch[i],
                m->nscratch[i], m->training, 0, m->in_fm && i == m->fm_layer, 0, NULL, 0.0f};
  return r;
}

void model_forward(Model *m, int64_t B, int start, int logits_only) {
  for (int i = start; i < m->n; i++) {
    Layer *l = m->layers[i];
    if (l->kind->alias) continue;
    LayerRun r = run_of(m, i, B);
    r.logits_only = logits_only && i == m->n - 1;
    l->kind->forward(l, &r, m->act[i + 1], m->act[i]);
  }
  m->last_batch = B;
}

float *model_backward(Model *m, int64_t B, float *g, int at_logits, int stop, int need_din,
                      const GradFold *fold) {
  float *cur = g, *other = (g == m->g1) ? m->g2 : m->g1, *t;
  for (int i = m->n - 1; i >= stop; i--) {
    Layer *l = m->layers[i];
    if (l->kind->alias) continue;
    int want_din = i > stop || need_din;
    LayerRun r = run_of(m, i, B);
    r.at_logits = at_logits && i == m->n - 1;
    if (fold && l->kind->folds) r.fold = fold->into[i], r.fold_beta = fold->beta;
    l->kind->backward(l, &r, want_din ? other : NULL, cur, m->act[i], m->act[i + 1]);
    if (want_din) { t = cur; cur = other; other = t; }
  }
  return cur;
}

int model_first_trained(const Model *m) {
  for (int i = 0; i < m->n; i++) if (layer_trains(m->layers[i])) return i;
  return m->n;
}

const float *model_logits(const Model *m, int64_t B) {
  if (m->n == 0) return NULL;
  const Layer *l = m->layers[m->n - 1];
  if (!l->kind->logits) return NULL;
  LayerRun r = run_of(m, m->n - 1, B);
  return l->kind->logits(l, &r, m->act[m->n - 1]);
}

int64_t layer_param_count(const Layer *l) {
  int64_t c = 0;
  for (int k = 0; k < l->kind->ntensors; k++) if (l->t[k]) c += tensor_numel(l->t[k]);
  return c;
}

int64_t layer_trainable_count(const Layer *l) {
  int64_t c = 0;
  for (int k = 0; k < l->kind->ntensors; k++)
    if (l->t[k] && l->kind->tensors[k].grad) c += tensor_numel(l->t[k]);
  return c;
}

int64_t model_param_count(const Model *m) {
  int64_t c = 0;
  for (int i = 0; i < m->n; i++) c += layer_param_count(m->layers[i]);
  return c;
}
