/* cpu.h — how nnlab computes on this processor: subnormal floats flushed to
 * zero in every thread, and what the processor's vector units can do. */
#ifndef NNLAB_CPU_H
#define NNLAB_CPU_H

#include <stddef.h>

/* Sets flush-to-zero and denormals-are-zero on the calling thread. The
 * process's first thread has them from before any library starts (an ELF
 * pre-initialiser), so every thread a library creates inherits them; a thread
 * nnlab creates itself inherits them too. Cannot fail. */
void cpu_flush_subnormals(void);
/* 1 when the calling thread flushes subnormal floats to zero. */
int cpu_flushes_subnormals(void);
/* The widest vector instruction set usable here: "AVX-512", "AVX2+FMA",
 * "AVX", "SSE" (a static string). */
const char *cpu_vector_isa(void);
/* The processor's name as it gives it (cpuid brand string). */
void cpu_model_name(char *buf, size_t len);

#endif
