/* progress.h — one progress bar for fit and for downloads. On a terminal it
 * redraws a single line (\r) at most 10 times a second; elsewhere it draws
 * nothing until progress_done, which prints the summary line. */
#ifndef NNLAB_PROGRESS_H
#define NNLAB_PROGRESS_H

#include <stdio.h>

typedef struct Progress {
  FILE *out;
  int tty;            /* draw live updates */
  double total;       /* units expected; 0 when unknown */
  double start, last; /* monotonic seconds */
  char label[64];
  const char *eta_word; /* "ETA" unless the caller sets its own word after start */
} Progress;

/* Monotonic clock in seconds. */
double progress_now(void);
void progress_start(Progress *p, FILE *out, const char *label, double total);
/* done = units finished so far; info = extra text (loss, accuracy, bytes). */
void progress_update(Progress *p, double done, const char *info);
/* Ends the live line and prints `summary` on its own line. */
void progress_done(Progress *p, const char *summary);
/* on = 1: draw live updates even when the output is not a terminal, with a
 * bare \r and no ANSI codes (a Jupyter cell shows each redraw in place). */
void progress_set_live(int on);

#endif
