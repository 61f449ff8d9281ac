/* grader.c — the process side of `nnlab --check`: each lesson in a fresh
 * nnlab child (fork, then exec of /proc/self/exe), in its own process group
 * so that a timer or Ctrl-C can kill it with everything it started. One
 * ppoll loop relays the child's output, reads its records and watches its
 * pidfd; SIGINT is blocked outside ppoll so a Ctrl-C is never missed. The
 * child side is three functions: find the socket, send a record. And the
 * jail in which the grader draws a sandboxed lesson's plots afterwards. */
#include "grader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

extern char **environ;

#define GRADER_KEEP (1u << 20) /* bytes of each output stream kept for the reports */
#define ENV_NAME "NNLAB_GRADER_FD"
#define STR(x) #x
#define XSTR(x) STR(x)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Appends; with keep, only the last `keep` bytes are held (counted in dropped). */
static void buf_add(GraderBuf *b, const void *data, size_t n, size_t keep) {
  if (keep && b->n + n > 2 * keep) {
    size_t total = b->n + n, cut = total - keep;
    if (cut >= b->n) {
      b->dropped += b->n + (cut - b->n);
      data = (const char *)data + (cut - b->n);
      n -= cut - b->n;
      b->n = 0;
    } else {
      memmove(b->p, b->p + cut, b->n - cut);
      b->n -= cut;
      b->dropped += cut;
    }
  }
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return; /* the report loses this piece; the run goes on */
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  b->p[b->n] = 0;
}

void grader_run_free(GraderRun *run) {
  free(run->records.p);
  free(run->out.p);
  free(run->err.p);
  memset(run, 0, sizeof *run);
}

/* The environment with NNLAB_GRADER_FD set to the child's descriptor. */
static char **child_env(void) {
  size_t n = 0, k = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 2, sizeof *env);
  static char var[] = ENV_NAME "=" XSTR(GRADER_CHILD_FD);
  if (!env) return NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], ENV_NAME "=", sizeof ENV_NAME) != 0) env[k++] = environ[i];
  env[k++] = var;
  env[k] = NULL;
  return env;
}

static void close_from(int lowest) {
  if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0) == 0) return;
  struct rlimit r;
  int top = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 65536 ? (int)r.rlim_cur : 65536;
  for (int fd = lowest; fd < top; fd++) close(fd);
}

static void say(const char *msg) {
  ssize_t w = write(2, msg, strlen(msg));
  (void)w;
}

/* In the forked child: async-signal-safe calls only, then exec. fds are
 * stdin, stdout, stderr and the record socket (-1: none). */
static void child_exec(int fds[4], pid_t parent, const char *path, char *const argv[], char *const envp[]) {
  struct rlimit none = {0, 0};
  struct sigaction dfl;
  sigset_t empty;
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0) fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0 && dup2(fds[i], i) < 0) _exit(127);
  close_from(fds[3] >= 0 ? 4 : 3);
  setrlimit(RLIMIT_CORE, &none);
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, NULL);
  sigaction(SIGPIPE, &dfl, NULL);
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
  execve(path, argv, envp);
  say("nnlab: cannot start a child nnlab: ");
  say(strerror(errno));
  say("\n");
  _exit(127);
}

static void relay(int to, const char *p, size_t n, int *broken) {
  while (n && !*broken) {
    ssize_t w = write(to, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *broken = 1; /* our own output is gone: keep collecting for the reports */
      return;
    }
    p += w, n -= (size_t)w;
  }
}

/* Reads what is there on fd (non-blocking); returns 0 at end of file. */
static int drain_stream(int fd, GraderBuf *keep, int to, int *broken) {
  char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r > 0) {
      relay(to, chunk, (size_t)r, broken);
      buf_add(keep, chunk, (size_t)r, GRADER_KEEP);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    return r == 0 ? 0 : 1;
  }
}

