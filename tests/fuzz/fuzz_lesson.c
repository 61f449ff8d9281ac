/* fuzz_lesson.c — libFuzzer target for the lesson parser (lua/lesson.lua's
 * prose/code splitter and the step instrumentation), driven through a Lua
 * state holding the embedded Lua library. Any text must parse without a
 * Lua error, and the instrumented chunk must keep every line's number (so
 * error messages point at the lesson's own lines). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int luaopen_nnlab_lesson(lua_State *L);
int luaopen_nnlab_plot(lua_State *L);
int luaopen_nnlab_grader(lua_State *L);

extern const struct { const char *name; const char *src; size_t len; } nnlab_embedded_lua[];

static int search_embedded(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (int i = 0; nnlab_embedded_lua[i].name; i++)
    if (strcmp(nnlab_embedded_lua[i].name, name) == 0) {
      if (luaL_loadbufferx(L, nnlab_embedded_lua[i].src, nnlab_embedded_lua[i].len, name, "t"))
        return lua_error(L);
      return 1;
    }
  lua_pushfstring(L, "\n\tno embedded module '%s'", name);
  return 1;
}

static const char CHECK[] =
  "local M, src = ...\n"
  "local chunk, doc = M._instrument(src)\n"
  "local norm = src:gsub('\\r\\n', '\\n')\n"
  "if src:sub(-1) ~= '\\n' then norm = norm .. '\\n' end\n"
  "local want, got = select(2, norm:gsub('\\n', '')), select(2, chunk:gsub('\\n', ''))\n"
  "assert(want == got, 'lines ' .. want .. ' became ' .. got)\n"
  "assert(#doc.lines == want and doc.nsteps >= 0)\n";

static lua_State *L;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!L) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_nnlab_lesson);
    lua_setfield(L, -2, "_lesson");
    lua_pushcfunction(L, luaopen_nnlab_plot);
    lua_setfield(L, -2, "_plot");
    lua_pushcfunction(L, luaopen_nnlab_grader);
    lua_setfield(L, -2, "_grader");
    lua_pop(L, 1);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
    if (luaL_loadstring(L, CHECK) != LUA_OK) abort();
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.check");
    lua_getglobal(L, "require");
    lua_pushstring(L, "lesson");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      abort();
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.lesson");
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.check");
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.lesson");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    fprintf(stderr, "lesson parser: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
