/* stream.c — see stream.h. A 256 KB input buffer refilled with read(2); in
 * gzip mode ISA-L's isal_inflate turns it into the caller's buffer directly,
 * with its own state keeping the 32 KB history between calls. */
#include "stream.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { IN_SIZE = 1 << 18 };
enum { MODE_UNKNOWN, MODE_DIRECT, MODE_GZIP, MODE_END };

struct DataStream {
  int fd, mode, status, eof;  /* eof: read(2) said the file ended */
  const char *why;
  unsigned char *in;          /* IN_SIZE bytes; in[pos..len) not used yet */
  size_t pos, len;
  struct inflate_state st;
};

DataStream *stream_open_fd(int fd) {
  DataStream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->in = malloc(IN_SIZE);
  if (!s->in) {
    free(s);
    return NULL;
  }
  s->fd = fd;
  return s;
}

void stream_close(DataStream *s) {
  if (!s) return;
  close(s->fd);
  free(s->in);
  free(s);
}

static void fail(DataStream *s, int status, const char *why) {
  s->status = status;
  s->why = why;
  s->mode = MODE_END;
}

/* Moves what is left to the front and reads more; 0 when nothing came. */
static size_t refill(DataStream *s) {
  if (s->pos > 0) {
    memmove(s->in, s->in + s->pos, s->len - s->pos);
    s->len -= s->pos;
    s->pos = 0;
  }
  size_t got = 0;
  while (!s->eof && s->len < IN_SIZE) {
    ssize_t r = read(s->fd, s->in + s->len, IN_SIZE - s->len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      fail(s, STREAM_CORRUPT, "read error");
      return 0;
    }
    if (r == 0) s->eof = 1;
    s->len += (size_t)r;
    got += (size_t)r;
    if (got > 0) break;
  }
  return got;
}

/* Two bytes at pos are the gzip magic: starts a member there. */
static int gzip_member_starts(DataStream *s) {
  while (s->len - s->pos < 2 && refill(s) > 0) {}
  if (s->len - s->pos < 2 || s->in[s->pos] != 0x1f || s->in[s->pos + 1] != 0x8b) return 0;
  isal_inflate_init(&s->st);
  s->st.crc_flag = ISAL_GZIP;
  return 1;
}

static const char *inflate_error(int rc) {
  switch (rc) {
  case ISAL_INVALID_BLOCK: return "invalid deflate block";
  case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
  case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
  case ISAL_INVALID_WRAPPER: return "invalid gzip header";
  case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
  case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
  default: return "invalid compressed data";
  }
}

static size_t read_direct(DataStream *s, unsigned char *out, size_t n) {
  size_t done = 0;
  while (done < n) {
    if (s->pos == s->len && refill(s) == 0) break;
    size_t k = s->len - s->pos < n - done ? s->len - s->pos : n - done;
    memcpy(out + done, s->in + s->pos, k);
    s->pos += k;
    done += k;
  }
  return done;
}

static size_t read_gzip(DataStream *s, unsigned char *out, size_t n) {
  size_t done = 0;
  while (done < n && s->mode == MODE_GZIP) {
    if (s->st.block_state == ISAL_BLOCK_FINISH) { /* a member ended: another one? */
      if (!gzip_member_starts(s)) s->mode = MODE_END;
      continue;
    }
    if (s->pos == s->len && refill(s) == 0) {
      if (s->mode == MODE_GZIP) fail(s, STREAM_TRUNCATED, "unexpected end of file");
      break;
    }
    size_t pos0 = s->pos, done0 = done;
    s->st.next_in = s->in + s->pos;
    s->st.avail_in = (uint32_t)(s->len - s->pos);
    s->st.next_out = out + done;
    s->st.avail_out = (uint32_t)(n - done);
    int rc = isal_inflate(&s->st);
    s->pos = s->len - s->st.avail_in;
    done = (size_t)(s->st.next_out - out);
    if (rc < 0 || rc == ISAL_NEED_DICT) fail(s, STREAM_CORRUPT, inflate_error(rc));
    else if (s->pos == pos0 && done == done0 && s->st.block_state != ISAL_BLOCK_FINISH &&
             refill(s) == 0) { /* it wants more than the bytes at hand */
      if (s->mode == MODE_GZIP) fail(s, STREAM_TRUNCATED, "unexpected end of file");
      break;
    }
  }
  return done;
}

long stream_read(DataStream *s, void *buf, size_t n) {
  if (n > INT32_MAX) return -1;
  if (s->mode == MODE_UNKNOWN) s->mode = gzip_member_starts(s) ? MODE_GZIP : MODE_DIRECT;
  if (s->mode == MODE_DIRECT) return (long)read_direct(s, buf, n);
  if (s->mode == MODE_GZIP) return (long)read_gzip(s, buf, n);
  return 0;
}

int stream_status(const DataStream *s, const char **why) {
  if (why) *why = s->why ? s->why : "";
  return s->status;
}

int stream_direct(const DataStream *s) { return s->mode == MODE_DIRECT; }
