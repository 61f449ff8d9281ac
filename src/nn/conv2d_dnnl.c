/* conv2d_dnnl.c — convolutions through oneDNN (the library PyTorch runs on
 * the CPU). Its fast direct kernels want images in blocked layouts (nChw16c:
 * channels in groups of 16 innermost; plain NCHW for a 3-channel input), so
 * each call converts the channels-last images into the layout the primitive
 * chose, in the caller's scratch, and the results back (all threads share the
 * images), except where that layout is NHWC byte for byte (16 or 8 channels,
 * one full block) and the batch is whole: oneDNN then works on the caller's
 * images where they lie. Weights go through oneDNN reorders. Everything
 * oneDNN needs is created by dnnl_conv_new, its
 * scratchpad included (user mode), so the calls allocate nothing. The
 * primitives are built for the largest batch N; a smaller batch n runs them
 * on N images whose last N − n are zero (no effect on the weight gradients). */
#include "conv2d_dnnl.h"
#include "parallel.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The image layouts this file converts to and from. */
enum { FMT_NHWC, FMT_NCHW, FMT_B16, FMT_B8, FMT_N };
static const dnnl_format_tag_t FMT_TAG[FMT_N] = {dnnl_nhwc, dnnl_nchw, dnnl_nChw16c, dnnl_nChw8c};

/* One image tensor in a primitive's layout, at an offset of the scratch. */
typedef struct {
  dnnl_memory_t mem;
  size_t off;
  int fmt;
  int64_t C;   /* channels (before padding to the block) */
  int64_t H, W;
} Img;

/* Weights in a primitive's layout: the scratch copy and the reorder from (or
 * to) Keras's HWIO, or nothing when the primitive takes HWIO as it is. */
typedef struct {
  dnnl_memory_t mem;        /* NULL: the user's buffer is used directly */
  size_t off;
  dnnl_primitive_t reorder;
} Wts;

struct DnnlConv {
  Conv2DGeom g;
  dnnl_engine_t eng;
  dnnl_stream_t st;
  dnnl_primitive_t fwd, bww, bwd;     /* forward, backward weights, backward data */
  Img x, xw, y, dy, dyd, dx;          /* x: fwd src; xw: bww src; y: fwd dst; dy: bww diff
                                         dst; dyd: bwd diff dst; dx: bwd diff src */
  Wts wf, wb, dw;                     /* fwd weights, bwd weights, bww diff weights */
  dnnl_memory_t w_user, dw_user, b_user, db_user;
  int wb_is_wf;                       /* bwd reads the forward's weight copy */
  dnnl_memory_t pad[3];               /* each primitive's scratchpad, one region */
  size_t pad_off, total;
  char impl[96];
};

#define DN_TRY(call, what)                                                       \
  do {                                                                           \
    dnnl_status_t st_ = (call);                                                  \
    if (st_ != dnnl_success) {                                                   \
      snprintf(err, 256, "conv2d: oneDNN %s failed (status %d)", what, (int)st_); \
      goto fail;                                                                 \
    }                                                                            \
  } while (0)

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Which of FMT_TAG md is, or -1. */
static int fmt_of(const dnnl_memory_desc_t *md) {
  for (int f = 0; f < FMT_N; f++) {
    dnnl_memory_desc_t t;
    if (dnnl_memory_desc_init_by_tag(&t, 4, md->dims, dnnl_f32, FMT_TAG[f]) == dnnl_success &&
        dnnl_memory_desc_equal(&t, md))
      return f;
  }
  return -1;
}

/* Lays out an image tensor of the primitive's md in the scratch, sharing the
 * region of `same` when that one has the same layout (NULL: never). */
