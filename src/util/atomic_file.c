/* atomic_file.c — temporary file + rename for every file nnlab writes, and
 * open_regular for every file it reads by name. The temporary file is
 * ".NAME.XXXXXX" in the target's folder (a rename is atomic only within one
 * file system); its mode is set with fchmod because mkstemp makes 0600. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a folder";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISSOCK(m)) return "a socket";
  return "something other than a regular file";
}

static mode_t new_file_mode(void) {
  mode_t u = umask(0);
  umask(u);
  return 0666 & ~u;
}

int atomic_open(AtomicFile *a, const char *path, char *err, size_t errlen) {
  struct stat st;
  mode_t mode;
  memset(a, 0, sizeof *a);
  a->fd = -1;
  a->path = path;
  if (!*path) {
    snprintf(err, errlen, "expected a file path, got an empty string");
    return -1;
  }
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    a->target = realpath(path, NULL);
    if (!a->target) {
      snprintf(err, errlen, "%s: a symlink whose target cannot be reached (%s)", path, strerror(errno));
      return -1;
    }
    if (stat(a->target, &st) != 0) st.st_mode = 0;
  } else {
    a->target = strdup(path);
    if (!a->target) goto oom;
    if (errno = 0, lstat(path, &st) != 0) {
      if (errno != ENOENT) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto fail;
      }
      st.st_mode = 0;
    }
  }
  if (st.st_mode && !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "expected a file path, got %s (%s)", path, kind_of(st.st_mode));
    goto fail;
  }
  mode = st.st_mode ? (st.st_mode & 07777) : new_file_mode();
  const char *slash = strrchr(a->target, '/');
  size_t dlen = slash ? (size_t)(slash - a->target) + 1 : 0;
  size_t n = strlen(a->target) + 16;
  a->tmp = malloc(n);
  if (!a->tmp) goto oom;
  snprintf(a->tmp, n, "%.*s.%s.XXXXXX", (int)dlen, a->target, a->target + dlen);
  a->fd = mkostemp(a->tmp, O_CLOEXEC);
  if (a->fd < 0) {
    snprintf(err, errlen, "cannot create a temporary file beside %s (%s)", path, strerror(errno));
    goto fail;
  }
  if (fchmod(a->fd, mode) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    atomic_abort(a);
    return -1;
  }
  return 0;
oom:
  snprintf(err, errlen, "cannot write %s: out of memory", path);
fail:
  free(a->target), free(a->tmp);
  a->target = a->tmp = NULL;
  return -1;
}

int atomic_write(AtomicFile *a, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    ssize_t w = write(a->fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = ENOSPC;
      return -1;
    }
    p += w, n -= (size_t)w;
  }
  return 0;
}

void atomic_abort(AtomicFile *a) {
  if (a->fd >= 0) close(a->fd);
  if (a->tmp) unlink(a->tmp);
  free(a->tmp), free(a->target);
  a->fd = -1, a->tmp = a->target = NULL;
}

int atomic_commit(AtomicFile *a, int sync, char *err, size_t errlen) {
  int e = 0;
  if (sync && fsync(a->fd) != 0) e = errno;
  if (close(a->fd) != 0 && !e) e = errno;
  a->fd = -1;
  if (!e && rename(a->tmp, a->target) != 0) e = errno;
  if (e) {
    snprintf(err, errlen, "cannot write %s: %s (the previous file is unchanged)", a->path, strerror(e));
    atomic_abort(a);
    return -1;
  }
  free(a->tmp), free(a->target);
  a->tmp = a->target = NULL;
  return 0;
}

int atomic_save(const char *path, const void *data, size_t len, int sync, char *err,
                size_t errlen) {
  AtomicFile a;
  if (atomic_open(&a, path, err, errlen) != 0) return -1;
  if (atomic_write(&a, data, len) != 0) {
    snprintf(err, errlen, "cannot write %s: %s (the previous file is unchanged)", path, strerror(errno));
    atomic_abort(&a);
    return -1;
  }
  return atomic_commit(&a, sync, err, errlen);
}

int open_regular(const char *path, const char *expected, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st = {0};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "expected %s, got %s (%s)", expected, path, kind_of(st.st_mode));
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}
