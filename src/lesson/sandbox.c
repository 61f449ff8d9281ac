/* sandbox.c — resource limits, Landlock and a seccomp filter for a checked
 * lesson (and for the gnuplot that draws its plots afterwards). Landlock is
 * used through its system calls (Debian 12 ships no liblandlock); the ABI
 * version the kernel reports decides which rights are handled. The seccomp
 * filter allows everything but what a lesson never needs, so a refused call
 * fails with EPERM instead of killing the process. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rights and fields newer than Debian 12's kernel headers (ABI 3 to 6). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* landlock_ruleset_attr as of ABI 6; older kernels are given a prefix. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

int sandbox_landlock_abi(void) {
#ifdef SYS_landlock_create_ruleset
  long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v > 0 ? (int)v : 0;
#else
  return 0;
#endif
}

/* Creating, writing, truncating, renaming and removing files; executing. */
static uint64_t fs_rights(int abi) {
  uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
               LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
               LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
               LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  return r;
}

#ifdef SYS_landlock_create_ruleset
static int add_beneath(int ruleset, const char *path, uint64_t rights) {
  struct landlock_path_beneath_attr pb;
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return -1;
  pb.allowed_access = rights;
  pb.parent_fd = fd;
  int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
  close(fd);
  return rc;
}
#endif

/* Files may be written only beneath write_dir (and /dev/null); nothing may
 * be executed unless exec is allowed; no TCP (ABI 4); no signals to, nor
 * abstract sockets of, processes outside the sandbox (ABI 6). Returns the
 * ABI used, 0 when the kernel has no Landlock, -1 on failure. Landlock
 * restricts the calling thread and what it starts later: threads that exist
 * already (BLAS workers, which only compute) keep their rights. */
static int apply_landlock(const char *write_dir, int allow_exec, char *err) {
#ifndef SYS_landlock_create_ruleset
  (void)write_dir, (void)allow_exec, (void)err;
  return 0;
#else
  int abi = sandbox_landlock_abi();
  if (abi <= 0) return 0;
  struct ll_ruleset_attr attr = {0};
  size_t size = sizeof attr.handled_access_fs;
  attr.handled_access_fs = fs_rights(abi);
  if (allow_exec) attr.handled_access_fs &= ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
  if (abi >= 4) {
    attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    size = offsetof(struct ll_ruleset_attr, scoped);
  }
  if (abi >= 6) {
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) {
    snprintf(err, SANDBOX_ERRLEN, "landlock: cannot create a ruleset: %s", strerror(errno));
    return -1;
  }
  uint64_t write = attr.handled_access_fs &
                   (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER |
                    LANDLOCK_ACCESS_FS_TRUNCATE);
  if (write_dir && add_beneath(rs, write_dir, write) != 0) {
    snprintf(err, SANDBOX_ERRLEN, "landlock: cannot allow writing in %.300s: %s", write_dir, strerror(errno));
    close(rs);
    return -1;
  }
  add_beneath(rs, "/dev/null", LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0));
  int rc = (int)syscall(SYS_landlock_restrict_self, rs, 0);
  int e = errno;
  close(rs);
  if (rc != 0) {
    snprintf(err, SANDBOX_ERRLEN, "landlock: cannot restrict the process: %s", strerror(e));
    return -1;
  }
  return abi;
#endif
}

/* Tasks (threads included) whose real user is this process's: what
 * RLIMIT_NPROC is compared with. */
static long user_tasks(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  long n = 0;
  uid_t me = getuid();
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) {
    char path[300], line[256];
    long uid = -1, threads = 0;
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "Uid:", 4) == 0) uid = strtol(line + 4, NULL, 10);
      else if (strncmp(line, "Threads:", 8) == 0) threads = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    if (uid == (long)me) n += threads;
  }
  closedir(d);
  return n;
}

static void set_limit(int resource, rlim_t v) {
  struct rlimit r = {v, v};
  setrlimit(resource, &r);
}

/* The margin of tasks a sandboxed lesson may add: data loading and BLAS
 * threads; a process (refused anyway by seccomp) would count too. */
#define NPROC_MARGIN 64

static void apply_rlimits(const SandboxSpec *s) {
  long tasks = user_tasks();
  set_limit(RLIMIT_CORE, 0);
  if (s->max_file_bytes > 0) set_limit(RLIMIT_FSIZE, (rlim_t)s->max_file_bytes);
  if (tasks > 0) set_limit(RLIMIT_NPROC, (rlim_t)(tasks + NPROC_MARGIN));
}

typedef struct {
  int nr;
  const char *name;
} Sys;

