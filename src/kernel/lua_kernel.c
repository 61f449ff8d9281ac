/* lua_kernel.c — the kernel's binding, registered as _kernel: serve() runs
 * kernel.c's server with handlers calling lua/kernel.lua; display() shows a
 * MIME bundle in the running cell, input() asks the notebook for a line;
 * json() writes Lua values as JSON; exe() is this program's absolute path. */
#include <jansson.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"
#include "lua_interrupt.h"
#include "kernel.h"
#include "progress.h"

int luaopen_nnlab_kernel(lua_State *L);

static Kernel *g_kernel;   /* the kernel whose request is running, or NULL */

/* ---- Lua values to JSON --------------------------------------------------- */

/* A table is an array when it has a [1] or its metatable says
 * __jsontype = "array" (an empty list); otherwise an object of string keys. */
static int is_array(lua_State *L, int idx) {
  int arr = 0;
  if (lua_rawlen(L, idx) > 0) return 1;
  if (lua_getmetatable(L, idx)) {
    lua_getfield(L, -1, "__jsontype");
    arr = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "array") == 0;
    lua_pop(L, 2);
  }
  return arr;
}

/* The JSON of the value at idx, or NULL with a message in `err`. */
static json_t *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen) {
  idx = lua_absindex(L, idx);
  if (depth > 64) {
    snprintf(err, errlen, "nested deeper than 64 levels (a cycle?)");
    return NULL;
  }
  if (!lua_checkstack(L, 4)) { /* each level holds a key, a value and a metatable */
    snprintf(err, errlen, "out of Lua stack");
    return NULL;
  }
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return json_null();
  case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
    if (!isfinite(lua_tonumber(L, idx))) return json_null();
    return json_real(lua_tonumber(L, idx));
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    json_t *j = json_stringn(s, n);
    if (!j) snprintf(err, errlen, "a string is not valid UTF-8");
    return j;
  }
  case LUA_TTABLE: {
    json_t *out;
    if (is_array(L, idx)) {
      lua_Unsigned n = lua_rawlen(L, idx);
      out = json_array();
      for (lua_Unsigned i = 1; i <= n; i++) {
        json_t *v;
        lua_rawgeti(L, idx, (lua_Integer)i);
        v = to_json(L, -1, depth + 1, err, errlen);
        lua_pop(L, 1);
        if (!v) { json_decref(out); return NULL; }
        json_array_append_new(out, v);
      }
      return out;
    }
    out = json_object();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      json_t *v;
      if (lua_type(L, -2) != LUA_TSTRING) {
        snprintf(err, errlen, "an object key is a %s (expected strings)", luaL_typename(L, -2));
        lua_pop(L, 2);
        json_decref(out);
        return NULL;
      }
      v = to_json(L, -1, depth + 1, err, errlen);
      if (!v) { lua_pop(L, 2); json_decref(out); return NULL; }
      json_object_set_new(out, lua_tostring(L, -2), v);
      lua_pop(L, 1);
    }
    return out;
  }
  default:
    snprintf(err, errlen, "a %s value has no JSON form", luaL_typename(L, idx));
    return NULL;
  }
}

static json_t *check_json(lua_State *L, int idx, const char *who) {
  char err[200];
  json_t *j = to_json(L, idx, 0, err, sizeof err);
  if (!j) luaL_error(L, "%s: %s", who, err);
  return j;
}

