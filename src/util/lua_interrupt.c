/* lua_interrupt.c — SIGINT to the flag plus a count hook, following lua.c's
 * laction/lstop: the handler may only set the hook, and the hook raises the
 * error from inside the Lua VM where that is safe. */
#include "lua_interrupt.h"

#include <lauxlib.h>
#include <signal.h>
#include <string.h>

static lua_State *g_L = NULL;

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  interrupt_clear();
  luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
  (void)sig;
  interrupt_set();
  if (g_L) lua_sethook(g_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void interrupt_install(lua_State *L) {
  struct sigaction sa;
  g_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

int interrupt_consume(lua_State *L) {
  int was = interrupt_clear();
  if (was) lua_sethook(L, NULL, 0, 0);
  return was;
}
