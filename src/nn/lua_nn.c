/* lua_nn.c — the _nn module: layer userdata (nnlab.Dense, nnlab.Flatten, ...)
 * with their live parameter tensors in user values, the optimizer userdata
 * (nnlab.Optimizer) with its per-parameter state, and the loss kernels for
 * hand-written loops. The Sequential model lives in lua_model.c. */
#include "lua_nn.h"
#include "lua_tensor.h"

#include <math.h>
#include <string.h>

/* User values of a layer: 1 W, 2 b, 3 dW, 4 db. */
enum { UV_W = 1, UV_B, UV_DW, UV_DB, UV_NLAYER = UV_DB };

static const char *const MT_NAMES[L_NKINDS] = {"nnlab.Dense", "nnlab.Flatten", "nnlab.Rescaling",
                                               "nnlab.ReLU", "nnlab.Sigmoid", "nnlab.Tanh",
                                               "nnlab.Softmax", "nnlab.Dropout"};

Layer *nn_check_layer(lua_State *L, int idx, const char *who) {
  Layer *l = NULL;
  if (lua_getmetatable(L, idx)) {
    lua_getfield(L, -1, "__nnlab_layer");
    if (lua_toboolean(L, -1)) l = lua_touserdata(L, idx);
    lua_pop(L, 2);
  }
  if (!l) luaL_error(L, "%s: layer expected (nn.Dense, nn.Flatten, ...), got %s", who, luaL_typename(L, idx));
  return l;
}

Layer *nn_push_layer(lua_State *L, LayerKind kind) {
  static const Activation own_act[L_NKINDS] = {ACT_LINEAR, ACT_LINEAR, ACT_LINEAR, ACT_RELU,
                                               ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX, ACT_LINEAR};
  Layer *l = lua_newuserdatauv(L, sizeof(Layer), UV_NLAYER);
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->act = own_act[kind];
  l->scale = 1.0f;
  luaL_setmetatable(L, MT_NAMES[kind]);
  return l;
}

/* Creates W, b, dW and db once the input size is known, and fills W and b
 * from W0 and b0 (a loaded model) or with the layer's initialisation
 * (layers.c: dense_init). */
void nn_layer_build(lua_State *L, int idx, int64_t n_in, const float *W0, const float *b0) {
  Layer *l = lua_touserdata(L, idx);
  int64_t shW[2] = {n_in, l->units}, shb[1] = {l->units};
  idx = lua_absindex(L, idx);
  Tensor *W = lt_push_new(L, DT_FLOAT32, 2, shW, "nn.Dense");
  Tensor *b = lt_push_new(L, DT_FLOAT32, 1, shb, "nn.Dense");
  Tensor *dW = lt_push_new(L, DT_FLOAT32, 2, shW, "nn.Dense");
  Tensor *db = lt_push_new(L, DT_FLOAT32, 1, shb, "nn.Dense");
  for (int k = UV_DB; k >= UV_W; k--) lua_setiuservalue(L, idx, k);
  l->W = W; l->b = b; l->dW = dW; l->db = db;
  if (!W0) {
    dense_init(l, n_in);
    return;
  }
  memcpy(tensor_f32(W), W0, (size_t)(n_in * l->units) * sizeof(float));
  memcpy(tensor_f32(b), b0, (size_t)l->units * sizeof(float));
}

/* ---- constructors -------------------------------------------------------- */

/* The initialisation named by the "init" option of the table at opts
 * (none: glorot_uniform); any other key is an error. The table is read raw,
 * as it is walked. */
