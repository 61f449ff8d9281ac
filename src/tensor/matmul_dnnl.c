/* matmul_dnnl.c — oneDNN's matmul primitive for the products gemm.c gives
 * it. On a processor with AVX-512, oneDNN builds that primitive from its
 * brgemm kernels, which ran the course's products faster than its sgemm
 * (one thread of a 2-core EPYC, GFLOP/s): the forward 64×1536·1536×64 at
 * 112 against 103, the weight gradient 1536×64·64×64 with beta = 0.9 at 104
 * against 98, and the output layer's 64×64·64×10 at 59 against 43. With
 * either operand transposed it was no faster, and without AVX-512 it is
 * sgemm underneath; gemm.c keeps sgemm for those.
 *
 * A primitive is made for one shape (sizes, strides and beta) and
 * kept: a table of MM_CACHE, searched under a lock, since the threads of a
 * split product look up their blocks at once. Each entry keeps one set of
 * memory objects per thread, pointed at the caller's arrays for each call,
 * so a call allocates nothing. A full table replaces its least recently
 * used entry that no thread is running. The same shape always runs the
 * same kernel, so results never depend on what the table holds. */
#include "matmul_dnnl.h"

#include <dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MM_CACHE 64
#define MM_THREADS 64  /* threads with memory objects of their own; others make them per call */

typedef struct {
  int64_t M, N, K, lda, ldb, ldc;
  float beta;
} MMKey;

typedef struct {
  MMKey key;
  int used;            /* 0: free slot */
  int busy;            /* threads running it now: it is not replaced meanwhile */
  int brgemm;          /* 0: oneDNN chose a gemm-based kernel (sgemm is as fast) */
  uint64_t last;       /* for replacement: the call count when last used */
  dnnl_primitive_t prim;
  dnnl_memory_desc_t md[4];          /* A, B, C and the kernel's scratch */
  int npad;                          /* 1 when the scratch is not empty */
  dnnl_memory_t mem[MM_THREADS][4];
} MMEntry;

static MMEntry g_cache[MM_CACHE];
static uint64_t g_calls;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t g_eng;
static dnnl_stream_t g_stream[MM_THREADS];  /* one a thread: a stream is not shared */

static int key_eq(const MMKey *a, const MMKey *b) {  /* field by field: the struct has padding */
  return a->M == b->M && a->N == b->N && a->K == b->K && a->lda == b->lda && a->ldb == b->ldb &&
         a->ldc == b->ldc && a->beta == b->beta;
}

static void entry_free(MMEntry *e) {
  for (int t = 0; t < MM_THREADS; t++)
    for (int i = 0; i < 4; i++)
      if (e->mem[t][i]) dnnl_memory_destroy(e->mem[t][i]);
  if (e->prim) dnnl_primitive_destroy(e->prim);
  memset(e, 0, sizeof *e);
}

/* Makes the primitive for k into e; e->brgemm stays 0 when oneDNN cannot
 * make one, or makes one that is sgemm underneath: those shapes go to
 * sgemm, and the entry remembers it. */
static void entry_make(MMEntry *e, const MMKey *k) {
  dnnl_dims_t da = {k->M, k->K}, db = {k->K, k->N}, dc = {k->M, k->N};
  dnnl_dims_t sa = {k->lda, 1}, sb = {k->ldb, 1}, sc = {k->ldc, 1};
  dnnl_matmul_desc_t d;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_desc_t pd = NULL;
  const char *impl = NULL;
  memset(e, 0, sizeof *e);
  e->key = *k;
  if (dnnl_memory_desc_init_by_strides(&e->md[0], 2, da, dnnl_f32, sa) ||
      dnnl_memory_desc_init_by_strides(&e->md[1], 2, db, dnnl_f32, sb) ||
      dnnl_memory_desc_init_by_strides(&e->md[2], 2, dc, dnnl_f32, sc) ||
      dnnl_matmul_desc_init(&d, &e->md[0], &e->md[1], NULL, &e->md[2]) ||
      dnnl_primitive_attr_create(&attr) ||
      dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) ||
      (k->beta != 0.0f && (dnnl_post_ops_create(&po) || dnnl_post_ops_append_sum(po, k->beta) ||
                           dnnl_primitive_attr_set_post_ops(attr, po))) ||
      dnnl_primitive_desc_create(&pd, &d, attr, g_eng, NULL) ||
      dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl))
    goto done;
  const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (pad && dnnl_memory_desc_get_size(pad)) e->md[3] = *pad, e->npad = 1;
  if (impl && strncmp(impl, "brg", 3) == 0 && dnnl_primitive_create(&e->prim, pd) == dnnl_success)
    e->brgemm = 1;
