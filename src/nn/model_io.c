/* model_io.c — the model file, little-endian:
 *   "NNLABMDL", u32 version (2), u32 layers, u32 ndim, ndim x i64 input shape
 *   per layer: u32 kind, u32 activation, i64 units, f32 scale, f32 offset,
 *              f32 p, u32 init (version 2 only), i64 inputs (0 until built),
 *              then inputs x units f32 W and units f32 b when built
 *   u32 CRC-32 of everything before it.
 * Version 1 files (no init field) still load, their layers as glorot_uniform.
 * Saving writes a temporary file in the same folder and renames it, so a
 * failed save leaves the previous file as it was. */
#include "nn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic_file.h"

static const char MAGIC[8] = {'N', 'N', 'L', 'A', 'B', 'M', 'D', 'L'};

typedef struct Buf { unsigned char *p; size_t len, cap; int oom; } Buf;

static void put(Buf *b, const void *src, size_t n) {
  if (b->oom) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) { b->oom = 1; return; }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}
static void put_u32(Buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i64(Buf *b, int64_t v) { put(b, &v, 8); }
static void put_f32(Buf *b, float v) { put(b, &v, 4); }

/* Through the shared temporary-file-and-rename writer (util/atomic_file.h). */
static int write_all(const char *path, const unsigned char *data, size_t len, char *err) {
  memcpy(err, "save: ", 6);
  return atomic_save(path, data, len, 1, err + 6, NN_ERRLEN - 6);
}

int model_save(const Model *m, const char *path, char *err) {
  Buf b = {0};
  put(&b, MAGIC, 8);
  put_u32(&b, MODEL_FILE_VERSION);
  put_u32(&b, (uint32_t)m->n);
  put_u32(&b, m->built ? (uint32_t)m->in_ndim : 0);
  for (int i = 0; m->built && i < m->in_ndim; i++) put_i64(&b, m->in_shape[i]);
  for (int i = 0; i < m->n; i++) {
    const Layer *l = m->layers[i];
    put_u32(&b, (uint32_t)l->kind);
    put_u32(&b, (uint32_t)l->act);
    put_i64(&b, l->units);
    put_f32(&b, l->scale);
    put_f32(&b, l->offset);
    put_f32(&b, l->p);
    put_u32(&b, (uint32_t)l->init);
    put_i64(&b, l->W ? l->W->shape[0] : 0);
    if (l->W) {
      put(&b, tensor_f32(l->W), (size_t)tensor_numel(l->W) * 4);
      put(&b, tensor_f32(l->b), (size_t)tensor_numel(l->b) * 4);
    }
  }
  uint32_t crc = (uint32_t)crc32(0L, b.p, (uInt)b.len);
  put_u32(&b, crc);
  if (b.oom) {
    free(b.p);
    snprintf(err, NN_ERRLEN, "save: out of memory");
    return -1;
  }
  int rc = write_all(path, b.p, b.len, err);
  free(b.p);
  return rc;
}

typedef struct Cur { const unsigned char *p; size_t len, pos; } Cur;

static int get(Cur *c, void *dst, size_t n) {
  if (c->len - c->pos < n) return -1;
  memcpy(dst, c->p + c->pos, n);
  c->pos += n;
  return 0;
}

static int parse(const unsigned char *data, size_t len, ModelDesc *d, const char *path, char *err) {
  Cur c = {data, len - 4, 8};
  uint32_t version, n, ndim;
  if (get(&c, &version, 4) || get(&c, &n, 4) || get(&c, &ndim, 4)) goto truncated;
  if (version != 1 && version != MODEL_FILE_VERSION) {
    snprintf(err, NN_ERRLEN, "nn.load: %s: unsupported file version %u (expected 1 to %d)",
             path, version, MODEL_FILE_VERSION);
    return -1;
  }
  if (n > NN_MAXLAYERS || ndim > TENSOR_MAXDIM) goto corrupt;
  d->n = (int)n;
  d->in_ndim = (int)ndim;
  for (uint32_t i = 0; i < ndim; i++) {
    if (get(&c, &d->in_shape[i], 8)) goto truncated;
    if (d->in_shape[i] < 0) goto corrupt;
  }
  for (uint32_t i = 0; i < n; i++) {
    LayerDesc *l = &d->layers[i];
    uint32_t kind, act, init = INIT_GLOROT_UNIFORM;
    if (get(&c, &kind, 4) || get(&c, &act, 4) || get(&c, &l->units, 8) || get(&c, &l->scale, 4) ||
        get(&c, &l->offset, 4) || get(&c, &l->p, 4) || (version >= 2 && get(&c, &init, 4)) ||
        get(&c, &l->n_in, 8))
      goto truncated;
    if (kind >= L_NKINDS || act >= ACT_N || init >= INIT_N || l->units < 0 || l->n_in < 0 ||
        l->n_in > ((int64_t)1 << 31) || l->units > ((int64_t)1 << 24))
      goto corrupt;
    l->kind = (int)kind;
    l->act = (int)act;
    l->init = (int)init;
    l->W = l->b = NULL;
    if (l->n_in > 0) {
      size_t nw = (size_t)(l->n_in * l->units) * 4, nb = (size_t)l->units * 4;
      if (c.len - c.pos < nw + nb) goto truncated;
      l->W = (const float *)(c.p + c.pos);
      l->b = (const float *)(c.p + c.pos + nw);
      c.pos += nw + nb;
    }
  }
  if (c.pos != c.len) goto corrupt;
  return 0;
truncated:
  snprintf(err, NN_ERRLEN, "nn.load: %s: truncated model file", path);
  return -1;
corrupt:
  snprintf(err, NN_ERRLEN, "nn.load: %s: corrupt model file", path);
  return -1;
}

int model_load(const char *path, ModelDesc *d, unsigned char **out, char *err) {
  unsigned char *data = NULL;
  long len;
  *out = NULL;
  int fd = open_regular(path, "a model file", err + 9, NN_ERRLEN - 9);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    if (fd >= 0) close(fd), snprintf(err + 9, NN_ERRLEN - 9, "out of memory");
    memcpy(err, "nn.load: ", 9);
    return -1;
  }
  /* A folder opens fine on Linux but its "size" is meaningless: reject it
   * before the length is trusted for an allocation. */
  struct stat st = {0};
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, NN_ERRLEN, "nn.load: expected a model file, got %s %s", path,
             S_ISDIR(st.st_mode) ? "(a folder)" : "(not a regular file)");
    fclose(f);
    return -1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    snprintf(err, NN_ERRLEN, "nn.load: cannot read %s", path);
    fclose(f);
    return -1;
  }
  data = malloc(len > 0 ? (size_t)len : 1);
  if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
    snprintf(err, NN_ERRLEN, "nn.load: cannot read %s (%ld bytes)", path, len);
    free(data);
    fclose(f);
    return -1;
  }
  fclose(f);
  if (len < 24 || memcmp(data, MAGIC, 8) != 0) {
    snprintf(err, NN_ERRLEN, "nn.load: %s is not an nnlab model file (%s)", path,
             len < 24 ? "too short" : "bad magic");
    free(data);
    return -1;
  }
  uint32_t stored, crc = (uint32_t)crc32(0L, data, (uInt)(len - 4));
  memcpy(&stored, data + len - 4, 4);
  if (stored != crc) {
    snprintf(err, NN_ERRLEN, "nn.load: %s: checksum mismatch (file is truncated or corrupt)",
             path);
    free(data);
    return -1;
  }
  if (parse(data, (size_t)len, d, path, err)) {
    free(data);
    return -1;
  }
  *out = data;
  return 0;
}
