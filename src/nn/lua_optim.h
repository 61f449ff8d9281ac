/* lua_optim.h — the _optim module: optimizer userdata (nnlab.Optimizer)
 * with their per-tensor state, optimizer:step(model), and the gathering of
 * a model's trainable tensors that fit uses too. */
#ifndef NNLAB_LUA_OPTIM_H
#define NNLAB_LUA_OPTIM_H

#include <lua.h>

#include "nn.h"

#define OPTIM_MT "nnlab.Optimizer"

int luaopen_nnlab_optim(lua_State *L);

Optim *nn_check_optim(lua_State *L, int idx);
/* Fills ps with every trained tensor of the model at midx, its gradient and
 * the optimizer's state for it (created zero-filled on first use and kept
 * by the optimizer at optidx, keyed by the tensor). */
void nn_collect_params(lua_State *L, int midx, int optidx, ParamSet *ps);

#endif
