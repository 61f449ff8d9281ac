/* augment.h — the kernels behind the augmentation layers nn.RandomFlip and
 * nn.RandomTranslation on N×H×W×C images: each sample gets its own transform,
 * drawn from the seeded generator (rng.h), so that a seed repeats a run. The
 * forward records what it drew in a scratch buffer (*_scratch_size() bytes),
 * and the backward sends the gradient back through the same transforms.
 * Identity outside training is the layer's business, not the kernel's. Knows
 * no Lua and allocates nothing; out and in must not overlap. */
#ifndef NNLAB_AUGMENT_H
#define NNLAB_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

/* RandomFlip modes (Keras's "horizontal", "vertical",
 * "horizontal_and_vertical"). */
#define FLIP_HORIZONTAL 1
#define FLIP_VERTICAL 2

/* One int32 per sample: bit 0 set when it was mirrored left-right
 * (x → W−1−x), bit 1 when upside-down (y → H−1−y). */
size_t random_flip_scratch_size(int64_t N);
/* Each sample is mirrored along each axis in mode with probability 1/2
 * (one rng_uniform() < 0.5 draw per axis in mode, sample by sample, the
 * horizontal axis first). */
void random_flip_forward(float *out, void *scratch, const float *in, int64_t N, int64_t H,
                         int64_t W, int64_t C, int mode);
/* A flip is its own inverse (and transpose): din = flip(dout). */
void random_flip_backward(float *din, const void *scratch, const float *dout, int64_t N,
                          int64_t H, int64_t W, int64_t C);

/* Largest shift along an axis of size n for a factor f (Keras's fraction of
 * the size: 2/32 on 32 pixels is 2): ⌊f·n⌋, with f·n a hair under an integer
 * counted as that integer. */
int64_t random_translation_range(double f, int64_t n);
/* Two int32 per sample: the shift (dy, dx) it was given. */
size_t random_translation_scratch_size(int64_t N);
/* Each sample moves by whole pixels, dy uniform in [−⌊hf·H⌋, ⌊hf·H⌋] then dx
 * likewise for the width (rng_below, in that order, no draw for a range of 0):
 *   out[n,y,x,c] = in[n, y − dy, x − dx, c], or 0 where that is outside.
 * A positive dy moves the content down, a positive dx to the right, as in
 * Keras; unlike Keras the shift is whole pixels (no interpolation), as in
 * ConvNetJS's CIFAR-10 demo. */
void random_translation_forward(float *out, void *scratch, const float *in, int64_t N, int64_t H,
                                int64_t W, int64_t C, double height_factor, double width_factor);
/* The transpose: din[n,y,x,c] = dout[n, y + dy, x + dx, c], 0 outside (the
 * pixels that left the image get no gradient). */
void random_translation_backward(float *din, const void *scratch, const float *dout, int64_t N,
                                 int64_t H, int64_t W, int64_t C);

#endif
