/* main.c — the nnlab command line: parses options (SPEC section 2) and hands
 * them to the host. Unknown options get a usage message and exit status 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "gemm.h"
#include "host.h"
#include "threads.h"

#define STR(x) #x
#define XSTR(x) STR(x)

static const char USAGE[] =
  "usage: nnlab [options] [script.lua [args...]]\n"
  "  (no script)        interactive REPL (reads standard input when it is not a terminal)\n"
  "  -e STAT            run a Lua statement (repeatable)\n"
  "  -i                 enter the REPL after the script\n"
  "  --check            run lessons' lesson.expect checks, each lesson in its own process;\n"
  "                     exit 1 if any fails\n"
  "    --junit FILE     also write the results as JUnit XML (one testsuite per lesson)\n"
  "    --json FILE      also write them as JSON\n"
  "    --timeout S      per-lesson time limit in seconds (default " XSTR(NNLAB_CHECK_TIMEOUT) "; 0: none)\n"
  "    --max-memory MB  per-lesson memory limit (default " XSTR(NNLAB_CHECK_MAX_MEMORY) "; 0: none)\n"
  "    --sandbox        lessons cannot run programs, load C code or write outside --out\n"
  "  --quick            lessons use their small, fast configuration (lesson.quick)\n"
  "  --traceback        show the full Lua traceback of every error\n"
  "  --render FILE      write the lesson as a workbook page (FILE.md, FILE.html or FILE.ipynb)\n"
  "  --kernel CONN      run as a Jupyter kernel on that connection file\n"
  "  --install-kernel [--user | --prefix P]   install the Jupyter kernel spec\n"
  "  --plot MODE        window | png | svg | dumb | none\n"
  "  --out DIR          where plots and rendered files go (default out/<script>)\n"
  "  --seed N           seed of every random generator (default 42)\n"
  "  --threads N        matrix library and kernel threads (default: OMP_NUM_THREADS, else all cores)\n"
  "  --lang es|en       lesson prose language (default from LANG, else es)\n"
  "  -h, --help         this message\n"
  "  --version          the version, the matrix library, its kernels and threads\n";

static int usage_error(const char *fmt, const char *what) {
  fprintf(stderr, "nnlab: ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n%s", USAGE);
  return 2;
}

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* The version, and what the computations run on: the matrix library, its
 * kernels and threads, the processor, and the floating-point mode. */
static int print_version(int threads) {
  char lib[256], cpu[64];
  nnlab_set_threads(threads);
  gemm_describe(lib, sizeof lib);
  cpu_model_name(cpu, sizeof cpu);
  printf("nnlab %s (%s)\n%s\nprocessor: %s (%s); subnormal floats %s\n", NNLAB_VERSION,
         LUA_RELEASE, lib, cpu, cpu_vector_isa(),
         cpu_flushes_subnormals() ? "flushed to zero" : "kept");
  return 0;
}

/* The grading options of --check. Returns -1 when `a` is not one of them,
 * 0 when it was (*used set when it took `val`), else an exit status. */
static int parse_check_option(HostOptions *o, const char *a, const char *val, int *used) {
  char *end;
  *used = 0;
  if (strcmp(a, "--sandbox") == 0) {
    o->sandbox = 1;
    return 0;
  }
  if (strcmp(a, "--junit") && strcmp(a, "--json") && strcmp(a, "--timeout") && strcmp(a, "--max-memory")) return -1;
  if (!val) return usage_error("option '%s' needs a value", a);
  *used = 1;
  if (strcmp(a, "--junit") == 0) o->junit = val;
  else if (strcmp(a, "--json") == 0) o->json = val;
  else if (strcmp(a, "--timeout") == 0) {
    double s = strtod(val, &end);
    if (!*val || *end || !(s >= 0 && s <= 1e7))
      return usage_error("--timeout expects seconds (a number >= 0, 0 for no limit), got '%s'", val);
    o->timeout = s;
  } else {
    long mb;
    if (parse_int(val, 0, 1L << 30, &mb))
      return usage_error("--max-memory expects megabytes (an integer >= 0, 0 for no limit), got '%s'", val);
    o->max_memory = mb;
  }
  return 0;
}

