/* layer_pool2d.c — MaxPool2D and AvgPool2D over N×H×W×C images, on the
 * kernels of pool2d.h (no padding: Keras's "valid").
 *   max   y[n,y,x,c] = max_{i,j} x[n, y·SH + i, x·SW + j, c]
 *         dx gets dy at the window's (first) maximum, kept in the scratch
 *   avg   y[n,y,x,c] = (1/(PH·PW)) Σ_{i,j} x[n, y·SH + i, x·SW + j, c]
 *         dx gets dy/(PH·PW) at every position of the window
 * Overlapping windows (stride < pool size) add their gradients up. The
 * stride defaults to the pool size (0 in the options: "as pool_size"). */
#include "nn.h"

#include "pool2d.h"
#include <stdio.h>
#include <string.h>

typedef struct PoolConf {
  int64_t pool[2], stride[2];  /* stride 0: the pool size */
} PoolConf;
LAYER_CONF_FITS(PoolConf);

static int geom_of(const Layer *l, const Shape *in, int64_t N, Pool2DGeom *g, char *err) {
  const PoolConf *c = LAYER_CONF(l, PoolConf);
  int64_t sh = c->stride[0] ? c->stride[0] : c->pool[0], sw = c->stride[1] ? c->stride[1] : c->pool[1];
  return pool2d_geom(g, N, in->d[0], in->d[1], in->d[2], c->pool[0], c->pool[1], sh, sw, err);
}

static int pool_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  const PoolConf *c = LAYER_CONF(l, PoolConf);
  char msg[NN_ERRLEN];
  Pool2DGeom g;
  (void)tshape;
  if (!in) return -1;
  if (plan_image_input(in, err)) return -1;
  if (geom_of(l, in, 1, &g, msg)) {
    snprintf(err, LAYER_ERRLEN, "has a %lldx%lld window larger than its %lldx%lld input image",
             (long long)c->pool[0], (long long)c->pool[1], (long long)in->d[0], (long long)in->d[1]);
    return -1;
  }
  *out = (Shape){3, {g.OH, g.OW, in->d[2]}};
  return 0;
}

/* Max pooling keeps one int32 position per output value: floats, rounded up. */
static int64_t maxpool_scratch(const Layer *l, const Shape *in, const Shape *out, int64_t B) {
  Pool2DGeom g;
  char err[NN_ERRLEN];
  (void)out;
  if (geom_of(l, in, B, &g, err)) return -1;
  return (int64_t)((pool2d_scratch_size(&g) + sizeof(float) - 1) / sizeof(float));
}

static void maxpool_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  Pool2DGeom g;
  char err[NN_ERRLEN];
  if (geom_of(l, r->in, r->B, &g, err) == 0) maxpool2d_forward(out, r->scratch, in, &g);
}

static void maxpool_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                             const float *out) {
  Pool2DGeom g;
  char err[NN_ERRLEN];
  (void)in; (void)out;
  if (din && geom_of(l, r->in, r->B, &g, err) == 0) maxpool2d_backward(din, r->scratch, dout, &g);
}

static void avgpool_forward(Layer *l, const LayerRun *r, float *out, const float *in) {
  Pool2DGeom g;
  char err[NN_ERRLEN];
  if (geom_of(l, r->in, r->B, &g, err) == 0) avgpool2d_forward(out, in, &g);
}

static void avgpool_backward(Layer *l, const LayerRun *r, float *din, float *dout, const float *in,
                             const float *out) {
  Pool2DGeom g;
  char err[NN_ERRLEN];
  (void)in; (void)out;
  if (din && geom_of(l, r->in, r->B, &g, err) == 0) avgpool2d_backward(din, dout, &g);
}

static const OptionSpec POOL_OPTIONS[] = {
  {"pool_size", OPTION_INT2, offsetof(PoolConf, pool), 1, 1, 2, 1, 1 << 12, '[', ']', NULL, NULL},
  {"stride", OPTION_INT2, offsetof(PoolConf, stride), 0, 0, 0, 0, 1 << 12, '[', ']', NULL, NULL},
};

const LayerKind layer_maxpool2d = {
  .name = "MaxPool2D",
  .usage = "nn.MaxPool2D(pool_size [, {stride=}])",
  .options = POOL_OPTIONS, .noptions = 2,
  .plan = pool_plan, .scratch = maxpool_scratch,
  .forward = maxpool_forward, .backward = maxpool_backward,
};

const LayerKind layer_avgpool2d = {
  .name = "AvgPool2D",
  .usage = "nn.AvgPool2D(pool_size [, {stride=}])",
  .options = POOL_OPTIONS, .noptions = 2,
  .plan = pool_plan,
  .forward = avgpool_forward, .backward = avgpool_backward,
};
