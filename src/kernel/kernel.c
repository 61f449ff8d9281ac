/* kernel.c — the Jupyter kernel's server loop: binds the sockets of a
 * connection file, answers shell and control requests, publishes status,
 * inputs, results and errors on iopub, echoes heartbeats on its own thread.
 * A message that fails its signature or is malformed is dropped with a log
 * line; bad fields get an error reply. The language is KernelHandlers. */
#include "kernel.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "streams.h"
#include "wire.h"

static int g_log_fd = 2; /* the real standard error, kept when fd 2 becomes a pipe */

void kernel_log(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  (void)!write(g_log_fd, "nnlab kernel: ", 14);
  (void)!write(g_log_fd, buf, (size_t)n);
}

typedef struct {
  int line;
  char *code;
} HistoryEntry;

struct Kernel {
  void *ctx, *shell, *control, *stdin_, *iopub, *hb;
  WireKey key;
  char session[37];
  const KernelHandlers *h;
  const KernelInfo *info;
  Streams streams;
  json_t *parent; /* header of the request being answered (iopub messages' parent) */
  int count;      /* execution_count */
  const WireMsg *request; /* the execute request running, for input requests */
  int allow_stdin;
  int aborting;   /* an execute failed: abort the executes already queued */
  HistoryEntry *hist;
  int nhist, caphist;
  int done;
  pthread_t hb_thread;
  int hb_running;
};

/* ---- sending ------------------------------------------------------------- */

static void iopub_locked(Kernel *k, const char *type, json_t *content) {
  if (wire_send(k->iopub, &k->key, k->session, NULL, type, k->parent, content))
    kernel_log("cannot publish %s: %s", type, zmq_strerror(errno));
}

static void iopub(Kernel *k, const char *type, json_t *content) {
  if (k->streams.running) pthread_mutex_lock(&k->streams.lock);
  iopub_locked(k, type, content);
  if (k->streams.running) pthread_mutex_unlock(&k->streams.lock);
}

static void send_stream(void *ud, const char *name, const char *text, size_t len) {
  Kernel *k = ud;
  iopub_locked(k, "stream", json_pack("{s:s, s:s%}", "name", name, "text", text, len));
}

static void status(Kernel *k, const char *state) {
  iopub(k, "status", json_pack("{s:s}", "execution_state", state));
}

static void reply(Kernel *k, void *sock, const WireMsg *req, const char *type, json_t *content) {
  if (!content) content = json_pack("{s:s, s:s, s:s, s:[]}", "status", "error", "ename", "MemoryError", "evalue",
                                    "out of memory", "traceback");
  if (wire_send(sock, &k->key, k->session, req, type, req->header, content))
    kernel_log("cannot send %s: %s", type, zmq_strerror(errno));
}

static json_t *bad_request(const char *type, const char *why) {
  char msg[400];
  snprintf(msg, sizeof msg, "%s: %s", type, why);
  kernel_log("%s", msg);
  return json_pack("{s:s, s:s, s:s, s:[s]}", "status", "error", "ename", "BadRequest", "evalue", msg, "traceback", msg);
}

void kernel_flush_output(Kernel *k) { streams_flush(&k->streams); }

void kernel_display(Kernel *k, json_t *data, json_t *metadata, const char *display_id, int update) {
  json_t *c = json_pack("{s:o, s:o, s:{}}", "data", data, "metadata", metadata ? metadata : json_object(),
                        "transient");
  if (display_id) json_object_set_new(json_object_get(c, "transient"), "display_id", json_string(display_id));
  streams_flush(&k->streams);
  iopub(k, update ? "update_display_data" : "display_data", c);
}

