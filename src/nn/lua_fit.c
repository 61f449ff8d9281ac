/* lua_fit.c — model:_fit, the policy of fit in one place: its options, the
 * validation rows (the last ones of X, taken before shuffling, as Keras
 * does, or validation_data), the history, the epoch report, Ctrl-C and the
 * on_epoch callback. Between epochs no Lua code runs but on_epoch (no
 * metamethods either), so a Ctrl-C is seen by the next epoch, which stops
 * after one batch and returns the history. Each epoch's
 * minibatch loop is trainer.c's; this file calls it once per epoch and
 * calls back into Lua at most once per epoch. */
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
  double loss, accuracy, seconds, val_loss, val_accuracy;
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
  int on_epoch, val_X, val_y;  /* stack indices, 0 when absent */
} FitOptions;

static const char *const FIT_KEYS[] = {"batch_size", "epochs", "on_epoch", "shuffle",
                                       "validation_data", "validation_split", "verbose", NULL};

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

/* model:_fit(X, y [, opts]): opts as SPEC 3.3 says (epochs, batch_size,
 * validation_split, validation_data={X, y}, shuffle, verbose, on_epoch). */
int nn_model_fit(lua_State *L) {
  Model *m = nn_check_model(L, 1);
  LossKind loss = nn_model_loss(L, 1);
  FitOptions o;
  char err[NN_ERRLEN], label[64];
  read_options(L, &o);
  nn_push_model_optimizer(L, 1);
  if (lua_isnil(L, -1))
    return lu_error(L, "fit", "compile the model first: model:compile{optimizer=optim.sgd{lr=0.01}, loss=\"cross_entropy\"}");
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
  if (batch > n_train) batch = n_train;
  /* Boxed: the permutation of training rows and the batch labels. */
  int32_t *perm = lu_push_buffer(L, (size_t)(n_train + batch) * sizeof(int32_t), "fit");
  for (int64_t i = 0; i < n_train; i++) perm[i] = (int32_t)i;
  int64_t eval_batch = batch < 256 ? 256 : batch;
  if (model_reserve(m, eval_batch, err)) lu_raise(L, "fit", err);
  ParamSet *ps = lu_push_buffer(L, sizeof(ParamSet), "fit");
  lua_newtable(L);
  int hist = lua_gettop(L);
  const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"};
  for (int k = 0; k < 5; k++) { lua_newtable(L); lua_setfield(L, hist, keys[k]); }
  for (int e = 1; e <= epochs; e++) {
    EpochLogs g = {0, 0, 0, NAN, NAN, n_val > 0};
    nn_push_model_optimizer(L, 1); /* the current one (on_epoch may recompile) */
    int optidx = lua_gettop(L);
    nn_collect_params(L, 1, optidx, ps);
    progress_label(label, sizeof label, e, epochs);
    FitState s = {m, nn_check_optim(L, optidx), ps, loss, X, tensor_i32(y), perm, n_train,
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
    if (verbose > 0) epoch_report(e, epochs, &g);
    if (on_epoch) {
      if (call_on_epoch(L, on_epoch, e, &g)) break;
      if (model_reserve(m, eval_batch, err)) lu_raise(L, "fit", err);
    }
  }
  lua_pushvalue(L, hist);
  return 1;
}
