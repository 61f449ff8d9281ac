/* nn.h — the neural-network core shared by the nn bindings: layer and model
 * structs, the forward/backward kernels of each layer, losses, optimizer
 * updates, the training loop and the model file format. Knows nothing of
 * Lua. Activations travel between layers as contiguous float matrices of
 * B rows (one per sample) by the layer's feature count. */
#ifndef NNLAB_NN_H
#define NNLAB_NN_H

#include <stdint.h>
#include <stddef.h>

#include "tensor.h"
#include "progress.h"

#define NN_ERRLEN 256
#define NN_MAXLAYERS 128

typedef enum { L_DENSE, L_FLATTEN, L_RESCALING, L_RELU, L_SIGMOID, L_TANH, L_SOFTMAX, L_DROPOUT,
               L_NKINDS } LayerKind;
typedef enum { ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX, ACT_N } Activation;
/* Dense weight initialisations: Keras's glorot_uniform (the default),
 * he_uniform and lecun_uniform with a zero bias, and torch, the default of
 * Torch7's and PyTorch's Linear layer (W and b uniform in +-1/sqrt(n_in)). */
typedef enum { INIT_GLOROT_UNIFORM, INIT_HE_UNIFORM, INIT_LECUN_UNIFORM, INIT_TORCH,
               INIT_N } Init;
typedef enum { LOSS_NONE, LOSS_CE, LOSS_MSE } LossKind;
typedef enum { OPT_SGD, OPT_ADAM } OptKind;

typedef struct Layer {
  LayerKind kind;
  Activation act;       /* Dense: fused activation; activation layers: their own */
  int64_t units;        /* Dense */
  Init init;            /* Dense: how W and b start */
  float scale, offset;  /* Rescaling: y = x*scale + offset */
  float p;              /* Dropout: probability of zeroing */
  /* Dense parameters: Tensors living in the layer userdata's user values
   * (NULL until the input size is known). W is n_in x units, b is units. */
  Tensor *W, *b, *dW, *db;
} Layer;

/* A Sequential model. Per-layer buffers (act, z, mask) point into one
 * workspace allocation sized for ws_batch rows. */
typedef struct Model {
  Layer *layers[NN_MAXLAYERS];
  int n;
  int built;
  int in_ndim;                        /* sample shape (without the batch) */
  int64_t in_shape[TENSOR_MAXDIM];
  int64_t feat[NN_MAXLAYERS + 1];     /* features per sample entering layer i */
  int out_ndim[NN_MAXLAYERS];         /* sample shape leaving layer i (summary) */
  int64_t out_shape[NN_MAXLAYERS][TENSOR_MAXDIM];
  int training;
  float *ws;                          /* workspace (owned) */
  int64_t ws_batch;
  float *act[NN_MAXLAYERS + 1];       /* act[i] enters layer i; act[n] is the output */
  float *z[NN_MAXLAYERS];             /* Dense+softmax: the logits, for a stable loss */
  float *mask[NN_MAXLAYERS];          /* Dropout masks */
  float *g1, *g2;                     /* gradient ping-pong buffers */
  int64_t last_batch;                 /* rows of the last forward, 0 if none */
} Model;

typedef struct Optim {
  OptKind kind;
  double lr, momentum, weight_decay, beta1, beta2, eps;
  int nesterov;
  int64_t t;                          /* steps taken (Adam's bias correction) */
} Optim;

/* The parameters of a model with the optimizer's state for each: filled by
 * the binding (which owns the state tensors) before stepping. */
typedef struct ParamSet {
  int n;
  float *p[2 * NN_MAXLAYERS], *g[2 * NN_MAXLAYERS];
  float *s1[2 * NN_MAXLAYERS], *s2[2 * NN_MAXLAYERS];
  int64_t len[2 * NN_MAXLAYERS];
} ParamSet;

/* ---- layers.c: kernels ------------------------------------------------ */
const char *activation_name(Activation a);
int activation_from_name(const char *name);  /* -1 when unknown */
const char *layer_kind_name(LayerKind k);
const char *init_name(Init i);
int init_from_name(const char *name);        /* -1 when unknown */
/* Fills the n_in x units W and the b of a Dense layer as l->init says,
 * drawing from the seeded generator (W first, row by row, then b). */
void dense_init(Layer *l, int64_t n_in);

/* out (B x F) = rows idx[0..B) of X (contiguous, any dtype, F values a row)
 * times scale plus offset; idx NULL means rows first..first+B. */
void gather_rows(float *out, const Tensor *X, const int32_t *idx, int64_t first, int64_t B,
                 int64_t F, float scale, float offset);
void dense_forward(float *out, const float *in, const float *W, const float *b, int64_t B,
                   int64_t n_in, int64_t n_out);
void dense_backward(float *din, float *dW, float *db, const float *dz, const float *in,
                    const float *W, int64_t B, int64_t n_in, int64_t n_out);
