/* parallel.c — parallel_ranges on OpenMP's pool, the one oneDNN uses, so
 * no second pool of threads competes for the cores. */
#include "parallel.h"

#include <omp.h>

int parallel_parts(void) { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

void parallel_ranges(int64_t n, int64_t min_work, int64_t align, RangeFn fn, void *ctx) {
  int nt = parallel_parts();
  if (nt <= 1 || n < min_work) {
    if (n > 0) fn(ctx, 0, 0, n);
    return;
  }
  if (align < 1) align = 1;
  int64_t step = ((n + nt - 1) / nt + align - 1) / align * align;
#pragma omp parallel for num_threads(nt) schedule(static, 1)
  for (int t = 0; t < nt; t++) {
    int64_t lo = (int64_t)t * step, hi = lo + step < n ? lo + step : n;
    if (lo < hi) fn(ctx, t, lo, hi);
  }
}
