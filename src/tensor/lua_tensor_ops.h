/* lua_tensor_ops.h — private to the tensor binding, which is split over
 * lua_tensor.c (the type, indexing, shapes), lua_tensor_new.c (creation) and
 * lua_tensor_ops.c (arithmetic, reductions, matmul, files, printing). */
#ifndef NNLAB_LUA_TENSOR_OPS_H
#define NNLAB_LUA_TENSOR_OPS_H

#include <lua.h>
#include <stdint.h>

/* With the metatable on top of the stack: adds methods to the table at
 * `methods`, metamethods to the metatable, module functions to `funcs`. */
void lt_register_ops(lua_State *L, int methods, int funcs);
/* Adds the creating functions (new, zeros, ...) to the table at funcs. */
void lt_register_new(lua_State *L, int funcs);
/* Sizes from a table at idx or from the integers idx..last (a Lua error
 * for anything else or a negative size; -1 is allowed when allow_infer,
 * for reshape). Returns ndim. */
int lt_read_sizes(lua_State *L, int idx, int last, int64_t *shape, int allow_infer,
                  const char *who);

#endif
