/* lua_lesson.h — the _lesson module's entry, for the host's module registry. */
#ifndef NNLAB_LUA_LESSON_H
#define NNLAB_LUA_LESSON_H

#include <lua.h>

int luaopen_nnlab_lesson(lua_State *L);

#endif
