/* nn.h — the neural-network core shared by the nn bindings: the Sequential
 * model over layers of any kind (layer.h), activations, losses, optimizer
 * updates, the training loop and the model file. Knows nothing of Lua.
 * Activations travel between layers as contiguous float buffers of B
 * samples, each laid out as its per-sample shape says. */
#ifndef NNLAB_NN_H
#define NNLAB_NN_H

#include <stdint.h>
#include <stddef.h>

#include "layer.h"
#include "tensor.h"

#define NN_MAXLAYERS 128
#define NN_MAXPARAMS (NN_MAXLAYERS * LAYER_MAXTENSORS)

/* The order of both enums is part of model files of version 1 and 2. */
typedef enum { ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX, ACT_N } Activation;
/* Weight initialisations: Keras's glorot_uniform (the default), he_uniform
 * and lecun_uniform with a zero bias, and torch, the default of Torch7's and
 * PyTorch's Linear layer (W and b uniform in +-1/sqrt(n_in)). */
typedef enum { INIT_GLOROT_UNIFORM, INIT_HE_UNIFORM, INIT_LECUN_UNIFORM, INIT_TORCH,
               INIT_N } Init;
typedef enum { LOSS_NONE, LOSS_CE, LOSS_MSE } LossKind;
typedef enum { OPT_SGD, OPT_ADAM } OptKind;

/* A Sequential model. Per-layer buffers (activations, scratch) point into
 * one workspace allocation sized for ws_batch samples. */
typedef struct Model {
  Layer *layers[NN_MAXLAYERS];
  int n;
  int built;
  Shape shape[NN_MAXLAYERS + 1];      /* shape[0] enters layer 0; shape[i+1] leaves layer i */
  int64_t feat[NN_MAXLAYERS + 1];     /* values per sample of shape[i] */
  int training;
  float *ws;                          /* workspace (owned) */
  int64_t ws_batch;
  float *act[NN_MAXLAYERS + 1];       /* act[i] enters layer i; act[n] is the output */
  float *scratch[NN_MAXLAYERS];       /* each layer's scratch, or NULL */
  int64_t nscratch[NN_MAXLAYERS];     /* its size in floats */
  float *g1, *g2;                     /* gradient ping-pong buffers */
  int64_t last_batch;                 /* samples of the last forward, 0 if none */
  int in_fm, fm_layer;                /* in_fm: the batch in act[] is feature-major, as
                                       * layer fm_layer takes it (model_gather) */
} Model;

typedef struct Optim {
  OptKind kind;
  double lr, momentum, weight_decay, beta1, beta2, eps;
  int nesterov;
  int64_t t;                          /* steps taken (Adam's bias correction) */
} Optim;

/* The trainable tensors of a model with the optimizer's state for each:
 * filled by the binding (which owns the state tensors) before stepping. */
typedef struct ParamSet {
  int n;
  float *p[NN_MAXPARAMS], *g[NN_MAXPARAMS];
  float *s1[NN_MAXPARAMS], *s2[NN_MAXPARAMS];
  int64_t len[NN_MAXPARAMS];
  int layer[NN_MAXPARAMS], tensor[NN_MAXPARAMS];  /* whose: layers[layer]->t[tensor] */
  unsigned char folded[NN_MAXPARAMS];  /* 1: this step's gradient is already in s1 (GradFold) */
} ParamSet;

/* Where backward folds gradients into SGD's velocity (LayerRun.fold):
 * into[i][k] for tensor k of layer i, NULL where it writes grad[k]. */
typedef struct GradFold {
  float beta;
  float *into[NN_MAXLAYERS][LAYER_MAXTENSORS];
} GradFold;

/* ---- activation.c ------------------------------------------------------ */
extern const char *const ACTIVATION_NAMES[];  /* NULL-terminated, in enum order */
extern const char *const INIT_NAMES[];
/* In place on x (B x F): y = act(x). Softmax is per row. */
void activation_forward(float *x, Activation a, int64_t B, int64_t F);
/* In place on g: dL/dx = act'(x) * dL/dy, given y = act(x). */
void activation_backward(float *g, const float *y, Activation a, int64_t B, int64_t F);
/* The same from x into y, and from dy into dx (y may be x, dx may be dy). */
void activation_apply(float *y, const float *x, Activation a, int64_t B, int64_t F);
void activation_grad(float *dx, const float *dy, const float *y, Activation a, int64_t B,
                     int64_t F);
