/* tensor.c — storage and view headers: creation, reference counting, and the
 * stride arithmetic behind narrow, select, transpose and reshape. Every view
 * is a new header over the same storage; nothing here copies data except
 * tensor_copy_new / tensor_copy_into. */
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char *const DTYPE_NAMES[] = {"float32", "uint8", "int32"};

int dtype_from_name(const char *name) {
  for (int i = 0; i < 3; i++)
    if (strcmp(name, DTYPE_NAMES[i]) == 0) return i;
  return -1;
}

const char *dtype_name(DType dt) { return DTYPE_NAMES[dt]; }

size_t dtype_size(DType dt) { return dt == DT_UINT8 ? 1 : 4; }

void mem_advise_huge(void *p, size_t nbytes) {
  if (nbytes >= ((size_t)4 << 20)) {
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + nbytes) & ~(uintptr_t)4095;
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
  }
}

static Storage *storage_alloc(size_t nbytes, int zero) {
  Storage *s = malloc(sizeof *s);
  if (!s) return NULL;
  s->data = zero ? calloc(nbytes ? nbytes : 1, 1) : malloc(nbytes ? nbytes : 1);
  if (!s->data) {
    free(s);
    return NULL;
  }
  mem_advise_huge(s->data, nbytes);
  s->nbytes = nbytes;
  s->refcount = 1;
  s->maplen = 0;
  return s;
}

Storage *storage_new(size_t nbytes) { return storage_alloc(nbytes, 1); }

Storage *storage_adopt(void *data, size_t nbytes) {
  Storage *s = malloc(sizeof *s);
  if (!s) return NULL;
  s->data = data;
  s->nbytes = nbytes;
  s->refcount = 1;
  s->maplen = 0;
  return s;
}

Storage *storage_adopt_mapped(void *data, size_t nbytes, size_t maplen) {
  Storage *s = storage_adopt(data, nbytes);
  if (s) s->maplen = maplen;
  return s;
}

void storage_retain(Storage *s) {
  if (s) s->refcount++;
}

void storage_release(Storage *s) {
  if (s && --s->refcount == 0) {
    if (s->maplen) munmap(s->data, s->maplen);
    else free(s->data);
    free(s);
  }
}

char *shape_str(int ndim, const int64_t *shape, char *buf, size_t len) {
  size_t n = 0;
  buf[0] = '\0';
  if (ndim == 0) {
    snprintf(buf, len, "scalar");
    return buf;
  }
  for (int i = 0; i < ndim && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, i ? "x%lld" : "%lld", (long long)shape[i]);
  return buf;
}

char *tensor_shape_str(const Tensor *t, char *buf, size_t len) {
  return shape_str(t->ndim, t->shape, buf, len);
}

static int init(Tensor *t, DType dt, int ndim, const int64_t *shape, int zero, char *err);

int tensor_init(Tensor *t, DType dt, int ndim, const int64_t *shape, char *err) {
  return init(t, dt, ndim, shape, 1, err);
}

int tensor_init_uninit(Tensor *t, DType dt, int ndim, const int64_t *shape, char *err) {
  return init(t, dt, ndim, shape, 0, err);
}

static int init(Tensor *t, DType dt, int ndim, const int64_t *shape, int zero, char *err) {
  int64_t n = 1, nz = 1;
  memset(t, 0, sizeof *t);
  t->dtype = dt;
  if (ndim < 0 || ndim > TENSOR_MAXDIM) {
    snprintf(err, TENSOR_ERRLEN, "expected at most %d dimensions, got %d", TENSOR_MAXDIM, ndim);
    return -1;
  }
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      snprintf(err, TENSOR_ERRLEN, "expected sizes >= 0, got %lld in dimension %d",
               (long long)shape[i], i + 1);
      return -1;
    }
    /* nz, the product of the sizes with 0 read as 1, bounds both the
     * element count and the largest stride; saturated, refused below. */
    int64_t s1 = shape[i] ? shape[i] : 1;
    nz = nz > INT64_MAX / 8 / s1 ? INT64_MAX / 8 : nz * s1;
    n *= shape[i] ? 1 : 0;
  }
  /* 1 TiB is beyond any machine this runs on, and a clear error beats
   * asking malloc for exabytes (which sanitizers treat as a crash). */
  if (nz > (((int64_t)1 << 40) / (int64_t)dtype_size(dt))) {
    char sb[96];
    snprintf(err, TENSOR_ERRLEN, "tensor too large: expected at most 2^40 bytes, got a %s %s tensor",
             shape_str(ndim, shape, sb, sizeof sb), dtype_name(dt));
    return -1;
  }
  n *= nz;
  t->ndim = ndim;
  int64_t st = 1; /* 64-bit: a stride past 2^31 elements must not wrap */
  for (int i = ndim - 1; i >= 0; i--) {
    t->shape[i] = shape[i];
    t->stride[i] = st;
    st *= shape[i] ? shape[i] : 1;
  }
  t->storage = storage_alloc((size_t)n * dtype_size(dt), zero);
  if (!t->storage) {
    char sb[96];
    snprintf(err, TENSOR_ERRLEN, "out of memory allocating a %s %s tensor",
             shape_str(ndim, shape, sb, sizeof sb), dtype_name(dt));
    return -1;
  }
  return 0;
}

