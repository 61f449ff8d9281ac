/* npy.h — NumPy .npy files: little-endian float32 ("<f4"), uint8 ("|u1")
 * and int32 ("<i4") in C order. Writes format 1.0; reads 1.0, 2.0 and 3.0.
 * Both return 0, or -1 with a message naming the file and what was wrong. */
#ifndef NNLAB_NPY_H
#define NNLAB_NPY_H

#include "tensor.h"

/* Writes t (any layout) to path. */
int npy_write(const char *path, const Tensor *t, char *err);
/* Reads path into t, a blank header (storage NULL) that receives a new
 * contiguous tensor; on failure t is left blank. */
int npy_read(const char *path, Tensor *t, char *err);

#endif
