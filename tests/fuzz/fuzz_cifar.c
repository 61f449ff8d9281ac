/* fuzz_cifar.c — libFuzzer target for the CIFAR-10 reader. The input is the
 * content of the batches: it is wrapped in a valid tar archive (one part as
 * data_batch_1.bin, the rest as test_batch.bin, split at the first byte's
 * proportion) so the fuzzer spends its time on records, labels and sizes
 * rather than on tar checksums (fuzz_tar covers those). */
#include <string.h>

#include "cifar.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A ustar header for name with size bytes of data. */
static void header(unsigned char h[512], const char *name, size_t size) {
  memset(h, 0, 512);
  snprintf((char *)h, 100, "%s", name);
  snprintf((char *)h + 100, 8, "0000644");
  snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
}

static size_t put_member(unsigned char *out, const char *name, const uint8_t *d, size_t n) {
  header(out, name, n);
  memcpy(out + 512, d, n);
  size_t padded = (n + 511) / 512 * 512;
  memset(out + 512 + n, 0, padded - n);
  return 512 + padded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1u << 22)) return 0;
  size_t cut = (size - 1) * data[0] / 255;
  unsigned char *tar = malloc(size + 4 * 512 + 1024);
  if (!tar) return 0;
  size_t n = put_member(tar, "cifar-10-batches-bin/data_batch_1.bin", data + 1, cut);
  n += put_member(tar + n, "cifar-10-batches-bin/test_batch.bin", data + 1 + cut, size - 1 - cut);
  memset(tar + n, 0, 1024);
  n += 1024;
  char path[64], err[DATA_ERRLEN];
  int fd = fuzz_file(tar, n, path, sizeof path);
  free(tar);
  Tensor t[4];
  memset(t, 0, sizeof t);
  CifarOut out;
  memset(&out, 0, sizeof out);
  out.Xtr = &t[0], out.ytr = &t[1], out.Xte = &t[2], out.yte = &t[3];
  cifar_read(path, &out, err);
  for (int i = 0; i < 4; i++)
    if (t[i].storage) tensor_free(&t[i]);
  close(fd);
  return 0;
}
