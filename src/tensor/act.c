/* act.c — the activation kernels behind tensor methods and nn layers (see
 * act.h). Plain loops over contiguous floats that the compiler vectorises. */
#pragma GCC optimize("O3") /* as ops.c, whose tensor methods call these */
#include "act.h"

#include <math.h>

void act_relu(float *y, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
}

void act_sigmoid(float *y, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    if (v >= 0) y[i] = 1.0f / (1.0f + expf(-v));
    else { float e = expf(v); y[i] = e / (1.0f + e); }
  }
}

void act_tanh(float *y, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

void act_softmax(float *x, int64_t n, int64_t stride) {
  float m = -INFINITY;
  double s = 0;
  for (int64_t j = 0; j < n; j++) if (x[j * stride] > m) m = x[j * stride];
  for (int64_t j = 0; j < n; j++) {
    float e = expf(x[j * stride] - m);
    x[j * stride] = e;
    s += e;
  }
  float inv = (float)(1.0 / s);
  for (int64_t j = 0; j < n; j++) x[j * stride] *= inv;
}
