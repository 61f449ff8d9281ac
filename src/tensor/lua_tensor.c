/* lua_tensor.c — the Tensor userdata: argument checking, construction of
 * tensors and views for every other binding, memory accounting so the Lua
 * collector runs when tensor storage (which it cannot see) grows, and the
 * inspection, indexing, shape and conversion methods of SPEC 3.1. Creation
 * lives in lua_tensor_new.c; arithmetic, reductions, matmul and files in
 * lua_tensor_ops.c. */
#include "lua_tensor.h"
#include "lua_util.h"
#include "lua_tensor_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory accounting ------------------------------------------------ */

/* Bytes allocated since the last full collection we forced, and the
 * threshold at which we force the next one. A full collection frees every
 * unreachable tensor, so resident memory stays below live data plus about
 * one threshold's worth of garbage. A full collection costs time in
 * proportion to the Lua objects, not to tensor bytes, so it is cheap; a
 * small threshold also lets malloc hand back freed buffers whose pages are
 * already mapped, instead of faulting in fresh ones for every result. */
static size_t g_since_collect = 0;
static const size_t g_threshold = (size_t)16 << 20;

void lt_account(lua_State *L, size_t nbytes) {
  g_since_collect += nbytes;
  if (g_since_collect > g_threshold) {
    g_since_collect = 0;
    lua_gc(L, LUA_GCCOLLECT);
  }
}

/* ---- helpers for other bindings --------------------------------------- */

Tensor *lt_test(lua_State *L, int idx) { return luaL_testudata(L, idx, TENSOR_MT); }

Tensor *lt_check(lua_State *L, int idx) {
  Tensor *t = luaL_testudata(L, idx, TENSOR_MT);
  if (!t) luaL_typeerror(L, idx, "Tensor");
  if (!t->storage) luaL_argerror(L, idx, "Tensor expected, got a freed tensor");
  return t;
}

/* The userdata is created and given its metatable before any storage is
 * allocated, so a failing allocation never leaks (its __gc sees NULL). */
Tensor *lt_push_blank(lua_State *L) {
  Tensor *t = lua_newuserdatauv(L, sizeof(Tensor), 0);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, TENSOR_MT);
  return t;
}

Tensor *lt_push_new(lua_State *L, DType dt, int ndim, const int64_t *shape, const char *who) {
  char err[TENSOR_ERRLEN];
  Tensor *t = lt_push_blank(L);
  if (tensor_init(t, dt, ndim, shape, err)) luaL_error(L, "%s: %s", who, err);
  lt_account(L, t->storage->nbytes);
  return t;
}

Tensor *lt_push_uninit(lua_State *L, DType dt, int ndim, const int64_t *shape, const char *who) {
  char err[TENSOR_ERRLEN];
  Tensor *t = lt_push_blank(L);
  if (tensor_init_uninit(t, dt, ndim, shape, err)) luaL_error(L, "%s: %s", who, err);
  lt_account(L, t->storage->nbytes);
  return t;
}

Tensor *lt_push_view(lua_State *L, const Tensor *src) {
  Tensor *t = lt_push_blank(L);
  tensor_init_view(t, src);
  return t;
}

Tensor *lt_push_take(lua_State *L, Tensor *src) {
  Tensor *t = lt_push_blank(L);
  *t = *src;
  if (t->storage) lt_account(L, t->storage->nbytes);
  return t;
}

Tensor *lt_push_copy(lua_State *L, const Tensor *src, DType dt, const char *who) {
  char err[TENSOR_ERRLEN];
  Tensor *t = lt_push_uninit(L, dt, src->ndim, src->shape, who);
  if (tensor_copy_into(t, src, err)) luaL_error(L, "%s: %s", who, err);
  return t;
}

int lt_read_sizes(lua_State *L, int idx, int last, int64_t *shape, int allow_infer,
                  const char *who) {
  int ndim = 0;
  if (lua_istable(L, idx)) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n > TENSOR_MAXDIM)
      luaL_error(L, "%s: expected at most %d dimensions, got %d", who, TENSOR_MAXDIM, (int)n);
    for (lua_Integer i = 1; i <= n; i++) {
      int isnum;
      lua_rawgeti(L, idx, i);
      lua_Integer v = lua_tointegerx(L, -1, &isnum);
      if (!isnum)
        luaL_error(L, "%s: expected integer sizes in the shape, got %s at position %d", who,
                   luaL_typename(L, -1), (int)i);
      lua_pop(L, 1);
      shape[ndim++] = v;
    }
  } else {
    if (last - idx + 1 > TENSOR_MAXDIM)
      luaL_error(L, "%s: expected at most %d dimensions, got %d", who, TENSOR_MAXDIM,
                 last - idx + 1);
    for (int i = idx; i <= last; i++) {
      int isnum;
      lua_Integer v = lua_tointegerx(L, i, &isnum);
      if (!isnum)
        luaL_error(L, "%s: expected a shape (table or integer sizes), got %s as argument %d",
                   who, luaL_typename(L, i), i);
      shape[ndim++] = v;
    }
  }
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0 && !(allow_infer && shape[i] == -1))
      luaL_error(L, "%s: expected sizes >= 0%s, got %d in dimension %d", who,
                 allow_infer ? " or -1" : "", (int)shape[i], i + 1);
  return ndim;
}

