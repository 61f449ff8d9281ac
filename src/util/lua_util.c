/* lua_util.c — errors, boxed buffers and the option reader shared by the
 * bindings (see lua_util.h). */
#include "lua_util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BOX_MT "nnlab.Box"

int lu_error(lua_State *L, const char *who, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  luaL_where(L, 1);
  lua_pushfstring(L, "%s: ", who);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return lua_error(L);
}

int lu_raise(lua_State *L, const char *who, const char *err) { return lu_error(L, who, "%s", err); }

static int box_gc(lua_State *L) {
  void **box = luaL_checkudata(L, 1, BOX_MT);
  free(*box);
  *box = NULL;
  return 0;
}

void **lu_push_box(lua_State *L) {
  void **box = lua_newuserdatauv(L, sizeof(void *), 0);
  *box = NULL;
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  return box;
}

void *lu_push_buffer(lua_State *L, size_t bytes, const char *who) {
  void **box = lu_push_box(L);
  *box = malloc(bytes ? bytes : 1);
  if (!*box) lu_error(L, who, "out of memory (%I bytes)", (lua_Integer)bytes);
  return *box;
}

void lu_box_free(void **box) {
  free(*box);
  *box = NULL;
}

/* ---- the option reader ---------------------------------------------------- */

#define AT(dst, s, T) ((T *)((char *)(dst) + (s)->offset))
#define CAT(src, s, T) ((const T *)((const char *)(src) + (s)->offset))

static void check_range(lua_State *L, const char *who, const OptionSpec *s, double v, int idx) {
  char buf[96];
  if (option_in_range(s, v)) return;
  if (s->type == OPTION_INT || s->type == OPTION_INT2)
    lu_error(L, who, "%s must be %s, got %s", s->name, option_range_text(s, buf, sizeof buf),
             luaL_tolstring(L, idx, NULL));
  lu_error(L, who, "%s must be %s, got %f", s->name, option_range_text(s, buf, sizeof buf), v);
}

/* An integer at idx: luaL_checkinteger's message for an argument, ours for
 * a table value. */
static lua_Integer read_int(lua_State *L, int idx, int arg, const char *who, const OptionSpec *s) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (ok) return v;
  if (arg) return luaL_checkinteger(L, arg);
  return lu_error(L, who, "%s must be an integer, got %s", s->name,
                  lua_type(L, idx) == LUA_TNUMBER ? luaL_tolstring(L, idx, NULL) : luaL_typename(L, idx));
}