static int img_make(Img *im, const dnnl_memory_desc_t *md, const Img *same, dnnl_engine_t eng,
                    size_t *total) {
  im->fmt = fmt_of(md);
  if (im->fmt < 0) return -1;
  im->C = md->dims[1];
  im->H = md->dims[2];
  im->W = md->dims[3];
  if (dnnl_memory_create(&im->mem, md, eng, DNNL_MEMORY_NONE) != dnnl_success) return -1;
  if (same && same->mem && same->fmt == im->fmt) {
    im->off = same->off;
  } else {
    im->off = *total;
    *total += align64(dnnl_memory_desc_get_size(md));
  }
  return 0;
}

/* Weights md wanted by a primitive: a scratch copy and a reorder between it
 * and HWIO (direction: to_prim), unless it is HWIO itself. */
static int wts_make(Wts *w, const dnnl_memory_desc_t *md, const dnnl_memory_desc_t *hwio,
                    int to_prim, dnnl_engine_t eng, size_t *total) {
  if (dnnl_memory_desc_equal(md, hwio)) return 0;
  if (dnnl_memory_create(&w->mem, md, eng, DNNL_MEMORY_NONE) != dnnl_success) return -1;
  dnnl_primitive_desc_t pd;
  if ((to_prim ? dnnl_reorder_primitive_desc_create(&pd, hwio, eng, md, eng, NULL)
               : dnnl_reorder_primitive_desc_create(&pd, md, eng, hwio, eng, NULL)) != dnnl_success)
    return -1;
  dnnl_status_t s = dnnl_primitive_create(&w->reorder, pd);
  dnnl_primitive_desc_destroy(pd);
  if (s != dnnl_success) return -1;
  w->off = *total;
  *total += align64(dnnl_memory_desc_get_size(md));
  return 0;
}

DnnlConv *dnnl_conv_new(const Conv2DGeom *g, char *err) {
  DnnlConv *d = calloc(1, sizeof *d);
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd[3] = {NULL, NULL, NULL};
  if (!d) {
    snprintf(err, 256, "conv2d: out of memory");
    return NULL;
  }
  d->g = *g;
  dnnl_memory_desc_t xany, wany, yany, bmd, hwio;
  dnnl_dims_t xd = {g->N, g->C, g->H, g->W}, wd = {g->F, g->C, g->KH, g->KW}, bd = {g->F},
              yd = {g->N, g->F, g->OH, g->OW};
  dnnl_dims_t strides = {g->SH, g->SW}, pl = {g->PT, g->PL},
              pr = {(g->OH - 1) * g->SH + g->KH - g->H - g->PT,
                    (g->OW - 1) * g->SW + g->KW - g->W - g->PL};
  /* "same" can leave less than nothing on the far side when the stride skips it */
  if (pr[0] < 0) pr[0] = 0;
  if (pr[1] < 0) pr[1] = 0;
  DN_TRY(dnnl_engine_create(&d->eng, dnnl_cpu, 0), "engine");
  DN_TRY(dnnl_stream_create(&d->st, d->eng, dnnl_stream_default_flags), "stream");
  DN_TRY(dnnl_memory_desc_init_by_tag(&xany, 4, xd, dnnl_f32, dnnl_format_tag_any), "layout");
  DN_TRY(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any), "layout");
  DN_TRY(dnnl_memory_desc_init_by_tag(&yany, 4, yd, dnnl_f32, dnnl_format_tag_any), "layout");
  DN_TRY(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a), "layout");
  DN_TRY(dnnl_memory_desc_init_by_tag(&hwio, 4, wd, dnnl_f32, dnnl_hwio), "layout");
  DN_TRY(dnnl_primitive_attr_create(&attr), "attributes");
  DN_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "attributes");
  dnnl_convolution_desc_t fd, bwdd, bwwd;
  DN_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                            &xany, &wany, &bmd, &yany, strides, pl, pr),
         "forward");
  DN_TRY(dnnl_convolution_backward_weights_desc_init(&bwwd, dnnl_convolution_direct, &xany, &wany,
                                                     &bmd, &yany, strides, pl, pr),
         "backward weights");
  DN_TRY(dnnl_convolution_backward_data_desc_init(&bwdd, dnnl_convolution_direct, &xany, &wany,
                                                  &yany, strides, pl, pr),
         "backward data");
  DN_TRY(dnnl_primitive_desc_create(&pd[0], &fd, attr, d->eng, NULL), "forward");
  DN_TRY(dnnl_primitive_desc_create(&pd[1], &bwwd, attr, d->eng, pd[0]), "backward weights");
  DN_TRY(dnnl_primitive_desc_create(&pd[2], &bwdd, attr, d->eng, pd[0]), "backward data");
  const char *names[3];
  for (int i = 0; i < 3; i++) dnnl_primitive_desc_query(pd[i], dnnl_query_impl_info_str, 0, &names[i]);
  snprintf(d->impl, sizeof d->impl, "%s", names[0]);
  if (!strstr(names[0], "jit") || !strstr(names[1], "jit")) {
    snprintf(err, 256, "conv2d: oneDNN has only %s / %s here", names[0], names[1]);
    goto fail;
  }
