/* lua_grader.c — the binding of the grader, registered as _grader. In the
 * parent (`nnlab --check`): spawn a lesson's child and return what it did,
 * draw a sandboxed lesson's plots in a jail. In the child: lesson.expect
 * judged in C and sent to the parent at once, os.exit reported before it
 * exits, and `run`, which starts the lesson exactly once (after the limits
 * and the sandbox) and alone may say that the lesson ran to its end. These
 * functions hold no Lua upvalues, so no Lua code can swap what they use. */
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "gemm.h"
#include "grader.h"
#include "interrupt.h"
#include "lua_interrupt.h"
#include "progress.h"
#include "sandbox.h"

int luaopen_nnlab_grader(lua_State *L);

/* ---- records --------------------------------------------------------------- */

/* Sends the strings on the top n stack slots, joined by NUL bytes, as one
 * record (a NUL inside a field becomes "?"); pops them. */
static void send_fields(lua_State *L, int n) {
  luaL_Buffer b;
  int first = lua_gettop(L) - n + 1;
  luaL_buffinit(L, &b);
  for (int i = 0; i < n; i++) {
    size_t len;
    const char *s = lua_tolstring(L, first + i, &len);
    if (i) luaL_addchar(&b, '\0');
    for (size_t k = 0; k < len; k++) luaL_addchar(&b, s[k] ? s[k] : '?');
  }
  luaL_pushresult(&b);
  size_t len;
  const char *rec = lua_tolstring(L, -1, &len);
  grader_child_send(rec, len);
  lua_pop(L, n + 1);
}

/* The same for the lesson's error, built in C memory: the error may be that
 * memory ran out. */
static void send_error(const char *kind, const char *msg, size_t len) {
  static char rec[GRADER_RECORD_MAX];
  size_t n = strlen(kind) + 3;
  rec[0] = 'R', rec[1] = 0;
  memcpy(rec + 2, kind, n - 2); /* with its NUL */
  if (len > sizeof rec - n) len = sizeof rec - n;
  for (size_t i = 0; i < len; i++) rec[n + i] = msg[i] ? msg[i] : '?';
  grader_child_send(rec, n + len);
}

enum { BEFORE_RUN, RUNNING, AFTER_RUN };
static int g_state = BEFORE_RUN;
static double g_t0 = -1;    /* when the lesson started */
static long g_sent = 0;     /* expectations sent */

/* _grader.child() -> true in a lesson's child process under --check */
static int l_grader_child(lua_State *L) {
  lua_pushboolean(L, grader_child_fd() >= 0);
  return 1;
}

/* "file:line" of the function `level` levels up, or "?". */
static void push_where(lua_State *L, int level) {
  lua_Debug ar;
  if (lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
    lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
  else
    lua_pushliteral(L, "?");
}

/* _grader.expect(name, value, spec [, level]) -> ok, line. lesson.expect
 * itself: judges, and in a child also sends the result and prints the line.
 * level (default 1) is whom a misuse is blamed on. */
/* The word PASS/FAIL lines put before the expected value, in the lesson's
 * language (lesson.lua sets it from the message catalogue). */
static char g_expected[32] = "expected";

static int l_grader_expected_word(lua_State *L) {
  size_t n;
  const char *w = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < sizeof g_expected, 1, "expected a word of under 32 bytes");
  memcpy(g_expected, w, n + 1);
  return 0;
}

static int l_grader_expect(lua_State *L) {
  int level = (int)luaL_optinteger(L, 4, 1);
  luaL_argcheck(L, level >= 1 && level <= 20, 4, "expected a level from 1 to 20");
  lua_settop(L, 3);
  int ok = expect_judge(L, level); /* pushes value, want */
  lua_pushfstring(L, "%s %s %s (%s %s)", ok ? "PASS" : "FAIL", lua_tostring(L, 1), lua_tostring(L, 4),
                  g_expected, lua_tostring(L, 5));
  if (grader_child_fd() >= 0) {
    char t[32];
    snprintf(t, sizeof t, "%.3f", g_t0 >= 0 ? progress_now() - g_t0 : 0.0);
    lua_pushliteral(L, "E");
    lua_pushstring(L, ok ? "1" : "0");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    push_where(L, level);
    lua_pushstring(L, t);
    send_fields(L, 7);
    g_sent++;
    size_t n;
    const char *line = lua_tolstring(L, -1, &n);
    fwrite(line, 1, n, stdout);
    fputc('\n', stdout);
    fflush(stdout);
  }
  lua_pushboolean(L, ok);
  lua_insert(L, -2);
  return 2;
}

