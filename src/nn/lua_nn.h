/* lua_nn.h — the _nn module (layers, nn.Sequential, nn.load, losses) and
 * what its binding files share: layer userdata (lua_nn.c) and the model
 * userdata (lua_model.c). Internal to src/nn but for luaopen_nnlab_nn. */
#ifndef NNLAB_LUA_NN_H
#define NNLAB_LUA_NN_H

#include <lua.h>
#include <lauxlib.h>

#include "nn.h"

#define MODEL_MT "nnlab.Model"

int luaopen_nnlab_nn(lua_State *L);

/* ---- lua_nn.c: layers ---------------------------------------------------- */
/* The layer at idx, or a Lua error "who: layer expected (...), got X". */
Layer *nn_check_layer(lua_State *L, int idx, const char *who);
/* Pushes a new layer of kind k with its options' defaults. */
Layer *nn_push_layer(lua_State *L, const LayerKind *k);
/* Gives the layer at idx its declared tensors (and their gradients) in the
 * shapes tshape[] the model planned for input shape `in`; their values come
 * from data[k] when data is not NULL (a loaded model, memcpy'd; in may then
 * be NULL), else from the kind's init. */
void nn_layer_build(lua_State *L, int idx, const Shape *in, const Shape *tshape,
                    const void *const *data);
/* The label vector at idx as contiguous int32 1..K (a converted copy replaces
 * it on the stack when needed); float labels must be whole numbers. Lua error
 * naming the bad label and its position otherwise. The caller checks the shape. */
Tensor *nn_labels(lua_State *L, int idx, int64_t K, const char *who);

/* ---- lua_model.c: nn.Sequential ----------------------------------------- */
/* The model at idx ("nnlab.Model expected" otherwise), and its loss. */
Model *nn_check_model(lua_State *L, int idx);
LossKind nn_model_loss(lua_State *L, int idx);
/* Builds the model at midx for the samples of X at xidx on first use
 * (creating its layers' tensors), or checks that X matches the shape it was
 * built for. Returns X as a contiguous tensor (replaced on the stack if
 * converted). Errors are prefixed with who. */
Tensor *nn_model_input(lua_State *L, int midx, int xidx, const char *who);
/* The labels at yidx for N samples of K classes, as nn_labels. */
Tensor *nn_model_labels(lua_State *L, int yidx, int64_t N, int64_t K, const char *who);
/* Pushes the model's list of layer userdata (the model's own table). */
void nn_push_model_layers(lua_State *L, int midx);
/* Pushes the model's optimizer (nil before compile), calling no Lua code:
 * a pending Ctrl-C must not fire between fit's epochs. */
void nn_push_model_optimizer(lua_State *L, int midx);
/* Adds Sequential, load and model_mt to the module table on top. */
void nn_open_model(lua_State *L);

/* ---- lua_fit.c: model:_fit ------------------------------------------------ */
int nn_model_fit(lua_State *L);
/* _nn.fit_words{...}: the words of fit's lines (lua_fit.c). */
int nn_fit_words(lua_State *L);

#endif
