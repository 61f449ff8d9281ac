/* cifar.h — the CIFAR-10 binary-version reader: data_batch_N.bin and
 * test_batch.bin (records of 1 label byte and 3,072 pixel bytes, stored as
 * red, green, blue planes of 32x32) and batches.meta.txt (class names), from
 * a directory or straight out of cifar-10-binary.tar.gz. */
#ifndef NNLAB_CIFAR_H
#define NNLAB_CIFAR_H

#include "dataio.h"

#define CIFAR_MAXCLASSES 100
#define CIFAR_NAMELEN 64

typedef struct CifarOut {
  Tensor *Xtr, *ytr, *Xte, *yte;      /* filled: N x 32 x 32 x 3 uint8, N int32 1-based */
  char classes[CIFAR_MAXCLASSES][CIFAR_NAMELEN];
  int nclasses;
} CifarOut;

/* Reads the batches at path (a directory holding the .bin files or a
 * cifar-10-batches-bin/ folder, or a tar / tar.gz archive). The training
 * batches are joined in the order of their numbers. Returns 0, or -1 with
 * err naming the file and the problem; the tensors then hold no storage. */
int cifar_read(const char *path, CifarOut *out, char *err);

#endif
