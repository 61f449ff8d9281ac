/* conv2d_dnnl.h — the oneDNN engine behind conv2d.h's plans (private to
 * conv2d.c): oneDNN's direct convolutions in the layouts it prefers, with the
 * images converted from and to channels-last at each call. */
#ifndef NNLAB_CONV2D_DNNL_H
#define NNLAB_CONV2D_DNNL_H

#include "conv2d.h"

typedef struct DnnlConv DnnlConv;

/* Builds the primitives for g (g->N the largest batch). Returns NULL with a
 * reason in err (256 bytes) when oneDNN has no direct (JIT) implementation
 * for this shape and machine, or cannot allocate. */
DnnlConv *dnnl_conv_new(const Conv2DGeom *g, char *err);
void dnnl_conv_free(DnnlConv *d);
size_t dnnl_conv_scratch_size(const DnnlConv *d);
/* oneDNN's name for the implementation, e.g. "jit:avx512_core". */
const char *dnnl_conv_impl(const DnnlConv *d);
/* As conv2d_forward / conv2d_backward, for the first n <= g->N images. */
void dnnl_conv_forward(const DnnlConv *d, float *out, void *scratch, const float *in,
                       const float *W, const float *b, int64_t n);
void dnnl_conv_backward(const DnnlConv *d, float *din, float *dW, float *db, void *scratch,
                        const float *dout, const float *in, const float *W, int64_t n);

#endif