void tensor_init_view(Tensor *dst, const Tensor *src) {
  *dst = *src;
  storage_retain(dst->storage);
}

void tensor_free(Tensor *t) {
  storage_release(t->storage);
  t->storage = NULL;
}

int64_t tensor_numel(const Tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

int tensor_is_contiguous(const Tensor *t) {
  int64_t st = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->stride[i] != st) return 0;
    st *= t->shape[i];
  }
  return 1;
}

void *tensor_data(const Tensor *t) {
  return (char *)t->storage->data + (size_t)t->offset * dtype_size(t->dtype);
}

/* Storage offset (in elements) of the flat C-order index i. */
static int64_t flat_to_offset(const Tensor *t, int64_t i) {
  int64_t off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    int64_t sz = t->shape[d];
    off += (i % sz) * t->stride[d];
    i /= sz;
  }
  return off;
}

double tensor_get_flat(const Tensor *t, int64_t i) {
  int64_t off = flat_to_offset(t, i);
  switch (t->dtype) {
  case DT_FLOAT32: return ((float *)t->storage->data)[off];
  case DT_UINT8: return ((uint8_t *)t->storage->data)[off];
  default: return ((int32_t *)t->storage->data)[off];
  }
}

uint8_t tensor_to_u8(double v) {
  if (!(v > 0)) return 0; /* also NaN */
  if (v >= 255) return 255;
  return (uint8_t)v;
}

int32_t tensor_to_i32(double v) {
  if (v != v) return 0;
  if (v >= 2147483647.0) return INT32_MAX;
  if (v <= -2147483648.0) return INT32_MIN;
  return (int32_t)v;
}

void tensor_set_flat(Tensor *t, int64_t i, double v) {
  int64_t off = flat_to_offset(t, i);
  switch (t->dtype) {
  case DT_FLOAT32: ((float *)t->storage->data)[off] = (float)v; break;
  case DT_UINT8: ((uint8_t *)t->storage->data)[off] = tensor_to_u8(v); break;
  default: ((int32_t *)t->storage->data)[off] = tensor_to_i32(v); break;
  }
}

static int check_dim(const Tensor *t, int dim, const char *what, char *err) {
  if (dim < 0 || dim >= t->ndim) {
    snprintf(err, TENSOR_ERRLEN, "%s: dimension %d out of range (expected 1..%d)", what,
             dim + 1, t->ndim);
    return -1;
  }
  return 0;
}

int tensor_narrow(Tensor *t, int dim, int64_t start, int64_t len, char *err) {
  if (check_dim(t, dim, "narrow", err)) return -1;
  if (start < 0 || len < 0 || start + len > t->shape[dim]) {
    snprintf(err, TENSOR_ERRLEN,
             "narrow: range %lld..%lld out of range for dimension %d of size %lld",
             (long long)start + 1, (long long)(start + len), dim + 1, (long long)t->shape[dim]);
    return -1;
  }
  t->offset += start * t->stride[dim];
  t->shape[dim] = len;
  return 0;
}

int tensor_select(Tensor *t, int dim, int64_t i, char *err) {
  if (check_dim(t, dim, "select", err)) return -1;
  if (i < 0 || i >= t->shape[dim]) {
    snprintf(err, TENSOR_ERRLEN, "select: index %lld out of range (expected 1..%lld)",
             (long long)i + 1, (long long)t->shape[dim]);
    return -1;
  }
  t->offset += i * t->stride[dim];
  for (int d = dim; d < t->ndim - 1; d++) {
    t->shape[d] = t->shape[d + 1];
    t->stride[d] = t->stride[d + 1];
  }
  t->ndim--;
  return 0;
}

