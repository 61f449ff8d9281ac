/* loss.c — cross-entropy (from logits, fused with softmax, or from
 * probabilities) and mean squared error, each returning the batch mean and
 * its gradient, and counting correct predictions for accuracy. */
#include "nn.h"

#include <math.h>

static int64_t argmax_row(const float *r, int64_t K) {
  int64_t best = 0;
  for (int64_t j = 1; j < K; j++) if (r[j] > r[best]) best = j;
  return best;
}

int64_t labels_check(const int32_t *y, int64_t n, int64_t K) {
  for (int64_t i = 0; i < n; i++)
    if (y[i] < 1 || y[i] > K) return i;
  return -1;
}

/* L = (1/B) Σ_r [log Σ_j e^{z_rj} - z_r,y], computed as m + log Σ e^{z-m}
 * with m the row maximum (stable for any logits).
 * dL/dz = (softmax(z) - onehot(y)) / B. The exponentials of the first
 * CE_KEEP classes are kept for the gradient rather than computed twice. */
#define CE_KEEP 64
double loss_ce_logits(float *grad, const float *z, const int32_t *y, int64_t B, int64_t K,
                      int64_t *correct) {
  double total = 0;
  for (int64_t r = 0; r < B; r++) {
    const float *zr = z + r * K;
    int64_t t = y[r] - 1, am = argmax_row(zr, K);
    float mx = zr[am];
    double s = 0, e[CE_KEEP];
    for (int64_t j = 0; j < K; j++) {
      double ej = exp((double)zr[j] - mx);
      if (j < CE_KEEP) e[j] = ej;
      s += ej;
    }
    total += mx + log(s) - zr[t];
    if (am == t) (*correct)++;
    if (grad) {
      float *gr = grad + r * K;
      for (int64_t j = 0; j < K; j++) {
        double ej = j < CE_KEEP ? e[j] : exp((double)zr[j] - mx);
        gr[j] = (float)((ej / s - (j == t ? 1.0 : 0.0)) / (double)B);
      }
    }
  }
  return total / (double)B;
}

/* From probabilities p (a softmax output): L = -(1/B) Σ_r log max(p_r,y, ε)
 * and dL/dp_r,y = -1 / (B·max(p_r,y, ε)), zero elsewhere; ε = 1e-7 as in
 * Keras keeps log(0) finite. */
double loss_ce_probs(float *grad, const float *p, const int32_t *y, int64_t B, int64_t K,
                     int64_t *correct) {
  const double eps = 1e-7;
  double total = 0;
  for (int64_t r = 0; r < B; r++) {
    const float *pr = p + r * K;
    int64_t t = y[r] - 1;
    double pt = pr[t] > eps ? pr[t] : eps;
    total -= log(pt);
    if (argmax_row(pr, K) == t) (*correct)++;
    if (grad) {
      float *gr = grad + r * K;
      for (int64_t j = 0; j < K; j++) gr[j] = 0.0f;
      gr[t] = (float)(-1.0 / ((double)B * pt));
    }
  }
  return total / (double)B;
}

/* L = (1/(B·K)) Σ (o - t)², dL/do = 2(o - t)/(B·K); t is target or
 * one-hot(y). */
double loss_mse(float *grad, const float *o, const float *target, const int32_t *y, int64_t B,
                int64_t K, int64_t *correct) {
  double total = 0, n = (double)B * (double)K;
  for (int64_t r = 0; r < B; r++) {
    const float *orow = o + r * K;
    int64_t am = argmax_row(orow, K);
    if (target) {
      if (am == argmax_row(target + r * K, K)) (*correct)++;
    } else if (am == y[r] - 1) {
      (*correct)++;
    }
    for (int64_t j = 0; j < K; j++) {
      double t = target ? target[r * K + j] : (j == y[r] - 1 ? 1.0 : 0.0);
      double d = orow[j] - t;
      total += d * d;
      if (grad) grad[r * K + j] = (float)(2.0 * d / n);
    }
  }
  return total / n;
}

/* The loss owns the fusion of softmax and cross-entropy: when the last
 * layer's output is a softmax, the loss is computed from its logits (exact
 * for any logits) and its gradient, (p - onehot)/B, is dL/dz, so that
 * layer's backward skips the softmax Jacobian. Otherwise the outputs are
 * taken as logits. */
int loss_from_logits(LossKind loss, const Model *m, int64_t B) {
  return loss != LOSS_MSE && model_logits(m, B) != NULL;
}

double loss_model(LossKind loss, const Model *m, const int32_t *y, int64_t B, float *grad,
                  int64_t *correct, int *at_logits) {
  int64_t K = m->feat[m->n];
  *at_logits = loss_from_logits(loss, m, B);
  if (loss == LOSS_MSE) return loss_mse(grad, m->act[m->n], NULL, y, B, K, correct);
  return loss_ce_logits(grad, *at_logits ? model_logits(m, B) : m->act[m->n], y, B, K, correct);
}
