/* model.c — the Sequential pipeline: planning feature sizes from the input
 * shape, one workspace holding every activation, and the forward and
 * backward passes over the layers. Flatten costs nothing: its output is
 * the same buffer as its input (activations are always flat rows). */
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The number of values in a shape, or -1 when it is negative or overflows
 * (shapes may come from a model file). */
static int64_t prod(int ndim, const int64_t *shape) {
  int64_t p = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || (shape[i] > 0 && p > INT64_MAX / shape[i])) return -1;
    p *= shape[i];
  }
  return p;
}

int model_plan(Model *m, int ndim, const int64_t *shape, char *err) {
  int cur_nd = ndim;
  int64_t cur[TENSOR_MAXDIM];
  char buf[96];
  memcpy(cur, shape, sizeof(int64_t) * (size_t)ndim);
  m->feat[0] = prod(ndim, shape);
  if (m->feat[0] < 0) {
    snprintf(err, NN_ERRLEN, "input shape %s is too large", shape_str(ndim, shape, buf, sizeof buf));
    return -1;
  }
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    switch (l->kind) {
    case L_DENSE:
      if (cur_nd != 1) {
        snprintf(err, NN_ERRLEN, "Dense (layer %d) expects flat inputs (features), got %s per "
                 "sample; add nn.Flatten() before it", i + 1, shape_str(cur_nd, cur, buf, sizeof buf));
        return -1;
      }
      if (l->W && l->W->shape[0] != cur[0]) {
        snprintf(err, NN_ERRLEN, "Dense (layer %d) has weights for %lld inputs, got %lld", i + 1,
                 (long long)l->W->shape[0], (long long)cur[0]);
        return -1;
      }
      if (cur[0] < 1) {
        snprintf(err, NN_ERRLEN, "Dense (layer %d) needs at least one input feature, got 0",
                 i + 1);
        return -1;
      }
      cur[0] = l->units;
      break;
    case L_FLATTEN:
      cur[0] = prod(cur_nd, cur);
      cur_nd = 1;
      break;
    case L_SOFTMAX:
      if (cur_nd != 1) {
        snprintf(err, NN_ERRLEN, "Softmax (layer %d) expects flat inputs, got %s per sample; "
                 "add nn.Flatten() before it", i + 1, shape_str(cur_nd, cur, buf, sizeof buf));
        return -1;
      }
      break;
    default:
      break;
    }
    m->out_ndim[i] = cur_nd;
    memcpy(m->out_shape[i], cur, sizeof(int64_t) * (size_t)cur_nd);
    m->feat[i + 1] = prod(cur_nd, cur);
  }
  m->in_ndim = ndim;
  memcpy(m->in_shape, shape, sizeof(int64_t) * (size_t)ndim);
  model_free_workspace(m);
  return 0;
}

void model_free_workspace(Model *m) {
  free(m->ws);
  m->ws = NULL;
  m->ws_batch = 0;
  m->last_batch = 0;
}

int model_reserve(Model *m, int64_t B, char *err) {
  if (m->ws && m->ws_batch >= B) return 0;
  int64_t maxf = m->feat[0], total;
  for (int i = 0; i <= m->n; i++) if (m->feat[i] > maxf) maxf = m->feat[i];
  total = m->feat[0] + 2 * maxf;
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    if (l->kind != L_FLATTEN) total += m->feat[i + 1];
    if (l->kind == L_DENSE && l->act == ACT_SOFTMAX) total += m->feat[i + 1];
    if (l->kind == L_DROPOUT) total += m->feat[i];
  }
  float *ws = malloc((size_t)(total * B) * sizeof(float));
  if (!ws) {
    snprintf(err, NN_ERRLEN, "out of memory for a batch of %lld (%lld floats)", (long long)B,
             (long long)(total * B));
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
    Layer *l = m->layers[i];
    if (l->kind == L_FLATTEN) m->act[i + 1] = m->act[i];
    else { m->act[i + 1] = p; p += B * m->feat[i + 1]; }
    m->z[i] = NULL;
    m->mask[i] = NULL;
    if (l->kind == L_DENSE && l->act == ACT_SOFTMAX) { m->z[i] = p; p += B * m->feat[i + 1]; }
    if (l->kind == L_DROPOUT) { m->mask[i] = p; p += B * m->feat[i]; }
  }
  return 0;
}

