/* fuzz_model.c — libFuzzer target for nn.load's file parser: magic, version,
 * layer records, shapes and weights. The CRC-32 at the end would reject
 * almost every mutation before the parser runs, so the harness writes the
 * right CRC over the input first (the check itself is two lines). */
#include <string.h>
#include <zlib.h>

#include "fuzz_file.h"
#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 22)) return 0;
  unsigned char *buf = malloc(size + 4);
  if (!buf) return 0;
  memcpy(buf, data, size);
  uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)size);
  memcpy(buf + size, &crc, 4);
  char path[64], err[NN_ERRLEN];
  int fd = fuzz_file(buf, size + 4, path, sizeof path);
  free(buf);
  ModelDesc d;
  unsigned char *file = NULL;
  if (model_load(path, &d, &file, err) == 0) free(file);
  close(fd);
  return 0;
}
