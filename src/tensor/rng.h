/* rng.h — the one seeded random generator behind tensor.rand/randn, weight
 * initialisation, shuffling, Dropout masks and data.subset (xoshiro256**,
 * seeded through splitmix64). --seed sets it; the same seed gives the same
 * stream on every machine. Not thread-safe: draw from one thread. */
#ifndef NNLAB_RNG_H
#define NNLAB_RNG_H

#include <stdint.h>

void rng_seed(uint64_t seed);
uint64_t rng_next(void);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(void);
/* Standard normal (Box-Muller, one value per call, deterministic). */
double rng_normal(void);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t rng_below(uint64_t n);
/* Fisher-Yates shuffle of idx[0..n) from the generator. */
void rng_shuffle_i32(int32_t *idx, int64_t n);
/* The same shuffle from a private splitmix64 stream started at `seed`, so
 * the order depends on the seed alone and the generator is left untouched
 * (data.subset(ds, n, seed), ds:batches{seed=}). */
void rng_shuffle_i32_seeded(int32_t *idx, int64_t n, uint64_t seed);

#endif
