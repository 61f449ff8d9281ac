/* dataio.h — what the data readers share: reading exact byte counts from a
 * stream (raw or gzip, stream.h tells them apart), error messages that name
 * the file, and handing a malloc'ed buffer to a tensor without a copy. */
#ifndef NNLAB_DATAIO_H
#define NNLAB_DATAIO_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"
#include "tensor.h"

#define DATA_ERRLEN 512

/* Opens path for reading as a stream (inflated when gzip-compressed). NULL
 * with err filled ("<who>: cannot open <path>: <reason>") on failure. */
DataStream *data_open(const char *path, const char *who, char *err);
/* Reads exactly n bytes. Returns 0, or -1 with err naming `what` and saying
 * whether the stream ended early (truncated) or is corrupt. */
int data_read_full(DataStream *s, void *buf, size_t n, const char *who, const char *what, char *err);
/* Size of the file at path in bytes, or -1. */
int64_t data_file_size(const char *path);
/* Makes t a contiguous tensor owning `data`, nbytes long: malloc'ed (maplen
 * 0; freed with free() when the storage is released, as storage_new's memory
 * is) or an mmap'd region of maplen bytes (munmap'd). On failure releases
 * data and returns -1. */
int data_adopt(Tensor *t, DType dt, int ndim, const int64_t *shape, void *data, size_t nbytes,
               size_t maplen, char *err);

#endif
