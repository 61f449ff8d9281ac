/* threads.c — one place that knows how many threads to use. */
#include "threads.h"

#include <cblas.h>
#include <unistd.h>

static int g_threads = 1;

void nnlab_set_threads(int n) {
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (int)c : 1;
  }
  g_threads = n;
  openblas_set_num_threads(n);
}

int nnlab_threads(void) { return g_threads; }
