/* lua_plot.c — placeholder binding for the plot module (being built). */
#include <lauxlib.h>

int luaopen_nnlab_plot(lua_State *L);

int luaopen_nnlab_plot(lua_State *L) {
  lua_newtable(L);
  return 1;
}
