/* lua_tensor_ops.c — the computing half of the Tensor binding: arithmetic
 * operators and methods with numpy broadcasting (and in-place `_` forms),
 * unary math, clamp, softmax, reductions, comparisons to uint8 masks,
 * matmul, cat/stack, .npy files and tostring. Every argument is checked
 * before anything is allocated; results are new tensors (userdata). */
#include "lua_tensor.h"
#include "lua_tensor_ops.h"
#include "lua_util.h"
#include "npy.h"
#include "ops.h"
#include "print.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const BIN_NAMES[] = {"add", "sub", "mul", "div", "pow",
                                        "eq",  "ne",  "lt",  "le",  "gt", "ge"};

/* numpy-like promotion among our three dtypes: float32 > int32 > uint8. */
static DType promote(DType a, DType b) {
  if (a == DT_FLOAT32 || b == DT_FLOAT32) return DT_FLOAT32;
  if (a == DT_INT32 || b == DT_INT32) return DT_INT32;
  return DT_UINT8;
}

/* The operand at idx as a tensor: a Tensor, or a number turned into a
 * 0-dimensional tensor (of the other operand's integer dtype when the
 * number is whole, else float32). */
static Tensor *operand(lua_State *L, int idx, DType other, const char *who) {
  Tensor *t = lt_test(L, idx);
  if (t) return lt_check(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "%s: expected a Tensor or a number, got %s", who, luaL_typename(L, idx));
  double v = lua_tonumber(L, idx);
  DType dt = (other != DT_FLOAT32 && v == floor(v) && fabs(v) < 2147483648.0) ? other : DT_FLOAT32;
  if (dt == DT_UINT8 && (v < 0 || v > 255)) dt = DT_INT32;
  t = lt_push_new(L, dt, 0, NULL, who);
  tensor_set_flat(t, 0, v);
  lua_replace(L, idx);
  return lt_check(L, idx);
}

static int binop(lua_State *L, BinOp op, int inplace) {
  char err[TENSOR_ERRLEN], name[16], x[96], y[96];
  int64_t shape[TENSOR_MAXDIM];
  int nd;
  snprintf(name, sizeof name, "%s%s", BIN_NAMES[op], inplace ? "_" : "");
  lua_settop(L, 2);
  Tensor *ta = lt_test(L, 1), *tb = lt_test(L, 2);
  if (inplace || (!ta && !tb)) ta = lt_check(L, 1);
  if (!ta) ta = operand(L, 1, tb->dtype, name);
  if (!tb) tb = operand(L, 2, ta->dtype, name);
  if (!ta->storage || !tb->storage) lt_check(L, ta->storage ? 2 : 1);
  if (ops_broadcast_shape(ta, tb, &nd, shape, err)) luaL_error(L, "%s: %s", name, err);
  DType dt = op >= OP_EQ ? DT_UINT8 : op == OP_DIV ? DT_FLOAT32 : promote(ta->dtype, tb->dtype);
  if (inplace) {
    if (nd != ta->ndim || memcmp(shape, ta->shape, sizeof(int64_t) * (size_t)nd) != 0)
      luaL_error(L, "%s: the result's shape %s does not fit the tensor's shape %s (in place)",
                 name, shape_str(nd, shape, x, sizeof x), tensor_shape_str(ta, y, sizeof y));
    /* an operand overlapping the output in another layout is read from a copy */
    if (tb->storage == ta->storage &&
        (tb->offset != ta->offset || memcmp(tb->stride, ta->stride, sizeof ta->stride) != 0))
      tb = lt_push_copy(L, tb, tb->dtype, name);
    ops_binary(ta, ta, tb, op);
    lua_settop(L, 1);
    return 1;
  }
  Tensor *out = lt_push_uninit(L, dt, nd, shape, name);
  ops_binary(out, ta, tb, op);
  return 1;
}

#define BINOPS(X, OP)                                                 \
  static int l_tensor_##X(lua_State *L) { return binop(L, OP, 0); }   \
  static int l_tensor_##X##_(lua_State *L) { return binop(L, OP, 1); }
