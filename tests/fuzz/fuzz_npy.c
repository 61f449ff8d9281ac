/* fuzz_npy.c — libFuzzer target for tensor.load: the .npy magic, version,
 * header length and the Python dict literal (descr, fortran_order, shape),
 * then the data. A tensor that loads is saved and loaded again and must
 * come back with the same bytes. */
#include <string.h>

#include "fuzz_file.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64], err[TENSOR_ERRLEN];
  int fd = fuzz_file(data, size, path, sizeof path);
  Tensor t;
  memset(&t, 0, sizeof t);
  if (npy_read(path, &t, err) == 0) {
    char again[] = "/tmp/nnlab-fuzz-npy-XXXXXX";
    int tfd = mkstemp(again);
    if (tfd >= 0) {
      close(tfd);
      Tensor u;
      memset(&u, 0, sizeof u);
      if (npy_write(again, &t, err) != 0 || npy_read(again, &u, err) != 0) abort();
      size_t nb = (size_t)tensor_numel(&t) * dtype_size(t.dtype);
      if (u.dtype != t.dtype || tensor_numel(&u) != tensor_numel(&t) ||
          (nb && memcmp(tensor_data(&u), tensor_data(&t), nb) != 0))
        abort();
      tensor_free(&u);
      unlink(again);
    }
    tensor_free(&t);
  }
  close(fd);
  return 0;
}
