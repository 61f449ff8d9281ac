/* cifar.c — CIFAR-10 binary batches into uint8 N x 32 x 32 x 3 tensors
 * (height, width, channel: the layout images are shown in) and 1-based int32
 * labels. Records stream through two small buffers, one thread reading
 * (inflating) while the other transposes them from channel planes into
 * place; training batches go straight to their place in number order, so
 * the peak memory is the data itself. */
#include "cifar.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "interrupt.h"
#include "tar.h"
#include "tensor.h"

#define REC 3073
#define PIX 3072
#define MAXSEG 256
#define MAXSLOT 64 /* highest batch number put straight at its place */

typedef struct Part {
  unsigned char *X; /* mmap'd, maplen bytes */
  int32_t *y;
  int64_t n, cap; /* records (some may still be on their way), records allocated */
  size_t maplen;
} Part;

typedef struct Seg {
  long num;          /* N of data_batch_N */
  int64_t start, n;  /* records in the training buffer */
} Seg;

typedef struct Ctx {
  const char *path;
  Part train, test;
  Seg seg[MAXSEG];
  int nseg, have_test, have_meta;
  int64_t slot;      /* records per training batch while they go to their places */
  char meta[8192];
  int maxlabel;
  char maxlabel_where[600];
} Ctx;

typedef int (*ReadFn)(void *src, void *buf, size_t n, char *err);

/* Channel planes to pixels, for one record:
 * out[(row*32+col)*3+ch] = in[ch*1024 + row*32+col]. The plain loop does not
 * vectorize (stores of stride 3), and transposing took a third of loading
 * CIFAR-10: with SSSE3 (every x86-64 CPU since 2006) each 16 pixels are 9
 * byte shuffles of the three planes into 48 interleaved bytes. */
static void planes_to_pixels_plain(unsigned char *restrict dst, const unsigned char *restrict rgb) {
  const unsigned char *R = rgb, *G = rgb + 1024, *B = rgb + 2048;
  for (int i = 0; i < 1024; i++) {
    dst[3 * i] = R[i];
    dst[3 * i + 1] = G[i];
    dst[3 * i + 2] = B[i];
  }
}

#if defined(__x86_64__)
#include <tmmintrin.h>

/* mask[o][c][t]: for output byte t of block o, the byte of plane c that goes
 * there (16 pixels: byte q = 16·o + t is pixel q/3, channel q%3), or 0x80. */
static unsigned char g_mask[3][3][16];

static void masks_init(void) {
  for (int o = 0; o < 3; o++)
    for (int c = 0; c < 3; c++)
      for (int t = 0; t < 16; t++) {
        int q = 16 * o + t;
        g_mask[o][c][t] = q % 3 == c ? (unsigned char)(q / 3) : 0x80;
      }
}

__attribute__((target("ssse3"))) static void planes_to_pixels_ssse3(unsigned char *restrict dst,
                                                                  const unsigned char *restrict rgb) {
  __m128i m[3][3];
  for (int o = 0; o < 3; o++)
    for (int c = 0; c < 3; c++) m[o][c] = _mm_loadu_si128((const __m128i *)g_mask[o][c]);
  for (int i = 0; i < 1024; i += 16) {
    __m128i r = _mm_loadu_si128((const __m128i *)(rgb + i));
    __m128i g = _mm_loadu_si128((const __m128i *)(rgb + 1024 + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(rgb + 2048 + i));
    for (int o = 0; o < 3; o++) {
      __m128i v = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(r, m[o][0]), _mm_shuffle_epi8(g, m[o][1])),
                               _mm_shuffle_epi8(b, m[o][2]));
      _mm_storeu_si128((__m128i *)(dst + 3 * i + 16 * o), v);
    }
  }
}

typedef void (*TransposeFn)(unsigned char *restrict, const unsigned char *restrict);

static TransposeFn pick_transpose(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("ssse3")) return planes_to_pixels_plain;
  masks_init();
  return planes_to_pixels_ssse3;
}
#else
typedef void (*TransposeFn)(unsigned char *restrict, const unsigned char *restrict);
static TransposeFn pick_transpose(void) { return planes_to_pixels_plain; }
#endif

/* Records are read by one thread (inflating, when they come from a .gz) and
 * transposed into place by the caller's, through two chunk buffers: the two
 * halves of the work overlap. */
enum { CHUNK = 256 };