/* _grader.exit([code [, close]]): os.exit, told to the parent first. */
static int l_grader_exit(lua_State *L) {
  int status;
  if (lua_isboolean(L, 1)) status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
  if (grader_child_fd() >= 0) {
    lua_pushliteral(L, "X");
    if (lua_isnoneornil(L, 1)) lua_pushliteral(L, "");
    else luaL_tolstring(L, 1, NULL);
    send_fields(L, 2);
  }
  if (lua_toboolean(L, 2)) lua_close(L);
  fflush(NULL);
  exit(status);
  return 0;
}

/* _grader.report(message): a lesson that could not even start (unreadable
 * file, syntax error). Only before run. */
static int l_grader_report(lua_State *L) {
  luaL_checkstring(L, 1);
  if (g_state != BEFORE_RUN) return luaL_error(L, "grader.report: only before the lesson runs");
  g_state = AFTER_RUN;
  lua_pushliteral(L, "R");
  lua_pushliteral(L, "error");
  lua_pushvalue(L, 1);
  send_fields(L, 3);
  return 0;
}

/* _grader.plot_later(path): a plot script the parent is to draw after the
 * lesson (under --sandbox the lesson cannot start gnuplot itself). */
static int l_grader_plot_later(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_pushliteral(L, "P");
  lua_pushvalue(L, 1);
  send_fields(L, 2);
  return 0;
}

/* The memory limit counts what the lesson allocates, not what BLAS reserves
 * for its threads: its first product reserves the main thread's buffers, so
 * one tiny product comes first. */
static int limit_memory(lua_Integer mb, char *err) {
  float a[4] = {1, 2, 3, 4}, c[4];
  gemm_f32(0, 0, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, c, 2);
  return sandbox_limit_data((long long)mb << 20, err);
}

static int int_field(lua_State *L, int t, const char *k) {
  lua_getfield(L, t, k);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v < 0 ? 0 : v > INT_MAX ? INT_MAX : (int)v;
}

/* _grader.run(chunk, msgh, {max_memory=MB, sandbox=dir, max_file=MB}) ->
 * true | false, message. Runs the lesson's chunk under msgh, once: the
 * memory limit and (with sandbox) the operating-system sandbox are set
 * first; "ran to its end" (or its error) goes to the parent from here only.
 * Any later call, from the lesson or anyone, is refused. */
static int l_grader_run(lua_State *L) {
  char err[SANDBOX_ERRLEN] = "", done[128] = "";
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TTABLE);
  if (g_state != BEFORE_RUN) return luaL_error(L, "grader.run: the lesson has already been started");
  g_state = RUNNING;
  int mb = int_field(L, 3, "max_memory"), max_file = int_field(L, 3, "max_file");
  lua_getfield(L, 3, "sandbox");
  const char *dir = lua_tostring(L, -1);
  int failed = mb > 0 && limit_memory(mb, err) != 0;
  if (!failed && dir) {
    SandboxSpec spec = {dir, (long long)max_file << 20, NULL};
    failed = sandbox_apply(&spec, done, sizeof done, err) != 0;
    if (!failed) {
      lua_pushliteral(L, "S");
      lua_pushstring(L, done);
      send_fields(L, 2);
    }
  }
  lua_pop(L, 1);
  if (failed) {
    g_state = AFTER_RUN;
    lua_pushliteral(L, "R");
    lua_pushliteral(L, "error");
    lua_pushfstring(L, "the lesson was not started: %s", err);
    lua_pushvalue(L, -1);
    lua_insert(L, -4);
    send_fields(L, 3);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  g_t0 = progress_now();
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  int status = lua_pcall(L, 0, 0, 2);
  g_state = AFTER_RUN;
  if (status == LUA_OK) {
    lua_pushliteral(L, "D");
    lua_pushfstring(L, "%d", (int)g_sent);
    send_fields(L, 2);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "(error object is not a string)");
  }
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  send_error(status == LUA_ERRMEM ? "memory" : "error", msg, len);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

