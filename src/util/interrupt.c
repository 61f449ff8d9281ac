/* interrupt.c — the Ctrl-C flag (see interrupt.h): one sig_atomic_t. */
#include "interrupt.h"

#include <signal.h>

static volatile sig_atomic_t g_flag = 0;

int interrupt_pending(void) { return g_flag != 0; }

void interrupt_set(void) { g_flag = 1; }

int interrupt_clear(void) {
  int was = g_flag != 0;
  g_flag = 0;
  return was;
}
