/* streams.h — standard output and error of a kernel turned into Jupyter
 * stream messages: file descriptors 1 and 2 point at pipes, a thread sends
 * what arrives, and the kernel drains them before any other output so the
 * order of prints, plots and results is kept. Internal to src/kernel. */
#ifndef NNLAB_STREAMS_H
#define NNLAB_STREAMS_H

#include <pthread.h>

/* Sends one piece of text (valid UTF-8) as a stream message named `name`
 * ("stdout" or "stderr"); called with the streams' lock held. */
typedef void (*StreamSend)(void *ud, const char *name, const char *text, size_t len);

typedef struct {
  int pipe_out[2], pipe_err[2], wake[2];
  int saved_out, saved_err; /* the process's own standard output and error */
  char carry[2][4];         /* the start of a UTF-8 sequence cut by a read */
  int ncarry[2];
  pthread_t thread;
  int running;
  pthread_mutex_t lock;     /* held while reading the pipes and sending */
  StreamSend send;
  void *ud;
} Streams;

/* Redirects descriptors 1 and 2 and starts the forwarding thread. Returns 0
 * or -1 (errno set); on failure nothing is redirected. */
int streams_start(Streams *s, StreamSend send, void *ud);
/* Sends everything printed so far (flushes stdio first). */
void streams_flush(Streams *s);
/* Flushes, stops the thread and restores descriptors 1 and 2. */
void streams_stop(Streams *s);
/* Valid UTF-8 from `in`: bytes of a sequence cut at the end go to carry
 * (up to 3; *ncarry gives their count, and they are put in front next time);
 * invalid bytes become '?'. `out` needs room for n + 3 bytes; returns its length. */
size_t streams_utf8(const char *in, size_t n, char *out, char carry[4], int *ncarry);

#endif
