/* conv_bench.c — times the convolutions of lesson 04's network (input
 * 32×32×3, batch 64; Conv2D 5×5 with 16, 20, 20 filters, padding 2, each
 * block followed by a 2×2 max pooling) with two engines on the same
 * channels-last data:
 *   im2col        nnlab's im2col + one gemm_f32 (OpenBLAS) engine (conv2d.c)
 *   onednn        nnlab's oneDNN engine (conv2d_dnnl.c): oneDNN's layouts,
 *                 images converted from and to NHWC by nnlab at each call
 *   dnnl-nhwc     oneDNN's primitives on NHWC images and Keras's HWIO weights
 *                 as they are (no conversions; oneDNN then falls back on gemm)
 *   dnnl-blocked  oneDNN's primitives in the layouts they pick, with oneDNN's
 *                 own reorders from and to NHWC
 * For each layer: forward, backward for weights and bias, backward for the
 * input (not for the first layer, whose input needs no gradient), as PyTorch
 * does in training. Prints one line per engine and layer with the median
 * milliseconds of each part over REPS runs:
 *   conv <engine> <layer> fwd=.. bwd_w=.. bwd_x=.. total=.. scratch_mb=.. impl=..
 * and the largest difference between the two engines' results.
 * Threads: OPENBLAS_NUM_THREADS for im2col, OMP_NUM_THREADS for oneDNN;
 * CONV_BENCH_CLOCK=cpu times CPU instead of wall-clock time.
 * Results of every engine are compared with im2col's ("agree" lines).
 * Usage: conv_bench [REPS] */
#include "nn/conv2d.h"

#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NLAYERS 3
static const int64_t BATCH = 64, SIZE[NLAYERS] = {32, 16, 8}, CIN[NLAYERS] = {3, 16, 20},
                     FILT[NLAYERS] = {16, 20, 20}, K = 5, PAD = 2;

/* Wall time; CONV_BENCH_CLOCK=cpu counts the process's CPU time instead,
 * steadier on a busy machine when one thread runs. */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *randn(int64_t n, float scale) {
  float *p = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; i++) p[i] = scale * (float)((rand() / (double)RAND_MAX) * 2 - 1);
  return p;
}

static void dnnl_check(dnnl_status_t s, const char *what) {
  if (s != dnnl_success) {
    fprintf(stderr, "conv_bench: %s failed (oneDNN status %d)\n", what, (int)s);
    exit(1);
  }
}

static double maxdiff(const float *a, const float *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

typedef struct {
  float *x, *w, *b, *dy;                 /* inputs */
  float *y[2], *dx[2], *dw[2], *db[2];   /* results of each engine */
  int64_t nx, nw, ny, F;
  int index, dx_wanted;                  /* 1-based; whether the input needs a gradient */
} Layer;

/* A user buffer in nnlab's layout (NHWC / HWIO) and, when the primitive
 * wants another layout, its own memory and the reorders between the two. */
typedef struct {
  dnnl_memory_t user, prim;        /* prim == user when no reorder is needed */
  dnnl_primitive_t to_prim, to_user;
} Arg;

static Arg arg_make(const dnnl_memory_desc_t *user_md, void *data, const dnnl_memory_desc_t *want,
                    dnnl_engine_t eng) {
  Arg a = {0};
  dnnl_check(dnnl_memory_create(&a.user, user_md, eng, data), "memory");
  if (dnnl_memory_desc_equal(user_md, want)) {
    a.prim = a.user;
    return a;
  }
  dnnl_check(dnnl_memory_create(&a.prim, want, eng, DNNL_MEMORY_ALLOCATE), "memory");
  dnnl_primitive_desc_t pd;
  dnnl_check(dnnl_reorder_primitive_desc_create(&pd, user_md, eng, want, eng, NULL), "reorder");
  dnnl_check(dnnl_primitive_create(&a.to_prim, pd), "reorder");
  dnnl_primitive_desc_destroy(pd);
  dnnl_check(dnnl_reorder_primitive_desc_create(&pd, want, eng, user_md, eng, NULL), "reorder");
  dnnl_check(dnnl_primitive_create(&a.to_user, pd), "reorder");
  dnnl_primitive_desc_destroy(pd);
  return a;
}

static void arg_free(Arg *a) {
  if (a->prim != a->user) dnnl_memory_destroy(a->prim);
  dnnl_memory_destroy(a->user);
  if (a->to_prim) dnnl_primitive_destroy(a->to_prim);
  if (a->to_user) dnnl_primitive_destroy(a->to_user);
}

/* Copies between the user's layout and the primitive's (no-op when equal). */
static void arg_sync(const Arg *a, int to_prim, dnnl_stream_t st) {
  dnnl_primitive_t r = to_prim ? a->to_prim : a->to_user;
  if (!r) return;
  dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, to_prim ? a->user : a->prim},
                            {DNNL_ARG_TO, to_prim ? a->prim : a->user}};
  dnnl_check(dnnl_primitive_execute(r, st, 2, args), "reorder run");
}