/* _kernel.json(value [, indent]) -> text; object keys sorted. */
static int l_kernel_json(lua_State *L) {
  int indent = (int)luaL_optinteger(L, 2, 0);
  json_t *j;
  char *s;
  luaL_argcheck(L, indent >= 0 && indent <= 31, 2, "expected an indent from 0 to 31");
  luaL_checkany(L, 1);
  j = check_json(L, 1, "kernel.json");
  s = json_dumps(j, JSON_SORT_KEYS | JSON_ENCODE_ANY | (indent ? JSON_INDENT(indent) : JSON_COMPACT));
  json_decref(j);
  if (!s) return luaL_error(L, "kernel.json: out of memory");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

/* _kernel.display(bundle [, metadata [, display_id [, update]]]) -> true when
 * a cell is running (the bundle was sent), false otherwise. */
static int l_kernel_display(lua_State *L) {
  json_t *data, *meta = NULL;
  const char *id = luaL_optstring(L, 3, NULL);
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  if (!g_kernel) {
    lua_pushboolean(L, 0);
    return 1;
  }
  data = check_json(L, 1, "kernel.display: bundle");
  if (!lua_isnoneornil(L, 2)) {
    char err[200];
    if (!(meta = to_json(L, 2, 0, err, sizeof err))) {
      json_decref(data);
      return luaL_error(L, "kernel.display: metadata: %s", err);
    }
  }
  kernel_display(g_kernel, data, meta, id, lua_toboolean(L, 4));
  lua_pushboolean(L, 1);
  return 1;
}

/* _kernel.input([prompt [, password]]) -> the line the notebook's user typed.
 * Raises an error when no cell runs or the cell may not ask for input. */
static int l_kernel_input(lua_State *L) {
  const char *prompt = luaL_optstring(L, 1, ""), *why;
  char *line;
  if (!g_kernel) return luaL_error(L, "input: no cell is running");
  line = kernel_input(g_kernel, prompt, lua_toboolean(L, 2), &why);
  if (!line) {
    if (strcmp(why, "interrupted") == 0) return luaL_error(L, "interrupted!");
    if (strcmp(why, "not allowed") == 0)
      return luaL_error(L, "input: this client does not take input (allow_stdin is false)");
    return luaL_error(L, "input: the client did not answer");
  }
  lua_pushstring(L, line);
  free(line);
  return 1;
}

/* _kernel.exe() -> the absolute path of the running nnlab */
static int l_kernel_exe(lua_State *L) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return luaL_error(L, "kernel.exe: cannot read /proc/self/exe");
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* ---- handlers: the Lua functions of the table given to serve ------------- */

typedef struct {
  lua_State *L;
  int handlers; /* stack index of the handlers table */
} Binding;

/* Calls handlers[name] with the n arguments on the stack; 0 when it ran
 * (its `nres` results on the stack), else the error message is logged. */
static int call(Binding *b, const char *name, int nargs, int nres) {
  lua_State *L = b->L;
  int status;
  lua_getfield(L, b->handlers, name);
  lua_insert(L, -nargs - 1);
  status = lua_pcall(L, nargs, nres, 0);
  if (status != LUA_OK) {
    kernel_log("%s failed: %s", name, lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

static int h_execute(void *ud, Kernel *k, const char *code, int count, int silent, json_t **result, json_t **error) {
  Binding *b = ud;
  lua_State *L = b->L;
  int top = lua_gettop(L), failed = 0;
  char err[200];
  interrupt_consume(L);
  g_kernel = k;
  lua_pushstring(L, code);
  lua_pushinteger(L, count);
  lua_pushboolean(L, silent);
  if (call(b, "execute", 3, 4) != 0) {
    *error = json_pack("{s:s, s:s, s:[s]}", "ename", "InternalError", "evalue", "the kernel's execute failed (see its log)",
                       "traceback", "the kernel's execute failed (see its log)");
    failed = 1;
  } else if (lua_toboolean(L, top + 1)) {
    if (!lua_isnil(L, top + 2) && !(*result = to_json(L, top + 2, 0, err, sizeof err))) kernel_log("result: %s", err);
  } else {
    const char *ename = lua_tostring(L, top + 2), *evalue = lua_tostring(L, top + 3);
    json_t *tb = lua_istable(L, top + 4) ? to_json(L, top + 4, 0, err, sizeof err) : NULL;
    *error = json_pack("{s:s, s:s, s:o}", "ename", ename ? ename : "Error", "evalue", evalue ? evalue : "",
                       "traceback", tb ? tb : json_array());
    failed = 1;
  }
  g_kernel = NULL;
  interrupt_consume(L); /* a Ctrl-C that came as the cell ended */
  lua_settop(L, top);
  return failed;
}

static json_t *h_complete(void *ud, const char *code, int cursor) {
  Binding *b = ud;
  lua_State *L = b->L;
  int top = lua_gettop(L);
  json_t *r = NULL, *matches;
  char err[200];
  lua_pushstring(L, code);
  lua_pushinteger(L, cursor);
  if (call(b, "complete", 2, 3) == 0 && lua_istable(L, top + 1) &&
      (matches = to_json(L, top + 1, 0, err, sizeof err)) != NULL) {
    if (!json_is_array(matches)) { json_decref(matches); matches = json_array(); }
    r = json_pack("{s:o, s:i, s:i}", "matches", matches, "cursor_start", (int)lua_tointeger(L, top + 2),
                  "cursor_end", (int)lua_tointeger(L, top + 3));
  }
  lua_settop(L, top);
  return r;
}

static json_t *h_inspect(void *ud, const char *code, int cursor, int detail) {
  Binding *b = ud;
  lua_State *L = b->L;
  int top = lua_gettop(L);
  json_t *r = NULL;
  lua_pushstring(L, code);
  lua_pushinteger(L, cursor);
  lua_pushinteger(L, detail);
  if (call(b, "inspect", 3, 1) == 0 && lua_type(L, top + 1) == LUA_TSTRING) {
    json_t *text = json_string(lua_tostring(L, top + 1));
    if (text) r = json_pack("{s:o}", "text/plain", text);
  }
  lua_settop(L, top);
  interrupt_consume(L);
  return r;
}

static const char *h_is_complete(void *ud, const char *code) {
  Binding *b = ud;
  lua_State *L = b->L;
  int top = lua_gettop(L);
  const char *st = "invalid";
  lua_pushstring(L, code);
  if (call(b, "is_complete", 1, 1) == 0 && lua_type(L, top + 1) == LUA_TSTRING) {
    const char *s = lua_tostring(L, top + 1);
    if (strcmp(s, "complete") == 0) st = "complete";
    else if (strcmp(s, "incomplete") == 0) st = "incomplete";
  }
  lua_settop(L, top);
  return st;
}

static void h_clear_interrupt(void *ud) { interrupt_consume(((Binding *)ud)->L); }

/* _kernel.serve(connection_file, handlers, info) serves until shutdown.
 * handlers: execute, complete, inspect, is_complete (see lua/kernel.lua);
 * info: {version=, lua=, banner=}. */
static int l_kernel_serve(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  Binding b;
  KernelInfo info;
  KernelHandlers h = {&b, h_execute, h_complete, h_inspect, h_is_complete, h_clear_interrupt};
  char err[512];
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_getfield(L, 3, "version");
  lua_getfield(L, 3, "lua");
  lua_getfield(L, 3, "banner");
  info.implementation_version = luaL_optstring(L, -3, "");
  info.language_version = luaL_optstring(L, -2, "5.4");
  info.banner = luaL_optstring(L, -1, "nnlab");
  b.L = L;
  b.handlers = 2;
  progress_set_live(1); /* fit's bar redraws in the cell as on a terminal */
  rc = kernel_serve(path, &h, &info, err, sizeof err);
  progress_set_live(0);
  if (rc != 0) return luaL_error(L, "--kernel: %s", err);
  /* Jupyter interrupts a kernel before shutting it down: once the loop has
   * ended, Ctrl-C has nothing left to stop. */
  signal(SIGINT, SIG_IGN);
  interrupt_consume(L);
  return 0;
}

static const luaL_Reg FUNCS[] = {
  {"serve", l_kernel_serve}, {"display", l_kernel_display}, {"json", l_kernel_json},
  {"exe", l_kernel_exe},     {"input", l_kernel_input}, {NULL, NULL},
};

int luaopen_nnlab_kernel(lua_State *L) {
  luaL_newlib(L, FUNCS);
  return 1;
}
