/* lua_fit.c — model:_fit, the policy of fit in one place: its options, the
 * validation rows (the last ones of X, taken before shuffling, as Keras
 * does, or validation_data), the history, the epoch report, Ctrl-C, the
 * learning-rate schedule, early stopping and the on_epoch callback. Between
 * epochs no Lua code runs but on_epoch and a schedule function (no
 * metamethods either), so a Ctrl-C is seen by the next epoch, which stops
 * after one batch and returns the history. Each epoch's minibatch loop is
 * trainer.c's; the schedules' and early stopping's arithmetic is
 * fit_callbacks.c's; this file calls them once per epoch. */
#include "fit_callbacks.h"
#include "lua_nn.h"
#include "lua_optim.h"
#include "lua_interrupt.h"
#include "lua_tensor.h"
#include "lua_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* What one epoch gave: the training figures and, when there is validation
 * data, the validation ones. */
typedef struct EpochLogs {
  double loss, accuracy, seconds, val_loss, val_accuracy, lr;
  int has_val;
} EpochLogs;

/* The words of fit's lines, in the language of the lesson: set by nn.lua
 * before each fit from lua/i18n.lua's fit_words; English until then. Plain
 * words, never format strings. */
static FitWords g_words = {"Epoch", "loss", "accuracy", "val_loss", "val_accuracy", "samples/s", "ETA",
                           "stopped by Ctrl-C; complete epochs in the history:"};

