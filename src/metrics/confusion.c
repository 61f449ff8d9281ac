/* confusion.c — confusion matrix counts and the per-class figures read from
 * them: recall = c_ii / sum_j c_ij (row), precision = c_ii / sum_j c_ji
 * (column), F1 = 2·p·r / (p + r), accuracy = trace / total. Labels are read
 * through tensor_get_flat, so any dtype and any strided view works. */
#include "confusion.h"

#include <math.h>
#include <stdio.h>

static double value_at(const Tensor *t, int64_t row, int64_t col, int is_scores) {
  if (!is_scores) return tensor_get_flat(t, row);
  return tensor_get_flat(t, row * t->shape[1] + col);
}

int confusion_check_labels(const Tensor *t, int64_t n, int k, int scores_ok, const char *what,
                           int64_t *n_out, int *is_scores, char *err) {
  char s[64];
  if (t->ndim == 1) {
    *is_scores = 0;
  } else if (t->ndim == 2 && scores_ok) {
    *is_scores = 1;
    if (t->shape[1] < 1) {
      snprintf(err, CONFUSION_ERRLEN, "%s: expected scores with at least one column, got %s", what,
               tensor_shape_str(t, s, sizeof s));
      return -1;
    }
    if (k > 0 && t->shape[1] != k) {
      snprintf(err, CONFUSION_ERRLEN, "%s: expected an N x %d score matrix (one column per class), got %s",
               what, k, tensor_shape_str(t, s, sizeof s));
      return -1;
    }
  } else {
    snprintf(err, CONFUSION_ERRLEN, "%s: expected %s, got a tensor of shape %s", what,
             scores_ok ? "N class indices (1-D) or an N x K score matrix" : "N class indices (1-D)",
             tensor_shape_str(t, s, sizeof s));
    return -1;
  }
  if (n >= 0 && t->shape[0] != n) {
    snprintf(err, CONFUSION_ERRLEN, "%s: expected %lld examples (as y_true), got %lld", what,
             (long long)n, (long long)t->shape[0]);
    return -1;
  }
  if (!*is_scores) {
    for (int64_t i = 0; i < t->shape[0]; i++) {
      double v = tensor_get_flat(t, i);
      if (!(v == floor(v))) {
        snprintf(err, CONFUSION_ERRLEN, "%s: expected whole class indices, got %g at position %lld",
                 what, v, (long long)(i + 1));
        return -1;
      }
    }
  }
  *n_out = t->shape[0];
  return 0;
}

int64_t confusion_label(const Tensor *t, int is_scores, int64_t i) {
  if (!is_scores) return (int64_t)tensor_get_flat(t, i);
  int64_t best = 0;
  double bv = value_at(t, i, 0, 1);
  for (int64_t j = 1; j < t->shape[1]; j++) {
    double v = value_at(t, i, j, 1);
    if (v > bv || (isnan(bv) && !isnan(v))) bv = v, best = j;
  }
  return best + 1;
}

int64_t confusion_max_label(const Tensor *t, int is_scores) {
  if (is_scores) return t->shape[1];
  int64_t m = 0;
  for (int64_t i = 0; i < t->shape[0]; i++) {
    double v = tensor_get_flat(t, i);
    if (!(v == floor(v))) return -1;
    if (v > (double)m) m = (int64_t)v;
  }
  return m;
}

int confusion_check_range(const Tensor *t, int is_scores, int k, const char *what, char *err) {
  if (is_scores) return 0; /* argmax is always within 1..columns == k */
  for (int64_t i = 0; i < t->shape[0]; i++) {
    double v = tensor_get_flat(t, i);
    if (!(v >= 1 && v <= k)) {
      snprintf(err, CONFUSION_ERRLEN, "%s: expected class indices in 1..%d, got %g at position %lld",
               what, k, v, (long long)(i + 1));
      return -1;
    }
  }
  return 0;
}

void confusion_add(int32_t *counts, int k, const Tensor *y_true, int true_scores,
                   const Tensor *y_pred, int pred_scores, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    int64_t a = confusion_label(y_true, true_scores, i) - 1;
    int64_t b = confusion_label(y_pred, pred_scores, i) - 1;
    counts[a * k + b]++;
  }
}

static double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

void confusion_recall(const int32_t *counts, int k, double *out) {
  for (int i = 0; i < k; i++) {
    double row = 0;
    for (int j = 0; j < k; j++) row += counts[i * k + j];
    out[i] = ratio(counts[i * k + i], row);
  }
}

void confusion_precision(const int32_t *counts, int k, double *out) {
  for (int j = 0; j < k; j++) {
    double col = 0;
    for (int i = 0; i < k; i++) col += counts[i * k + j];
    out[j] = ratio(counts[j * k + j], col);
  }
}

/* F1 from the counts directly: 2·tp / (2·tp + fp + fn) equals 2pr/(p+r)
 * and is 0 (not NaN) when p + r is 0. */
void confusion_f1(const int32_t *counts, int k, double *out) {
  for (int i = 0; i < k; i++) {
    double row = 0, col = 0, tp = counts[i * k + i];
    for (int j = 0; j < k; j++) row += counts[i * k + j], col += counts[j * k + i];
    out[i] = ratio(2 * tp, row + col);
  }
}

void confusion_support(const int32_t *counts, int k, int64_t *out) {
  for (int i = 0; i < k; i++) {
    out[i] = 0;
    for (int j = 0; j < k; j++) out[i] += counts[i * k + j];
  }
}

double confusion_accuracy(const int32_t *counts, int k) {
  double trace = 0, total = 0;
  for (int i = 0; i < k; i++)
    for (int j = 0; j < k; j++) {
      total += counts[i * k + j];
      if (i == j) trace += counts[i * k + j];
    }
  return ratio(trace, total);
}
