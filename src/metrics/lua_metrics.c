/* lua_metrics.c — the _metrics binding: metrics.accuracy, and the
 * nnlab.Confusion userdata (cm.counts is its live K x K int32 tensor, kept as
 * a user value with the class names; methods accuracy, recall, precision, f1,
 * support, most_confused). The course's table layout (tostring) and the
 * classification report are Lua sugar in lua/metrics.lua. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "confusion.h"
#include "lua_tensor.h"

#define CONFUSION_MT "nnlab.Confusion"

#include "lua_metrics.h"

typedef struct LConfusion {
  int k;
} LConfusion;

/* metrics.accuracy(pred, y): the fraction of i with class(pred_i) == y_i. */
static int l_metrics_accuracy(lua_State *L) {
  char err[CONFUSION_ERRLEN];
  Tensor *pred = lt_check(L, 1), *y = lt_check(L, 2);
  int64_t n, np;
  int ys, ps;
  if (confusion_check_labels(y, -1, 0, 0, "metrics.accuracy: y", &n, &ys, err) ||
      confusion_check_labels(pred, n, 0, 1, "metrics.accuracy: pred", &np, &ps, err))
    return luaL_error(L, "%s", err);
  if (n == 0) return luaL_error(L, "metrics.accuracy: expected at least one example, got 0");
  int64_t hit = 0;
  for (int64_t i = 0; i < n; i++)
    hit += confusion_label(pred, ps, i) == confusion_label(y, ys, i);
  lua_pushnumber(L, (double)hit / (double)n);
  return 1;
}

static LConfusion *check_cm(lua_State *L) { return luaL_checkudata(L, 1, CONFUSION_MT); }

static const int32_t *cm_counts(lua_State *L, int k) {
  lua_getiuservalue(L, 1, 1);
  Tensor *t = lt_test(L, -1);
  lua_pop(L, 1); /* the userdata keeps the tensor alive */
  if (!t || t->dtype != DT_INT32 || t->ndim != 2 || t->shape[0] != k || t->shape[1] != k ||
      !tensor_is_contiguous(t))
    luaL_error(L, "Confusion: counts must stay a contiguous %dx%d int32 tensor", k, k);
  return tensor_i32(t);
}

/* metrics.confusion(y_true, y_pred [, classes | K]). Without classes, K is
 * the largest label seen and the names are "1".."K". */
