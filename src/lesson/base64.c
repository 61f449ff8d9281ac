/* base64.c — standard base64 encoding (RFC 4648 section 4, with '=' padding):
 * every 3 input bytes become 4 characters of 6 bits each. */
#include "base64.h"

static const char ALPHABET[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void base64_encode(char *out, const unsigned char *in, size_t n) {
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    *out++ = ALPHABET[v >> 18 & 63];
    *out++ = ALPHABET[v >> 12 & 63];
    *out++ = ALPHABET[v >> 6 & 63];
    *out++ = ALPHABET[v & 63];
  }
  if (i < n) { /* 1 or 2 bytes left: pad the missing 6-bit groups with '=' */
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0u);
    *out++ = ALPHABET[v >> 18 & 63];
    *out++ = ALPHABET[v >> 12 & 63];
    *out++ = i + 1 < n ? ALPHABET[v >> 6 & 63] : '=';
    *out++ = '=';
  }
}
