/* fuzz_idx.c — libFuzzer target for data.idx: the IDX header (magic, dtype,
 * dimensions) and data, read raw or through gzip (zlib tells them apart by
 * the gzip magic), so one target covers both. */
#include <string.h>

#include "fuzz_file.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64], err[DATA_ERRLEN];
  int fd = fuzz_file(data, size, path, sizeof path);
  Tensor t;
  memset(&t, 0, sizeof t);
  if (idx_read(path, &t, err) == 0) tensor_free(&t);
  close(fd);
  return 0;
}
