/* gnuplot.c — gnuplot as a child process with pipes (fork/exec, poll), and
 * atomic file writes for the plots, scripts and data. SIGPIPE is ignored by
 * the host, so a gnuplot that dies while we write shows up as EPIPE here and
 * becomes an error message, not a killed nnlab. */
#include "gnuplot.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYNC_MARK "nnlab-gnuplot-sync"

int gnuplot_find(char *path, size_t len) {
  const char *env = getenv("NNLAB_GNUPLOT");
  if (env && *env) {
    if (access(env, X_OK) != 0) return -1;
    snprintf(path, len, "%s", env);
    return 0;
  }
  const char *p = getenv("PATH");
  if (!p) p = "/usr/bin:/bin";
  while (*p) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 0 && n + 9 < len) {
      snprintf(path, len, "%.*s/gnuplot", (int)n, p);
      if (access(path, X_OK) == 0) return 0;
    }
    p += n + (end ? 1 : 0);
  }
  return -1;
}

/* A growing byte buffer; on allocation failure it stops growing and keeps
 * what it has (gnuplot's output is then cut, never overrun). */
typedef struct Buf {
  char *p;
  size_t n, cap;
  int failed;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->failed = 1;
      return;
    }
    b->p = q, b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

/* gnuplot's message without blank lines at either end, cut to fit err. */
static void set_message(char *err, const char *prefix, const Buf *b) {
  const char *s = b->p ? b->p : "";
  size_t n = b->n;
  while (n && (*s == '\n' || *s == ' ' || *s == '\r')) s++, n--;
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
  if (n > GNUPLOT_ERRLEN / 2) s += n - GNUPLOT_ERRLEN / 2, n = GNUPLOT_ERRLEN / 2;
  snprintf(err, GNUPLOT_ERRLEN, "%s%s%.*s", prefix, n ? ":\n" : "", (int)n, s);
}

/* Forks exe with pipes for stdin, stderr and (when want_out) stdout. */
static pid_t spawn(const char *exe, const char *dir, int persist, int fds[3], int want_out,
                   char *err) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) || pipe2(er, O_CLOEXEC) || (want_out && pipe2(out, O_CLOEXEC))) {
    snprintf(err, GNUPLOT_ERRLEN, "cannot create a pipe to gnuplot: %s", strerror(errno));
    goto fail;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, GNUPLOT_ERRLEN, "cannot start gnuplot: %s", strerror(errno));
    goto fail;
  }
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(er[1], 2);
    if (want_out) dup2(out[1], 1);
    if (dir && chdir(dir) != 0) {
      dprintf(2, "cannot enter %s: %s\n", dir, strerror(errno));
      _exit(126);
    }
    if (persist) execl(exe, exe, "-persist", (char *)NULL);
    else execl(exe, exe, (char *)NULL);
    dprintf(2, "cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
  }
  close(in[0]), close(er[1]);
  if (want_out) close(out[1]);
  fds[0] = in[1], fds[1] = want_out ? out[0] : -1, fds[2] = er[0];
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return pid;
fail:
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
    if (er[i] >= 0) close(er[i]);
  }
  return -1;
}

