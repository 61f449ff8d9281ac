/* cpu.c — subnormal floats flushed to zero everywhere, and the processor's
 * instruction sets. Why flush: a hidden unit that stops firing gets zero
 * gradients, so its momentum decays by 0.9 a step into the subnormal range,
 * where many cores take a slow path for every multiply (4x slower epochs
 * were seen). Flushing changes only values below 1.2e-38, as TensorFlow's
 * threads and torch.set_flush_denormal(True) do. The mode is per thread and
 * inherited by threads created later, and libraries such as OpenBLAS start
 * their threads before main(): so it is set in .preinit_array, which the
 * dynamic loader runs before any library's initialiser. */
#include "cpu.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

void cpu_flush_subnormals(void) {
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

int cpu_flushes_subnormals(void) {
  return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON &&
         _MM_GET_DENORMALS_ZERO_MODE() == _MM_DENORMALS_ZERO_ON;
}

static int has_avx512(void) {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

static int has_avx2_fma(void) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const char *cpu_vector_isa(void) {
  __builtin_cpu_init();
  if (has_avx512()) return "AVX-512";
  if (has_avx2_fma()) return "AVX2+FMA";
  if (__builtin_cpu_supports("avx")) return "AVX";
  return "SSE";
}

void cpu_model_name(char *buf, size_t len) {
  unsigned r[12] = {0};
  unsigned max = __get_cpuid_max(0x80000000, NULL);
  if (max < 0x80000004) { snprintf(buf, len, "unknown x86-64"); return; }
  for (unsigned i = 0; i < 3; i++)
    __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
  char name[49];
  memcpy(name, r, 48);
  name[48] = 0;
  char *p = name, *e;
  while (*p == ' ') p++;
  for (e = p + strlen(p); e > p && e[-1] == ' '; e--) e[-1] = 0;
  snprintf(buf, len, "%s", p);
}
#else
void cpu_model_name(char *buf, size_t len) { snprintf(buf, len, "unknown"); }
void cpu_flush_subnormals(void) {}
int cpu_flushes_subnormals(void) { return 0; }
const char *cpu_vector_isa(void) { return "generic"; }
#endif

/* Runs before every library initialiser, when libc's getenv is not ready
 * yet: the environment is read from envp. NNLAB_SUBNORMALS=keep computes
 * with IEEE subnormals, slow paths and all. */
static void cpu_preinit(int argc, char **argv, char **envp) {
  (void)argc, (void)argv;
  for (char **e = envp; e && *e; e++)
    if (strcmp(*e, "NNLAB_SUBNORMALS=keep") == 0) return;
  cpu_flush_subnormals();
}

__attribute__((section(".preinit_array"), used)) static void (*const cpu_preinit_entry)(
    int, char **, char **) = cpu_preinit;
