/* sandbox.h — the operating-system half of `nnlab --check --sandbox` and the
 * limits every checked lesson runs under. Resource limits (setrlimit), a
 * Landlock ruleset where the kernel has one (files may be created or written
 * only beneath one folder) and a seccomp filter through libseccomp (no
 * programs, no new processes but threads, no sockets, no ptrace). Everything
 * here is for the calling process and whatever it starts afterwards, and
 * cannot be undone. Knows nothing of Lua; functions return 0, or -1 with a
 * message in err (SANDBOX_ERRLEN bytes). */
#ifndef NNLAB_SANDBOX_H
#define NNLAB_SANDBOX_H

#include <stddef.h>

#define SANDBOX_ERRLEN 512

typedef struct SandboxSpec {
  /* The one folder where files may be created, written, renamed or removed
   * (Landlock); it must exist. NULL: nowhere. */
  const char *write_dir;
  /* Largest file the process may write (RLIMIT_FSIZE), in bytes; 0 leaves it. */
  long long max_file_bytes;
  /* NULL: execve is refused. Otherwise the one execve allowed is the call
   * whose path argument is this very pointer (the jail that starts gnuplot
   * passes the string it then hands to execve); new processes stay refused,
   * so the program started cannot start another. */
  const char *exec_path;
} SandboxSpec;

/* Applies the spec to this process: no new privileges, RLIMIT_CORE 0,
 * RLIMIT_FSIZE, RLIMIT_NPROC (this user's tasks now plus a margin: ignored
 * for root), Landlock when the kernel offers it, then the seccomp filter on
 * every thread. `done` (may be NULL) receives a one-line account of the
 * layers applied, such as "seccomp, landlock v7, rlimits". Fails when the
 * seccomp filter cannot be loaded (the caller must then not run the lesson). */
int sandbox_apply(const SandboxSpec *s, char *done, size_t donelen, char *err);

/* The Landlock ABI version the kernel offers; 0 when it has none. */
int sandbox_landlock_abi(void);

/* Limits the private writable memory of the process (RLIMIT_DATA: the heap,
 * anonymous mappings, thread stacks) to what it uses now plus extra_bytes,
 * so that what BLAS threads reserved at start-up is not counted against a
 * lesson. */
int sandbox_limit_data(long long extra_bytes, char *err);

#endif
