/* options.c — defaults, ranges and names of option specs (see options.h). */
#include "options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AT(dst, s, T) ((T *)((char *)(dst) + (s)->offset))
#define CAT(src, s, T) ((const T *)((const char *)(src) + (s)->offset))

void options_defaults(void *dst, const OptionSpec *specs, int n) {
  for (int i = 0; i < n; i++) {
    const OptionSpec *s = &specs[i];
    switch (s->type) {
    case OPTION_INT: case OPTION_NAME_INT: *AT(dst, s, int64_t) = (int64_t)s->dflt; break;
    case OPTION_INT2: AT(dst, s, int64_t)[0] = AT(dst, s, int64_t)[1] = (int64_t)s->dflt; break;
    case OPTION_FLOAT: *AT(dst, s, float) = (float)s->dflt; break;
    case OPTION_DOUBLE: *AT(dst, s, double) = s->dflt; break;
    case OPTION_BOOL: case OPTION_NAME: *AT(dst, s, int) = (int)s->dflt; break;
    }
  }
}

int option_in_range(const OptionSpec *s, double v) {
  if (!isfinite(v)) return 0;
  if (s->lo_end == '[' && !(v >= s->lo)) return 0;
  if (s->lo_end == '(' && !(v > s->lo)) return 0;
  if (s->hi_end == ']' && !(v <= s->hi)) return 0;
  if (s->hi_end == ')' && !(v < s->hi)) return 0;
  return 1;
}

const char *option_range_text(const OptionSpec *s, char *buf, size_t len) {
  int integer = s->type == OPTION_INT || s->type == OPTION_INT2 || s->type == OPTION_NAME_INT;
  if (integer && s->lo_end && s->hi_end)
    snprintf(buf, len, "an integer in %.14g..%.14g", s->lo, s->hi);
  else if (s->lo_end && s->hi_end)
    snprintf(buf, len, "in %c%.14g, %.14g%c", s->lo_end, s->lo, s->hi, s->hi_end);
  else if (s->lo_end)
    snprintf(buf, len, "%s%s %.14g", integer ? "an integer " : "", s->lo_end == '(' ? ">" : ">=", s->lo);
  else if (s->hi_end)
    snprintf(buf, len, "%s%s %.14g", integer ? "an integer " : "", s->hi_end == ')' ? "<" : "<=", s->hi);
  else
    snprintf(buf, len, "%s", integer ? "an integer" : "a number");
  return buf;
}

const char *option_names_text(const OptionSpec *s, char *buf, size_t len) {
  size_t used = 0;
  int n = 0;
  if (s->expect) return s->expect;
  buf[0] = 0;
  while (s->names[n]) n++;
  for (int i = 0; i < n && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                             s->names[i]);
  return buf;
}

int option_name_index(const OptionSpec *s, const char *name) {
  for (int i = 0; s->names && s->names[i]; i++)
    if (strcmp(name, s->names[i]) == 0) return i;
  return -1;
}

const char *option_name_of(const OptionSpec *s, int64_t v) {
  int64_t n = 0;
  while (s->names && s->names[n]) n++;
  return v < 0 && -1 - v < n ? s->names[-1 - v] : NULL;
}

double option_number(const void *src, const OptionSpec *s) {
  switch (s->type) {
  case OPTION_INT: case OPTION_INT2: case OPTION_NAME_INT: return (double)*CAT(src, s, int64_t);
  case OPTION_FLOAT: return *CAT(src, s, float);
  case OPTION_DOUBLE: return *CAT(src, s, double);
  default: return *CAT(src, s, int);
  }
}

int option_is_set(const void *src, const OptionSpec *s) {
  if (s->type == OPTION_INT2 && CAT(src, s, int64_t)[1] != (int64_t)s->dflt) return 1;
  if (s->type == OPTION_FLOAT) return *CAT(src, s, float) != (float)s->dflt;
  return option_number(src, s) != s->dflt;
}

const OptionSpec *options_check(const void *src, const OptionSpec *specs, int n) {
  for (int i = 0; i < n; i++) {
    const OptionSpec *s = &specs[i];
    int nn = 0;
    switch (s->type) {
    case OPTION_NAME:
      while (s->names[nn]) nn++;
      if (*CAT(src, s, int) < 0 || *CAT(src, s, int) >= nn) return s;
      break;
    case OPTION_BOOL:
      if (*CAT(src, s, int) != 0 && *CAT(src, s, int) != 1) return s;
      break;
    case OPTION_NAME_INT:
      if (*CAT(src, s, int64_t) < 0 ? !option_name_of(s, *CAT(src, s, int64_t))
                                     : !option_in_range(s, option_number(src, s))) return s;
      break;
    case OPTION_INT2:
      if (!option_in_range(s, (double)CAT(src, s, int64_t)[1])) return s;
      /* fall through */
    default:
      if (!option_in_range(s, option_number(src, s))) return s;
    }
  }
  return NULL;
}