BINOPS(add, OP_ADD)
BINOPS(sub, OP_SUB)
BINOPS(mul, OP_MUL)
BINOPS(div, OP_DIV)
BINOPS(pow, OP_POW)
static int l_tensor_eq(lua_State *L) { return binop(L, OP_EQ, 0); }
static int l_tensor_ne(lua_State *L) { return binop(L, OP_NE, 0); }
static int l_tensor_lt(lua_State *L) { return binop(L, OP_LT, 0); }
static int l_tensor_le(lua_State *L) { return binop(L, OP_LE, 0); }
static int l_tensor_gt(lua_State *L) { return binop(L, OP_GT, 0); }
static int l_tensor_ge(lua_State *L) { return binop(L, OP_GE, 0); }

/* ---- unary, clamp, softmax ------------------------------------------- */

/* A new contiguous result of f applied to t, or t itself changed when
 * inplace (through a contiguous copy when t is a strided view). Math other
 * than neg/abs/relu makes integer tensors float32. */
static int unop(lua_State *L, UnOp op, int inplace) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  int keeps = op == U_NEG || op == U_ABS || op == U_RELU;
  DType dt = keeps ? t->dtype : DT_FLOAT32;
  if (inplace && tensor_is_contiguous(t)) {
    if (t->dtype == DT_FLOAT32 || keeps) {
      ops_unary(t, op);
      lua_settop(L, 1);
      return 1;
    }
  }
  Tensor *out = lt_push_copy(L, t, inplace ? t->dtype == DT_FLOAT32 || keeps ? t->dtype : DT_FLOAT32 : dt, "unary");
  ops_unary(out, op);
  if (inplace) {
    tensor_copy_into(t, out, err);
    lua_settop(L, 1);
  }
  return 1;
}

#define UNOPS(X, OP)                                                 \
  static int l_tensor_##X(lua_State *L) { return unop(L, OP, 0); }   \
  static int l_tensor_##X##_(lua_State *L) { return unop(L, OP, 1); }
UNOPS(neg, U_NEG)
UNOPS(exp, U_EXP)
UNOPS(log, U_LOG)
UNOPS(sqrt, U_SQRT)
UNOPS(abs, U_ABS)
UNOPS(tanh, U_TANH)
UNOPS(sigmoid, U_SIGMOID)
UNOPS(relu, U_RELU)

static int l_tensor_unm(lua_State *L) {
  lua_settop(L, 1);
  return unop(L, U_NEG, 0);
}

static double opt_bound(lua_State *L, int idx, const char *which) {
  if (lua_isnoneornil(L, idx)) return NAN;
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "clamp: expected a number or nil as the %s bound, got %s", which,
               luaL_typename(L, idx));
  double v = lua_tonumber(L, idx);
  if (v != v) luaL_error(L, "clamp: expected a number or nil as the %s bound, got nan", which);
  return v;
}

static int clamp(lua_State *L, int inplace) {
  Tensor *t = lt_check(L, 1);
  char err[TENSOR_ERRLEN];
  double lo = opt_bound(L, 2, "lower"), hi = opt_bound(L, 3, "upper");
  if (lo == lo && hi == hi && lo > hi)
    luaL_error(L, "clamp: expected lower <= upper, got %f > %f", lo, hi);
  if (inplace && tensor_is_contiguous(t)) {
    ops_clamp(t, lo, hi);
    lua_settop(L, 1);
    return 1;
  }
  Tensor *out = lt_push_copy(L, t, t->dtype, "clamp");
  ops_clamp(out, lo, hi);
  if (inplace) {
    tensor_copy_into(t, out, err);
    lua_settop(L, 1);
  }
  return 1;
}

static int l_tensor_clamp(lua_State *L) { return clamp(L, 0); }
static int l_tensor_clamp_(lua_State *L) { return clamp(L, 1); }

static int l_tensor_softmax(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  if (t->ndim == 0) luaL_error(L, "softmax: expected a tensor with at least 1 dimension, got a scalar");
  int d = lua_isnoneornil(L, 2) ? t->ndim - 1 : lt_check_dim(L, 2, t, "softmax");
  Tensor *out = lt_push_copy(L, t, DT_FLOAT32, "softmax");
  ops_softmax(out, d);
  return 1;
}

