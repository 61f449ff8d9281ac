/* lua_data.h — the _data module's entry, for the host's module registry. */
#ifndef NNLAB_LUA_DATA_H
#define NNLAB_LUA_DATA_H

#include <lua.h>

int luaopen_nnlab_data(lua_State *L);

#endif