int tensor_transpose(Tensor *t, int d1, int d2, char *err) {
  if (check_dim(t, d1, "transpose", err) || check_dim(t, d2, "transpose", err)) return -1;
  int64_t s = t->shape[d1], st = t->stride[d1];
  t->shape[d1] = t->shape[d2];
  t->stride[d1] = t->stride[d2];
  t->shape[d2] = s;
  t->stride[d2] = st;
  return 0;
}

int tensor_reshape_view(Tensor *t, int ndim, const int64_t *shape, char *err) {
  int64_t want[TENSOR_MAXDIM], known = 1, nz = 1, n = tensor_numel(t);
  int infer = -1;
  char a[96], b[96];
  if (ndim < 0 || ndim > TENSOR_MAXDIM) {
    snprintf(err, TENSOR_ERRLEN, "reshape: expected at most %d dimensions, got %d",
             TENSOR_MAXDIM, ndim);
    return -1;
  }
  for (int i = 0; i < ndim; i++) {
    want[i] = shape[i];
    if (shape[i] == -1) {
      if (infer >= 0) {
        snprintf(err, TENSOR_ERRLEN, "reshape: only one size may be -1, got %s",
                 shape_str(ndim, shape, a, sizeof a));
        return -1;
      }
      infer = i;
    } else if (shape[i] < 0) {
      snprintf(err, TENSOR_ERRLEN, "reshape: expected sizes >= 0 or -1, got %lld",
               (long long)shape[i]);
      return -1;
    } else {
      /* Saturating, with 0 read as 1: the sizes must keep every stride
       * (and so the element count) representable. */
      int64_t s1 = shape[i] ? shape[i] : 1;
      nz = nz > ((int64_t)1 << 40) / s1 ? ((int64_t)1 << 41) : nz * s1;
      known = shape[i] ? known : 0;
    }
  }
  if (nz > ((int64_t)1 << 40)) {
    snprintf(err, TENSOR_ERRLEN, "reshape: cannot reshape %s into %s (expected at most 2^40 elements)",
             tensor_shape_str(t, a, sizeof a), shape_str(ndim, shape, b, sizeof b));
    return -1;
  }
  known *= nz;
  if (infer >= 0) {
    if (known == 0 || n % known) {
      snprintf(err, TENSOR_ERRLEN, "reshape: cannot reshape %s (%lld elements) into %s",
               tensor_shape_str(t, a, sizeof a), (long long)n, shape_str(ndim, shape, b, sizeof b));
      return -1;
    }
    want[infer] = n / known;
    known = n;
  }
  if (known != n) {
    snprintf(err, TENSOR_ERRLEN, "reshape: cannot reshape %s (%lld elements) into %s (%lld elements)",
             tensor_shape_str(t, a, sizeof a), (long long)n, shape_str(ndim, want, b, sizeof b),
             (long long)known);
    return -1;
  }
  if (!tensor_is_contiguous(t)) return 1;
  t->ndim = ndim;
  int64_t st = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    t->shape[i] = want[i];
    t->stride[i] = st;
    st *= want[i] ? want[i] : 1;
  }
  return 0;
}

int tensor_copy_new(Tensor *dst, const Tensor *src, DType dt, char *err) {
  if (tensor_init_uninit(dst, dt, src->ndim, src->shape, err)) return -1;
  return tensor_copy_into(dst, src, err);
}

/* n contiguous elements converted from one dtype to another (the three
 * conversions met when loading images and labels get their own loops). */
static void convert_flat(void *dst, DType dd, const void *src, DType sd, int64_t n) {
  if (dd == DT_FLOAT32 && sd == DT_UINT8) {
    float *o = dst;
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) o[i] = p[i];
  } else if (dd == DT_FLOAT32 && sd == DT_INT32) {
    float *o = dst;
    const int32_t *p = src;
    for (int64_t i = 0; i < n; i++) o[i] = (float)p[i];
  } else if (dd == DT_INT32 && sd == DT_UINT8) {
    int32_t *o = dst;
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) o[i] = p[i];
  } else {
    for (int64_t i = 0; i < n; i++) {
      double v = sd == DT_FLOAT32 ? ((const float *)src)[i]
                 : sd == DT_UINT8 ? ((const uint8_t *)src)[i] : ((const int32_t *)src)[i];
      if (dd == DT_FLOAT32) ((float *)dst)[i] = (float)v;
      else if (dd == DT_UINT8) ((uint8_t *)dst)[i] = tensor_to_u8(v);
      else ((int32_t *)dst)[i] = tensor_to_i32(v);
    }
  }
}

