/* options.h — typed, named options described by a table of specs, as a
 * layer kind or an optimizer declares them. A spec says where the value
 * lives in the caller's struct, its type, its default and its allowed range
 * or names; the Lua reader (lua_util.h), the model file and tostring all
 * walk the same specs. Knows nothing of Lua. */
#ifndef NNLAB_OPTIONS_H
#define NNLAB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  OPTION_INT,    /* int64_t */
  OPTION_INT2,   /* int64_t[2]: one integer for both, or a pair {a, b} (strides, kernel sizes) */
  OPTION_FLOAT,  /* float */
  OPTION_DOUBLE, /* double */
  OPTION_BOOL,   /* int, 0 or 1 */
  OPTION_NAME,   /* int: the index of a name in names[] ("relu", "same", ...) */
  OPTION_NAME_INT, /* int64_t: a name (stored as -1 - its index in names[]) or an integer
                    * in the range (padding: "valid", "same" or a count) */
} OptionType;

typedef struct OptionSpec {
  const char *name;
  OptionType type;
  size_t offset;            /* offsetof the value in the caller's struct */
  int position;             /* 1-based constructor argument; 0: only in the options table */
  int required;             /* a positional argument that must be given */
  double dflt;              /* default (a name's index for OPTION_NAME, -1 - it for NAME_INT) */
  /* Numbers: the allowed range; lo_end '[' or '(' (0: no lower limit),
   * hi_end ']' or ')' (0: no upper limit). */
  double lo, hi;
  char lo_end, hi_end;
  const char *const *names; /* OPTION_NAME(_INT): the names, NULL-terminated */
  const char *expect;       /* OPTION_NAME(_INT): how errors list them (NULL: "a, b or c") */
} OptionSpec;

/* Writes every default into dst. */
void options_defaults(void *dst, const OptionSpec *specs, int n);
/* 1 when the number v is allowed by s's range (NaN and infinities never are). */
int option_in_range(const OptionSpec *s, double v);
/* What s's range allows, for messages: "an integer in 1..16777216",
 * "in [0, 1)", "> 0". */
const char *option_range_text(const OptionSpec *s, char *buf, size_t len);
/* The names of s as a message lists them: s->expect, or "a, b or c". */
const char *option_names_text(const OptionSpec *s, char *buf, size_t len);
/* The index of name among s's names, or -1. */
int option_name_index(const OptionSpec *s, const char *name);
/* OPTION_NAME_INT: the name stored in v, or NULL when v is an integer. */
const char *option_name_of(const OptionSpec *s, int64_t v);
/* The number stored for s in src (an index for names, the first of a pair;
 * for NAME_INT the integer, or -1 - a name's index). */
double option_number(const void *src, const OptionSpec *s);
/* 1 when the value of s in src differs from its default. */
int option_is_set(const void *src, const OptionSpec *s);
/* Checks every value of src against its spec (after reading a file);
 * returns the first bad spec, or NULL. */
const OptionSpec *options_check(const void *src, const OptionSpec *specs, int n);

#endif