/* ---- reductions -------------------------------------------------------- */

static const char *const RED_NAMES[] = {"sum", "mean", "max", "min", "std", "argmax", "argmin"};

static int reduce(lua_State *L, RedOp op) {
  Tensor *t = lt_check(L, 1);
  const char *who = RED_NAMES[op];
  char err[TENSOR_ERRLEN], sb[96];
  int d = lua_isnoneornil(L, 2) ? -1 : lt_check_dim(L, 2, t, who);
  int64_t n = d < 0 ? tensor_numel(t) : t->shape[d];
  if (n == 0 && op != R_SUM)
    luaL_error(L, "%s: expected a non-empty tensor%s, got shape %s", who,
               d < 0 ? "" : " along the dimension", tensor_shape_str(t, sb, sizeof sb));
  Tensor *c = t;
  if (!tensor_is_contiguous(t)) c = lt_push_copy(L, t, t->dtype, who);
  if (d < 0) {
    double v = ops_reduce_all(c, op);
    if (op == R_ARGMAX || op == R_ARGMIN) lua_pushinteger(L, (lua_Integer)v + 1);
    else if (t->dtype != DT_FLOAT32 && op != R_MEAN && op != R_STD) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnumber(L, v);
    return 1;
  }
  int64_t shape[TENSOR_MAXDIM];
  int nd = 0;
  for (int i = 0; i < t->ndim; i++)
    if (i != d) shape[nd++] = t->shape[i];
  DType dt = op == R_ARGMAX || op == R_ARGMIN ? DT_INT32
             : op == R_MEAN || op == R_STD    ? DT_FLOAT32
             : op == R_SUM && t->dtype == DT_UINT8 ? DT_INT32
                                              : t->dtype;
  Tensor *out = lt_push_uninit(L, dt, nd, shape, who);
  if (ops_reduce_dim(out, c, d, op, err)) luaL_error(L, "%s: %s", who, err);
  return 1;
}

static int l_tensor_sum(lua_State *L) { return reduce(L, R_SUM); }
static int l_tensor_mean(lua_State *L) { return reduce(L, R_MEAN); }
static int l_tensor_max(lua_State *L) { return reduce(L, R_MAX); }
static int l_tensor_min(lua_State *L) { return reduce(L, R_MIN); }
static int l_tensor_std(lua_State *L) { return reduce(L, R_STD); }
static int l_tensor_argmax(lua_State *L) { return reduce(L, R_ARGMAX); }
static int l_tensor_argmin(lua_State *L) { return reduce(L, R_ARGMIN); }

/* ---- matmul ------------------------------------------------------------ */

/* Integer operands are converted to float32 first; the result is float32. */
static int l_tensor_matmul(lua_State *L) {
  Tensor *a = lt_check(L, 1), *b = lt_check(L, 2);
  char err[TENSOR_ERRLEN], x[96], y[96];
  if (a->ndim != 2 || b->ndim != 2)
    luaL_error(L, "matmul: expected two 2-D tensors, got %s by %s", tensor_shape_str(a, x, sizeof x),
               tensor_shape_str(b, y, sizeof y));
  if (a->shape[1] != b->shape[0])
    luaL_error(L, "matmul: inner sizes differ (%s by %s)", tensor_shape_str(a, x, sizeof x),
               tensor_shape_str(b, y, sizeof y));
  if (a->shape[0] > 2147483647 || a->shape[1] > 2147483647 || b->shape[1] > 2147483647)
    luaL_error(L, "matmul: sizes above 2^31 are not supported (%s by %s)",
               tensor_shape_str(a, x, sizeof x), tensor_shape_str(b, y, sizeof y));
  if (a->dtype != DT_FLOAT32) a = lt_push_copy(L, a, DT_FLOAT32, "matmul");
  if (b->dtype != DT_FLOAT32) b = lt_push_copy(L, b, DT_FLOAT32, "matmul");
  int64_t shape[2] = {a->shape[0], b->shape[1]};
  Tensor *out = lt_push_uninit(L, DT_FLOAT32, 2, shape, "matmul");
  if (ops_matmul(out, a, b, err)) luaL_error(L, "matmul: %s", err);
  return 1;
}

