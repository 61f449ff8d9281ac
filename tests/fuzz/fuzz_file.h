/* fuzz_file.h — what every file-reader fuzz target shares: the readers take
 * a path, so each input is written to an in-memory file (memfd) and read
 * back through /proc/self/fd/N, a regular file as far as fstat can tell. */
#ifndef NNLAB_FUZZ_FILE_H
#define NNLAB_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a new memfd and puts its path in path; returns the fd. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len) {
  int fd = memfd_create("nnlab-fuzz", MFD_CLOEXEC);
  if (fd < 0) abort();
  for (size_t done = 0; done < size;) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) abort();
    done += (size_t)w;
  }
  snprintf(path, len, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
