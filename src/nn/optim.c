/* optim.c — parameter updates with PyTorch's semantics, so results can be
 * compared with torch.optim on the same numbers. */
#include "nn.h"
#include "parallel.h"

#include <math.h>

/* The update loops are compiled for the x86-64 baseline (SSE2, 4 floats
 * an instruction) and for AVX2 (8), and the processor picks when nnlab
 * starts (target_clones). The arithmetic per element is the same, each
 * product and sum rounded (no fused multiply-add: -ffp-contract=off), so
 * both give the same floats. */
#if defined(__x86_64__) && defined(__GNUC__)
#define UPDATE_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define UPDATE_LOOP
#endif

/* SGD (torch.optim.SGD, dampening 0), g = ∇ + λ·p:
 *   without momentum: p -= lr·g
 *   with momentum μ: v = μ·v + g (v starts at 0, so v₁ = g as in torch);
 *   p -= lr·v, or with Nesterov p -= lr·(g + μ·v). */
UPDATE_LOOP static void sgd_update(const Optim *o, float *restrict p, const float *restrict grad,
                       float *restrict v, int64_t n) {
  const float lr = (float)o->lr, mu = (float)o->momentum, wd = (float)o->weight_decay;
  /* One branch-free loop per case, so that each one vectorizes. */
  if (mu == 0.0f) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (grad[i] + wd * p[i]);
  } else if (!o->nesterov) {
    for (int64_t i = 0; i < n; i++) {
      v[i] = mu * v[i] + (grad[i] + wd * p[i]);
      p[i] -= lr * v[i];
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      float g = grad[i] + wd * p[i];
      v[i] = mu * v[i] + g;
      p[i] -= lr * (g + mu * v[i]);
    }
  }
}

/* Adam (torch.optim.Adam): g = ∇ + λ·p; m = β1·m + (1-β1)·g;
 * v = β2·v + (1-β2)·g²; p -= lr · (m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + ε). */
UPDATE_LOOP static void adam_update(const Optim *o, float *restrict p, const float *restrict grad,
                        float *restrict m, float *restrict v, int64_t n) {
  double bc1 = 1.0 - pow(o->beta1, (double)o->t), bc2 = 1.0 - pow(o->beta2, (double)o->t);
  float b1 = (float)o->beta1, b2 = (float)o->beta2, wd = (float)o->weight_decay;
  float step = (float)(o->lr / bc1), sbc2 = (float)sqrt(bc2), eps = (float)o->eps;
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i] + wd * p[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    p[i] -= step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
  }
}

/* SGD with momentum on a velocity that already holds μ·v + ∇, the layer
 * having folded the gradient into it (GradFold): the weight decay is
 * added, v += λ·p, and p -= lr·v: sgd_update's step but for rounding (the
 * sums are made in another order). The gradient array is then neither
 * written nor read, which took the update of the course's 3072×64 weights
 * from about 0.016 to 0.011 s an epoch on a 2-core EPYC. Nesterov's step
 * needs ∇ itself, and Adam's state is not a sum of gradients: neither
 * folds. */
UPDATE_LOOP static void sgd_update_folded(const Optim *o, float *restrict p, float *restrict v, int64_t n) {
  const float lr = (float)o->lr, wd = (float)o->weight_decay;
  if (wd == 0.0f) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * v[i];
  } else {
    for (int64_t i = 0; i < n; i++) {
      v[i] += wd * p[i];
      p[i] -= lr * v[i];
    }
  }
}

float optim_fold_beta(const Optim *o) {
  return o->kind == OPT_SGD && o->momentum != 0.0 && !o->nesterov ? (float)o->momentum : 0.0f;
}

typedef struct {
  const Optim *o;
  const ParamSet *ps;
  int i;
} Update;

static void update_range(void *ctx, int part, int64_t lo, int64_t hi) {
  (void)part;
  const Update *u = ctx;
  const ParamSet *ps = u->ps;
  int i = u->i;
  float *s2 = ps->s2[i] ? ps->s2[i] + lo : NULL, *s1 = ps->s1[i] ? ps->s1[i] + lo : NULL;
  if (u->o->kind == OPT_ADAM) adam_update(u->o, ps->p[i] + lo, ps->g[i] + lo, s1, s2, hi - lo);
  else if (ps->folded[i]) sgd_update_folded(u->o, ps->p[i] + lo, s1, hi - lo);
  else sgd_update(u->o, ps->p[i] + lo, ps->g[i] + lo, s1, hi - lo);
}

/* Large tensors are updated by all threads at once (a memory-bound pass:
 * the course's 3072×64 weights took 12% of an epoch on one thread); each
 * element's arithmetic is the same whichever thread does it. */
void optim_step(Optim *o, const ParamSet *ps) {
  o->t++;
  for (int i = 0; i < ps->n; i++)
    parallel_ranges(ps->len[i], 16384, 16, update_range, &(Update){o, ps, i});
}
