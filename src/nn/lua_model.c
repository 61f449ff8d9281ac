/* lua_model.c — the Sequential model userdata (nnlab.Model): building from
 * the first input seen, forward/backward for hand-written loops, compile,
 * the fit/evaluate/predict bindings over trainer.c, saving and loading, and
 * optimizer:step. Option tables are checked by lua/nn.lua before they get here. */
#include "lua_nn.h"
#include "lua_tensor.h"
#include "interrupt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* User values: 1 layers table, 2 optimizer (or nil). */
enum { MV_LAYERS = 1, MV_OPTIM, MV_N = MV_OPTIM };

typedef struct ModelUD {
  Model m;
  LossKind loss;
} ModelUD;

static ModelUD *check_model(lua_State *L, int idx) { return luaL_checkudata(L, idx, MODEL_MT); }

static int l_model_gc(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  model_free_workspace(&u->m);
  return 0;
}

static ModelUD *push_model(lua_State *L) {
  ModelUD *u = lua_newuserdatauv(L, sizeof(ModelUD), MV_N);
  memset(u, 0, sizeof *u);
  luaL_setmetatable(L, MODEL_MT);
  lua_newtable(L);
  lua_setiuservalue(L, -2, MV_LAYERS);
  return u;
}

static void model_append(lua_State *L, int midx, int lidx) {
  ModelUD *u = check_model(L, midx);
  Layer *l = nn_check_layer(L, lidx, "add");
  if (u->m.built) luaL_error(L, "add: the model is already built for its inputs; create a new nn.Sequential");
  if (u->m.n >= NN_MAXLAYERS) luaL_error(L, "add: at most %d layers, got more", NN_MAXLAYERS);
  lua_getiuservalue(L, midx, MV_LAYERS);
  lua_pushvalue(L, lidx);
  lua_rawseti(L, -2, u->m.n + 1);
  lua_pop(L, 1);
  u->m.layers[u->m.n++] = l;
}

/* _nn.Sequential([list of layers]) */
static int l_nn_sequential(lua_State *L) {
  int has = !lua_isnoneornil(L, 1);
  if (has) luaL_checktype(L, 1, LUA_TTABLE);
  push_model(L);
  int midx = lua_gettop(L);
  for (lua_Integer i = 1; has; i++) {
    if (lua_rawgeti(L, 1, i) == LUA_TNIL) { lua_pop(L, 1); break; }
    if (!lua_touserdata(L, -1))
      return luaL_error(L, "nn.Sequential: item %d is a %s, expected a layer", (int)i, luaL_typename(L, -1));
    model_append(L, midx, lua_gettop(L));
    lua_pop(L, 1);
  }
  return 1;
}

static int l_model_add(lua_State *L) {
  check_model(L, 1);
  model_append(L, 1, 2);
  lua_settop(L, 1);
  return 1;
}

/* Builds the model for X's sample shape on first use (creating the Dense
 * weights), or checks that X matches the shape it was built for. Returns
 * X as a contiguous tensor (replaced on the stack if converted). */
