/* lua_nn.h — what the nn bindings share between their files: layer and
 * optimizer userdata checks and constructors. Internal to src/nn. */
#ifndef NNLAB_LUA_NN_H
#define NNLAB_LUA_NN_H

#include <lua.h>
#include <lauxlib.h>

#include "nn.h"

#define OPTIM_MT "nnlab.Optimizer"
#define MODEL_MT "nnlab.Model"

/* The layer at idx, or a Lua error "layer expected, got X" (prefixed). */
Layer *nn_check_layer(lua_State *L, int idx, const char *who);
/* Pushes a new layer of the given kind with defaults. */
Layer *nn_push_layer(lua_State *L, LayerKind kind);
/* Gives the Dense layer at idx its W, b, dW, db tensors for n_in inputs;
 * W and b take the values at W0 (n_in x units) and b0 (units), or, when W0
 * is NULL, the layer's initialisation. */
void nn_layer_build(lua_State *L, int idx, int64_t n_in, const float *W0, const float *b0);
/* The label vector at idx as contiguous int32 1..K (a converted copy replaces
 * it on the stack when needed); float labels must be whole numbers. Lua error
 * naming the bad label and its position otherwise. The caller checks the shape. */
Tensor *nn_labels(lua_State *L, int idx, int64_t K, const char *who);
Optim *nn_check_optim(lua_State *L, int idx);
/* Pushes the optimizer's state tensors for parameter tensor at pidx
 * (created zero-filled, of n elements, on first use): pushes 2 values. */
void nn_optim_state(lua_State *L, int optidx, int pidx, int64_t n);

void nn_open_model(lua_State *L);   /* adds Sequential, load, ... to the table on top */

#endif