char *kernel_input(Kernel *k, const char *prompt, int password, const char **why) {
  *why = "not allowed";
  if (!k->request || !k->allow_stdin) return NULL;
  *why = "failed";
  streams_flush(&k->streams); /* the prompt a cell printed comes first */
  if (wire_send(k->stdin_, &k->key, k->session, k->request, "input_request", k->parent,
                json_pack("{s:s, s:b}", "prompt", prompt, "password", password))) {
    kernel_log("cannot send input_request: %s", zmq_strerror(errno));
    return NULL;
  }
  for (;;) {
    zmq_pollitem_t item = {k->stdin_, 0, ZMQ_POLLIN, 0};
    WireMsg m;
    char err[256];
    const char *type, *value;
    char *line;
    if (zmq_poll(&item, 1, -1) < 0) {
      if (errno == EINTR) *why = "interrupted";
      return NULL;
    }
    if (wire_recv(k->stdin_, &k->key, &m, err, sizeof err) != 0) {
      kernel_log("%s", err);
      continue;
    }
    type = json_string_value(json_object_get(m.header, "msg_type"));
    value = json_string_value(json_object_get(m.content, "value"));
    if (strcmp(type, "input_reply") != 0 || !value) {
      kernel_log("%s on the stdin channel is not an input_reply with a value: dropped", type);
      wire_free(&m);
      continue;
    }
    line = strdup(value);
    wire_free(&m);
    return line;
  }
}

/* ---- requests ------------------------------------------------------------ */

static json_t *kernel_info(Kernel *k) {
  return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:[]}", "status", "ok",
                   "protocol_version", "5.3", "implementation", "nnlab", "implementation_version",
                   k->info->implementation_version, "language_info", "name", "lua", "version",
                   k->info->language_version, "mimetype", "text/x-lua", "file_extension", ".lua",
                   "codemirror_mode", "lua", "pygments_lexer", "lua", "banner", k->info->banner, "help_links");
}

static void remember(Kernel *k, const char *code) {
  if (k->nhist == k->caphist) {
    int nc = k->caphist ? k->caphist * 2 : 64;
    HistoryEntry *g = realloc(k->hist, (size_t)nc * sizeof *g);
    if (!g) return;
    k->hist = g;
    k->caphist = nc;
  }
  if (!(k->hist[k->nhist].code = strdup(code))) return;
  k->hist[k->nhist++].line = k->count;
}

static json_t *execute(Kernel *k, const WireMsg *req) {
  json_t *c = req->content, *result = NULL, *error = NULL, *r;
  const char *code = json_string_value(json_object_get(c, "code"));
  int silent = json_is_true(json_object_get(c, "silent"));
  json_t *sh = json_object_get(c, "store_history");
  int store = !silent && (sh == NULL || json_is_true(sh));
  int failed;
  if (!code) return bad_request("execute_request", "missing 'code' (a string)");
  if (store) {
    k->count++;
    remember(k, code);
  }
  if (!silent) iopub(k, "execute_input", json_pack("{s:s, s:i}", "code", code, "execution_count", k->count));
  k->request = req;
  k->allow_stdin = !json_is_false(json_object_get(c, "allow_stdin"));
  failed = k->h->execute(k->h->ud, k, code, k->count, silent, &result, &error);
  k->request = NULL;
  streams_flush(&k->streams);
  if (failed) {
    /* "Run all" queues every cell: after an error the ones already sent are
     * answered "aborted" instead of running on a broken state */
    if (!json_is_false(json_object_get(c, "stop_on_error"))) k->aborting = 1;
    if (!error) error = json_pack("{s:s, s:s, s:[]}", "ename", "Error", "evalue", "unknown error", "traceback");
    if (!silent) iopub(k, "error", json_deep_copy(error));
    json_object_set_new(error, "status", json_string("error"));
    json_object_set_new(error, "execution_count", json_integer(k->count));
    json_decref(result);
    return error;
  }
  if (result && !silent)
    iopub(k, "execute_result", json_pack("{s:i, s:o, s:{}}", "execution_count", k->count, "data", result, "metadata"));
  else json_decref(result);
  r = json_pack("{s:s, s:i, s:{}, s:[]}", "status", "ok", "execution_count", k->count, "user_expressions", "payload");
  return r;
}

