/* streams.c — what the cells print reaches the notebook while they run: the
 * pipes behind standard output and error are read by a thread that sends
 * each piece as a stream message (fit's progress bar updates live), and
 * streams_flush() empties them under the same lock before the kernel sends
 * a plot or a result, so nothing arrives out of order. */
#include "streams.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Length of the UTF-8 sequence that starts with byte c (0: not a start). */
static int seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

size_t streams_utf8(const char *in, size_t n, char *out, char carry[4], int *ncarry) {
  char buf[4];
  size_t o = 0, i = 0;
  int nb = *ncarry;
  memcpy(buf, carry, (size_t)nb);
  *ncarry = 0;
  /* finish the sequence carried over from the last read */
  while (nb > 0) {
    int want = seq_len((unsigned char)buf[0]);
    while (nb < want && i < n && ((unsigned char)in[i] & 0xC0) == 0x80) buf[nb++] = in[i++];
    if (nb == want) { memcpy(out + o, buf, (size_t)nb); o += (size_t)nb; nb = 0; }
    else if (i == n && nb < want) { memcpy(carry, buf, (size_t)nb); *ncarry = nb; return o; }
    else { out[o++] = '?'; nb = 0; }
  }
  while (i < n) {
    unsigned char c = (unsigned char)in[i];
    int want = seq_len(c), k = 1;
    if (want == 1) { out[o++] = (char)c; i++; continue; }
    if (want == 0) { out[o++] = '?'; i++; continue; }
    while (k < want && i + (size_t)k < n && ((unsigned char)in[i + (size_t)k] & 0xC0) == 0x80) k++;
    if (k == want) { memcpy(out + o, in + i, (size_t)k); o += (size_t)k; i += (size_t)k; }
    else if (i + (size_t)k == n) { memcpy(carry, in + i, (size_t)k); *ncarry = k; i = n; }
    else { out[o++] = '?'; i++; }
  }
  return o;
}

/* Reads what a pipe holds and sends it; the lock is held. */
static void drain(Streams *s, int which) {
  int fd = which == 0 ? s->pipe_out[0] : s->pipe_err[0];
  char in[8192], out[8192 + 8];
  for (;;) {
    ssize_t n = read(fd, in, sizeof in);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    size_t m = streams_utf8(in, (size_t)n, out, s->carry[which], &s->ncarry[which]);
    if (m > 0) s->send(s->ud, which == 0 ? "stdout" : "stderr", out, m);
  }
}

static void *forward(void *arg) {
  Streams *s = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* Ctrl-C belongs to the main thread */
  for (;;) {
    struct pollfd p[3] = {{.fd = s->pipe_out[0], .events = POLLIN},
                          {.fd = s->pipe_err[0], .events = POLLIN},
                          {.fd = s->wake[0], .events = POLLIN}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    if (p[2].revents) return NULL;
    pthread_mutex_lock(&s->lock);
    if (p[0].revents) drain(s, 0);
    if (p[1].revents) drain(s, 1);
    pthread_mutex_unlock(&s->lock);
  }
}

static int make_pipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  return 0;
}

int streams_start(Streams *s, StreamSend send, void *ud) {
  memset(s, 0, sizeof *s);
  s->send = send;
  s->ud = ud;
  s->saved_out = s->saved_err = -1;
  if (make_pipe(s->pipe_out) || make_pipe(s->pipe_err) || make_pipe(s->wake)) return -1;
  fflush(stdout);
  fflush(stderr);
  s->saved_out = dup(1);
  s->saved_err = dup(2);
  if (s->saved_out < 0 || s->saved_err < 0) return -1;
  pthread_mutex_init(&s->lock, NULL);
  if (dup2(s->pipe_out[1], 1) < 0 || dup2(s->pipe_err[1], 2) < 0) return -1;
  setvbuf(stdout, NULL, _IOLBF, 1 << 14); /* as on a terminal: io.write's lines in order with a child's */
  setvbuf(stderr, NULL, _IOLBF, 1 << 14);
  if (pthread_create(&s->thread, NULL, forward, s) != 0) {
    dup2(s->saved_out, 1);
    dup2(s->saved_err, 2);
    return -1;
  }
  s->running = 1;
  return 0;
}

void streams_flush(Streams *s) {
  if (!s->running) return;
  fflush(stdout);
  fflush(stderr);
  pthread_mutex_lock(&s->lock);
  drain(s, 0);
  drain(s, 1);
  pthread_mutex_unlock(&s->lock);
}

void streams_stop(Streams *s) {
  if (!s->running) return;
  streams_flush(s);
  (void)!write(s->wake[1], "x", 1);
  pthread_join(s->thread, NULL);
  s->running = 0;
  dup2(s->saved_out, 1);
  dup2(s->saved_err, 2);
  for (int i = 0; i < 2; i++) {
    close(s->pipe_out[i]);
    close(s->pipe_err[i]);
    close(s->wake[i]);
  }
  close(s->saved_out);
  close(s->saved_err);
  pthread_mutex_destroy(&s->lock);
}
