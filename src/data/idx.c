/* idx.c — IDX files streamed straight into tensor storage. Unsigned bytes
 * are read in place; wider types go through a small buffer and are
 * byte-swapped from big-endian while converting. Every size is checked
 * against overflow and against what the file can hold before allocating. */
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deflate expands at most about 1032:1, so a .gz of c bytes holds no more
 * than this many bytes: a bound for dims that claim more than the file. */
#define GZ_MAX_RATIO 1040

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int elem_info(int type, size_t *esize, DType *dt, const char **name) {
  switch (type) {
    case 0x08: *esize = 1; *dt = DT_UINT8; *name = "unsigned byte"; return 0;
    case 0x09: *esize = 1; *dt = DT_INT32; *name = "signed byte"; return 0;
    case 0x0B: *esize = 2; *dt = DT_INT32; *name = "short"; return 0;
    case 0x0C: *esize = 4; *dt = DT_INT32; *name = "int"; return 0;
    case 0x0D: *esize = 4; *dt = DT_FLOAT32; *name = "float"; return 0;
    case 0x0E: *esize = 8; *dt = DT_FLOAT32; *name = "double"; return 0;
    default: return -1;
  }
}

/* Converts n big-endian elements of `type` from src into dst. */
static void convert(int type, const unsigned char *src, void *dst, size_t n) {
  int32_t *di = dst;
  float *df = dst;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = src;
    switch (type) {
      case 0x09: di[i] = (int8_t)p[i]; break;
      case 0x0B: di[i] = (int16_t)(uint16_t)(p[2 * i] << 8 | p[2 * i + 1]); break;
      case 0x0C: di[i] = (int32_t)be32(p + 4 * i); break;
      case 0x0D: {
        uint32_t u = be32(p + 4 * i);
        float f;
        memcpy(&f, &u, 4);
        df[i] = f;
        break;
      }
      case 0x0E: {
        uint64_t u = (uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4);
        double d;
        memcpy(&d, &u, 8);
        df[i] = (float)d;
        break;
      }
      default: break;
    }
  }
}

int idx_read(const char *path, Tensor *t, char *err) {
  unsigned char head[4], dimbuf[4 * 255];
  int64_t shape[TENSOR_MAXDIM];
  size_t esize;
  DType dt;
  const char *tname;
  char terr[TENSOR_ERRLEN];
  memset(t, 0, sizeof *t);
  int64_t fsize = data_file_size(path);
  DataStream *gz = data_open(path, "idx", err);
  if (!gz) return -1;
  if (data_read_full(gz, head, 4, "idx", path, err)) goto fail;
  int type = head[2], ndim = head[3];
  int direct = stream_direct(gz);
  if (head[0] != 0 || head[1] != 0 || elem_info(type, &esize, &dt, &tname) != 0) {
    snprintf(err, DATA_ERRLEN,
             "idx: %s: wrong magic number 0x%02X%02X%02X%02X (expected 00 00, a type of 08 09 0B "
             "0C 0D 0E, and a dimension count)", path, head[0], head[1], head[2], head[3]);
    goto fail;
  }
  if (ndim < 1 || ndim > TENSOR_MAXDIM) {
    snprintf(err, DATA_ERRLEN, "idx: %s: %d dimensions (expected 1..%d)", path, ndim,
             TENSOR_MAXDIM);
    goto fail;
  }
  if (data_read_full(gz, dimbuf, 4 * (size_t)ndim, "idx", path, err)) goto fail;
  /* Product of the sizes, stopping before it can overflow: 2^50 bytes is far
   * beyond any file, so anything above is reported as too large. */
  const double limit = 1125899906842624.0;
  double bytes = (double)esize;
  int64_t numel = 1;
  for (int d = 0; d < ndim; d++) {
    shape[d] = be32(dimbuf + 4 * d);
    bytes *= (double)shape[d];
    if (bytes > limit) {
      snprintf(err, DATA_ERRLEN, "idx: %s: dimensions overflow (size %d is %lld)", path, d + 1,
               (long long)shape[d]);
      goto fail;
    }
    numel *= shape[d];
  }
  int64_t need = numel * (int64_t)esize, header = 4 + 4 * (int64_t)ndim;
  if (fsize >= 0 && direct && header + need > fsize) {
    snprintf(err, DATA_ERRLEN,
             "idx: %s: dimensions need %lld data bytes but the file has only %lld after its "
             "header (truncated file or wrong sizes)", path, (long long)need,
             (long long)(fsize - header));
    goto fail;
  }
  if (fsize >= 0 && !direct && (double)need > (double)fsize * GZ_MAX_RATIO) {
    snprintf(err, DATA_ERRLEN,
             "idx: %s: dimensions need %lld data bytes, more than a %lld-byte gzip file can hold",
             path, (long long)need, (long long)fsize);
    goto fail;
  }
  if (tensor_init(t, dt, ndim, shape, terr)) {
    snprintf(err, DATA_ERRLEN, "idx: %s: %s", path, terr);
    goto fail;
  }
  if (type == 0x08) {
    if (data_read_full(gz, tensor_data(t), (size_t)need, "idx", path, err)) goto fail;
  } else {
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK * esize);
    if (!buf) {
      snprintf(err, DATA_ERRLEN, "idx: %s: out of memory", path);
      goto fail;
    }
    unsigned char *dst = tensor_data(t);
    for (int64_t done = 0; done < numel;) {
      size_t n = (size_t)(numel - done < CHUNK ? numel - done : CHUNK);
      if (data_read_full(gz, buf, n * esize, "idx", path, err)) {
        free(buf);
        goto fail;
      }
      convert(type, buf, dst + (size_t)done * 4, n);
      done += (int64_t)n;
    }
    free(buf);
  }
  unsigned char extra;
  long more = stream_read(gz, &extra, 1);
  const char *msg;
  int st = stream_status(gz, &msg);
  if (more != 0 || st != STREAM_OK) {
    if (more > 0)
      snprintf(err, DATA_ERRLEN,
               "idx: %s: more bytes after the %lld elements its dimensions give (wrong sizes?)",
               path, (long long)numel);
    else if (st == STREAM_TRUNCATED)
      snprintf(err, DATA_ERRLEN, "idx: %s is truncated (the gzip stream ends early)", path);
    else
      snprintf(err, DATA_ERRLEN, "idx: %s is corrupt (%s)", path, msg);
    goto fail;
  }
  stream_close(gz);
  return 0;
fail:
  tensor_free(t);
  stream_close(gz);
  return -1;
}
