/* augment.c — random flips and shifts of channels-last images, one transform
 * per sample. A shifted or mirrored row is still C contiguous values per
 * pixel, so each output row is a few memcpy/memset calls, or a pixel loop for
 * left-right mirrors. The draws are made in order, then the images are
 * transformed by all the threads. */
#include "augment.h"

#include "parallel.h"
#include "rng.h"

#include <math.h>
#include <string.h>

size_t random_flip_scratch_size(int64_t N) { return (size_t)N * sizeof(int32_t); }

/* out = in mirrored as flags says, for one H×W×C image. */
static void flip_image(float *restrict out, const float *restrict in, int64_t H, int64_t W,
                       int64_t C, int32_t flags) {
  const size_t row = (size_t)(W * C) * sizeof(float);
  for (int64_t y = 0; y < H; y++) {
    const float *src = in + ((flags & FLIP_VERTICAL) ? H - 1 - y : y) * W * C;
    float *dst = out + y * W * C;
    if (!(flags & FLIP_HORIZONTAL)) {
      memcpy(dst, src, row);
      continue;
    }
    for (int64_t x = 0; x < W; x++) {
      float *restrict d = dst + x * C;
      const float *restrict sp = src + (W - 1 - x) * C;
      for (int64_t c = 0; c < C; c++) d[c] = sp[c];  /* C is small: no memcpy call */
    }
  }
}

typedef struct {
  float *out;
  const float *in;
  const int32_t *draws; /* flags, or (dy, dx) pairs */
  int64_t H, W, C;
  int sign;             /* of a translation: −1 undoes it */
} Images;

/* The images are shared among the threads once the draws are made, in
 * order, on the calling thread: the generator's sequence is the same for
 * any thread count. */
static void each_image(RangeFn fn, Images *t, int64_t N) {
  parallel_items(N, t->H * t->W * t->C, 32768, fn, t);
}

static void flip_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Images *t = ctx;
  const int64_t HWC = t->H * t->W * t->C;
  (void)part;
  for (int64_t n = lo; n < hi; n++)
    flip_image(t->out + n * HWC, t->in + n * HWC, t->H, t->W, t->C, t->draws[n]);
}

void random_flip_forward(float *out, void *scratch, const float *in, int64_t N, int64_t H,
                         int64_t W, int64_t C, int mode) {
  int32_t *flags = scratch;
  for (int64_t n = 0; n < N; n++) {
    flags[n] = 0;
    if ((mode & FLIP_HORIZONTAL) && rng_uniform() < 0.5) flags[n] |= FLIP_HORIZONTAL;
    if ((mode & FLIP_VERTICAL) && rng_uniform() < 0.5) flags[n] |= FLIP_VERTICAL;
  }
  each_image(flip_images, &(Images){out, in, flags, H, W, C, 1}, N);
}

void random_flip_backward(float *din, const void *scratch, const float *dout, int64_t N,
                          int64_t H, int64_t W, int64_t C) {
  each_image(flip_images, &(Images){din, dout, scratch, H, W, C, 1}, N);
}

int64_t random_translation_range(double f, int64_t n) {
  double r = fabs(f) * (double)n;
  return (int64_t)floor(r + 1e-9);
}

size_t random_translation_scratch_size(int64_t N) { return (size_t)(2 * N) * sizeof(int32_t); }

/* out[y,x] = in[y − dy, x − dx], 0 outside, for one H×W×C image. */
static void shift_image(float *restrict out, const float *restrict in, int64_t H, int64_t W,
                        int64_t C, int64_t dy, int64_t dx) {
  const int64_t x0 = dx > 0 ? dx : 0, x1 = dx < 0 ? W + dx : W;  /* columns that get a pixel */
  for (int64_t y = 0; y < H; y++) {
    float *dst = out + y * W * C;
    int64_t sy = y - dy;
    if (sy < 0 || sy >= H || x1 <= x0) {
      memset(dst, 0, (size_t)(W * C) * sizeof(float));
      continue;
    }
    memset(dst, 0, (size_t)(x0 * C) * sizeof(float));
    memcpy(dst + x0 * C, in + (sy * W + x0 - dx) * C, (size_t)((x1 - x0) * C) * sizeof(float));
    memset(dst + x1 * C, 0, (size_t)((W - x1) * C) * sizeof(float));
  }
}

static void shift_images(void *ctx, int part, int64_t lo, int64_t hi) {
  const Images *t = ctx;
  const int64_t HWC = t->H * t->W * t->C;
  (void)part;
  for (int64_t n = lo; n < hi; n++)
    shift_image(t->out + n * HWC, t->in + n * HWC, t->H, t->W, t->C, t->sign * t->draws[2 * n],
                t->sign * t->draws[2 * n + 1]);
}

void random_translation_forward(float *out, void *scratch, const float *in, int64_t N, int64_t H,
                                int64_t W, int64_t C, double height_factor, double width_factor) {
  int32_t *shift = scratch;
  const int64_t mh = random_translation_range(height_factor, H),
                mw = random_translation_range(width_factor, W);
  for (int64_t n = 0; n < N; n++) {
    int64_t dy = mh > 0 ? (int64_t)rng_below((uint64_t)(2 * mh + 1)) - mh : 0;
    int64_t dx = mw > 0 ? (int64_t)rng_below((uint64_t)(2 * mw + 1)) - mw : 0;
    shift[2 * n] = (int32_t)dy;
    shift[2 * n + 1] = (int32_t)dx;
  }
  each_image(shift_images, &(Images){out, in, shift, H, W, C, 1}, N);
}

void random_translation_backward(float *din, const void *scratch, const float *dout, int64_t N,
                                 int64_t H, int64_t W, int64_t C) {
  each_image(shift_images, &(Images){din, dout, scratch, H, W, C, -1}, N);
}