static int drain_records(int fd, GraderBuf *records) {
  static char msg[GRADER_RECORD_MAX + 1];
  for (;;) {
    ssize_t r = recv(fd, msg, sizeof msg, MSG_DONTWAIT);
    if (r > 0) {
      uint32_t len = (uint32_t)(r > GRADER_RECORD_MAX ? GRADER_RECORD_MAX : r);
      buf_add(records, &len, sizeof len, 0);
      buf_add(records, msg, len, 0);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    return r == 0 ? 0 : 1;
  }
}

/* Whether pid has ended, without reaping it (the zombie keeps its process
 * group id from being reused until we have killed the group). */
static int has_ended(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

int grader_run(char *const argv[], double timeout, int (*interrupted)(void), GraderRun *run, char *err) {
  int sv[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1}, devnull = -1, pidfd = -1;
  int open_out, open_err, open_sock, killed = 0, reaped = 0, broken_out = 0, broken_err = 0, wstatus = 0;
  char **envp = child_env();
  sigset_t block, old;
  double t0, drain_until = 0;
  pid_t pid;
  memset(run, 0, sizeof *run);
  if (!envp || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || pipe2(po, O_CLOEXEC) ||
      pipe2(pe, O_CLOEXEC) || (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    snprintf(err, GRADER_ERRLEN, "cannot prepare a child process: %s", strerror(errno));
    goto fail;
  }
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  fflush(stdout);
  fflush(stderr);
  t0 = now();
  pid_t parent = getpid();
  pid = fork();
  if (pid == 0) {
    int fds[4] = {devnull, po[1], pe[1], sv[1]};
    child_exec(fds, parent, "/proc/self/exe", argv, envp);
  }
  if (pid < 0) {
    snprintf(err, GRADER_ERRLEN, "cannot start a child process: %s", strerror(errno));
    sigprocmask(SIG_SETMASK, &old, NULL);
    goto fail;
  }
  setpgid(pid, pid); /* also done by the child: whichever runs first */
  close(sv[1]), close(po[1]), close(pe[1]), close(devnull);
  sv[1] = po[1] = pe[1] = devnull = -1;
  fcntl(po[0], F_SETFL, O_NONBLOCK);
  fcntl(pe[0], F_SETFL, O_NONBLOCK);
  pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  open_out = open_err = open_sock = 1;
  for (;;) {
    struct pollfd pf[4];
    int np = 0;
    if (!reaped) {
      if (!killed && interrupted && interrupted()) run->interrupted = 1;
      if (!killed && timeout > 0 && now() - t0 >= timeout) run->timed_out = 1;
      if (!killed && (run->interrupted || run->timed_out)) {
        killpg(pid, SIGKILL);
        killed = 1;
      }
      if (has_ended(pid)) {
        killpg(pid, SIGKILL); /* what it started: gnuplot, or worse */
        waitpid(pid, &wstatus, 0);
        reaped = 1;
        run->seconds = now() - t0;
        drain_until = now() + 2.0;
      }
    }
    if (reaped && ((!open_out && !open_err && !open_sock) || now() >= drain_until)) break;
    if (open_sock) pf[np].fd = sv[0], pf[np].events = POLLIN, np++;
    if (open_out) pf[np].fd = po[0], pf[np].events = POLLIN, np++;
    if (open_err) pf[np].fd = pe[0], pf[np].events = POLLIN, np++;
    if (!reaped && pidfd >= 0) pf[np].fd = pidfd, pf[np].events = POLLIN, np++;
    double wait = reaped ? drain_until - now() : pidfd < 0 ? 0.05 : -1;
    if (reaped && wait < 0) wait = 0;
    if (!reaped && !killed && timeout > 0) {
      double left = t0 + timeout - now();
      if (wait < 0 || left < wait) wait = left;
    }
    struct timespec ts, *tsp = NULL;
    if (wait >= 0) {
      ts.tv_sec = (time_t)wait;
      ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
      tsp = &ts;
    }
    for (int i = 0; i < np; i++) pf[i].revents = 0;
    int rc = ppoll(pf, (nfds_t)np, tsp, &old);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    if (open_sock) open_sock = drain_records(sv[0], &run->records);
    if (open_out) open_out = drain_stream(po[0], &run->out, 1, &broken_out);
    if (open_err) open_err = drain_stream(pe[0], &run->err, 2, &broken_err);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (!reaped) { /* ppoll failed: do not leave the child behind */
    killpg(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
    run->seconds = now() - t0;
  }
  if (WIFEXITED(wstatus)) run->exited = 1, run->status = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) run->signaled = 1, run->sig = WTERMSIG(wstatus);
  if (pidfd >= 0) close(pidfd);
  close(sv[0]), close(po[0]), close(pe[0]);
  free(envp);
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    if (sv[i] >= 0) close(sv[i]);
    if (po[i] >= 0) close(po[i]);
    if (pe[i] >= 0) close(pe[i]);
  }
  if (devnull >= 0) close(devnull);
  free(envp);
  return -1;
}

/* ---- the child's end ----------------------------------------------------- */

static int g_fd = -1;

int grader_child_init(void) {
  const char *v = getenv(ENV_NAME);
  struct stat st;
  char *end;
  if (!v) return -1;
  long fd = strtol(v, &end, 10);
  unsetenv(ENV_NAME);
  if (*end || fd < 3 || fd > 1024 || fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return -1;
  fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  g_fd = (int)fd;
  return g_fd;
}

int grader_child_fd(void) { return g_fd; }

int grader_child_send(const char *rec, size_t len) {
  if (g_fd < 0) return -1;
  if (len > GRADER_RECORD_MAX) len = GRADER_RECORD_MAX;
  while (send(g_fd, rec, len, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) return -1;
  return 0;
}

/* ---- drawing a sandboxed lesson's plots ------------------------------------ */

int grader_draw(const char *exe, const char *dir, const char *gp, double timeout, int (*interrupted)(void),
                char *err) {
  int pe[2] = {-1, -1}, in = -1, devnull = -1, wstatus = 0;
  struct stat st;
  char msg[GRADER_ERRLEN / 2];
  size_t nmsg = 0;
  *err = 0;
  if (sandbox_landlock_abi() <= 0) {
    snprintf(err, GRADER_ERRLEN, "not drawn: this kernel has no Landlock to keep gnuplot's files in %.300s", dir);
    return -1;
  }
  in = open(gp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, GRADER_ERRLEN, "%.300s: not a regular file", gp);
    if (in >= 0) close(in);
    return -1;
  }
  fcntl(in, F_SETFL, 0);
  if (pipe2(pe, O_CLOEXEC) || (devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
    snprintf(err, GRADER_ERRLEN, "cannot start gnuplot: %s", strerror(errno));
    goto done;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t parent = getpid(), pid = fork();
  if (pid == 0) {
    /* glibc's fork leaves malloc usable in the child, which the sandbox needs */
    SandboxSpec spec = {dir, 256LL << 20, exe};
    char why[SANDBOX_ERRLEN] = "";
    int fds[4] = {in, devnull, pe[1], -1};
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    for (int i = 0; i < 3; i++) fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
    for (int i = 0; i < 3; i++) dup2(fds[i], i);
    close_from(3);
    if (chdir(dir) != 0 || sandbox_apply(&spec, NULL, 0, why) != 0) {
      say(*why ? why : strerror(errno));
      _exit(126);
    }
    execl(exe, exe, (char *)NULL);
    say(strerror(errno));
    _exit(127);
  }
  if (pid < 0) {
    snprintf(err, GRADER_ERRLEN, "cannot start gnuplot: %s", strerror(errno));
    goto done;
  }
  close(pe[1]);
  pe[1] = -1;
  double t0 = now();
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  for (;;) {
    struct pollfd pf = {pe[0], POLLIN, 0};
    struct timespec ts, *tsp = NULL;
    double left = t0 + timeout - now();
    if (timeout > 0 && left <= 0) {
      killpg(pid, SIGKILL);
      snprintf(err, GRADER_ERRLEN, "gnuplot did not finish in %g s", timeout);
      break;
    }
    if (interrupted && interrupted()) {
      killpg(pid, SIGKILL);
      snprintf(err, GRADER_ERRLEN, "interrupted");
      break;
    }
    if (timeout > 0) {
      ts.tv_sec = (time_t)left;
      ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
      tsp = &ts;
    }
    int rc = ppoll(&pf, 1, tsp, &old);
    if (rc <= 0) continue;
    ssize_t r = read(pe[0], msg + nmsg, sizeof msg - 1 - nmsg);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    nmsg += (size_t)r;
    if (nmsg == sizeof msg - 1) nmsg = 0; /* keep reading; the end is what matters */
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  msg[nmsg] = 0;
  waitpid(pid, &wstatus, 0);
  if (*err == 0 && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0))
    snprintf(err, GRADER_ERRLEN, "gnuplot failed on %.200s: %s", gp, nmsg ? msg : "no message");
done:
  if (in >= 0) close(in);
  if (devnull >= 0) close(devnull);
  for (int i = 0; i < 2; i++)
    if (pe[i] >= 0) close(pe[i]);
  return *err ? -1 : 0;
}