int model_input_stage(const Model *m, float *scale, float *offset) {
  if (m->n > 0 && m->layers[0]->kind == L_RESCALING) {
    *scale = m->layers[0]->scale;
    *offset = m->layers[0]->offset;
    return 1;
  }
  *scale = 1.0f;
  *offset = 0.0f;
  return 0;
}

void model_forward(Model *m, int64_t B, int start) {
  for (int i = start; i < m->n; i++) {
    Layer *l = m->layers[i];
    float *in = m->act[i], *out = m->act[i + 1];
    int64_t F = m->feat[i], Fo = m->feat[i + 1];
    switch (l->kind) {
    case L_DENSE:
      if (l->act == ACT_SOFTMAX) {
        dense_forward(m->z[i], in, tensor_f32(l->W), tensor_f32(l->b), B, F, Fo);
        memcpy(out, m->z[i], (size_t)(B * Fo) * sizeof(float));
      } else {
        dense_forward(out, in, tensor_f32(l->W), tensor_f32(l->b), B, F, Fo);
      }
      activation_forward(out, l->act, B, Fo);
      break;
    case L_FLATTEN:
      break;
    case L_RESCALING:
      for (int64_t k = 0; k < B * F; k++) out[k] = in[k] * l->scale + l->offset;
      break;
    case L_DROPOUT:
      if (m->training && l->p > 0) dropout_forward(out, m->mask[i], in, B * F, l->p);
      else memcpy(out, in, (size_t)(B * F) * sizeof(float));
      break;
    default: /* activation layers */
      memcpy(out, in, (size_t)(B * F) * sizeof(float));
      activation_forward(out, l->act, B, F);
      break;
    }
  }
  m->last_batch = B;
}

float *model_backward(Model *m, int64_t B, float *g, int fused, int stop, int need_din) {
  float *cur = g, *other = (g == m->g1) ? m->g2 : m->g1, *t;
  for (int i = m->n - 1; i >= stop; i--) {
    Layer *l = m->layers[i];
    int64_t F = m->feat[i], Fo = m->feat[i + 1];
    int skip_act = fused && i == m->n - 1;
    int want_din = i > stop || need_din;
    switch (l->kind) {
    case L_DENSE:
      if (!skip_act) activation_backward(cur, m->act[i + 1], l->act, B, Fo);
      dense_backward(want_din ? other : NULL, tensor_f32(l->dW), tensor_f32(l->db), cur,
                     m->act[i], tensor_f32(l->W), B, F, Fo);
      if (want_din) { t = cur; cur = other; other = t; }
      break;
    case L_FLATTEN:
      break;
    case L_RESCALING: /* y = x·s + o, so dx = s·dy */
      for (int64_t k = 0; k < B * F; k++) cur[k] *= l->scale;
      break;
    case L_DROPOUT:
      if (m->training && l->p > 0)
        for (int64_t k = 0; k < B * F; k++) cur[k] *= m->mask[i][k];
      break;
    default:
      if (!skip_act) activation_backward(cur, m->act[i + 1], l->act, B, F);
      break;
    }
  }
  return cur;
}

int model_ends_in_softmax(const Model *m) {
  if (m->n == 0) return 0;
  const Layer *l = m->layers[m->n - 1];
  return (l->kind == L_DENSE && l->act == ACT_SOFTMAX) || l->kind == L_SOFTMAX;
}

int64_t model_param_count(const Model *m) {
  int64_t c = 0;
  for (int i = 0; i < m->n; i++) {
    const Layer *l = m->layers[i];
    if (l->kind == L_DENSE && l->W) c += tensor_numel(l->W) + tensor_numel(l->b);
  }
  return c;
}
