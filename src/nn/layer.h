/* layer.h — what a kind of layer is: one row of the table of kinds
 * (layer_table.c), as kann's kad_op_list or a luaL_Reg table. A row gives
 * the kind's name, its options, the tensors it declares, how it plans its
 * per-sample output shape from its input shape, how much scratch it wants
 * in the workspace, and its forward and backward. The model, the trainer,
 * the model file, the summary, the optimizers and the bindings loop over
 * the rows and never name a kind; each kind lives in src/nn/layer_<kind>.c.
 * Knows nothing of Lua. */
#ifndef NNLAB_LAYER_H
#define NNLAB_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "tensor.h"

#define LAYER_MAXTENSORS 4   /* tensors a layer may declare (W, b, running mean, ...) */
#define LAYER_CONF_BYTES 96  /* room for a kind's options struct */
#define NN_ERRLEN 256
#define LAYER_ERRLEN 200    /* a plan's message (the model puts "Kind (layer i) " before it) */

/* A per-sample shape: {features}, {H, W, C}, ... (the batch is not in it). */
typedef struct Shape {
  int nd;
  int64_t d[TENSOR_MAXDIM];
} Shape;

/* A tensor a kind declares: its name (layer.W, the model file) and its
 * gradient's name (layer.dW), or grad NULL for state that is saved and
 * loaded but never trained (BatchNormalization's running mean). */
typedef struct TensorDecl {
  const char *name, *grad;
} TensorDecl;

typedef struct LayerKind LayerKind;

/* A layer: its kind, its options (the kind's own struct, read through
 * LAYER_CONF(l, T): int64_t, double, float and int fields; 8-byte aligned,
 * all that the Lua userdata holding a Layer guarantees) and its tensors. The tensors live in the layer
 * userdata's user values (lua_nn.c), NULL until the input size is known. */
typedef struct Layer {
  const LayerKind *kind;
  Tensor *t[LAYER_MAXTENSORS];      /* declared tensors, in the kind's order */
  Tensor *grad[LAYER_MAXTENSORS];   /* their gradients (NULL for state) */
  void *cache;                      /* the kind's own state (Conv2D's plans), or NULL;
                                     * freed by kind->release when the layer goes */
  _Alignas(double) unsigned char conf[LAYER_CONF_BYTES];
} Layer;

#define LAYER_CONF(l, T) ((T *)(void *)(l)->conf)
#define LAYER_CONF_FITS(T) _Static_assert(sizeof(T) <= LAYER_CONF_BYTES, #T " outgrows LAYER_CONF_BYTES")

/* What forward and backward are told besides their buffers. Activations
 * are contiguous: B samples, each in[0..F) laid out as the shape says
 * (row-major, channels last: H×W×C), out likewise. */
typedef struct LayerRun {
  int64_t B;              /* samples in the batch */
  const Shape *in, *out;  /* per-sample shapes */
  int64_t F, Fo;          /* values per sample entering, leaving */
  float *scratch;         /* the layer's part of the workspace (scratch() floats), or NULL */
  int64_t nscratch;       /* its size in floats (scratch() for the workspace's batch) */
  int training;           /* fit or model:train(): Dropout drops, augmentation draws */
  int at_logits;          /* backward: dout is already dL/d(logits) of this layer's softmax */
  int in_fm;              /* in is feature-major, in[f·B + r] (only for a kind that takes it) */
  int logits_only;        /* forward: only the logits are read (the loss fuses the softmax),
                           * so a kind with logits() may leave out unwritten */
  float *const *fold;     /* backward, a kind that folds: per declared tensor k, NULL or
                           * SGD's velocity v, to which the gradient goes as v = β·v + ∇
                           * in place of grad[k] (optim.c says why) */
  float fold_beta;        /* that β, the momentum */
} LayerRun;

struct LayerKind {
  const char *name;            /* "Dense": nn.Dense, metatable nnlab.Dense, model files */
  const char *usage;           /* "nn.Dense(units [, activation] [, {init=}])" */
  const OptionSpec *options;   /* read into conf (offsets into the kind's struct) */
  int noptions;
  const TensorDecl *tensors;   /* what the layer declares, in order */
  int ntensors;
  int act;                     /* Activation of a kind that is one (layer.activation) */
  int v2_id;                   /* its code + 1 in model files of versions 1 and 2; 0: none */
  int alias;                   /* 1: the output is the input reshaped (no copy, no kernels) */
  int folds;                   /* 1: backward honours LayerRun.fold for every trained tensor */
  int feature_major;           /* 1: forward and backward also take a flat input stored
                                * feature-major (LayerRun.in_fm); the trainer then gathers
                                * the batch so when the kind computes first */

  /* Output shape from the input shape, and the shape of each declared
   * tensor into tshape[0..ntensors). in NULL: the input is not known yet;
   * return 0 only if the output shape is known anyway (summary). Returns -1
   * with a message in err (LAYER_ERRLEN bytes, no prefix: "expects flat
   * inputs, got 3x1") otherwise. */
  int (*plan)(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err);
  /* Fills the declared tensors (created with the planned shapes) for a
   * new layer, drawing from the seeded generator (rng.h). NULL: zeros. */
  void (*init)(Layer *l, const Shape *in);
  /* Floats of scratch for a batch of B (im2col columns, pooling argmax,
   * Dropout's mask, the logits of a fused softmax). NULL: none. May fill
   * l->cache (a plan for this batch); returns -1 when that runs out of
   * memory. */
  int64_t (*scratch)(const Layer *l, const Shape *in, const Shape *out, int64_t B);
  /* out = f(in) for r->B samples. */
  void (*forward)(Layer *l, const LayerRun *r, float *out, const float *in);
  /* From dout = dL/d(out) (which it may overwrite), writes the gradients
   * of the declared tensors (overwriting them) and din = dL/d(in) unless
   * din is NULL. in and out are the forward's. */
  void (*backward)(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                   const float *out);
  /* A layer whose output is a softmax: where its logits are after forward
   * (the loss then fuses softmax and cross-entropy); NULL when it has none. */
  const float *(*logits)(const Layer *l, const LayerRun *r, const float *in);
  /* An element-wise y = x·scale + offset: 1 and the two numbers (the
   * trainer then fuses it with the minibatch gather). */
  int (*affine)(const Layer *l, float *scale, float *offset);
  /* Frees l->cache (the layer is being collected); NULL: nothing to free. */
  void (*release)(Layer *l);
};

/* ---- layer_table.c: the kinds ------------------------------------------ */
extern const LayerKind *const layer_kinds[];  /* NULL-terminated */
const LayerKind *layer_kind_by_name(const char *name);
/* The kind stored as `code` in a version-1 or -2 model file, or NULL. */
const LayerKind *layer_kind_by_v2_code(int code);

/* ---- helpers every kind may use (model.c) ------------------------------ */
/* The number of values in a shape, or -1 when negative or overflowing. */
int64_t shape_numel(const Shape *s);
/* 0 when in is a non-empty H×W×C image; else -1 with the message of a
 * kind that takes only images (Conv2D, the pooling layers). */
int plan_image_input(const Shape *in, char *err);
/* 1 when the layer declares tensors with gradients (it learns). */
int layer_trains(const Layer *l);
/* The OptionSpec of the kind named name, or NULL. */
const OptionSpec *layer_option(const LayerKind *k, const char *name);

#endif
