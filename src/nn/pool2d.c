/* pool2d.c — max and average pooling over channels-last images. The channel
 * axis is innermost, so every loop below runs over C contiguous values with
 * the window position fixed: one pass per window element, vectorizable.
 * A batch's images are shared among the threads. */
#include "pool2d.h"
#include "parallel.h"

#include <stdio.h>
#include <string.h>

int pool2d_geom(Pool2DGeom *g, int64_t N, int64_t H, int64_t W, int64_t C, int64_t PH,
                int64_t PW, int64_t SH, int64_t SW, char *err) {
  if (N < 1 || H < 1 || W < 1 || C < 1 || PH < 1 || PW < 1 || SH < 1 || SW < 1) {
    snprintf(err, 256,
             "pool2d: sizes must be positive (input %lldx%lldx%lldx%lld, pool %lldx%lld, "
             "stride %lldx%lld)",
             (long long)N, (long long)H, (long long)W, (long long)C, (long long)PH,
             (long long)PW, (long long)SH, (long long)SW);
    return -1;
  }
  if (PH > H || PW > W) {
    snprintf(err, 256, "pool2d: a %lldx%lld window does not fit a %lldx%lld image",
             (long long)PH, (long long)PW, (long long)H, (long long)W);
    return -1;
  }
  *g = (Pool2DGeom){.N = N, .H = H, .W = W, .C = C, .PH = PH, .PW = PW, .SH = SH, .SW = SW,
                    .OH = (H - PH) / SH + 1, .OW = (W - PW) / SW + 1};
  return 0;
}

size_t pool2d_scratch_size(const Pool2DGeom *g) {
  return (size_t)(g->N * g->OH * g->OW * g->C) * sizeof(int32_t);
}

typedef struct {
  const Pool2DGeom *g;
  float *out;        /* forward: the output; backward: din */
  const float *in;   /* forward: the input; backward: dout */
  const void *arg;   /* max pooling's argmax positions */
} Pool;

/* The images are shared among the threads: no window crosses an image. */
static void run_images(RangeFn fn, const Pool2DGeom *g, float *out, const float *in,
                       const void *arg) {
  parallel_items(g->N, g->H * g->W * g->C, 16384, fn, &(Pool){g, out, in, arg});
}

static void maxpool_fwd_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Pool *t = ctx;
  const Pool2DGeom *g = t->g;
  const int64_t C = g->C, per_out = g->OH * g->OW * C;
  float *out = t->out + lo * per_out;
  int32_t *arg = (int32_t *)t->arg + lo * per_out;
  (void)part;
  for (int64_t n = lo; n < hi; n++) {
    const float *img = t->in + n * g->H * g->W * C;
    for (int64_t y = 0; y < g->OH; y++)
      for (int64_t x = 0; x < g->OW; x++, out += C, arg += C) {
        int32_t first = (int32_t)(y * g->SH * g->W + x * g->SW);
        const float *p0 = img + (int64_t)first * C;
        for (int64_t c = 0; c < C; c++) { out[c] = p0[c]; arg[c] = first; }
        for (int64_t i = 0; i < g->PH; i++)
          for (int64_t j = 0; j < g->PW; j++) {
            if (i == 0 && j == 0) continue;
            int32_t pos = (int32_t)((y * g->SH + i) * g->W + x * g->SW + j);
            const float *restrict p = img + (int64_t)pos * C;
            float *restrict o = out;
            int32_t *restrict a = arg;
            for (int64_t c = 0; c < C; c++) {  /* branch-free, so that it vectorizes */
              int take = p[c] > o[c] || p[c] != p[c];
              o[c] = take ? p[c] : o[c];
              a[c] = take ? pos : a[c];
            }
          }
      }
  }
}

void maxpool2d_forward(float *out, void *scratch, const float *in, const Pool2DGeom *g) {
  run_images(maxpool_fwd_images, g, out, in, scratch);
}

static void maxpool_bwd_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Pool *t = ctx;
  const Pool2DGeom *g = t->g;
  const int64_t C = g->C, HWC = g->H * g->W * C, per_out = g->OH * g->OW * C;
  const int32_t *arg = (const int32_t *)t->arg + lo * per_out;
  const float *dout = t->in + lo * per_out;
  (void)part;
  memset(t->out + lo * HWC, 0, (size_t)((hi - lo) * HWC) * sizeof(float));
  for (int64_t n = lo; n < hi; n++) {
    float *img = t->out + n * HWC;
    for (int64_t o = 0; o < g->OH * g->OW; o++, arg += C, dout += C)
      for (int64_t c = 0; c < C; c++) img[(int64_t)arg[c] * C + c] += dout[c];
  }
}

void maxpool2d_backward(float *din, const void *scratch, const float *dout, const Pool2DGeom *g) {
  run_images(maxpool_bwd_images, g, din, dout, scratch);
}

static void avgpool_fwd_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Pool *t = ctx;
  const Pool2DGeom *g = t->g;
  const int64_t C = g->C;
  const float inv = 1.0f / (float)(g->PH * g->PW);
  float *out = t->out + lo * g->OH * g->OW * C;
  (void)part;
  for (int64_t n = lo; n < hi; n++) {
    const float *img = t->in + n * g->H * g->W * C;
    for (int64_t y = 0; y < g->OH; y++)
      for (int64_t x = 0; x < g->OW; x++, out += C) {
        float *restrict o = out;
        memset(o, 0, (size_t)C * sizeof(float));
        for (int64_t i = 0; i < g->PH; i++)
          for (int64_t j = 0; j < g->PW; j++) {
            const float *restrict p = img + ((y * g->SH + i) * g->W + x * g->SW + j) * C;
            for (int64_t c = 0; c < C; c++) o[c] += p[c];
          }
        for (int64_t c = 0; c < C; c++) o[c] *= inv;
      }
  }
}

void avgpool2d_forward(float *out, const float *in, const Pool2DGeom *g) {
  run_images(avgpool_fwd_images, g, out, in, NULL);
}

static void avgpool_bwd_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Pool *t = ctx;
  const Pool2DGeom *g = t->g;
  const int64_t C = g->C, HWC = g->H * g->W * C;
  const float inv = 1.0f / (float)(g->PH * g->PW);
  const float *dout = t->in + lo * g->OH * g->OW * C;
  (void)part;
  memset(t->out + lo * HWC, 0, (size_t)((hi - lo) * HWC) * sizeof(float));
  for (int64_t n = lo; n < hi; n++) {
    float *img = t->out + n * HWC;
    for (int64_t y = 0; y < g->OH; y++)
      for (int64_t x = 0; x < g->OW; x++, dout += C)
        for (int64_t i = 0; i < g->PH; i++)
          for (int64_t j = 0; j < g->PW; j++) {
            float *restrict p = img + ((y * g->SH + i) * g->W + x * g->SW + j) * C;
            for (int64_t c = 0; c < C; c++) p[c] += dout[c] * inv;
          }
  }
}

void avgpool2d_backward(float *din, const float *dout, const Pool2DGeom *g) {
  run_images(avgpool_bwd_images, g, din, dout, NULL);
}
