/* batchnorm.h — the kernels behind nn.BatchNormalization over the last axis
 * (features after Dense, channels after Conv2D): x is seen as M rows of C
 * values, M = batch (× height × width). Keras's conventions: the running
 * statistics move as r = momentum·r + (1 − momentum)·batch (momentum 0.99),
 * the running variance takes the batch's biased variance, eps 0.001. Knows no
 * Lua and allocates nothing: training keeps the batch mean and 1/σ in a
 * scratch buffer of batchnorm_scratch_size() bytes for the backward. */
#ifndef NNLAB_BATCHNORM_H
#define NNLAB_BATCHNORM_H

#include <stddef.h>
#include <stdint.h>

size_t batchnorm_scratch_size(int64_t C);

/* Training (batch statistics):
 *   μ_c = (1/M) Σ_m x[m,c]     σ²_c = (1/M) Σ_m (x[m,c] − μ_c)²
 *   x̂ = (x − μ)/√(σ² + eps)    y = γ·x̂ + β
 *   running_mean = momentum·running_mean + (1 − momentum)·μ
 *   running_var  = momentum·running_var  + (1 − momentum)·σ²
 * μ and 1/√(σ² + eps) stay in scratch for batchnorm_backward.
 * Inference (training = 0): y = γ·(x − running_mean)/√(running_var + eps) + β;
 * the running statistics are only read, and they go to scratch as μ and
 * 1/√(running_var + eps). y, x are M×C; gamma, beta, running_mean, running_var are C.
 * y may be x (in place). */
void batchnorm_forward(float *y, void *scratch, float *running_mean, float *running_var,
                       const float *x, const float *gamma, const float *beta, int64_t M, int64_t C,
                       int training, float momentum, float eps);

/* Given dy = dL/dy (M×C), x the forward's input and the scratch it left:
 *   dβ_c = Σ_m dy     dγ_c = Σ_m dy·x̂
 *   training:  dx = (γ/√(σ² + eps)) · (dy − dβ/M − x̂·dγ/M)  (μ and σ² depend on x)
 *   inference: dx = (γ/√(running_var + eps)) · dy            (constants)
 * dgamma and dbeta are overwritten, not accumulated; dx is skipped when NULL
 * and may be dy (in place). */
void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const void *scratch,
                        const float *dy, const float *x, const float *gamma, int64_t M, int64_t C,
                        int training);

#endif
