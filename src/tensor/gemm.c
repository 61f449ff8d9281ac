/* gemm.c — the matrix product behind tensor:matmul and the layers. oneDNN's
 * sgemm is the default: it chooses AVX2 or AVX-512 kernels by the CPU's
 * instruction sets, where Debian's OpenBLAS 0.3.21 chooses by model number
 * and falls back to SSE3 kernels on newer processors; at the course's shapes
 * (64×3072·3072×64) it was also 1.5-3x faster than OpenBLAS's own best
 * kernel (bench/gemm_rates.c). NNLAB_GEMM=openblas uses OpenBLAS instead. */
#include "gemm.h"

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int n);

enum { LIB_UNSET, LIB_ONEDNN, LIB_OPENBLAS };
static int g_lib = LIB_UNSET;
static int g_threads = 1;

static int lib(void) {
  if (g_lib == LIB_UNSET) {
    const char *g = getenv("NNLAB_GEMM");
    g_lib = g && strcmp(g, "openblas") == 0 ? LIB_OPENBLAS : LIB_ONEDNN;
  }
  return g_lib;
}

/* Products under this many multiply-adds run on one thread. oneDNN splits
 * every product over all its threads, and each split ends in a barrier:
 * when another process holds one of the cores, that barrier waits for the
 * scheduler, and the course's CIFAR-10 epoch (products of 12.6 million
 * multiply-adds) took 31 s on 2 threads against 1.7 s on one. Below this
 * size a second thread gains little even on an idle machine. */
#define GEMM_PARALLEL_MIN 16000000.0

void gemm_f32(int tA, int tB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (lib() == LIB_ONEDNN) {
    int serial = g_threads > 1 && (double)M * (double)N * (double)K < GEMM_PARALLEL_MIN;
    if (serial) omp_set_num_threads(1);
    dnnl_sgemm(tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (serial) omp_set_num_threads(g_threads);
  } else
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

static int env_threads(const char *name) {
  const char *s = getenv(name);
  char *end;
  long v = s ? strtol(s, &end, 10) : 0;
  return s && *s && (*end == 0 || *end == ',') && v > 0 && v <= 1024 ? (int)v : 0;
}

/* OpenMP's worker threads take the signal mask of the thread that starts
 * them, and they run oneDNN's JIT kernels, which point the stack pointer into
 * heap memory: a Ctrl-C delivered to one of them would push its signal frame
 * over malloc's bookkeeping. So the pool is started here with SIGINT blocked,
 * and Ctrl-C always reaches the main thread, whose handler runs on an
 * alternate stack (util/lua_interrupt.c). */
static volatile int g_pool;

static void start_pool(int n) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
#pragma omp parallel num_threads(n)
  g_pool = omp_get_num_threads(); /* a region with no work is optimized away */
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int gemm_set_threads(int n) {
  if (n <= 0) n = env_threads("OMP_NUM_THREADS");
  if (n <= 0) n = env_threads("OPENBLAS_NUM_THREADS");
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (int)c : 1;
  }
  g_threads = n;
  /* oneDNN's convolutions run on OpenMP whichever library does the products */
  omp_set_num_threads(n);
  start_pool(n);
  if (lib() == LIB_OPENBLAS) openblas_set_num_threads(n);
  return n;
}

const char *gemm_library(void) { return lib() == LIB_ONEDNN ? "oneDNN" : "OpenBLAS"; }

static const char *isa_name(dnnl_cpu_isa_t isa) {
  switch ((int)isa) {
  case dnnl_cpu_isa_sse41: return "SSE4.1";
  case dnnl_cpu_isa_avx: return "AVX";
  case dnnl_cpu_isa_avx2: return "AVX2";
  case dnnl_cpu_isa_avx2_vnni: return "AVX2 VNNI";
  case dnnl_cpu_isa_avx512_core: return "AVX-512";
  case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 VNNI";
  case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 BF16";
  case dnnl_cpu_isa_avx512_core_amx: return "AVX-512 AMX";
  default: return "generic";
  }
}

static int env_set(const char *name) {
  const char *s = getenv(name);
  return s && *s;
}

void gemm_describe(char *buf, size_t len) {
  const char *th = g_threads == 1 ? "thread" : "threads";
  if (lib() == LIB_ONEDNN) {
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, len, "matrix library: oneDNN %d.%d.%d sgemm, %s kernels, %d %s", v->major,
             v->minor, v->patch, isa_name(dnnl_get_effective_cpu_isa()), g_threads, th);
  } else {
    const char *cfg = openblas_get_config();
    const char *ver = strstr(cfg, "OpenBLAS ");
    char vbuf[32] = "";
    if (ver) sscanf(ver + 9, "%31s", vbuf);
    snprintf(buf, len, "matrix library: OpenBLAS %s, %s kernels (%s), %d %s", vbuf,
             openblas_get_corename(),
             env_set("OPENBLAS_CORETYPE") ? "from OPENBLAS_CORETYPE" : "OpenBLAS's own choice",
             g_threads, th);
  }
}
