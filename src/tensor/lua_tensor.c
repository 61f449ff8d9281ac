/* lua_tensor.c — the Tensor userdata: argument checking, construction of
 * tensors and views for every other binding, and memory accounting so the
 * Lua collector runs when tensor storage (which it cannot see) grows. */
#include "lua_tensor.h"

#include <stdlib.h>
#include <string.h>

/* ---- memory accounting ------------------------------------------------ */

/* Bytes allocated since the last full collection we forced, and the
 * threshold at which we force the next one. The threshold doubles with the
 * live estimate so steady-state programs are not collected on every call. */
static size_t g_since_collect = 0;
static size_t g_threshold = (size_t)64 << 20;

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
  Tensor *t = luaL_checkudata(L, idx, TENSOR_MT);
  if (!t->storage) luaL_argerror(L, idx, "Tensor expected, got a freed tensor");
  return t;
}

/* The userdata is created and given its metatable before any storage is
 * allocated, so a failing allocation never leaks (its __gc sees NULL). */
static Tensor *push_blank(lua_State *L) {
  Tensor *t = lua_newuserdatauv(L, sizeof(Tensor), 0);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, TENSOR_MT);
  return t;
}

Tensor *lt_push_new(lua_State *L, DType dt, int ndim, const int64_t *shape, const char *who) {
  char err[TENSOR_ERRLEN];
  Tensor *t = push_blank(L);
  if (tensor_init(t, dt, ndim, shape, err)) luaL_error(L, "%s: %s", who, err);
  lt_account(L, t->storage->nbytes);
  return t;
}

Tensor *lt_push_view(lua_State *L, const Tensor *src) {
  Tensor *t = push_blank(L);
  tensor_init_view(t, src);
  return t;
}

Tensor *lt_push_take(lua_State *L, Tensor *src) {
  Tensor *t = push_blank(L);
  *t = *src;
  if (t->storage) lt_account(L, t->storage->nbytes);
  return t;
}

int lt_check_shape(lua_State *L, int idx, int64_t *shape, const char *who) {
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
    int top = lua_gettop(L);
    if (top - idx + 1 > TENSOR_MAXDIM)
      luaL_error(L, "%s: expected at most %d dimensions, got %d", who, TENSOR_MAXDIM,
                 top - idx + 1);
    for (int i = idx; i <= top; i++) {
      int isnum;
      lua_Integer v = lua_tointegerx(L, i, &isnum);
      if (!isnum)
        luaL_error(L, "%s: expected a shape (table or integer sizes), got %s as argument %d",
                   who, luaL_typename(L, i), i);
      shape[ndim++] = v;
    }
  }
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0)
      luaL_error(L, "%s: expected sizes >= 0, got %d in dimension %d", who, (int)shape[i], i + 1);
  return ndim;
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
  {NULL, NULL},
};

static const luaL_Reg tensor_funcs[] = {
  {NULL, NULL},
};

int luaopen_nnlab_tensor(lua_State *L) {
  luaL_newmetatable(L, TENSOR_MT);
  luaL_setfuncs(L, tensor_meta, 0);
  lua_pop(L, 1);
  luaL_newlib(L, tensor_funcs);
  return 1;
}
