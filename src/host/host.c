/* host.c — the Lua state behind nnlab: opens the standard libraries,
 * registers the C modules (as _tensor, _data, ...) in package.preload, lets
 * require find the Lua library embedded in the binary (NNLAB_LUA_PATH puts a
 * directory in front of it for development), and runs lua/main.lua with the
 * command-line options under a traceback handler. */
#include "host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lesson/grader.h"
#include "lua_interrupt.h"
#include "progress.h"
#include "threads.h"

#include "data/lua_data.h"
#include "lesson/lua_lesson.h"
#include "metrics/lua_metrics.h"
#include "nn/lua_nn.h"
#include "nn/lua_optim.h"
#include "plot/lua_plot.h"
#include "tensor/lua_tensor.h"

int luaopen_nnlab_kernel(lua_State *L);
int luaopen_nnlab_grader(lua_State *L);

extern const struct { const char *name; const char *src; size_t len; } nnlab_embedded_lua[];

static const luaL_Reg CORE_MODULES[] = {
  {"_tensor", luaopen_nnlab_tensor},   {"_data", luaopen_nnlab_data},
  {"_nn", luaopen_nnlab_nn},           {"_optim", luaopen_nnlab_optim},
  {"_metrics", luaopen_nnlab_metrics},
  {"_plot", luaopen_nnlab_plot},       {"_lesson", luaopen_nnlab_lesson},
  {"_kernel", luaopen_nnlab_kernel},   {"_grader", luaopen_nnlab_grader},
  {NULL, NULL},
};

int host_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* package.searchers entry for the modules compiled into the binary. */
static int search_embedded(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (int i = 0; nnlab_embedded_lua[i].name; i++) {
    if (strcmp(nnlab_embedded_lua[i].name, name) == 0) {
      char chunk[128];
      snprintf(chunk, sizeof chunk, "@lua/%s.lua", name);
      if (luaL_loadbufferx(L, nnlab_embedded_lua[i].src, nnlab_embedded_lua[i].len, chunk, "t"))
        return lua_error(L);
      lua_pushstring(L, chunk + 1);
      return 2;
    }
  }
  lua_pushfstring(L, "\n\tno embedded module '%s'", name);
  return 1;
}

static void setup_require(lua_State *L) {
  const char *dev = getenv("NNLAB_LUA_PATH");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  for (const luaL_Reg *m = CORE_MODULES; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
  if (dev && *dev) {
    lua_pushfstring(L, "%s/?.lua;", dev);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
  }
  /* searchers: preload, [dev path], embedded, path, cpath... */
  lua_getfield(L, -1, "searchers");
  {
    int n = (int)lua_rawlen(L, -1);
    int pos = (dev && *dev) ? 3 : 2;
    for (int i = n; i >= pos; i--) {
      lua_rawgeti(L, -1, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, pos);
  }
  lua_pop(L, 2);
}

static void set_string_list(lua_State *L, const char *field, const char **v, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, field);
}

static void set_opt_string(lua_State *L, const char *field, const char *v) {
  if (v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, field);
  }
}

static const char *default_lang(void) {
  const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return strncmp(v, "en", 2) == 0 ? "en" : "es";
  }
  return "es";
}

/* nnlab.clock(): monotonic seconds, for timing in scripts and benchmarks. */
static int l_host_clock(lua_State *L) {
  lua_pushnumber(L, progress_now());
  return 1;
}

/* Global `nnlab`: version, options, clock, and the REPL entry. */
static void push_options(lua_State *L, const HostOptions *o) {
  lua_newtable(L);
  lua_pushstring(L, NNLAB_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushcfunction(L, l_host_repl);
  lua_setfield(L, -2, "repl");
  lua_pushcfunction(L, l_host_clock);
  lua_setfield(L, -2, "clock");
  lua_newtable(L);
  set_string_list(L, "exec", o->exec, o->nexec);
  set_string_list(L, "scripts", o->scripts, o->nscripts);
  set_string_list(L, "args", o->args, o->nargs);
  lua_pushboolean(L, o->interactive);
  lua_setfield(L, -2, "interactive");
  lua_pushboolean(L, o->check);
  lua_setfield(L, -2, "check");
  lua_pushboolean(L, o->quick);
  lua_setfield(L, -2, "quick");
  lua_pushboolean(L, o->traceback);
  lua_setfield(L, -2, "traceback");
  set_opt_string(L, "render", o->render);
  set_opt_string(L, "kernel", o->kernel);
  set_opt_string(L, "install_kernel", o->install_kernel);
  set_opt_string(L, "plot", o->plot);
  set_opt_string(L, "out", o->out);
  lua_pushnumber(L, o->timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushinteger(L, o->max_memory);
  lua_setfield(L, -2, "max_memory");
  lua_pushboolean(L, o->sandbox);
  lua_setfield(L, -2, "sandbox");
  set_opt_string(L, "junit", o->junit);
  set_opt_string(L, "json", o->json);
  lua_pushstring(L, o->lang ? o->lang : default_lang());
  lua_setfield(L, -2, "lang");
  set_opt_string(L, "lang_given", o->lang); /* --lang as given, for the kernel spec */
  if (o->threads > 0) {
    lua_pushinteger(L, o->threads);
    lua_setfield(L, -2, "threads_given");
  }
  lua_pushinteger(L, o->seed);
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, nnlab_threads());
  lua_setfield(L, -2, "threads");
  lua_pushboolean(L, isatty(0));
  lua_setfield(L, -2, "stdin_tty");
  lua_pushboolean(L, isatty(1));
  lua_setfield(L, -2, "stdout_tty");
  lua_setfield(L, -2, "options");
  lua_setglobal(L, "nnlab");
}

/* The global `arg`, as the standalone lua sets it. */
static void push_arg(lua_State *L, const HostOptions *o) {
  lua_createtable(L, o->nargs, 1);
  lua_pushstring(L, o->progname);
  lua_rawseti(L, -2, o->nscripts ? -1 : 0);
  if (o->nscripts) {
    lua_pushstring(L, o->scripts[0]);
    lua_rawseti(L, -2, 0);
  }
  for (int i = 0; i < o->nargs; i++) {
    lua_pushstring(L, o->args[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setglobal(L, "arg");
}

static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "nnlab: %s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

int host_run(const HostOptions *o) {
  int status, code = 0;
  /* a lesson's child under --check: its results go to the parent through a
   * socket; Ctrl-C is the parent's to handle (a SIGINT sent to the child
   * itself ends it, so a half-trained model is never judged) */
  int grader_child = grader_child_init() >= 0;
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "nnlab: cannot create the Lua state: not enough memory\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN); /* a dead gnuplot becomes a Lua error, not a kill */
  nnlab_set_threads(o->threads);
  luaL_openlibs(L);
  setup_require(L);
  push_options(L, o);
  push_arg(L, o);
  if (grader_child) setvbuf(stdout, NULL, _IOLBF, 0);
  else interrupt_install(L);
  lua_pushcfunction(L, host_traceback);
  lua_getglobal(L, "require");
  lua_pushstring(L, "main");
  status = lua_pcall(L, 1, 1, 1);
  if (status == LUA_OK) {
    lua_getglobal(L, "nnlab");
    lua_getfield(L, -1, "options");
    lua_remove(L, -2);
    status = lua_pcall(L, 1, 1, 1);
  }
  if (report(L, status) != LUA_OK) code = 1;
  else {
    if (lua_isinteger(L, -1)) code = (int)lua_tointeger(L, -1);
    else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) code = 1;
    lua_pop(L, 1);
  }
  fflush(stdout);
  lua_close(L);
  return code;
}
