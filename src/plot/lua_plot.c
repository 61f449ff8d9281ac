/* lua_plot.c — the _plot binding under lua/plot.lua: finding and running
 * gnuplot (one process per plot, or one kept open for windows), atomic file
 * writes, and mosaic images of tiles written as raw float32 arrays for
 * gnuplot's `binary array=(W,H) format='%float'`. Scripts and layouts are
 * built in Lua. Every C buffer lives in a userdata, so a Lua error frees it. */
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "lua_tensor.h"
#include "mosaic.h"

#define SESSION_MT "nnlab.GnuplotSession"

#include "lua_plot.h"
#include "lua_util.h"

/* A float buffer of n entries owned by a box on the stack (lua_util.h). */
static float *push_floats(lua_State *L, size_t n, const char *who) {
  if (n > ((size_t)1 << 31)) lu_error(L, who, "image too large (%I values)", (lua_Integer)n);
  return lu_push_buffer(L, (n ? n : 1) * sizeof(float), who);
}

/* ---- gnuplot ------------------------------------------------------------- */

/* _plot.find() -> path | nil */
static int l_plot_find(lua_State *L) {
  char path[4096];
  if (gnuplot_find(path, sizeof path) != 0) return 0;
  lua_pushstring(L, path);
  return 1;
}

/* _plot.run(exe, script [, dir [, capture]]) -> true | stdout, or nil, message */
static int l_plot_run(lua_State *L) {
  const char *exe = luaL_checkstring(L, 1);
  size_t len;
  const char *script = luaL_checklstring(L, 2, &len);
  const char *dir = luaL_optstring(L, 3, NULL);
  int capture = lua_toboolean(L, 4);
  char err[GNUPLOT_ERRLEN];
  void **box = lu_push_box(L);
  char *out = NULL;
  size_t outlen = 0;
  int rc = gnuplot_run(exe, dir, script, len, capture ? &out : NULL, &outlen, err);
  *box = out;
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  if (capture) lua_pushlstring(L, out, outlen);
  else lua_pushboolean(L, 1);
  return 1;
}

static int l_session_gc(lua_State *L) {
  gnuplot_session_close(luaL_checkudata(L, 1, SESSION_MT));
  return 0;
}

/* The session kept in the registry: one gnuplot for every window plot. */
static GnuplotSession *get_session(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, SESSION_MT ".instance") != LUA_TUSERDATA) {
    lua_pop(L, 1);
    GnuplotSession *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pid = 0, g->in_fd = g->err_fd = -1;
    luaL_setmetatable(L, SESSION_MT);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SESSION_MT ".instance");
  }
  GnuplotSession *g = lua_touserdata(L, -1);
  lua_pop(L, 1); /* the registry keeps it */
  return g;
}

/* _plot.session_send(exe, script) -> true, or nil, message. Starts gnuplot
 * when it is not running (again, after an error stopped it). */
