/* gnuplot.h — talking to gnuplot through pipes, and writing plot files.
 * gnuplot_run starts one gnuplot per plot (png, svg, dumb): the script goes
 * to its stdin, its stdout and stderr come back, and a non-zero exit status
 * is an error carrying gnuplot's own message. A GnuplotSession keeps one
 * gnuplot alive across plots (window mode) and waits after each script for
 * a marker it prints, so errors are seen at once. Knows nothing of Lua;
 * functions return 0 or -1 with a message in err (GNUPLOT_ERRLEN bytes). */
#ifndef NNLAB_GNUPLOT_H
#define NNLAB_GNUPLOT_H

#include <stddef.h>
#include <sys/types.h>

#define GNUPLOT_ERRLEN 1024

/* The gnuplot executable: $NNLAB_GNUPLOT when set (used as it is), else the
 * first "gnuplot" on $PATH. Returns 0 and writes the path, or -1 when there
 * is none (nothing is written to err: a missing gnuplot is not an error). */
int gnuplot_find(char *path, size_t len);

/* Runs `exe` in directory dir (NULL: the current one) with script on stdin.
 * When out is not NULL, *out receives gnuplot's stdout (malloc'd, NUL
 * terminated, freed by the caller; *out is NULL on failure) and *outlen its
 * length; otherwise stdout is inherited. Fails when gnuplot cannot start,
 * is killed, or exits non-zero: err then holds its stderr. */
int gnuplot_run(const char *exe, const char *dir, const char *script, size_t len, char **out,
                size_t *outlen, char *err);

typedef struct GnuplotSession {
  pid_t pid;   /* 0 when not running */
  int in_fd;   /* gnuplot's stdin */
  int err_fd;  /* gnuplot's stderr */
} GnuplotSession;

/* Starts `exe -persist` (windows stay open after nnlab exits). */
int gnuplot_session_open(GnuplotSession *g, const char *exe, char *err);
/* Sends script and waits until gnuplot has read and run all of it. A
 * gnuplot error message makes it fail with that message (the process goes
 * on); when gnuplot has exited or died the session is closed (pid 0) and
 * the next send starts a new one. */
int gnuplot_session_send(GnuplotSession *g, const char *script, size_t len, char *err);
/* Closes stdin and reaps the process; safe to call twice. */
void gnuplot_session_close(GnuplotSession *g);

/* Writes data to path through a temporary file in the same directory and a
 * rename, so a reader never sees half a file and a failed write leaves the
 * old file in place. */
int plotfile_write(const char *path, const void *data, size_t len, char *err);
/* mkdir -p. */
int plotfile_mkdirs(const char *dir, char *err);

#endif