done:
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (po) dnnl_post_ops_destroy(po);
  if (attr) dnnl_primitive_attr_destroy(attr);
}

/* Runs e on thread t's memory objects (made on first use; the scratch is
 * oneDNN's own allocation, a few hundred bytes), or on objects made for
 * this call when t has none. */
static int run(MMEntry *e, int t, const float *A, const float *B, float *C) {
  dnnl_memory_t own[4] = {NULL, NULL, NULL, NULL}, *m = t < MM_THREADS ? e->mem[t] : own;
  dnnl_stream_t st = t < MM_THREADS ? g_stream[t] : NULL;
  void *p[4] = {(void *)A, (void *)B, C, DNNL_MEMORY_ALLOCATE};
  int rc = 0, n = 3 + e->npad;
  if (!st && dnnl_stream_create(&st, g_eng, dnnl_stream_default_flags)) return -1;
  if (t < MM_THREADS) g_stream[t] = st;
  for (int i = 0; i < n && !rc; i++) {
    if (!m[i]) rc = dnnl_memory_create(&m[i], &e->md[i], g_eng, p[i]) == dnnl_success ? 0 : -1;
    else if (i < 3) dnnl_memory_set_data_handle(m[i], p[i]);
  }
  if (!rc) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]},
                               {DNNL_ARG_SCRATCHPAD, m[3]}};
    rc = dnnl_primitive_execute(e->prim, st, n, args) == dnnl_success ? 0 : -1;
  }
  for (int i = 0; i < 4; i++) if (own[i]) dnnl_memory_destroy(own[i]);
  if (t >= MM_THREADS) dnnl_stream_destroy(st);
  return rc;
}

/* The table's entry for k, marked busy until release(): made when
 * missing, in a free slot or in place of the least recently used entry
 * that no thread is running. NULL when every entry is busy (more products
 * at once than the table holds, which nnlab never runs: a split product
 * has at most two shapes) or oneDNN has no engine. */
static MMEntry *acquire(const MMKey *k) {
  MMEntry *e = NULL, *spare = NULL, *oldest = NULL;
  pthread_mutex_lock(&g_lock);
  if (!g_eng && dnnl_engine_create(&g_eng, dnnl_cpu, 0)) g_eng = NULL;
  g_calls++;
  for (int i = 0; i < MM_CACHE && g_eng && !e; i++) {
    MMEntry *c = &g_cache[i];
    if (c->used && key_eq(&c->key, k)) e = c;
    else if (!c->used) spare = spare ? spare : c;
    else if (!c->busy && (!oldest || c->last < oldest->last)) oldest = c;
  }
  if (!e && (spare || oldest)) {
    e = spare ? spare : oldest;
    if (e->used) entry_free(e);
    entry_make(e, k);
    e->used = 1;
  }
  if (e) e->last = g_calls, e->busy++;
  pthread_mutex_unlock(&g_lock);
  return e;
}

static void release(MMEntry *e) {
  pthread_mutex_lock(&g_lock);
  e->busy--;
  pthread_mutex_unlock(&g_lock);
}

int matmul_dnnl(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  MMKey k = {M, N, K, lda, ldb, ldc, beta};
  if (M <= 0 || N <= 0 || K <= 0 || alpha != 1.0f) return -1;  /* nnlab multiplies by 1 only */
  MMEntry *e = acquire(&k);
  if (!e) return -1;
  int rc = e->brgemm ? run(e, omp_in_parallel() ? omp_get_thread_num() : 0, A, B, C) : -1;
  release(e);
  return rc;
}
