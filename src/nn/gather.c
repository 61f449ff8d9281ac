/* gather.c — the minibatch gather fused with Rescaling: the dataset stays
 * in its own dtype (uint8 for images) and only B rows at a time become
 * floats, x·scale + offset. Rows are stored sample-major (B × F, what every
 * layer takes) or, for the first Dense layer of a training step,
 * feature-major (F × B; layer_dense.c says why). A large batch (CIFAR-10's
 * 64×3072) is shared among the threads by features: the same features
 * each thread multiplies in the first Dense layer (gemm.c splits its
 * products along them), so the batch stays in that thread's cache. */
#include "nn.h"
#include "parallel.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
  float *out;
  const Tensor *X;
  const int32_t *idx;
  int64_t first, B, F;
  float scale, offset;
} Gather;

/* The rows of a shuffled batch are scattered over the dataset (CIFAR-10's
 * is 150 MB), so each one starts with cache misses that the hardware
 * prefetcher cannot foresee; asking for the row two ahead while converting
 * this one took a fifth off the gather (bench_nn.sh, 2-core EPYC). */
#define GATHER_AHEAD 2

static int64_t row_of(const Gather *g, int64_t r) { return g->idx ? g->idx[r] : g->first + r; }

static void prefetch_row(const Gather *g, int64_t r, int64_t lo, int64_t hi) {
  if (r >= g->B || g->X->dtype != DT_UINT8) return;
  const uint8_t *s = tensor_u8(g->X) + row_of(g, r) * g->F;
  for (int64_t j = lo; j < hi; j += 64) __builtin_prefetch(s + j);
}

/* Values lo..hi of dataset row `row`, converted, to o[(j - lo)·step];
 * inlined, so that the contiguous case (step 1) vectorizes. */
static inline __attribute__((always_inline)) void convert(float *restrict o, int64_t step,
                                                          const Tensor *X, int64_t row, int64_t F,
                                                          int64_t lo, int64_t hi, float scale,
                                                          float offset) {
  switch (X->dtype) {
  case DT_UINT8: {
    const uint8_t *restrict s = tensor_u8(X) + row * F;
    for (int64_t j = lo; j < hi; j++) o[(j - lo) * step] = (float)s[j] * scale + offset;
    break;
  }
  case DT_INT32: {
    const int32_t *restrict s = tensor_i32(X) + row * F;
    for (int64_t j = lo; j < hi; j++) o[(j - lo) * step] = (float)s[j] * scale + offset;
    break;
  }
  default: {
    const float *restrict s = tensor_f32(X) + row * F;
    for (int64_t j = lo; j < hi; j++) o[(j - lo) * step] = s[j] * scale + offset;
    break;
  }
  }
}

/* Features lo..hi of every row of the batch, sample-major. */
static void gather_cols(void *ctx, int part, int64_t lo, int64_t hi) {
  (void)part;
  const Gather *g = ctx;
  for (int64_t r = 0; r < g->B; r++) {
    prefetch_row(g, r + GATHER_AHEAD, lo, hi);
    convert(g->out + r * g->F + lo, 1, g->X, row_of(g, r), g->F, lo, hi, g->scale, g->offset);
  }
}

#if defined(__x86_64__)
/* x[k] holds 32 bytes of row k; afterwards, for p in 0..7, the 64-bit
 * interleave of x[2p] and x[2p+1] (low, then high) holds byte j = 2p, then
 * 2p + 1, of the 16 rows in its low half and byte 16 + j in its high half:
 * three rounds of interleaving, each doubling the run of one row (AVX2
 * interleaves within each half); the caller makes the fourth as it stores.
 * The loops are unrolled so that the values stay in registers: rolled, gcc
 * passed every round through the stack, and the gather of a CIFAR-10 epoch
 * took 0.025 s rather than 0.018 (2-core EPYC). */
__attribute__((target("avx2"))) static inline void transpose16(__m256i x[16]) {
  __m256i t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    t[i] = _mm256_unpacklo_epi8(x[2 * i], x[2 * i + 1]);
    t[i + 8] = _mm256_unpackhi_epi8(x[2 * i], x[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      x[h + i] = _mm256_unpacklo_epi16(t[h + 2 * i], t[h + 2 * i + 1]);
      x[h + i + 4] = _mm256_unpackhi_epi16(t[h + 2 * i], t[h + 2 * i + 1]);
    }
#pragma GCC unroll 4
  for (int q = 0; q < 16; q += 4)
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) {
      t[q + i] = _mm256_unpacklo_epi32(x[q + 2 * i], x[q + 2 * i + 1]);
      t[q + i + 2] = _mm256_unpackhi_epi32(x[q + 2 * i], x[q + 2 * i + 1]);
    }
#pragma GCC unroll 16
  for (int k = 0; k < 16; k++) x[k] = t[k];
}

