/* lua_data.c — placeholder binding for the data module (being built). */
#include <lauxlib.h>

int luaopen_nnlab_data(lua_State *L);

int luaopen_nnlab_data(lua_State *L) {
  lua_newtable(L);
  return 1;
}
