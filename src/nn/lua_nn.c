/* lua_nn.c — the _nn module: layer userdata (nnlab.Dense, nnlab.Flatten,
 * ...), one constructor and one metatable per row of the table of kinds
 * (layer_table.c), with their declared tensors live in user values, their
 * options read by the one option reader (lua_util.h); and the loss kernels
 * for hand-written loops. The Sequential model lives in lua_model.c, the
 * optimizers in lua_optim.c. Nothing here names a kind. */
#include "lua_nn.h"
#include "lua_tensor.h"
#include "lua_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* User values of a layer: tensor k at 2k+1, its gradient at 2k+2. */
#define UV_TENSOR(k) (2 * (k) + 1)
#define UV_GRAD(k) (2 * (k) + 2)
#define UV_NLAYER (2 * LAYER_MAXTENSORS)

Layer *nn_check_layer(lua_State *L, int idx, const char *who) {
  Layer *l = NULL;
  if (lua_getmetatable(L, idx)) {
    lua_getfield(L, -1, "__nnlab_layer");
    if (lua_toboolean(L, -1)) l = lua_touserdata(L, idx);
    lua_pop(L, 2);
  }
  if (!l)
    lu_error(L, who, "layer expected (nn.%s, nn.%s, ...), got %s", layer_kinds[0]->name,
             layer_kinds[1]->name, luaL_typename(L, idx));
  return l;
}

static void push_mt_name(lua_State *L, const LayerKind *k) { lua_pushfstring(L, "nnlab.%s", k->name); }

Layer *nn_push_layer(lua_State *L, const LayerKind *k) {
  Layer *l = lua_newuserdatauv(L, sizeof(Layer), UV_NLAYER);
  memset(l, 0, sizeof *l);
  l->kind = k;
  options_defaults(l->conf, k->options, k->noptions);
  char mt[48];
  snprintf(mt, sizeof mt, "nnlab.%s", k->name);
  luaL_setmetatable(L, mt);
  return l;
}

void nn_layer_build(lua_State *L, int idx, const Shape *in, const Shape *tshape,
                    const void *const *data) {
  Layer *l = lua_touserdata(L, idx);
  const LayerKind *k = l->kind;
  char who[48];
  idx = lua_absindex(L, idx);
  snprintf(who, sizeof who, "nn.%s", k->name);
  for (int i = 0; i < k->ntensors; i++) {
    Tensor *t = lt_push_new(L, DT_FLOAT32, tshape[i].nd, tshape[i].d, who);
    lua_setiuservalue(L, idx, UV_TENSOR(i));
    Tensor *g = NULL;
    if (k->tensors[i].grad) {
      g = lt_push_new(L, DT_FLOAT32, tshape[i].nd, tshape[i].d, who);
      lua_setiuservalue(L, idx, UV_GRAD(i));
    }
    l->t[i] = t;
    l->grad[i] = g;
    if (data) memcpy(tensor_f32(t), data[i], (size_t)tensor_numel(t) * sizeof(float));
  }
  if (!data && k->init) k->init(l, in);
}

/* ---- constructors: nn.<Kind>(...) ----------------------------------------- */

/* The constructor of every kind; upvalue 1 is the kind. */
static int l_nn_layer(lua_State *L) {
  const LayerKind *k = lua_touserdata(L, lua_upvalueindex(1));
  _Alignas(double) unsigned char conf[LAYER_CONF_BYTES];
  char who[48];
  snprintf(who, sizeof who, "nn.%s", k->name);
  lu_read_options(L, 1, who, k->usage, k->options, k->noptions, conf);
  Layer *l = nn_push_layer(L, k);
  memcpy(l->conf, conf, sizeof conf);
  return 1;
}

/* ---- layer fields ----------------------------------------------------------- */

/* The user value holding field k (a declared tensor or gradient), or 0. */
static int tensor_uv(const LayerKind *kind, const char *k, int values_only) {
  for (int i = 0; i < kind->ntensors; i++) {
    if (strcmp(k, kind->tensors[i].name) == 0) return UV_TENSOR(i);
    if (!values_only && kind->tensors[i].grad && strcmp(k, kind->tensors[i].grad) == 0) return UV_GRAD(i);
  }
  return 0;
}

/* layer.name, layer.<option>, layer.activation, layer.<tensor> */
static int l_layer_index(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  const char *k = luaL_checkstring(L, 2);
  const OptionSpec *o;
  int uv = tensor_uv(l->kind, k, 0);
  if (uv) lua_getiuservalue(L, 1, uv);
  else if (strcmp(k, "name") == 0) lua_pushstring(L, l->kind->name);
  else if ((o = layer_option(l->kind, k))) lu_push_option(L, l->conf, o);
  else if (strcmp(k, "activation") == 0) lua_pushstring(L, ACTIVATION_NAMES[l->kind->act]);
  else lua_pushnil(L);
  return 1;
}

/* layer.W = t copies t's values into the layer's own W (same shape). */
static int l_layer_newindex(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  const LayerKind *kind = l->kind;
  const char *k = luaL_checkstring(L, 2);
  int uv = tensor_uv(kind, k, 1);
  char err[TENSOR_ERRLEN], a[64], b[64], names[96] = "";
  if (!uv) {
    for (int i = 0; i < kind->ntensors; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
               kind->tensors[i].name);
    if (!kind->ntensors) return lu_error(L, kind->name, "cannot set field '%s' (a %s layer has none to set)", k, kind->name);
    return lu_error(L, kind->name, "cannot set field '%s' (settable: %s)", k, names);
  }
  Tensor *src = lt_check(L, 3);
  lua_getiuservalue(L, 1, uv);
  Tensor *dst = lt_test(L, -1);
  if (!dst) return lu_error(L, kind->name, "%s does not exist yet (the input size is inferred on first use)", k);
  if (dst->ndim != src->ndim || memcmp(dst->shape, src->shape, sizeof(int64_t) * (size_t)dst->ndim))
    return lu_error(L, kind->name, "%s must keep its shape %s, got %s", k,
                    tensor_shape_str(dst, a, sizeof a), tensor_shape_str(src, b, sizeof b));
  if (tensor_copy_into(dst, src, err)) return lu_raise(L, kind->name, err);
  return 0;
}