typedef struct Pipe {
  ReadFn rd;
  void *src;
  int64_t n;                    /* records to read */
  unsigned char *buf[2];
  int64_t count[2];             /* records in a full buffer; 0 when empty */
  int rc, stop;                 /* the reader's status; the consumer gave up */
  char err[DATA_ERRLEN];
  pthread_mutex_t mu;
  pthread_cond_t cv;
} Pipe;

static void *pipe_reader(void *arg) {
  Pipe *q = arg;
  for (int64_t done = 0, k = 0; done < q->n; k ^= 1) {
    int64_t m = q->n - done < CHUNK ? q->n - done : CHUNK;
    pthread_mutex_lock(&q->mu);
    while (q->count[k] && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
    int stop = q->stop;
    pthread_mutex_unlock(&q->mu);
    if (stop) break;
    int rc = q->rd(q->src, q->buf[k], (size_t)m * REC, q->err);
    pthread_mutex_lock(&q->mu);
    if (rc) q->rc = -1;
    else q->count[k] = m;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (rc) break;
    done += m;
  }
  return NULL;
}

/* Room for need records; grows at most to twice what has arrived and never
 * past limit, so a header claiming gigabytes costs memory only for the
 * records that really arrive. The images live in a mapping of their own,
 * grown by mremap (no copy) and asking for huge pages: writing 180 MB of
 * images page by page took 45,000 page faults, a third of the load in a
 * virtual machine. */
static int reserve(Part *p, int64_t need, int64_t limit) {
  if (need <= p->cap) return 0;
  int64_t cap = p->cap * 2 > need ? p->cap * 2 : need;
  if (cap > limit) cap = limit;
  size_t len = (size_t)cap * PIX;
  void *X = p->X ? mremap(p->X, (size_t)p->cap * PIX, len, MREMAP_MAYMOVE)
                 : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (X == MAP_FAILED) return -1;
  mem_advise_huge(X, len);
  p->X = X;
  p->maplen = len;
  int32_t *y = realloc(p->y, (size_t)cap * sizeof(int32_t));
  if (!y) return -1;
  p->y = y;
  p->cap = cap;
  return 0;
}

/* Writes the nbytes of records read through rd into part at record index
 * `at`, growing it as they arrive. */
static int add_records(Ctx *c, Part *p, int64_t at, ReadFn rd, void *src, int64_t nbytes,
                       const char *where, char *err) {
  if (nbytes % REC != 0) {
    snprintf(err, DATA_ERRLEN,
             "cifar: %s: record count not whole (%lld bytes is not a multiple of the %d-byte "
             "record: 1 label byte + 3072 pixel bytes)", where, (long long)nbytes, REC);
    return -1;
  }
  int64_t n = nbytes / REC, end = at + n;
  if (end > p->n) p->n = end;
  if (reserve(p, 1, 1)) goto oom; /* an empty part still owns a buffer */
  Pipe q = {.rd = rd, .src = src, .n = n};
  q.buf[0] = malloc((size_t)CHUNK * REC);
  q.buf[1] = malloc((size_t)CHUNK * REC);
  pthread_t tid;
  if (!q.buf[0] || !q.buf[1]) {
    free(q.buf[0]), free(q.buf[1]);
    goto oom;
  }
  pthread_mutex_init(&q.mu, NULL);
  pthread_cond_init(&q.cv, NULL);
  TransposeFn planes_to_pixels = pick_transpose();
  int threaded = n > CHUNK && pthread_create(&tid, NULL, pipe_reader, &q) == 0;
  int rc = 0;
  for (int64_t done = 0, k = 0; done < n && rc == 0; k ^= 1) {
    int64_t m;
    if (threaded) {
      pthread_mutex_lock(&q.mu);
      while (!q.count[k] && !q.rc) pthread_cond_wait(&q.cv, &q.mu);
      m = q.count[k];
      pthread_mutex_unlock(&q.mu);
      if (!m) { /* the reader failed */
        snprintf(err, DATA_ERRLEN, "%s", q.err);
        rc = -1;
        break;
      }
    } else {
      m = n - done < CHUNK ? n - done : CHUNK;
      if (rd(src, q.buf[k], (size_t)m * REC, err)) { rc = -1; break; }
    }
    if (interrupt_pending()) {
      snprintf(err, DATA_ERRLEN, "cifar: %s: interrupted", where);
      rc = -1;
    } else if (reserve(p, at + done + m, p->n)) {
      snprintf(err, DATA_ERRLEN, "cifar: %s: out of memory for %lld records", where, (long long)end);
      rc = -1;
    }
    for (int64_t r = 0; rc == 0 && r < m; r++) {
      const unsigned char *rec = q.buf[k] + r * REC;
      if (rec[0] > 9) {
        snprintf(err, DATA_ERRLEN, "cifar: %s: record %lld has label %d (expected 0..9)", where,
                 (long long)(done + r + 1), rec[0]);
        rc = -1;
        break;
      }
      if (rec[0] > c->maxlabel) {
        c->maxlabel = rec[0];
        snprintf(c->maxlabel_where, sizeof c->maxlabel_where, "%s", where);
      }
      p->y[at + done + r] = rec[0] + 1;
      planes_to_pixels(p->X + (size_t)(at + done + r) * PIX, rec + 1);
    }
    done += m;
    pthread_mutex_lock(&q.mu);
    q.count[k] = 0;
    if (rc) q.stop = 1;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
  }
  if (threaded) pthread_join(tid, NULL);
  pthread_mutex_destroy(&q.mu);
  pthread_cond_destroy(&q.cv);
  free(q.buf[0]), free(q.buf[1]);
  return rc;
oom:
  snprintf(err, DATA_ERRLEN, "cifar: %s: out of memory for %lld records", where, (long long)end);
  return -1;
}

/* Training batches of the usual kind (all the same size, numbered 1..k) are
 * put straight at their place, (N-1)·size, whatever order an archive holds
 * them in. The first batch of another size ends that: what was placed is
 * compacted in number order and later batches are appended. */
static void compact_slots(Ctx *c) {
  for (int i = 1; i < c->nseg; i++)
    for (int j = i; j > 0 && c->seg[j].num < c->seg[j - 1].num; j--) {
      Seg t = c->seg[j];
      c->seg[j] = c->seg[j - 1];
      c->seg[j - 1] = t;
    }
  int64_t at = 0;
  for (int i = 0; i < c->nseg; i++) {
    Seg *s = &c->seg[i];
    if (s->start != at) { /* s->start = (num-1)·slot >= at: moving down is safe */
      memmove(c->train.X + at * PIX, c->train.X + s->start * PIX, (size_t)s->n * PIX);
      memmove(c->train.y + at, c->train.y + s->start, (size_t)s->n * sizeof(int32_t));
      s->start = at;
    }
    at += s->n;
  }
  c->train.n = at;
  c->slot = 0;
}

/* Where training batch num of n records goes. */
static int64_t batch_place(Ctx *c, long num, int64_t n) {
  if (c->nseg == 0 && c->train.n == 0 && num <= MAXSLOT && n > 0) c->slot = n;
  if (c->slot && (n != c->slot || num > MAXSLOT)) compact_slots(c);
  return c->slot ? (num - 1) * c->slot : c->train.n;
}

static const char *base_name(const char *name) {
  const char *s = strrchr(name, '/');
  return s ? s + 1 : name;
}

/* data_batch_N.bin -> N (> 0), else 0. */
static long batch_number(const char *base) {
  char *end;
  if (strncmp(base, "data_batch_", 11) != 0) return 0;
  long n = strtol(base + 11, &end, 10);
  return (n > 0 && strcmp(end, ".bin") == 0) ? n : 0;
}

/* Handles one file of the set, whatever it comes from. */
static int take_file(Ctx *c, const char *base, int64_t size, ReadFn rd, void *src,
                     const char *where, char *err) {
  long num = batch_number(base);
  if (num > 0) {
    if (c->nseg == MAXSEG) {
      snprintf(err, DATA_ERRLEN, "cifar: %s: more than %d training batches", c->path, MAXSEG);
      return -1;
    }
    for (int i = 0; i < c->nseg; i++)
      if (c->seg[i].num == num) {
        snprintf(err, DATA_ERRLEN, "cifar: %s: data_batch_%ld.bin appears twice", c->path, num);
        return -1;
      }
    int64_t n = size / REC, at = batch_place(c, num, n);
    Seg *s = &c->seg[c->nseg++];
    s->num = num;
    s->start = at;
    s->n = n;
    return add_records(c, &c->train, at, rd, src, size, where, err);
  }
  if (strcmp(base, "test_batch.bin") == 0) {
    c->have_test = 1;
    return add_records(c, &c->test, c->test.n, rd, src, size, where, err);
  }
  if (strcmp(base, "batches.meta.txt") == 0) {
    if (size >= (int64_t)sizeof c->meta) {
      snprintf(err, DATA_ERRLEN, "cifar: %s: %lld bytes is too long for a list of class names",
               where, (long long)size);
      return -1;
    }
    if (rd(src, c->meta, (size_t)size, err)) return -1;
    c->meta[size] = '\0';
    c->have_meta = 1;
  }
  return 0;
}

static int tar_read_fn(void *src, void *buf, size_t n, char *err) {
  return tar_entry_read(src, buf, n, err);
}

static int visit(void *ctx, TarEntry *e, char *err) {
  Ctx *c = ctx;
  char where[1100];
  snprintf(where, sizeof where, "%s (%s)", c->path, e->name);
  return take_file(c, base_name(e->name), e->size, tar_read_fn, e, where, err);
}

typedef struct FileSrc {
  DataStream *gz;
  const char *path;
} FileSrc;

static int file_read_fn(void *src, void *buf, size_t n, char *err) {
  FileSrc *f = src;
  return data_read_full(f->gz, buf, n, "cifar", f->path, err);
}

static int read_file(Ctx *c, const char *dir, const char *base, int required, char *err) {
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, base);
  if (stat(path, &st) != 0) {
    if (!required) return 1;
    snprintf(err, DATA_ERRLEN, "cifar: %s: no %s (expected data_batch_1.bin ..., test_batch.bin "
             "and batches.meta.txt)", dir, base);
    return -1;
  }
  FileSrc f = {data_open(path, "cifar", err), path};
  if (!f.gz) return -1;
  int rc = take_file(c, base, (int64_t)st.st_size, file_read_fn, &f, path, err);
  if (rc == 0) {
    unsigned char extra;
    const char *why;
    if (stream_read(f.gz, &extra, 1) != 0) {
      snprintf(err, DATA_ERRLEN, "cifar: %.400s: unexpected bytes after the records", path);
      rc = -1;
    } else if (stream_status(f.gz, &why) != STREAM_OK) {
      snprintf(err, DATA_ERRLEN, "cifar: %.400s is truncated or corrupt (%s)", path, why);
      rc = -1;
    }
  }
  stream_close(f.gz);
  return rc;
}

