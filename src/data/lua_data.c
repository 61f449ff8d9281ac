/* lua_data.c — the _data binding: IDX and CIFAR-10 readers, downloads,
 * file checks for the search path, and row gathering / permutations for
 * data.subset, data.split and ds:batches. The Lua side is lua/data.lua. */
#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cifar.h"
#include "fetch.h"
#include "idx.h"
#include "lua_tensor.h"
#include "rng.h"
#include "interrupt.h"
#include "lua_interrupt.h"
#include "threads.h"

#include "lua_data.h"

/* data.idx(path) -> tensor (dtypes in idx.h). */
static int l_data_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[DATA_ERRLEN];
  Tensor *t = lt_push_blank(L);
  if (idx_read(path, t, err)) return luaL_error(L, "%s", err);
  lt_account(L, t->storage->nbytes);
  return 1;
}

/* One file of idx_many, read on its own thread. */
typedef struct IdxJob {
  const char *path;
  Tensor *t;
  int rc;
  char err[DATA_ERRLEN];
} IdxJob;

static void *idx_job(void *ud) {
  IdxJob *j = ud;
  j->rc = idx_read(j->path, j->t, j->err);
  return NULL;
}

#define IDX_MANY_MAX 16

/* _data.idx_many({path, ...}) -> one tensor per path, the files read at the
 * same time on up to --threads threads (decompression is the cost, and the
 * files are independent). The tensors are boxed before any thread starts,
 * so an error leaves nothing behind but garbage for the collector. */
static int l_data_idx_many(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)lua_rawlen(L, 1);
  if (n < 1 || n > IDX_MANY_MAX)
    return luaL_error(L, "idx_many: expected 1..%d paths, got %d", IDX_MANY_MAX, n);
  IdxJob *jobs = lua_newuserdatauv(L, sizeof(IdxJob) * (size_t)n, 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "idx_many: path %d is a %s, expected a string", i + 1, luaL_typename(L, -1));
    jobs[i].path = lua_tostring(L, -1);
    lua_rawseti(L, 1, i + 1); /* keeps the string anchored in the table */
  }
  for (int i = 0; i < n; i++) jobs[i].t = lt_push_blank(L);
  int width = nnlab_threads();
  for (int first = 0; first < n; first += width > 0 ? width : 1) {
    pthread_t tid[IDX_MANY_MAX];
    int started[IDX_MANY_MAX] = {0};
    int last = first + (width > 1 ? width : 1);
    if (last > n) last = n;
    for (int i = first + 1; i < last; i++)
      started[i] = pthread_create(&tid[i], NULL, idx_job, &jobs[i]) == 0;
    for (int i = first; i < last; i++)
      if (!started[i]) idx_job(&jobs[i]);
    for (int i = first + 1; i < last; i++)
      if (started[i]) pthread_join(tid[i], NULL);
  }
  for (int i = 0; i < n; i++)
    if (jobs[i].rc) return luaL_error(L, "%s", jobs[i].err);
  for (int i = 0; i < n; i++) lt_account(L, jobs[i].t->storage->nbytes);
  return n;
}

/* Pushes the int32 1-based labels of t (1-D, integer, each in 0..k-1); path
 * names the file in messages. */
static void push_labels(lua_State *L, const Tensor *t, lua_Integer k, const char *path) {
  if (t->ndim != 1 || t->dtype == DT_FLOAT32)
    luaL_error(L, "labels: %s: expected a 1-D IDX file of integer labels, got %d dimensions "
               "of %s", path, t->ndim, dtype_name(t->dtype));
  int64_t n = t->shape[0];
  Tensor *y = lt_push_new(L, DT_INT32, 1, &n, "labels");
  int32_t *dst = tensor_i32(y);
  for (int64_t i = 0; i < n; i++) {
    int64_t v = t->dtype == DT_UINT8 ? tensor_u8(t)[i] : tensor_i32(t)[i];
    if (v < 0 || v >= k)
      luaL_error(L, "labels: %s: label %d at position %d out of range (expected 0..%d)", path,
                 (int)v, (int)(i + 1), (int)(k - 1));
    dst[i] = (int32_t)v + 1;
  }
}

/* _data.labels(path, nclasses) -> int32 tensor of 1-based labels, from a
 * 1-D IDX file of 0-based class numbers each in 0..nclasses-1. */
static int l_data_labels(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  char err[DATA_ERRLEN];
  Tensor *t = lt_push_blank(L);
  if (idx_read(path, t, err)) return luaL_error(L, "%s", err);
  lt_account(L, t->storage->nbytes);
  push_labels(L, t, k, path);
  return 1;
}