/* Fills W (fan_in x fan_out values) and b (fan_out) as init says, drawing
 * from the seeded generator (W first, in order, then b). */
void init_weights(float *W, float *b, Init init, int64_t fan_in, int64_t fan_out);
/* The same for nW weights and nb biases with the fans given (a convolution:
 * fan_in = KH·KW·C, fan_out = KH·KW·F, as Keras counts them). */
void init_weights_fans(float *W, int64_t nW, float *b, int64_t nb, Init init, int64_t fan_in,
                       int64_t fan_out);

/* ---- gather.c ---------------------------------------------------------- */
/* out (B x F) = rows idx[0..B) of X (contiguous, any dtype, F values a row)
 * times scale plus offset; idx NULL means rows first..first+B. */
void gather_rows(float *out, const Tensor *X, const int32_t *idx, int64_t first, int64_t B,
                 int64_t F, float scale, float offset);
/* The same rows stored feature-major, out (F x B), out[f·B + r]: for
 * uint8 rows, B >= 16 and a processor with AVX2 (where its transposes cost
 * no more than the plain gather). Returns 0, writing nothing, otherwise. */
int gather_rows_fm(float *out, const Tensor *X, const int32_t *idx, int64_t first, int64_t B,
                   int64_t F, float scale, float offset);

/* ---- model.c: the Sequential pipeline --------------------------------- */
/* Plans every layer's output shape from the sample shape and checks that
 * existing tensors fit. Does not allocate. */
int model_plan(Model *m, const Shape *in, char *err);
/* Plans layer i alone (its input shape m->shape[i] must be planned): the
 * shapes its tensors must have. */
int model_layer_tensor_shapes(const Model *m, int i, Shape *tshape, char *err);
/* Makes the workspace hold at least B samples. */
int model_reserve(Model *m, int64_t B, char *err);
void model_free_workspace(Model *m);
/* Index of the first layer the pipeline runs when the input is gathered
 * with a fused element-wise first layer (1 if layer 0 is affine, else 0),
 * and its scale/offset. */
int model_input_stage(const Model *m, float *scale, float *offset);
/* Gathers rows idx[0..B) of X (idx NULL: rows first..first+B) into the
 * model's input, through the fused first layer of model_input_stage, and
 * returns the layer to start at. With fm (a training step) and a first
 * computing layer that takes feature-major input, the batch is stored so
 * (model.in_fm). */
int model_gather(Model *m, const Tensor *X, const int32_t *idx, int64_t first, int64_t B, int fm);
/* Runs layers start..n-1 on act[start] (B samples). logits_only: the
 * caller reads the last layer's logits and not its output (a training
 * step whose loss fuses the softmax, loss_from_logits). */
void model_forward(Model *m, int64_t B, int start, int logits_only);
/* Backpropagates g (B x feat[n], overwritten) from the output to layer
 * `stop`; the result (grad for act[stop]) is returned (a workspace buffer).
 * at_logits: g already holds dL/dz of the last layer's softmax.
 * need_din = 0 skips the input gradient of layer `stop`. fold, or NULL:
 * the gradients that go straight into SGD's velocity (kinds that fold). */
float *model_backward(Model *m, int64_t B, float *g, int at_logits, int stop, int need_din,
                      const GradFold *fold);
/* The first layer that learns (n when none does): backward stops there. */
int model_first_trained(const Model *m);
/* Where the last layer's logits are after a forward of B samples, or NULL
 * when its output is not a softmax. */
const float *model_logits(const Model *m, int64_t B);
/* Values of every declared tensor (trained or state). */
int64_t model_param_count(const Model *m);
int64_t layer_param_count(const Layer *l);
/* Values of the tensors that have a gradient (trained; not BatchNormalization's
 * moving statistics). */
int64_t layer_trainable_count(const Layer *l);

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
/* The loss of the model's last forward (B samples): cross-entropy from the
 * logits when the model ends in a softmax (fused: the gradient is then
 * dL/dz at the logits and *at_logits is 1), else from the outputs as
 * logits; or MSE against one-hot labels. */
