/* parallel.h — one loop split over the threads gemm_set_threads chose, for
 * the memory-bound passes of a training step (the optimizer's update, the
 * minibatch gather) that would otherwise leave the second core idle while
 * the first one works. */
#ifndef NNLAB_PARALLEL_H
#define NNLAB_PARALLEL_H

#include <stdint.h>

/* part numbers the ranges 0, 1, ... in order, so that a caller can keep one
 * partial result a range and combine them in a fixed order. */
typedef void (*RangeFn)(void *ctx, int part, int64_t lo, int64_t hi);

/* Calls fn(ctx, part, lo, hi) over consecutive ranges covering [0, n), one
 * range a thread, each a multiple of `align` long but the last; at most
 * parallel_parts() ranges. Runs fn(ctx, 0, 0, n) on the calling thread when
 * n is under `min_work`, one thread is set, or it is called from inside a
 * parallel range. fn must not depend on which thread runs which range. */
void parallel_ranges(int64_t n, int64_t min_work, int64_t align, RangeFn fn, void *ctx);
/* The most ranges parallel_ranges makes now (the thread count, or 1). */
int parallel_parts(void);
/* The length of each range (the last may be shorter) when n is split in
 * `parts` ranges that are multiples of `align`: range t starts at t·len. */
int64_t parallel_range_len(int64_t n, int parts, int64_t align);
/* parallel_ranges over n items (images, rows) of item_work values each, in
 * ranges of whole items, split only when all of them reach min_work. */
void parallel_items(int64_t n, int64_t item_work, int64_t min_work, RangeFn fn, void *ctx);

#endif
