/* layers.c — forward and backward kernels of every layer, side by side with
 * the math they compute. Shapes: B rows (samples) by F features, row-major.
 * Matrix products go through gemm_f32 with transpose flags (no copies). */
#include "nn.h"
#include "rng.h"

#include "gemm.h"
#include <math.h>
#include <string.h>

static const char *ACT_NAMES[ACT_N] = {"linear", "relu", "sigmoid", "tanh", "softmax"};
static const char *KIND_NAMES[L_NKINDS] = {"Dense", "Flatten", "Rescaling", "ReLU",
                                           "Sigmoid", "Tanh", "Softmax", "Dropout"};

const char *activation_name(Activation a) { return ACT_NAMES[a]; }
const char *layer_kind_name(LayerKind k) { return KIND_NAMES[k]; }

/* The position of name in names[0..n), or -1. */
static int name_index(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

int activation_from_name(const char *name) { return name_index(ACT_NAMES, ACT_N, name); }

static const char *INIT_NAMES[INIT_N] = {"glorot_uniform", "he_uniform", "lecun_uniform", "torch"};

const char *init_name(Init i) { return INIT_NAMES[i]; }

int init_from_name(const char *name) { return name_index(INIT_NAMES, INIT_N, name); }

/* Every scheme draws W ~ U(-a, a); they differ in a:
 *   glorot_uniform  sqrt(6 / (n_in + units))  keeps the variance of the
 *                   activations and of the gradients about constant;
 *   he_uniform      sqrt(6 / n_in)            for ReLU layers;
 *   lecun_uniform   sqrt(3 / n_in);
 *   torch           1 / sqrt(n_in), and b ~ U(-a, a) too (Torch7's and
 *                   PyTorch's nn.Linear: kaiming_uniform with a = sqrt(5)). */
void dense_init(Layer *l, int64_t n_in) {
  double n = n_in > 0 ? (double)n_in : 1.0, a;  /* model_plan refuses 0 inputs */
  switch (l->init) {
  case INIT_HE_UNIFORM: a = sqrt(6.0 / n); break;
  case INIT_LECUN_UNIFORM: a = sqrt(3.0 / n); break;
  case INIT_TORCH: a = 1.0 / sqrt(n); break;
  default: a = sqrt(6.0 / (n + (double)l->units)); break;
  }
  float *w = tensor_f32(l->W), *b = tensor_f32(l->b);
  for (int64_t i = 0; i < n_in * l->units; i++) w[i] = (float)((2.0 * rng_uniform() - 1.0) * a);
  for (int64_t j = 0; j < l->units; j++)
    b[j] = l->init == INIT_TORCH ? (float)((2.0 * rng_uniform() - 1.0) * a) : 0.0f;
}

/* Minibatch gather fused with Rescaling: the dataset stays in its own dtype
 * (uint8 for images) and only B rows at a time become floats. */
void gather_rows(float *restrict out, const Tensor *X, const int32_t *idx, int64_t first,
                 int64_t B, int64_t F, float scale, float offset) {
  for (int64_t r = 0; r < B; r++) {
    int64_t row = idx ? idx[r] : first + r;
    float *restrict o = out + r * F;
    switch (X->dtype) {
    case DT_UINT8: {
      const uint8_t *restrict s = tensor_u8(X) + row * F;
      for (int64_t j = 0; j < F; j++) o[j] = (float)s[j] * scale + offset;
      break;
    }
    case DT_INT32: {
      const int32_t *s = tensor_i32(X) + row * F;
      for (int64_t j = 0; j < F; j++) o[j] = (float)s[j] * scale + offset;
      break;
    }
    default: {
      const float *s = tensor_f32(X) + row * F;
      for (int64_t j = 0; j < F; j++) o[j] = s[j] * scale + offset;
      break;
    }
    }
  }
}

/* Dense: out = in·W + b, with in (B x n_in), W (n_in x n_out), b (n_out). */
void dense_forward(float *out, const float *in, const float *W, const float *b, int64_t B,
                   int64_t n_in, int64_t n_out) {
  for (int64_t r = 0; r < B; r++) memcpy(out + r * n_out, b, (size_t)n_out * sizeof(float));
  gemm_f32(0, 0, B, n_out, n_in, 1.0f, in, n_in, W, n_out, 1.0f, out, n_out);
}

/* Given dz = dL/d(out) (B x n_out):
 *   dW = inᵀ·dz   (n_in x n_out)     db = Σ_rows dz   (n_out)
 *   din = dz·Wᵀ   (B x n_in), skipped when din is NULL (first layer). */
void dense_backward(float *din, float *dW, float *db, const float *dz, const float *in,
                    const float *W, int64_t B, int64_t n_in, int64_t n_out) {
  gemm_f32(1, 0, n_in, n_out, B, 1.0f, in, n_in, dz, n_out, 0.0f, dW, n_out);
  memset(db, 0, (size_t)n_out * sizeof(float));
  for (int64_t r = 0; r < B; r++) {
    const float *d = dz + r * n_out;
    for (int64_t j = 0; j < n_out; j++) db[j] += d[j];
  }
  if (din)
    gemm_f32(0, 1, B, n_in, n_out, 1.0f, dz, n_out, W, n_out, 0.0f, din, n_in);
}

/* relu(x) = max(x, 0); sigmoid(x) = 1/(1+e^-x); tanh; softmax per row with
 * the row maximum subtracted first so exp never overflows. */
void activation_forward(float *x, Activation a, int64_t B, int64_t F) {
  int64_t n = B * F;
  switch (a) {
  case ACT_RELU:
    for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0.0f;
    break;
  case ACT_SIGMOID:
    for (int64_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
    break;
  case ACT_TANH:
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
    break;
  case ACT_SOFTMAX:
    for (int64_t r = 0; r < B; r++) {
      float *row = x + r * F, mx = row[0];
      double s = 0;
      for (int64_t j = 1; j < F; j++) if (row[j] > mx) mx = row[j];
      for (int64_t j = 0; j < F; j++) { row[j] = expf(row[j] - mx); s += row[j]; }
      float inv = (float)(1.0 / s);
      for (int64_t j = 0; j < F; j++) row[j] *= inv;
    }
    break;
  default:
    break;
  }
}

/* With y = act(x) and g = dL/dy (overwritten by dL/dx):
 *   relu: g·[y > 0]   sigmoid: g·y(1-y)   tanh: g·(1-y²)
 *   softmax: dx_j = y_j (g_j - Σ_k g_k y_k)   (the row's Jacobian). */
void activation_backward(float *g, const float *y, Activation a, int64_t B, int64_t F) {
  int64_t n = B * F;
  switch (a) {
  case ACT_RELU:
    for (int64_t i = 0; i < n; i++) g[i] = y[i] > 0 ? g[i] : 0.0f;
    break;
  case ACT_SIGMOID:
    for (int64_t i = 0; i < n; i++) g[i] *= y[i] * (1.0f - y[i]);
    break;
  case ACT_TANH:
    for (int64_t i = 0; i < n; i++) g[i] *= 1.0f - y[i] * y[i];
    break;
  case ACT_SOFTMAX:
    for (int64_t r = 0; r < B; r++) {
      float *gr = g + r * F;
      const float *yr = y + r * F;
      double dot = 0;
      for (int64_t j = 0; j < F; j++) dot += (double)gr[j] * yr[j];
      for (int64_t j = 0; j < F; j++) gr[j] = yr[j] * (gr[j] - (float)dot);
    }
    break;
  default:
    break;
  }
}

/* Inverted dropout: kept units are scaled by 1/(1-p) so the expected
 * activation matches inference, where the layer is the identity. */
void dropout_forward(float *out, float *mask, const float *in, int64_t n, float p) {
  float keep = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < n; i++) {
    mask[i] = rng_uniform() < p ? 0.0f : keep;
    out[i] = in[i] * mask[i];
  }
}
