/* lua_util.h — what every binding (src/<module>/lua_*.c) shares beyond
 * tensors:
 *   - the error-prefix rule: C core messages carry no prefix; the binding
 *     that raises one puts the name of the Lua function in front,
 *     "who: message" (lu_error, lu_raise);
 *   - the boxed buffer: C memory owned by a userdata on the stack, so a Lua
 *     error between its allocation and its release cannot leak it;
 *   - the option reader: constructor arguments and option tables read
 *     against a table of OptionSpec (options.h), with one set of messages. */
#ifndef NNLAB_LUA_UTIL_H
#define NNLAB_LUA_UTIL_H

#include <lua.h>
#include <lauxlib.h>

#include "options.h"

/* Raises "who: <formatted message>". Never returns. */
int lu_error(lua_State *L, const char *who, const char *fmt, ...);
/* Raises "who: err" for a message filled by the C core. Never returns. */
int lu_raise(lua_State *L, const char *who, const char *err);

/* Pushes a box holding NULL; whatever malloc'd pointer is stored in it is
 * freed when the box is collected (or by lu_box_free). */
void **lu_push_box(lua_State *L);
/* Pushes a box holding `bytes` of new memory; "who: out of memory" when
 * malloc fails. */
void *lu_push_buffer(lua_State *L, size_t bytes, const char *who);
/* Frees the box's memory now (the box then holds NULL). */
void lu_box_free(void **box);

/* Reads a constructor's arguments, from stack index `first` on, into dst:
 * the positional options in order (an optional one may be left out when
 * the options table follows), then an options table with the others.
 * Unknown keys, wrong types, values out of range and unknown names raise
 * errors prefixed with who ("nn.Dense"); usage ("nn.Dense(units [,
 * activation] [, {init=}])") is quoted when the table is not last. */
void lu_read_options(lua_State *L, int first, const char *who, const char *usage,
                     const OptionSpec *specs, int n, void *dst);
/* Pushes the value of s in src: a number, a boolean, a name or {a, b}. */
void lu_push_option(lua_State *L, const void *src, const OptionSpec *s);
/* Pushes "Name(pos1, pos2, {key=value})": every positional option, and the
 * others when they differ from their default (tostring of a layer). */
void lu_push_call(lua_State *L, const char *name, const void *src, const OptionSpec *specs, int n);

#endif
