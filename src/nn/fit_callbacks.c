/* fit_callbacks.c — learning-rate schedules, early stopping and the weight
 * copy behind restore_best (fit_callbacks.h). The schedules give the same
 * numbers as PyTorch's schedulers stepped once per epoch; early stopping is
 * Keras's EarlyStopping with mode "auto". */
#include "fit_callbacks.h"

#include <math.h>
#include <string.h>

const char *const MONITOR_NAMES[] = {"val_loss", "val_accuracy", "loss", "accuracy", NULL};

double schedule_lr(const Schedule *s, int epoch) {
  const double pi = 3.14159265358979323846;
  switch (s->kind) {
  case SCHED_COSINE:
    return s->min_lr + (s->lr0 - s->min_lr) * (1 + cos(pi * (double)(epoch - 1) / (double)s->epochs)) / 2;
  case SCHED_STEP:
    return s->lr0 * pow(s->factor, (double)((epoch - 1) / s->every));
  default:
    return s->lr0;
  }
}

static int maximizes(Monitor m) { return m == MON_VAL_ACCURACY || m == MON_ACCURACY; }

void early_stop_start(EarlyStop *es) {
  es->best = maximizes(es->monitor) ? -INFINITY : INFINITY;
  es->best_epoch = 0;
  es->wait = 0;
}

int early_stop_update(EarlyStop *es, int epoch, double v) {
  int better = maximizes(es->monitor) ? v - es->min_delta > es->best : v + es->min_delta < es->best;
  es->wait++;
  if (better) {
    es->best = v;
    es->best_epoch = epoch;
    es->wait = 0;
    return EARLY_IMPROVED;
  }
  return es->wait >= es->patience && epoch > 1 ? EARLY_STOP : EARLY_WAIT;
}

void weights_save(const Model *m, float *buf) {
  for (int i = 0; i < m->n; i++) {
    const Layer *l = m->layers[i];
    for (int k = 0; k < l->kind->ntensors; k++) {
      if (!l->t[k]) continue;
      int64_t n = tensor_numel(l->t[k]);
      memcpy(buf, tensor_f32(l->t[k]), (size_t)n * sizeof(float));
      buf += n;
    }
  }
}

void weights_restore(Model *m, const float *buf) {
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    for (int k = 0; k < l->kind->ntensors; k++) {
      if (!l->t[k]) continue;
      int64_t n = tensor_numel(l->t[k]);
      memcpy(tensor_f32(l->t[k]), buf, (size_t)n * sizeof(float));
      buf += n;
    }
  }
}
