/* mosaic.h — tiles (weight templates, example images) laid out as one
 * image for gnuplot: a grid of `cols` tiles of h x w pixels with c channels
 * (1 grey, 3 RGB), `gap` background pixels between tiles and a caption band
 * of `band` pixel rows under each tile row. Knows nothing of Lua; cannot fail
 * (the caller allocates out and tmp). */
#ifndef NNLAB_MOSAIC_H
#define NNLAB_MOSAIC_H

#include <stdint.h>

typedef enum { MOSAIC_RAW = 0, MOSAIC_MINMAX = 1 } MosaicScale;

typedef struct MosaicLayout {
  int n, h, w, c;   /* tiles, tile height, width, channels */
  int cols, rows;   /* grid */
  int gap, band;    /* pixels between tiles, caption rows under each tile row */
  int width, height; /* of the whole mosaic, in pixels */
} MosaicLayout;

/* Fills rows, width and height from n, h, w, c, cols, gap and band. */
void mosaic_layout(MosaicLayout *m);

/* Blurs one tile (h x w x c, channels last) in place with a Gaussian of
 * standard deviation sigma (separable, radius ceil(2.5 sigma), edges
 * renormalised so borders are not darkened). tmp holds h*w*c floats. */
void mosaic_blur(float *tile, int h, int w, int c, float sigma, float *tmp);

/* Scales one tile to 0..255 by its own minimum and maximum (a constant tile
 * becomes mid-grey 127.5). */
void mosaic_minmax(float *tile, int64_t n);

/* Draws tile t (h*w*c floats, channels last) at its grid place in out
 * (width*height*c floats, row-major from the top, channels interleaved as
 * gnuplot's %float%float%float reads them). */
void mosaic_put(float *out, const MosaicLayout *m, int t, const float *tile);

/* Fills out with the background value (NaN draws nothing in gnuplot's
 * `with image`; 255 is white for `with rgbimage`). */
void mosaic_clear(float *out, const MosaicLayout *m, float bg);

#endif
