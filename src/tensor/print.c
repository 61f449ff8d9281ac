/* print.c — tensor_format. As numpy does: one format for all the values
 * shown (integers as "3." when every float is whole, else fixed with up to
 * 4 decimals, or scientific when magnitudes span more than 1e-4..1e8), right
 * aligned to a common width, rows wrapped at 75 columns. */
#include "print.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EDGE 3
#define THRESHOLD 1000
#define LINEWIDTH 75
#define PREFIX "tensor("

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
  size_t line_start;
} Buf;

static void put(Buf *b, const char *s, size_t len) {
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 256) + len;
    char *q = realloc(b->p, cap);
    if (!q) { b->oom = 1; return; }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

static void newline(Buf *b, int indent) {
  puts_(b, "\n");
  b->line_start = b->n;
  for (int i = 0; i < indent; i++) put(b, " ", 1);
}

typedef struct {
  const Tensor *t;
  int summarise, mode, prec, width; /* mode: 0 int, 1 whole floats, 2 fixed, 3 sci */
  int64_t strides[TENSOR_MAXDIM];   /* C-order element strides of the logical layout */
} Fmt;

static int fmt_value(const Fmt *f, double v, char *s, size_t len) {
  if (f->mode == 0) return snprintf(s, len, "%lld", (long long)v);
  if (isnan(v)) return snprintf(s, len, "nan");
  if (isinf(v)) return snprintf(s, len, v > 0 ? "inf" : "-inf");
  if (f->mode == 1) return snprintf(s, len, "%.0f.", v);
  if (f->mode == 2) return snprintf(s, len, "%.*f", f->prec, v);
  return snprintf(s, len, "%.*e", f->prec, v);
}

/* Calls fn for every flat index shown (all, or edges when summarising). */
static void visit(const Tensor *t, int summarise, int d, int64_t base, const int64_t *st,
                  void (*fn)(void *, int64_t), void *ctx) {
  if (d == t->ndim) { fn(ctx, base); return; }
  int64_t n = t->shape[d];
  for (int64_t i = 0; i < n; i++) {
    if (summarise && n > 2 * EDGE && i == EDGE) i = n - EDGE;
    visit(t, summarise, d + 1, base + i * st[d], st, fn, ctx);
  }
}

typedef struct {
  const Tensor *t;
  double maxabs, minabs;
  int all_whole, any_finite, prec;
} Scan;

static void scan_one(void *ctx, int64_t i) {
  Scan *s = ctx;
  double v = tensor_get_flat(s->t, i), a = fabs(v);
  if (!isfinite(v)) return;
  s->any_finite = 1;
  if (a > s->maxabs) s->maxabs = a;
  if (a > 0 && a < s->minabs) s->minabs = a;
  if (v != floor(v)) s->all_whole = 0;
  /* fewest decimals (up to 4) that show v as %.4f would */
  char full[64], shortr[64];
  snprintf(full, sizeof full, "%.4f", v);
  for (int p = s->prec; p < 4; p++) {
    snprintf(shortr, sizeof shortr, "%.*f", p, v);
    if (atof(shortr) == atof(full)) return;
    s->prec = p + 1;
  }
}

static void width_one(void *ctx, int64_t i) {
  Fmt *f = ctx;
  char s[64];
  int w = fmt_value(f, tensor_get_flat(f->t, i), s, sizeof s);
  if (w > f->width) f->width = w;
}

static void emit(Buf *b, const Fmt *f, int d, int64_t flat, int indent) {
  const Tensor *t = f->t;
  int64_t n = t->shape[d];
  put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (f->summarise && n > 2 * EDGE && i == EDGE) {
      if (d == t->ndim - 1) {
        puts_(b, " ...,");
      } else {
        puts_(b, "...,");
        for (int k = 0; k < t->ndim - 1 - d; k++) newline(b, 0);
        for (int k = 0; k < indent + 1; k++) put(b, " ", 1);
      }
      i = n - EDGE;
    }
    if (d == t->ndim - 1) {
      char s[64], pad[64];
      int w = fmt_value(f, tensor_get_flat(t, flat + i * f->strides[d]), s, sizeof s);
      int sp = f->width - w;
      if (sp < 0) sp = 0;
      memset(pad, ' ', (size_t)sp);
      pad[sp] = '\0';
      /* numpy wraps when the item and its ", " or "]" would pass column 75 */
      if (i > 0) {
        if (b->n - b->line_start + 1 + (size_t)f->width + 1 > LINEWIDTH) newline(b, indent + 1);
        else put(b, " ", 1);
      }
      puts_(b, pad);
      puts_(b, s);
      if (i < n - 1) put(b, ",", 1);
    } else {
      emit(b, f, d + 1, flat + i * f->strides[d], indent + 1);
      if (i < n - 1) {
        put(b, ",", 1);
        for (int k = 0; k < t->ndim - 1 - d; k++) newline(b, 0);
        for (int k = 0; k < indent + 1; k++) put(b, " ", 1);
      }
    }
  }
  put(b, "]", 1);
}

char *tensor_format(const Tensor *t) {
  Buf b = {0};
  Fmt f = {0};
  char sb[128], tail[192];
  int64_t numel = tensor_numel(t);
  f.t = t;
  f.summarise = numel > THRESHOLD;
  int64_t st = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    f.strides[d] = st;
    st *= t->shape[d];
  }
  if (t->dtype != DT_FLOAT32) {
    f.mode = 0;
  } else {
    Scan s = {t, 0, INFINITY, 1, 0, 0};
    visit(t, f.summarise, 0, 0, f.strides, scan_one, &s);
    if (s.any_finite && (s.maxabs >= 1e8 || (!s.all_whole && s.minabs < 1e-4))) {
      f.mode = 3;
      f.prec = 4;
    } else if (s.all_whole) {
      f.mode = 1;
    } else {
      f.mode = 2;
      f.prec = s.prec ? s.prec : 1;
    }
  }
  visit(t, f.summarise, 0, 0, f.strides, width_one, &f);
  puts_(&b, PREFIX);
  b.line_start = 0;
  if (t->ndim == 0) {
    char s[64];
    fmt_value(&f, tensor_get_flat(t, 0), s, sizeof s);
    puts_(&b, s);
  } else if (numel == 0) {
    puts_(&b, "[]");
  } else {
    emit(&b, &f, 0, 0, (int)strlen(PREFIX));
  }
  snprintf(tail, sizeof tail, ", shape=%s, dtype=%s)", tensor_shape_str(t, sb, sizeof sb),
           dtype_name(t->dtype));
  puts_(&b, tail);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
