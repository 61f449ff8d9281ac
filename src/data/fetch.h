/* fetch.h — one download through libcurl into a file, with a progress bar
 * on stderr and the MD5 of the bytes computed as they arrive (OpenSSL EVP). */
#ifndef NNLAB_FETCH_H
#define NNLAB_FETCH_H

#include <stddef.h>

/* Downloads url into dest through a temporary file beside it, renamed into
 * place only when complete and (when md5hex is not NULL) with that MD5
 * (lowercase hex). Only http and https, also for redirects. max_bytes > 0
 * caps the size: a larger Content-Length fails at once, a longer stream as
 * soon as it passes the cap. Holds a lock on dest's folder meanwhile; when
 * dest exists once the lock is taken (another process downloaded it), it
 * returns 0 at once. Connecting gives up after connect_timeout seconds; a
 * transfer that stalls (under 1 byte/s for 20 s) fails too. Returns 0, or -1
 * with err saying why (nothing is left behind). */
int fetch_url(const char *url, const char *dest, const char *md5hex, double max_bytes,
              const char *label, double connect_timeout, char *err, size_t errlen);

#endif
