/* tensor.h — the tensor core: reference-counted storage, and tensors that are
 * views over it (shape, strides in elements, offset), as in Torch7's TH.
 * Knows nothing of Lua. Functions that can fail return 0 on success or -1
 * with a message written into err (TENSOR_ERRLEN bytes); allocation failure
 * is reported the same way. Positions in this API are 0-based; the Lua
 * binding converts from Lua's 1-based positions. */
#ifndef NNLAB_TENSOR_H
#define NNLAB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define TENSOR_MAXDIM 8
#define TENSOR_ERRLEN 256

typedef enum { DT_FLOAT32 = 0, DT_UINT8 = 1, DT_INT32 = 2 } DType;

typedef struct Storage {
  void *data;        /* owned; freed when refcount drops to 0 */
  size_t nbytes;
  int refcount;
  size_t maplen;     /* > 0: data is an mmap'd region of maplen bytes (munmap'd) */
} Storage;

typedef struct Tensor {
  Storage *storage;  /* NULL only for a tensor that was never filled */
  DType dtype;
  int ndim;          /* 0 .. TENSOR_MAXDIM; ndim 0 is a scalar of 1 element */
  int64_t shape[TENSOR_MAXDIM];
  int64_t stride[TENSOR_MAXDIM]; /* in elements, may be 0 (broadcast) */
  int64_t offset;                /* in elements */
} Tensor;

/* dtype names: "float32", "uint8", "int32". Returns -1 for an unknown name. */
int dtype_from_name(const char *name);
const char *dtype_name(DType dt);
size_t dtype_size(DType dt);

/* Storage: storage_new returns NULL on allocation failure; the new storage
 * has refcount 1 and zeroed bytes. */
Storage *storage_new(size_t nbytes);
/* As numpy does: asks for transparent huge pages on a buffer of 4 MB or
 * more, so that filling 40 MB costs 20 page faults instead of 10,000 (a
 * page fault is dear in a virtual machine). Harmless where unsupported. */
void mem_advise_huge(void *p, size_t nbytes);
/* Wraps a malloc'd buffer (ownership moves to the storage, which frees it
 * with free()). Returns NULL on allocation failure; data is then still the
 * caller's. */
Storage *storage_adopt(void *data, size_t nbytes);
/* As storage_adopt, for a region of maplen bytes from mmap(). */
Storage *storage_adopt_mapped(void *data, size_t nbytes, size_t maplen);
void storage_retain(Storage *s);
void storage_release(Storage *s);

/* Make t a new contiguous zero-filled tensor. shape entries must be >= 0.
 * On failure t is left with storage NULL. */
int tensor_init(Tensor *t, DType dt, int ndim, const int64_t *shape, char *err);
/* As tensor_init, but the values are left undefined: for results that are
 * written in full at once (copies, elementwise results). */
int tensor_init_uninit(Tensor *t, DType dt, int ndim, const int64_t *shape, char *err);
/* Make dst a view of src (shares and retains the storage). */
void tensor_init_view(Tensor *dst, const Tensor *src);
/* Drop t's reference to its storage; safe to call twice. */
void tensor_free(Tensor *t);

int64_t tensor_numel(const Tensor *t);
int tensor_is_contiguous(const Tensor *t);
/* Address of the first element (storage data + offset). */
void *tensor_data(const Tensor *t);
static inline float *tensor_f32(const Tensor *t) { return (float *)tensor_data(t); }
static inline uint8_t *tensor_u8(const Tensor *t) { return (uint8_t *)tensor_data(t); }
static inline int32_t *tensor_i32(const Tensor *t) { return (int32_t *)tensor_data(t); }

/* Formats a shape as "2x3" (scalar: "scalar") into buf. Returns buf. */
char *tensor_shape_str(const Tensor *t, char *buf, size_t len);
char *shape_str(int ndim, const int64_t *shape, char *buf, size_t len);

/* Element access by a flat 0-based index into the logical (C-order) layout,
 * as a double. Slow path for printing and conversion. */
double tensor_get_flat(const Tensor *t, int64_t i);
void tensor_set_flat(Tensor *t, int64_t i, double v);

/* Views: all modify `t` in place (it is already a view header). */
int tensor_narrow(Tensor *t, int dim, int64_t start, int64_t len, char *err);
int tensor_select(Tensor *t, int dim, int64_t i, char *err);
int tensor_transpose(Tensor *t, int d1, int d2, char *err);
/* Reshape as a view when strides allow; returns 1 if a copy is needed
 * (then call tensor_contiguous first), 0 on success, -1 on error.
 * One entry of shape may be -1 (inferred). */
int tensor_reshape_view(Tensor *t, int ndim, const int64_t *shape, char *err);

/* dst becomes a new contiguous copy of src with dtype dt (conversion by
 * C casts; float->uint8 saturates to 0..255 after rounding toward zero). */
int tensor_copy_new(Tensor *dst, const Tensor *src, DType dt, char *err);
/* Copy src's values into dst (same numel; src broadcast to dst's shape
 * when shapes differ), converting dtype. */
int tensor_copy_into(Tensor *dst, const Tensor *src, char *err);

/* Sets every element of t to v (converted as tensor_set_flat does). */
void tensor_fill(Tensor *t, double v);
/* Inserts a dimension of size 1 before position dim (0..ndim). */
int tensor_unsqueeze(Tensor *t, int dim, char *err);
/* Value conversions used everywhere a double is stored into an integer
 * dtype: NaN becomes 0, out-of-range values saturate. */
uint8_t tensor_to_u8(double v);
int32_t tensor_to_i32(double v);

#endif
