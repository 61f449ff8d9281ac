/* fuzz_tar.c — libFuzzer target for the tar walker (headers, checksums,
 * octal and base-256 sizes, GNU long names, the end blocks, gzip or not):
 * every entry is visited and read in pieces of varying length. */
#include <string.h>

#include "fuzz_file.h"
#include "tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(void *ctx, TarEntry *e, char *err) {
  unsigned char buf[777];
  size_t *n = ctx;
  (*n)++;
  for (int64_t step = 1; e->left > 0; step = step * 3 + 1) {
    size_t k = step > e->left ? (size_t)e->left : (size_t)step;
    if (k > sizeof buf) k = sizeof buf;
    if (tar_entry_read(e, buf, k, err)) return -1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64], err[DATA_ERRLEN];
  size_t n = 0;
  int fd = fuzz_file(data, size, path, sizeof path);
  tar_each(path, visit, &n, err);
  close(fd);
  return 0;
}