/* Dense(64, "relu"), Rescaling(0.5, 0.0), Flatten(): the call that makes it. */
static int l_layer_tostring(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  lu_push_call(L, l->kind->name, l->conf, l->kind->options, l->kind->noptions);
  return 1;
}

/* Frees what the kind cached (Conv2D's plans); safe to run twice. */
static int l_layer_gc(lua_State *L) {
  Layer *l = nn_check_layer(L, 1, "layer");
  if (l->cache && l->kind->release) l->kind->release(l);
  l->cache = NULL;
  return 0;
}

/* ---- losses for hand-written loops ------------------------------------------ */

/* Output as a contiguous float32 B x K matrix, converted on the stack when needed. */
static Tensor *check_matrix(lua_State *L, int idx, const char *who) {
  Tensor *t = lt_check(L, idx);
  char b[64];
  if (t->ndim != 2) lu_error(L, who, "output must be 2-D (batch x classes), got %s", tensor_shape_str(t, b, sizeof b));
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
    lu_error(L, who, "labels must be a vector of %d class indices, got %s", (int)B, tensor_shape_str(y, b, sizeof b));
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
        lu_error(L, who, "expected whole class indices 1..%d, got label %f at position %d",
                   (int)K, v, (int)i + 1);
    }
  if (y->dtype != DT_INT32 || !tensor_is_contiguous(y)) {
    y = lt_push_copy(L, y, DT_INT32, who);
    lua_replace(L, idx);
  }
  int64_t bad = labels_check(tensor_i32(y), n, K);
  if (bad >= 0)
    lu_error(L, who, "label %d (at position %d) is outside 1..%d", (int)tensor_i32(y)[bad],
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
      return lu_error(L, "MSELoss", "target shape %s differs from output shape %s", tensor_shape_str(y, a, sizeof a), tensor_shape_str(o, b, sizeof b));
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

/* _nn.kind_info(name) -> {name=, usage=, options={{name=, type=, position=,
 * required=, default=, lo=, hi=, names=}...}, tensors={{name=, grad=}...}}:
 * what a kind declares, for tests that cover every kind and for help. */
static int l_nn_kind_info(lua_State *L) {
  static const char *const TYPES[] = {"int", "int2", "float", "double", "bool", "name", "name_int"};
  const LayerKind *k = layer_kind_by_name(luaL_checkstring(L, 1));
  if (!k) return lu_error(L, "kind_info", "no layer kind named '%s'", lua_tostring(L, 1));
  lua_createtable(L, 0, 4);
  lua_pushstring(L, k->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, k->usage);
  lua_setfield(L, -2, "usage");
  lua_createtable(L, k->noptions, 0);
  for (int i = 0; i < k->noptions; i++) {
    const OptionSpec *o = &k->options[i];
    lua_createtable(L, 0, 8);
    lua_pushstring(L, o->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, TYPES[o->type]);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, o->position);
    lua_setfield(L, -2, "position");
    lua_pushboolean(L, o->required);
    lua_setfield(L, -2, "required");
    lua_pushnumber(L, o->dflt);
    lua_setfield(L, -2, "default");
    if (o->lo_end) { lua_pushnumber(L, o->lo); lua_setfield(L, -2, "lo"); }
    if (o->hi_end) { lua_pushnumber(L, o->hi); lua_setfield(L, -2, "hi"); }
    if (o->names) {
      lua_newtable(L);
      for (int j = 0; o->names[j]; j++) { lua_pushstring(L, o->names[j]); lua_rawseti(L, -2, j + 1); }
      lua_setfield(L, -2, "names");
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "options");
  lua_createtable(L, k->ntensors, 0);
  for (int i = 0; i < k->ntensors; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, k->tensors[i].name);
    lua_setfield(L, -2, "name");
    if (k->tensors[i].grad) { lua_pushstring(L, k->tensors[i].grad); lua_setfield(L, -2, "grad"); }
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "tensors");
  return 1;
}

static void new_layer_mt(lua_State *L, const LayerKind *k) {
  push_mt_name(L, k);
  luaL_newmetatable(L, lua_tostring(L, -1));
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "__nnlab_layer");
  lua_pushcfunction(L, l_layer_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_layer_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, l_layer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_layer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 2);
}

/* _nn: a constructor per kind (and _nn.kinds, their names in table order;
 * _nn.kind_info), loss, Sequential, load, model_mt. */
int luaopen_nnlab_nn(lua_State *L) {
  static const luaL_Reg fns[] = {{"loss", l_nn_loss}, {"kind_info", l_nn_kind_info},
                                 {"fit_words", nn_fit_words},  {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_newtable(L);
  for (int i = 0; layer_kinds[i]; i++) {
    const LayerKind *k = layer_kinds[i];
    new_layer_mt(L, k);
    lua_pushlightuserdata(L, (void *)k);
    lua_pushcclosure(L, l_nn_layer, 1);
    lua_setfield(L, -3, k->name);
    lua_pushstring(L, k->name);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "kinds");
  nn_open_model(L);
  return 1;
}
