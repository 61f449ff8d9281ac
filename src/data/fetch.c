/* fetch.c — downloads: libcurl writes into a private temporary file beside
 * the target (util/atomic_file.h) while OpenSSL's MD5 digests the same bytes;
 * only a verified file is renamed into place. A lock on the folder lets one
 * process download a file while the others wait and then use it. Only http
 * and https, also after redirects; at most max_bytes. Ctrl-C aborts. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "interrupt.h"
#include "progress.h"

typedef struct Dl {
  AtomicFile f;
  EVP_MD_CTX *md;
  Progress bar;
  int write_failed, too_big;
  double bytes, max_bytes;
} Dl;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  Dl *d = ud;
  size_t len = size * n;
  if (d->max_bytes > 0 && d->bytes + (double)len > d->max_bytes) {
    d->too_big = 1;
    return 0;
  }
  if (atomic_write(&d->f, p, len) != 0) {
    d->write_failed = 1;
    return 0;
  }
  EVP_DigestUpdate(d->md, p, len);
  d->bytes += (double)len;
  return len;
}

static void human(char *buf, size_t len, double b) {
  if (b >= 1e9) snprintf(buf, len, "%.2f GB", b / 1e9);
  else if (b >= 1e6) snprintf(buf, len, "%.1f MB", b / 1e6);
  else if (b >= 1e3) snprintf(buf, len, "%.1f kB", b / 1e3);
  else snprintf(buf, len, "%.0f B", b);
}

static int on_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un) {
  Dl *d = ud;
  char a[32], b[32], r[32], info[128];
  (void)ut;
  (void)un;
  if (interrupt_pending()) return 1;
  double el = progress_now() - d->bar.start;
  d->bar.total = (double)total;
  human(a, sizeof a, (double)now);
  human(b, sizeof b, (double)total);
  human(r, sizeof r, el > 0 ? (double)now / el : 0);
  if (total > 0) snprintf(info, sizeof info, "%s / %s  %s/s", a, b, r);
  else snprintf(info, sizeof info, "%s  %s/s", a, r);
  progress_update(&d->bar, (double)now, info);
  return 0;
}

/* Takes an exclusive lock on dest's folder, polling so Ctrl-C still works;
 * returns the locked fd, or -1 (interrupted, or the folder cannot be opened:
 * then err says why). */
static int lock_folder(const char *dest, const char *label, char *err, size_t errlen) {
  char dir[4096];
  const char *slash = strrchr(dest, '/');
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - dest) + 1 : 1, slash ? dest : ".");
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open the folder %s: %s", dir, strerror(errno));
    return -1;
  }
  int said = 0;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) break; /* no locks here: go on unlocked */
    if (!said++) fprintf(stderr, "%s: waiting for another nnlab downloading into %s\n", label, dir);
    if (interrupt_pending()) {
      close(fd);
      snprintf(err, errlen, "interrupted");
      return -1;
    }
    nanosleep(&(struct timespec){0, 100000000}, NULL);
  }
  return fd;
}

static int curl_ready;

int fetch_url(const char *url, const char *dest, const char *md5hex, double max_bytes,
              const char *label, double connect_timeout, char *err, size_t errlen) {
  Dl d;
  char cerr[CURL_ERROR_SIZE] = "";
  int rc = -1;
  CURL *h = NULL;
  memset(&d, 0, sizeof d);
  d.f.fd = -1;
  d.max_bytes = max_bytes;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
      snprintf(err, errlen, "cannot initialise libcurl");
      return -1;
    }
    curl_ready = 1;
  }
  int lock = lock_folder(dest, label, err, errlen);
  if (lock < 0) return -1;
  struct stat st;
  if (stat(dest, &st) == 0 && S_ISREG(st.st_mode)) { /* another process got it while we waited */
    close(lock);
    return 0;
  }
  if (atomic_open(&d.f, dest, err, errlen) != 0) goto done;
  d.md = EVP_MD_CTX_new();
  h = curl_easy_init();
  if (!d.md || !h || !EVP_DigestInit_ex(d.md, EVP_md5(), NULL)) {
    snprintf(err, errlen, "out of memory starting a download");
    goto done;
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (max_bytes > 0) curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &d);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout * 1000));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 20L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "nnlab");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  progress_start(&d.bar, stderr, label, 0);
  CURLcode res = curl_easy_perform(h);
  double secs = progress_now() - d.bar.start;
  if (res != CURLE_OK) {
    progress_done(&d.bar, NULL);
    if (res == CURLE_ABORTED_BY_CALLBACK) snprintf(err, errlen, "interrupted");
    else if (d.write_failed) snprintf(err, errlen, "cannot write %s: %s", dest, strerror(errno));
    else if (d.too_big || res == CURLE_FILESIZE_EXCEEDED)
      snprintf(err, errlen, "the server sends more than the expected %.0f bytes", max_bytes);
    else snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(res));
    goto done;
  }
  unsigned char dig[EVP_MAX_MD_SIZE];
  unsigned dlen = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  EVP_DigestFinal_ex(d.md, dig, &dlen);
  for (unsigned i = 0; i < dlen; i++) snprintf(hex + 2 * i, 3, "%02x", dig[i]);
  char sz[32], summary[256];
  human(sz, sizeof sz, d.bytes);
  if (md5hex && strcmp(hex, md5hex) != 0) {
    progress_done(&d.bar, NULL);
    snprintf(err, errlen, "MD5 mismatch (got %s, expected %s)", hex, md5hex);
    goto done;
  }
  if (atomic_commit(&d.f, 1, err, errlen) != 0) {
    progress_done(&d.bar, NULL);
    goto done;
  }
  snprintf(summary, sizeof summary, "%s: %s in %.1f s%s", label, sz, secs,
           md5hex ? ", MD5 verified" : "");
  progress_done(&d.bar, summary);
  rc = 0;
done:
  atomic_abort(&d.f);
  if (h) curl_easy_cleanup(h);
  EVP_MD_CTX_free(d.md);
  close(lock);
  return rc;
}
