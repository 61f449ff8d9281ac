/* dataio.c — exact reads through zlib (gzread reads plain files unchanged,
 * so one path serves `.gz` and raw files), and buffer adoption by tensors. */
#include "dataio.h"

#include <unistd.h>

#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

gzFile data_gzopen(const char *path, const char *who, char *err) {
  char why[DATA_ERRLEN - 64];
  int fd = open_regular(path, "a file", why, sizeof why);
  if (fd < 0) {
    snprintf(err, DATA_ERRLEN, "%s: %s", who, why);
    return NULL;
  }
  errno = 0;
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    close(fd);
    snprintf(err, DATA_ERRLEN, "%s: cannot open %s: %s", who, path,
             errno ? strerror(errno) : "out of memory");
    return NULL;
  }
  gzbuffer(gz, 1 << 18);
  return gz;
}

int data_read_full(gzFile gz, void *buf, size_t n, const char *who, const char *what, char *err) {
  unsigned char *p = buf;
  while (n > 0) {
    unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    int got = gzread(gz, p, chunk);
    if (got <= 0) {
      int errnum = Z_OK;
      const char *msg = gzerror(gz, &errnum);
      if (got < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR))
        snprintf(err, DATA_ERRLEN, "%s: %s is corrupt (%s)", who, what, msg ? msg : "read error");
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
