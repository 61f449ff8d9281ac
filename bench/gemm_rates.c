/* gemm_rates.c — GFLOP/s at the course's shapes through nnlab's gemm_f32,
 * for whichever library NNLAB_GEMM and OPENBLAS_CORETYPE select, in the
 * layouts a training step uses (its batch x stored feature-major, 3072×64):
 * the hidden layer's forward (xᵀ·W, 64×3072·3072×64), its weight gradient
 * (x·dz, 3072×64·64×64) and a large square product. bench_nn.sh runs it once
 * per library and OpenBLAS core type. Also prints the largest difference from
 * a double-precision reference, so a kernel that computes wrongly shows.
 * Usage: gemm_rates THREADS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gemm.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median GFLOP/s of 9 timings of C = op(A)·op(B). */
static double rate(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, const float *B,
                   float *C) {
  int64_t lda = ta ? M : K, ldb = tb ? K : N;
  double flops = 2.0 * (double)M * (double)N * (double)K, t[9];
  int reps = (int)(2e8 / flops) + 1;
  gemm_f32(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
  for (int r = 0; r < 9; r++) {
    double t0 = now();
    for (int i = 0; i < reps; i++) gemm_f32(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
    t[r] = (now() - t0) / reps;
  }
  qsort(t, 9, sizeof t[0], cmp);
  return flops / t[4] * 1e-9;
}

/* Largest |C - reference| for C = A·B with A M×K, B K×N. */
static double max_error(int64_t M, int64_t N, int64_t K, const float *A, const float *B, float *C) {
  double worst = 0;
  gemm_f32(0, 0, M, N, K, 1, A, K, B, N, 0, C, N);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++) s += (double)A[i * K + k] * B[k * N + j];
      worst = fmax(worst, fabs(s - C[i * N + j]));
    }
  return worst;
}

int main(int argc, char **argv) {
  int threads = gemm_set_threads(argc > 1 ? atoi(argv[1]) : 1);
  const int64_t big = 1536;
  float *A = malloc(sizeof(float) * big * big), *B = malloc(sizeof(float) * big * big),
        *C = malloc(sizeof(float) * big * big);
  if (!A || !B || !C) return 1;
  srand(1);
  for (int64_t i = 0; i < big * big; i++) {
    A[i] = (float)rand() / RAND_MAX - 0.5f;
    B[i] = (float)rand() / RAND_MAX - 0.5f;
  }
  char lib[256];
  gemm_describe(lib, sizeof lib);
  double fwd = rate(1, 0, 64, 64, 3072, A, B, C), dw = rate(0, 0, 3072, 64, 64, A, B, C),
         sq = rate(0, 0, big, big, big, A, B, C), err = max_error(64, 64, 3072, A, B, C);
  printf("threads=%d forward=%.1f weight_grad=%.1f square=%.1f max_error=%.2g | %s\n", threads, fwd,
         dw, sq, err, lib);
  free(A), free(B), free(C);
  return 0;
}
