/* lua_plot.h — the _plot module's entry, for the host's module registry. */
#ifndef NNLAB_LUA_PLOT_H
#define NNLAB_LUA_PLOT_H

#include <lua.h>

int luaopen_nnlab_plot(lua_State *L);

#endif