int lt_check_shape(lua_State *L, int idx, int64_t *shape, const char *who) {
  return lt_read_sizes(L, idx, lua_gettop(L), shape, 0, who);
}

DType lt_opt_dtype(lua_State *L, int idx, const char *who) {
  if (lua_isnoneornil(L, idx)) return DT_FLOAT32;
  const char *name = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
  int dt = name ? dtype_from_name(name) : -1;
  if (dt < 0) {
    if (lua_type(L, idx) == LUA_TSTRING)
      luaL_error(L, "%s: expected dtype \"float32\", \"uint8\" or \"int32\", got \"%s\"", who,
                 name);
    luaL_error(L, "%s: expected dtype \"float32\", \"uint8\" or \"int32\", got %s", who,
               luaL_typename(L, idx));
  }
  return (DType)dt;
}

/* A 1-based position i of a dimension of size n, as 0-based. Negative
 * positions count from the end as in numpy (-1 is the last). */
int64_t lt_check_pos(lua_State *L, int arg, int64_t n, const char *who) {
  int isnum;
  lua_Integer i = lua_tointegerx(L, arg, &isnum);
  if (!isnum)
    luaL_error(L, "%s: expected an integer index, got %s", who, luaL_typename(L, arg));
  if (i < 0) i += n + 1;
  if (i < 1 || i > n)
    luaL_error(L, "%s: index %d out of range (expected 1..%d)", who,
               (int)lua_tointeger(L, arg), (int)n);
  return i - 1;
}

int lt_check_dim(lua_State *L, int arg, const Tensor *t, const char *who) {
  int isnum;
  lua_Integer d = lua_tointegerx(L, arg, &isnum);
  if (!isnum)
    luaL_error(L, "%s: expected an integer dimension, got %s", who, luaL_typename(L, arg));
  if (d < 0) d += t->ndim + 1;
  if (d < 1 || d > t->ndim) {
    char sb[96];
    luaL_error(L, "%s: dimension %d out of range (expected 1..%d for a %s tensor)", who,
               (int)lua_tointeger(L, arg), t->ndim, tensor_shape_str(t, sb, sizeof sb));
  }
  return (int)d - 1;
}

void lt_raise(lua_State *L, const char *who, const char *err) { lu_raise(L, who, err); }

/* ---- inspection ---------------------------------------------------------- */