static int read_dir(Ctx *c, const char *dir, char *err) {
  char sub[4200];
  struct stat st;
  snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
  if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) dir = sub;
  if (read_file(c, dir, "batches.meta.txt", 1, err) < 0) return -1;
  for (long k = 1;; k++) {
    char base[64];
    snprintf(base, sizeof base, "data_batch_%ld.bin", k);
    int rc = read_file(c, dir, base, k == 1, err);
    if (rc < 0) return -1;
    if (rc > 0) break;
  }
  return read_file(c, dir, "test_batch.bin", 1, err) < 0 ? -1 : 0;
}

/* Puts the training batches in number order: segment by segment, the one
 * with the lowest number is moved to the front of what is left, the records
 * before it shifting up by its size (one batch of scratch memory). */
static int order_batches(Ctx *c, char *err) {
  for (int i = 0; i < c->nseg; i++) {
    int j = i;
    for (int k = i + 1; k < c->nseg; k++)
      if (c->seg[k].num < c->seg[j].num) j = k;
    for (int k = i + 1; k < c->nseg; k++)
      if (c->seg[k].num == c->seg[j].num && k != j) {
        snprintf(err, DATA_ERRLEN, "cifar: %s: data_batch_%ld.bin appears twice", c->path,
                 c->seg[j].num);
        return -1;
      }
    if (j == i) continue;
    Seg s = c->seg[j];
    int64_t at = c->seg[i].start, gap = s.start - at;
    unsigned char *tmp = malloc((size_t)(s.n > 0 ? s.n : 1) * PIX);
    int32_t *ytmp = malloc((size_t)(s.n > 0 ? s.n : 1) * sizeof(int32_t));
    if (!tmp || !ytmp) {
      free(tmp);
      free(ytmp);
      snprintf(err, DATA_ERRLEN, "cifar: %s: out of memory ordering the batches", c->path);
      return -1;
    }
    unsigned char *X = c->train.X;
    int32_t *y = c->train.y;
    memcpy(tmp, X + s.start * PIX, (size_t)s.n * PIX);
    memmove(X + (at + s.n) * PIX, X + at * PIX, (size_t)gap * PIX);
    memcpy(X + at * PIX, tmp, (size_t)s.n * PIX);
    memcpy(ytmp, y + s.start, (size_t)s.n * sizeof *y);
    memmove(y + at + s.n, y + at, (size_t)gap * sizeof *y);
    memcpy(y + at, ytmp, (size_t)s.n * sizeof *y);
    free(tmp);
    free(ytmp);
    for (int k = j; k > i; k--) {
      c->seg[k] = c->seg[k - 1];
      c->seg[k].start += s.n;
    }
    s.start = at;
    c->seg[i] = s;
  }
  return 0;
}

