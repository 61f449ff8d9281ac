/* lua_lesson.c — placeholder binding for the lesson module (being built). */
#include <lauxlib.h>

int luaopen_nnlab_lesson(lua_State *L);

int luaopen_nnlab_lesson(lua_State *L) {
  lua_newtable(L);
  return 1;
}