/* In place on x (B x F): y = act(x). Softmax is per row. */
void activation_forward(float *x, Activation a, int64_t B, int64_t F);
/* In place on g: dL/dx = act'(x) * dL/dy, given y = act(x). */
void activation_backward(float *g, const float *y, Activation a, int64_t B, int64_t F);
/* Dropout: mask = keep ? 1/(1-p) : 0 drawn from the seeded generator. */
void dropout_forward(float *out, float *mask, const float *in, int64_t n, float p);

/* ---- model.c: the Sequential pipeline --------------------------------- */
/* Computes feat/out shapes from the sample shape; checks that Dense layers
 * get flat inputs and that existing weights fit. Does not allocate. */
int model_plan(Model *m, int ndim, const int64_t *shape, char *err);
/* Makes the workspace hold at least B rows. */
int model_reserve(Model *m, int64_t B, char *err);
void model_free_workspace(Model *m);
/* Index of the first layer the pipeline runs when the input is gathered
 * with a fused Rescaling (1 if layer 0 is Rescaling, else 0) and its
 * scale/offset. */
int model_input_stage(const Model *m, float *scale, float *offset);
/* Runs layers start..n-1 on act[start] (B rows). */
void model_forward(Model *m, int64_t B, int start);
/* Backpropagates g (B x feat[n], overwritten) from the output to layer
 * `stop`; the result (grad for act[stop]) is returned (a workspace buffer).
 * fused: g already holds dL/dz of the last softmax (skip its Jacobian).
 * need_din = 0 skips the input gradient of layer `stop`. */
float *model_backward(Model *m, int64_t B, float *g, int fused, int stop, int need_din);
/* 1 when the model ends in a softmax (Dense(.., "softmax") or Softmax()). */
int model_ends_in_softmax(const Model *m);
int64_t model_param_count(const Model *m);

/* ---- loss.c ------------------------------------------------------------ */
/* Labels are 1-based (1..K). Each returns the mean loss over the batch,
 * writes the gradient (for the stated tensor) into grad when non-NULL, and
 * adds the number of rows whose argmax equals the label to *correct. */
double loss_ce_logits(float *grad, const float *z, const int32_t *y, int64_t B, int64_t K,
                      int64_t *correct);
double loss_ce_probs(float *grad, const float *p, const int32_t *y, int64_t B, int64_t K,
                     int64_t *correct);
/* target: B x K floats, or NULL to use one-hot labels y. */
double loss_mse(float *grad, const float *o, const float *target, const int32_t *y, int64_t B,
                int64_t K, int64_t *correct);
/* First label outside 1..K: its position (0-based) or -1 when all fit. */
int64_t labels_check(const int32_t *y, int64_t n, int64_t K);

/* ---- optim.c ------------------------------------------------------------ */
/* One step on every parameter of ps (increments o->t first). */
void optim_step(Optim *o, const ParamSet *ps);

/* ---- trainer.c --------------------------------------------------------- */
/* The words fit prints, in the user's language: read from Lua (lua/i18n.lua)
 * once per fit by the binding; plain words, never format strings. */
typedef struct FitWords {
  char epoch[32], loss[32], accuracy[32], val_loss[32], val_accuracy[32];
  char samples_s[32], eta[32], stopped[128];
} FitWords;
typedef struct FitState {
  Model *m; Optim *o; const ParamSet *ps; LossKind loss;
  const Tensor *X; const int32_t *y;
  int32_t *perm; int64_t n_train;      /* perm: the training rows */
  int32_t *ybatch;                     /* batch labels (batch entries) */
  int64_t batch; int shuffle; int verbose;
  int epoch, epochs;                   /* 1-based, for messages */
  const FitWords *words;
} FitState;
/* One epoch. Returns 0, 1 when stopped by Ctrl-C, or -1 with err. */
int trainer_epoch(FitState *s, double *loss, double *acc, double *seconds, char *err);
/* Loss and accuracy on rows first..first+n of X, y (labels). */
int trainer_evaluate(Model *m, LossKind loss, const Tensor *X, const int32_t *y, int64_t first,
                     int64_t n, int64_t batch, double *lossv, double *acc, char *err);
/* out (n x feat[n]) = the model's outputs for rows of X. */
int trainer_predict(Model *m, const Tensor *X, int64_t n, int64_t batch, float *out, char *err);

/* ---- model_io.c -------------------------------------------------------- */
#define MODEL_FILE_VERSION 2  /* 2 adds each layer's init; 1 still loads */
typedef struct LayerDesc {
  int kind, act, init;
  int64_t units, n_in;
  float scale, offset, p;
  const float *W, *b;  /* into the file buffer, n_in*units and units */
} LayerDesc;
typedef struct ModelDesc {
  int n, in_ndim;
  int64_t in_shape[TENSOR_MAXDIM];
  LayerDesc layers[NN_MAXLAYERS];
} ModelDesc;
/* Writes the model to path through a temporary file in the same folder. */
int model_save(const Model *m, const char *path, char *err);
/* Reads path into *buf (caller frees) and fills d (pointing into *buf). */
int model_load(const char *path, ModelDesc *d, unsigned char **buf, char *err);

#endif
