/* lua_metrics.h — the _metrics module's entry, for the host's module registry. */
#ifndef NNLAB_LUA_METRICS_H
#define NNLAB_LUA_METRICS_H

#include <lua.h>

int luaopen_nnlab_metrics(lua_State *L);

#endif
