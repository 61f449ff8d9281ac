/* model_io.c — the model file, little-endian, version 3:
 *   "NNLABMDL", u32 version, u32 layers, u32 ndim, ndim x i64 input shape
 *   per layer:  str kind ("Dense")
 *               u32 options, each: str name, u32 type (OptionType), value
 *                 (i64, 2 x i64, f32, f64, u32 bool, str name, or i64 for a
 *                 name or integer: the integer, or -1 - the name's index)
 *               u32 tensors (0 until built), each: str name, u32 ndim,
 *                 ndim x i64 shape, f32 values
 *   u32 CRC-32 of everything before it;  str = u32 length, bytes.
 * Every name is the one the layer's kind declares (layer.h), so the file
 * follows the table of kinds and this file names none. Versions 1 and 2
 * (one fixed record per layer: u32 kind, u32 activation, i64 units, f32
 * scale, f32 offset, f32 p, u32 init (2 only), i64 inputs, then W and b
 * when built) still load: their fields become the options and tensors of
 * the same names. Saving writes a temporary file in the same folder and
 * renames it, so a failed save leaves the previous file as it was.
 * Messages carry no prefix: the binding puts "save: " or "nn.load: ". */
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
static void put_str(Buf *b, const char *s) {
  put_u32(b, (uint32_t)strlen(s));
  put(b, s, strlen(s));
}

/* Through the shared temporary-file-and-rename writer (util/atomic_file.h). */
static int write_all(const char *path, const unsigned char *data, size_t len, char *err) {
  return atomic_save(path, data, len, 1, err, NN_ERRLEN);
}

static void put_option(Buf *b, const void *conf, const OptionSpec *o) {
  const char *at = (const char *)conf + o->offset;
  int v;
  put_str(b, o->name);
  put_u32(b, (uint32_t)o->type);
  switch (o->type) {
  case OPTION_INT: case OPTION_NAME_INT: put(b, at, 8); break;
  case OPTION_INT2: put(b, at, 16); break;
  case OPTION_FLOAT: put(b, at, 4); break;
  case OPTION_DOUBLE: put(b, at, 8); break;
  case OPTION_BOOL: memcpy(&v, at, sizeof v); put_u32(b, (uint32_t)v); break;
  case OPTION_NAME: memcpy(&v, at, sizeof v); put_str(b, o->names[v]); break;
  }
}

