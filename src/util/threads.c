/* threads.c — one place that knows how many threads to use: OpenBLAS's,
 * OpenMP's (oneDNN) and nnlab's own. */
#include "threads.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

static int g_threads = 1;

void nnlab_set_threads(int n) {
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (int)c : 1;
  }
  g_threads = n;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);  /* oneDNN's convolutions run on OpenMP */
}

int nnlab_threads(void) { return g_threads; }