int gnuplot_run(const char *exe, const char *dir, const char *script, size_t len, char **out,
                size_t *outlen, char *err) {
  int fds[3];
  Buf ob = {0}, eb = {0};
  if (out) *out = NULL;
  pid_t pid = spawn(exe, dir, 0, fds, out != NULL, err);
  if (pid < 0) return -1;
  size_t sent = 0;
  int write_failed = 0;
  if (len == 0) close(fds[0]), fds[0] = -1;
  /* write stdin and drain stdout/stderr together, so neither side blocks */
  while (fds[0] >= 0 || fds[1] >= 0 || fds[2] >= 0) {
    struct pollfd pf[3];
    int np = 0, who[3];
    for (int i = 0; i < 3; i++)
      if (fds[i] >= 0) {
        pf[np].fd = fds[i];
        pf[np].events = i == 0 ? POLLOUT : POLLIN;
        pf[np].revents = 0;
        who[np++] = i;
      }
    if (poll(pf, (nfds_t)np, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < np; k++) {
      int i = who[k];
      if (!pf[k].revents) continue;
      if (i == 0) {
        ssize_t w = write(fds[0], script + sent, len - sent);
        if (w > 0) sent += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR) write_failed = 1;
        if (sent == len || write_failed) close(fds[0]), fds[0] = -1;
      } else {
        char chunk[4096];
        ssize_t r = read(fds[i], chunk, sizeof chunk);
        if (r > 0) buf_add(i == 1 ? &ob : &eb, chunk, (size_t)r);
        else if (r == 0 || (errno != EAGAIN && errno != EINTR)) close(fds[i]), fds[i] = -1;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !write_failed;
  if (!ok) {
    char prefix[128];
    if (WIFSIGNALED(status)) snprintf(prefix, sizeof prefix, "gnuplot was killed by signal %d", WTERMSIG(status));
    else if (write_failed && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      snprintf(prefix, sizeof prefix, "gnuplot stopped reading its commands");
    else snprintf(prefix, sizeof prefix, "gnuplot failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    set_message(err, prefix, &eb);
    free(ob.p), free(eb.p);
    return -1;
  }
  free(eb.p);
  if (out) {
    if (!ob.p) buf_add(&ob, "", 0);
    if (ob.failed) {
      free(ob.p);
      snprintf(err, GNUPLOT_ERRLEN, "out of memory reading gnuplot's output");
      return -1;
    }
    *out = ob.p;
    *outlen = ob.n;
  } else {
    free(ob.p);
  }
  return 0;
}

int gnuplot_session_open(GnuplotSession *g, const char *exe, char *err) {
  int fds[3];
  pid_t pid = spawn(exe, NULL, 1, fds, 0, err);
  if (pid < 0) return -1;
  fcntl(fds[0], F_SETFL, 0); /* blocking writes: gnuplot keeps reading */
  g->pid = pid, g->in_fd = fds[0], g->err_fd = fds[2];
  return 0;
}

void gnuplot_session_close(GnuplotSession *g) {
  if (g->pid <= 0) return;
  close(g->in_fd);
  close(g->err_fd);
  int status;
  while (waitpid(g->pid, &status, 0) < 0 && errno == EINTR) {}
  g->pid = 0, g->in_fd = g->err_fd = -1;
}

static int write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    s += w, n -= (size_t)w;
  }
  return 0;
}

/* gnuplot reports an error as "line N: message" (after the offending line
 * and a caret); warnings say "warning:" after the position. */
static int has_error(const char *s) {
  for (const char *p = strstr(s, "line "); p; p = strstr(p + 1, "line ")) {
    const char *q = p + 5;
    if (*q < '0' || *q > '9') continue;
    while (*q >= '0' && *q <= '9') q++;
    if (q[0] == ':' && q[1] == ' ' && strncmp(q + 2, "warning:", 8) != 0) return 1;
  }
  return 0;
}

/* After the script, gnuplot prints the marker to stderr (print's default);
 * what comes before it on stderr is an error message (gnuplot reading a
 * pipe reports the error and goes on with the next line) or warnings, shown
 * as they are. If stderr closes first, gnuplot has stopped. */
int gnuplot_session_send(GnuplotSession *g, const char *script, size_t len, char *err) {
  static const char sync[] = "\nprint \"" SYNC_MARK "\"\n";
  Buf eb = {0};
  if (g->pid <= 0) {
    snprintf(err, GNUPLOT_ERRLEN, "gnuplot is not running");
    return -1;
  }
  int failed = write_all(g->in_fd, script, len) || write_all(g->in_fd, sync, sizeof sync - 1);
  for (;;) {
    char chunk[4096];
    ssize_t r = read(g->err_fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      failed = 1;
      break;
    }
    buf_add(&eb, chunk, (size_t)r);
    char *m = eb.p ? strstr(eb.p, SYNC_MARK "\n") : NULL;
    if (m) {
      *m = 0, eb.n = (size_t)(m - eb.p);
      break;
    }
  }
  if (failed) {
    gnuplot_session_close(g);
    set_message(err, "gnuplot stopped", &eb);
  } else if (eb.n && has_error(eb.p)) {
    set_message(err, "gnuplot failed", &eb);
    failed = 1;
  } else if (eb.n) {
    fwrite(eb.p, 1, eb.n, stderr); /* warnings */
  }
  free(eb.p);
  return failed ? -1 : 0;
}

int plotfile_write(const char *path, const void *data, size_t len, char *err) {
  return atomic_save(path, data, len, 0, err, GNUPLOT_ERRLEN);
}

int plotfile_mkdirs(const char *dir, char *err) {
  char p[4096];
  if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
    snprintf(err, GNUPLOT_ERRLEN, "path too long: %.200s...", dir);
    return -1;
  }
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == 0) {
      char c = *s;
      *s = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        snprintf(err, GNUPLOT_ERRLEN, "cannot create the folder %.900s: %s", p, strerror(errno));
        return -1;
      }
      *s = c;
      if (!c) break;
    }
  }
  struct stat st;
  if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, GNUPLOT_ERRLEN, "cannot use %.900s as a folder for plots: it is not a folder", dir);
    return -1;
  }
  return 0;
}
