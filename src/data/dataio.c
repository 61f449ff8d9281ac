/* dataio.c — exact reads through a stream (stream.h passes plain files
 * unchanged, so one path serves `.gz` and raw files), and buffer adoption
 * by tensors. */
#include "dataio.h"

#include <unistd.h>

#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

DataStream *data_open(const char *path, const char *who, char *err) {
  char why[DATA_ERRLEN - 64];
  int fd = open_regular(path, "a file", why, sizeof why);
  if (fd < 0) {
    snprintf(err, DATA_ERRLEN, "%s: %s", who, why);
    return NULL;
  }
  DataStream *s = stream_open_fd(fd);
  if (!s) {
    close(fd);
    snprintf(err, DATA_ERRLEN, "%s: cannot open %s: out of memory", who, path);
  }
  return s;
}

int data_read_full(DataStream *s, void *buf, size_t n, const char *who, const char *what, char *err) {
  unsigned char *p = buf;
  while (n > 0) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : n;
    long got = stream_read(s, p, chunk);
    if (got <= 0) {
      const char *why;
      if (stream_status(s, &why) == STREAM_CORRUPT)
        snprintf(err, DATA_ERRLEN, "%s: %s is corrupt (%s)", who, what, why);
      else
        snprintf(err, DATA_ERRLEN, "%s: %s is truncated (%zu more bytes expected)", who, what, n);
      return -1;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

int64_t data_file_size(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  return (int64_t)st.st_size;
}

int data_adopt(Tensor *t, DType dt, int ndim, const int64_t *shape, void *data, size_t nbytes,
               size_t maplen, char *err) {
  Storage *s = storage_adopt_mapped(data, nbytes, maplen);
  if (!s) {
    if (maplen) munmap(data, maplen);
    else free(data);
    snprintf(err, DATA_ERRLEN, "out of memory");
    return -1;
  }
  memset(t, 0, sizeof *t);
  t->storage = s;
  t->dtype = dt;
  t->ndim = ndim;
  int64_t st = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    t->shape[d] = shape[d];
    t->stride[d] = st;
    st *= shape[d];
  }
  return 0;
}
