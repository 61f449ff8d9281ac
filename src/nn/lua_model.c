/* lua_model.c — the Sequential model userdata (nnlab.Model): building from
 * the first input seen, forward/backward for hand-written loops, compile,
 * evaluate/predict over trainer.c, saving and loading (the C core reads the
 * file; this rebuilds the userdata from what it read), and the summary's
 * facts. fit is lua_fit.c's, optimizer:step lua_optim.c's; compile's options
 * are checked by lua/nn.lua before they get here. Nothing here names a kind. */
#include "lua_nn.h"
#include "lua_optim.h"
#include "lua_tensor.h"
#include "lua_util.h"

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

Model *nn_check_model(lua_State *L, int idx) { return &check_model(L, idx)->m; }

LossKind nn_model_loss(lua_State *L, int idx) { return check_model(L, idx)->loss; }

void nn_push_model_layers(lua_State *L, int midx) { lua_getiuservalue(L, midx, MV_LAYERS); }

void nn_push_model_optimizer(lua_State *L, int midx) { lua_getiuservalue(L, midx, MV_OPTIM); }

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
  if (u->m.built) lu_error(L, "add", "the model is already built for its inputs; create a new nn.Sequential");
  if (u->m.n >= NN_MAXLAYERS) lu_error(L, "add", "at most %d layers, got more", NN_MAXLAYERS);
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
      return lu_error(L, "nn.Sequential", "item %d is a %s, expected a layer", (int)i, luaL_typename(L, -1));
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

/* Creates the tensors of every layer that declares some and has none yet,
 * in the shapes planned for it (drawing their initial values in order). */
