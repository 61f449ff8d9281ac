/* rng.c — the one generator and the one shuffle: xoshiro256** (Blackman and
 * Vigna), seeded by splitmix64 so that any 64-bit seed, including 0, gives a
 * well-mixed state; Fisher-Yates shuffles from it or from a private
 * splitmix64 stream. */
#include "rng.h"

#include <math.h>

static uint64_t s[4] = {0x9e3779b97f4a7c15ULL, 1, 2, 3};

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rng_seed(uint64_t seed) {
  for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

uint64_t rng_next(void) {
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rng_uniform(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

double rng_normal(void) {
  double u1 = rng_uniform(), u2 = rng_uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t rng_below(uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
  do x = rng_next(); while (x >= limit);
  return x % n;
}

void rng_shuffle_i32(int32_t *idx, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)rng_below((uint64_t)i + 1);
    int32_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

void rng_shuffle_i32_seeded(int32_t *idx, int64_t n, uint64_t seed) {
  for (int64_t i = n - 1; i > 0; i--) {
    /* unbiased draw in [0, i] by rejection */
    uint64_t bound = (uint64_t)i + 1, lim = UINT64_MAX - UINT64_MAX % bound, r;
    do r = splitmix64(&seed); while (r >= lim);
    int64_t j = (int64_t)(r % bound);
    int32_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}