static Init dense_init_option(lua_State *L, int opts) {
  Init init = INIT_GLOROT_UNIFORM;
  size_t len;
  if (lua_isnoneornil(L, opts)) return init;
  if (!lua_istable(L, opts))
    luaL_error(L, "nn.Dense: expected an options table {init=...}, got %s", luaL_typename(L, opts));
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!k || len != 4 || memcmp(k, "init", 4) != 0)
      luaL_error(L, "nn.Dense: unknown option '%s'%s (expected init)", luaL_tolstring(L, -1, NULL),
                 k && strlen(k) != len ? " with a zero byte" : "");
  }
  lua_pushliteral(L, "init");
  if (lua_rawget(L, opts) != LUA_TNIL) {
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    int i = name && strlen(name) == len ? init_from_name(name) : -1;
    if (i < 0)
      luaL_error(L, "nn.Dense: unknown init %s%s%s%s (expected glorot_uniform, he_uniform, "
                 "lecun_uniform or torch)", name ? "'" : "a ", name ? name : luaL_typename(L, -1),
                 name ? "'" : "", name && strlen(name) != len ? " with a zero byte" : "");
    init = (Init)i;
  }
  lua_pop(L, 1);
  return init;
}

/* nn.Dense(units [, activation] [, {init=}]); the activation may be left out
 * before the options table. */
static int l_nn_dense(lua_State *L) {
  lua_Integer units = luaL_checkinteger(L, 1);
  int opts = lua_istable(L, 2) ? 2 : 3;
  if (opts == 2 && !lua_isnone(L, 3))
    return luaL_error(L, "nn.Dense: the options table comes last (nn.Dense(units [, activation] "
                      "[, {init=}])), got a %s after it", luaL_typename(L, 3));
  const char *act = opts == 2 ? "linear" : luaL_optstring(L, 2, "linear");
  int a = activation_from_name(act);
  if (units < 1 || units > (1 << 24))
    return luaL_error(L, "nn.Dense: units must be an integer in 1..%d, got %I", 1 << 24, units);
  if (a < 0)
    return luaL_error(L, "nn.Dense: unknown activation '%s' (expected relu, sigmoid, tanh, softmax or linear)", act);
  Init init = dense_init_option(L, opts);
  Layer *l = nn_push_layer(L, L_DENSE);
  l->units = units;
  l->act = (Activation)a;
  l->init = init;
  return 1;
}

static int l_nn_rescaling(lua_State *L) {
  double s = luaL_checknumber(L, 1), o = luaL_optnumber(L, 2, 0.0);
  Layer *l = nn_push_layer(L, L_RESCALING);
  l->scale = (float)s;
  l->offset = (float)o;
  return 1;
}

static int l_nn_dropout(lua_State *L) {
  double p = luaL_checknumber(L, 1);
  if (!(p >= 0 && p < 1)) return luaL_error(L, "nn.Dropout: p must be in [0, 1), got %f", p);
  nn_push_layer(L, L_DROPOUT)->p = (float)p;
  return 1;
}

#define SIMPLE_LAYER(fname, kind) \
  static int fname(lua_State *L) { nn_push_layer(L, kind); return 1; }
SIMPLE_LAYER(l_nn_flatten, L_FLATTEN)
SIMPLE_LAYER(l_nn_relu, L_RELU)
SIMPLE_LAYER(l_nn_sigmoid, L_SIGMOID)
SIMPLE_LAYER(l_nn_tanh, L_TANH)
SIMPLE_LAYER(l_nn_softmax, L_SOFTMAX)

/* ---- layer fields --------------------------------------------------------- */

static int uv_of(const char *k) {
  if (strcmp(k, "W") == 0) return UV_W;
  if (strcmp(k, "b") == 0) return UV_B;
  if (strcmp(k, "dW") == 0) return UV_DW;
  if (strcmp(k, "db") == 0) return UV_DB;
  return 0;
}

