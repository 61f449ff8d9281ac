/* trainer.c — the training loop in C: each epoch shuffles the training rows
 * with the seeded generator, then per minibatch gathers (and rescales) the
 * rows, runs forward, the loss, backward and one optimizer step. No memory
 * is allocated per batch: the model's workspace is reserved beforehand.
 * What fit does around the epochs (validation split, history, the epoch
 * report, callbacks) is lua/nn.lua's. */
#include "nn.h"
#include "gemm.h"
#include "progress.h"
#include "interrupt.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* With SGD's momentum, the kinds that fold (Dense) write their gradients
 * straight into the velocity (optim_fold_beta): fills f with where, marks
 * those parameters in the set and returns f, or NULL when none folds.
 * Their gradient tensors are zeroed: after fit, layer.dW then holds no
 * stale gradient of some batch. */
static const GradFold *fold_plan(FitState *s, GradFold *f) {
  ParamSet *ps = s->ps;
  int any = 0;
  f->beta = optim_fold_beta(s->o);
  memset(f->into, 0, sizeof f->into);
  for (int i = 0; i < ps->n; i++) {
    ps->folded[i] = f->beta != 0.0f && s->m->layers[ps->layer[i]]->kind->folds;
    if (!ps->folded[i]) continue;
    f->into[ps->layer[i]][ps->tensor[i]] = ps->s1[i];
    memset(ps->g[i], 0, (size_t)ps->len[i] * sizeof(float));
    any = 1;
  }
  return any ? f : NULL;
}

int trainer_epoch(FitState *s, double *lossv, double *accv, double *seconds, char *err) {
  Model *m = s->m;
  int64_t B = s->batch, n = s->n_train, nb = (n + B - 1) / B, seen = 0, correct = 0;
  int stop = model_first_trained(m), fused, logits = loss_from_logits(s->loss, m, B);
  GradFold fold;
  const GradFold *fp = fold_plan(s, &fold);
  int stopped = 0, mode = m->training;  /* the mode is the caller's again afterwards */
  double total = 0, t0;
  Progress p;
  char info[192];

  gemm_prepare();  /* the library's kernels are written before the clock starts */
  t0 = progress_now();
  if (s->shuffle) rng_shuffle_i32(s->perm, n);
  if (s->label) {
    progress_start(&p, stdout, s->label, (double)nb);
    p.eta_word = s->words->eta;
  }
  m->training = 1;
  for (int64_t b = 0; b < nb; b++) {
    int64_t rows = (b + 1) * B <= n ? B : n - b * B;
    const int32_t *idx = s->perm + b * B;
    for (int64_t r = 0; r < rows; r++) s->ybatch[r] = s->y[idx[r]];
    model_forward(m, rows, model_gather(m, s->X, idx, 0, rows, 1), logits);
    double l = loss_model(s->loss, m, s->ybatch, rows, m->g1, &correct, &fused);
    if (!isfinite(l)) {
      m->training = mode;
      m->last_batch = 0;
      if (s->label) progress_done(&p, NULL);
      snprintf(err, NN_ERRLEN, "the loss became %s at epoch %d, batch %lld; try a smaller "
               "learning rate (lr is %g)", isnan(l) ? "NaN" : "infinite", s->epoch,
               (long long)b + 1, s->o->lr);
      return -1;
    }
    if (stop < m->n) {
      model_backward(m, rows, m->g1, fused, stop, 0, fp);
      optim_step(s->o, s->ps);
    }
    total += l * (double)rows;
    seen += rows;
    if (s->label) {
      double el = progress_now() - t0;
      snprintf(info, sizeof info, "%lld/%lld %s %.4f %s %.4f %.0f %s", (long long)b + 1,
               (long long)nb, s->words->loss, total / (double)seen, s->words->accuracy,
               (double)correct / (double)seen, el > 0 ? (double)seen / el : 0.0, s->words->samples_s);
      progress_update(&p, (double)(b + 1), info);
    }
    if (interrupt_pending()) { stopped = 1; break; }
  }
  m->training = mode;
  /* the last batch's activations (taken before the last update, the input
   * maybe feature-major, the output maybe without its softmax) are not a
   * forward that model:backward may follow */
  m->last_batch = 0;
  if (s->label) progress_done(&p, NULL);
  *lossv = seen ? total / (double)seen : NAN;
  *accv = seen ? (double)correct / (double)seen : NAN;
  *seconds = progress_now() - t0;
  return stopped;
}

/* The batch that runs n rows: no larger than n (a batch_size past the data
 * would only reserve memory for rows that do not exist), at least 1. */
static int64_t batch_for(int64_t batch, int64_t n) {
  return batch > n ? (n > 0 ? n : 1) : batch;
}

int trainer_evaluate(Model *m, LossKind loss, const Tensor *X, const int32_t *y, int64_t first,
                     int64_t n, int64_t batch, double *lossv, double *acc, char *err) {
  int fused;
  int64_t correct = 0;
  double total = 0;
  int mode = m->training;
  batch = batch_for(batch, n);
  if (model_reserve(m, batch, err)) return -1;
  m->training = 0;
  for (int64_t r0 = 0; r0 < n; r0 += batch) {
    int64_t rows = r0 + batch <= n ? batch : n - r0;
    model_forward(m, rows, model_gather(m, X, NULL, first + r0, rows, 0),
                  loss_from_logits(loss, m, rows));
    total += loss_model(loss, m, y + first + r0, rows, NULL, &correct, &fused) * (double)rows;
  }
  m->last_batch = 0;
  m->training = mode;
  *lossv = n ? total / (double)n : NAN;
  *acc = n ? (double)correct / (double)n : NAN;
  return 0;
}

/* Inference over the first n rows of X in batches of `batch`: after each
 * forward, the rows of every act[j] with a non-NULL dst[j] (j in 1..m->n;
 * act[j+1] leaves layer j, a fused first layer wrote act[1] in the gather)
 * are copied to dst[j]. The model's mode is restored afterwards. */
static int forward_batches(Model *m, const Tensor *X, int64_t n, int64_t batch,
                           float *const *dst, char *err) {
  int mode = m->training;
  batch = batch_for(batch, n);
  if (model_reserve(m, batch, err)) return -1;
  m->training = 0;
  for (int64_t r0 = 0; r0 < n; r0 += batch) {
    int64_t rows = r0 + batch <= n ? batch : n - r0;
    model_forward(m, rows, model_gather(m, X, NULL, r0, rows, 0), 0);
    for (int j = 1; j <= m->n; j++)
      if (dst[j])
        memcpy(dst[j] + r0 * m->feat[j], m->act[j], (size_t)(rows * m->feat[j]) * sizeof(float));
  }
  m->last_batch = 0;
  m->training = mode;
  return 0;
}

int trainer_predict(Model *m, const Tensor *X, int64_t n, int64_t batch, float *out, char *err) {
  float *dst[NN_MAXLAYERS + 1] = {0};
  dst[m->n] = out;
  return forward_batches(m, X, n, batch, dst, err);
}

int trainer_activations(Model *m, const Tensor *X, int64_t n, int64_t batch, float *const *outs,
                        char *err) {
  float *dst[NN_MAXLAYERS + 1] = {0};
  for (int i = 0; i < m->n; i++) dst[i + 1] = outs[i];
  return forward_batches(m, X, n, batch, dst, err);
}
