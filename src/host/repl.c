/* repl.c — the interactive session: readline editing and history, then each
 * line evaluated by lua/repl.lua's `eval_line` (which prints results). */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "host.h"

int l_host_repl(lua_State *L) {
  char *line;
  while ((line = readline("> ")) != NULL) {
    if (*line) add_history(line);
    lua_getglobal(L, "require");
    lua_pushstring(L, "repl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "eval_line");
    lua_pushstring(L, line);
    free(line);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
  }
  return 0;
}