static void build_layers(lua_State *L, int midx) {
  Model *m = nn_check_model(L, midx);
  Shape tshape[LAYER_MAXTENSORS];
  char err[NN_ERRLEN];
  lua_getiuservalue(L, midx, MV_LAYERS);
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    if (!l->kind->ntensors || l->t[0]) continue;
    if (model_layer_tensor_shapes(m, i, tshape, err)) lu_raise(L, "build", err);
    lua_rawgeti(L, -1, i + 1);
    nn_layer_build(L, -1, &m->shape[i], tshape, NULL);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

Tensor *nn_model_input(lua_State *L, int midx, int xidx, const char *who) {
  Model *m = nn_check_model(L, midx);
  Tensor *X = lt_check(L, xidx);
  char err[NN_ERRLEN], a[96], b[96];
  if (m->n == 0) lu_error(L, who, "the model has no layers");
  if (X->ndim < 2)
    lu_error(L, who, "expected a batch of samples (at least 2-D, samples first), got %s", tensor_shape_str(X, a, sizeof a));
  if (m->built) {
    if (X->ndim - 1 != m->shape[0].nd || memcmp(X->shape + 1, m->shape[0].d, sizeof(int64_t) * (size_t)m->shape[0].nd))
      lu_error(L, who, "input size mismatch: the model was built for samples of %s, got %s",
               shape_str(m->shape[0].nd, m->shape[0].d, a, sizeof a), shape_str(X->ndim - 1, X->shape + 1, b, sizeof b));
  } else {
    Shape in = {X->ndim - 1, {0}};
    memcpy(in.d, X->shape + 1, sizeof(int64_t) * (size_t)in.nd);
    if (model_plan(m, &in, err)) lu_raise(L, who, err);
    build_layers(L, midx);
    m->built = 1;
  }
  if (!tensor_is_contiguous(X)) {
    X = lt_push_copy(L, X, X->dtype, who);
    lua_replace(L, xidx);
  }
  return X;
}

Tensor *nn_model_labels(lua_State *L, int yidx, int64_t N, int64_t K, const char *who) {
  Tensor *y = lt_check(L, yidx);
  char a[64];
  if (y->ndim != 1)
    lu_error(L, who, "y must be a vector of class indices 1..%d, got shape %s", (int)K, tensor_shape_str(y, a, sizeof a));
  if (y->shape[0] != N)
    lu_error(L, who, "X has %d samples but y has %d labels", (int)N, (int)y->shape[0]);
  return nn_labels(L, yidx, K, who);
}

/* The shape of a batch of B outputs: B, then the last layer's shape. */
static int batch_shape(const Model *m, int64_t B, int64_t *sh) {
  sh[0] = B;
  memcpy(sh + 1, m->shape[m->n].d, sizeof(int64_t) * (size_t)m->shape[m->n].nd);
  return m->shape[m->n].nd + 1;
}

/* model:forward(x): the outputs, in inference mode unless model:train(). */
static int l_model_forward(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  Tensor *X = nn_model_input(L, 1, 2, "forward");
  int64_t B = X->shape[0], sh[TENSOR_MAXDIM + 1];
  char err[NN_ERRLEN];
  if (B == 0) return lu_error(L, "forward", "the batch is empty");
  if (model_reserve(m, B, err)) lu_raise(L, "forward", err);
  model_forward(m, B, model_gather(m, X, NULL, 0, B, 0), 0);
  Tensor *out = lt_push_uninit(L, DT_FLOAT32, batch_shape(m, B, sh), sh, "forward");
  memcpy(tensor_f32(out), m->act[m->n], (size_t)(B * m->feat[m->n]) * sizeof(float));
  return 1;
}

/* model:backward(x, grad_output): the gradients of every layer's tensors
 * (layer.dW, layer.db, ...); returns dL/dx. */
static int l_model_backward(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  Tensor *X = nn_model_input(L, 1, 2, "backward");
  Tensor *g = lt_check(L, 3);
  int64_t B = X->shape[0], K = m->feat[m->n], sh[TENSOR_MAXDIM + 1];
  int nd = batch_shape(m, B, sh);
  char a[64], b[64];
  if (m->last_batch != B)
    return lu_error(L, "backward", "call model:forward(x) first with the same batch (%d samples), last forward had %d",
                      (int)B, (int)m->last_batch);
  if (g->ndim != nd || memcmp(g->shape, sh, sizeof(int64_t) * (size_t)nd))
    return lu_error(L, "backward", "grad_output must be %s, got %s", shape_str(nd, sh, b, sizeof b),
                    tensor_shape_str(g, a, sizeof a));
  if (g->dtype != DT_FLOAT32 || !tensor_is_contiguous(g)) {
    g = lt_push_copy(L, g, DT_FLOAT32, "backward");
    lua_replace(L, 3);
  }
  Tensor *din = lt_push_uninit(L, DT_FLOAT32, X->ndim, X->shape, "backward");
  memcpy(m->g1, tensor_f32(g), (size_t)(B * K) * sizeof(float));
  float *res = model_backward(m, B, m->g1, 0, 0, 1, NULL);
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

static void set_num(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

/* model:evaluate(X, y [, batch]) -> {loss=, accuracy=} */
static int l_model_evaluate(lua_State *L) {
  ModelUD *u = check_model(L, 1);
  Model *m = &u->m;
  char err[NN_ERRLEN];
  lua_Integer batch = luaL_optinteger(L, 4, 256);
  if (u->loss == LOSS_NONE) return lu_error(L, "evaluate", "compile the model first (it names the loss)");
  if (batch < 1) return lu_error(L, "evaluate", "batch_size must be >= 1, got %I", (lua_Integer)batch);
  Tensor *X = nn_model_input(L, 1, 2, "evaluate");
  Tensor *y = nn_model_labels(L, 3, X->shape[0], m->feat[m->n], "evaluate");
  double loss, acc;
  if (trainer_evaluate(m, u->loss, X, tensor_i32(y), 0, X->shape[0], batch, &loss, &acc, err))
    lu_raise(L, "evaluate", err);
  lua_createtable(L, 0, 2);
  set_num(L, "loss", loss);
  set_num(L, "accuracy", acc);
  return 1;
}

/* model:predict(X [, batch]) -> N x K float32 (N, then the output shape) */
static int l_model_predict(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  char err[NN_ERRLEN];
  lua_Integer batch = luaL_optinteger(L, 3, 256);
  if (batch < 1) return lu_error(L, "predict", "batch_size must be >= 1, got %I", (lua_Integer)batch);
  Tensor *X = nn_model_input(L, 1, 2, "predict");
  int64_t sh[TENSOR_MAXDIM + 1];
  Tensor *out = lt_push_uninit(L, DT_FLOAT32, batch_shape(m, X->shape[0], sh), sh, "predict");
  if (trainer_predict(m, X, sh[0], batch, tensor_f32(out), err)) lu_raise(L, "predict", err);
  return 1;
}

/* model:activations(X [, batch]) -> {out of layer 1, ..., out of layer n},
 * each N, then that layer's output shape (Keras: a Model whose outputs are
 * every layer's output, then predict). */
static int l_model_activations(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  char err[NN_ERRLEN];
  float *outs[NN_MAXLAYERS];
  lua_Integer batch = luaL_optinteger(L, 3, 256);
  if (batch < 1) return lu_error(L, "activations", "batch_size must be >= 1, got %I", (lua_Integer)batch);
  Tensor *X = nn_model_input(L, 1, 2, "activations");
  int64_t sh[TENSOR_MAXDIM + 1];
  sh[0] = X->shape[0];
  lua_createtable(L, m->n, 0);
  for (int i = 0; i < m->n; i++) {
    memcpy(sh + 1, m->shape[i + 1].d, sizeof(int64_t) * (size_t)m->shape[i + 1].nd);
    outs[i] = tensor_f32(lt_push_uninit(L, DT_FLOAT32, m->shape[i + 1].nd + 1, sh, "activations"));
    lua_rawseti(L, -2, i + 1);
  }
  if (trainer_activations(m, X, sh[0], batch, outs, err)) lu_raise(L, "activations", err);
  return 1;
}

static int l_model_save(lua_State *L) {
  Model *m = &check_model(L, 1)->m;
  const char *path = luaL_checkstring(L, 2);
  char err[NN_ERRLEN];
  if (model_save(m, path, err)) return lu_raise(L, "save", err);
  return 0;
}

/* nn.load(path): the C core reads and checks the file (model_io.c); the
 * layers are made again from what it read, and their tensors filled with
 * the saved values once the model is planned for the saved input shape. */
static int l_nn_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[NN_ERRLEN];
  Shape tshape[LAYER_MAXTENSORS];
  ModelDesc *d = lua_newuserdatauv(L, sizeof(ModelDesc), 0);
  void **box = lu_push_box(L);
  if (model_load(path, d, (unsigned char **)box, err)) return lu_raise(L, "nn.load", err);
  ModelUD *u = push_model(L);
  int midx = lua_gettop(L);
  for (int i = 0; i < d->n; i++) {
    Layer *l = nn_push_layer(L, d->layers[i].kind);
    memcpy(l->conf, d->layers[i].conf, sizeof l->conf);
    model_append(L, midx, lua_gettop(L));
    lua_pop(L, 1);
  }
  if (d->in.nd == 0) {
    /* not built, but a layer may have come from a built model: its tensors
     * keep the shapes saved, and the model checks them when it is planned */
    lua_getiuservalue(L, midx, MV_LAYERS);
    for (int i = 0; i < d->n; i++) {
      const LayerDesc *ld = &d->layers[i];
      const void *data[LAYER_MAXTENSORS];
      if (!ld->ntensors) continue;
      for (int k = 0; k < ld->ntensors; k++) { tshape[k] = ld->t[k].shape; data[k] = ld->t[k].data; }
      lua_rawgeti(L, -1, i + 1);
      nn_layer_build(L, -1, NULL, tshape, data);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lu_box_free(box);
    return 1;
  }
  if (model_plan(&u->m, &d->in, err)) return lu_error(L, "nn.load", "%s: %s", path, err);
  lua_getiuservalue(L, midx, MV_LAYERS);
  for (int i = 0; i < d->n; i++) {
    const LayerDesc *ld = &d->layers[i];
    const void *data[LAYER_MAXTENSORS];
    if (!ld->kind->ntensors) continue;
    if (model_layer_tensor_shapes(&u->m, i, tshape, err)) return lu_error(L, "nn.load", "%s: %s", path, err);
    if (ld->ntensors != ld->kind->ntensors)
      return lu_error(L, "nn.load", "%s: corrupt model file (%s %d has no %s)", path, ld->kind->name, i + 1,
                      ld->kind->tensors[0].name);
    for (int k = 0; k < ld->ntensors; k++) {
      const Shape *want = &tshape[k], *got = &ld->t[k].shape;
      if (want->nd != got->nd || memcmp(want->d, got->d, sizeof(int64_t) * (size_t)want->nd))
        return lu_error(L, "nn.load", "%s: corrupt model file (%s %d: %s does not fit its input)", path,
                        ld->kind->name, i + 1, ld->kind->tensors[k].name);
      data[k] = ld->t[k].data;
    }
    lua_rawgeti(L, -1, i + 1);
    nn_layer_build(L, -1, &u->m.shape[i], tshape, data);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  u->m.built = 1;
  lu_box_free(box);
  return 1;
}

/* model:_info() -> built, {{name=, activation=, shape={...}, params=, trainable=}, ...}:
 * activation only for kinds that take one as an option; shape when built,
 * or when the kind knows it without its input (Dense: its units). */
static int l_model_info(lua_State *L) {
  Model *m = nn_check_model(L, 1);
  char err[NN_ERRLEN];
  Shape tshape[LAYER_MAXTENSORS], out;
  lua_pushboolean(L, m->built);
  lua_createtable(L, m->n, 0);
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    const OptionSpec *act = layer_option(l->kind, "activation");
    const Shape *shape = m->built ? &m->shape[i + 1]
                         : l->kind->plan(l, NULL, &out, tshape, err) == 0 ? &out : NULL;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, l->kind->name);
    lua_setfield(L, -2, "name");
    if (act) { lu_push_option(L, l->conf, act); lua_setfield(L, -2, "activation"); }
    if (shape) {
      lua_createtable(L, shape->nd, 0);
      for (int k = 0; k < shape->nd; k++) { lua_pushinteger(L, shape->d[k]); lua_rawseti(L, -2, k + 1); }
      lua_setfield(L, -2, "shape");
    }
    lua_pushinteger(L, layer_param_count(l));
    lua_setfield(L, -2, "params");
    lua_pushinteger(L, layer_trainable_count(l));
    lua_setfield(L, -2, "trainable");
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
    {"_fit", nn_model_fit},       {"evaluate", l_model_evaluate}, {"predict", l_model_predict},
    {"activations", l_model_activations},
    {"save", l_model_save},       {"_info", l_model_info},        {NULL, NULL}};
  luaL_newmetatable(L, MODEL_MT);
  lua_pushcfunction(L, l_model_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_model_index);
  lua_setfield(L, -2, "__index");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "methods");
  lua_setfield(L, -2, "model_mt"); /* _nn.model_mt: nn.lua adds summary, __tostring, ... */
  lua_pushcfunction(L, l_nn_sequential);
  lua_setfield(L, -2, "Sequential");
  lua_pushcfunction(L, l_nn_load);
  lua_setfield(L, -2, "load");
}