#define MD(p, q) dnnl_primitive_desc_query_md(p, q, 0)
  size_t total = 0;
  if (img_make(&d->x, MD(pd[0], dnnl_query_src_md), NULL, d->eng, &total) ||
      img_make(&d->y, MD(pd[0], dnnl_query_dst_md), NULL, d->eng, &total) ||
      img_make(&d->xw, MD(pd[1], dnnl_query_src_md), &d->x, d->eng, &total) ||
      img_make(&d->dy, MD(pd[1], dnnl_query_diff_dst_md), &d->y, d->eng, &total) ||
      img_make(&d->dyd, MD(pd[2], dnnl_query_diff_dst_md), &d->dy, d->eng, &total) ||
      img_make(&d->dx, MD(pd[2], dnnl_query_diff_src_md), &d->xw, d->eng, &total)) {
    snprintf(err, 256, "conv2d: oneDNN chose an image layout this engine does not convert");
    goto fail;
  }
  /* the backward-data primitive reads the forward's copy of the weights
   * when it wants the same layout (the weights do not change in between) */
  d->wb_is_wf = dnnl_memory_desc_equal(MD(pd[2], dnnl_query_weights_md),
                                       MD(pd[0], dnnl_query_weights_md));
  if (wts_make(&d->wf, MD(pd[0], dnnl_query_weights_md), &hwio, 1, d->eng, &total) ||
      (!d->wb_is_wf &&
       wts_make(&d->wb, MD(pd[2], dnnl_query_weights_md), &hwio, 1, d->eng, &total)) ||
      wts_make(&d->dw, MD(pd[1], dnnl_query_diff_weights_md), &hwio, 0, d->eng, &total)) {
    snprintf(err, 256, "conv2d: oneDNN cannot reorder the weights");
    goto fail;
  }
  d->pad_off = total;
  size_t padmax = 0;
  for (int i = 0; i < 3; i++) {
    const dnnl_memory_desc_t *pmd = MD(pd[i], dnnl_query_scratchpad_md);
    size_t sz = pmd ? dnnl_memory_desc_get_size(pmd) : 0;
    if (sz > padmax) padmax = sz;
    if (sz) DN_TRY(dnnl_memory_create(&d->pad[i], pmd, d->eng, DNNL_MEMORY_NONE), "scratchpad");
  }
  d->total = total + align64(padmax);
#undef MD
  DN_TRY(dnnl_memory_create(&d->w_user, &hwio, d->eng, DNNL_MEMORY_NONE), "memory");
  DN_TRY(dnnl_memory_create(&d->dw_user, &hwio, d->eng, DNNL_MEMORY_NONE), "memory");
  DN_TRY(dnnl_memory_create(&d->b_user, &bmd, d->eng, DNNL_MEMORY_NONE), "memory");
  DN_TRY(dnnl_memory_create(&d->db_user, &bmd, d->eng, DNNL_MEMORY_NONE), "memory");
  DN_TRY(dnnl_primitive_create(&d->fwd, pd[0]), "forward");
  DN_TRY(dnnl_primitive_create(&d->bww, pd[1]), "backward weights");
  DN_TRY(dnnl_primitive_create(&d->bwd, pd[2]), "backward data");
  for (int i = 0; i < 3; i++) dnnl_primitive_desc_destroy(pd[i]);
  dnnl_primitive_attr_destroy(attr);
  return d;
