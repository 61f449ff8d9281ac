/* atomic_file.h — the one way nnlab writes a file: into a temporary file
 * beside the target (mkstemp), then a rename over it, so a reader never sees
 * half a file and a failed write (a full disk) keeps the previous file. The
 * new file gets the old file's mode, or 0666 less the umask when it is new.
 * A symlink is followed (its target is replaced, as numpy and Keras do);
 * a folder, device node, FIFO or socket is refused. Knows nothing of Lua. */
#ifndef NNLAB_ATOMIC_FILE_H
#define NNLAB_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct AtomicFile {
  int fd;        /* the temporary file, -1 when closed */
  char *tmp;     /* its path (malloc'd) */
  char *target;  /* the file it will replace: path, or a symlink's target (malloc'd) */
  const char *path; /* as the caller gave it, for messages (not owned) */
} AtomicFile;

/* Creates the temporary file for path. Returns 0, or -1 with err saying
 * why ("out/a.npy: is a folder, expected a file"); nothing is left behind. */
int atomic_open(AtomicFile *a, const char *path, char *err, size_t errlen);
/* Writes n bytes to the temporary file; -1 (errno set) on failure. */
int atomic_write(AtomicFile *a, const void *data, size_t n);
/* Closes (after fsync when sync) and renames over the target. On failure
 * the temporary file is removed, err says why and that the previous file is
 * unchanged. Frees what atomic_open allocated either way. */
int atomic_commit(AtomicFile *a, int sync, char *err, size_t errlen);
/* Removes the temporary file and frees; safe after a commit or twice. */
void atomic_abort(AtomicFile *a);

/* open + write + commit of one buffer. */
int atomic_save(const char *path, const void *data, size_t len, int sync, char *err,
                size_t errlen);

/* The open regular file at path for reading, or -1 with err naming the file
 * when it cannot be opened or is not a regular file (a FIFO or device would
 * block or never end): "expected <expected>, got x (a FIFO)". Opened with
 * O_NONBLOCK, which is then cleared. */
int open_regular(const char *path, const char *expected, char *err, size_t errlen);

#endif
