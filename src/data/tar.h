/* tar.h — a streaming reader of tar archives (ustar, GNU long names, pax
 * headers skipped) from a stream (stream.h): entries are visited in order and
 * their data read without unpacking anything to disk. */
#ifndef NNLAB_TAR_H
#define NNLAB_TAR_H

#include "dataio.h"

typedef struct TarEntry {
  DataStream *gz;
  const char *archive;  /* for messages */
  char name[512];
  int64_t size;         /* bytes of data */
  int64_t left;         /* bytes not yet read by the visitor */
} TarEntry;

/* Reads exactly n bytes of the current entry's data (n <= e->left). */
int tar_entry_read(TarEntry *e, void *buf, size_t n, char *err);

/* Called for every regular file; returns 0 to go on, -1 (err filled) to stop.
 * Data the visitor does not read is skipped. */
typedef int (*TarVisit)(void *ctx, TarEntry *e, char *err);

/* Visits the archive at path (plain or gzip-compressed). Returns 0, or -1 with
 * err naming the archive: truncated, corrupt header, or the visitor's error. */
int tar_each(const char *path, TarVisit visit, void *ctx, char *err);

#endif