/* oneDNN on one layer. blocked = 0: the primitives work on NHWC and HWIO as
 * they are; blocked = 1: oneDNN picks its layouts (format "any") and the
 * reorders from and to nnlab's layouts are timed with each part. */
static void run_dnnl(Layer *L, const Conv2DGeom *g, int blocked, int reps, double *tf, double *tw,
                     double *tx, double *tt, dnnl_engine_t eng, dnnl_stream_t stream) {
  int want_dx = L->dx_wanted;
  dnnl_memory_desc_t xmd, wmd, bmd, ymd, xany, wany, yany;
  dnnl_dims_t xd = {g->N, g->C, g->H, g->W}, wd = {g->F, g->C, g->KH, g->KW}, bd = {g->F},
              yd = {g->N, g->F, g->OH, g->OW};
  dnnl_dims_t strides = {g->SH, g->SW}, pl = {g->PT, g->PL},
              pr = {(g->OH - 1) * g->SH + g->KH - g->H - g->PT,
                    (g->OW - 1) * g->SW + g->KW - g->W - g->PL};
  dnnl_check(dnnl_memory_desc_init_by_tag(&xmd, 4, xd, dnnl_f32, dnnl_nhwc), "md x");
  dnnl_check(dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_hwio), "md w");
  dnnl_check(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a), "md b");
  dnnl_check(dnnl_memory_desc_init_by_tag(&ymd, 4, yd, dnnl_f32, dnnl_nhwc), "md y");
  dnnl_format_tag_t any = dnnl_format_tag_any;
  dnnl_check(dnnl_memory_desc_init_by_tag(&xany, 4, xd, dnnl_f32, blocked ? any : dnnl_nhwc), "md");
  dnnl_check(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, blocked ? any : dnnl_hwio), "md");
  dnnl_check(dnnl_memory_desc_init_by_tag(&yany, 4, yd, dnnl_f32, blocked ? any : dnnl_nhwc), "md");
  dnnl_convolution_desc_t fd, bdd, bwd;
  dnnl_check(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                                &xany, &wany, &bmd, &yany, strides, pl, pr),
             "forward desc");
  dnnl_check(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &xany, &wany,
                                                      &yany, strides, pl, pr),
             "backward data desc");
  dnnl_check(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &xany,
                                                         &wany, &bmd, &yany, strides, pl, pr),
             "backward weights desc");
  dnnl_primitive_desc_t fpd, bdpd, bwpd;
  dnnl_check(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL), "forward pd");
  dnnl_check(dnnl_primitive_desc_create(&bdpd, &bdd, NULL, eng, fpd), "backward data pd");
  dnnl_check(dnnl_primitive_desc_create(&bwpd, &bwd, NULL, eng, fpd), "backward weights pd");
  const char *impl[3];
  int64_t mem[3];
  dnnl_primitive_desc_t pds[3] = {fpd, bwpd, bdpd};
  for (int i = 0; i < 3; i++) {
    dnnl_primitive_desc_query(pds[i], dnnl_query_impl_info_str, 0, &impl[i]);
    dnnl_primitive_desc_query(pds[i], dnnl_query_memory_consumption_s64, 0, &mem[i]);
  }
  dnnl_primitive_t fp, bdp, bwp;
  dnnl_check(dnnl_primitive_create(&fp, fpd), "forward");
  dnnl_check(dnnl_primitive_create(&bdp, bdpd), "backward data");
  dnnl_check(dnnl_primitive_create(&bwp, bwpd), "backward weights");
