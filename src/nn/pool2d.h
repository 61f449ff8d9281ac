/* pool2d.h — the kernels behind nn.MaxPool2D and nn.AvgPool2D: a PH×PW window
 * moved by SH×SW over each channel of N×H×W×C images, no padding (Keras's
 * "valid": OH = ⌊(H − PH)/SH⌋ + 1). Knows no Lua and allocates nothing:
 * max pooling keeps the position of each maximum in a scratch buffer of
 * pool2d_scratch_size() bytes for its backward. */
#ifndef NNLAB_POOL2D_H
#define NNLAB_POOL2D_H

#include <stddef.h>
#include <stdint.h>

typedef struct Pool2DGeom {
  int64_t N, H, W, C;   /* input N×H×W×C */
  int64_t PH, PW;       /* window */
  int64_t SH, SW;       /* strides */
  int64_t OH, OW;       /* output N×OH×OW×C */
} Pool2DGeom;

/* Fills g. Returns 0, or -1 with a message in err (256 bytes, NN_ERRLEN) when
 * a size is not positive or the window is larger than the image. */
int pool2d_geom(Pool2DGeom *g, int64_t N, int64_t H, int64_t W, int64_t C, int64_t PH,
                int64_t PW, int64_t SH, int64_t SW, char *err);

/* Bytes of scratch that maxpool2d_forward fills and maxpool2d_backward reads:
 * one int32 per output value. Average pooling needs none. */
size_t pool2d_scratch_size(const Pool2DGeom *g);

/* out[n,y,x,c] = max_{i<PH, j<PW} in[n, y·SH + i, x·SW + j, c]; the position
 * (y·SH + i)·W + (x·SW + j) of the first maximum in row-major window order
 * (PyTorch's choice on ties) is kept in scratch. NaN counts as a maximum. */
void maxpool2d_forward(float *out, void *scratch, const float *in, const Pool2DGeom *g);
/* din = 0, then din[n, argmax, c] += dout[n,y,x,c]: each gradient goes to the
 * input that won its window (overlapping windows add up). */
void maxpool2d_backward(float *din, const void *scratch, const float *dout, const Pool2DGeom *g);

/* out[n,y,x,c] = (1/(PH·PW)) Σ_{i,j} in[n, y·SH + i, x·SW + j, c]. */
void avgpool2d_forward(float *out, const float *in, const Pool2DGeom *g);
/* din[n, y·SH + i, x·SW + j, c] += dout[n,y,x,c] / (PH·PW), from din = 0. */
void avgpool2d_backward(float *din, const float *dout, const Pool2DGeom *g);

#endif