/* The cursor of a request: an integer >= 0, or the end of the code. */
static int cursor_of(json_t *c, const char *code, int *cursor) {
  json_t *cp = json_object_get(c, "cursor_pos");
  if (!cp || json_is_null(cp)) {
    *cursor = (int)strlen(code);
    return 0;
  }
  if (!json_is_integer(cp) || json_integer_value(cp) < 0 || json_integer_value(cp) > (json_int_t)strlen(code))
    return -1;
  *cursor = (int)json_integer_value(cp);
  return 0;
}

static json_t *complete(Kernel *k, const WireMsg *req) {
  const char *code = json_string_value(json_object_get(req->content, "code"));
  int cursor;
  json_t *r;
  if (!code) return bad_request("complete_request", "missing 'code' (a string)");
  if (cursor_of(req->content, code, &cursor)) return bad_request("complete_request", "cursor_pos outside the code");
  r = k->h->complete(k->h->ud, code, cursor);
  if (!r) r = json_pack("{s:[], s:i, s:i}", "matches", "cursor_start", cursor, "cursor_end", cursor);
  json_object_set_new(r, "metadata", json_object());
  json_object_set_new(r, "status", json_string("ok"));
  return r;
}

static json_t *inspect(Kernel *k, const WireMsg *req) {
  const char *code = json_string_value(json_object_get(req->content, "code"));
  int cursor;
  json_t *data;
  if (!code) return bad_request("inspect_request", "missing 'code' (a string)");
  if (cursor_of(req->content, code, &cursor)) return bad_request("inspect_request", "cursor_pos outside the code");
  data = k->h->inspect(k->h->ud, code, cursor, (int)json_integer_value(json_object_get(req->content, "detail_level")));
  return json_pack("{s:s, s:b, s:o, s:{}}", "status", "ok", "found", data != NULL, "data", data ? data : json_object(),
                   "metadata");
}

static json_t *is_complete(Kernel *k, const WireMsg *req) {
  const char *code = json_string_value(json_object_get(req->content, "code"));
  const char *st;
  json_t *r;
  if (!code) return bad_request("is_complete_request", "missing 'code' (a string)");
  st = k->h->is_complete(k->h->ud, code);
  r = json_pack("{s:s}", "status", st);
  if (strcmp(st, "incomplete") == 0) json_object_set_new(r, "indent", json_string(""));
  return r;
}

/* history: "tail" (the last n), "range" (lines start..stop-1 of this session)
 * or "search" (a glob pattern, newest n); entries are [session, line, input]. */
static json_t *history(Kernel *k, const WireMsg *req) {
  json_t *c = req->content, *list = json_array();
  const char *how = json_string_value(json_object_get(c, "hist_access_type"));
  json_int_t n = json_integer_value(json_object_get(c, "n"));
  int first = 0, last = k->nhist;
  if (!how) how = "tail";
  if (strcmp(how, "tail") == 0 || strcmp(how, "search") == 0) {
    const char *pat = json_string_value(json_object_get(c, "pattern"));
    int want = n > 0 && n < k->nhist ? (int)n : k->nhist, found = 0;
    json_t *rev = json_array();
    for (int i = k->nhist - 1; i >= 0 && found < want; i--) {
      if (strcmp(how, "search") == 0 && pat && fnmatch(pat, k->hist[i].code, 0) != 0) continue;
      json_array_append_new(rev, json_pack("[i, i, s]", 0, k->hist[i].line, k->hist[i].code));
      found++;
    }
    for (size_t i = json_array_size(rev); i > 0; i--) json_array_append(list, json_array_get(rev, i - 1));
    json_decref(rev);
  } else if (strcmp(how, "range") == 0) {
    json_int_t start = json_integer_value(json_object_get(c, "start"));
    json_t *stop = json_object_get(c, "stop");
    for (int i = first; i < last; i++) {
      int line = k->hist[i].line;
      if (line < start || (json_is_integer(stop) && line >= json_integer_value(stop))) continue;
      json_array_append_new(list, json_pack("[i, i, s]", 0, line, k->hist[i].code));
    }
  } else {
    json_decref(list);
    return bad_request("history_request", "hist_access_type must be tail, range or search");
  }
  return json_pack("{s:s, s:o}", "status", "ok", "history", list);
}

