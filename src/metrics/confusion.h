/* confusion.h — the confusion matrix core: class labels read from tensors
 * (class indices 1..K, or the argmax of an N x K score matrix), K x K counts
 * (rows = true class, columns = predicted class), and the per-class figures
 * derived from them. Knows nothing of Lua. Functions that can fail return 0
 * or -1 with a message in err (CONFUSION_ERRLEN bytes); they allocate nothing. */
#ifndef NNLAB_CONFUSION_H
#define NNLAB_CONFUSION_H

#include <stdint.h>

#include "tensor.h"

#define CONFUSION_ERRLEN 256

/* Checks that t holds predictions or labels for n examples: a 1-D tensor of
 * N class indices, or (when scores_ok) an N x K score matrix with K == k when
 * k > 0. n < 0 accepts any N. Fills *n_out with N and *is_scores. `what`
 * names the argument in messages ("y_true"). */
int confusion_check_labels(const Tensor *t, int64_t n, int k, int scores_ok, const char *what,
                           int64_t *n_out, int *is_scores, char *err);

/* The 1-based class of example i (0-based): the value of a 1-D tensor, or
 * the argmax (first maximum) of row i of a score matrix. */
int64_t confusion_label(const Tensor *t, int is_scores, int64_t i);

/* The largest label in t (1-D), or its number of columns (scores); -1 when
 * a value is not a whole number. */
int64_t confusion_max_label(const Tensor *t, int is_scores);

/* Checks that every label lies in 1..k; err names the first one outside. */
int confusion_check_range(const Tensor *t, int is_scores, int k, const char *what, char *err);

/* counts (k*k int32, row-major) += one count per example, rows from y_true,
 * columns from y_pred. Both must have passed the checks above. */
void confusion_add(int32_t *counts, int k, const Tensor *y_true, int true_scores,
                   const Tensor *y_pred, int pred_scores, int64_t n);

/* Per-class figures; a class with a zero denominator gets 0 (as
 * scikit-learn's zero_division=0). Each out has k entries. */
void confusion_recall(const int32_t *counts, int k, double *out);    /* c_ii / row sum  */
void confusion_precision(const int32_t *counts, int k, double *out); /* c_ii / col sum  */
void confusion_f1(const int32_t *counts, int k, double *out);        /* 2pr / (p + r)   */
void confusion_support(const int32_t *counts, int k, int64_t *out);  /* row sums       */
/* trace / total; 0 for an empty matrix. */
double confusion_accuracy(const int32_t *counts, int k);

#endif