/* Fills o from argv; returns -1 to go on and run, or an exit status. */
static int parse_args(HostOptions *o_, int argc, char **argv) {
  HostOptions o = *o_;
  int i, version = 0, grading = 0;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    int rc, used;
    if (a[0] != '-' || strcmp(a, "-") == 0) break;
    if ((rc = parse_check_option(&o, a, val, &used)) >= 0) {
      if (rc > 0) return rc;
      grading = 1;
      i += used;
      continue;
    }
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fputs(USAGE, stdout); return 0; }
    if (strcmp(a, "--version") == 0) { version = 1; continue; }
    if (strcmp(a, "-i") == 0) { o.interactive = 1; continue; }
    if (strcmp(a, "--check") == 0) { o.check = 1; continue; }
    if (strcmp(a, "--quick") == 0) { o.quick = 1; continue; }
    if (strcmp(a, "--traceback") == 0) { o.traceback = 1; continue; }
    if (strcmp(a, "--install-kernel") == 0) { o.install_kernel = "system"; continue; }
    if (strcmp(a, "--user") == 0) { o.kernel_user = 1; continue; }
    /* options that take a value */
    if (strcmp(a, "-e") && strcmp(a, "--render") && strcmp(a, "--kernel") && strcmp(a, "--prefix") &&
        strcmp(a, "--plot") && strcmp(a, "--out") &&
        strcmp(a, "--seed") && strcmp(a, "--threads") && strcmp(a, "--lang"))
      return usage_error("unknown option '%s'", a);
    if (!val) return usage_error("option '%s' needs a value", a);
    i++;
    if (strcmp(a, "-e") == 0) o.exec[o.nexec++] = val;
    else if (strcmp(a, "--render") == 0) o.render = val;
    else if (strcmp(a, "--kernel") == 0) o.kernel = val;
    else if (strcmp(a, "--prefix") == 0) o.kernel_prefix = val;
    else if (strcmp(a, "--out") == 0) o.out = val;
    else if (strcmp(a, "--plot") == 0) {
      if (strcmp(val, "window") && strcmp(val, "png") && strcmp(val, "svg") && strcmp(val, "dumb") &&
          strcmp(val, "none"))
        return usage_error("--plot expects window, png, svg, dumb or none, got '%s'", val);
      o.plot = val;
    } else if (strcmp(a, "--lang") == 0) {
      if (strcmp(val, "es") && strcmp(val, "en"))
        return usage_error("--lang expects es or en, got '%s'", val);
      o.lang = val;
    } else if (strcmp(a, "--seed") == 0) {
      if (parse_int(val, 0, 2147483647L, &n)) return usage_error("--seed expects an integer >= 0, got '%s'", val);
      o.seed = n;
    } else {
      if (parse_int(val, 1, 1024, &n)) return usage_error("--threads expects an integer from 1 to 1024, got '%s'", val);
      o.threads = (int)n;
    }
  }
  if (o.kernel_user && o.kernel_prefix) return usage_error("%s", "--user and --prefix exclude each other");
  if ((o.kernel_user || o.kernel_prefix) && !o.install_kernel)
    return usage_error("%s", "--user and --prefix go with --install-kernel");
  if (o.kernel_user) o.install_kernel = "user";
  if (o.kernel_prefix) o.install_kernel = o.kernel_prefix;
  if (grading && !o.check)
    return usage_error("%s", "--junit, --json, --timeout, --max-memory and --sandbox go with --check");
  if (i < argc) {
    /* with --check every remaining argument is a lesson to check */
    if (o.check) while (i < argc) o.scripts[o.nscripts++] = argv[i++];
    else o.scripts[o.nscripts++] = argv[i++];
  }
  if (version) return print_version(o.threads);
  o.args = (const char **)argv + i;
  o.nargs = argc - i;
  *o_ = o;
  return -1;
}

/* OpenMP's threads (oneDNN's convolutions and larger products) wait for
 * each other at the end of every parallel step. By default libgomp spins
 * there for 300,000 turns before sleeping: when another process holds one
 * of the cores, the spinning thread takes the time its partner needs, and
 * lesson 04's epochs went from 12 s to 90-150 s on a 2-core machine running
 * a compiler. Measured there on 3,000 images (docs/hacking.md):
 * spinning 300,000 turns 0.7-0.8 s an epoch when quiet, 9-12 s when busy;
 * OMP_WAIT_POLICY=passive 0.9-1.0 s / 1.8 s; 1,000 turns 0.7-0.8 s / 1.9 s.
 * libgomp reads its environment before main() runs, so nnlab starts itself
 * again once with GOMP_SPINCOUNT=1000 (same process, same arguments),
 * unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT set). */
static void settle_openmp_wait(char **argv) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  if (setenv("GOMP_SPINCOUNT", "1000", 1)) return;
  execv("/proc/self/exe", argv); /* returns only when it failed: go on as we are */
}

int main(int argc, char **argv) {
  HostOptions o;
  int status;
  settle_openmp_wait(argv);
  memset(&o, 0, sizeof o);
  o.seed = 42;
  o.timeout = NNLAB_CHECK_TIMEOUT;
  o.max_memory = NNLAB_CHECK_MAX_MEMORY;
  o.progname = argv[0];
  o.exec = calloc((size_t)argc + 1, sizeof *o.exec);
  o.scripts = calloc((size_t)argc + 1, sizeof *o.scripts);
  const char *lib = getenv("NNLAB_GEMM");
  if (lib && *lib && strcmp(lib, "onednn") && strcmp(lib, "openblas")) {
    fprintf(stderr, "nnlab: NNLAB_GEMM expects onednn or openblas, got '%s'\n", lib);
    status = 2;
  } else if (!o.exec || !o.scripts) status = 1;
  else if ((status = parse_args(&o, argc, argv)) < 0) status = host_run(&o);
  free(o.exec);
  free(o.scripts);
  return status;
}