fail:
  for (int i = 0; i < 3; i++)
    if (pd[i]) dnnl_primitive_desc_destroy(pd[i]);
  if (attr) dnnl_primitive_attr_destroy(attr);
  dnnl_conv_free(d);
  return NULL;
}

void dnnl_conv_free(DnnlConv *d) {
  if (!d) return;
  dnnl_primitive_t prims[] = {d->fwd, d->bww, d->bwd, d->wf.reorder, d->wb.reorder, d->dw.reorder};
  for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
    if (prims[i]) dnnl_primitive_destroy(prims[i]);
  dnnl_memory_t mems[] = {d->x.mem,  d->xw.mem, d->y.mem,  d->dy.mem,   d->dyd.mem,  d->dx.mem,
                          d->wf.mem, d->wb.mem, d->dw.mem, d->w_user,   d->dw_user,  d->b_user,
                          d->db_user, d->pad[0], d->pad[1], d->pad[2]};
  for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
    if (mems[i]) dnnl_memory_destroy(mems[i]);
  if (d->st) dnnl_stream_destroy(d->st);
  if (d->eng) dnnl_engine_destroy(d->eng);
  free(d);
}

size_t dnnl_conv_scratch_size(const DnnlConv *d) { return d->total; }
const char *dnnl_conv_impl(const DnnlConv *d) { return d->impl; }

/* ---- layout conversions (images only; rows n..N−1 of a blocked copy are
 * zeroed, and so are the channels that pad the last block) ---- */

typedef struct {
  float *dst;
  const Img *im;
  const float *src;
} Convert;

/* Images lo..hi from NHWC into the layout im->fmt (padding channels zero). */
static void to_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Convert *t = ctx;
  const Img *im = t->im;
  const int64_t C = im->C, HW = im->H * im->W;
  float *dst = t->dst;
  const float *src = t->src;
  (void)part;
  switch (im->fmt) {
  case FMT_NHWC:
    memcpy(dst + lo * HW * C, src + lo * HW * C, (size_t)((hi - lo) * HW * C) * sizeof(float));
    return;
  case FMT_NCHW:
    for (int64_t i = lo; i < hi; i++)
      for (int64_t c = 0; c < C; c++) {
        float *restrict o = dst + (i * C + c) * HW;
        const float *restrict s = src + i * HW * C + c;
        for (int64_t p = 0; p < HW; p++) o[p] = s[p * C];
      }
    return;
  default: {
    const int64_t B = im->fmt == FMT_B16 ? 16 : 8, CB = (C + B - 1) / B;
    for (int64_t i = lo; i < hi; i++)
      for (int64_t cb = 0; cb < CB; cb++) {
        int64_t c0 = cb * B, nc = C - c0 < B ? C - c0 : B;
        float *restrict o = dst + (i * CB + cb) * HW * B;
        const float *restrict s = src + i * HW * C + c0;
        for (int64_t p = 0; p < HW; p++) {
          for (int64_t c = 0; c < nc; c++) o[p * B + c] = s[p * C + c];
          for (int64_t c = nc; c < B; c++) o[p * B + c] = 0.0f;
        }
      }
    return;
  }
  }
}

