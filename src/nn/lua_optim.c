/* lua_optim.c — the _optim module: optimizer userdata (nnlab.Optimizer)
 * made by optim.sgd{...} and optim.adam{...} (options read by the one
 * option reader), their per-tensor state (momentum, Adam's moments: kept in
 * a weak table keyed by the parameter tensor), optimizer:step(model), and
 * the gathering of a model's trained tensors that fit shares. */
#include "lua_optim.h"
#include "lua_nn.h"
#include "lua_tensor.h"
#include "lua_util.h"

#include <string.h>

/* torch.optim's defaults; the names in the order messages list them. */
static const OptionSpec SGD_OPTIONS[] = {
  {"lr", OPTION_DOUBLE, offsetof(Optim, lr), 0, 0, 0.01, 0, 0, '(', 0, NULL, NULL},
  {"momentum", OPTION_DOUBLE, offsetof(Optim, momentum), 0, 0, 0, 0, 0, '[', 0, NULL, NULL},
  {"nesterov", OPTION_BOOL, offsetof(Optim, nesterov), 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
  {"weight_decay", OPTION_DOUBLE, offsetof(Optim, weight_decay), 0, 0, 0, 0, 0, '[', 0, NULL, NULL},
};
static const OptionSpec ADAM_OPTIONS[] = {
  {"beta1", OPTION_DOUBLE, offsetof(Optim, beta1), 0, 0, 0.9, 0, 1, '[', ')', NULL, NULL},
  {"beta2", OPTION_DOUBLE, offsetof(Optim, beta2), 0, 0, 0.999, 0, 1, '[', ')', NULL, NULL},
  {"eps", OPTION_DOUBLE, offsetof(Optim, eps), 0, 0, 1e-8, 0, 0, '(', 0, NULL, NULL},
  {"lr", OPTION_DOUBLE, offsetof(Optim, lr), 0, 0, 0.001, 0, 0, '(', 0, NULL, NULL},
  {"weight_decay", OPTION_DOUBLE, offsetof(Optim, weight_decay), 0, 0, 0, 0, 0, '[', 0, NULL, NULL},
};

Optim *nn_check_optim(lua_State *L, int idx) { return luaL_checkudata(L, idx, OPTIM_MT); }

/* A new optimizer of kind k with the options at index 1; its user value is
 * the state table (weak keys: a parameter tensor -> {s1, s2}). */
static Optim *push_optim(lua_State *L, OptKind k, const char *who, const OptionSpec *specs, int n) {
  Optim o;
  memset(&o, 0, sizeof o);
  o.kind = k;
  lu_read_options(L, 1, who, who, specs, n, &o);
  Optim *u = lua_newuserdatauv(L, sizeof(Optim), 1);
  *u = o;
  luaL_setmetatable(L, OPTIM_MT);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setiuservalue(L, -2, 1);
  return u;
}

/* optim.sgd{lr=0.01, momentum=0, nesterov=false, weight_decay=0} */
static int l_optim_sgd(lua_State *L) {
  Optim *o = push_optim(L, OPT_SGD, "optim.sgd", SGD_OPTIONS, 4);
  if (o->nesterov && !(o->momentum > 0))
    return lu_error(L, "optim.sgd", "nesterov needs a momentum > 0, got %f", o->momentum);
  return 1;
}

/* optim.adam{lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0} */
static int l_optim_adam(lua_State *L) {
  push_optim(L, OPT_ADAM, "optim.adam", ADAM_OPTIONS, 5);
  return 1;
}

/* Pushes the optimizer's state tensors for the parameter tensor at pidx
 * (created zero-filled, of n elements, on first use): pushes 2 values. */
static void push_state(lua_State *L, int optidx, int pidx, int64_t n) {
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

/* Walks every layer's declared tensors in order; those with a gradient are
 * trained. The user value of tensor k of a layer is 2k+1 (lua_nn.c). */
void nn_collect_params(lua_State *L, int midx, int optidx, ParamSet *ps) {
  Model *m = nn_check_model(L, midx);
  ps->n = 0;
  nn_push_model_layers(L, midx);
  for (int i = 0; i < m->n; i++) {
    Layer *l = m->layers[i];
    if (!l->kind->ntensors || !l->t[0]) continue;
    lua_rawgeti(L, -1, i + 1);
    for (int k = 0; k < l->kind->ntensors; k++) {
      if (!l->kind->tensors[k].grad) continue;
      lua_getiuservalue(L, -1, 2 * k + 1);
      push_state(L, optidx, -1, tensor_numel(l->t[k]));
      ps->p[ps->n] = tensor_f32(l->t[k]);
      ps->g[ps->n] = tensor_f32(l->grad[k]);
      ps->s1[ps->n] = tensor_f32(lt_check(L, -2));
      ps->s2[ps->n] = tensor_f32(lt_check(L, -1));
      ps->len[ps->n] = tensor_numel(l->t[k]);
      ps->layer[ps->n] = i;
      ps->tensor[ps->n] = k;
      ps->folded[ps->n] = 0;
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
  Model *m = nn_check_model(L, 2);
  ParamSet *ps = lu_push_buffer(L, sizeof(ParamSet), "step");
  if (!m->built) return lu_error(L, "step", "the model has no weights yet (run forward and backward first)");
  nn_collect_params(L, 2, 1, ps);
  optim_step(o, ps);
  return 0;
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
  if (strcmp(k, "lr") != 0) return lu_error(L, "optimizer", "cannot set field '%s' (settable: lr)", k);
  double v = luaL_checknumber(L, 3);
  if (!(v > 0)) return lu_error(L, "optimizer", "lr must be positive, got %f", v);
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

int luaopen_nnlab_optim(lua_State *L) {
  static const luaL_Reg fns[] = {{"sgd", l_optim_sgd}, {"adam", l_optim_adam}, {NULL, NULL}};
  static const luaL_Reg methods[] = {{"step", l_optim_step}, {NULL, NULL}};
  luaL_newmetatable(L, OPTIM_MT);
  lua_pushcfunction(L, l_optim_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_optim_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, l_optim_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "methods");
  luaL_newlib(L, fns);
  lua_insert(L, -2);
  lua_setfield(L, -2, "optimizer_mt");
  return 1;
}
