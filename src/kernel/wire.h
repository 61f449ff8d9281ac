/* wire.h — Jupyter's wire protocol (messaging 5.3) over ZeroMQ: a message is
 * routing identities, "<IDS|MSG>", an HMAC-SHA256 signature in hex, then the
 * header, parent header, metadata and content as JSON (jansson), then any
 * binary buffers. Knows nothing of Lua. */
#ifndef NNLAB_WIRE_H
#define NNLAB_WIRE_H

#include <jansson.h>
#include <stddef.h>

#define WIRE_MAX_MESSAGE (16u << 20) /* a larger message is dropped with a log line */

typedef struct {
  void **ids;        /* routing identities (zmq_msg_t *), copied into replies */
  int nids;
  json_t *header, *parent, *metadata, *content; /* owned references */
} WireMsg;

/* The signing key; keylen 0 means messages are neither signed nor checked. */
typedef struct {
  unsigned char key[256];
  size_t keylen;
} WireKey;

/* Receives one message from `sock` (blocking). Returns 0 with *m filled,
 * or -1 when the message was dropped (bad signature, malformed, oversized):
 * `err` then says why, for the log. Returns -2 when the socket failed (the
 * context is shutting down or the call was interrupted). */
int wire_recv(void *sock, const WireKey *key, WireMsg *m, char *err, size_t errlen);
/* Frees what wire_recv filled; safe on a zeroed WireMsg and twice. */
void wire_free(WireMsg *m);

/* Sends a message of type `type` with the given parent header (may be NULL)
 * and content (a reference is stolen), to the identities of `to` (may be
 * NULL: an iopub message, whose topic is the message type). `session` names
 * the kernel's session. Returns 0, or -1 when the socket refused it. */
int wire_send(void *sock, const WireKey *key, const char *session, const WireMsg *to, const char *type,
              json_t *parent, json_t *content);

/* A fresh random identifier (32 hex digits and dashes), as msg_id and session. */
void wire_new_id(char out[37]);
/* Hex HMAC-SHA256 of the concatenated parts (out gets 64 digits and NUL). */
void wire_sign(const WireKey *key, const char *const *parts, const size_t *lens, int n, char out[65]);

#endif