/* _grader.resolve(path) -> path | nil, message: the absolute path with every symbolic link of
 * its existing part resolved and "." and ".." of the rest removed; what
 * the sandbox compares with the folder a lesson may write in. */
static int l_grader_resolve(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char full[PATH_MAX * 2], real[PATH_MAX];
  if (path[0] == '/') snprintf(full, sizeof full, "%s", path);
  else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return luaL_error(L, "resolve: cannot read the current folder: %s", strerror(errno));
    snprintf(full, sizeof full, "%s/%s", cwd, path);
  }
  /* the longest existing prefix, made real; the rest taken as it is written */
  size_t cut = strlen(full);
  for (;;) {
    char c = full[cut];
    full[cut] = 0;
    int found = realpath(cut ? full : "/", real) != NULL;
    struct stat st;
    if (!found && cut && lstat(full, &st) == 0) {
      /* there, but not resolvable: a dangling symbolic link, or no access */
      lua_pushnil(L);
      lua_pushfstring(L, "cannot resolve %s: %s", full, strerror(errno));
      full[cut] = c;
      return 2;
    }
    full[cut] = c;
    if (found) break;
    while (cut > 0 && full[cut - 1] != '/') cut--;
    if (cut > 0) cut--;
    if (cut == 0) {
      strcpy(real, "/");
      break;
    }
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, strcmp(real, "/") ? real : "");
  const char *rest = full + cut;
  while (*rest) {
    while (*rest == '/') rest++;
    const char *end = strchr(rest, '/');
    size_t n = end ? (size_t)(end - rest) : strlen(rest);
    if (n == 0 || (n == 1 && rest[0] == '.')) {
    } else if (n == 2 && rest[0] == '.' && rest[1] == '.') {
      luaL_pushresult(&b);
      const char *s = lua_tostring(L, -1);
      const char *slash = strrchr(s, '/');
      lua_pushlstring(L, s, slash ? (size_t)(slash - s) : 0);
      lua_remove(L, -2);
      luaL_buffinit(L, &b);
      luaL_addvalue(&b);
    } else {
      luaL_addchar(&b, '/');
      luaL_addlstring(&b, rest, n);
    }
    rest += n;
  }
  luaL_pushresult(&b);
  if (lua_rawlen(L, -1) == 0) {
    lua_pop(L, 1);
    lua_pushliteral(L, "/");
  }
  return 1;
}

/* ---- the parent's side ------------------------------------------------------ */

static void set_buf(lua_State *L, const char *field, const GraderBuf *b) {
  lua_pushlstring(L, b->p ? b->p : "", b->n);
  lua_setfield(L, -2, field);
  if (b->dropped) {
    lua_pushinteger(L, (lua_Integer)b->dropped);
    lua_pushfstring(L, "%s_dropped", field);
    lua_insert(L, -2);
    lua_settable(L, -3);
  }
}

