/* parallel.h — one loop split over the threads gemm_set_threads chose, for
 * the memory-bound passes of a training step (the optimizer's update, the
 * minibatch gather) that would otherwise leave the second core idle while
 * the first one works. */
#ifndef NNLAB_PARALLEL_H
#define NNLAB_PARALLEL_H

#include <stdint.h>

typedef void (*RangeFn)(void *ctx, int64_t lo, int64_t hi);

/* Calls fn(ctx, lo, hi) over consecutive ranges covering [0, n), one range
 * a thread, each a multiple of `align` long but the last. Runs fn(ctx, 0, n)
 * on the calling thread when n is under `min_work` or one thread is set.
 * fn must not depend on which thread runs which range. */
void parallel_ranges(int64_t n, int64_t min_work, int64_t align, RangeFn fn, void *ctx);

#endif