static int l_tensor_shape(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  lua_createtable(L, t->ndim, 0);
  for (int i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_tensor_size(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  if (lua_isnoneornil(L, 2)) return l_tensor_shape(L);
  lua_pushinteger(L, t->shape[lt_check_dim(L, 2, t, "size")]);
  return 1;
}

static int l_tensor_dim(lua_State *L) {
  lua_pushinteger(L, lt_check(L, 1)->ndim);
  return 1;
}

static int l_tensor_numel(lua_State *L) {
  lua_pushinteger(L, tensor_numel(lt_check(L, 1)));
  return 1;
}

static int l_tensor_len(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  lua_pushinteger(L, t->ndim ? t->shape[0] : 1);
  return 1;
}

static void push_value(lua_State *L, const Tensor *t, int64_t flat) {
  double v = tensor_get_flat(t, flat);
  if (t->dtype == DT_FLOAT32) lua_pushnumber(L, v);
  else lua_pushinteger(L, (lua_Integer)v);
}

/* ---- indexing ---------------------------------------------------------- */

/* Element offset of the position given by arguments first..first+ndim-1. */
static int64_t position(lua_State *L, const Tensor *t, int first, int nargs, const char *who) {
  char sb[96];
  if (nargs != t->ndim)
    luaL_error(L, "%s: expected %d indices for a %s tensor, got %d", who, t->ndim,
               tensor_shape_str(t, sb, sizeof sb), nargs);
  int64_t flat = 0;
  for (int d = 0; d < t->ndim; d++)
    flat = flat * t->shape[d] + lt_check_pos(L, first + d, t->shape[d], who);
  return flat;
}

static int l_tensor_get(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  push_value(L, t, position(L, t, 2, lua_gettop(L) - 1, "get"));
  return 1;
}

static int l_tensor_set(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  int top = lua_gettop(L);
  if (top < 2 || lua_type(L, top) != LUA_TNUMBER)
    luaL_error(L, "set: expected a number as the last argument, got %s",
               top < 2 ? "nothing" : luaL_typename(L, top));
  int64_t flat = position(L, t, 2, top - 2, "set");
  tensor_set_flat(t, flat, lua_tonumber(L, top));
  lua_settop(L, 1);
  return 1;
}

static int l_tensor_index_meta(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    Tensor *t = lt_check(L, 1);
    char err[TENSOR_ERRLEN], sb[96];
    if (t->ndim == 0)
      luaL_error(L, "index: expected a tensor with at least 1 dimension, got a scalar");
    int64_t i = lt_check_pos(L, 2, t->shape[0], "index");
    if (t->ndim == 1) {
      push_value(L, t, i);
      return 1;
    }
    Tensor *v = lt_push_view(L, t);
    if (tensor_select(v, 0, i, err)) luaL_error(L, "index %s: %s", tensor_shape_str(t, sb, sizeof sb), err);
    return 1;
  }
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "dtype") == 0) {
      lua_pushstring(L, dtype_name(lt_check(L, 1)->dtype));
      return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

static int l_tensor_newindex_meta(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  if (lua_type(L, 2) != LUA_TNUMBER)
    luaL_error(L, "Tensor: expected an integer index to assign, got %s %s", luaL_typename(L, 2),
               lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "");
  if (t->ndim == 0) luaL_error(L, "index: expected a tensor with at least 1 dimension, got a scalar");
  int64_t i = lt_check_pos(L, 2, t->shape[0], "index");
  Tensor row = *t; /* a header on the stack: no storage reference taken */
  tensor_select(&row, 0, i, err);
  if (lua_type(L, 3) == LUA_TNUMBER) {
    tensor_fill(&row, lua_tonumber(L, 3));
  } else if (lt_test(L, 3)) {
    Tensor *src = lt_check(L, 3);
    if (src->storage == t->storage) src = lt_push_copy(L, src, src->dtype, "index");
    if (tensor_copy_into(&row, src, err)) luaL_error(L, "index: %s", err);
  } else {
    luaL_error(L, "index: expected a number or a Tensor to assign, got %s", luaL_typename(L, 3));
  }
  return 0;
}

static int l_tensor_narrow(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  int d = lt_check_dim(L, 2, t, "narrow");
  lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
  Tensor *v = lt_push_view(L, t);
  if (tensor_narrow(v, d, start - 1, len, err)) lt_raise(L, "tensor", err);
  return 1;
}

static int l_tensor_select(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  int d = lt_check_dim(L, 2, t, "select");
  int64_t i = lt_check_pos(L, 3, t->shape[d], "select");
  Tensor *v = lt_push_view(L, t);
  if (tensor_select(v, d, i, err)) lt_raise(L, "tensor", err);
  return 1;
}

/* index(idx): rows of t (dimension 1) named by an int32 tensor or a list of
 * 1-based positions; the result has shape (#idx, rest of t). */
static int l_tensor_index(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char sb[96];
  int64_t n, shape[TENSOR_MAXDIM];
  Tensor *ix = lt_test(L, 2);
  if (t->ndim == 0) luaL_error(L, "index: expected a tensor with at least 1 dimension, got a scalar");
  if (ix) {
    if (ix->dtype != DT_INT32 || ix->ndim != 1)
      luaL_error(L, "index: expected a 1-D int32 tensor of positions, got a %s tensor of shape %s",
                 dtype_name(ix->dtype), tensor_shape_str(ix, sb, sizeof sb));
    n = ix->shape[0];
  } else if (lua_istable(L, 2)) {
    n = (int64_t)lua_rawlen(L, 2);
  } else {
    luaL_error(L, "index: expected an int32 Tensor or a table of positions, got %s",
               luaL_typename(L, 2));
    return 0;
  }
  /* check every position before anything is allocated */
  for (int64_t k = 0; k < n; k++) {
    int64_t p;
    if (ix) {
      p = tensor_i32(ix)[k * ix->stride[0]];
    } else {
      int isnum;
      lua_rawgeti(L, 2, k + 1);
      p = lua_tointegerx(L, -1, &isnum);
      if (!isnum) luaL_error(L, "index: expected integer positions, got %s at %d", luaL_typename(L, -1), (int)k + 1);
      lua_pop(L, 1);
    }
    if (p < 1 || p > t->shape[0])
      luaL_error(L, "index: position %d (at %d) out of range (expected 1..%d)", (int)p, (int)k + 1,
                 (int)t->shape[0]);
  }
  memcpy(shape, t->shape, sizeof shape);
  shape[0] = n;
  Tensor *out = lt_push_uninit(L, t->dtype, t->ndim, shape, "index");
  size_t esz = dtype_size(t->dtype);
  int64_t rowlen = n ? tensor_numel(out) / n : 0;
  Tensor src = *t, dst = *out;
  for (int64_t k = 0; k < n; k++) {
    int64_t p;
    if (ix) {
      p = tensor_i32(ix)[k * ix->stride[0]];
    } else {
      lua_rawgeti(L, 2, k + 1);
      p = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    char err[TENSOR_ERRLEN];
    Tensor s = src, d = dst;
    tensor_select(&s, 0, p - 1, err);
    if (tensor_is_contiguous(&s)) {
      memcpy((char *)tensor_data(out) + (size_t)(k * rowlen) * esz, tensor_data(&s), (size_t)rowlen * esz);
    } else {
      tensor_select(&d, 0, k, err);
      tensor_copy_into(&d, &s, err);
    }
  }
  return 1;
}

static void totable_rec(lua_State *L, const Tensor *t, int d, int64_t *flat) {
  lua_createtable(L, (int)t->shape[d], 0);
  for (int64_t i = 0; i < t->shape[d]; i++) {
    if (d + 1 < t->ndim) totable_rec(L, t, d + 1, flat);
    else push_value(L, t, (*flat)++);
    lua_rawseti(L, -2, i + 1);
  }
}

static int l_tensor_totable(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  int64_t flat = 0;
  if (t->ndim == 0) push_value(L, t, 0);
  else totable_rec(L, t, 0, &flat);
  return 1;
}

/* ---- shape --------------------------------------------------------------- */

/* A reshaped view when the layout allows it, else a reshaped copy. */
static void push_reshaped(lua_State *L, Tensor *t, int nd, const int64_t *shape, const char *who) {
  char err[TENSOR_ERRLEN];
  Tensor *v = lt_push_view(L, t);
  int r = tensor_reshape_view(v, nd, shape, err);
  if (r < 0) luaL_error(L, "%s", err);
  if (r == 1) {
    lua_pop(L, 1);
    Tensor *c = lt_push_copy(L, t, t->dtype, who);
    if (tensor_reshape_view(c, nd, shape, err)) luaL_error(L, "%s", err);
  }
}

static int l_tensor_reshape(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  int64_t shape[TENSOR_MAXDIM];
  int nd = lt_read_sizes(L, 2, lua_gettop(L), shape, 1, "reshape");
  push_reshaped(L, t, nd, shape, "reshape");
  return 1;
}

static int l_tensor_flatten(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  int64_t shape[TENSOR_MAXDIM];
  if (t->ndim == 0) {
    shape[0] = 1;
    push_reshaped(L, t, 1, shape, "flatten");
    return 1;
  }
  int s = lua_isnoneornil(L, 2) ? 0 : lt_check_dim(L, 2, t, "flatten");
  int64_t n = 1;
  for (int d = s; d < t->ndim; d++) n *= t->shape[d];
  memcpy(shape, t->shape, sizeof shape);
  shape[s] = n;
  push_reshaped(L, t, s + 1, shape, "flatten");
  return 1;
}

static int l_tensor_transpose(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  int d1 = lt_check_dim(L, 2, t, "transpose"), d2 = lt_check_dim(L, 3, t, "transpose");
  Tensor *v = lt_push_view(L, t);
  if (tensor_transpose(v, d1, d2, err)) lt_raise(L, "tensor", err);
  return 1;
}

static int l_tensor_t(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN], sb[96];
  if (t->ndim > 2)
    luaL_error(L, "t: expected a 1-D or 2-D tensor, got %s (%d dimensions)",
               tensor_shape_str(t, sb, sizeof sb), t->ndim);
  Tensor *v = lt_push_view(L, t);
  if (t->ndim == 2 && tensor_transpose(v, 0, 1, err)) lt_raise(L, "t", err);
  return 1;
}

static int l_tensor_contiguous(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  if (tensor_is_contiguous(t)) lua_settop(L, 1);
  else lt_push_copy(L, t, t->dtype, "contiguous");
  return 1;
}

static int l_tensor_clone(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  lt_push_copy(L, t, t->dtype, "clone");
  return 1;
}

static int convert_to(lua_State *L, DType dt, const char *who) {
  Tensor *t = lt_check(L, 1);
  if (t->dtype == dt) lua_settop(L, 1);
  else lt_push_copy(L, t, dt, who);
  return 1;
}

static int l_tensor_float(lua_State *L) { return convert_to(L, DT_FLOAT32, "float"); }
static int l_tensor_uint8(lua_State *L) { return convert_to(L, DT_UINT8, "uint8"); }
static int l_tensor_int(lua_State *L) { return convert_to(L, DT_INT32, "int"); }

static int l_tensor_type(lua_State *L) {
  return convert_to(L, lt_opt_dtype(L, 2, "type"), "type");
}

static int l_tensor_fill(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  if (lua_type(L, 2) != LUA_TNUMBER)
    luaL_error(L, "fill: expected a number, got %s", luaL_typename(L, 2));
  tensor_fill(t, lua_tonumber(L, 2));
  lua_settop(L, 1);
  return 1;
}

/* copy(src): src broadcast to t's shape, or any src with as many elements
 * (copied in C order). Overlapping storage is copied through a temporary. */
static int l_tensor_copy(lua_State *L) {
  Tensor *t = lt_check(L, 1), *src = lt_check(L, 2);
  char err[TENSOR_ERRLEN], a[96], b[96];
  if (src->storage == t->storage &&
      (src->offset != t->offset || memcmp(src->stride, t->stride, sizeof t->stride) != 0))
    src = lt_push_copy(L, src, src->dtype, "copy"); /* overlapping: read from a copy */
  Tensor s = *src;
  if (tensor_copy_into(t, &s, err) != 0) {
    if (tensor_numel(src) != tensor_numel(t))
      luaL_error(L, "copy: expected %d elements (%s) or a shape that broadcasts to it, got %d (%s)",
                 (int)tensor_numel(t), tensor_shape_str(t, a, sizeof a), (int)tensor_numel(src),
                 tensor_shape_str(src, b, sizeof b));
    /* as many elements in another shape: copied in C order */
    Tensor *c = lt_push_copy(L, src, src->dtype, "copy");
    Tensor flat = *c;
    if (tensor_reshape_view(&flat, t->ndim, t->shape, err) != 0 || tensor_copy_into(t, &flat, err))
      luaL_error(L, "copy: %s", err);
  }
  lua_settop(L, 1);
  return 1;
}

/* ---- the userdata ----------------------------------------------------- */

static int l_tensor_gc(lua_State *L) {
  Tensor *t = luaL_checkudata(L, 1, TENSOR_MT);
  tensor_free(t);
  return 0;
}

static const luaL_Reg tensor_meta[] = {
  {"__gc", l_tensor_gc},
  {"__close", l_tensor_gc},
  {"__len", l_tensor_len},
  {"__newindex", l_tensor_newindex_meta},
  {NULL, NULL},
};

static const luaL_Reg tensor_methods[] = {
  {"shape", l_tensor_shape},       {"size", l_tensor_size},
  {"dim", l_tensor_dim},           {"numel", l_tensor_numel},
  {"get", l_tensor_get},           {"set", l_tensor_set},
  {"narrow", l_tensor_narrow},     {"select", l_tensor_select},
  {"index", l_tensor_index},       {"totable", l_tensor_totable},
  {"reshape", l_tensor_reshape},   {"view", l_tensor_reshape},
  {"flatten", l_tensor_flatten},   {"transpose", l_tensor_transpose},
  {"t", l_tensor_t},               {"contiguous", l_tensor_contiguous},
  {"clone", l_tensor_clone},       {"float", l_tensor_float},
  {"uint8", l_tensor_uint8},       {"int", l_tensor_int},
  {"type", l_tensor_type},         {"fill", l_tensor_fill},
  {"copy", l_tensor_copy},         {NULL, NULL},
};

int luaopen_nnlab_tensor(lua_State *L) {
  lua_newtable(L);                            /* module table */
  lt_register_new(L, -1);
  lua_newtable(L);                            /* methods */
  luaL_setfuncs(L, tensor_methods, 0);
  luaL_newmetatable(L, TENSOR_MT);
  luaL_setfuncs(L, tensor_meta, 0);
  lt_register_ops(L, -2, -3);                 /* methods, metamethods, functions */
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_tensor_index_meta, 1);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -2);
  lua_setfield(L, -4, "methods");             /* tensor.methods: for help and completion */
  lua_pop(L, 2);
  return 1;
}