static int l_metrics_confusion(lua_State *L) {
  char err[CONFUSION_ERRLEN];
  Tensor *yt = lt_check(L, 1), *yp = lt_check(L, 2);
  int64_t n, np, k = 0;
  int ts, ps;
  if (confusion_check_labels(yt, -1, 0, 1, "metrics.confusion: y_true", &n, &ts, err) ||
      confusion_check_labels(yp, n, 0, 1, "metrics.confusion: y_pred", &np, &ps, err))
    return luaL_error(L, "%s", err);
  int has_names = lua_type(L, 3) == LUA_TTABLE;
  if (has_names) {
    k = (int64_t)luaL_len(L, 3);
    for (int64_t i = 1; i <= k; i++) {
      if (lua_geti(L, 3, i) != LUA_TSTRING && !lua_isnumber(L, -1))
        return luaL_error(L, "metrics.confusion: classes[%d]: expected a name, got %s", (int)i,
                          luaL_typename(L, -1));
      lua_pop(L, 1);
    }
  } else if (lua_isinteger(L, 3)) {
    k = lua_tointeger(L, 3);
  } else if (!lua_isnoneornil(L, 3)) {
    return luaL_error(L, "metrics.confusion: classes: expected a list of names or a number, got %s",
                      luaL_typename(L, 3));
  } else {
    int64_t a = confusion_max_label(yt, ts), b = confusion_max_label(yp, ps);
    k = a > b ? a : b;
  }
  if (k < 1 || k > 100000)
    return luaL_error(L, "metrics.confusion: expected between 1 and 100000 classes, got %d", (int)k);
  if ((ts && yt->shape[1] != k) || (ps && yp->shape[1] != k))
    return luaL_error(L, "metrics.confusion: expected an N x %d score matrix (one column per class), got %d columns",
                      (int)k, (int)(ts ? yt->shape[1] : yp->shape[1]));
  if (confusion_check_range(yt, ts, (int)k, "metrics.confusion: y_true", err) ||
      confusion_check_range(yp, ps, (int)k, "metrics.confusion: y_pred", err))
    return luaL_error(L, "%s", err);
  LConfusion *cm = lua_newuserdatauv(L, sizeof *cm, 2);
  cm->k = (int)k;
  luaL_setmetatable(L, CONFUSION_MT);
  int64_t shape[2] = {k, k};
  Tensor *counts = lt_push_new(L, DT_INT32, 2, shape, "metrics.confusion");
  confusion_add(tensor_i32(counts), (int)k, yt, ts, yp, ps, n);
  lua_setiuservalue(L, -2, 1);
  lua_createtable(L, (int)k, 0);
  for (int64_t i = 1; i <= k; i++) {
    if (has_names) {
      lua_geti(L, 3, i);
      lua_pushstring(L, lua_tostring(L, -1));
      lua_remove(L, -2);
    } else {
      lua_pushfstring(L, "%d", (int)i);
    }
    lua_rawseti(L, -2, i);
  }
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static int l_confusion_accuracy(lua_State *L) {
  LConfusion *cm = check_cm(L);
  lua_pushnumber(L, confusion_accuracy(cm_counts(L, cm->k), cm->k));
  return 1;
}

/* Pushes one per-class table computed by f; the buffer is boxed in a
 * userdata so no C memory is alive if pushing fails. */
static int per_class(lua_State *L, void (*f)(const int32_t *, int, double *)) {
  LConfusion *cm = check_cm(L);
  const int32_t *c = cm_counts(L, cm->k);
  double *v = lua_newuserdatauv(L, sizeof(double) * (size_t)cm->k, 0);
  f(c, cm->k, v);
  lua_createtable(L, cm->k, 0);
  for (int i = 0; i < cm->k; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_confusion_recall(lua_State *L) { return per_class(L, confusion_recall); }
static int l_confusion_precision(lua_State *L) { return per_class(L, confusion_precision); }
static int l_confusion_f1(lua_State *L) { return per_class(L, confusion_f1); }

static int l_confusion_support(lua_State *L) {
  LConfusion *cm = check_cm(L);
  const int32_t *c = cm_counts(L, cm->k);
  lua_createtable(L, cm->k, 0);
  for (int i = 0; i < cm->k; i++) {
    lua_Integer s = 0;
    for (int j = 0; j < cm->k; j++) s += c[i * cm->k + j];
    lua_pushinteger(L, s);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* cm:most_confused([n=5]): the n largest off-diagonal cells with a count
 * above zero, largest first; ties in reading order (row, then column). */
static int l_confusion_most_confused(lua_State *L) {
  LConfusion *cm = check_cm(L);
  lua_Integer n = luaL_optinteger(L, 2, 5);
  luaL_argcheck(L, n >= 0, 2, "expected a count >= 0");
  const int32_t *c = cm_counts(L, cm->k);
  int k = cm->k;
  /* a mark per cell (boxed): selection by repeated maximum, n is small */
  unsigned char *taken = lua_newuserdatauv(L, (size_t)k * (size_t)k, 0);
  memset(taken, 0, (size_t)k * (size_t)k);
  lua_newtable(L);
  for (lua_Integer r = 1; r <= n; r++) {
    int best = -1;
    for (int i = 0; i < k * k; i++)
      if (i / k != i % k && !taken[i] && c[i] > 0 && (best < 0 || c[i] > c[best])) best = i;
    if (best < 0) break;
    taken[best] = 1;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, best / k + 1);
    lua_setfield(L, -2, "true");
    lua_pushinteger(L, best % k + 1);
    lua_setfield(L, -2, "pred");
    lua_pushinteger(L, c[best]);
    lua_setfield(L, -2, "count");
    lua_rawseti(L, -2, r);
  }
  return 1;
}

static const luaL_Reg CM_METHODS[] = {
  {"accuracy", l_confusion_accuracy},   {"recall", l_confusion_recall},
  {"precision", l_confusion_precision}, {"f1", l_confusion_f1},
  {"support", l_confusion_support},     {"most_confused", l_confusion_most_confused},
  {NULL, NULL},
};

/* cm.counts, cm.classes, cm.k, then the methods. */
static int l_confusion_index(lua_State *L) {
  LConfusion *cm = check_cm(L);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "counts") == 0) {
    lua_getiuservalue(L, 1, 1);
    return 1;
  }
  if (key && strcmp(key, "classes") == 0) {
    lua_getiuservalue(L, 1, 2);
    return 1;
  }
  if (key && strcmp(key, "k") == 0) {
    lua_pushinteger(L, cm->k);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int l_metrics_metatable(lua_State *L) {
  luaL_getmetatable(L, CONFUSION_MT);
  return 1;
}

static const luaL_Reg FUNCS[] = {
  {"accuracy", l_metrics_accuracy},
  {"confusion", l_metrics_confusion},
  {"_confusion_metatable", l_metrics_metatable},
  {NULL, NULL},
};

int luaopen_nnlab_metrics(lua_State *L) {
  if (luaL_newmetatable(L, CONFUSION_MT)) {
    luaL_newlib(L, CM_METHODS);
    lua_pushcclosure(L, l_confusion_index, 1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, FUNCS);
  return 1;
}
