/* act.h — the activation kernels, written once: tensor:relu(), sigmoid(),
 * tanh() and softmax() (ops.c) and the nn layers (src/nn/activation.c) both
 * call these. Contiguous floats, in place (y may equal x). */
#ifndef NNLAB_ACT_H
#define NNLAB_ACT_H

#include <stdint.h>

/* y = max(x, 0) */
void act_relu(float *y, const float *x, int64_t n);
/* y = 1 / (1 + e^-x), written e^x / (1 + e^x) for x < 0 so e^-x never overflows */
void act_sigmoid(float *y, const float *x, int64_t n);
/* y = tanh(x) */
void act_tanh(float *y, const float *x, int64_t n);
/* One softmax over n values x[0], x[stride], ..., in place:
 * y_j = e^(x_j - m) / Σ_k e^(x_k - m) with m the largest x (never overflows);
 * the sum is kept in double. */
void act_softmax(float *x, int64_t n, int64_t stride);

#endif