/* _nn.fit_words{epoch=, loss=, ...}: any word missing keeps its value. */
int nn_fit_words(lua_State *L) {
  static const char *const keys[] = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                     "samples_s", "eta", "stopped"};
  FitWords *w = &g_words;
  char *dst[] = {w->epoch, w->loss, w->accuracy, w->val_loss, w->val_accuracy,
                 w->samples_s, w->eta, w->stopped};
  size_t len[] = {sizeof w->epoch, sizeof w->loss, sizeof w->accuracy, sizeof w->val_loss,
                  sizeof w->val_accuracy, sizeof w->samples_s, sizeof w->eta, sizeof w->stopped};
  luaL_checktype(L, 1, LUA_TTABLE);
  for (int k = 0; k < 8; k++) {
    lua_getfield(L, 1, keys[k]);
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(dst[k], len[k], "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

/* The line printed after each epoch (verbose = 1). */
static void epoch_report(int epoch, int epochs, const EpochLogs *g) {
  const FitWords *w = &g_words;
  if (g->has_val)
    printf("%s %d/%d - %.1fs - %s: %.4f - %s: %.4f - %s: %.4f - %s: %.4f\n", w->epoch, epoch, epochs,
           g->seconds, w->loss, g->loss, w->accuracy, g->accuracy, w->val_loss, g->val_loss,
           w->val_accuracy, g->val_accuracy);
  else
    printf("%s %d/%d - %.1fs - %s: %.4f - %s: %.4f\n", w->epoch, epoch, epochs, g->seconds, w->loss,
           g->loss, w->accuracy, g->accuracy);
  fflush(stdout);
}

/* The line printed when Ctrl-C stops epoch `epoch` (verbose = 1). */
static void stopped_report(int epoch, int epochs) {
  printf("%s %d/%d: %s %d\n", g_words.epoch, epoch, epochs, g_words.stopped, epoch - 1);
}

/* The progress bar's label during an epoch. */
static void progress_label(char *buf, size_t len, int epoch, int epochs) {
  snprintf(buf, len, "%s %d/%d", g_words.epoch, epoch, epochs);
}

static void set_num(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void append(lua_State *L, int hist, const char *k, double v) {
  lua_getfield(L, hist, k);
  lua_pushnumber(L, v);
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  lua_pop(L, 1);
}

/* history.loss[e] = ..., and so on. */
static void record(lua_State *L, int hist, const EpochLogs *g) {
  append(L, hist, "loss", g->loss);
  append(L, hist, "accuracy", g->accuracy);
  append(L, hist, "seconds", g->seconds);
  append(L, hist, "lr", g->lr);
  if (g->has_val) {
    append(L, hist, "val_loss", g->val_loss);
    append(L, hist, "val_accuracy", g->val_accuracy);
  }
}

/* on_epoch(epoch, logs) at index fn: 1 when it returned false (stop). */
static int call_on_epoch(lua_State *L, int fn, int epoch, const EpochLogs *g) {
  lua_pushvalue(L, fn);
  lua_pushinteger(L, epoch);
  lua_newtable(L);
  set_num(L, "loss", g->loss);
  set_num(L, "accuracy", g->accuracy);
  set_num(L, "seconds", g->seconds);
  set_num(L, "lr", g->lr);
  if (g->has_val) { set_num(L, "val_loss", g->val_loss); set_num(L, "val_accuracy", g->val_accuracy); }
  lua_call(L, 2, 1);
  int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  return stop;
}

/* fit's options, read from the table at index 4. */
typedef struct FitOptions {
  lua_Integer epochs, batch, verbose;
  double split;
  int shuffle;
  int on_epoch, val_X, val_y, sched_fn;  /* stack indices, 0 when absent */
  Schedule sched;
  EarlyStop es;
} FitOptions;

static const char *const FIT_KEYS[] = {"batch_size", "early_stopping", "epochs", "lr_schedule",
                                       "on_epoch", "shuffle", "validation_data",
                                       "validation_split", "verbose", NULL};

/* opts[k] as an integer: 3.0 is accepted as 3; 2.5, "3" and 2^70 are not. */
static lua_Integer int_option(lua_State *L, int t, const char *k, lua_Integer dflt) {
  int ok = 0;
  lua_Integer v = dflt;
  if (lua_getfield(L, t, k) == LUA_TNIL) ok = 1;
  else if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tointegerx(L, -1, &ok);
  if (!ok)
    lu_error(L, "fit", "%s must be an integer, got %s", k,
             lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* Every key of the table at t is one of keys (NULL-terminated). */
static void check_table_keys(lua_State *L, int t, const char *what, const char *const *keys) {
  char names[128] = "";
  for (int i = 0; keys[i]; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", keys[i]);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int known = 0;
    lua_pop(L, 1);
    for (int i = 0; keys[i] && lua_type(L, -1) == LUA_TSTRING; i++)
      known |= strcmp(lua_tostring(L, -1), keys[i]) == 0;
    if (!known) lu_error(L, "fit", "%s: unknown option '%s' (expected %s)", what, luaL_tolstring(L, -1, NULL), names);
  }
}

/* t[k] as a finite number >= 0, or dflt when absent. */
static double nonneg_option(lua_State *L, int t, const char *what, const char *k, double dflt) {
  int ty = lua_getfield(L, t, k);
  double v = ty == LUA_TNUMBER ? lua_tonumber(L, -1) : dflt;
  if (ty != LUA_TNIL && (ty != LUA_TNUMBER || !(v >= 0 && v < HUGE_VAL)))
    lu_error(L, "fit", "%s: %s must be a finite number >= 0, got %s", what, k,
             ty == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

#define SCHEDULE_FORMS "\"cosine\", {cosine=true, min_lr=0}, {step=N, factor=0.1} or function(epoch, lr)"

/* lr_schedule = function(epoch, lr) | "cosine" | {cosine=true, min_lr=}
 * | {step=N, factor=}: a function stays on the stack (o->sched_fn). */
static void read_schedule(lua_State *L, FitOptions *o) {
  static const char *const keys[] = {"cosine", "factor", "min_lr", "step", NULL};
  Schedule *s = &o->sched;
  memset(s, 0, sizeof *s);
  o->sched_fn = 0;
  int t = lua_getfield(L, 4, "lr_schedule");
  if (t == LUA_TFUNCTION) { s->kind = SCHED_FUNCTION; o->sched_fn = lua_gettop(L); return; }
  if (t == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, -1), "cosine") == 0) s->kind = SCHED_COSINE;
    else if (strcmp(lua_tostring(L, -1), "step") == 0)
      lu_error(L, "fit", "lr_schedule \"step\" needs its period: give {step=10, factor=0.5}");
    else lu_error(L, "fit", "unknown lr_schedule '%s' (expected %s)", lua_tostring(L, -1), SCHEDULE_FORMS);
  } else if (t == LUA_TTABLE) {
    int tb = lua_gettop(L);
    check_table_keys(L, tb, "lr_schedule", keys);
    /* the keys of one form: a cosine's min_lr would be ignored by a step schedule */
    int step = lua_getfield(L, tb, "step") != LUA_TNIL, factor = lua_getfield(L, tb, "factor") != LUA_TNIL,
        cosine = lua_getfield(L, tb, "cosine") != LUA_TNIL, min_lr = lua_getfield(L, tb, "min_lr") != LUA_TNIL;
    lua_pop(L, 4);
    if ((step || factor) && (cosine || min_lr))
      lu_error(L, "fit", "lr_schedule: give {step=N, factor=} or {cosine=true, min_lr=}, not keys of both");
    if (lua_getfield(L, tb, "step") != LUA_TNIL) {
      int ok = 0;
      lua_Integer every = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &ok) : 0;
      if (!ok || every < 1 || every > INT32_MAX)
        lu_error(L, "fit", "lr_schedule: step must be a whole number of epochs >= 1, got %s",
                 lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1));
      s->kind = SCHED_STEP;
      s->every = (int)every;
      s->factor = nonneg_option(L, tb, "lr_schedule", "factor", 0.1);
    } else {
      lua_getfield(L, tb, "cosine");
      if (!lua_toboolean(L, -1)) lu_error(L, "fit", "lr_schedule: expected %s", SCHEDULE_FORMS);
      s->kind = SCHED_COSINE;
      s->min_lr = nonneg_option(L, tb, "lr_schedule", "min_lr", 0);
    }
    lua_settop(L, tb - 1);
    return;
  } else if (t != LUA_TNIL) {
    lu_error(L, "fit", "lr_schedule must be %s, got %s", SCHEDULE_FORMS, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

/* early_stopping = {patience=0, monitor="val_loss", min_delta=0,
 * restore_best=false} (Keras's EarlyStopping; restore_best_weights is
 * accepted as Keras spells it). */
static void read_early_stopping(lua_State *L, EarlyStop *es) {
  static const char *const keys[] = {"min_delta", "monitor", "patience", "restore_best",
                                     "restore_best_weights", NULL};
  memset(es, 0, sizeof *es);
  int t = lua_getfield(L, 4, "early_stopping");
  if (t == LUA_TNIL) { lua_pop(L, 1); return; }
  if (t != LUA_TTABLE)
    lu_error(L, "fit", "early_stopping must be a table {patience=, monitor=, min_delta=, restore_best=}, got %s",
             luaL_typename(L, -1));
  int tb = lua_gettop(L);
  check_table_keys(L, tb, "early_stopping", keys);
  es->on = 1;
  es->patience = int_option(L, tb, "patience", 0);
  if (es->patience < 0) lu_error(L, "fit", "early_stopping: patience must be >= 0, got %I", (lua_Integer)es->patience);
  es->min_delta = nonneg_option(L, tb, "early_stopping", "min_delta", 0);
  t = lua_getfield(L, tb, "monitor");
  es->monitor = MON_VAL_LOSS;
  if (t != LUA_TNIL) {
    int k = 0;
    while (t == LUA_TSTRING && MONITOR_NAMES[k] && strcmp(MONITOR_NAMES[k], lua_tostring(L, -1)) != 0) k++;
    if (t != LUA_TSTRING || !MONITOR_NAMES[k])
      lu_error(L, "fit", "early_stopping: unknown monitor '%s' (expected val_loss, val_accuracy, loss or accuracy)",
               luaL_tolstring(L, -1, NULL));
    es->monitor = (Monitor)k;
  }
  for (int k = 0; k < 2; k++) {
    const char *name = k ? "restore_best_weights" : "restore_best";
    t = lua_getfield(L, tb, name);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
      lu_error(L, "fit", "early_stopping: %s must be true or false, got %s", name, luaL_typename(L, -1));
    es->restore_best |= lua_toboolean(L, -1);
  }
  lua_settop(L, tb - 1);
}

/* The schedule function at fn called as fn(epoch, lr): the lr it returns,
 * which must be a finite number >= 0. */
static double call_schedule(lua_State *L, int fn, int epoch, double lr) {
  lua_pushvalue(L, fn);
  lua_pushinteger(L, epoch);
  lua_pushnumber(L, lr);
  lua_call(L, 2, 1);
  double v = lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || !(v >= 0 && v < HUGE_VAL))
    lu_error(L, "fit", "lr_schedule returned %s at epoch %d (expected a finite number >= 0, the lr)",
             lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1), epoch);
  lua_pop(L, 1);
  return v;
}

/* The value early stopping watches in an epoch's figures. */
static double monitored(const EpochLogs *g, Monitor m) {
  switch (m) {
  case MON_VAL_LOSS: return g->val_loss;
  case MON_VAL_ACCURACY: return g->val_accuracy;
  case MON_LOSS: return g->loss;
  default: return g->accuracy;
  }
}

static void read_options(lua_State *L, FitOptions *o) {
  char names[160] = "";
  if (lua_isnoneornil(L, 4)) { lua_settop(L, 3); lua_newtable(L); }
  if (!lua_istable(L, 4)) lu_error(L, "fit", "expected an options table, got %s", luaL_typename(L, 4));
  for (int i = 0; FIT_KEYS[i]; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", FIT_KEYS[i]);
  lua_pushnil(L);
  while (lua_next(L, 4)) {
    int known = 0;
    lua_pop(L, 1);
    for (int i = 0; FIT_KEYS[i] && lua_type(L, -1) == LUA_TSTRING; i++)
      known |= strcmp(lua_tostring(L, -1), FIT_KEYS[i]) == 0;
    if (!known) lu_error(L, "fit", "unknown option '%s' (expected %s)", luaL_tolstring(L, -1, NULL), names);
  }
  o->epochs = int_option(L, 4, "epochs", 1);
  o->batch = int_option(L, 4, "batch_size", 32);
  if (lua_getfield(L, 4, "verbose") == LUA_TBOOLEAN) o->verbose = lua_toboolean(L, -1);
  else o->verbose = int_option(L, 4, "verbose", 1);
  lua_pop(L, 1);
  int t = lua_getfield(L, 4, "validation_split");
  if (t != LUA_TNIL && t != LUA_TNUMBER)
    lu_error(L, "fit", "validation_split must be a number, got %s", luaL_typename(L, -1));
  o->split = lua_tonumber(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 4, "shuffle");
  o->shuffle = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  t = lua_getfield(L, 4, "on_epoch");
  if (t != LUA_TNIL && t != LUA_TFUNCTION)
    lu_error(L, "fit", "on_epoch must be a function, got %s", luaL_typename(L, -1));
  o->on_epoch = t == LUA_TNIL ? 0 : lua_gettop(L);
  read_schedule(L, o);
  read_early_stopping(L, &o->es);
  o->val_X = o->val_y = 0;
  t = lua_getfield(L, 4, "validation_data");
  if (t == LUA_TNIL) return;
  if (t != LUA_TTABLE) lu_error(L, "fit", "validation_data must be {X, y}, got %s", luaL_typename(L, -1));
  int vd = lua_gettop(L);
  for (int k = 0; k < 2; k++) {
    if (lua_getfield(L, vd, k ? "y" : "X") == LUA_TNIL) { lua_pop(L, 1); lua_rawgeti(L, vd, k + 1); }
    if (lua_isnil(L, -1)) lu_error(L, "fit", "validation_data must be {X, y}");
  }
  o->val_X = vd + 1;
  o->val_y = vd + 2;
  o->split = 0; /* validation_data replaces validation_split */
}

/* fit's second result when early_stopping is on: {stopped_epoch=
 * (0: ran to the end), best_epoch=, best=, monitor=, restored=}; lua/nn.lua
 * prints the report from it. */
static void push_early_info(lua_State *L, const EarlyStop *es, int stopped_epoch, int restored) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, stopped_epoch);
  lua_setfield(L, -2, "stopped_epoch");
  lua_pushinteger(L, es->best_epoch);
  lua_setfield(L, -2, "best_epoch");
  set_num(L, "best", es->best);
  lua_pushstring(L, MONITOR_NAMES[es->monitor]);
  lua_setfield(L, -2, "monitor");
  lua_pushboolean(L, restored);
  lua_setfield(L, -2, "restored");
}

/* The weight copy of early stopping's best epoch must still fit the model
 * (on_epoch could have added a layer). */
static void check_snapshot(lua_State *L, const Model *m, int64_t count) {
  if (model_param_count(m) != count)
    lu_error(L, "fit", "early_stopping: the model changed during fit (%I weights, %I before); "
             "restore_best cannot put the best ones back", (lua_Integer)model_param_count(m), (lua_Integer)count);
}

/* model:_fit(X, y [, opts]): opts as SPEC 3.3 says (epochs, batch_size,
 * validation_split, validation_data={X, y}, shuffle, verbose, on_epoch,
 * lr_schedule, early_stopping). Returns the history and, with
 * early_stopping, what it did (push_early_info). */
int nn_model_fit(lua_State *L) {
  Model *m = nn_check_model(L, 1);
  LossKind loss = nn_model_loss(L, 1);
  FitOptions o;
  char err[NN_ERRLEN], label[64];
  read_options(L, &o);
  nn_push_model_optimizer(L, 1);
  if (lua_isnil(L, -1))
    return lu_error(L, "fit", "compile the model first: model:compile{optimizer=optim.sgd{lr=0.01}, loss=\"cross_entropy\"}");
  o.sched.lr0 = nn_check_optim(L, -1)->lr;
  lua_pop(L, 1);
  Tensor *X = nn_model_input(L, 1, 2, "fit");
  int64_t N = X->shape[0], K = m->feat[m->n], batch = o.batch;
  Tensor *y = nn_model_labels(L, 3, N, K, "fit");
  double split = o.split;
  int verbose = (int)o.verbose, shuffle = o.shuffle, on_epoch = o.on_epoch;
  /* Checked as 64-bit before narrowing: 2^32 epochs must not become 0. */
  if (o.epochs < 0) return lu_error(L, "fit", "epochs must be >= 0, got %I", o.epochs);
  if (o.epochs > INT32_MAX) return lu_error(L, "fit", "epochs must be at most %d, got %I", INT32_MAX, o.epochs);
  int epochs = (int)o.epochs;
  if (batch < 1) return lu_error(L, "fit", "batch_size must be >= 1, got %I", (lua_Integer)batch);
  if (!(split >= 0 && split < 1)) return lu_error(L, "fit", "validation_split must be in [0, 1), got %f", split);
  /* Keras: the validation rows are the last ones, taken before shuffling. */
  int64_t n_train = (int64_t)floor((double)N * (1.0 - split)), n_val = N - n_train;
  if (n_train < 1)
    return lu_error(L, "fit", "no training samples left (%d samples, validation_split %f)", (int)N, split);
  Tensor *VX = X, *VY = y;
  int64_t v_first = n_train;
  if (o.val_X) {
    VX = nn_model_input(L, 1, o.val_X, "fit: validation_data");
    VY = nn_model_labels(L, o.val_y, VX->shape[0], K, "fit: validation_data");
    v_first = 0;
    n_val = VX->shape[0];
  }
  EarlyStop *es = &o.es;
  if (es->on && (es->monitor == MON_VAL_LOSS || es->monitor == MON_VAL_ACCURACY) && n_val == 0)
    return lu_error(L, "fit", "early_stopping monitors %s but there is no validation data (give "
                    "validation_split or validation_data, or monitor = \"loss\")", MONITOR_NAMES[es->monitor]);
  if (batch > n_train) batch = n_train;
  o.sched.epochs = epochs;
  early_stop_start(es);
  /* Boxed: the weights of the best epoch (restore_best). */
  int64_t n_weights = model_param_count(m);
  float *best_w = es->on && es->restore_best
                    ? lu_push_buffer(L, (size_t)(n_weights > 0 ? n_weights : 1) * sizeof(float), "fit") : NULL;
  /* Boxed: the permutation of training rows and the batch labels. */
  int32_t *perm = lu_push_buffer(L, (size_t)(n_train + batch) * sizeof(int32_t), "fit");
  for (int64_t i = 0; i < n_train; i++) perm[i] = (int32_t)i;
  int64_t eval_batch = batch < 256 ? 256 : batch;
  if (model_reserve(m, eval_batch, err)) lu_raise(L, "fit", err);
  ParamSet *ps = lu_push_buffer(L, sizeof(ParamSet), "fit");
  lua_newtable(L);
  int hist = lua_gettop(L), stopped_epoch = 0, last = 0;
  const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr"};
  for (int k = 0; k < 6; k++) { lua_newtable(L); lua_setfield(L, hist, keys[k]); }
  for (int e = 1; e <= epochs; e++) {
    EpochLogs g = {0, 0, 0, NAN, NAN, 0, n_val > 0};
    nn_push_model_optimizer(L, 1); /* the current one (on_epoch may recompile) */
    int optidx = lua_gettop(L);
    Optim *opt = nn_check_optim(L, optidx);
    /* The schedule sets the lr of this epoch; it stays set after fit. */
    if (o.sched.kind == SCHED_FUNCTION) opt->lr = call_schedule(L, o.sched_fn, e, opt->lr);
    else if (o.sched.kind != SCHED_NONE) opt->lr = schedule_lr(&o.sched, e);
    g.lr = opt->lr;
    nn_collect_params(L, 1, optidx, ps);
    progress_label(label, sizeof label, e, epochs);
    FitState s = {m, opt, ps, loss, X, tensor_i32(y), perm, n_train,
                  perm + n_train, batch, shuffle, verbose > 0 ? label : NULL, e, &g_words};
    int rc = trainer_epoch(&s, &g.loss, &g.accuracy, &g.seconds, err);
    lua_pop(L, 1);
    if (rc < 0) lu_raise(L, "fit", err);
    if (rc == 1) {
      interrupt_consume(L);
      if (verbose > 0) stopped_report(e, epochs);
      break;
    }
    if (g.has_val && trainer_evaluate(m, loss, VX, tensor_i32(VY), v_first, n_val, eval_batch,
                                      &g.val_loss, &g.val_accuracy, err))
      lu_raise(L, "fit", err);
    record(L, hist, &g);
    last = e;
    if (verbose > 0) epoch_report(e, epochs, &g);
    int early = es->on ? early_stop_update(es, e, monitored(&g, es->monitor)) : EARLY_WAIT;
    if (early == EARLY_IMPROVED && best_w) {
      check_snapshot(L, m, n_weights);
      weights_save(m, best_w);
    }
    if (early == EARLY_STOP) stopped_epoch = e;
    if (on_epoch) {
      if (call_on_epoch(L, on_epoch, e, &g)) break;
      if (model_reserve(m, eval_batch, err)) lu_raise(L, "fit", err);
    }
    if (early == EARLY_STOP) break;
  }
  /* restore_best: the weights of the best epoch, however fit ended. */
  int restored = 0;
  if (best_w && es->best_epoch > 0) {
    check_snapshot(L, m, n_weights);
    weights_restore(m, best_w);
    restored = es->best_epoch != last;
  }
  lua_pushvalue(L, hist);
  if (!es->on) return 1;
  push_early_info(L, es, stopped_epoch, restored);
  return 2;
}
