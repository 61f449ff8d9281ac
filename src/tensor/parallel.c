/* parallel.c — parallel_ranges on OpenMP's pool, the one oneDNN uses, so
 * no second pool of threads competes for the cores. */
#include "parallel.h"

#include <omp.h>

int64_t parallel_range_len(int64_t n, int parts, int64_t align) {
  if (align < 1) align = 1;
  return ((n + parts - 1) / parts + align - 1) / align * align;
}

void parallel_items(int64_t n, int64_t item_work, int64_t min_work, RangeFn fn, void *ctx) {
  parallel_ranges(n, min_work / (item_work > 0 ? item_work : 1) + 1, 1, fn, ctx);
}

int parallel_parts(void) { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

void parallel_ranges(int64_t n, int64_t min_work, int64_t align, RangeFn fn, void *ctx) {
  int nt = parallel_parts();
  if (nt <= 1 || n < min_work) {
    if (n > 0) fn(ctx, 0, 0, n);
    return;
  }
  int64_t step = parallel_range_len(n, nt, align);
#pragma omp parallel for num_threads(nt) schedule(static, 1)
  for (int t = 0; t < nt; t++) {
    int64_t lo = (int64_t)t * step, hi = lo + step < n ? lo + step : n;
    if (lo < hi) fn(ctx, t, lo, hi);
  }
}