static int parse_meta(Ctx *c, CifarOut *out, char *err) {
  out->nclasses = 0;
  for (char *line = c->meta; *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
    if (len > 0) {
      if (out->nclasses == CIFAR_MAXCLASSES) {
        snprintf(err, DATA_ERRLEN, "cifar: %s: batches.meta.txt names more than %d classes",
                 c->path, CIFAR_MAXCLASSES);
        return -1;
      }
      if (len >= CIFAR_NAMELEN) len = CIFAR_NAMELEN - 1;
      memcpy(out->classes[out->nclasses], line, len);
      out->classes[out->nclasses][len] = '\0';
      out->nclasses++;
    }
    if (!end) break;
    line = end + 1;
  }
  if (c->maxlabel >= out->nclasses) {
    snprintf(err, DATA_ERRLEN, "cifar: %.400s: label %d out of range: batches.meta.txt names %d classes",
             c->maxlabel_where, c->maxlabel, out->nclasses);
    return -1;
  }
  return 0;
}

int cifar_read(const char *path, CifarOut *out, char *err) {
  static Ctx zero;
  Ctx *c = malloc(sizeof *c);
  struct stat st;
  int rc = -1;
  if (!c) {
    snprintf(err, DATA_ERRLEN, "cifar: out of memory");
    return -1;
  }
  *c = zero;
  c->path = path;
  c->maxlabel = -1;
  if (stat(path, &st) != 0) {
    snprintf(err, DATA_ERRLEN, "cifar: cannot open %s: no such file or directory", path);
    goto done;
  }
  if (S_ISDIR(st.st_mode) ? read_dir(c, path, err) : tar_each(path, visit, c, err)) goto done;
  if (c->nseg == 0 || !c->have_test || !c->have_meta) {
    snprintf(err, DATA_ERRLEN, "cifar: %s: no %s found (expected data_batch_1.bin ..., "
             "test_batch.bin and batches.meta.txt)", path,
             c->nseg == 0 ? "data_batch_N.bin" : !c->have_test ? "test_batch.bin" : "batches.meta.txt");
    goto done;
  }
  if (c->slot) compact_slots(c);
  if (order_batches(c, err) || parse_meta(c, out, err)) goto done;
  int64_t shtr[4] = {c->train.n, 32, 32, 3}, shte[4] = {c->test.n, 32, 32, 3};
  if (data_adopt(out->Xtr, DT_UINT8, 4, shtr, c->train.X, (size_t)c->train.n * PIX, c->train.maplen, err)) {
    c->train.X = NULL;
    goto done;
  }
  c->train.X = NULL;
  if (data_adopt(out->ytr, DT_INT32, 1, shtr, c->train.y, (size_t)c->train.n * 4, 0, err)) {
    c->train.y = NULL;
    goto done;
  }
  c->train.y = NULL;
  if (data_adopt(out->Xte, DT_UINT8, 4, shte, c->test.X, (size_t)c->test.n * PIX, c->test.maplen, err)) {
    c->test.X = NULL;
    goto done;
  }
  c->test.X = NULL;
  if (data_adopt(out->yte, DT_INT32, 1, shte, c->test.y, (size_t)c->test.n * 4, 0, err)) {
    c->test.y = NULL;
    goto done;
  }
  c->test.y = NULL;
  rc = 0;
done:
  if (rc) {
    tensor_free(out->Xtr);
    tensor_free(out->ytr);
    tensor_free(out->Xte);
    tensor_free(out->yte);
  }
  if (c->train.X) munmap(c->train.X, c->train.maplen);
  free(c->train.y);
  if (c->test.X) munmap(c->test.X, c->test.maplen);
  free(c->test.y);
  free(c);
  return rc;
}
