/* fetch.h — one download through libcurl into a file, with a progress bar
 * on stderr and the MD5 of the bytes computed as they arrive (OpenSSL EVP). */
#ifndef NNLAB_FETCH_H
#define NNLAB_FETCH_H

#include <stddef.h>

/* Downloads url into dest (created or truncated). When md5hex is not NULL
 * the download must have that MD5 (lowercase hex) or it fails. Connecting
 * gives up after connect_timeout seconds; a transfer that stalls (under 1
 * byte/s for 20 s) fails too. Returns 0, or -1 with err saying why (the
 * caller deletes dest). */
int fetch_url(const char *url, const char *dest, const char *md5hex, const char *label,
              double connect_timeout, char *err, size_t errlen);

#endif