/* ---- the loop -------------------------------------------------------------- */

static void handle(Kernel *k, void *sock, const WireMsg *req);

/* The request that iopub messages answer from now on. The stream thread
 * reads k->parent, so it changes under the streams' lock, after what the
 * last request printed has gone out under the old parent. */
static void set_parent(Kernel *k, json_t *header) {
  streams_flush(&k->streams);
  if (k->streams.running) pthread_mutex_lock(&k->streams.lock);
  json_decref(k->parent);
  k->parent = json_incref(header);
  if (k->streams.running) pthread_mutex_unlock(&k->streams.lock);
}

/* After a failed execute, takes the requests already waiting on the shell
 * socket, before its error reply goes out: a request the client sends once
 * it has seen that reply is not among them ("Run all" queues every cell at
 * once, so those cells are). Returns how many; *out is malloc'd. */
static int take_queued(Kernel *k, WireMsg **out) {
  int n = 0, cap = 0;
  *out = NULL;
  k->aborting = 0;
  for (;;) {
    zmq_pollitem_t item = {k->shell, 0, ZMQ_POLLIN, 0};
    char err[256];
    if (zmq_poll(&item, 1, 0) <= 0 || !(item.revents & ZMQ_POLLIN)) return n;
    if (n == cap) {
      WireMsg *grown = realloc(*out, (size_t)(cap = cap ? 2 * cap : 8) * sizeof **out);
      if (!grown) return n; /* the rest stay queued and run as usual */
      *out = grown;
    }
    int rc = wire_recv(k->shell, &k->key, &(*out)[n], err, sizeof err);
    if (rc == -1) kernel_log("%s", err);
    if (rc == 0) n++;
    else if (rc == -2) return n;
  }
}

/* Answers the taken executes "aborted" (they would run on a broken state)
 * and serves the other requests as usual. */
static void answer_queued(Kernel *k, WireMsg *q, int n) {
  for (int i = 0; i < n; i++) {
    if (strcmp(json_string_value(json_object_get(q[i].header, "msg_type")), "execute_request") == 0) {
      set_parent(k, q[i].header);
      status(k, "busy");
      reply(k, k->shell, &q[i], "execute_reply",
            json_pack("{s:s, s:i}", "status", "aborted", "execution_count", k->count));
      status(k, "idle");
    } else {
      handle(k, k->shell, &q[i]);
    }
    wire_free(&q[i]);
  }
  free(q);
}

static void handle(Kernel *k, void *sock, const WireMsg *req) {
  const char *type = json_string_value(json_object_get(req->header, "msg_type"));
  json_t *r = NULL;
  if (!type) return; /* wire_recv lets no such message through */
  char rtype[64];
  set_parent(k, req->header);
  if (strlen(type) > 40 || strcmp(type + (strlen(type) > 8 ? strlen(type) - 8 : 0), "_request") != 0) {
    kernel_log("message of unknown type '%.40s' dropped", type);
    return;
  }
  snprintf(rtype, sizeof rtype, "%.*s_reply", (int)(strlen(type) - 8), type);
  status(k, "busy");
  if (strcmp(type, "kernel_info_request") == 0) r = kernel_info(k);
  else if (strcmp(type, "execute_request") == 0) r = execute(k, req);
  else if (strcmp(type, "complete_request") == 0) r = complete(k, req);
  else if (strcmp(type, "inspect_request") == 0) r = inspect(k, req);
  else if (strcmp(type, "is_complete_request") == 0) r = is_complete(k, req);
  else if (strcmp(type, "history_request") == 0) r = history(k, req);
  else if (strcmp(type, "comm_info_request") == 0) r = json_pack("{s:s, s:{}}", "status", "ok", "comms");
  else if (strcmp(type, "interrupt_request") == 0) {
    k->h->clear_interrupt(k->h->ud); /* nothing runs while a request is read */
    r = json_pack("{s:s}", "status", "ok");
  } else if (strcmp(type, "shutdown_request") == 0) {
    json_t *restart = json_object_get(req->content, "restart");
    r = json_pack("{s:s, s:b}", "status", "ok", "restart", json_is_true(restart));
    k->done = 1;
  } else {
    kernel_log("message of unknown type '%s' dropped", type);
    status(k, "idle");
    return;
  }
  WireMsg *queued = NULL;
  int nqueued = k->aborting ? take_queued(k, &queued) : 0;
  reply(k, sock, req, rtype, r);
  status(k, "idle");
  if (queued) answer_queued(k, queued, nqueued);
}