/* 16 uint8 values to o[0..16): a product and a sum, rounded each, as
 * convert's (no fused multiply-add), so both paths give the same floats. */
__attribute__((target("avx2"))) static inline void store16(float *o, __m128i b, __m256 scale,
                                                           __m256 offset) {
  __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
  __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(b, b)));
  _mm256_storeu_ps(o, _mm256_add_ps(_mm256_mul_ps(lo, scale), offset));
  _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_mul_ps(hi, scale), offset));
}

/* Features lo..hi of every uint8 row of the batch, feature-major, 16 rows
 * at a time: 32 bytes of each are transposed in registers, so that each
 * feature's 16 samples are converted and stored as one cache line. A last
 * group of fewer rows repeats its first row to fill the registers and
 * copies only its own samples out; features past the last 32 go through
 * convert. */
__attribute__((target("avx2"))) static void gather_cols_fm(void *ctx, int part, int64_t lo,
                                                           int64_t hi) {
  (void)part;
  const Gather *g = ctx;
  const int64_t B = g->B, F = g->F;
  const __m256 scale = _mm256_set1_ps(g->scale), offset = _mm256_set1_ps(g->offset);
  for (int64_t r = 0; r < B; r += 16) {
    const int64_t nr = B - r < 16 ? B - r : 16;
    const uint8_t *s[16];
    for (int k = 0; k < 16; k++) {
      s[k] = tensor_u8(g->X) + row_of(g, r + (k < nr ? k : 0)) * F;
      prefetch_row(g, r + 16 + k, lo, hi);
    }
    /* a full group stores straight into the batch, a short one aside */
    float part_rows[32 * 16];
    const int64_t ds = nr == 16 ? B : 16;
    int64_t j = lo;
    for (; j + 32 <= hi; j += 32) {
      __m256i x[16];
      float *d = nr == 16 ? g->out + j * B + r : part_rows;
#pragma GCC unroll 16
      for (int k = 0; k < 16; k++) x[k] = _mm256_loadu_si256((const __m256i *)(s[k] + j));
      transpose16(x);
#pragma GCC unroll 8
      for (int p = 0; p < 8; p++) {
        __m256i a = _mm256_unpacklo_epi64(x[2 * p], x[2 * p + 1]);
        __m256i b = _mm256_unpackhi_epi64(x[2 * p], x[2 * p + 1]);
        store16(d + (2 * p) * ds, _mm256_castsi256_si128(a), scale, offset);
        store16(d + (2 * p + 16) * ds, _mm256_extracti128_si256(a, 1), scale, offset);
        store16(d + (2 * p + 1) * ds, _mm256_castsi256_si128(b), scale, offset);
        store16(d + (2 * p + 17) * ds, _mm256_extracti128_si256(b, 1), scale, offset);
      }
      if (nr < 16)
        for (int f = 0; f < 32; f++)
          memcpy(g->out + (j + f) * B + r, part_rows + f * 16, (size_t)nr * sizeof(float));
    }
    for (int k = 0; k < nr && j < hi; k++)
      convert(g->out + j * B + r + k, B, g->X, row_of(g, r + k), F, j, hi, g->scale, g->offset);
  }
}
#endif

/* The features a batch of B rows needs before its gather is split over
 * the threads: 16,384 values, as parallel_items counts them. */
static int64_t split_from(int64_t B) { return 16384 / (B > 0 ? B : 1) + 1; }

void gather_rows(float *restrict out, const Tensor *X, const int32_t *idx, int64_t first,
                 int64_t B, int64_t F, float scale, float offset) {
  Gather g = {out, X, idx, first, B, F, scale, offset};
  parallel_ranges(F, split_from(B), 16, gather_cols, &g);
}

int gather_rows_fm(float *restrict out, const Tensor *X, const int32_t *idx, int64_t first,
                   int64_t B, int64_t F, float scale, float offset) {
#if defined(__x86_64__)
  static int avx2 = -1;
  if (avx2 < 0) {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2");
  }
  if (!avx2 || X->dtype != DT_UINT8 || B < 16) return 0;
  Gather g = {out, X, idx, first, B, F, scale, offset};
  parallel_ranges(F, split_from(B), 32, gather_cols_fm, &g);
  return 1;
#else
  (void)out, (void)X, (void)idx, (void)first, (void)B, (void)F, (void)scale, (void)offset;
  return 0;
#endif
}