/* ---- cat and stack ------------------------------------------------------ */

/* Checks that list (at idx) is a non-empty table of tensors; returns n. */
static int check_list(lua_State *L, int idx, const char *who) {
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: expected a list of Tensors, got %s", who, luaL_typename(L, idx));
  int n = (int)lua_rawlen(L, idx);
  if (n == 0) luaL_error(L, "%s: expected a non-empty list of Tensors, got an empty list", who);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    Tensor *t = lt_test(L, -1);
    if (!t || !t->storage)
      luaL_error(L, "%s: expected a list of Tensors, got %s at position %d", who,
                 luaL_typename(L, -1), i);
    lua_pop(L, 1);
  }
  return n;
}

static Tensor *item(lua_State *L, int idx, int i) {
  lua_rawgeti(L, idx, i);
  Tensor *t = lt_test(L, -1);
  lua_pop(L, 1); /* still referenced by the list */
  return t;
}

/* Concatenates list[1..n] along d; when `stacked`, each gets a new size-1
 * dimension d first. */
static int cat_impl(lua_State *L, int n, int d, int stacked, const char *who) {
  char err[TENSOR_ERRLEN], x[96], y[96];
  Tensor first = *item(L, 1, 1);
  if (stacked) tensor_unsqueeze(&first, d, err);
  int64_t shape[TENSOR_MAXDIM];
  memcpy(shape, first.shape, sizeof shape);
  shape[d] = 0;
  DType dt = first.dtype;
  for (int i = 1; i <= n; i++) {
    Tensor t = *item(L, 1, i);
    if (stacked) tensor_unsqueeze(&t, d, err);
    int same = t.ndim == first.ndim;
    for (int k = 0; same && k < t.ndim; k++)
      if (k != d && t.shape[k] != first.shape[k]) same = 0;
    if (stacked && !same)
      luaL_error(L, "%s: expected tensors of shape %s, got %s at position %d", who,
                 shape_str(first.ndim - 1, item(L, 1, 1)->shape, x, sizeof x),
                 tensor_shape_str(item(L, 1, i), y, sizeof y), i);
    if (!same)
      luaL_error(L, "%s: expected shapes equal to %s except in dimension %d, got %s at position %d",
                 who, tensor_shape_str(&first, x, sizeof x), d + 1, tensor_shape_str(&t, y, sizeof y), i);
    shape[d] += t.shape[d];
    dt = promote(dt, t.dtype);
  }
  Tensor *out = lt_push_uninit(L, dt, first.ndim, shape, who);
  int64_t at = 0;
  for (int i = 1; i <= n; i++) {
    Tensor t = *item(L, 1, i), part = *out;
    if (stacked) tensor_unsqueeze(&t, d, err);
    tensor_narrow(&part, d, at, t.shape[d], err);
    tensor_copy_into(&part, &t, err);
    at += t.shape[d];
  }
  return 1;
}

static int l_tensor_cat(lua_State *L) {
  int n = check_list(L, 1, "tensor.cat");
  Tensor *t = item(L, 1, 1);
  if (t->ndim == 0) luaL_error(L, "tensor.cat: expected tensors with at least 1 dimension, got a scalar");
  int d = lua_isnoneornil(L, 2) ? 0 : lt_check_dim(L, 2, t, "tensor.cat");
  return cat_impl(L, n, d, 0, "tensor.cat");
}

static int l_tensor_stack(lua_State *L) {
  int n = check_list(L, 1, "tensor.stack");
  Tensor *t = item(L, 1, 1);
  int d = 0;
  if (!lua_isnoneornil(L, 2)) {
    lua_Integer v = luaL_checkinteger(L, 2);
    if (v < 1 || v > t->ndim + 1)
      luaL_error(L, "tensor.stack: dimension %d out of range (expected 1..%d)", (int)v, t->ndim + 1);
    d = (int)v - 1;
  }
  if (t->ndim >= TENSOR_MAXDIM)
    luaL_error(L, "tensor.stack: expected tensors of at most %d dimensions, got %d", TENSOR_MAXDIM - 1, t->ndim);
  return cat_impl(L, n, d, 1, "tensor.stack");
}

