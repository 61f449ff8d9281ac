/* conv2d.c — convolution geometry, the plans that pick an engine (oneDNN in
 * conv2d_dnnl.c, or the one here), and 2-D convolution as im2col + one
 * matrix product (Caffe's and Torch7's way): every output pixel's receptive
 * field is copied into a row of a (N·OH·OW) × (KH·KW·C) matrix, so that the
 * convolution of the whole batch is cols·W with W seen as (KH·KW·C) × F. In channels-last images the KW·C
 * values of one kernel row are contiguous in the input, so im2col copies
 * KW·C floats at a time. */
#include "conv2d.h"

#include "conv2d_dnnl.h"
#include "gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Conv2DPlan {
  Conv2DGeom g;
  DnnlConv *dnnl;      /* NULL: im2col */
  char engine[112];
};

/* Output size and leading padding along one axis (Keras's rules, see the
 * header). Returns the output size, < 1 when nothing fits. */
static int64_t axis_plan(int64_t in, int64_t k, int64_t s, int64_t padding, int64_t *lead) {
  if (padding == CONV2D_SAME) {
    int64_t out = (in + s - 1) / s, total = (out - 1) * s + k - in;
    *lead = total > 0 ? total / 2 : 0;
    return out;
  }
  *lead = padding;
  int64_t span = in + 2 * padding - k;
  return span < 0 ? 0 : span / s + 1;
}

int conv2d_geom(Conv2DGeom *g, int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH,
                int64_t KW, int64_t F, int64_t SH, int64_t SW, int64_t padding, char *err) {
  if (N < 1 || H < 1 || W < 1 || C < 1 || KH < 1 || KW < 1 || F < 1 || SH < 1 || SW < 1 ||
      padding < CONV2D_SAME) {
    snprintf(err, 256,
             "conv2d: sizes must be positive (input %lldx%lldx%lldx%lld, kernel %lldx%lld, "
             "%lld filters, stride %lldx%lld, padding %lld)",
             (long long)N, (long long)H, (long long)W, (long long)C, (long long)KH,
             (long long)KW, (long long)F, (long long)SH, (long long)SW, (long long)padding);
    return -1;
  }
  *g = (Conv2DGeom){.N = N, .H = H, .W = W, .C = C, .KH = KH, .KW = KW, .F = F, .SH = SH,
                    .SW = SW};
  g->OH = axis_plan(H, KH, SH, padding, &g->PT);
  g->OW = axis_plan(W, KW, SW, padding, &g->PL);
  if (g->OH < 1 || g->OW < 1) {
    snprintf(err, 256, "conv2d: a %lldx%lld kernel does not fit a %lldx%lld image padded by %lld",
             (long long)KH, (long long)KW, (long long)H, (long long)W, (long long)padding);
    return -1;
  }
  return 0;
}

Conv2DPlan *conv2d_plan_new(const Conv2DGeom *g, int engine, char *err) {
  Conv2DPlan *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, 256, "conv2d: out of memory");
    return NULL;
  }
  p->g = *g;
  if (engine != CONV2D_IM2COL) {
    char why[256];
    p->dnnl = dnnl_conv_new(g, why);
    if (!p->dnnl && engine == CONV2D_ONEDNN) {
      snprintf(err, 256, "%s", why);
      free(p);
      return NULL;
    }
  }
  if (p->dnnl) snprintf(p->engine, sizeof p->engine, "oneDNN %s", dnnl_conv_impl(p->dnnl));
  else snprintf(p->engine, sizeof p->engine, "im2col + gemm_f32");
  return p;
}

void conv2d_plan_free(Conv2DPlan *p) {
  if (!p) return;
  dnnl_conv_free(p->dnnl);
  free(p);
}

const char *conv2d_plan_engine(const Conv2DPlan *p) { return p->engine; }

size_t conv2d_scratch_size(const Conv2DPlan *p) {
  const Conv2DGeom *g = &p->g;
  if (p->dnnl) return dnnl_conv_scratch_size(p->dnnl);
  return (size_t)(g->N * g->OH * g->OW) * (size_t)(g->KH * g->KW * g->C) * sizeof(float);
}

/* The columns [j0, j1) of kernel row i that fall inside the image for output
 * column x (j0 = j1 when none does). */
static void kernel_cols(const Conv2DGeom *g, int64_t x, int64_t *j0, int64_t *j1) {
  int64_t ix = x * g->SW - g->PL;
  *j0 = ix < 0 ? -ix : 0;
  *j1 = g->W - ix < g->KW ? g->W - ix : g->KW;
  if (*j1 < *j0) *j1 = *j0;
}

