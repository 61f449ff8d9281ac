/* lua_tensor_new.c — the creating functions of the tensor module: new (from
 * nested tables), zeros, ones, full, arange, rand, randn and seed. Shapes
 * are a table {2,3} or sizes 2,3, optionally followed by a dtype name. */
#include "lua_tensor.h"
#include "lua_tensor_ops.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- creation ---------------------------------------------------------- */

/* zeros/ones/rand/randn: shape (table or sizes) then an optional dtype. */
static int shape_and_dtype(lua_State *L, int64_t *shape, DType *dt, const char *who) {
  int top = lua_gettop(L), ndim;
  if (lua_istable(L, 1)) {
    ndim = lt_read_sizes(L, 1, 1, shape, 0, who);
    *dt = lt_opt_dtype(L, 2, who);
  } else {
    int last = top;
    if (top >= 1 && lua_type(L, top) == LUA_TSTRING) last = top - 1;
    ndim = lt_read_sizes(L, 1, last, shape, 0, who);
    *dt = lt_opt_dtype(L, last + 1, who);
  }
  return ndim;
}

static int l_tensor_zeros(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  DType dt;
  int nd = shape_and_dtype(L, shape, &dt, "tensor.zeros");
  lt_push_new(L, dt, nd, shape, "tensor.zeros");
  return 1;
}

static int l_tensor_ones(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  DType dt;
  int nd = shape_and_dtype(L, shape, &dt, "tensor.ones");
  tensor_fill(lt_push_uninit(L, dt, nd, shape, "tensor.ones"), 1);
  return 1;
}

/* full(shape_table, v [, dtype]) or full(d1, d2, ..., v [, dtype]). */
static int l_tensor_full(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  int top = lua_gettop(L), nd, vi;
  DType dt;
  if (lua_istable(L, 1)) {
    nd = lt_read_sizes(L, 1, 1, shape, 0, "tensor.full");
    vi = 2;
  } else {
    vi = top;
    if (top >= 1 && lua_type(L, top) == LUA_TSTRING) vi = top - 1;
    if (vi < 1) luaL_error(L, "tensor.full: expected a shape and a value, got nothing");
    nd = lt_read_sizes(L, 1, vi - 1, shape, 0, "tensor.full");
  }
  if (lua_type(L, vi) != LUA_TNUMBER)
    luaL_error(L, "tensor.full: expected a number as the value, got %s", luaL_typename(L, vi));
  dt = lt_opt_dtype(L, vi + 1, "tensor.full");
  double v = lua_tonumber(L, vi);
  tensor_fill(lt_push_uninit(L, dt, nd, shape, "tensor.full"), v);
  return 1;
}

static int l_tensor_rand(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  int nd = lt_read_sizes(L, 1, lua_gettop(L), shape, 0, "tensor.rand");
  Tensor *t = lt_push_uninit(L, DT_FLOAT32, nd, shape, "tensor.rand");
  float *p = tensor_f32(t);
  for (int64_t i = 0, n = tensor_numel(t); i < n; i++) {
    float v = (float)rng_uniform();
    p[i] = v < 1.0f ? v : 0x1.fffffep-1f; /* rounding to float must not reach 1 */
  }
  return 1;
}

static int l_tensor_randn(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  int nd = lt_read_sizes(L, 1, lua_gettop(L), shape, 0, "tensor.randn");
  Tensor *t = lt_push_uninit(L, DT_FLOAT32, nd, shape, "tensor.randn");
  float *p = tensor_f32(t);
  for (int64_t i = 0, n = tensor_numel(t); i < n; i++) p[i] = (float)rng_normal();
  return 1;
}

static int l_tensor_seed(lua_State *L) {
  int isnum;
  lua_Integer s = lua_tointegerx(L, 1, &isnum);
  if (!isnum) {
    if (lua_isnoneornil(L, 1)) s = 42;
    else luaL_error(L, "tensor.seed: expected an integer seed, got %s", luaL_typename(L, 1));
  }
  rng_seed((uint64_t)s);
  return 0;
}

