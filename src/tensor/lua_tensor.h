/* lua_tensor.h — what the tensor binding offers other bindings: checking a
 * Tensor argument, pushing new tensors and views, and telling the Lua
 * collector about storage it cannot see. A Tensor userdata embeds its
 * Tensor header; its storage is reference-counted (views share it). */
#ifndef NNLAB_LUA_TENSOR_H
#define NNLAB_LUA_TENSOR_H

#include <lua.h>
#include <lauxlib.h>

#include "tensor.h"

#define TENSOR_MT "nnlab.Tensor"

/* The Tensor at stack index idx, or a Lua error "Tensor expected, got X". */
Tensor *lt_check(lua_State *L, int idx);
/* The Tensor at idx or NULL when the value is not a tensor. */
Tensor *lt_test(lua_State *L, int idx);
/* Pushes a new zero-filled contiguous tensor; raises a Lua error (prefixed
 * with `who`) on a bad shape or allocation failure. */
Tensor *lt_push_new(lua_State *L, DType dt, int ndim, const int64_t *shape, const char *who);
/* As lt_push_new, but the values are undefined: the caller writes them all. */
Tensor *lt_push_uninit(lua_State *L, DType dt, int ndim, const int64_t *shape, const char *who);
/* Pushes a new header sharing src's storage (a view to adjust in place). */
Tensor *lt_push_view(lua_State *L, const Tensor *src);
/* Pushes a tensor that takes over `t` (its storage reference moves into the
 * userdata; t must not be freed by the caller afterwards). */
Tensor *lt_push_take(lua_State *L, Tensor *t);
/* Reads a shape given as a table {2,3} at idx, or as integers idx..top.
 * Returns ndim; raises a Lua error on a bad shape. */
int lt_check_shape(lua_State *L, int idx, int64_t *shape, const char *who);
/* Tells the collector that nbytes of storage were allocated outside its
 * sight (a full collection runs when such memory grows past a threshold). */
void lt_account(lua_State *L, size_t nbytes);

/* Pushes an empty Tensor userdata (storage NULL) to fill in place, e.g. by
 * a core function that allocates; call lt_account afterwards. */
Tensor *lt_push_blank(lua_State *L);
/* Pushes a new contiguous copy of src converted to dt. */
Tensor *lt_push_copy(lua_State *L, const Tensor *src, DType dt, const char *who);
/* The dtype named at idx ("float32" when absent), or a Lua error naming it. */
DType lt_opt_dtype(lua_State *L, int idx, const char *who);
/* The 1-based position at arg within 1..n (negative counts from the end),
 * returned 0-based; a Lua error naming the index and range otherwise. */
int64_t lt_check_pos(lua_State *L, int arg, int64_t n, const char *who);
/* The 1-based dimension at arg of t (negative counts from the end),
 * returned 0-based; a Lua error naming the dimension and range otherwise. */
int lt_check_dim(lua_State *L, int arg, const Tensor *t, const char *who);
/* Raises "who: err". */
void lt_raise(lua_State *L, const char *who, const char *err);

int luaopen_nnlab_tensor(lua_State *L);

#endif
