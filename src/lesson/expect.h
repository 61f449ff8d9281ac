/* expect.h — lesson.expect's judgement, in C: the value and what is expected
 * are read with raw accesses only (no metamethod runs, so no code of the
 * lesson runs while a check is judged) and formatted as the PASS/FAIL lines
 * show them. Used by the _grader binding. */
#ifndef NNLAB_EXPECT_H
#define NNLAB_EXPECT_H

#include <lua.h>

/* Checks lesson.expect's arguments (name, value, spec) at stack indices 1 to
 * 3: a misuse is a Lua error blamed on the function `level` levels up the
 * stack. Pushes the value and the expectation formatted as strings ("0.92",
 * "0.91..0.94") and returns whether the value meets the expectation. */
int expect_judge(lua_State *L, int level);

#endif
