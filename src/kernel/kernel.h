/* kernel.h — the Jupyter kernel server (messaging protocol 5.3): sockets from
 * a connection file, heartbeat on its own thread, standard output and error
 * forwarded as stream messages, and the requests of the shell and control
 * channels answered through the handlers the caller gives. Knows no Lua. */
#ifndef NNLAB_KERNEL_H
#define NNLAB_KERNEL_H

#include <jansson.h>
#include <stddef.h>

typedef struct Kernel Kernel;

/* What the language behind the kernel does. Returned JSON references are
 * handed over (the kernel frees them). */
typedef struct {
  void *ud;
  /* Runs `code`. Returns 0 with *result a MIME bundle to show as the cell's
   * value (or NULL), or 1 with *error {ename, evalue, traceback: [..]}. */
  int (*execute)(void *ud, Kernel *k, const char *code, int count, int silent, json_t **result, json_t **error);
  /* {matches: [...], cursor_start, cursor_end} for the code and cursor (in
   * characters); NULL when nothing can be offered. */
  json_t *(*complete)(void *ud, const char *code, int cursor);
  /* A MIME bundle documenting the name at the cursor, or NULL. */
  json_t *(*inspect)(void *ud, const char *code, int cursor, int detail);
  /* "complete", "incomplete" or "invalid". */
  const char *(*is_complete)(void *ud, const char *code);
  /* Ctrl-C (SIGINT) arrived while nothing ran: forget it. */
  void (*clear_interrupt)(void *ud);
} KernelHandlers;

typedef struct {
  const char *implementation_version, *language_version, *banner;
} KernelInfo;

/* Serves until a shutdown request. Returns 0, or -1 with `err` filled when the
 * connection file cannot be used (unreadable, bad JSON, ports in use). */
int kernel_serve(const char *connection_file, const KernelHandlers *h, const KernelInfo *info, char *err,
                 size_t errlen);

/* While a request runs: sends what was printed so far, then display_data
 * (or update_display_data when `update`) with `data` and `metadata` (both
 * stolen; metadata may be NULL), under `display_id` when not NULL. */
void kernel_display(Kernel *k, json_t *data, json_t *metadata, const char *display_id, int update);
/* While an execute request runs: asks the client for a line (input_request
 * on the stdin channel, with `prompt`, hidden when `password`) and waits for
 * its input_reply. Returns the malloc'd line (the caller frees it), or NULL:
 * *why is then "not allowed" (the request said allow_stdin false), "interrupted"
 * (Ctrl-C while waiting) or "failed". */
char *kernel_input(Kernel *k, const char *prompt, int password, const char **why);
/* Sends what was printed so far as stream messages. */
void kernel_flush_output(Kernel *k);
/* A line on the kernel's own standard error (its log), whatever the cells print. */
void kernel_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
