/* threads.c — one place that knows how many threads to use: the matrix
 * library's and nnlab's own kernels'. */
#include "threads.h"

#include "gemm.h"

static int g_threads = 1;

void nnlab_set_threads(int n) { g_threads = gemm_set_threads(n); }

int nnlab_threads(void) { return g_threads; }