/* Images lo..hi from the layout im->fmt back to NHWC. */
static void from_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Convert *t = ctx;
  const Img *im = t->im;
  const int64_t C = im->C, HW = im->H * im->W;
  float *dst = t->dst;
  const float *src = t->src;
  (void)part;
  switch (im->fmt) {
  case FMT_NHWC:
    memcpy(dst + lo * HW * C, src + lo * HW * C, (size_t)((hi - lo) * HW * C) * sizeof(float));
    return;
  case FMT_NCHW:
    for (int64_t i = lo; i < hi; i++)
      for (int64_t c = 0; c < C; c++) {
        const float *restrict s = src + (i * C + c) * HW;
        float *restrict o = dst + i * HW * C + c;
        for (int64_t p = 0; p < HW; p++) o[p * C] = s[p];
      }
    return;
  default: {
    const int64_t B = im->fmt == FMT_B16 ? 16 : 8, CB = (C + B - 1) / B;
    for (int64_t i = lo; i < hi; i++)
      for (int64_t cb = 0; cb < CB; cb++) {
        int64_t c0 = cb * B, nc = C - c0 < B ? C - c0 : B;
        const float *restrict s = src + (i * CB + cb) * HW * B;
        float *restrict o = dst + i * HW * C + c0;
        for (int64_t p = 0; p < HW; p++)
          for (int64_t c = 0; c < nc; c++) o[p * C + c] = s[p * B + c];
      }
    return;
  }
  }
}

/* The images are shared among the threads. */
static void convert(RangeFn fn, float *dst, const Img *im, const float *src, int64_t n) {
  parallel_items(n, im->H * im->W * im->C, 32768, fn, &(Convert){dst, im, src});
}

/* Images 0..n from NHWC into im's layout; images n..N of the copy (the plan
 * is for N) are zeroed. */
static void to_layout(float *dst, const Img *im, const float *src, int64_t n, int64_t N) {
  convert(to_images, dst, im, src, n);
  if (n < N) {
    int64_t B = im->fmt == FMT_B16 ? 16 : im->fmt == FMT_B8 ? 8 : 1;
    int64_t per = (im->C + B - 1) / B * B * im->H * im->W;  /* floats an image */
    memset(dst + n * per, 0, (size_t)((N - n) * per) * sizeof(float));
  }
}

static void from_layout(float *dst, const Img *im, const float *src, int64_t n) {
  convert(from_images, dst, im, src, n);
}

static float *at(void *scratch, size_t off) { return (float *)((char *)scratch + off); }

/* Points a memory object at a buffer. For padded layouts oneDNN zeroes the
 * padding here, which our conversions also do. */
static void bind(dnnl_memory_t m, void *p) {
  if (m) dnnl_memory_set_data_handle(m, p);
}

static void bind_pads(const DnnlConv *d, void *scratch) {
  for (int i = 0; i < 3; i++) bind(d->pad[i], at(scratch, d->pad_off));
}

static void run(const DnnlConv *d, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args) {
  dnnl_primitive_execute(p, d->st, nargs, args);
  dnnl_stream_wait(d->st);
}

/* Weights from HWIO into w's copy (nothing when the primitive takes HWIO). */
static dnnl_memory_t weights_in(const DnnlConv *d, const Wts *w, void *scratch, const float *W) {
  bind(d->w_user, (void *)W);
  if (!w->mem) return d->w_user;
  bind(w->mem, at(scratch, w->off));
  if (w->reorder) {
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, d->w_user}, {DNNL_ARG_TO, w->mem}};
    run(d, w->reorder, 2, a);
  }
  return w->mem;
}

/* Whether im's layout is NHWC byte for byte (channels-last, or one full
 * block of 16 or 8 channels), so that a whole batch (n = N) is used where
 * it lies instead of being copied. */
static int direct(const Img *im, int64_t n, int64_t N) {
  return n == N && (im->fmt == FMT_NHWC || (im->fmt == FMT_B16 && im->C == 16) ||
                    (im->fmt == FMT_B8 && im->C == 8));
}

/* Binds im to src (NHWC) itself, or to its copy in im's layout. */
static void bind_in(const Img *im, void *scratch, const float *src, int64_t n, int64_t N,
                    int copy) {
  if (direct(im, n, N)) {
    bind(im->mem, (void *)src);
    return;
  }
  if (copy) to_layout(at(scratch, im->off), im, src, n, N);
  bind(im->mem, at(scratch, im->off));
}

