/* layer_table.c — the table of layer kinds: the one place that names them
 * all. Adding a kind is one file (layer_<kind>.c, defining its LayerKind)
 * and one line here; nn.<Name>, its metatable, the model file, the summary
 * and the gradient tests pick it up from this table. */
#include "nn.h"

#include <string.h>

extern const LayerKind layer_dense, layer_flatten, layer_rescaling, layer_relu, layer_sigmoid,
    layer_tanh, layer_softmax, layer_dropout, layer_batchnorm, layer_random_flip,
    layer_random_translation;
extern const LayerKind layer_conv2d, layer_maxpool2d, layer_avgpool2d;

const LayerKind *const layer_kinds[] = {
  &layer_dense, &layer_flatten, &layer_rescaling, &layer_relu, &layer_sigmoid, &layer_tanh,
  &layer_softmax, &layer_dropout, &layer_batchnorm, &layer_random_flip,
  &layer_random_translation,
  &layer_conv2d, &layer_maxpool2d, &layer_avgpool2d,
  NULL,
};

const LayerKind *layer_kind_by_name(const char *name) {
  for (int i = 0; layer_kinds[i]; i++)
    if (strcmp(layer_kinds[i]->name, name) == 0) return layer_kinds[i];
  return NULL;
}

const LayerKind *layer_kind_by_v2_code(int code) {
  for (int i = 0; layer_kinds[i]; i++)
    if (code >= 0 && layer_kinds[i]->v2_id == code + 1) return layer_kinds[i];
  return NULL;
}
