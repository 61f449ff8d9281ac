/* wire.c — reading and writing Jupyter messages on ZeroMQ sockets, with the
 * HMAC-SHA256 signature of every message (OpenSSL) checked in constant time
 * before its JSON is even parsed: an unsigned or badly signed message is
 * dropped and never reaches the code that executes requests. */
#include "wire.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <zmq.h>

#define DELIM "<IDS|MSG>"

void wire_new_id(char out[37]) {
  unsigned char b[16];
  static const char hex[] = "0123456789abcdef";
  int k = 0;
  if (RAND_bytes(b, sizeof b) != 1) {
    static unsigned long n = 0;
    unsigned long t = (unsigned long)time(NULL) ^ (unsigned long)++n;
    for (int i = 0; i < 16; i++) b[i] = (unsigned char)(t >> (i % 8 * 8)) ^ (unsigned char)(i * 37);
  }
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
    out[k++] = hex[b[i] >> 4];
    out[k++] = hex[b[i] & 15];
  }
  out[k] = '\0';
}

void wire_sign(const WireKey *key, const char *const *parts, const size_t *lens, int n, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  size_t total = 0, off = 0;
  unsigned char *buf;
  for (int i = 0; i < n; i++) total += lens[i];
  buf = malloc(total ? total : 1);
  out[0] = '\0';
  if (!buf) return;
  for (int i = 0; i < n; i++) {
    memcpy(buf + off, parts[i], lens[i]);
    off += lens[i];
  }
  HMAC(EVP_sha256(), key->key, (int)key->keylen, buf, total, md, &mdlen);
  free(buf);
  for (unsigned i = 0; i < mdlen && i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[2 * (mdlen < 32 ? mdlen : 32)] = '\0';
}

void wire_free(WireMsg *m) {
  for (int i = 0; i < m->nids; i++) {
    zmq_msg_close((zmq_msg_t *)m->ids[i]);
    free(m->ids[i]);
  }
  free(m->ids);
  json_decref(m->header);
  json_decref(m->parent);
  json_decref(m->metadata);
  json_decref(m->content);
  memset(m, 0, sizeof *m);
}

/* All frames of one multipart message; returns the count or -1 (errno set). */
static int recv_frames(void *sock, zmq_msg_t **out, int *cap) {
  int n = 0, more = 1;
  while (more) {
    if (n == *cap) {
      int nc = *cap ? *cap * 2 : 16;
      zmq_msg_t *g = realloc(*out, (size_t)nc * sizeof *g);
      if (!g) return -1;
      *out = g;
      *cap = nc;
    }
    zmq_msg_init(&(*out)[n]);
    if (zmq_msg_recv(&(*out)[n], sock, 0) < 0) {
      int e = errno;
      zmq_msg_close(&(*out)[n]);
      for (int i = 0; i < n; i++) zmq_msg_close(&(*out)[i]);
      errno = e;
      return -1;
    }
    more = zmq_msg_more(&(*out)[n]);
    n++;
  }
  return n;
}

static json_t *parse_part(zmq_msg_t *f, const char *what, char *err, size_t errlen) {
  json_error_t je;
  json_t *j = json_loadb(zmq_msg_data(f), zmq_msg_size(f), JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    snprintf(err, errlen, "malformed JSON in the %s: %s (column %d)", what, je.text, je.column);
    return NULL;
  }
  if (!json_is_object(j)) {
    snprintf(err, errlen, "the %s is not a JSON object", what);
    json_decref(j);
    return NULL;
  }
  return j;
}

int wire_recv(void *sock, const WireKey *key, WireMsg *m, char *err, size_t errlen) {
  zmq_msg_t *f = NULL;
  int cap = 0, n, d = -1, status = -1;
  size_t total = 0;
  memset(m, 0, sizeof *m);
  n = recv_frames(sock, &f, &cap);
  if (n < 0) {
    free(f);
    snprintf(err, errlen, "receive failed: %s", zmq_strerror(errno));
    return -2;
  }
  for (int i = 0; i < n; i++) {
    total += zmq_msg_size(&f[i]);
    if (d < 0 && zmq_msg_size(&f[i]) == strlen(DELIM) && memcmp(zmq_msg_data(&f[i]), DELIM, strlen(DELIM)) == 0) d = i;
  }
  if (total > WIRE_MAX_MESSAGE) {
    snprintf(err, errlen, "message of %zu bytes dropped (the limit is %u)", total, WIRE_MAX_MESSAGE);
    goto done;
  }
  if (d < 0 || n - d < 6) {
    snprintf(err, errlen, "malformed message: %s", d < 0 ? "no <IDS|MSG> delimiter" : "fewer than 5 parts after the delimiter");
    goto done;
  }
  if (key->keylen > 0) {
    const char *parts[4];
    size_t lens[4];
    char want[65];
    for (int i = 0; i < 4; i++) {
      parts[i] = zmq_msg_data(&f[d + 2 + i]);
      lens[i] = zmq_msg_size(&f[d + 2 + i]);
    }
    wire_sign(key, parts, lens, 4, want);
    if (zmq_msg_size(&f[d + 1]) != 64 || CRYPTO_memcmp(zmq_msg_data(&f[d + 1]), want, 64) != 0) {
      snprintf(err, errlen, "message with an invalid signature dropped");
      goto done;
    }
  }
  if (!(m->header = parse_part(&f[d + 2], "header", err, errlen)) ||
      !(m->parent = parse_part(&f[d + 3], "parent header", err, errlen)) ||
      !(m->metadata = parse_part(&f[d + 4], "metadata", err, errlen)) ||
      !(m->content = parse_part(&f[d + 5], "content", err, errlen)))
    goto done;
  if (!json_is_string(json_object_get(m->header, "msg_type")) || !json_is_string(json_object_get(m->header, "msg_id"))) {
    snprintf(err, errlen, "header without msg_type or msg_id (strings)");
    goto done;
  }
  if (d > 0 && !(m->ids = calloc((size_t)d, sizeof *m->ids))) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  for (int i = 0; i < d; i++) {
    zmq_msg_t *c = malloc(sizeof *c);
    if (!c) break;
    zmq_msg_init(c);
    zmq_msg_copy(c, &f[i]);
    m->ids[m->nids++] = c;
  }
  status = 0;
done:
  for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
  free(f);
  if (status) wire_free(m);
  return status;
}

static void iso_now(char *buf, size_t len) {
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
}

static int send_part(void *sock, const void *data, size_t len, int more) {
  return zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

int wire_send(void *sock, const WireKey *key, const char *session, const WireMsg *to, const char *type,
              json_t *parent, json_t *content) {
  char id[37], date[96], sig[65] = "";
  char *s[4];
  size_t lens[4];
  int rc = 0;
  json_t *header, *empty = json_object();
  wire_new_id(id);
  iso_now(date, sizeof date);
  header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "msg_id", id, "session", session, "username", "nnlab",
                     "date", date, "msg_type", type, "version", "5.3");
  s[0] = json_dumps(header, JSON_COMPACT);
  s[1] = json_dumps(parent ? parent : empty, JSON_COMPACT);
  s[2] = strdup("{}");
  s[3] = json_dumps(content, JSON_COMPACT);
  json_decref(header);
  json_decref(empty);
  json_decref(content);
  if (!s[0] || !s[1] || !s[2] || !s[3]) rc = -1;
  if (!rc) {
    for (int i = 0; i < 4; i++) lens[i] = strlen(s[i]);
    if (key->keylen > 0) wire_sign(key, (const char *const *)s, lens, 4, sig);
    if (to)
      for (int i = 0; i < to->nids && !rc; i++) {
        zmq_msg_t c;
        zmq_msg_init(&c);
        zmq_msg_copy(&c, (zmq_msg_t *)to->ids[i]);
        rc = zmq_msg_send(&c, sock, ZMQ_SNDMORE) < 0 ? -1 : 0;
        if (rc) zmq_msg_close(&c);
      }
    else rc = send_part(sock, type, strlen(type), 1);
    if (!rc) rc = send_part(sock, DELIM, strlen(DELIM), 1);
    if (!rc) rc = send_part(sock, sig, strlen(sig), 1);
    for (int i = 0; i < 4 && !rc; i++) rc = send_part(sock, s[i], lens[i], i < 3);
  }
  for (int i = 0; i < 4; i++) free(s[i]);
  return rc;
}