static const struct { int sig; const char *name; } SIGNALS[] = {
  {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
  {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
  {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
  {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
  {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
};

static void push_signame(lua_State *L, int sig) {
  for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++)
    if (SIGNALS[i].sig == sig) {
      lua_pushstring(L, SIGNALS[i].name);
      return;
    }
  lua_pushfstring(L, "signal %d", sig);
}

/* argv strings live in a userdata box, so a Lua error cannot leak them. */
typedef struct { char **argv; int n; } Argv;

static int argv_gc(lua_State *L) {
  Argv *a = (Argv *)luaL_checkudata(L, 1, "_grader.Argv");
  if (a->argv) {
    for (int i = 0; i < a->n; i++) free(a->argv[i]);
    free(a->argv);
  }
  a->argv = NULL;
  return 0;
}

/* _grader.spawn(args, timeout) -> {records=, stdout=, stderr=, exit=,
 * signal=, signame=, timed_out=, interrupted=, stop=, seconds=}. args:
 * the command line of the child after the program name. Ctrl-C meanwhile
 * kills the child (interrupted=true); any Ctrl-C is consumed here (stop=true)
 * rather than raised. */
static int l_grader_spawn(lua_State *L) {
  GraderRun run;
  char err[GRADER_ERRLEN];
  luaL_checktype(L, 1, LUA_TTABLE);
  double timeout = luaL_optnumber(L, 2, 0);
  int n = (int)luaL_len(L, 1);
  for (int i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1)) return luaL_error(L, "spawn: argument %d is not a string", i);
    lua_pop(L, 1);
  }
  Argv *a = (Argv *)lua_newuserdatauv(L, sizeof *a, 0);
  a->argv = NULL, a->n = 0;
  luaL_setmetatable(L, "_grader.Argv");
  a->argv = calloc((size_t)n + 2, sizeof *a->argv);
  if (!a->argv) return luaL_error(L, "spawn: out of memory");
  a->argv[a->n++] = strdup("nnlab");
  for (int i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    a->argv[a->n++] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  for (int i = 0; i < a->n; i++)
    if (!a->argv[i]) return luaL_error(L, "spawn: out of memory");
  if (grader_run(a->argv, timeout, interrupt_pending, &run, err) != 0) return luaL_error(L, "%s", err);
  /* a Ctrl-C that came as the child ended stops the batch too, without
   * changing that lesson's result */
  int stop = run.interrupted || interrupt_pending();
  if (stop) interrupt_consume(L);
  lua_createtable(L, 0, 12);
  lua_newtable(L);
  for (size_t off = 0, k = 1; off + 4 <= run.records.n; k++) {
    uint32_t len;
    memcpy(&len, run.records.p + off, 4);
    lua_pushlstring(L, run.records.p + off + 4, len);
    lua_rawseti(L, -2, (lua_Integer)k);
    off += 4 + len;
  }
  lua_setfield(L, -2, "records");
  set_buf(L, "stdout", &run.out);
  set_buf(L, "stderr", &run.err);
  if (run.exited) lua_pushinteger(L, run.status), lua_setfield(L, -2, "exit");
  if (run.signaled) {
    lua_pushinteger(L, run.sig), lua_setfield(L, -2, "signal");
    push_signame(L, run.sig), lua_setfield(L, -2, "signame");
  }
  lua_pushboolean(L, run.timed_out), lua_setfield(L, -2, "timed_out");
  lua_pushboolean(L, run.interrupted), lua_setfield(L, -2, "interrupted");
  lua_pushboolean(L, stop), lua_setfield(L, -2, "stop");
  lua_pushnumber(L, run.seconds), lua_setfield(L, -2, "seconds");
  grader_run_free(&run);
  return 1;
}

/* _grader.draw(gnuplot, dir, script, timeout) -> true | nil, message, stop;
 * stop is true after a Ctrl-C (consumed here, as in spawn). */
static int l_grader_draw(lua_State *L) {
  char err[GRADER_ERRLEN];
  const char *exe = luaL_checkstring(L, 1), *dir = luaL_checkstring(L, 2), *gp = luaL_checkstring(L, 3);
  int failed = grader_draw(exe, dir, gp, luaL_optnumber(L, 4, 60), interrupt_pending, err) != 0;
  int stop = interrupt_pending();
  if (stop) interrupt_consume(L);
  if (!failed) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, err);
  lua_pushboolean(L, stop);
  return 3;
}

/* _grader.landlock_abi() -> the kernel's Landlock version, 0 without */
static int l_grader_landlock_abi(lua_State *L) {
  lua_pushinteger(L, sandbox_landlock_abi());
  return 1;
}

static const luaL_Reg FUNCS[] = {
  {"child", l_grader_child},   {"expect", l_grader_expect},  {"expected_word", l_grader_expected_word},         {"exit", l_grader_exit},
  {"report", l_grader_report}, {"plot_later", l_grader_plot_later}, {"run", l_grader_run},
  {"resolve", l_grader_resolve}, {"spawn", l_grader_spawn},         {"draw", l_grader_draw},
  {"landlock_abi", l_grader_landlock_abi}, {NULL, NULL},
};

int luaopen_nnlab_grader(lua_State *L) {
  if (luaL_newmetatable(L, "_grader.Argv")) {
    lua_pushcfunction(L, argv_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, FUNCS);
  return 1;
}