static void *heartbeat(void *arg) {
  Kernel *k = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, k->hb, 0) < 0) {
      zmq_msg_close(&m);
      if (errno == EINTR) continue;
      break; /* ETERM: the kernel is shutting down */
    }
    if (zmq_msg_send(&m, k->hb, 0) < 0) zmq_msg_close(&m);
  }
  zmq_close(k->hb);
  return NULL;
}

static void *open_socket(Kernel *k, int type, const char *transport, const char *ip, json_t *conn, const char *port_key,
                         char *err, size_t errlen) {
  json_t *p = json_object_get(conn, port_key);
  char ep[512];
  void *s;
  int linger = 0;
  int64_t maxsize = (int64_t)WIRE_MAX_MESSAGE * 4; /* beyond this libzmq drops the peer */
  if (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > 65535) {
    snprintf(err, errlen, "connection file: %s: expected a port number", port_key);
    return NULL;
  }
  if (strcmp(transport, "ipc") == 0) snprintf(ep, sizeof ep, "ipc://%s-%d", ip, (int)json_integer_value(p));
  else snprintf(ep, sizeof ep, "%s://%s:%d", transport, ip, (int)json_integer_value(p));
  s = zmq_socket(k->ctx, type);
  if (!s) {
    snprintf(err, errlen, "cannot create a socket: %s", zmq_strerror(errno));
    return NULL;
  }
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
  if (zmq_bind(s, ep) < 0) {
    snprintf(err, errlen, "cannot listen on %s (%s): %s", ep, port_key, zmq_strerror(errno));
    zmq_close(s);
    return NULL;
  }
  return s;
}

/* Reads the connection file and binds every socket. */
static int connect_all(Kernel *k, const char *path, char *err, size_t errlen) {
  json_error_t je;
  json_t *conn = json_load_file(path, 0, &je);
  const char *transport, *ip, *key, *scheme;
  int rc = -1;
  if (!conn) {
    snprintf(err, errlen, "connection file %s: %s", path, je.text);
    return -1;
  }
  transport = json_string_value(json_object_get(conn, "transport"));
  ip = json_string_value(json_object_get(conn, "ip"));
  key = json_string_value(json_object_get(conn, "key"));
  scheme = json_string_value(json_object_get(conn, "signature_scheme"));
  if (!transport) transport = "tcp";
  if (!ip) ip = "127.0.0.1";
  if (!key) key = "";
  if (strcmp(transport, "tcp") && strcmp(transport, "ipc")) {
    snprintf(err, errlen, "connection file %s: transport: expected tcp or ipc, got '%.40s'", path, transport);
  } else if (*key && scheme && strcmp(scheme, "hmac-sha256")) {
    snprintf(err, errlen, "connection file %s: signature_scheme: expected hmac-sha256, got '%.40s'", path, scheme);
  } else if (strlen(key) >= sizeof k->key.key) {
    snprintf(err, errlen, "connection file %s: key: longer than %zu bytes", path, sizeof k->key.key - 1);
  } else {
    memcpy(k->key.key, key, strlen(key));
    k->key.keylen = strlen(key);
    if ((k->shell = open_socket(k, ZMQ_ROUTER, transport, ip, conn, "shell_port", err, errlen)) &&
        (k->control = open_socket(k, ZMQ_ROUTER, transport, ip, conn, "control_port", err, errlen)) &&
        (k->stdin_ = open_socket(k, ZMQ_ROUTER, transport, ip, conn, "stdin_port", err, errlen)) &&
        (k->iopub = open_socket(k, ZMQ_PUB, transport, ip, conn, "iopub_port", err, errlen)) &&
        (k->hb = open_socket(k, ZMQ_REP, transport, ip, conn, "hb_port", err, errlen)))
      rc = 0;
  }
  json_decref(conn);
  return rc;
}

