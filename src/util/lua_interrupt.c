/* lua_interrupt.c — SIGINT to the flag plus a count hook, following lua.c's
 * laction/lstop: the handler may only set the hook, and the hook raises the
 * error from inside the Lua VM where that is safe. */
#include "lua_interrupt.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
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

/* The handler runs on a stack of its own. oneDNN's JIT matrix kernels point
 * the stack pointer at the start of a heap block they allocated; a signal
 * frame pushed below it there overwrote malloc's bookkeeping, and a Ctrl-C
 * during fit aborted the program a few batches later ("corrupted size vs.
 * prev_size"). The alternate stack is the calling thread's; the worker
 * threads that run those kernels never take SIGINT (gemm.c starts them with
 * it blocked). */
enum { ALT_STACK_SIZE = 1 << 16 };

void interrupt_install(lua_State *L) {
  static void *alt = NULL;
  struct sigaction sa;
  g_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (!alt && (alt = malloc(ALT_STACK_SIZE)) != NULL) {
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
      free(alt);
      alt = NULL;
    }
  }
  sa.sa_flags = alt ? SA_ONSTACK : 0;
  sigaction(SIGINT, &sa, NULL);
}

int interrupt_consume(lua_State *L) {
  int was = interrupt_clear();
  if (was) lua_sethook(L, NULL, 0, 0);
  return was;
}