/* Binds im to dst (NHWC) itself, or to the scratch region from_layout reads. */
static void bind_out(const Img *im, void *scratch, float *dst, int64_t n, int64_t N) {
  bind(im->mem, direct(im, n, N) ? (void *)dst : at(scratch, im->off));
}

static void copy_out(const Img *im, void *scratch, float *dst, int64_t n, int64_t N) {
  if (!direct(im, n, N)) from_layout(dst, im, at(scratch, im->off), n);
}

void dnnl_conv_forward(const DnnlConv *d, float *out, void *scratch, const float *in,
                       const float *W, const float *b, int64_t n) {
  const int64_t N = d->g.N;
  bind_in(&d->x, scratch, in, n, N, 1);
  bind_out(&d->y, scratch, out, n, N);
  bind(d->b_user, (void *)b);
  bind_pads(d, scratch);
  dnnl_memory_t wm = weights_in(d, &d->wf, scratch, W);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, d->x.mem},  {DNNL_ARG_WEIGHTS, wm},
                         {DNNL_ARG_BIAS, d->b_user}, {DNNL_ARG_DST, d->y.mem},
                         {DNNL_ARG_SCRATCHPAD, d->pad[0]}};
  run(d, d->fwd, d->pad[0] ? 5 : 4, a);
  copy_out(&d->y, scratch, out, n, N);
}

void dnnl_conv_backward(const DnnlConv *d, float *din, float *dW, float *db, void *scratch,
                        const float *dout, const float *in, const float *W, int64_t n) {
  const int64_t N = d->g.N;
  /* weights: the forward's copy of the input is still in scratch when both
   * primitives use one layout (the region is then shared) */
  bind_in(&d->xw, scratch, in, n, N, d->xw.off != d->x.off);
  bind_in(&d->dy, scratch, dout, n, N, 1);
  bind(d->db_user, db);
  bind(d->dw_user, dW);
  bind_pads(d, scratch);
  dnnl_memory_t dwm = d->dw_user;
  if (d->dw.mem) {
    bind(d->dw.mem, at(scratch, d->dw.off));
    dwm = d->dw.mem;
  }
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, d->xw.mem}, {DNNL_ARG_DIFF_DST, d->dy.mem},
                         {DNNL_ARG_DIFF_WEIGHTS, dwm}, {DNNL_ARG_DIFF_BIAS, d->db_user},
                         {DNNL_ARG_SCRATCHPAD, d->pad[1]}};
  run(d, d->bww, d->pad[1] ? 5 : 4, a);
  if (d->dw.mem) {
    dnnl_exec_arg_t r[] = {{DNNL_ARG_FROM, d->dw.mem}, {DNNL_ARG_TO, d->dw_user}};
    run(d, d->dw.reorder, 2, r);
  }
  if (!din) return;
  /* data: dx may share the input's region, no longer needed */
  bind_in(&d->dyd, scratch, dout, n, N, d->dyd.off != d->dy.off);
  bind_out(&d->dx, scratch, din, n, N);
  dnnl_memory_t wm = d->wb_is_wf ? (d->wf.mem ? d->wf.mem : d->w_user)
                                 : weights_in(d, &d->wb, scratch, W);
  if (d->wb_is_wf) bind(d->w_user, (void *)W);
  dnnl_exec_arg_t b2[] = {{DNNL_ARG_DIFF_DST, d->dyd.mem}, {DNNL_ARG_WEIGHTS, wm},
                          {DNNL_ARG_DIFF_SRC, d->dx.mem}, {DNNL_ARG_SCRATCHPAD, d->pad[2]}};
  run(d, d->bwd, d->pad[2] ? 4 : 3, b2);
  copy_out(&d->dx, scratch, din, n, N);
}
