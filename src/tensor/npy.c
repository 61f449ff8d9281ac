/* npy.c — the .npy format: the magic "\x93NUMPY", a version, a header
 * length (2 bytes in 1.0, 4 bytes in 2.0/3.0, little-endian), then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a newline so the data starts 64-byte aligned. */
#include "npy.h"

#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *descr_of(DType dt) {
  return dt == DT_FLOAT32 ? "<f4" : dt == DT_UINT8 ? "|u1" : "<i4";
}

int npy_write(const char *path, const Tensor *t, char *err) {
  char hdr[512];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   descr_of(t->dtype));
  for (int d = 0; d < t->ndim; d++)
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, t->ndim == 1 ? "%lld," : d ? ", %lld" : "%lld",
                  (long long)t->shape[d]);
  n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
  /* pad so that 10 + header length is a multiple of 64, ending in \n */
  int total = ((10 + n + 1 + 63) / 64) * 64;
  while (10 + n + 1 < total) hdr[n++] = ' ';
  hdr[n++] = '\n';
  Tensor c = {0};
  const Tensor *src = t;
  if (!tensor_is_contiguous(t)) {
    if (tensor_copy_new(&c, t, t->dtype, err)) return -1;
    src = &c;
  }
  AtomicFile f;
  if (atomic_open(&f, path, err + 6, TENSOR_ERRLEN - 6)) {
    memcpy(err, "save: ", 6);
    tensor_free(&c);
    return -1;
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff),
                           (unsigned char)(n >> 8)};
  size_t nbytes = (size_t)tensor_numel(t) * dtype_size(t->dtype);
  int ok = atomic_write(&f, pre, 10) == 0 && atomic_write(&f, hdr, (size_t)n) == 0 &&
           (nbytes == 0 || atomic_write(&f, tensor_data(src), nbytes) == 0);
  tensor_free(&c);
  if (!ok) {
    snprintf(err, TENSOR_ERRLEN, "save: writing %s failed: %s (the previous file is unchanged)",
             path, strerror(errno));
    atomic_abort(&f);
    return -1;
  }
  if (atomic_commit(&f, 0, err + 6, TENSOR_ERRLEN - 6)) {
    memcpy(err, "save: ", 6);
    return -1;
  }
  return 0;
}

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key) {
  char k[32];
  snprintf(k, sizeof k, "'%s'", key);
  const char *p = strstr(h, k);
  if (!p) {
    snprintf(k, sizeof k, "\"%s\"", key);
    p = strstr(h, k);
  }
  if (!p) return NULL;
  p += strlen(k);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

int npy_read(const char *path, Tensor *t, char *err) {
  unsigned char pre[12];
  char *hdr = NULL, descr[32] = "";
  int64_t shape[TENSOR_MAXDIM];
  int ndim = 0, rc = -1;
  DType dt;
  int fd = open_regular(path, "a .npy file", err + 6, TENSOR_ERRLEN - 6);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    if (fd >= 0) close(fd), snprintf(err + 6, TENSOR_ERRLEN - 6, "out of memory");
    memcpy(err, "load: ", 6);
    return -1;
  }
  struct stat st = {0};
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: expected a .npy file, got %s", path,
             S_ISDIR(st.st_mode) ? "a folder" : "something that is not a regular file");
    goto done;
  }
  size_t got = fread(pre, 1, 10, f);
  if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: expected a .npy file (magic \\x93NUMPY), got %s",
             path, got < 10 ? "a file shorter than the header" : "other bytes");
    goto done;
  }
  size_t hlen;
  if (pre[6] == 1) {
    hlen = pre[8] | (size_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 10, 1, 2, f) != 2) {
      snprintf(err, TENSOR_ERRLEN, "load: %s: truncated header", path);
      goto done;
    }
    hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  } else {
    snprintf(err, TENSOR_ERRLEN, "load: %s: expected .npy format version 1, 2 or 3, got %d.%d",
             path, pre[6], pre[7]);
    goto done;
  }
  if (hlen > 1 << 20) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: header too long (%zu bytes)", path, hlen);
    goto done;
  }
  hdr = malloc(hlen + 1);
  if (!hdr) {
    snprintf(err, TENSOR_ERRLEN, "load: out of memory");
    goto done;
  }
  got = fread(hdr, 1, hlen, f);
  hdr[got] = '\0';
  if (got < hlen) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: truncated header (read %zu of %zu bytes)", path, got, hlen);
    goto done;
  }
  const char *v = dict_value(hdr, "descr");
  if (!v || (*v != '\'' && *v != '"') || sscanf(v + 1, "%31[^'\"]", descr) != 1) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: header has no 'descr': %.80s", path, hdr);
    goto done;
  }
  if (strcmp(descr, "<f4") == 0) dt = DT_FLOAT32;
  else if (strcmp(descr, "|u1") == 0 || strcmp(descr, "<u1") == 0 || strcmp(descr, "u1") == 0) dt = DT_UINT8;
  else if (strcmp(descr, "<i4") == 0) dt = DT_INT32;
  else {
    snprintf(err, TENSOR_ERRLEN,
             "load: %s: unsupported dtype '%s' (expected '<f4' float32, '|u1' uint8 or '<i4' int32)",
             path, descr);
    goto done;
  }
  v = dict_value(hdr, "fortran_order");
  if (!v || strncmp(v, "False", 5) != 0) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: expected fortran_order False (C order), got %.5s",
             path, v ? v : "nothing");
    goto done;
  }
  v = dict_value(hdr, "shape");
  if (!v || *v != '(') {
    snprintf(err, TENSOR_ERRLEN, "load: %s: header has no 'shape' tuple", path);
    goto done;
  }
  for (v++;;) {
    while (*v == ' ' || *v == ',') v++;
    if (*v == ')') break;
    char *end;
    long long s = strtoll(v, &end, 10);
    if (end == v || s < 0 || ndim == TENSOR_MAXDIM) {
      snprintf(err, TENSOR_ERRLEN, "load: %s: bad shape in header (at most %d sizes >= 0): %.60s",
               path, TENSOR_MAXDIM, dict_value(hdr, "shape"));
      goto done;
    }
    shape[ndim++] = s;
    v = end;
  }
  /* Compare the header's claim with the bytes actually left before
   * allocating: a corrupt shape must not ask for gigabytes. */
  int64_t want = (int64_t)dtype_size(dt), left = (int64_t)st.st_size - (int64_t)ftell(f);
  int huge = 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] && want > INT64_MAX / 8 / shape[i]) huge = 1;
    else want *= shape[i];
  }
  if (huge || want > left) {
    char sb[96], need[32];
    snprintf(need, sizeof need, huge ? "more than 2^60" : "%lld", (long long)want);
    snprintf(err, TENSOR_ERRLEN, "load: %s: truncated data (read %lld of %s bytes for a %s %s array)",
             path, (long long)left, need, shape_str(ndim, shape, sb, sizeof sb), descr);
    goto done;
  }
  if (tensor_init(t, dt, ndim, shape, err)) goto done;
  size_t nbytes = (size_t)tensor_numel(t) * dtype_size(dt);
  got = nbytes ? fread(tensor_data(t), 1, nbytes, f) : 0;
  if (got < nbytes) {
    snprintf(err, TENSOR_ERRLEN, "load: %s: truncated data (read %zu of %zu bytes)", path, got, nbytes);
    tensor_free(t);
    goto done;
  }
  rc = 0;
done:
  free(hdr);
  fclose(f);
  return rc;
}