int model_save(const Model *m, const char *path, char *err) {
  Buf b = {0};
  put(&b, MAGIC, 8);
  put_u32(&b, MODEL_FILE_VERSION);
  put_u32(&b, (uint32_t)m->n);
  put_u32(&b, m->built ? (uint32_t)m->shape[0].nd : 0);
  for (int i = 0; m->built && i < m->shape[0].nd; i++) put_i64(&b, m->shape[0].d[i]);
  for (int i = 0; i < m->n; i++) {
    const Layer *l = m->layers[i];
    const LayerKind *k = l->kind;
    int built = k->ntensors > 0 && l->t[0] != NULL;
    put_str(&b, k->name);
    put_u32(&b, (uint32_t)k->noptions);
    for (int o = 0; o < k->noptions; o++) put_option(&b, l->conf, &k->options[o]);
    put_u32(&b, built ? (uint32_t)k->ntensors : 0);
    for (int t = 0; built && t < k->ntensors; t++) {
      const Tensor *x = l->t[t];
      put_str(&b, k->tensors[t].name);
      put_u32(&b, (uint32_t)x->ndim);
      for (int d = 0; d < x->ndim; d++) put_i64(&b, x->shape[d]);
      put(&b, tensor_f32(x), (size_t)tensor_numel(x) * 4);
    }
  }
  uint32_t crc = (uint32_t)crc32(0L, b.p, (uInt)b.len);
  put_u32(&b, crc);
  if (b.oom) {
    free(b.p);
    snprintf(err, NN_ERRLEN, "out of memory");
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

/* A string of the file: its bytes (not terminated) and length. */
static int get_str(Cur *c, const char **s, size_t *len) {
  uint32_t n;
  if (get(c, &n, 4) || c->len - c->pos < n) return -1;
  *s = (const char *)(c->p + c->pos);
  *len = n;
  c->pos += n;
  return 0;
}

static int str_is(const char *s, size_t len, const char *want) {
  return strlen(want) == len && memcmp(s, want, len) == 0;
}

/* Values and sizes a file may hold without being refused as corrupt. */
#define MAX_TENSOR_VALUES ((int64_t)1 << 34)

enum { OK = 0, TRUNCATED = -1, CORRUPT = -2 };

/* Sets option `name` of layer d from a version-1/2 record field, when its
 * kind has such an option. */
static int set_legacy(LayerDesc *d, const char *name, double v) {
  const OptionSpec *o = layer_option(d->kind, name);
  if (!o) return OK;
  char *at = (char *)d->conf + o->offset;
  switch (o->type) {
  case OPTION_INT: { int64_t x = (int64_t)v; memcpy(at, &x, 8); break; }
  case OPTION_FLOAT: { float x = (float)v; memcpy(at, &x, 4); break; }
  case OPTION_NAME: { int x = (int)v; memcpy(at, &x, sizeof x); break; }
  default: return CORRUPT;
  }
  return OK;
}

static int parse_legacy_layer(Cur *c, uint32_t version, LayerDesc *d) {
  uint32_t kind, act, init = INIT_GLOROT_UNIFORM;
  int64_t units, n_in;
  float scale, offset, p;
  if (get(c, &kind, 4) || get(c, &act, 4) || get(c, &units, 8) || get(c, &scale, 4) ||
      get(c, &offset, 4) || get(c, &p, 4) || (version >= 2 && get(c, &init, 4)) || get(c, &n_in, 8))
    return TRUNCATED;
  d->kind = layer_kind_by_v2_code((int)kind);
  if (!d->kind || act >= ACT_N || init >= INIT_N || units < 0 || n_in < 0 ||
      n_in > ((int64_t)1 << 31) || units > ((int64_t)1 << 24))
    return CORRUPT;
  options_defaults(d->conf, d->kind->options, d->kind->noptions);
  if (set_legacy(d, "activation", act) || set_legacy(d, "units", (double)units) ||
      set_legacy(d, "init", init) || set_legacy(d, "scale", scale) ||
      set_legacy(d, "offset", offset) || set_legacy(d, "p", p))
    return CORRUPT;
  d->ntensors = 0;
  if (n_in > 0) {
    /* W (inputs x units) and b (units), the only tensors those versions had */
    size_t nw = (size_t)(n_in * units) * 4, nb = (size_t)units * 4;
    if (d->kind->ntensors != 2) return CORRUPT;
    if (c->len - c->pos < nw + nb) return TRUNCATED;
    d->ntensors = 2;
    d->t[0] = (TensorDesc){"W", 1, {2, {n_in, units}}, (const void *)(c->p + c->pos)};
    d->t[1] = (TensorDesc){"b", 1, {1, {units}}, (const void *)(c->p + c->pos + nw)};
    c->pos += nw + nb;
  }
  return OK;
}

static int parse_option(Cur *c, LayerDesc *d) {
  const char *name, *s;
  size_t len, slen;
  uint32_t type, u;
  const OptionSpec *o = NULL;
  if (get_str(c, &name, &len) || get(c, &type, 4)) return TRUNCATED;
  for (int i = 0; i < d->kind->noptions; i++)
    if (str_is(name, len, d->kind->options[i].name)) o = &d->kind->options[i];
  if (!o || type != (uint32_t)o->type) return CORRUPT;
  char *at = (char *)d->conf + o->offset;
  int v;
  switch (o->type) {
  case OPTION_INT: case OPTION_NAME_INT: return get(c, at, 8) ? TRUNCATED : OK;
  case OPTION_INT2: return get(c, at, 16) ? TRUNCATED : OK;
  case OPTION_FLOAT: return get(c, at, 4) ? TRUNCATED : OK;
  case OPTION_DOUBLE: return get(c, at, 8) ? TRUNCATED : OK;
  case OPTION_BOOL:
    if (get(c, &u, 4)) return TRUNCATED;
    v = (int)(u != 0);
    memcpy(at, &v, sizeof v);
    return u > 1 ? CORRUPT : OK;
  case OPTION_NAME:
    if (get_str(c, &s, &slen)) return TRUNCATED;
    v = -1;
    for (int i = 0; o->names[i]; i++) if (str_is(s, slen, o->names[i])) v = i;
    memcpy(at, &v, sizeof v);
    return v < 0 ? CORRUPT : OK;
  }
  return CORRUPT;
}

static int parse_layer(Cur *c, LayerDesc *d, char *kind_name, size_t kind_len) {
  const char *name;
  size_t len;
  uint32_t nopt, nt, nd;
  if (get_str(c, &name, &len)) return TRUNCATED;
  d->kind = NULL;
  for (int i = 0; layer_kinds[i]; i++) if (str_is(name, len, layer_kinds[i]->name)) d->kind = layer_kinds[i];
  if (!d->kind) {
    snprintf(kind_name, kind_len, "%.*s", (int)(len < 40 ? len : 40), name);
    return CORRUPT;
  }
  options_defaults(d->conf, d->kind->options, d->kind->noptions);
  if (get(c, &nopt, 4)) return TRUNCATED;
  if (nopt > (uint32_t)d->kind->noptions) return CORRUPT;
  for (uint32_t i = 0; i < nopt; i++) {
    int rc = parse_option(c, d);
    if (rc) return rc;
  }
  if (get(c, &nt, 4)) return TRUNCATED;
  if (nt != 0 && nt != (uint32_t)d->kind->ntensors) return CORRUPT;
  d->ntensors = (int)nt;
  for (uint32_t i = 0; i < nt; i++) {
    TensorDesc *t = &d->t[i];
    if (get_str(c, &t->name, &t->name_len) || get(c, &nd, 4)) return TRUNCATED;
    if (!str_is(t->name, t->name_len, d->kind->tensors[i].name) || nd < 1 || nd > TENSOR_MAXDIM)
      return CORRUPT;
    t->shape.nd = (int)nd;
    for (uint32_t k = 0; k < nd; k++)
      if (get(c, &t->shape.d[k], 8)) return TRUNCATED;
    int64_t n = shape_numel(&t->shape);
    if (n < 0 || n > MAX_TENSOR_VALUES) return CORRUPT;
    if ((uint64_t)(c->len - c->pos) < (uint64_t)n * 4) return TRUNCATED;
    t->data = (const void *)(c->p + c->pos);
    c->pos += (size_t)n * 4;
  }
  return OK;
}

static int parse(const unsigned char *data, size_t len, ModelDesc *d, const char *path, char *err) {
  Cur c = {data, len - 4, 8};
  uint32_t version, n, ndim;
  char kind[48] = "";
  int rc = OK;
  if (get(&c, &version, 4) || get(&c, &n, 4) || get(&c, &ndim, 4)) rc = TRUNCATED;
  else if (version < 1 || version > MODEL_FILE_VERSION) {
    snprintf(err, NN_ERRLEN, "%s: unsupported file version %u (expected 1 to %d)", path, version,
             MODEL_FILE_VERSION);
    return -1;
  } else if (n > NN_MAXLAYERS || ndim > TENSOR_MAXDIM) rc = CORRUPT;
  d->n = (int)n;
  d->in.nd = (int)ndim;
  for (uint32_t i = 0; rc == OK && i < ndim; i++) {
    if (get(&c, &d->in.d[i], 8)) rc = TRUNCATED;
    else if (d->in.d[i] < 0) rc = CORRUPT;
  }
  for (uint32_t i = 0; rc == OK && i < n; i++) {
    LayerDesc *l = &d->layers[i];
    rc = version >= 3 ? parse_layer(&c, l, kind, sizeof kind) : parse_legacy_layer(&c, version, l);
    if (rc == OK && options_check(l->conf, l->kind->options, l->kind->noptions)) rc = CORRUPT;
  }
  if (rc == OK && c.pos != c.len) rc = CORRUPT;
  if (rc == TRUNCATED) snprintf(err, NN_ERRLEN, "%s: truncated model file", path);
  else if (rc == CORRUPT && kind[0])
    snprintf(err, NN_ERRLEN, "%s: unknown layer kind '%s' (a file from a later nnlab?)", path, kind);
  else if (rc == CORRUPT) snprintf(err, NN_ERRLEN, "%s: corrupt model file", path);
  return rc == OK ? 0 : -1;
}

int model_load(const char *path, ModelDesc *d, unsigned char **out, char *err) {
  unsigned char *data = NULL;
  long len;
  *out = NULL;
  int fd = open_regular(path, "a model file", err, NN_ERRLEN);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    if (fd >= 0) close(fd), snprintf(err, NN_ERRLEN, "out of memory");
    return -1;
  }
  /* A folder opens fine on Linux but its "size" is meaningless: reject it
   * before the length is trusted for an allocation. */
  struct stat st = {0};
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, NN_ERRLEN, "expected a model file, got %s %s", path,
             S_ISDIR(st.st_mode) ? "(a folder)" : "(not a regular file)");
    fclose(f);
    return -1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    snprintf(err, NN_ERRLEN, "cannot read %s", path);
    fclose(f);
    return -1;
  }
  data = malloc(len > 0 ? (size_t)len : 1);
  if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
    snprintf(err, NN_ERRLEN, "cannot read %s (%ld bytes)", path, len);
    free(data);
    fclose(f);
    return -1;
  }
  fclose(f);
  if (len < 24 || memcmp(data, MAGIC, 8) != 0) {
    snprintf(err, NN_ERRLEN, "%s is not an nnlab model file (%s)", path,
             len < 24 ? "too short" : "bad magic");
    free(data);
    return -1;
  }
  uint32_t stored, crc = (uint32_t)crc32(0L, data, (uInt)(len - 4));
  memcpy(&stored, data + len - 4, 4);
  if (stored != crc) {
    snprintf(err, NN_ERRLEN, "%s: checksum mismatch (file is truncated or corrupt)",
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
