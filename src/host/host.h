/* host.h — the embedded Lua state: module registry, embedded Lua library,
 * the error handler, and the entry into lua/main.lua. */
#ifndef NNLAB_HOST_H
#define NNLAB_HOST_H

#include <lua.h>

#define NNLAB_VERSION "0.1.0"

/* Options parsed from the command line, handed to lua/main.lua as the
 * table `nnlab.options`. */
typedef struct HostOptions {
  const char **exec;   /* -e statements, in order */
  int nexec;
  int interactive;     /* -i */
  int check, quick;
  int traceback;       /* --traceback: every frame of an error */
  const char *render, *plot, *out, *lang;
  const char *kernel;         /* --kernel CONNECTION_FILE */
  const char *install_kernel; /* --install-kernel: "system", "user" or the --prefix */
  const char *kernel_prefix;
  int kernel_user;
  long seed;
  int threads;         /* 0: all cores */
  const char **scripts; /* script (and, with --check, more lessons) */
  int nscripts;
  const char **args;   /* arguments after the script */
  int nargs;
  const char *progname;
} HostOptions;

/* Creates the state, runs main.lua with the options; returns the exit status. */
int host_run(const HostOptions *o);
/* The message handler: adds a traceback to an error message. */
int host_traceback(lua_State *L);
/* The REPL (repl.c): reads, evaluates and prints until end of input. */
int l_host_repl(lua_State *L);

#endif