/* Refused outright: new programs and processes (clone is refused below
 * unless it makes a thread), tracing and reading or writing another
 * process's memory, every socket, and the calls that change what the
 * process sees of the system. */
static const Sys DENY[] = {
  {SCMP_SYS(execveat), "execveat"},       {SCMP_SYS(fork), "fork"},
  {SCMP_SYS(vfork), "vfork"},             {SCMP_SYS(ptrace), "ptrace"},
  {SCMP_SYS(process_vm_readv), "process_vm_readv"}, {SCMP_SYS(process_vm_writev), "process_vm_writev"},
  {SCMP_SYS(socket), "socket"},           {SCMP_SYS(mount), "mount"},
  {SCMP_SYS(umount2), "umount2"},         {SCMP_SYS(pivot_root), "pivot_root"},
  {SCMP_SYS(chroot), "chroot"},           {SCMP_SYS(unshare), "unshare"},
  {SCMP_SYS(setns), "setns"},             {SCMP_SYS(bpf), "bpf"},
  {SCMP_SYS(perf_event_open), "perf_event_open"}, {SCMP_SYS(userfaultfd), "userfaultfd"},
  {SCMP_SYS(io_uring_setup), "io_uring_setup"},   {SCMP_SYS(keyctl), "keyctl"},
  {SCMP_SYS(add_key), "add_key"},         {SCMP_SYS(request_key), "request_key"},
  {SCMP_SYS(kexec_load), "kexec_load"},   {SCMP_SYS(init_module), "init_module"},
  {SCMP_SYS(finit_module), "finit_module"}, {SCMP_SYS(delete_module), "delete_module"},
};

static int apply_seccomp(const char *exec_path, char *err) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  int rc;
  if (!ctx) {
    snprintf(err, SANDBOX_ERRLEN, "seccomp: cannot create a filter");
    return -1;
  }
  /* every thread, BLAS workers included, gets the same filter */
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc == 0 && exec_path)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 1,
                          SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)(uintptr_t)exec_path));
  else if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
  /* clone makes a process unless CLONE_THREAD is set; clone3 passes its
   * flags in memory a filter cannot read, so it is "not implemented" and
   * glibc's pthread_create falls back to clone */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD, 0));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  for (size_t i = 0; rc == 0 && i < sizeof DENY / sizeof DENY[0]; i++) {
    if (DENY[i].nr < 0) continue; /* not a system call of this architecture */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), DENY[i].nr, 0);
    if (rc != 0) snprintf(err, SANDBOX_ERRLEN, "seccomp: cannot refuse %s: %s", DENY[i].name, strerror(-rc));
  }
  if (rc == 0) {
    rc = seccomp_load(ctx);
    if (rc != 0) snprintf(err, SANDBOX_ERRLEN, "seccomp: cannot load the filter: %s", strerror(-rc));
  } else if (!*err) {
    snprintf(err, SANDBOX_ERRLEN, "seccomp: cannot build the filter: %s", strerror(-rc));
  }
  seccomp_release(ctx);
  return rc == 0 ? 0 : -1;
}

int sandbox_apply(const SandboxSpec *s, char *done, size_t donelen, char *err) {
  int abi;
  *err = 0;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    snprintf(err, SANDBOX_ERRLEN, "cannot set no_new_privs: %s", strerror(errno));
    return -1;
  }
  apply_rlimits(s);
  abi = apply_landlock(s->write_dir, s->exec_path != NULL, err);
  if (abi < 0) return -1;
  if (apply_seccomp(s->exec_path, err) != 0) return -1;
  if (done) {
    if (abi > 0) snprintf(done, donelen, "seccomp, landlock v%d, rlimits", abi);
    else snprintf(done, donelen, "seccomp, rlimits (this kernel has no landlock)");
  }
  return 0;
}

/* VmData of /proc/self/status, in bytes; -1 when unreadable. */
static long long vm_data(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmData:", 7) == 0) kb = strtoll(line + 7, NULL, 10);
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

int sandbox_limit_data(long long extra_bytes, char *err) {
  long long now = vm_data();
  if (now < 0) {
    snprintf(err, SANDBOX_ERRLEN, "cannot read /proc/self/status to set the memory limit: %s", strerror(errno));
    return -1;
  }
  struct rlimit r = {(rlim_t)(now + extra_bytes), (rlim_t)(now + extra_bytes)};
  if (setrlimit(RLIMIT_DATA, &r) != 0) {
    snprintf(err, SANDBOX_ERRLEN, "cannot set the memory limit: %s", strerror(errno));
    return -1;
  }
  return 0;
}