static int l_plot_session_send(lua_State *L) {
  const char *exe = luaL_checkstring(L, 1);
  size_t len;
  const char *script = luaL_checklstring(L, 2, &len);
  char err[GNUPLOT_ERRLEN];
  GnuplotSession *g = get_session(L);
  if ((g->pid <= 0 && gnuplot_session_open(g, exe, err) != 0) ||
      gnuplot_session_send(g, script, len, err) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* _plot.session_pid() -> pid | nil (for tests: the same process across plots) */
static int l_plot_session_pid(lua_State *L) {
  GnuplotSession *g = get_session(L);
  if (g->pid <= 0) return 0;
  lua_pushinteger(L, g->pid);
  return 1;
}

static int l_plot_session_close(lua_State *L) {
  gnuplot_session_close(get_session(L));
  return 0;
}

/* ---- files --------------------------------------------------------------- */

/* _plot.write(path, data) -> true, or nil, message */
static int l_plot_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  char err[GNUPLOT_ERRLEN];
  if (plotfile_write(path, data, len, err) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_plot_mkdirs(lua_State *L) {
  char err[GNUPLOT_ERRLEN];
  if (plotfile_mkdirs(luaL_checkstring(L, 1), err) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- mosaics ------------------------------------------------------------- */

static int opt_int(lua_State *L, int t, const char *key, int def, int lo, int hi, const char *who) {
  lua_getfield(L, t, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  if (!lua_isinteger(L, -1)) luaL_error(L, "%s: %s: expected an integer, got %s", who, key, luaL_typename(L, -1));
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (v < lo || v > hi) luaL_error(L, "%s: %s: expected %d..%d, got %d", who, key, lo, hi, (int)v);
  return (int)v;
}

/* _plot.mosaic(path, src, opts) -> width, height, min, max
 * opts: who, h, w, c (tile shape), layout = "rows" (src's first dimension
 * runs over tiles: images N x H x W [x 3]) | "columns" (src is inputs x
 * units: a weight matrix, one tile per column) | "single" (src is one tile),
 * index = {1-based tiles; 0 leaves a cell empty} (default all), cols, gap, band, smooth (sigma),
 * minmax (scale each tile to 0..255), bg (default NaN). min and max are
 * over the tile values written (after smoothing and scaling). */
static int l_plot_mosaic(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  Tensor *src = lt_check(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_getfield(L, 3, "who");
  const char *who = lua_isstring(L, -1) ? lua_tostring(L, -1) : "plot";
  lua_pop(L, 1); /* the opts table keeps the string alive */
  MosaicLayout m;
  memset(&m, 0, sizeof m);
  m.h = opt_int(L, 3, "h", 0, 1, 1 << 16, who);
  m.w = opt_int(L, 3, "w", 0, 1, 1 << 16, who);
  m.c = opt_int(L, 3, "c", 1, 1, 3, who);
  if (m.c == 2) return luaL_error(L, "%s: expected 1 (grey) or 3 (RGB) channels, got 2", who);
  m.gap = opt_int(L, 3, "gap", 0, 0, 1000, who);
  m.band = opt_int(L, 3, "band", 0, 0, 1000, who);
  lua_getfield(L, 3, "layout");
  const char *layout = lua_isstring(L, -1) ? lua_tostring(L, -1) : "single";
  lua_pop(L, 1);
  lua_getfield(L, 3, "smooth");
  float sigma = (float)lua_tonumber(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 3, "minmax");
  int minmax = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 3, "bg");
  float bg = lua_isnumber(L, -1) ? (float)lua_tonumber(L, -1) : NAN;
  lua_pop(L, 1);

  int64_t per = (int64_t)m.h * m.w * m.c, ntiles;
  char s[64];
  tensor_shape_str(src, s, sizeof s);
  int columns = strcmp(layout, "columns") == 0;
  if (columns) {
    if (src->ndim != 2)
      return luaL_error(L, "%s: expected a 2-D weight matrix (inputs x units), got %s", who, s);
    if (src->shape[0] != per)
      return luaL_error(L, "%s: W has %d rows (inputs) but shape %dx%dx%d needs %d (W is %s)", who,
                        (int)src->shape[0], m.h, m.w, m.c, (int)per, s);
    ntiles = src->shape[1];
  } else if (strcmp(layout, "rows") == 0) {
    if (src->ndim < 2 || tensor_numel(src) != src->shape[0] * per)
      return luaL_error(L, "%s: expected N images of %dx%d%s, got %s", who, m.h, m.w, m.c == 3 ? "x3" : "", s);
    ntiles = src->shape[0];
  } else if (strcmp(layout, "single") == 0) {
    if (tensor_numel(src) != per)
      return luaL_error(L, "%s: expected an image of %dx%d%s, got %s", who, m.h, m.w, m.c == 3 ? "x3" : "", s);
    ntiles = 1;
  } else {
    return luaL_error(L, "%s: layout: expected rows, columns or single, got %s", who, layout);
  }
  /* which tiles, in order */
  int has_index = lua_getfield(L, 3, "index") == LUA_TTABLE;
  int64_t n = has_index ? (int64_t)luaL_len(L, -1) : ntiles;
  if (n > 100000) return luaL_error(L, "%s: expected at most 100000 tiles, got %d", who, (int)n);
  int32_t *pick = (int32_t *)push_floats(L, (size_t)n, who); /* int32 fits a float slot */
  for (int64_t i = 0; i < n; i++) {
    int64_t t = i;
    if (has_index) {
      lua_geti(L, -2, i + 1);
      if (!lua_isinteger(L, -1))
        return luaL_error(L, "%s: index[%d]: expected an integer, got %s", who, (int)i + 1, luaL_typename(L, -1));
      t = lua_tointeger(L, -1) - 1;
      lua_pop(L, 1);
      if (t < -1 || t >= ntiles)
        return luaL_error(L, "%s: index[%d]: expected 0..%d, got %d", who, (int)i + 1, (int)ntiles, (int)t + 1);
    }
    pick[i] = (int32_t)t;
  }
  m.n = (int)n;
  m.cols = opt_int(L, 3, "cols", (int)ceil(sqrt((double)(n > 0 ? n : 1))), 1, 100000, who);
  mosaic_layout(&m);
  if ((double)m.width * m.height * m.c > 1e8)
    return luaL_error(L, "%s: mosaic of %dx%d pixels is too large", who, m.width, m.height);

  Tensor *f = lt_push_copy(L, src, DT_FLOAT32, who); /* contiguous float copy */
  const float *data = tensor_f32(f);
  float *out = push_floats(L, (size_t)m.width * m.height * m.c, who);
  float *tile = push_floats(L, (size_t)per, who);
  float *tmp = push_floats(L, (size_t)per, who);
  mosaic_clear(out, &m, bg);
  double lo = INFINITY, hi = -INFINITY;
  int64_t units = columns ? src->shape[1] : 0;
  for (int i = 0; i < m.n; i++) {
    int64_t t = pick[i];
    if (t < 0) continue; /* an empty cell keeps the background */
    if (columns)
      for (int64_t p = 0; p < per; p++) tile[p] = data[p * units + t];
    else
      memcpy(tile, data + t * per, (size_t)per * sizeof(float));
    mosaic_blur(tile, m.h, m.w, m.c, sigma, tmp);
    if (minmax) mosaic_minmax(tile, per);
    for (int64_t p = 0; p < per; p++)
      if (isfinite(tile[p])) {
        if (tile[p] < lo) lo = tile[p];
        if (tile[p] > hi) hi = tile[p];
      }
    mosaic_put(out, &m, i, tile);
  }
  char err[GNUPLOT_ERRLEN];
  if (plotfile_write(path, out, (size_t)m.width * m.height * m.c * sizeof(float), err) != 0)
    return luaL_error(L, "%s: %s", who, err);
  lua_pushinteger(L, m.width);
  lua_pushinteger(L, m.height);
  if (lo > hi) lo = hi = 0;
  lua_pushnumber(L, lo);
  lua_pushnumber(L, hi);
  lua_pushinteger(L, m.cols);
  return 5;
}

static const luaL_Reg FUNCS[] = {
  {"find", l_plot_find},
  {"run", l_plot_run},
  {"session_send", l_plot_session_send},
  {"session_pid", l_plot_session_pid},
  {"session_close", l_plot_session_close},
  {"write", l_plot_write},
  {"mkdirs", l_plot_mkdirs},
  {"mosaic", l_plot_mosaic},
  {NULL, NULL},
};

int luaopen_nnlab_plot(lua_State *L) {
  if (luaL_newmetatable(L, SESSION_MT)) {
    lua_pushcfunction(L, l_session_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, FUNCS);
  return 1;
}