#define MD(pd, q) dnnl_primitive_desc_query_md(pd, q, 0)
  /* every tensor, once per primitive that reads or writes it */
  Arg fx = arg_make(&xmd, L->x, MD(fpd, dnnl_query_src_md), eng),
      fw = arg_make(&wmd, L->w, MD(fpd, dnnl_query_weights_md), eng),
      fy = arg_make(&ymd, L->y[1], MD(fpd, dnnl_query_dst_md), eng),
      wx = arg_make(&xmd, L->x, MD(bwpd, dnnl_query_src_md), eng),
      wdy = arg_make(&ymd, L->dy, MD(bwpd, dnnl_query_diff_dst_md), eng),
      wdw = arg_make(&wmd, L->dw[1], MD(bwpd, dnnl_query_diff_weights_md), eng),
      dw = arg_make(&wmd, L->w, MD(bdpd, dnnl_query_weights_md), eng),
      ddy = arg_make(&ymd, L->dy, MD(bdpd, dnnl_query_diff_dst_md), eng),
      ddx = arg_make(&xmd, L->dx[1], MD(bdpd, dnnl_query_diff_src_md), eng);
  dnnl_memory_t mb, mdb;
  dnnl_check(dnnl_memory_create(&mb, &bmd, eng, L->b), "mem");
  dnnl_check(dnnl_memory_create(&mdb, &bmd, eng, L->db[1]), "mem");
  dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, fx.prim}, {DNNL_ARG_WEIGHTS, fw.prim},
                          {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, fy.prim}};
  dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, wx.prim}, {DNNL_ARG_DIFF_DST, wdy.prim},
                          {DNNL_ARG_DIFF_WEIGHTS, wdw.prim}, {DNNL_ARG_DIFF_BIAS, mdb}};
  dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, ddy.prim}, {DNNL_ARG_WEIGHTS, dw.prim},
                          {DNNL_ARG_DIFF_SRC, ddx.prim}};
  for (int r = -3; r < reps; r++) {
    double t0 = now();
    arg_sync(&fx, 1, stream);
    arg_sync(&fw, 1, stream);
    dnnl_check(dnnl_primitive_execute(fp, stream, 4, fa), "forward run");
    arg_sync(&fy, 0, stream);
    dnnl_stream_wait(stream);
    double t1 = now();
    /* the forward's reordered input is the same when both want one layout */
    if (!dnnl_memory_desc_equal(MD(fpd, dnnl_query_src_md), MD(bwpd, dnnl_query_src_md)))
      arg_sync(&wx, 1, stream);
    else if (wx.to_prim) {
      wa[0].memory = fx.prim;
    }
    arg_sync(&wdy, 1, stream);
    dnnl_check(dnnl_primitive_execute(bwp, stream, 4, wa), "backward weights run");
    arg_sync(&wdw, 0, stream);
    dnnl_stream_wait(stream);
    double t2 = now();
    if (want_dx) {
      arg_sync(&dw, 1, stream);
      if (!dnnl_memory_desc_equal(MD(bdpd, dnnl_query_diff_dst_md), MD(bwpd, dnnl_query_diff_dst_md)))
        arg_sync(&ddy, 1, stream);
      else if (ddy.to_prim)
        da[0].memory = wdy.prim;
      dnnl_check(dnnl_primitive_execute(bdp, stream, 3, da), "backward data run");
      arg_sync(&ddx, 0, stream);
      dnnl_stream_wait(stream);
    }
    double t3 = now();
    if (r >= 0) {
      tf[r] = t1 - t0;
      tw[r] = t2 - t1;
      tx[r] = t3 - t2;
      tt[r] = t3 - t0;
    }
  }