/* _data.to_labels(t, nclasses, path) -> the same from a tensor already read. */
static int l_data_to_labels(lua_State *L) {
  const Tensor *t = lt_check(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  push_labels(L, t, k, luaL_checkstring(L, 3));
  return 1;
}

/* data.cifar_batches(path) -> Xtrain, ytrain, Xtest, ytest, classes */
static int l_data_cifar_batches(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[DATA_ERRLEN];
  CifarOut *out = lua_newuserdatauv(L, sizeof *out, 0); /* boxed: freed by the collector */
  memset(out, 0, sizeof *out);
  out->Xtr = lt_push_blank(L);
  out->ytr = lt_push_blank(L);
  out->Xte = lt_push_blank(L);
  out->yte = lt_push_blank(L);
  if (cifar_read(path, out, err)) {
    interrupt_consume(L); /* an interrupted read says so itself, naming the file */
    return luaL_error(L, "%s", err);
  }
  lt_account(L, out->Xtr->storage->nbytes + out->Xte->storage->nbytes);
  lua_createtable(L, out->nclasses, 0);
  for (int i = 0; i < out->nclasses; i++) {
    lua_pushstring(L, out->classes[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 5;
}

/* _data.download(url, dest, md5|nil, label [, connect_timeout [, max_bytes]])
 * -> true | nil, why */
static int l_data_download(lua_State *L) {
  const char *url = luaL_checkstring(L, 1), *dest = luaL_checkstring(L, 2);
  const char *md5 = luaL_optstring(L, 3, NULL), *label = luaL_optstring(L, 4, "download");
  double timeout = luaL_optnumber(L, 5, 3.0), max_bytes = luaL_optnumber(L, 6, 0);
  char err[1024];
  if (fetch_url(url, dest, md5, max_bytes, label, timeout, err, sizeof err)) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* _data.stat(path) -> "file" | "dir" | nil */
static int l_data_stat(lua_State *L) {
  struct stat st;
  if (stat(luaL_checkstring(L, 1), &st) != 0) return 0;
  lua_pushstring(L, S_ISDIR(st.st_mode) ? "dir" : "file");
  return 1;
}

/* _data.mkdir(path): like mkdir -p. -> true | nil, why */
static int l_data_mkdir(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, len + 1);
  memcpy(p, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot create %s: %s", p, strerror(errno));
        return 2;
      }
      p[i] = c;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* _data.gather(X, idx) -> a new tensor of X's rows idx (an int32 tensor or a
 * table of 1-based row numbers), in that order. */
static int l_data_gather(lua_State *L) {
  Tensor *X = lt_check(L, 1);
  Tensor *it = lt_test(L, 2);
  int64_t n;
  if (X->ndim < 1) return luaL_error(L, "gather: expected a tensor with rows, got a scalar");
  if (it) {
    if (it->dtype != DT_INT32 || it->ndim != 1 || !tensor_is_contiguous(it))
      return luaL_error(L, "gather: expected a contiguous 1-D int32 index tensor, got %s %d-D",
                        dtype_name(it->dtype), it->ndim);
    n = it->shape[0];
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    n = (int64_t)lua_rawlen(L, 2);
  }
  if (!tensor_is_contiguous(X)) X = lt_push_copy(L, X, X->dtype, "gather");
  int64_t rows = X->shape[0], shape[TENSOR_MAXDIM];
  memcpy(shape, X->shape, sizeof shape);
  shape[0] = n;
  size_t rowbytes = (size_t)(rows > 0 ? tensor_numel(X) / rows : 0) * dtype_size(X->dtype);
  Tensor *out = lt_push_new(L, X->dtype, X->ndim, shape, "gather");
  const char *src = tensor_data(X);
  char *dst = tensor_data(out);
  for (int64_t i = 0; i < n; i++) {
    int64_t r;
    if (it) {
      r = tensor_i32(it)[i];
    } else {
      lua_rawgeti(L, 2, (lua_Integer)(i + 1));
      int isint;
      r = (int64_t)lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      if (!isint) return luaL_error(L, "gather: index %d is not an integer", (int)(i + 1));
    }
    if (r < 1 || r > rows)
      return luaL_error(L, "gather: row %d out of range (expected 1..%d)", (int)r, (int)rows);
    memcpy(dst + (size_t)i * rowbytes, src + (size_t)(r - 1) * rowbytes, rowbytes);
  }
  return 1;
}

/* _data.permutation(n [, seed]) -> int32 tensor: 1..n shuffled (Fisher-Yates),
 * from the global generator, or from `seed` alone when given. */
static int l_data_permutation(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  if (n < 0 || n > INT32_MAX) return luaL_error(L, "permutation: expected 0..%d rows, got %I",
                                                INT32_MAX, n);
  int64_t sh = n;
  Tensor *t = lt_push_new(L, DT_INT32, 1, &sh, "permutation");
  int32_t *p = tensor_i32(t);
  for (int64_t i = 0; i < n; i++) p[i] = (int32_t)(i + 1);
  if (lua_isnoneornil(L, 2)) rng_shuffle_i32(p, n);
  else rng_shuffle_i32_seeded(p, n, (uint64_t)luaL_checkinteger(L, 2));
  return 1;
}

static const luaL_Reg funcs[] = {
  {"idx", l_data_idx},           {"labels", l_data_labels},
  {"idx_many", l_data_idx_many}, {"to_labels", l_data_to_labels},
  {"cifar_batches", l_data_cifar_batches},
  {"download", l_data_download}, {"stat", l_data_stat},
  {"mkdir", l_data_mkdir},       {"gather", l_data_gather},
  {"permutation", l_data_permutation},
  {NULL, NULL},
};

int luaopen_nnlab_data(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
