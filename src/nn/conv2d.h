/* conv2d.h — the 2-D convolution kernels behind nn.Conv2D: geometry (stride,
 * Keras's "valid" and "same" padding or an explicit one), forward and
 * backward through oneDNN or through im2col and one gemm_f32. Images are N×H×W×C
 * (channels last, as the datasets and Keras); weights are KH×KW×C×F (Keras's
 * layout, so W seen as (KH·KW·C)×F is inputs × units as for Dense). Knows no
 * Lua. A plan, made once per geometry, holds the engine's state; the calls
 * allocate nothing: the caller passes a scratch buffer of
 * conv2d_scratch_size() bytes. */
#ifndef NNLAB_CONV2D_H
#define NNLAB_CONV2D_H

#include <stddef.h>
#include <stdint.h>

/* padding argument of conv2d_geom: Keras's "same", or a count >= 0 of zero
 * rows and columns added on every side ("valid" is 0). */
#define CONV2D_SAME (-1)

typedef struct Conv2DGeom {
  int64_t N, H, W, C;   /* input: N images of H×W with C channels */
  int64_t KH, KW, F;    /* kernel size and number of filters */
  int64_t SH, SW;       /* strides */
  int64_t PT, PL;       /* zero rows above / columns left of the image */
  int64_t OH, OW;       /* output: N×OH×OW×F */
} Conv2DGeom;

/* Fills g for the given sizes. With padding p >= 0, OH = ⌊(H + 2p − KH)/SH⌋ + 1;
 * with CONV2D_SAME, as Keras and TensorFlow: OH = ⌈H/SH⌉ and the
 * max((OH−1)·SH + KH − H, 0) padding rows are split with the odd one at the
 * bottom (likewise for the width). Returns 0, or -1 with a message in err
 * (256 bytes, NN_ERRLEN) when a size is not positive or the kernel is larger than
 * the padded image. */
int conv2d_geom(Conv2DGeom *g, int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH,
                int64_t KW, int64_t F, int64_t SH, int64_t SW, int64_t padding, char *err);

/* A convolution ready to run: the engine chosen for a geometry and what it
 * prepared (oneDNN's primitives, made once). Built for g->N images, it runs
 * any batch of n <= g->N.
 *   CONV2D_ONEDNN  oneDNN's direct convolutions (JIT, in its blocked layouts;
 *                  conversions from and to channels-last included): the
 *                  fastest here, 2-3x im2col on the lesson's network
 *                  (bench/bench_conv.sh);
 *   CONV2D_IM2COL  im2col + one gemm_f32 per call: the reference;
 *   CONV2D_AUTO    oneDNN when it has a JIT kernel for this shape and
 *                  machine, im2col otherwise. */
enum { CONV2D_AUTO, CONV2D_IM2COL, CONV2D_ONEDNN };
typedef struct Conv2DPlan Conv2DPlan;

/* Returns a new plan (free with conv2d_plan_free), or NULL with a message in
 * err (256 bytes) on allocation failure or when CONV2D_ONEDNN was asked for
 * and oneDNN cannot run this convolution. */
Conv2DPlan *conv2d_plan_new(const Conv2DGeom *g, int engine, char *err);
void conv2d_plan_free(Conv2DPlan *p);
/* "oneDNN jit:avx512_core" or "im2col + gemm_f32". */
const char *conv2d_plan_engine(const Conv2DPlan *p);

/* Bytes of scratch that conv2d_forward and conv2d_backward need for batches
 * of up to g->N images (im2col: the (N·OH·OW) × (KH·KW·C) floats of cols;
 * oneDNN: the images in its layouts, its weight copies and its scratchpad). */
size_t conv2d_scratch_size(const Conv2DPlan *p);

/* out[n,y,x,f] = b[f] + Σ_{i,j,c} in[n, y·SH − PT + i, x·SW − PL + j, c] · W[i,j,c,f]
 * (pixels outside the image are 0), for the first n images. With
 * cols = im2col(in), the (n·OH·OW) × (KH·KW·C) matrix whose row (n,y,x) is
 * the receptive field of that output pixel in W's order: out = cols·W + b.
 * out is n×OH×OW×F, in is n×H×W×C, W is KH×KW×C×F, b is F.
 * Leaves in scratch what conv2d_backward reads: keep scratch untouched
 * between the forward and the backward of the same batch. */
void conv2d_forward(float *out, void *scratch, const float *in, const float *W, const float *b,
                    int64_t n, const Conv2DPlan *p);

/* Given dout = dL/d(out) (n×OH×OW×F), the forward's input in and the scratch
 * it left:
 *   dW = colsᵀ·dout   ((KH·KW·C) × F)      db[f] = Σ_{n,y,x} dout[n,y,x,f]
 *   dcols = dout·Wᵀ, then din = col2im(dcols): each entry is added back to
 *   the input pixel it was copied from (n×H×W×C).
 * din is skipped when NULL (the first layer). dW and db are overwritten, not
 * accumulated. scratch is overwritten. */
void conv2d_backward(float *din, float *dW, float *db, void *scratch, const float *dout,
                     const float *in, const float *W, int64_t n, const Conv2DPlan *p);

#endif