/* ---- files and printing -------------------------------------------------- */

static int l_tensor_save(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  char err[TENSOR_ERRLEN];
  if (npy_write(path, t, err)) luaL_error(L, "tensor.%s", err);
  return 0;
}

static int l_tensor_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[TENSOR_ERRLEN];
  Tensor *t = lt_push_blank(L);
  if (npy_read(path, t, err)) luaL_error(L, "tensor.%s", err);
  lt_account(L, t->storage->nbytes);
  return 1;
}

static int l_tensor_tostring(lua_State *L) {
  Tensor *t = lt_check(L, 1);
  void **box = lu_push_box(L); /* a Lua error while copying cannot leak the text */
  char *text = tensor_format(t);
  *box = text;
  if (!text) lu_error(L, "tostring", "out of memory");
  lua_pushstring(L, text);
  lu_box_free(box);
  return 1;
}

static const luaL_Reg ops_methods[] = {
  {"add", l_tensor_add},         {"sub", l_tensor_sub},         {"mul", l_tensor_mul},
  {"div", l_tensor_div},         {"pow", l_tensor_pow},         {"add_", l_tensor_add_},
  {"sub_", l_tensor_sub_},       {"mul_", l_tensor_mul_},       {"div_", l_tensor_div_},
  {"pow_", l_tensor_pow_},       {"neg", l_tensor_neg},         {"neg_", l_tensor_neg_},
  {"exp", l_tensor_exp},         {"exp_", l_tensor_exp_},       {"log", l_tensor_log},
  {"log_", l_tensor_log_},       {"sqrt", l_tensor_sqrt},       {"sqrt_", l_tensor_sqrt_},
  {"abs", l_tensor_abs},         {"abs_", l_tensor_abs_},       {"tanh", l_tensor_tanh},
  {"tanh_", l_tensor_tanh_},     {"sigmoid", l_tensor_sigmoid}, {"sigmoid_", l_tensor_sigmoid_},
  {"relu", l_tensor_relu},       {"relu_", l_tensor_relu_},     {"clamp", l_tensor_clamp},
  {"clamp_", l_tensor_clamp_},   {"softmax", l_tensor_softmax}, {"sum", l_tensor_sum},
  {"mean", l_tensor_mean},       {"max", l_tensor_max},         {"min", l_tensor_min},
  {"std", l_tensor_std},         {"argmax", l_tensor_argmax},   {"argmin", l_tensor_argmin},
  {"eq", l_tensor_eq},           {"ne", l_tensor_ne},           {"lt", l_tensor_lt},
  {"le", l_tensor_le},           {"gt", l_tensor_gt},           {"ge", l_tensor_ge},
  {"matmul", l_tensor_matmul},   {NULL, NULL},
};

static const luaL_Reg ops_meta[] = {
  {"__add", l_tensor_add}, {"__sub", l_tensor_sub}, {"__mul", l_tensor_mul},
  {"__div", l_tensor_div}, {"__pow", l_tensor_pow}, {"__unm", l_tensor_unm},
  {"__tostring", l_tensor_tostring}, {NULL, NULL},
};

static const luaL_Reg ops_funcs[] = {
  {"cat", l_tensor_cat},   {"stack", l_tensor_stack}, {"save", l_tensor_save},
  {"load", l_tensor_load}, {NULL, NULL},
};

void lt_register_ops(lua_State *L, int methods, int funcs) {
  methods = lua_absindex(L, methods);
  funcs = lua_absindex(L, funcs);
  luaL_setfuncs(L, ops_meta, 0);
  lua_pushvalue(L, methods);
  luaL_setfuncs(L, ops_methods, 0);
  lua_pop(L, 1);
  lua_pushvalue(L, funcs);
  luaL_setfuncs(L, ops_funcs, 0);
  lua_pop(L, 1);
}
