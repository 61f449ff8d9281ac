/* mosaic.c — building the one-image mosaic of tiles that plot.weights,
 * plot.grid and plot.mistakes send to gnuplot, with the per-tile operations
 * (Gaussian smoothing, min-max scaling) applied before a tile is placed. */
#include "mosaic.h"

#include <math.h>
#include <string.h>

void mosaic_layout(MosaicLayout *m) {
  if (m->cols < 1) m->cols = 1;
  if (m->cols > m->n && m->n > 0) m->cols = m->n;
  m->rows = m->n > 0 ? (m->n + m->cols - 1) / m->cols : 1;
  m->width = m->cols * m->w + (m->cols - 1) * m->gap;
  m->height = m->rows * (m->h + m->band) + (m->rows - 1) * m->gap;
}

/* One pass of a 1-D Gaussian along rows (dx=1) or columns: out(x) =
 * sum_k g(k) in(x+k) / sum_k g(k) over the k that stay inside the tile. */
static void blur_pass(float *dst, const float *src, int h, int w, int c, const float *g, int r,
                      int along_x) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < c; ch++) {
        double s = 0, ws = 0;
        for (int k = -r; k <= r; k++) {
          int xx = along_x ? x + k : x, yy = along_x ? y : y + k;
          if (xx < 0 || xx >= w || yy < 0 || yy >= h) continue;
          s += g[k + r] * src[((size_t)yy * w + xx) * c + ch];
          ws += g[k + r];
        }
        dst[((size_t)y * w + x) * c + ch] = (float)(s / ws);
      }
}

void mosaic_blur(float *tile, int h, int w, int c, float sigma, float *tmp) {
  if (!(sigma > 0)) return;
  if (!(sigma <= 1e6f)) sigma = 1e6f; /* the radius is capped below; keep the Gaussian finite */
  float rf = ceilf(2.5f * sigma);
  int r = rf > 15 ? 15 : (int)rf;
  float g[31];
  for (int k = -r; k <= r; k++) g[k + r] = expf(-(float)(k * k) / (2 * sigma * sigma));
  blur_pass(tmp, tile, h, w, c, g, r, 1);
  blur_pass(tile, tmp, h, w, c, g, r, 0);
}

void mosaic_minmax(float *tile, int64_t n) {
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(tile[i])) {
      if (tile[i] < lo) lo = tile[i];
      if (tile[i] > hi) hi = tile[i];
    }
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(tile[i])) tile[i] = 0;
    else tile[i] = hi > lo ? 255.0f * (tile[i] - lo) / (hi - lo) : 127.5f;
  }
}

void mosaic_put(float *out, const MosaicLayout *m, int t, const float *tile) {
  int gx = t % m->cols, gy = t / m->cols;
  int x0 = gx * (m->w + m->gap), y0 = gy * (m->h + m->band + m->gap);
  size_t rowlen = (size_t)m->w * (size_t)m->c;
  for (int y = 0; y < m->h; y++)
    memcpy(out + ((size_t)(y0 + y) * m->width + x0) * m->c, tile + (size_t)y * rowlen,
           rowlen * sizeof(float));
}

void mosaic_clear(float *out, const MosaicLayout *m, float bg) {
  size_t n = (size_t)m->width * m->height * m->c;
  for (size_t i = 0; i < n; i++) out[i] = bg;
}