/* 1 when loss_model computes the loss from the last layer's logits. */
int loss_from_logits(LossKind loss, const Model *m, int64_t B);
double loss_model(LossKind loss, const Model *m, const int32_t *y, int64_t B, float *grad,
                  int64_t *correct, int *at_logits);
/* First label outside 1..K: its position (0-based) or -1 when all fit. */
int64_t labels_check(const int32_t *y, int64_t n, int64_t K);

/* ---- optim.c ------------------------------------------------------------ */
/* One step on every parameter of ps (increments o->t first). */
void optim_step(Optim *o, const ParamSet *ps);
/* SGD with momentum and without Nesterov can take its gradient already
 * folded into the velocity (v = μ·v + ∇, by the layer's own product, as
 * GradFold says): μ for such an optimizer, else 0. */
float optim_fold_beta(const Optim *o);

/* ---- trainer.c --------------------------------------------------------- */
/* The words fit prints, in the user's language: read from Lua (lua/i18n.lua)
 * once per fit by the binding; plain words, never format strings. */
typedef struct FitWords {
  char epoch[32], loss[32], accuracy[32], val_loss[32], val_accuracy[32];
  char samples_s[32], eta[32], stopped[128];
} FitWords;
typedef struct FitState {
  Model *m; Optim *o; ParamSet *ps; LossKind loss;
  const Tensor *X; const int32_t *y;
  int32_t *perm; int64_t n_train;      /* perm: the training rows */
  int32_t *ybatch;                     /* batch labels (batch entries) */
  int64_t batch; int shuffle;
  const char *label;                   /* progress bar label ("Epoch 3/10"); NULL: no bar */
  int epoch;                           /* 1-based, for messages */
  const FitWords *words;               /* the words of the bar, in the language */
} FitState;
/* One epoch, in training mode. Returns 0, 1 when stopped by Ctrl-C, or -1
 * with err. This and the three below leave the model's mode (model:train())
 * as they found it; the three below run in inference mode, in batches of at
 * most n rows. */
int trainer_epoch(FitState *s, double *loss, double *acc, double *seconds, char *err);
/* Loss and accuracy on rows first..first+n of X, y (labels). */
int trainer_evaluate(Model *m, LossKind loss, const Tensor *X, const int32_t *y, int64_t first,
                     int64_t n, int64_t batch, double *lossv, double *acc, char *err);
/* out (n x feat[n]) = the model's outputs for rows of X. */
int trainer_predict(Model *m, const Tensor *X, int64_t n, int64_t batch, float *out, char *err);
/* Every layer's output for rows 0..n of X, in inference mode, batch rows
 * at a time: outs[i] (n x feat[i+1] floats, the caller's) gets layer i's. */
int trainer_activations(Model *m, const Tensor *X, int64_t n, int64_t batch, float *const *outs,
                        char *err);

/* ---- model_io.c -------------------------------------------------------- */
#define MODEL_FILE_VERSION 3  /* 3: kinds, options and tensors by name; 1 and 2 still load */
typedef struct TensorDesc {
  const char *name; size_t name_len;  /* into the file buffer, not terminated */
  Shape shape;
  const void *data;                   /* into the file buffer (maybe unaligned: memcpy it) */
} TensorDesc;
typedef struct LayerDesc {
  const LayerKind *kind;
  _Alignas(double) unsigned char conf[LAYER_CONF_BYTES];  /* options read */
  int ntensors;                       /* 0 (not built) or kind->ntensors, in its order */
  TensorDesc t[LAYER_MAXTENSORS];
} LayerDesc;
typedef struct ModelDesc {
  int n;
  Shape in;                           /* in.nd == 0: not built */
  LayerDesc layers[NN_MAXLAYERS];
} ModelDesc;
/* Writes the model to path through a temporary file in the same folder. */
int model_save(const Model *m, const char *path, char *err);
/* Reads path into *buf (caller frees) and fills d (pointing into *buf).
 * The layers' options are checked; their tensors' shapes are checked by
 * whoever builds the model (against model_layer_tensor_shapes). */
int model_load(const char *path, ModelDesc *d, unsigned char **buf, char *err);

#endif