static int l_layer_index(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  const char *k = luaL_checkstring(L, 2);
  int uv = uv_of(k);
  if (uv && l->kind == L_DENSE) lua_getiuservalue(L, 1, uv);
  else if (strcmp(k, "name") == 0) lua_pushstring(L, layer_kind_name(l->kind));
  else if (strcmp(k, "units") == 0 && l->kind == L_DENSE) lua_pushinteger(L, l->units);
  else if (strcmp(k, "init") == 0 && l->kind == L_DENSE) lua_pushstring(L, init_name(l->init));
  else if (strcmp(k, "activation") == 0) lua_pushstring(L, activation_name(l->act));
  else if (strcmp(k, "scale") == 0 && l->kind == L_RESCALING) lua_pushnumber(L, l->scale);
  else if (strcmp(k, "offset") == 0 && l->kind == L_RESCALING) lua_pushnumber(L, l->offset);
  else if (strcmp(k, "p") == 0 && l->kind == L_DROPOUT) lua_pushnumber(L, l->p);
  else lua_pushnil(L);
  return 1;
}

/* layer.W = t copies t's values into the layer's own W (same shape). */
static int l_layer_newindex(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  const char *k = luaL_checkstring(L, 2);
  int uv = uv_of(k);
  char err[TENSOR_ERRLEN], a[64], b[64];
  if (l->kind != L_DENSE || (uv != UV_W && uv != UV_B))
    return luaL_error(L, "%s: cannot set field '%s' (settable: W and b of a Dense layer)",
                      layer_kind_name(l->kind), k);
  Tensor *src = lt_check(L, 3);
  lua_getiuservalue(L, 1, uv);
  Tensor *dst = lt_test(L, -1);
  if (!dst) return luaL_error(L, "Dense: %s does not exist yet (the input size is inferred on first use)", k);
  if (dst->ndim != src->ndim || memcmp(dst->shape, src->shape, sizeof(int64_t) * (size_t)dst->ndim))
    return luaL_error(L, "Dense: %s must keep its shape %s, got %s", k,
                      tensor_shape_str(dst, a, sizeof a), tensor_shape_str(src, b, sizeof b));
  if (tensor_copy_into(dst, src, err)) return luaL_error(L, "Dense: %s", err);
  return 0;
}

static int l_layer_tostring(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  switch (l->kind) {
  case L_DENSE:
    if (l->init == INIT_GLOROT_UNIFORM)
      lua_pushfstring(L, "Dense(%d, \"%s\")", (int)l->units, activation_name(l->act));
    else
      lua_pushfstring(L, "Dense(%d, \"%s\", {init=\"%s\"})", (int)l->units,
                      activation_name(l->act), init_name(l->init));
    break;
  case L_RESCALING:
    lua_pushfstring(L, "Rescaling(%f, %f)", (double)l->scale, (double)l->offset);
    break;
  case L_DROPOUT:
    lua_pushfstring(L, "Dropout(%f)", (double)l->p);
    break;
  default:
    lua_pushfstring(L, "%s()", layer_kind_name(l->kind));
  }
  return 1;
}

/* ---- optimizers ------------------------------------------------------------ */

Optim *nn_check_optim(lua_State *L, int idx) { return luaL_checkudata(L, idx, OPTIM_MT); }

