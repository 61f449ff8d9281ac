/* fit_callbacks.h — what fit does between epochs besides reporting: the
 * ready-made learning-rate schedules (PyTorch's CosineAnnealingLR and StepLR,
 * stepped once per epoch), early stopping with Keras's EarlyStopping rule,
 * and the copy of a model's weights it restores. Knows nothing of Lua: the
 * binding (lua_fit.c) reads the options and calls a Lua schedule itself.
 * Epochs are 1-based here, as fit prints them ("Epoch 1/5"). */
#ifndef NNLAB_FIT_CALLBACKS_H
#define NNLAB_FIT_CALLBACKS_H

#include <stdint.h>

#include "nn.h"

typedef enum { SCHED_NONE, SCHED_FUNCTION, SCHED_COSINE, SCHED_STEP } ScheduleKind;

typedef struct Schedule {
  ScheduleKind kind;
  double lr0;      /* the optimizer's lr when fit starts */
  double min_lr;   /* cosine: the floor (PyTorch's eta_min) */
  int epochs;      /* cosine: the period (PyTorch's T_max), fit's epochs */
  int every;       /* step: epochs between decays (PyTorch's step_size) */
  double factor;   /* step: the decay (PyTorch's gamma) */
} Schedule;

/* The lr of epoch e (1-based) of a cosine or step schedule:
 *   cosine: min_lr + (lr0 - min_lr)·(1 + cos(π·(e-1)/epochs))/2
 *   step:   lr0 · factor^floor((e-1)/every) */
double schedule_lr(const Schedule *s, int epoch);

/* What early stopping watches; loss-like ones must fall, accuracies rise. */
typedef enum { MON_VAL_LOSS, MON_VAL_ACCURACY, MON_LOSS, MON_ACCURACY } Monitor;
extern const char *const MONITOR_NAMES[];  /* NULL-terminated, in enum order */

typedef struct EarlyStop {
  int on;
  Monitor monitor;
  int64_t patience;
  double min_delta;  /* >= 0 */
  int restore_best;
  double best;       /* the best value so far (+-inf before the first epoch) */
  int best_epoch;    /* 0 before the first improvement */
  int64_t wait;      /* epochs since the last improvement */
} EarlyStop;

/* Readies es for a new fit (keeps its options). */
void early_stop_start(EarlyStop *es);
/* Keras's rule after epoch e with the monitored value v: an improvement is
 * v < best - min_delta (losses) or v > best + min_delta (accuracies); it
 * resets the wait. Otherwise the wait grows and training stops once it
 * reaches patience (never after the first epoch). Returns EARLY_IMPROVED,
 * EARLY_WAIT or EARLY_STOP. NaN never improves. */
enum { EARLY_WAIT, EARLY_IMPROVED, EARLY_STOP };
int early_stop_update(EarlyStop *es, int epoch, double v);

/* Copies every declared tensor of every layer (trained weights and state
 * such as running statistics), in layer order, into buf, which holds
 * model_param_count(m) floats; weights_restore copies them back. */
void weights_save(const Model *m, float *buf);
void weights_restore(Model *m, const float *buf);

#endif
