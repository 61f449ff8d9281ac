/* grader.h — `nnlab --check` runs each lesson in a child process: nnlab
 * itself (/proc/self/exe) started afresh in its own process group, its
 * output relayed, and its results read from a socket that only nnlab's C
 * code in the child writes to (the child finds it through NNLAB_GRADER_FD,
 * which it removes from its environment before any Lua runs). A timer
 * kills the process group; so does Ctrl-C in the parent. Knows nothing of
 * Lua; functions return 0, or -1 with a message in err (GRADER_ERRLEN). */
#ifndef NNLAB_GRADER_H
#define NNLAB_GRADER_H

#include <stddef.h>

#define GRADER_ERRLEN 512
/* The descriptor the child's socket has after exec. */
#define GRADER_CHILD_FD 3
/* The longest record a child sends; longer ones are cut. */
#define GRADER_RECORD_MAX 32768

typedef struct GraderBuf {
  char *p;
  size_t n, cap;
  size_t dropped; /* bytes dropped from the front to keep the last GRADER_KEEP */
} GraderBuf;

typedef struct GraderRun {
  GraderBuf records;   /* each record as a 4-byte length (host order) and its bytes */
  GraderBuf out, err;  /* the last bytes of the child's stdout and stderr */
  int exited, status;  /* exit status when it exited */
  int signaled, sig;   /* signal number when a signal ended it */
  int timed_out, interrupted;
  double seconds;
} GraderRun;

/* Runs nnlab with argv (argv[0] is the name it is given) as a child: stdin
 * /dev/null, stdout and stderr relayed to ours as they come (and the last
 * part kept in run), a record socket on descriptor GRADER_CHILD_FD, core
 * dumps off, killed with its process group after timeout seconds (0: no
 * limit), when `interrupted()` returns non-zero (polled whenever a signal
 * arrives; SIGINT is blocked outside the wait so none is missed), and when
 * this process dies. Fails only when the child cannot be started. */
int grader_run(char *const argv[], double timeout, int (*interrupted)(void), GraderRun *run, char *err);
void grader_run_free(GraderRun *run);

/* Inside the child: the record socket (removed from the environment and
 * closed on exec), or -1 when this process is not a lesson being checked.
 * Call once, before Lua starts. */
int grader_child_init(void);
/* Sends one record to the parent (cut at GRADER_RECORD_MAX); -1 if not a child. */
int grader_child_send(const char *rec, size_t len);
int grader_child_fd(void);

/* Runs the gnuplot at exe (a path) on the script file gp, in folder dir, in
 * a jail: no programs, processes, sockets; files written only in dir when
 * the kernel has Landlock, killed after timeout seconds or when
 * `interrupted()`. Refuses (returns -1) when the kernel has no Landlock: a
 * script a sandboxed lesson could have written is then not run. */
int grader_draw(const char *exe, const char *dir, const char *gp, double timeout, int (*interrupted)(void),
                char *err);

#endif