/* Reads one message from a socket that is ready and answers it. */
static void serve_one(Kernel *k, void *sock) {
  WireMsg m;
  char err[256];
  int rc = wire_recv(sock, &k->key, &m, err, sizeof err);
  if (rc == -1) kernel_log("%s", err);
  if (rc != 0) return;
  if (sock == k->stdin_) kernel_log("input reply with no input asked for: dropped");
  else handle(k, sock, &m);
  wire_free(&m);
}

static void close_all(Kernel *k) {
  void *socks[4] = {k->shell, k->control, k->stdin_, k->iopub};
  for (int i = 0; i < 4; i++)
    if (socks[i]) zmq_close(socks[i]);
  if (k->hb && !k->hb_running) zmq_close(k->hb);
  if (k->ctx) {
    zmq_ctx_shutdown(k->ctx); /* the heartbeat's recv returns ETERM */
    if (k->hb_running) pthread_join(k->hb_thread, NULL);
    zmq_ctx_term(k->ctx);
  }
  for (int i = 0; i < k->nhist; i++) free(k->hist[i].code);
  free(k->hist);
  json_decref(k->parent);
}

int kernel_serve(const char *connection_file, const KernelHandlers *h, const KernelInfo *info, char *err,
                 size_t errlen) {
  Kernel k;
  sigset_t sigint, old;
  memset(&k, 0, sizeof k);
  /* ZeroMQ's and our threads start with SIGINT blocked, so Ctrl-C (Jupyter's
   * interrupt) lands on this thread: it breaks zmq_poll when idle and stops
   * the running cell otherwise. */
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, &old);
  k.h = h;
  k.info = info;
  wire_new_id(k.session);
  if (!(k.ctx = zmq_ctx_new())) {
    snprintf(err, errlen, "cannot start ZeroMQ: %s", zmq_strerror(errno));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -1;
  }
  if (connect_all(&k, connection_file, err, errlen) < 0) {
    close_all(&k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -1;
  }
  if (pthread_create(&k.hb_thread, NULL, heartbeat, &k) == 0) k.hb_running = 1;
  g_log_fd = dup(2);
  if (g_log_fd < 0) g_log_fd = 2;
  if (streams_start(&k.streams, send_stream, &k) < 0) kernel_log("output stays on the terminal: %s", strerror(errno));
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  status(&k, "starting");
  while (!k.done) {
    zmq_pollitem_t items[3] = {{k.control, 0, ZMQ_POLLIN, 0}, {k.shell, 0, ZMQ_POLLIN, 0}, {k.stdin_, 0, ZMQ_POLLIN, 0}};
    int n = zmq_poll(items, 3, -1);
    if (n < 0) {
      if (errno == EINTR) { /* Ctrl-C while idle */
        h->clear_interrupt(h->ud);
        continue;
      }
      kernel_log("poll failed: %s", zmq_strerror(errno));
      break;
    }
    if (items[0].revents & ZMQ_POLLIN) serve_one(&k, k.control);
    else if (items[1].revents & ZMQ_POLLIN) serve_one(&k, k.shell);
    else if (items[2].revents & ZMQ_POLLIN) serve_one(&k, k.stdin_);
  }
  streams_stop(&k.streams);
  close_all(&k);
  if (g_log_fd != 2) close(g_log_fd);
  g_log_fd = 2;
  return 0;
}
