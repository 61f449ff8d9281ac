/* print.h — numpy-like text for a tensor: nested brackets, values aligned
 * in columns, summarised with "..." beyond 1000 elements (3 items at each
 * edge), then the shape and dtype: tensor([[1., 2.], [3., 4.]], ...). */
#ifndef NNLAB_PRINT_H
#define NNLAB_PRINT_H

#include "tensor.h"

/* A malloc'd string the caller frees, or NULL on allocation failure. */
char *tensor_format(const Tensor *t);

#endif
