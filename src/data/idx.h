/* idx.h — the IDX reader (MNIST's format): a magic of two zero bytes, an
 * element-type byte and a dimension count, then big-endian uint32 sizes and
 * the big-endian elements, from a raw or gzip-compressed file. */
#ifndef NNLAB_IDX_H
#define NNLAB_IDX_H

#include "dataio.h"

/* Element types and the tensor dtype each becomes (tensors have only
 * float32, uint8 and int32):
 *   0x08 unsigned byte -> uint8     0x09 signed byte -> int32
 *   0x0B short (16 bit) -> int32    0x0C int (32 bit) -> int32
 *   0x0D float -> float32           0x0E double -> float32 (rounded) */

/* Reads the IDX file at path into t (a new contiguous tensor). Returns 0, or
 * -1 with err naming the file and the problem; t then holds no storage. */
int idx_read(const char *path, Tensor *t, char *err);

#endif
