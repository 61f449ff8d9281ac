/* expect.c — lesson.expect(name, value, {min=, max=} | expected) judged in
 * C. A range passes for a number within it (NaN never); an expected value
 * passes when equal: numbers within a relative 1e-9, strings and booleans
 * exactly, lists element by element. Values are shown as Lua shows them:
 * integers as they are, other numbers with 4 significant digits, strings
 * quoted, lists in braces. Raw accesses only: a lesson's metatables cannot
 * change a verdict or run while one is being reached. */
#include "expect.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 8  /* nested lists compared and shown this deep */
#define MAX_SHOWN 64 /* list elements shown before "..." */

static int errorat(lua_State *L, int level, const char *fmt, const char *a, const char *b) {
  luaL_where(L, level);
  lua_pushfstring(L, fmt, a, b);
  lua_concat(L, 2);
  return lua_error(L);
}

/* string.format("%q", s), for the strings a check shows. */
static void push_quoted(lua_State *L, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\' || c == '\n') {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    } else if (c == '\r') {
      luaL_addstring(&b, "\\r");
    } else if (c == 0 || c < 32 || c == 127) {
      snprintf(esc, sizeof esc, (i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') ? "\\%03d" : "\\%d", c);
      luaL_addstring(&b, esc);
    } else {
      luaL_addchar(&b, (char)c);
    }
  }
  luaL_addchar(&b, '"');
  luaL_pushresult(&b);
}

/* Pushes the value at idx as the PASS/FAIL lines show it. */
static void push_shown(lua_State *L, int idx, int depth) {
  char num[64];
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, "lesson.expect: value nested too deep");
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      lua_pushfstring(L, "%I", lua_tointeger(L, idx));
    } else {
      double v = lua_tonumber(L, idx);
      if (v != v) snprintf(num, sizeof num, "nan");
      else snprintf(num, sizeof num, "%.4g", v);
      lua_pushstring(L, num);
    }
    return;
  case LUA_TSTRING: push_quoted(L, idx); return;
  case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); return;
  case LUA_TNIL: lua_pushliteral(L, "nil"); return;
  case LUA_TTABLE: {
    lua_Unsigned n = lua_rawlen(L, idx);
    int parts = 1;
    lua_pushliteral(L, "{");
    if (depth >= MAX_DEPTH) {
      lua_pushliteral(L, "...");
      parts++;
    } else {
      for (lua_Unsigned i = 1; i <= n && i <= MAX_SHOWN; i++) {
        if (i > 1) lua_pushliteral(L, ", "), parts++;
        lua_rawgeti(L, idx, (lua_Integer)i);
        push_shown(L, -1, depth + 1);
        lua_remove(L, -2);
        parts++;
        if (parts > 32) lua_concat(L, parts), parts = 1;
      }
      if (n > MAX_SHOWN) lua_pushliteral(L, ", ..."), parts++;
    }
    lua_pushliteral(L, "}");
    lua_concat(L, parts + 1);
    return;
  }
  default: {
    int t = luaL_getmetafield(L, idx, "__name");
    const char *kind = t == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, idx);
    lua_pushfstring(L, "%s: %p", kind, lua_topointer(L, idx));
    if (t != LUA_TNIL) lua_remove(L, -2);
    return;
  }
  }
}

/* Equality as documented: numbers within a relative 1e-9, lists element by
 * element, anything else raw equality. */
static int same(lua_State *L, int a, int b, int depth) {
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  if (lua_type(L, a) == LUA_TNUMBER && lua_type(L, b) == LUA_TNUMBER) {
    if (lua_rawequal(L, a, b)) return 1;
    double x = lua_tonumber(L, a), y = lua_tonumber(L, b);
    return fabs(x - y) <= 1e-9 * fmax(1.0, fabs(y));
  }
  if (lua_type(L, a) == LUA_TTABLE && lua_type(L, b) == LUA_TTABLE) {
    lua_Unsigned n = lua_rawlen(L, b);
    if (lua_rawlen(L, a) != n) return 0;
    if (depth >= MAX_DEPTH) return lua_rawequal(L, a, b);
    luaL_checkstack(L, 4, "lesson.expect: value nested too deep");
    for (lua_Unsigned i = 1; i <= n; i++) {
      lua_rawgeti(L, a, (lua_Integer)i);
      lua_rawgeti(L, b, (lua_Integer)i);
      int eq = same(L, -2, -1, depth + 1);
      lua_pop(L, 2);
      if (!eq) return 0;
    }
    return 1;
  }
  return lua_rawequal(L, a, b);
}

/* A table is a range when it has min= or max=, or has keys but no list part
 * (a misspelt option such as {mni = 1}, reported below). */
static int is_range(lua_State *L, int spec) {
  int range = 0;
  if (lua_type(L, spec) != LUA_TTABLE) return 0;
  lua_pushliteral(L, "min");
  if (lua_rawget(L, spec) != LUA_TNIL) range = 1;
  lua_pop(L, 1);
  lua_pushliteral(L, "max");
  if (lua_rawget(L, spec) != LUA_TNIL) range = 1;
  lua_pop(L, 1);
  if (!range && lua_rawlen(L, spec) == 0) {
    lua_pushnil(L);
    if (lua_next(L, spec)) {
      lua_pop(L, 2);
      range = 1;
    }
  }
  return range;
}

int expect_judge(lua_State *L, int level) {
  int ok;
  if (lua_type(L, 1) != LUA_TSTRING)
    errorat(L, level, "lesson.expect: expected a name (string) as argument 1, got %s%s", luaL_typename(L, 1), "");
  if (lua_isnoneornil(L, 3))
    errorat(L, level, "lesson.expect: expected a range {min=, max=} or an expected value as argument 3, got %s%s",
            "nil", "");
  if (is_range(L, 3)) {
    double v = 0;
    int have[2];
    static const char *const key[2] = {"min", "max"};
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING || (strcmp(lua_tostring(L, -1), "min") && strcmp(lua_tostring(L, -1), "max"))) {
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
        errorat(L, level, "lesson.expect: unknown option '%s' (expected min= and/or max=)%s", k, "");
      }
    }
    for (int i = 0; i < 2; i++) {
      lua_pushstring(L, key[i]);
      int t = lua_rawget(L, 3);
      have[i] = t != LUA_TNIL;
      if (have[i] && t != LUA_TNUMBER)
        errorat(L, level, "lesson.expect: %s= expects a number, got %s", key[i], lua_typename(L, t));
    }
    /* stack: ..., min, max */
    ok = lua_type(L, 2) == LUA_TNUMBER;
    if (ok) {
      v = lua_tonumber(L, 2);
      ok = v == v && (!have[0] || v >= lua_tonumber(L, -2)) && (!have[1] || v <= lua_tonumber(L, -1));
    }
    push_shown(L, 2, 0);
    if (have[0] && have[1]) {
      push_shown(L, -3, 0);
      lua_pushliteral(L, "..");
      push_shown(L, -4, 0);
      lua_concat(L, 3);
    } else {
      lua_pushstring(L, have[0] ? ">= " : "<= ");
      push_shown(L, have[0] ? -4 : -3, 0);
      lua_concat(L, 2);
    }
    lua_rotate(L, -4, 2); /* value, want, min, max */
    lua_pop(L, 2);
    return ok;
  }
  ok = same(L, 2, 3, 0);
  push_shown(L, 2, 0);
  push_shown(L, 3, 0);
  return ok;
}
