/* interrupt.h — Ctrl-C handling shared by the host, the trainer and long
 * kernels. SIGINT sets a flag and a Lua hook (as lua.c does) so running Lua
 * code stops with "interrupted!"; C loops poll interrupt_pending() and, when
 * they stop early on purpose (fit returning its history), call
 * interrupt_consume() so the hook does not raise an error afterwards. */
#ifndef NNLAB_INTERRUPT_H
#define NNLAB_INTERRUPT_H

#include <lua.h>

/* Installs the SIGINT handler for state L (call once at start-up). */
void interrupt_install(lua_State *L);
/* 1 when Ctrl-C was pressed since the last consume/clear. */
int interrupt_pending(void);
/* Clears the flag and removes the hook; returns whether it was set. */
int interrupt_consume(lua_State *L);

#endif