static Tensor *check_input(lua_State *L, int midx, int xidx, const char *who) {
  ModelUD *u = check_model(L, midx);
  Model *m = &u->m;
  Tensor *X = lt_check(L, xidx);
  char err[NN_ERRLEN], a[96], b[96];
  if (m->n == 0) luaL_error(L, "%s: the model has no layers", who);
  if (X->ndim < 2)
    luaL_error(L, "%s: expected a batch of samples (at least 2-D, samples first), got %s", who, tensor_shape_str(X, a, sizeof a));
  if (m->built) {
    if (X->ndim - 1 != m->in_ndim || memcmp(X->shape + 1, m->in_shape, sizeof(int64_t) * (size_t)m->in_ndim))
      luaL_error(L, "%s: input size mismatch: the model was built for samples of %s, got %s", who,
                 shape_str(m->in_ndim, m->in_shape, a, sizeof a), shape_str(X->ndim - 1, X->shape + 1, b, sizeof b));
  } else {
    if (model_plan(m, X->ndim - 1, X->shape + 1, err)) luaL_error(L, "%s: %s", who, err);
    lua_getiuservalue(L, midx, MV_LAYERS);
    for (int i = 0; i < m->n; i++) {
      if (m->layers[i]->kind == L_DENSE && !m->layers[i]->W) {
        lua_rawgeti(L, -1, i + 1);
        nn_layer_build(L, -1, m->feat[i], NULL, NULL);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
    m->built = 1;
  }
  if (!tensor_is_contiguous(X)) {
    X = lt_push_copy(L, X, X->dtype, who);
    lua_replace(L, xidx);
  }
  return X;
}

static Tensor *check_labels(lua_State *L, int yidx, int64_t N, int64_t K, const char *who) {
  Tensor *y = lt_check(L, yidx);
  char a[64];
  if (y->ndim != 1)
    luaL_error(L, "%s: y must be a vector of class indices 1..%d, got shape %s", who, (int)K, tensor_shape_str(y, a, sizeof a));
  if (y->shape[0] != N)
    luaL_error(L, "%s: X has %d samples but y has %d labels", who, (int)N, (int)y->shape[0]);
  return nn_labels(L, yidx, K, who);
}

static void raise_err(lua_State *L, const char *who, const char *err) { luaL_error(L, "%s: %s", who, err); }

/* model:forward(x): the outputs, in inference mode unless model:train(). */
static int l_model_forward(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  Tensor *X = check_input(L, 1, 2, "forward");
  int64_t B = X->shape[0], sh[2];
  float scale, offset;
  char err[NN_ERRLEN];
  int start = model_input_stage(m, &scale, &offset);
  if (B == 0) return luaL_error(L, "forward: the batch is empty");
  if (model_reserve(m, B, err)) raise_err(L, "forward", err);
  gather_rows(m->act[start], X, NULL, 0, B, m->feat[0], scale, offset);
  model_forward(m, B, start);
  sh[0] = B;
  sh[1] = m->feat[m->n];
  Tensor *out = lt_push_uninit(L, DT_FLOAT32, 2, sh, "forward");
  memcpy(tensor_f32(out), m->act[m->n], (size_t)(B * sh[1]) * sizeof(float));
  return 1;
}

/* model:backward(x, grad_output): dW, db of every Dense; returns dL/dx. */
static int l_model_backward(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  Tensor *X = check_input(L, 1, 2, "backward");
  Tensor *g = lt_check(L, 3);
  int64_t B = X->shape[0], K = m->feat[m->n];
  char a[64];
  if (m->last_batch != B)
    return luaL_error(L, "backward: call model:forward(x) first with the same batch (%d samples), last forward had %d",
                      (int)B, (int)m->last_batch);
  if (g->ndim != 2 || g->shape[0] != B || g->shape[1] != K)
    return luaL_error(L, "backward: grad_output must be %dx%d, got %s", (int)B, (int)K, tensor_shape_str(g, a, sizeof a));
  if (g->dtype != DT_FLOAT32 || !tensor_is_contiguous(g)) {
    g = lt_push_copy(L, g, DT_FLOAT32, "backward");
    lua_replace(L, 3);
  }
  Tensor *din = lt_push_uninit(L, DT_FLOAT32, X->ndim, X->shape, "backward");
  memcpy(m->g1, tensor_f32(g), (size_t)(B * K) * sizeof(float));
  float *res = model_backward(m, B, m->g1, 0, 0, 1);
  memcpy(tensor_f32(din), res, (size_t)(B * m->feat[0]) * sizeof(float));
  return 1;
}

static int l_model_train(lua_State *L) {
  check_model(L, 1)->m.training = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
  lua_settop(L, 1);
  return 1;
}

static int l_model_eval(lua_State *L) {
  check_model(L, 1)->m.training = 0;
  lua_settop(L, 1);
  return 1;
}

/* model:_compile(optimizer, loss_name) */
static int l_model_compile(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  nn_check_optim(L, 2);
  const char *loss = luaL_checkstring(L, 3);
  u->loss = strcmp(loss, "mse") == 0 ? LOSS_MSE : LOSS_CE;
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, 1, MV_OPTIM);
  return 0;
}

/* Fills ps with every Dense's (W, dW) and (b, db) and the optimizer's
 * state for each. The state tensors stay referenced by the optimizer. */
static void collect_params(lua_State *L, int midx, int optidx, ParamSet *ps) {
  Model *m = &check_model(L, midx)->m;
  ps->n = 0;
  lua_getiuservalue(L, midx, MV_LAYERS);
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    if (l->kind != L_DENSE || !l->W) continue;
    lua_rawgeti(L, -1, i + 1);
    for (int k = 0; k < 2; k++) {
      Tensor *p = k ? l->b : l->W, *g = k ? l->db : l->dW;
      lua_getiuservalue(L, -1, k + 1);
      nn_optim_state(L, optidx, -1, tensor_numel(p));
      ps->p[ps->n] = tensor_f32(p);
      ps->g[ps->n] = tensor_f32(g);
      ps->s1[ps->n] = tensor_f32(lt_check(L, -2));
      ps->s2[ps->n] = tensor_f32(lt_check(L, -1));
      ps->len[ps->n] = tensor_numel(p);
      ps->n++;
      lua_pop(L, 3);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* optimizer:step(model) */
static int l_optim_step(lua_State *L) {
  Optim *o = nn_check_optim(L, 1);
  ModelUD *u = check_model(L, 2);
  ParamSet *ps = lua_newuserdatauv(L, sizeof(ParamSet), 0);
  if (!u->m.built) return luaL_error(L, "step: the model has no weights yet (run forward and backward first)");
  collect_params(L, 2, 1, ps);
  optim_step(o, ps);
  return 0;
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

static lua_Integer int_field(lua_State *L, int t, const char *k, lua_Integer dflt) {
  lua_getfield(L, t, k);
  lua_Integer v = lua_isnil(L, -1) ? dflt : luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* The words of fit's lines from opts.words (lua/i18n.lua's fit_words, put
 * there by nn.lua); English for any word missing. */
static void read_fit_words(lua_State *L, int opts, FitWords *w) {
  static const char *const keys[] = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                     "samples_s", "eta", "stopped"};
  static const char *const dflt[] = {"Epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                     "samples/s", "ETA", "stopped by Ctrl-C; complete epochs in the history:"};
  char *dst[] = {w->epoch, w->loss, w->accuracy, w->val_loss, w->val_accuracy,
                 w->samples_s, w->eta, w->stopped};
  size_t len[] = {sizeof w->epoch, sizeof w->loss, sizeof w->accuracy, sizeof w->val_loss,
                  sizeof w->val_accuracy, sizeof w->samples_s, sizeof w->eta, sizeof w->stopped};
  lua_getfield(L, opts, "words");
  for (int k = 0; k < 8; k++) {
    const char *v = NULL;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, keys[k]);
      v = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    snprintf(dst[k], len[k], "%s", v ? v : dflt[k]);
  }
  lua_pop(L, 1);
}

/* model:_fit(X, y, opts) with opts checked by nn.lua: epochs, batch_size,
 * validation_split, val_X, val_y, shuffle, verbose, on_epoch. */
static int l_model_fit(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  char err[NN_ERRLEN];
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_getiuservalue(L, 1, MV_OPTIM);
  if (lua_isnil(L, -1)) return luaL_error(L, "fit: compile the model first: model:compile{optimizer=optim.sgd{lr=0.01}, loss=\"cross_entropy\"}");
  lua_pop(L, 1);
  Tensor *X = check_input(L, 1, 2, "fit");
  int64_t N = X->shape[0], K = m->feat[m->n];
  Tensor *y = check_labels(L, 3, N, K, "fit");
  int64_t epochs64 = int_field(L, 4, "epochs", 1);
  int verbose = (int)int_field(L, 4, "verbose", 1);
  int64_t batch = int_field(L, 4, "batch_size", 32);
  lua_getfield(L, 4, "validation_split");
  double split = lua_isnil(L, -1) ? 0.0 : luaL_checknumber(L, -1);
  lua_getfield(L, 4, "shuffle");
  int shuffle = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 2);
  /* Checked as 64-bit before narrowing: 2^32 epochs must not become 0. */
  if (epochs64 < 0) return luaL_error(L, "fit: epochs must be >= 0, got %I", (lua_Integer)epochs64);
  if (epochs64 > INT32_MAX)
    return luaL_error(L, "fit: epochs must be at most %d, got %I", INT32_MAX, (lua_Integer)epochs64);
  int epochs = (int)epochs64;
  if (batch < 1) return luaL_error(L, "fit: batch_size must be >= 1, got %I", (lua_Integer)batch);
  if (!(split >= 0 && split < 1)) return luaL_error(L, "fit: validation_split must be in [0, 1), got %f", split);
  /* Keras: the validation rows are the last ones, taken before shuffling. */
  int64_t n_train = (int64_t)floor((double)N * (1.0 - split)), n_val = N - n_train;
  if (n_train < 1) return luaL_error(L, "fit: no training samples left (%d samples, validation_split %f)", (int)N, split);
  int vx = 0, vy = 0;
  Tensor *VX = X, *VY = y;
  int64_t v_first = n_train;
  lua_getfield(L, 4, "val_X");
  lua_getfield(L, 4, "val_y");
  if (!lua_isnil(L, -2)) {
    vx = lua_gettop(L) - 1;
    vy = vx + 1;
    VX = check_input(L, 1, vx, "fit: validation_data");
    VY = check_labels(L, vy, VX->shape[0], K, "fit: validation_data");
    v_first = 0;
    n_val = VX->shape[0];
  }
  if (batch > n_train) batch = n_train;
  FitWords words;
  read_fit_words(L, 4, &words);
  /* Boxed buffers: the permutation of training rows and the batch labels. */
  int32_t *perm = lua_newuserdatauv(L, (size_t)(n_train + batch) * sizeof(int32_t), 0);
  for (int64_t i = 0; i < n_train; i++) perm[i] = (int32_t)i;
  int64_t eval_batch = batch < 256 ? 256 : batch;
  if (model_reserve(m, eval_batch, err)) raise_err(L, "fit", err);
  ParamSet *ps = lua_newuserdatauv(L, sizeof(ParamSet), 0);
  lua_newtable(L);
  int hist = lua_gettop(L);
  const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"};
  for (int k = 0; k < 5; k++) { lua_newtable(L); lua_setfield(L, hist, keys[k]); }
  int has_val = n_val > 0;
  for (int e = 1; e <= epochs; e++) {
    lua_getiuservalue(L, 1, MV_OPTIM); /* the current optimizer (on_epoch may recompile) */
    int optidx = lua_gettop(L);
    Optim *o = nn_check_optim(L, optidx);
    collect_params(L, 1, optidx, ps);
    FitState s = {m, o, ps, u->loss, X, tensor_i32(y), perm, n_train, perm + n_train, batch,
                  shuffle, verbose > 0, e, epochs, &words};
    double loss, acc, secs, vloss = NAN, vacc = NAN;
    int rc = trainer_epoch(&s, &loss, &acc, &secs, err);
    lua_pop(L, 1);
    if (rc < 0) raise_err(L, "fit", err + (strncmp(err, "fit: ", 5) == 0 ? 5 : 0));
    if (rc == 1) {
      interrupt_consume(L);
      if (verbose > 0) printf("%s %d/%d: %s %d\n", words.epoch, e, epochs, words.stopped, e - 1);
      break;
    }
    if (has_val && trainer_evaluate(m, u->loss, VX, tensor_i32(VY), v_first, n_val, eval_batch, &vloss, &vacc, err))
      raise_err(L, "fit", err);
    append(L, hist, "loss", loss);
    append(L, hist, "accuracy", acc);
    append(L, hist, "seconds", secs);
    if (has_val) { append(L, hist, "val_loss", vloss); append(L, hist, "val_accuracy", vacc); }
    if (verbose > 0) {
      if (has_val)
        printf("%s %d/%d - %.1fs - %s: %.4f - %s: %.4f - %s: %.4f - %s: %.4f\n", words.epoch, e, epochs,
               secs, words.loss, loss, words.accuracy, acc, words.val_loss, vloss, words.val_accuracy, vacc);
      else
        printf("%s %d/%d - %.1fs - %s: %.4f - %s: %.4f\n", words.epoch, e, epochs, secs, words.loss, loss,
               words.accuracy, acc);
      fflush(stdout);
    }
    lua_getfield(L, 4, "on_epoch");
    if (!lua_isnil(L, -1)) {
      lua_pushinteger(L, e);
      lua_newtable(L);
      set_num(L, "loss", loss);
      set_num(L, "accuracy", acc);
      set_num(L, "seconds", secs);
      if (has_val) { set_num(L, "val_loss", vloss); set_num(L, "val_accuracy", vacc); }
      lua_call(L, 2, 1);
      int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (stop) break;
      if (model_reserve(m, eval_batch, err)) raise_err(L, "fit", err);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, hist);
  return 1;
}

/* model:evaluate(X, y [, batch]) -> {loss=, accuracy=} */
static int l_model_evaluate(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  char err[NN_ERRLEN];
  lua_Integer batch = luaL_optinteger(L, 4, 256);
  if (u->loss == LOSS_NONE) return luaL_error(L, "evaluate: compile the model first (it names the loss)");
  if (batch < 1) return luaL_error(L, "evaluate: batch_size must be >= 1, got %I", (lua_Integer)batch);
  Tensor *X = check_input(L, 1, 2, "evaluate");
  Tensor *y = check_labels(L, 3, X->shape[0], m->feat[m->n], "evaluate");
  double loss, acc;
  if (trainer_evaluate(m, u->loss, X, tensor_i32(y), 0, X->shape[0], batch, &loss, &acc, err))
    raise_err(L, "evaluate", err);
  lua_createtable(L, 0, 2);
  set_num(L, "loss", loss);
  set_num(L, "accuracy", acc);
  return 1;
}

/* model:predict(X [, batch]) -> N x K float32 */
static int l_model_predict(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  char err[NN_ERRLEN];
  lua_Integer batch = luaL_optinteger(L, 3, 256);
  if (batch < 1) return luaL_error(L, "predict: batch_size must be >= 1, got %I", (lua_Integer)batch);
  Tensor *X = check_input(L, 1, 2, "predict");
  int64_t sh[2] = {X->shape[0], m->feat[m->n]};
  Tensor *out = lt_push_uninit(L, DT_FLOAT32, 2, sh, "predict");
  if (trainer_predict(m, X, sh[0], batch, tensor_f32(out), err)) raise_err(L, "predict", err);
  return 1;
}

static int l_model_save(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  const char *path = luaL_checkstring(L, 2);
  char err[NN_ERRLEN];
  if (model_save(m, path, err)) return luaL_error(L, "%s", err);
  return 0;
}

static int l_box_gc(lua_State *L) {
  unsigned char **p = lua_touserdata(L, 1);
  free(*p);
  *p = NULL;
  return 0;
}

/* nn.load(path) */
static int l_nn_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[NN_ERRLEN];
  ModelDesc *d = lua_newuserdatauv(L, sizeof(ModelDesc), 0);
  unsigned char **box = lua_newuserdatauv(L, sizeof(unsigned char *), 0);
  *box = NULL;
  luaL_setmetatable(L, "nnlab.LoadBuffer");
  if (model_load(path, d, box, err)) return luaL_error(L, "%s", err);
  ModelUD *u = push_model(L);
  int midx = lua_gettop(L);
  for (int i = 0; i < d->n; i++) {
    LayerDesc *ld = &d->layers[i];
    Layer *l = nn_push_layer(L, (LayerKind)ld->kind);
    l->act = (Activation)ld->act;
    l->init = (Init)ld->init;
    l->units = ld->units;
    l->scale = ld->scale;
    l->offset = ld->offset;
    l->p = ld->p;
    if (ld->kind == L_DENSE && ld->units < 1) return luaL_error(L, "nn.load: %s: corrupt model file (Dense with %d units)", path, (int)ld->units);
    if (ld->kind == L_DENSE && ld->n_in > 0) {
      nn_layer_build(L, -1, ld->n_in, ld->W, ld->b);
    }
    model_append(L, midx, lua_gettop(L));
    lua_pop(L, 1);
  }
  if (d->in_ndim > 0) {
    if (model_plan(&u->m, d->in_ndim, d->in_shape, err)) return luaL_error(L, "nn.load: %s: %s", path, err);
    for (int i = 0; i < d->n; i++)
      if (d->layers[i].kind == L_DENSE && !u->m.layers[i]->W) return luaL_error(L, "nn.load: %s: corrupt model file (Dense %d has no weights)", path, i + 1);
    u->m.built = 1;
  }
  return 1;
}

/* model:_info() -> built, {{name=, shape={...}, params=}, ...} */
static int l_model_info(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  lua_pushboolean(L, m->built);
  lua_createtable(L, m->n, 0);
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    lua_createtable(L, 0, 3);
    lua_pushstring(L, layer_kind_name(l->kind));
    lua_setfield(L, -2, "name");
    if (l->kind == L_DENSE) { lua_pushstring(L, activation_name(l->act)); lua_setfield(L, -2, "activation"); }
    if (m->built) {
      lua_createtable(L, m->out_ndim[i], 0);
      for (int k = 0; k < m->out_ndim[i]; k++) { lua_pushinteger(L, m->out_shape[i][k]); lua_rawseti(L, -2, k + 1); }
      lua_setfield(L, -2, "shape");
    } else if (l->kind == L_DENSE) {
      lua_createtable(L, 1, 0);
      lua_pushinteger(L, l->units);
      lua_rawseti(L, -2, 1);
      lua_setfield(L, -2, "shape");
    }
    lua_pushinteger(L, l->W ? tensor_numel(l->W) + tensor_numel(l->b) : 0);
    lua_setfield(L, -2, "params");
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

static int l_model_index(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "layers") == 0) {
    /* a fresh list, so editing it cannot desynchronise the model */
    lua_getiuservalue(L, 1, MV_LAYERS);
    lua_createtable(L, u->m.n, 0);
    for (int i = 1; i <= u->m.n; i++) { lua_rawgeti(L, -2, i); lua_rawseti(L, -2, i); }
  } else if (strcmp(k, "optimizer") == 0) {
    lua_getiuservalue(L, 1, MV_OPTIM);
  } else if (strcmp(k, "training") == 0) {
    lua_pushboolean(L, u->m.training);
  } else if (strcmp(k, "built") == 0) {
    lua_pushboolean(L, u->m.built);
  } else if (strcmp(k, "loss") == 0) {
    if (u->loss == LOSS_NONE) lua_pushnil(L);
    else lua_pushstring(L, u->loss == LOSS_MSE ? "mse" : "cross_entropy");
  } else {
    luaL_getmetatable(L, MODEL_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

void nn_open_model(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"add", l_model_add},         {"forward", l_model_forward},   {"backward", l_model_backward},
    {"train", l_model_train},     {"eval", l_model_eval},         {"_compile", l_model_compile},
    {"_fit", l_model_fit},        {"evaluate", l_model_evaluate}, {"predict", l_model_predict},
    {"save", l_model_save},       {"_info", l_model_info},        {NULL, NULL}};
  luaL_newmetatable(L, "nnlab.LoadBuffer");
  lua_pushcfunction(L, l_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, MODEL_MT);
  lua_pushcfunction(L, l_model_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_model_index);
  lua_setfield(L, -2, "__index");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "methods");
  lua_setfield(L, -2, "model_mt"); /* _nn.model_mt: nn.lua adds summary, __tostring, ... */
  luaL_getmetatable(L, OPTIM_MT);
  lua_getfield(L, -1, "methods");
  lua_pushcfunction(L, l_optim_step);
  lua_setfield(L, -2, "step");
  lua_pop(L, 1);
  lua_setfield(L, -2, "optimizer_mt");
  lua_pushcfunction(L, l_nn_sequential);
  lua_setfield(L, -2, "Sequential");
  lua_pushcfunction(L, l_nn_load);
  lua_setfield(L, -2, "load");
}
