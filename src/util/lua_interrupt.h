/* lua_interrupt.h — Ctrl-C for the Lua side. SIGINT sets the flag of
 * interrupt.h and a Lua hook (as lua.c does) so running Lua code stops with
 * "interrupted!"; a binding whose C loop stopped early on purpose (fit
 * returning its history) calls interrupt_consume() so the hook does not
 * raise an error afterwards. */
#ifndef NNLAB_LUA_INTERRUPT_H
#define NNLAB_LUA_INTERRUPT_H

#include <lua.h>

#include "interrupt.h"

/* Installs the SIGINT handler for state L (call once at start-up). */
void interrupt_install(lua_State *L);
/* Clears the flag and removes the hook; returns whether it was set. */
int interrupt_consume(lua_State *L);

#endif
