/* base64.h — standard base64 (RFC 4648, with padding), used to embed the
 * plots of a rendered lesson in one self-contained HTML file. */
#ifndef NNLAB_BASE64_H
#define NNLAB_BASE64_H

#include <stddef.h>

/* Length of the encoding of n bytes: 4 * ceil(n / 3). */
size_t base64_encoded_len(size_t n);
/* Writes the encoding of in[0..n) to out, which holds base64_encoded_len(n)
 * bytes (no terminating NUL). Cannot fail. */
void base64_encode(char *out, const unsigned char *in, size_t n);

#endif
