/* activation.c — what several kinds of layer share: the activations a layer
 * applies to its output (forward through the kernels of tensor/act.c, and
 * their backward), weight initialisation, and the minibatch gather. */
#include "nn.h"
#include "parallel.h"

#include "act.h"
#include "rng.h"

#include <math.h>
#include <string.h>

const char *const ACTIVATION_NAMES[] = {"linear", "relu", "sigmoid", "tanh", "softmax", NULL};
const char *const INIT_NAMES[] = {"glorot_uniform", "he_uniform", "lecun_uniform", "torch", NULL};

/* relu(x) = max(x, 0); sigmoid(x) = 1/(1+e^-x); tanh; softmax per row with
 * the row maximum subtracted first so exp never overflows. */
void activation_forward(float *x, Activation a, int64_t B, int64_t F) {
  activation_apply(x, x, a, B, F);
}

void activation_apply(float *y, const float *x, Activation a, int64_t B, int64_t F) {
  switch (a) {
  case ACT_RELU: act_relu(y, x, B * F); break;
  case ACT_SIGMOID: act_sigmoid(y, x, B * F); break;
  case ACT_TANH: act_tanh(y, x, B * F); break;
  case ACT_SOFTMAX:
    if (y != x) memcpy(y, x, (size_t)(B * F) * sizeof(float));
    for (int64_t r = 0; r < B; r++) act_softmax(y + r * F, F, 1);
    break;
  default:
    if (y != x) memcpy(y, x, (size_t)(B * F) * sizeof(float));
    break;
  }
}

/* With y = act(x) and g = dL/dy (overwritten by dL/dx):
 *   relu: g·[y > 0]   sigmoid: g·y(1-y)   tanh: g·(1-y²)
 *   softmax: dx_j = y_j (g_j - Σ_k g_k y_k)   (the row's Jacobian). */
void activation_backward(float *g, const float *y, Activation a, int64_t B, int64_t F) {
  activation_grad(g, g, y, a, B, F);
}

void activation_grad(float *dx, const float *dy, const float *y, Activation a, int64_t B,
                     int64_t F) {
  int64_t n = B * F;
  switch (a) {
  case ACT_RELU:
    for (int64_t i = 0; i < n; i++) {
      float d = dy[i];  /* read unconditionally, so that the select vectorizes */
      dx[i] = y[i] > 0 ? d : 0.0f;
    }
    break;
  case ACT_SIGMOID:
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
    break;
  case ACT_TANH:
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
    break;
  case ACT_SOFTMAX:
    for (int64_t r = 0; r < B; r++) {
      float *gr = dx + r * F;
      const float *dr = dy + r * F, *yr = y + r * F;
      double dot = 0;
      for (int64_t j = 0; j < F; j++) dot += (double)dr[j] * yr[j];
      for (int64_t j = 0; j < F; j++) gr[j] = yr[j] * (dr[j] - (float)dot);
    }
    break;
  default:
    if (dx != dy) memcpy(dx, dy, (size_t)n * sizeof(float));
    break;
  }
}

/* Every scheme draws W ~ U(-a, a); they differ in a:
 *   glorot_uniform  sqrt(6 / (fan_in + fan_out))  keeps the variance of the
 *                   activations and of the gradients about constant;
 *   he_uniform      sqrt(6 / fan_in)              for ReLU layers;
 *   lecun_uniform   sqrt(3 / fan_in);
 *   torch           1 / sqrt(fan_in), and b ~ U(-a, a) too (Torch7's and
 *                   PyTorch's nn.Linear: kaiming_uniform with a = sqrt(5)). */
void init_weights(float *W, float *b, Init init, int64_t fan_in, int64_t fan_out) {
  init_weights_fans(W, fan_in * fan_out, b, fan_out, init, fan_in, fan_out);
}

void init_weights_fans(float *W, int64_t nW, float *b, int64_t nb, Init init, int64_t fan_in,
                       int64_t fan_out) {
  double n = fan_in > 0 ? (double)fan_in : 1.0, a;  /* plans refuse 0 inputs */
  switch (init) {
  case INIT_HE_UNIFORM: a = sqrt(6.0 / n); break;
  case INIT_LECUN_UNIFORM: a = sqrt(3.0 / n); break;
  case INIT_TORCH: a = 1.0 / sqrt(n); break;
  default: a = sqrt(6.0 / (n + (double)fan_out)); break;
  }
  for (int64_t i = 0; i < nW; i++) W[i] = (float)((2.0 * rng_uniform() - 1.0) * a);
  for (int64_t j = 0; j < nb; j++)
    b[j] = init == INIT_TORCH ? (float)((2.0 * rng_uniform() - 1.0) * a) : 0.0f;
}

typedef struct {
  float *out;
  const Tensor *X;
  const int32_t *idx;
  int64_t first, B, F;
  float scale, offset;
} Gather;

/* The rows of a shuffled batch are scattered over the dataset (CIFAR-10's
 * is 150 MB), so each one starts with cache misses that the hardware
 * prefetcher cannot foresee; asking for the row two ahead while converting
 * this one took a fifth off the gather (bench_nn.sh, 2-core EPYC). */
#define GATHER_AHEAD 2

/* Columns lo..hi of every row of the batch. */
static void gather_cols(void *ctx, int part, int64_t lo, int64_t hi) {
  (void)part;
  const Gather *g = ctx;
  const Tensor *X = g->X;
  const int64_t F = g->F;
  const float scale = g->scale, offset = g->offset;
  for (int64_t r = 0; r < g->B; r++) {
    int64_t row = g->idx ? g->idx[r] : g->first + r;
    float *restrict o = g->out + r * F;
    switch (X->dtype) {
    case DT_UINT8: {
      const uint8_t *restrict s = tensor_u8(X) + row * F;
      if (r + GATHER_AHEAD < g->B) {
        int64_t next = g->idx ? g->idx[r + GATHER_AHEAD] : g->first + r + GATHER_AHEAD;
        for (int64_t j = lo; j < hi; j += 64) __builtin_prefetch(tensor_u8(X) + next * F + j);
      }
      for (int64_t j = lo; j < hi; j++) o[j] = (float)s[j] * scale + offset;
      break;
    }
    case DT_INT32: {
      const int32_t *s = tensor_i32(X) + row * F;
      for (int64_t j = lo; j < hi; j++) o[j] = (float)s[j] * scale + offset;
      break;
    }
    default: {
      const float *s = tensor_f32(X) + row * F;
      for (int64_t j = lo; j < hi; j++) o[j] = s[j] * scale + offset;
      break;
    }
    }
  }
}

/* Minibatch gather fused with Rescaling: the dataset stays in its own dtype
 * (uint8 for images) and only B rows at a time become floats. A large batch
 * (CIFAR-10's 64×3072) is shared among the threads by columns, the same
 * columns each thread multiplies in the first Dense layer (gemm.c splits
 * its product along them), so the batch stays in that thread's cache. */
void gather_rows(float *restrict out, const Tensor *X, const int32_t *idx, int64_t first,
                 int64_t B, int64_t F, float scale, float offset) {
  Gather g = {out, X, idx, first, B, F, scale, offset};
  if (B * F < 16384) gather_cols(&g, 0, 0, F);
  else parallel_ranges(F, 0, 16, gather_cols, &g);
}