/* Strided copy with conversion; walks dst in C order and src with its own
 * strides (src may be broadcast to dst's shape by zero strides). */
int tensor_copy_into(Tensor *dst, const Tensor *src, char *err) {
  int64_t sst[TENSOR_MAXDIM] = {0};
  int nd = dst->ndim;
  char a[96], b[96];
  if (src->dtype == dst->dtype && src->ndim == nd && tensor_is_contiguous(src) &&
      tensor_is_contiguous(dst) && memcmp(src->shape, dst->shape, sizeof(int64_t) * nd) == 0) {
    memmove(tensor_data(dst), tensor_data(src), (size_t)tensor_numel(dst) * dtype_size(dst->dtype));
    return 0;
  }
  if (src->ndim == nd && tensor_is_contiguous(src) && tensor_is_contiguous(dst) &&
      memcmp(src->shape, dst->shape, sizeof(int64_t) * nd) == 0) {
    convert_flat(tensor_data(dst), dst->dtype, tensor_data(src), src->dtype, tensor_numel(dst));
    return 0;
  }
  if (src->ndim > nd) goto bad;
  for (int i = 0; i < src->ndim; i++) {
    int d = nd - src->ndim + i;
    if (src->shape[i] == dst->shape[d]) sst[d] = src->stride[i];
    else if (src->shape[i] == 1) sst[d] = 0;
    else goto bad;
  }
  {
    int64_t n = tensor_numel(dst), idx[TENSOR_MAXDIM] = {0};
    int64_t so = src->offset, doff = dst->offset;
    for (int64_t k = 0; k < n; k++) {
      double v;
      switch (src->dtype) {
      case DT_FLOAT32: v = ((float *)src->storage->data)[so]; break;
      case DT_UINT8: v = ((uint8_t *)src->storage->data)[so]; break;
      default: v = ((int32_t *)src->storage->data)[so]; break;
      }
      switch (dst->dtype) {
      case DT_FLOAT32: ((float *)dst->storage->data)[doff] = (float)v; break;
      case DT_UINT8: ((uint8_t *)dst->storage->data)[doff] = tensor_to_u8(v); break;
      default: ((int32_t *)dst->storage->data)[doff] = tensor_to_i32(v); break;
      }
      for (int d = nd - 1; d >= 0; d--) {
        if (++idx[d] < dst->shape[d]) {
          so += sst[d];
          doff += dst->stride[d];
          break;
        }
        so -= sst[d] * (dst->shape[d] - 1);
        doff -= dst->stride[d] * (dst->shape[d] - 1);
        idx[d] = 0;
      }
    }
  }
  return 0;
bad:
  snprintf(err, TENSOR_ERRLEN, "copy: shape %s cannot be broadcast to %s",
           tensor_shape_str(src, a, sizeof a), tensor_shape_str(dst, b, sizeof b));
  return -1;
}

void tensor_fill(Tensor *t, double v) {
  int64_t n = tensor_numel(t);
  if (tensor_is_contiguous(t)) {
    if (t->dtype == DT_FLOAT32) {
      float *p = tensor_f32(t), f = (float)v;
      for (int64_t i = 0; i < n; i++) p[i] = f;
    } else if (t->dtype == DT_UINT8) {
      memset(tensor_u8(t), tensor_to_u8(v), (size_t)n);
    } else {
      int32_t *p = tensor_i32(t), x = tensor_to_i32(v);
      for (int64_t i = 0; i < n; i++) p[i] = x;
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) tensor_set_flat(t, i, v);
}

int tensor_unsqueeze(Tensor *t, int dim, char *err) {
  if (t->ndim >= TENSOR_MAXDIM) {
    snprintf(err, TENSOR_ERRLEN, "expected at most %d dimensions, got %d", TENSOR_MAXDIM,
             t->ndim + 1);
    return -1;
  }
  if (dim < 0 || dim > t->ndim) {
    snprintf(err, TENSOR_ERRLEN, "dimension %d out of range (expected 1..%d)", dim + 1,
             t->ndim + 1);
    return -1;
  }
  for (int d = t->ndim; d > dim; d--) {
    t->shape[d] = t->shape[d - 1];
    t->stride[d] = t->stride[d - 1];
  }
  t->shape[dim] = 1;
  t->stride[dim] = dim < t->ndim ? t->shape[dim + 1] * t->stride[dim + 1] : 1;
  t->ndim++;
  return 0;
}
