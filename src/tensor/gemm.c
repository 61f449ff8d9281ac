/* gemm.c — the matrix product behind tensor:matmul and the layers. oneDNN's
 * sgemm is the default: it chooses AVX2 or AVX-512 kernels by the CPU's
 * instruction sets, where Debian's OpenBLAS 0.3.21 chooses by model number
 * and falls back to SSE3 kernels on newer processors; at the course's shapes
 * (64×3072·3072×64) it was also 1.5-3x faster than OpenBLAS's own best
 * kernel (bench/gemm_rates.c). NNLAB_GEMM=openblas uses OpenBLAS instead. */
#include "gemm.h"
#include "parallel.h"
#include "matmul_dnnl.h"

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
static int g_no_matmul = -1;

static int lib(void) {
  if (g_lib == LIB_UNSET) {
    g_no_matmul = getenv("NNLAB_NO_MATMUL") != NULL;
    const char *g = getenv("NNLAB_GEMM");
    g_lib = g && strcmp(g, "openblas") == 0 ? LIB_OPENBLAS : LIB_ONEDNN;
  }
  return g_lib;
}

/* oneDNN splits every product over all its threads, and at the course's
 * shapes (64×3072·3072×64, 12.6 million multiply-adds) its split gained
 * nothing on 2 threads. Products between these sizes are split here
 * instead (split_gemm), one block a thread, each block a one-thread sgemm:
 * the course's CIFAR-10 epoch went from 0.49 s to 0.27 s on 2 threads of an
 * AMD EPYC (bench_nn.sh). Smaller products stay on one thread, where waking
 * the partner costs more than it saves; larger ones go to oneDNN's split. */
#define GEMM_SPLIT_MIN 1000000.0
#define GEMM_PARALLEL_MIN 16000000.0

/* One product on the calling thread's share of the library: oneDNN's
 * matmul primitive when neither operand is transposed (matmul_dnnl.c says
 * why), else, or where that primitive is no faster, its sgemm. */
static void product(int tA, int tB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (!tA && !tB && !g_no_matmul && matmul_dnnl(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0)
    return;
  dnnl_sgemm(tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

enum { SPLIT_ROWS, SPLIT_COLS, SPLIT_DEPTH };

typedef struct {
  int tA, tB, how;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  const float *A, *B;
  float *C;
} Split;

/* Partial products of a depth split, one M×N block per thread but the
 * first, kept between calls (products are made by one thread at a time). */
static float *g_partial;
static int64_t g_partial_len;

/* One block of the product on one thread: inside the parallel region
 * oneDNN runs every call on the calling thread. */
static void split_block(void *ctx, int part, int64_t lo, int64_t hi) {
  const Split *g = ctx;
  int64_t n = hi - lo;
  if (g->how == SPLIT_ROWS)
    product(g->tA, g->tB, n, g->N, g->K, g->alpha, g->tA ? g->A + lo : g->A + lo * g->lda, g->lda,
            g->B, g->ldb, g->beta, g->C + lo * g->ldc, g->ldc);
  else if (g->how == SPLIT_COLS)
    product(g->tA, g->tB, g->M, n, g->K, g->alpha, g->A, g->lda,
            g->tB ? g->B + lo * g->ldb : g->B + lo, g->ldb, g->beta, g->C + lo, g->ldc);
  else {
    int64_t t = part;  /* thread t > 0 writes its partial product aside */
    float *C = t == 0 ? g->C : g_partial + (t - 1) * g->M * g->N;
    product(g->tA, g->tB, g->M, g->N, n, g->alpha, g->tA ? g->A + lo * g->lda : g->A + lo, g->lda,
            g->tB ? g->B + lo : g->B + lo * g->ldb, g->ldb, t == 0 ? g->beta : 0.0f, C,
            t == 0 ? g->ldc : g->N);
  }
}

/* Splits a product over the threads. A deep product (the course's
 * 64×3072·3072×64 forward) is split along K, and the threads' partial
 * products are added in thread order afterwards: each thread then reads
 * only its own rows of the weights, the same rows it computes the gradient
 * of and updates (optim.c splits tensors the same way), so no cache line of
 * the weights moves between cores. Other products are split along C's
 * longer side. Returns 0 when the product is better left unsplit. */
static int split_gemm(Split *g) {
  int nt = parallel_parts();  /* 1 inside a parallel region: no split */
  int64_t side = g->M >= g->N ? g->M : g->N;
  if (nt > 1 && g->K >= 4 * side && g->K >= 32 * nt) {
    int64_t step = parallel_range_len(g->K, nt, 16), need = (nt - 1) * g->M * g->N;
    if (need > g_partial_len) {
      float *p = realloc(g_partial, (size_t)need * sizeof(float));
      if (!p) return 0;
      g_partial = p, g_partial_len = need;
    }
    g->how = SPLIT_DEPTH;
    parallel_ranges(g->K, 0, 16, split_block, g);
    for (int64_t t = 1; t * step < g->K; t++)
      for (int64_t i = 0; i < g->M; i++) {
        const float *src = g_partial + (t - 1) * g->M * g->N + i * g->N;
        float *dst = g->C + i * g->ldc;
        for (int64_t j = 0; j < g->N; j++) dst[j] += src[j];
      }
    return 1;
  }
  if (nt <= 1 || side < 32 * nt) return 0;
  g->how = g->M >= g->N ? SPLIT_ROWS : SPLIT_COLS;
  parallel_ranges(side, 0, 16, split_block, g);
  return 1;
}

void gemm_f32(int tA, int tB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (lib() == LIB_ONEDNN) {
    double macs = (double)M * (double)N * (double)K;
    if (g_threads > 1 && macs >= GEMM_SPLIT_MIN && macs < GEMM_PARALLEL_MIN &&
        split_gemm(&(Split){tA, tB, 0, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C}))
      return;
    if (g_threads > 1 && macs < GEMM_PARALLEL_MIN) {
      omp_set_num_threads(1);
      product(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      omp_set_num_threads(g_threads);
    } else
      product(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* A product of 32³ is the smallest that has oneDNN write its sgemm
 * kernels (one of 1³ takes its reference path and writes none); with A
 * transposed, so that it goes to sgemm and not to the matmul primitive. */
void gemm_prepare(void) {
  static int done;
  static float a[32 * 32], b[32 * 32], c[32 * 32];
  if (!done) gemm_f32(1, 0, 32, 32, 32, 1.0f, a, 32, b, 32, 0.0f, c, 32);
  done = 1;
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
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* the matmul primitive is made of brgemm kernels from AVX-512 on (matmul_dnnl.c) */
    int mm = ((int)isa & (int)dnnl_cpu_isa_avx512_core) == (int)dnnl_cpu_isa_avx512_core;
    snprintf(buf, len, "matrix library: oneDNN %d.%d.%d sgemm%s, %s kernels, %d %s", v->major,
             v->minor, v->patch, mm && !g_no_matmul ? " and matmul" : "", isa_name(isa), g_threads,
             th);
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