/* Reads the value at idx (arg: its argument number, 0 in a table). */
static void read_value(lua_State *L, int idx, int arg, const char *who, const OptionSpec *s, void *dst) {
  char buf[160];
  idx = lua_absindex(L, idx);
  switch (s->type) {
  case OPTION_INT: {
    lua_Integer v = read_int(L, idx, arg, who, s);
    check_range(L, who, s, (double)v, idx);
    *AT(dst, s, int64_t) = v;
    break;
  }
  case OPTION_INT2: {
    int64_t *p = AT(dst, s, int64_t);
    if (lua_istable(L, idx) && luaL_len(L, idx) == 2) {
      for (int k = 0; k < 2; k++) {
        lua_geti(L, idx, k + 1);
        p[k] = read_int(L, -1, 0, who, s);
        check_range(L, who, s, (double)p[k], lua_gettop(L));
        lua_pop(L, 1);
      }
    } else if (lua_istable(L, idx)) {
      lu_error(L, who, "%s must be an integer or a pair {a, b}, got a table of %d", s->name,
               (int)luaL_len(L, idx));
    } else {
      p[0] = p[1] = read_int(L, idx, arg, who, s);
      check_range(L, who, s, (double)p[0], idx);
    }
    break;
  }
  case OPTION_FLOAT: case OPTION_DOUBLE: {
    double v = 0;
    if (arg) v = luaL_checknumber(L, arg);
    else if (lua_type(L, idx) == LUA_TNUMBER) v = lua_tonumber(L, idx);
    else lu_error(L, who, "%s must be a number, got %s", s->name, luaL_typename(L, idx));
    check_range(L, who, s, v, idx);
    if (s->type == OPTION_FLOAT) *AT(dst, s, float) = (float)v;
    else *AT(dst, s, double) = v;
    break;
  }
  case OPTION_BOOL:
    if (!lua_isboolean(L, idx)) lu_error(L, who, "%s must be a boolean, got %s", s->name, luaL_typename(L, idx));
    *AT(dst, s, int) = lua_toboolean(L, idx);
    break;
  case OPTION_NAME_INT: {
    /* a name of s, or an integer in its range */
    size_t len = 0;
    const char *name = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    int i = name && strlen(name) == len ? option_name_index(s, name) : -1;
    char range[96];
    if (lua_type(L, idx) == LUA_TNUMBER) {
      lua_Integer v = read_int(L, idx, 0, who, s);
      check_range(L, who, s, (double)v, idx);
      *AT(dst, s, int64_t) = v;
    } else if (i >= 0) {
      *AT(dst, s, int64_t) = -1 - i;
    } else {
      lu_error(L, who, "unknown %s %s%s%s (expected %s, or %s)", s->name, name ? "'" : "a ",
               name ? name : luaL_typename(L, idx), name ? "'" : "", option_names_text(s, buf, sizeof buf),
               option_range_text(s, range, sizeof range));
    }
    break;
  }
  case OPTION_NAME: {
    size_t len;
    const char *name = arg ? luaL_checklstring(L, arg, &len)
                           : lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    int i = name && strlen(name) == len ? option_name_index(s, name) : -1;
    if (i < 0)
      lu_error(L, who, "unknown %s %s%s%s%s (expected %s)", s->name, name ? "'" : "a ",
               name ? name : luaL_typename(L, idx), name ? "'" : "",
               name && strlen(name) != len ? " with a zero byte" : "", option_names_text(s, buf, sizeof buf));
    *AT(dst, s, int) = i;
    break;
  }
  }
}

/* "{init=...}" or "{stride=..., padding=...}": the keys of the options table. */
static const char *table_keys(const OptionSpec *specs, int n, char *buf, size_t len, int braces) {
  size_t used = 0;
  int first = 1;
  buf[0] = 0;
  if (braces) used += (size_t)snprintf(buf, len, "{");
  for (int i = 0; i < n && used < len; i++) {
    if (specs[i].position) continue;
    used += (size_t)snprintf(buf + used, len - used, "%s%s%s", first ? "" : ", ", specs[i].name,
                             braces ? "=..." : "");
    first = 0;
  }
  if (braces && used < len) snprintf(buf + used, len - used, "}");
  return buf;
}

static const OptionSpec *keyword(const OptionSpec *specs, int n, const char *k, size_t len) {
  for (int i = 0; i < n; i++)
    if (!specs[i].position && strlen(specs[i].name) == len && memcmp(specs[i].name, k, len) == 0)
      return &specs[i];
  return NULL;
}

static void read_table(lua_State *L, int t, const char *who, const OptionSpec *specs, int n, void *dst) {
  char buf[160];
  size_t len;
  /* every key first, read raw as the table is walked */
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!k || !keyword(specs, n, k, len))
      lu_error(L, who, "unknown option '%s'%s (expected %s)", luaL_tolstring(L, -1, NULL),
               k && strlen(k) != len ? " with a zero byte" : "", table_keys(specs, n, buf, sizeof buf, 0));
  }
  for (int i = 0; i < n; i++) {
    if (specs[i].position) continue;
    lua_pushstring(L, specs[i].name);
    if (lua_rawget(L, t) != LUA_TNIL) read_value(L, -1, 0, who, &specs[i], dst);
    lua_pop(L, 1);
  }
}