/* arange(n) = 0..n-1; arange(a, b [, step]) = a, a+step, ... excluding b. */
static int l_tensor_arange(lua_State *L) {
  double a = 0, b, step = 1;
  if (lua_gettop(L) <= 1) {
    b = luaL_checknumber(L, 1);
  } else {
    a = luaL_checknumber(L, 1);
    b = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1);
  }
  if (step == 0 || step != step) luaL_error(L, "tensor.arange: expected a non-zero step, got %f", step);
  if (!isfinite(a) || !isfinite(b) || !isfinite(step))
    luaL_error(L, "tensor.arange: expected finite bounds and step, got %f, %f, %f", a, b, step);
  double cnt = ceil((b - a) / step);
  if (!(cnt > 0)) cnt = 0;
  if (cnt > 1e12) {
    /* lua_pushfstring knows no precision flags: format the count here. */
    char num[64];
    snprintf(num, sizeof num, "%.0f", cnt);
    luaL_error(L, "tensor.arange: expected at most 10^12 values, got %s", num);
  }
  int64_t n = (int64_t)cnt;
  Tensor *t = lt_push_uninit(L, DT_FLOAT32, 1, &n, "tensor.arange");
  float *p = tensor_f32(t);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(a + (double)i * step);
  return 1;
}

/* tensor.new: the shape is found by following first elements; every row is
 * then checked against it while the values are written. */
static void new_fill(lua_State *L, Tensor *t, int depth, int64_t *flat, int *path) {
  int64_t n = t->shape[depth];
  int idx = lua_gettop(L);
  if (!lua_istable(L, idx) || (int64_t)lua_rawlen(L, idx) != n) {
    char pos[128] = "";
    for (int d = 0, k = 0; d < depth && k < 100; d++)
      k += snprintf(pos + k, sizeof pos - (size_t)k, "[%d]", path[d]);
    if (!lua_istable(L, idx))
      lua_pushfstring(L, "tensor.new: ragged nested table: expected a table of %d at %s, got %s",
                      (int)n, pos[0] ? pos : "the top", luaL_typename(L, idx));
    else
      lua_pushfstring(L, "tensor.new: ragged nested table: expected %d elements at %s, got %d",
                      (int)n, pos[0] ? pos : "the top", (int)lua_rawlen(L, idx));
    lua_error(L);
  }
  for (int64_t i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    path[depth] = (int)i;
    if (depth + 1 < t->ndim) {
      new_fill(L, t, depth + 1, flat, path);
    } else {
      int isnum;
      double v = lua_tonumberx(L, -1, &isnum);
      if (!isnum || lua_type(L, -1) != LUA_TNUMBER) {
        char pos[128] = "";
        for (int d = 0, k = 0; d <= depth && k < 100; d++)
          k += snprintf(pos + k, sizeof pos - (size_t)k, "[%d]", path[d]);
        luaL_error(L, "tensor.new: expected numbers in the nested table, got %s at %s",
                   luaL_typename(L, -1), pos);
      }
      tensor_set_flat(t, (*flat)++, v);
    }
    lua_pop(L, 1);
  }
}

static int l_tensor_new(lua_State *L) {
  int64_t shape[TENSOR_MAXDIM];
  int nd = 0, path[TENSOR_MAXDIM];
  DType dt = lt_opt_dtype(L, 2, "tensor.new");
  if (lua_type(L, 1) == LUA_TNUMBER) {
    tensor_set_flat(lt_push_new(L, dt, 0, shape, "tensor.new"), 0, lua_tonumber(L, 1));
    return 1;
  }
  if (lt_test(L, 1)) {
    lt_push_copy(L, lt_check(L, 1), lua_isnoneornil(L, 2) ? lt_check(L, 1)->dtype : dt,
                 "tensor.new");
    return 1;
  }
  if (!lua_istable(L, 1))
    luaL_error(L, "tensor.new: expected a nested table of numbers, got %s", luaL_typename(L, 1));
  lua_pushvalue(L, 1);
  while (lua_istable(L, -1)) {
    if (nd == TENSOR_MAXDIM)
      luaL_error(L, "tensor.new: expected at most %d levels of nesting, got more", TENSOR_MAXDIM);
    shape[nd++] = (int64_t)lua_rawlen(L, -1);
    if (shape[nd - 1] == 0) break;
    lua_rawgeti(L, -1, 1);
  }
  lua_settop(L, 2);
  Tensor *t = lt_push_new(L, dt, nd, shape, "tensor.new");
  int64_t flat = 0;
  if (tensor_numel(t) > 0) {
    lua_pushvalue(L, 1);
    new_fill(L, t, 0, &flat, path);
    lua_pop(L, 1);
  }
  return 1;
}

static const luaL_Reg new_funcs[] = {
  {"new", l_tensor_new},     {"zeros", l_tensor_zeros},   {"ones", l_tensor_ones},
  {"full", l_tensor_full},   {"arange", l_tensor_arange}, {"rand", l_tensor_rand},
  {"randn", l_tensor_randn}, {"seed", l_tensor_seed},     {NULL, NULL},
};

void lt_register_new(lua_State *L, int funcs) {
  lua_pushvalue(L, funcs);
  luaL_setfuncs(L, new_funcs, 0);
  lua_pop(L, 1);
}
