/* activation.c — what several kinds of layer share: the activations a layer
 * applies to its output (forward through the kernels of tensor/act.c, and
 * their backward) and weight initialisation. */
#include "nn.h"

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
