/* interrupt.h — the Ctrl-C flag. The C core (the trainer, downloads) polls
 * interrupt_pending() between units of work and stops early when it is set;
 * nothing here knows Lua. The signal handler that sets the flag, and stops
 * running Lua code as lua.c does, is lua_interrupt.h's. */
#ifndef NNLAB_INTERRUPT_H
#define NNLAB_INTERRUPT_H

/* 1 when Ctrl-C was pressed since the flag was last cleared. */
int interrupt_pending(void);
/* Sets the flag (async-signal-safe: the handler calls it). */
void interrupt_set(void);
/* Clears the flag; returns whether it was set. */
int interrupt_clear(void);

#endif