/* cols[(n,y,x), (i,j,c)] = in[n, y·SH − PT + i, x·SW − PL + j, c], 0 outside. */
static void im2col(float *restrict cols, const float *restrict in, const Conv2DGeom *g) {
  const int64_t C = g->C, KWC = g->KW * C, K = g->KH * KWC;
  float *row = cols;
  for (int64_t n = 0; n < g->N; n++) {
    const float *img = in + n * g->H * g->W * C;
    for (int64_t y = 0; y < g->OH; y++)
      for (int64_t x = 0; x < g->OW; x++, row += K) {
        int64_t j0, j1, ix = x * g->SW - g->PL;
        kernel_cols(g, x, &j0, &j1);
        for (int64_t i = 0; i < g->KH; i++) {
          float *dst = row + i * KWC;
          int64_t iy = y * g->SH - g->PT + i;
          if (iy < 0 || iy >= g->H || j0 == j1) {
            memset(dst, 0, (size_t)KWC * sizeof(float));
            continue;
          }
          if (j0 > 0) memset(dst, 0, (size_t)(j0 * C) * sizeof(float));
          memcpy(dst + j0 * C, img + (iy * g->W + ix + j0) * C, (size_t)((j1 - j0) * C) * sizeof(float));
          if (j1 < g->KW) memset(dst + j1 * C, 0, (size_t)((g->KW - j1) * C) * sizeof(float));
        }
      }
  }
}

/* The transpose of im2col: din = 0, then every cols entry is added to the
 * input pixel it was copied from (padding entries are dropped). */
static void col2im(float *restrict din, const float *restrict cols, const Conv2DGeom *g) {
  const int64_t C = g->C, KWC = g->KW * C, K = g->KH * KWC;
  memset(din, 0, (size_t)(g->N * g->H * g->W * C) * sizeof(float));
  const float *row = cols;
  for (int64_t n = 0; n < g->N; n++) {
    float *img = din + n * g->H * g->W * C;
    for (int64_t y = 0; y < g->OH; y++)
      for (int64_t x = 0; x < g->OW; x++, row += K) {
        int64_t j0, j1, ix = x * g->SW - g->PL;
        kernel_cols(g, x, &j0, &j1);
        for (int64_t i = 0; i < g->KH; i++) {
          int64_t iy = y * g->SH - g->PT + i;
          if (iy < 0 || iy >= g->H || j0 == j1) continue;
          float *restrict dst = img + (iy * g->W + ix + j0) * C;
          const float *restrict src = row + i * KWC + j0 * C;
          for (int64_t e = 0; e < (j1 - j0) * C; e++) dst[e] += src[e];
        }
      }
  }
}

void conv2d_forward(float *out, void *scratch, const float *in, const float *W, const float *b,
                    int64_t n, const Conv2DPlan *p) {
  if (p->dnnl) {
    dnnl_conv_forward(p->dnnl, out, scratch, in, W, b, n);
    return;
  }
  Conv2DGeom g = p->g;
  g.N = n;
  const int64_t M = n * g.OH * g.OW, K = g.KH * g.KW * g.C, F = g.F;
  float *cols = scratch;
  im2col(cols, in, &g);
  for (int64_t r = 0; r < M; r++) memcpy(out + r * F, b, (size_t)F * sizeof(float));
  gemm_f32(0, 0, M, F, K, 1.0f, cols, K, W, F, 1.0f, out, F);
}

void conv2d_backward(float *din, float *dW, float *db, void *scratch, const float *dout,
                     const float *in, const float *W, int64_t n, const Conv2DPlan *p) {
  if (p->dnnl) {
    dnnl_conv_backward(p->dnnl, din, dW, db, scratch, dout, in, W, n);
    return;
  }
  Conv2DGeom g = p->g;
  g.N = n;
  const int64_t M = n * g.OH * g.OW, K = g.KH * g.KW * g.C, F = g.F;
  float *cols = scratch;  /* im2col(in), left by the forward */
  (void)in;
  gemm_f32(1, 0, K, F, M, 1.0f, cols, K, dout, F, 0.0f, dW, F);
  memset(db, 0, (size_t)F * sizeof(float));
  for (int64_t r = 0; r < M; r++) {
    const float *d = dout + r * F;
    for (int64_t f = 0; f < F; f++) db[f] += d[f];
  }
  if (!din) return;
  gemm_f32(0, 1, M, K, F, 1.0f, dout, F, W, F, 0.0f, cols, K);
  col2im(din, cols, &g);
}
