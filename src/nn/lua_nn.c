/* lua_nn.c — placeholder binding for the nn module (being built). */
#include <lauxlib.h>

int luaopen_nnlab_nn(lua_State *L);

int luaopen_nnlab_nn(lua_State *L) {
  lua_newtable(L);
  return 1;
}