void lu_read_options(lua_State *L, int first, const char *who, const char *usage,
                     const OptionSpec *specs, int n, void *dst) {
  char buf[160];
  int a = first, top = lua_gettop(L), nkw = 0;
  options_defaults(dst, specs, n);
  for (int i = 0; i < n; i++) nkw += specs[i].position == 0;
  for (int pos = 1;; pos++) {
    const OptionSpec *s = NULL;
    for (int i = 0; i < n; i++) if (specs[i].position == pos) s = &specs[i];
    if (!s) break;
    if (!s->required && (a > top || (nkw && lua_istable(L, a) && s->type != OPTION_INT2))) break;
    if (!s->required && lua_isnil(L, a)) { a++; continue; }
    read_value(L, a, a, who, s, dst);
    a++;
  }
  if (a > top || (lua_isnil(L, a) && a == top)) return;
  if (!nkw) return; /* extra arguments are ignored, as Lua functions do */
  if (!lua_istable(L, a))
    lu_error(L, who, "expected an options table %s, got %s", table_keys(specs, n, buf, sizeof buf, 1),
             luaL_typename(L, a));
  if (a < top)
    lu_error(L, who, "the options table comes last (%s), got a %s after it", usage, luaL_typename(L, a + 1));
  read_table(L, a, who, specs, n, dst);
}

void lu_push_option(lua_State *L, const void *src, const OptionSpec *s) {
  switch (s->type) {
  case OPTION_INT: lua_pushinteger(L, *CAT(src, s, int64_t)); break;
  case OPTION_INT2:
    lua_createtable(L, 2, 0);
    for (int k = 0; k < 2; k++) { lua_pushinteger(L, CAT(src, s, int64_t)[k]); lua_rawseti(L, -2, k + 1); }
    break;
  case OPTION_FLOAT: lua_pushnumber(L, *CAT(src, s, float)); break;
  case OPTION_DOUBLE: lua_pushnumber(L, *CAT(src, s, double)); break;
  case OPTION_BOOL: lua_pushboolean(L, *CAT(src, s, int)); break;
  case OPTION_NAME: lua_pushstring(L, s->names[*CAT(src, s, int)]); break;
  case OPTION_NAME_INT: {
    const char *name = option_name_of(s, *CAT(src, s, int64_t));
    if (name) lua_pushstring(L, name);
    else lua_pushinteger(L, *CAT(src, s, int64_t));
    break;
  }
  }
}

static void add_value(luaL_Buffer *b, lua_State *L, const void *src, const OptionSpec *s) {
  switch (s->type) {
  case OPTION_INT: lua_pushfstring(L, "%d", (int)*CAT(src, s, int64_t)); break;
  case OPTION_INT2: {
    const int64_t *p = CAT(src, s, int64_t);
    if (p[0] == p[1]) lua_pushfstring(L, "%d", (int)p[0]);
    else lua_pushfstring(L, "{%d, %d}", (int)p[0], (int)p[1]);
    break;
  }
  case OPTION_BOOL: lua_pushstring(L, *CAT(src, s, int) ? "true" : "false"); break;
  case OPTION_NAME: lua_pushfstring(L, "\"%s\"", s->names[*CAT(src, s, int)]); break;
  case OPTION_NAME_INT: {
    const char *name = option_name_of(s, *CAT(src, s, int64_t));
    if (name) lua_pushfstring(L, "\"%s\"", name);
    else lua_pushfstring(L, "%d", (int)*CAT(src, s, int64_t));
    break;
  }
  default: lua_pushfstring(L, "%f", option_number(src, s)); break;
  }
  luaL_addvalue(b);
}

void lu_push_call(lua_State *L, const char *name, const void *src, const OptionSpec *specs, int n) {
  luaL_Buffer b;
  int npos = 0, nkw = 0;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, name);
  luaL_addchar(&b, '(');
  for (int pos = 1;; pos++) {
    const OptionSpec *s = NULL;
    for (int i = 0; i < n; i++) if (specs[i].position == pos) s = &specs[i];
    if (!s) break;
    if (npos++) luaL_addstring(&b, ", ");
    add_value(&b, L, src, s);
  }
  for (int i = 0; i < n; i++) {
    if (specs[i].position || !option_is_set(src, &specs[i])) continue;
    luaL_addstring(&b, nkw++ ? ", " : npos ? ", {" : "{");
    luaL_addstring(&b, specs[i].name);
    luaL_addchar(&b, '=');
    add_value(&b, L, src, &specs[i]);
  }
  if (nkw) luaL_addchar(&b, '}');
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
}
