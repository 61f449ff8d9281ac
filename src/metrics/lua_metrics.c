/* lua_metrics.c — placeholder binding for the metrics module (being built). */
#include <lauxlib.h>

int luaopen_nnlab_metrics(lua_State *L);

int luaopen_nnlab_metrics(lua_State *L) {
  lua_newtable(L);
  return 1;
}