#undef MD
  printf("conv %s %d fwd=%.3f bwd_w=%.3f bwd_x=%.3f total=%.3f scratch_mb=%.1f impl=%s/%s/%s\n",
         blocked ? "dnnl-blocked" : "dnnl-nhwc", L->index, 1e3 * median(tf, reps),
         1e3 * median(tw, reps), 1e3 * median(tx, reps), 1e3 * median(tt, reps),
         (mem[0] + mem[1] + (want_dx ? mem[2] : 0)) / 1048576.0, impl[0], impl[1],
         want_dx ? impl[2] : "-");
  printf("conv agree-%s %d y=%.2g dW=%.2g db=%.2g dx=%.2g\n", blocked ? "blocked" : "nhwc",
         L->index, maxdiff(L->y[0], L->y[1], L->ny), maxdiff(L->dw[0], L->dw[1], L->nw),
         maxdiff(L->db[0], L->db[1], L->F), want_dx ? maxdiff(L->dx[0], L->dx[1], L->nx) : 0.0);
  Arg *args[] = {&fx, &fw, &fy, &wx, &wdy, &wdw, &dw, &ddy, &ddx};
  for (int i = 0; i < 9; i++) arg_free(args[i]);
  dnnl_memory_destroy(mb);
  dnnl_memory_destroy(mdb);
  dnnl_primitive_destroy(fp);
  dnnl_primitive_destroy(bdp);
  dnnl_primitive_destroy(bwp);
  for (int i = 0; i < 3; i++) dnnl_primitive_desc_destroy(pds[i]);
  memset(L->y[1], 0, (size_t)L->ny * sizeof(float));
  memset(L->dx[1], 0, (size_t)L->nx * sizeof(float));
  memset(L->dw[1], 0, (size_t)L->nw * sizeof(float));
  memset(L->db[1], 0, (size_t)L->F * sizeof(float));
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 20;
  char err[256];
  if (reps < 1) reps = 1;
  const char *clk = getenv("CONV_BENCH_CLOCK");
  if (clk && strcmp(clk, "cpu") == 0) clock_id = CLOCK_PROCESS_CPUTIME_ID;
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  dnnl_check(dnnl_engine_create(&eng, dnnl_cpu, 0), "engine");
  dnnl_check(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), "stream");
  srand(1);
  for (int l = 0; l < NLAYERS; l++) {
    Conv2DGeom g;
    if (conv2d_geom(&g, BATCH, SIZE[l], SIZE[l], CIN[l], K, K, FILT[l], 1, 1, PAD, err)) {
      fprintf(stderr, "conv_bench: %s\n", err);
      return 1;
    }
    Layer L = {.nx = BATCH * SIZE[l] * SIZE[l] * CIN[l], .nw = K * K * CIN[l] * FILT[l],
               .ny = BATCH * g.OH * g.OW * FILT[l], .F = FILT[l], .index = l + 1,
               .dx_wanted = l > 0};
    L.x = randn(L.nx, 1);
    L.w = randn(L.nw, 1.0f / sqrtf((float)(K * K * CIN[l])));
    L.b = randn(L.F, 0.1f);
    L.dy = randn(L.ny, 1);
    for (int e = 0; e < 2; e++) {
      L.y[e] = calloc((size_t)L.ny, sizeof(float));
      L.dx[e] = calloc((size_t)L.nx, sizeof(float));
      L.dw[e] = calloc((size_t)L.nw, sizeof(float));
      L.db[e] = calloc((size_t)L.F, sizeof(float));
    }
    int want_dx = l > 0;
    double *tf = malloc(sizeof(double) * (size_t)reps), *tw = malloc(sizeof(double) * (size_t)reps),
           *tx = malloc(sizeof(double) * (size_t)reps), *tt = malloc(sizeof(double) * (size_t)reps);

    /* ---- nnlab's engines: im2col + gemm_f32, and oneDNN behind conv2d.h ---- */
    for (int e = 0; e < 2; e++) {
      Conv2DPlan *plan = conv2d_plan_new(&g, e ? CONV2D_ONEDNN : CONV2D_IM2COL, err);
      if (!plan) {
        fprintf(stderr, "conv_bench: %s\n", err);
        return 1;
      }
      void *scratch = malloc(conv2d_scratch_size(plan));
      float *y = e ? L.y[1] : L.y[0], *dx = e ? L.dx[1] : L.dx[0];
      float *dw = e ? L.dw[1] : L.dw[0], *db = e ? L.db[1] : L.db[0];
      for (int r = -3; r < reps; r++) {
        double t0 = now();
        conv2d_forward(y, scratch, L.x, L.w, L.b, BATCH, plan);
        double t1 = now();
        conv2d_backward(want_dx ? dx : NULL, dw, db, scratch, L.dy, L.x, L.w, BATCH, plan);
        double t2 = now();
        if (r >= 0) {
          tf[r] = t1 - t0;
          tt[r] = t2 - t0;
        }
      }
      /* the weights-only part (din NULL), measured on its own */
      for (int r = -1; r < reps; r++) {
        conv2d_forward(y, scratch, L.x, L.w, L.b, BATCH, plan);
        double t0 = now();
        conv2d_backward(NULL, dw, db, scratch, L.dy, L.x, L.w, BATCH, plan);
        if (r >= 0) tw[r] = now() - t0;
      }
      double f = median(tf, reps), w = median(tw, reps), t = median(tt, reps);
      printf("conv %s %d fwd=%.3f bwd_w=%.3f bwd_x=%.3f total=%.3f scratch_mb=%.1f impl=%s\n",
             e ? "onednn" : "im2col", l + 1, 1e3 * f, 1e3 * w, want_dx ? 1e3 * (t - f - w) : 0.0,
             1e3 * t, conv2d_scratch_size(plan) / 1048576.0, conv2d_plan_engine(plan));
      free(scratch);
      conv2d_plan_free(plan);
    }
    printf("conv agree-onednn %d y=%.2g dW=%.2g db=%.2g dx=%.2g\n", l + 1,
           maxdiff(L.y[0], L.y[1], L.ny), maxdiff(L.dw[0], L.dw[1], L.nw),
           maxdiff(L.db[0], L.db[1], L.F), want_dx ? maxdiff(L.dx[0], L.dx[1], L.nx) : 0.0);
    run_dnnl(&L, &g, 0, reps, tf, tw, tx, tt, eng, stream);
    run_dnnl(&L, &g, 1, reps, tf, tw, tx, tt, eng, stream);
    free(L.x); free(L.w); free(L.b); free(L.dy);
    for (int e = 0; e < 2; e++) { free(L.y[e]); free(L.dx[e]); free(L.dw[e]); free(L.db[e]); }
    free(tf); free(tw); free(tx); free(tt);
  }
  dnnl_stream_destroy(stream);
  dnnl_engine_destroy(eng);
  return 0;
}
