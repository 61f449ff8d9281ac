/* tar.c — tar entries streamed through stream.h. Each 512-byte header is checked
 * (checksum, octal or base-256 size) and the archive must end with its zero
 * block, so a cut-off download is reported instead of read as shorter data. */
#include "tar.h"

#include <stdio.h>
#include <string.h>

#include "interrupt.h"

int tar_entry_read(TarEntry *e, void *buf, size_t n, char *err) {
  char what[700];
  if ((int64_t)n > e->left) {
    snprintf(err, DATA_ERRLEN, "tar: %.250s: %.200s: read past the entry", e->archive, e->name);
    return -1;
  }
  snprintf(what, sizeof what, "tar archive %s (inside %s)", e->archive, e->name);
  if (data_read_full(e->gz, buf, n, "tar", what, err)) return -1;
  e->left -= (int64_t)n;
  return 0;
}

static int skip(DataStream *gz, int64_t n, const char *path, char *err) {
  unsigned char buf[1 << 14];
  while (n > 0) {
    size_t k = n > (int64_t)sizeof buf ? sizeof buf : (size_t)n;
    char what[600];
    snprintf(what, sizeof what, "tar archive %s", path);
    if (interrupt_pending()) {
      snprintf(err, DATA_ERRLEN, "tar: %s: interrupted", path);
      return -1;
    }
    if (data_read_full(gz, buf, k, "tar", what, err)) return -1;
    n -= (int64_t)k;
  }
  return 0;
}

/* Size field: octal text, or base-256 when the high bit of the first byte is set. */
static int64_t parse_size(const unsigned char *f, int len) {
  int64_t v = 0;
  if (f[0] & 0x80) {
    for (int i = 1; i < len; i++) {
      if (v > (INT64_MAX >> 8)) return -1;
      v = v << 8 | f[i];
    }
    return v;
  }
  int i = 0;
  while (i < len && f[i] == ' ') i++;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v > (INT64_MAX >> 3)) return -1;
    v = v * 8 + (f[i] - '0');
  }
  if (i < len && f[i] != ' ' && f[i] != '\0') return -1;
  return v;
}

static int checksum_ok(const unsigned char *h) {
  int64_t want = parse_size(h + 148, 8), sum = 0;
  for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return want == sum;
}

int tar_each(const char *path, TarVisit visit, void *ctx, char *err) {
  unsigned char h[512];
  char what[600], longname[512] = "";
  TarEntry e;
  snprintf(what, sizeof what, "tar archive %s", path);
  DataStream *gz = data_open(path, "tar", err);
  if (!gz) return -1;
  for (;;) {
    int got = (int)stream_read(gz, h, 512);
    if (got == 0) {
      snprintf(err, DATA_ERRLEN, "tar: %s is truncated (it ends without the end-of-archive block)",
               path);
      goto fail;
    }
    if (got != 512 && data_read_full(gz, h + (got > 0 ? got : 0), 512 - (size_t)(got > 0 ? got : 0),
                                     "tar", what, err))
      goto fail;
    int zero = 1;
    for (int i = 0; i < 512 && zero; i++) zero = h[i] == 0;
    if (zero) break;
    if (!checksum_ok(h)) {
      snprintf(err, DATA_ERRLEN, "tar: %s: corrupt header (checksum mismatch; not a tar archive?)",
               path);
      goto fail;
    }
    int64_t size = parse_size(h + 124, 12);
    if (size < 0 || size > INT64_MAX - 511) { /* the padding below must not overflow */
      snprintf(err, DATA_ERRLEN, "tar: %s: corrupt header (bad size field)", path);
      goto fail;
    }
    int64_t padded = (size + 511) / 512 * 512;
    char type = (char)h[156];
    if (type == 'L') { /* GNU long name: the data is the next entry's name */
      size_t n = size < (int64_t)sizeof longname ? (size_t)size : sizeof longname - 1;
      if (data_read_full(gz, longname, n, "tar", what, err)) goto fail;
      longname[n] = '\0';
      if (skip(gz, padded - (int64_t)n, path, err)) goto fail;
      continue;
    }
    if (type == '0' || type == '\0' || type == '7') {
      memset(&e, 0, sizeof e);
      e.gz = gz;
      e.archive = path;
      if (longname[0]) {
        snprintf(e.name, sizeof e.name, "%s", longname);
      } else if (memcmp(h + 257, "ustar", 5) == 0 && h[345]) {
        snprintf(e.name, sizeof e.name, "%.155s/%.100s", (const char *)h + 345, (const char *)h);
      } else {
        snprintf(e.name, sizeof e.name, "%.100s", (const char *)h);
      }
      longname[0] = '\0';
      e.size = e.left = size;
      if (visit(ctx, &e, err)) goto fail;
      if (skip(gz, e.left + (padded - size), path, err)) goto fail;
    } else {
      longname[0] = '\0';
      if (skip(gz, padded, path, err)) goto fail;
    }
  }
  /* Read to the end so that a damaged or cut gzip trailer is noticed too. */
  for (;;) {
    unsigned char rest[1 << 14];
    long got = stream_read(gz, rest, sizeof rest);
    const char *why;
    int st = stream_status(gz, &why);
    if (got < 0 || st != STREAM_OK) {
      snprintf(err, DATA_ERRLEN, "tar: %s is %s (%s)", path,
               st == STREAM_TRUNCATED ? "truncated" : "corrupt", why);
      goto fail;
    }
    if (got == 0) break;
  }
  stream_close(gz);
  return 0;
fail:
  stream_close(gz);
  return -1;
}
