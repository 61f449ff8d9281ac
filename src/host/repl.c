/* repl.c — the interactive session (SPEC 3.7): reads lines with readline
 * (editing, history in ~/.nnlab_history, Tab completion) and hands each one to
 * lua/repl.lua, which compiles, runs and prints it. Ctrl-C at the prompt
 * clears the line; Ctrl-C while code runs is the host's interrupt hook, which
 * raises "interrupted!" inside Lua and lands back here. */
#include <errno.h>
#include <lauxlib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "host.h"
#include "lua_interrupt.h"

#define HISTORY_MAX 1000

static lua_State *g_L;       /* the state the completion callback asks */
static int g_repl_idx;       /* stack slot of the repl module */
static int g_cancelled;      /* Ctrl-C was pressed at the prompt */

/* Readline's own getc, but Ctrl-C ends the line at once (the line is then
 * thrown away). The host's SIGINT handler only sets a flag, and the signal
 * may land on any thread (OpenBLAS keeps its own), so a blocked read would not
 * notice it: the input is polled ten times a second and the flag checked
 * between polls. */
static int cancel_line(void) {
  interrupt_consume(g_L);
  g_cancelled = 1;
  rl_point = rl_end;
  return '\n';
}

static int repl_getc(FILE *in) {
  int fd = fileno(in);
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    unsigned char c;
    ssize_t n;
    int ready;
    if (interrupt_pending()) return cancel_line();
    rl_check_signals(); /* a window resize caught by readline's own handler */
    ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return EOF;
    if (ready <= 0) continue;
    n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno != EINTR && errno != EAGAIN) return EOF;
  }
}

/* ---- completion ---------------------------------------------------------
 * repl.complete(line, word) returns the candidates as a list of strings; the
 * generator hands them to readline one by one (readline frees them). */

static char **g_cand;
static int g_ncand, g_next;

static void free_candidates(void) {
  for (int i = g_next; i < g_ncand; i++) free(g_cand[i]);
  free(g_cand);
  g_cand = NULL;
  g_ncand = g_next = 0;
}

static char *candidate_generator(const char *text, int state) {
  (void)text;
  (void)state;
  if (g_next < g_ncand) return g_cand[g_next++];
  return NULL;
}

static int collect_candidates(lua_State *L) {
  lua_Integer n;
  lua_getfield(L, 1, "complete");
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 2, 1);
  if (!lua_istable(L, -1)) return 0;
  n = luaL_len(L, -1);
  if (n <= 0) return 0;
  g_cand = calloc((size_t)n, sizeof *g_cand);
  if (!g_cand) return 0;
  for (lua_Integer i = 1; i <= n; i++) {
    const char *s;
    lua_rawgeti(L, -1, i);
    s = lua_tostring(L, -1);
    if (s && (g_cand[g_ncand] = strdup(s)) != NULL) g_ncand++;
    lua_pop(L, 1);
  }
  return 0;
}

static char **repl_completion(const char *text, int start, int end) {
  lua_State *L = g_L;
  char **matches = NULL;
  (void)end;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  rl_completion_append_character = '\0'; /* readline resets it to ' ' each time */
  lua_pushcfunction(L, collect_candidates);
  lua_pushvalue(L, g_repl_idx);
  lua_pushlstring(L, rl_line_buffer, (size_t)start);
  lua_pushstring(L, text);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) lua_pop(L, 1); /* no candidates, no fuss */
  interrupt_consume(L);
  if (g_ncand > 0) matches = rl_completion_matches(text, candidate_generator);
  free_candidates();
  return matches;
}

/* ---- the loop ----------------------------------------------------------- */

/* Calls repl.<fn>(arg) under the traceback handler at `msgh`; returns the
 * boolean result (false after an error, which is printed). */
static int call_repl(lua_State *L, int msgh, const char *fn, const char *arg) {
  int status, result;
  lua_getfield(L, g_repl_idx, fn);
  if (arg) lua_pushstring(L, arg);
  status = lua_pcall(L, arg ? 1 : 0, 1, msgh);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
    return 0;
  }
  result = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return result;
}

/* One line from a terminal through readline, or from a pipe with a plain
 * read (with -i and a redirected standard input). Returns a malloc'd line
 * without its newline, or NULL at end of input. */
static char *read_line(const char *prompt, int tty) {
  if (tty) return readline(prompt);
  {
    size_t cap = 0;
    char *line = NULL;
    ssize_t n;
    fputs(prompt, stdout);
    fflush(stdout);
    errno = 0;
    n = getline(&line, &cap, stdin);
    if (n < 0) {
      free(line);
      if (errno == EINTR && interrupt_pending()) {
        interrupt_consume(g_L);
        g_cancelled = 1;
        fputc('\n', stdout);
        return strdup("");
      }
      return NULL;
    }
    if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
    return line;
  }
}

static void remember(const char *line, const char *histfile) {
  HIST_ENTRY *last;
  if (!*line) return;
  last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last && strcmp(last->line, line) == 0) return;
  add_history(line);
  /* appended as we go, so a crash loses nothing */
  if (histfile) append_history(1, histfile);
}

int l_host_repl(lua_State *L) {
  int tty = isatty(0), more = 0, msgh;
  const char *histfile = NULL;
  const char *home = getenv("HOME");

  lua_settop(L, 0);
  lua_pushcfunction(L, host_traceback);
  msgh = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushstring(L, "repl");
  lua_call(L, 1, 1);
  g_repl_idx = lua_gettop(L);
  g_L = L;
  if (tty && home && *home) histfile = lua_pushfstring(L, "%s/.nnlab_history", home);

  if (tty) {
    rl_readline_name = "nnlab";
    rl_catch_signals = 0;            /* SIGINT stays the host's; see repl_getc */
    rl_getc_function = repl_getc;
    rl_attempted_completion_function = repl_completion;
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
    using_history();
    stifle_history(HISTORY_MAX);
    if (histfile && read_history(histfile) != 0) write_history(histfile); /* create it */
  }
  call_repl(L, msgh, "banner", NULL);

  for (;;) {
    char *line;
    int top = lua_gettop(L);
    interrupt_consume(L); /* a Ctrl-C that came after the last result */
    g_cancelled = 0;
    line = read_line(more ? ">> " : "> ", tty);
    if (line == NULL) {
      if (tty) fputc('\n', stdout);
      break;
    }
    if (g_cancelled || interrupt_pending()) { /* Ctrl-C while on this line */
      interrupt_consume(L);
      free(line);
      call_repl(L, msgh, "reset", NULL);
      more = 0;
      continue;
    }
    if (tty) remember(line, histfile);
    lua_pushstring(L, line);
    free(line);
    more = call_repl(L, msgh, "feed", lua_tostring(L, -1));
    fflush(stdout);
    lua_settop(L, top);
  }
  if (tty && histfile) history_truncate_file(histfile, HISTORY_MAX);
  if (tty) clear_history();
  fflush(stdout);
  return 0;
}
