/* layer_flatten.c — Flatten: each sample's values as one vector,
 *   (H, W, C) -> (H·W·C)
 * Activations are already contiguous per sample, so the output is the input
 * buffer read with another shape: no kernel runs, forward or backward, and
 * the gradient passes through unchanged. */
#include "nn.h"

static int flatten_plan(const Layer *l, const Shape *in, Shape *out, Shape *tshape, char *err) {
  (void)l; (void)tshape; (void)err;
  if (!in) return -1;
  out->nd = 1;
  out->d[0] = shape_numel(in);
  return 0;
}

const LayerKind layer_flatten = {
  .name = "Flatten",
  .usage = "nn.Flatten()",
  .v2_id = 2,
  .alias = 1,
  .plan = flatten_plan,
};
