/* progress.c — a terminal progress bar: [=====>    ] percent, the caller's
 * info text, and time left estimated from the average rate so far. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double progress_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int g_live = 0; /* progress_set_live: the Jupyter kernel */

void progress_set_live(int on) { g_live = on; }

/* 1 on a terminal, 2 when forced live (no ANSI codes), 0 otherwise. */
static int is_live_terminal(FILE *out) {
  if (g_live) return 2;
  const char *term = getenv("TERM");
  return isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);
}

void progress_start(Progress *p, FILE *out, const char *label, double total) {
  p->out = out;
  p->tty = is_live_terminal(out);
  p->total = total;
  p->start = p->last = progress_now();
  p->last -= 1.0; /* draw the first update at once */
  snprintf(p->label, sizeof p->label, "%s", label ? label : "");
  p->eta_word = "ETA";
}

static void fmt_time(char *buf, size_t len, double s) {
  if (s < 0 || s != s || s > 359999) snprintf(buf, len, "--:--");
  else if (s >= 3600) snprintf(buf, len, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
  else snprintf(buf, len, "%02d:%02d", (int)s / 60, (int)s % 60);
}

void progress_update(Progress *p, double done, const char *info) {
  double now = progress_now();
  char bar[32], eta[16];
  if (!p->tty) return;
  if (now - p->last < 0.1 && !(p->total > 0 && done >= p->total)) return;
  p->last = now;
  if (p->total > 0) {
    double frac = done / p->total;
    int width = 24, fill;
    if (frac > 1) frac = 1;
    fill = (int)(frac * width);
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = '\0';
    fmt_time(eta, sizeof eta, done > 0 ? (now - p->start) * (p->total - done) / done : -1);
    fprintf(p->out, "%s%s [%s] %3d%% %s %s %s", p->tty == 2 ? "\r" : "\r\033[K", p->label, bar,
            (int)(frac * 100), info ? info : "", p->eta_word, eta);
  } else {
    fmt_time(eta, sizeof eta, now - p->start);
    fprintf(p->out, "%s%s %s %s", p->tty == 2 ? "\r" : "\r\033[K", p->label, info ? info : "", eta);
  }
  fflush(p->out);
}

void progress_done(Progress *p, const char *summary) {
  if (p->tty) fprintf(p->out, p->tty == 2 ? "\r" : "\r\033[K");
  if (summary) fprintf(p->out, "%s\n", summary);
  fflush(p->out);
}