static double num_field(lua_State *L, int t, const char *k, double dflt) {
  double v;
  lua_getfield(L, t, k);
  v = lua_isnil(L, -1) ? dflt : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* _nn.optimizer(kind, cfg): cfg keys were checked by optim.lua. */
static int l_nn_optimizer(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  Optim *o = lua_newuserdatauv(L, sizeof(Optim), 1);
  memset(o, 0, sizeof *o);
  luaL_setmetatable(L, OPTIM_MT);
  o->kind = strcmp(kind, "adam") == 0 ? OPT_ADAM : OPT_SGD;
  o->lr = num_field(L, 2, "lr", o->kind == OPT_ADAM ? 0.001 : 0.01);
  o->momentum = num_field(L, 2, "momentum", 0);
  o->weight_decay = num_field(L, 2, "weight_decay", 0);
  o->beta1 = num_field(L, 2, "beta1", 0.9);
  o->beta2 = num_field(L, 2, "beta2", 0.999);
  o->eps = num_field(L, 2, "eps", 1e-8);
  lua_getfield(L, 2, "nesterov");
  o->nesterov = lua_toboolean(L, -1);
  lua_pop(L, 1);
  /* state: weak-keyed table parameter tensor -> {s1, s2} */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

void nn_optim_state(lua_State *L, int optidx, int pidx, int64_t n) {
  optidx = lua_absindex(L, optidx);
  pidx = lua_absindex(L, pidx);
  lua_getiuservalue(L, optidx, 1);
  lua_pushvalue(L, pidx);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 2, 0);
    for (int i = 1; i <= 2; i++) {
      lt_push_new(L, DT_FLOAT32, 1, &n, "optimizer");
      lua_rawseti(L, -2, i);
    }
    lua_pushvalue(L, pidx);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_rawgeti(L, -1, 1);
  lua_rawgeti(L, -2, 2);
  lua_remove(L, -3);
  lua_remove(L, -3);
}

static int l_optim_index(lua_State *L) {
  Optim *o = nn_check_optim(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "lr") == 0) lua_pushnumber(L, o->lr);
  else if (strcmp(k, "momentum") == 0) lua_pushnumber(L, o->momentum);
  else if (strcmp(k, "weight_decay") == 0) lua_pushnumber(L, o->weight_decay);
  else if (strcmp(k, "nesterov") == 0) lua_pushboolean(L, o->nesterov);
  else if (strcmp(k, "steps") == 0) lua_pushinteger(L, o->t);
  else if (strcmp(k, "kind") == 0) lua_pushstring(L, o->kind == OPT_ADAM ? "adam" : "sgd");
  else if (o->kind == OPT_ADAM && strcmp(k, "beta1") == 0) lua_pushnumber(L, o->beta1);
  else if (o->kind == OPT_ADAM && strcmp(k, "beta2") == 0) lua_pushnumber(L, o->beta2);
  else if (o->kind == OPT_ADAM && strcmp(k, "eps") == 0) lua_pushnumber(L, o->eps);
  else {
    luaL_getmetatable(L, OPTIM_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

/* optimizer.lr = x changes the learning rate (for schedules). */
static int l_optim_newindex(lua_State *L) {
  Optim *o = nn_check_optim(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "lr") != 0) return luaL_error(L, "optimizer: cannot set field '%s' (settable: lr)", k);
  double v = luaL_checknumber(L, 3);
  if (!(v > 0)) return luaL_error(L, "optimizer: lr must be positive, got %f", v);
  o->lr = v;
  return 0;
}

static int l_optim_tostring(lua_State *L) {
  Optim *o = nn_check_optim(L, 1);
  if (o->kind == OPT_ADAM)
    lua_pushfstring(L, "optim.adam{lr=%f, beta1=%f, beta2=%f, eps=%f}", o->lr, o->beta1, o->beta2, o->eps);
  else
    lua_pushfstring(L, "optim.sgd{lr=%f, momentum=%f, nesterov=%s, weight_decay=%f}", o->lr,
                    o->momentum, o->nesterov ? "true" : "false", o->weight_decay);
  return 1;
}

/* ---- losses for hand-written loops ------------------------------------------ */

/* Output as a contiguous float32 B x K matrix, converted on the stack when needed. */
static Tensor *check_matrix(lua_State *L, int idx, const char *who) {
  Tensor *t = lt_check(L, idx);
  char b[64];
  if (t->ndim != 2) luaL_error(L, "%s: output must be 2-D (batch x classes), got %s", who, tensor_shape_str(t, b, sizeof b));
  if (t->dtype != DT_FLOAT32 || !tensor_is_contiguous(t)) {
    t = lt_push_copy(L, t, DT_FLOAT32, who);
    lua_replace(L, idx);
  }
  return t;
}

/* Labels as contiguous int32 1..K, converted on the stack when needed. */
static Tensor *check_labels(lua_State *L, int idx, int64_t B, int64_t K, const char *who) {
  Tensor *y = lt_check(L, idx);
  char b[64];
  if (y->ndim != 1 || y->shape[0] != B)
    luaL_error(L, "%s: labels must be a vector of %d class indices, got %s", who, (int)B, tensor_shape_str(y, b, sizeof b));
  return nn_labels(L, idx, K, who);
}

Tensor *nn_labels(lua_State *L, int idx, int64_t K, const char *who) {
  Tensor *y = lt_check(L, idx);
  int64_t n = y->shape[0];
  /* Float labels are accepted when they are whole numbers; converting 1.5
   * would silently train on class 1. */
  if (y->dtype == DT_FLOAT32)
    for (int64_t i = 0; i < n; i++) {
      double v = tensor_get_flat(y, i);
      if (v != floor(v) || fabs(v) > 2147483647.0)
        luaL_error(L, "%s: expected whole class indices 1..%d, got label %f at position %d", who,
                   (int)K, v, (int)i + 1);
    }
  if (y->dtype != DT_INT32 || !tensor_is_contiguous(y)) {
    y = lt_push_copy(L, y, DT_INT32, who);
    lua_replace(L, idx);
  }
  int64_t bad = labels_check(tensor_i32(y), n, K);
  if (bad >= 0)
    luaL_error(L, "%s: label %d (at position %d) is outside 1..%d", who, (int)tensor_i32(y)[bad],
               (int)bad + 1, (int)K);
  return y;
}

/* _nn.loss(kind, output, y, want_grad, from_logits) -> loss [, grad] */
static int l_nn_loss(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  int mse = strcmp(kind, "mse") == 0, want = lua_toboolean(L, 4), logits = lua_toboolean(L, 5);
  const char *who = mse ? "MSELoss" : "CrossEntropyLoss";
  Tensor *o = check_matrix(L, 2, who), *y = lt_check(L, 3), *target = NULL;
  int64_t B = o->shape[0], K = o->shape[1], correct = 0;
  char a[64], b[64];
  if (mse && y->ndim == 2) {
    if (y->shape[0] != B || y->shape[1] != K)
      return luaL_error(L, "MSELoss: target shape %s differs from output shape %s", tensor_shape_str(y, a, sizeof a), tensor_shape_str(o, b, sizeof b));
    target = check_matrix(L, 3, who);
  } else {
    y = check_labels(L, 3, B, K, who);
  }
  float *g = NULL;
  if (want) g = tensor_f32(lt_push_uninit(L, DT_FLOAT32, 2, o->shape, who));
  double l;
  if (mse) l = loss_mse(g, tensor_f32(o), target ? tensor_f32(target) : NULL, target ? NULL : tensor_i32(y), B, K, &correct);
  else if (logits) l = loss_ce_logits(g, tensor_f32(o), tensor_i32(y), B, K, &correct);
  else l = loss_ce_probs(g, tensor_f32(o), tensor_i32(y), B, K, &correct);
  if (want) return 1;
  lua_pushnumber(L, l);
  return 1;
}

static void new_layer_mt(lua_State *L, const char *name) {
  luaL_newmetatable(L, name);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "__nnlab_layer");
  lua_pushcfunction(L, l_layer_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_layer_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, l_layer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

int luaopen_nnlab_nn(lua_State *L);

int luaopen_nnlab_nn(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Dense", l_nn_dense},     {"Flatten", l_nn_flatten}, {"Rescaling", l_nn_rescaling},
    {"ReLU", l_nn_relu},       {"Sigmoid", l_nn_sigmoid}, {"Tanh", l_nn_tanh},
    {"Softmax", l_nn_softmax}, {"Dropout", l_nn_dropout}, {"optimizer", l_nn_optimizer},
    {"loss", l_nn_loss},       {NULL, NULL}};
  for (int k = 0; k < L_NKINDS; k++) new_layer_mt(L, MT_NAMES[k]);
  luaL_newmetatable(L, OPTIM_MT);
  lua_pushcfunction(L, l_optim_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_optim_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, l_optim_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lua_setfield(L, -2, "methods"); /* filled by lua_model.c (step) */
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  nn_open_model(L);
  return 1;
}
