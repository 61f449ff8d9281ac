# serve_hostile.py DIR PORTFILE [SECONDS] — a hostile HTTP server on 127.0.0.1
# for the download tests: /slow/NAME sends DIR/NAME in 64 kB pieces 50 ms
# apart, /huge/NAME claims 5 GB, /endless/NAME streams zeros without a
# length, /ftp/NAME and /file/NAME redirect to ftp:// and file:// URLs.
# Writes its port to PORTFILE; stops by itself after SECONDS (default 60).
import http.server, os, sys, threading, time

root, portfile = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        _, kind, name = self.path.split("/", 2)
        try:
            if kind == "slow":
                data = open(os.path.join(root, name), "rb").read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for i in range(0, len(data), 65536):
                    self.wfile.write(data[i:i + 65536])
                    self.wfile.flush()
                    time.sleep(0.05)
            elif kind == "huge":
                self.send_response(200)
                self.send_header("Content-Length", str(5 * 10**9))
                self.end_headers()
                for _ in range(200):
                    self.wfile.write(b"\0" * 65536)
            elif kind == "endless":
                self.send_response(200)
                self.end_headers()
                for _ in range(100000):  # 6.5 GB, if nobody stops reading
                    self.wfile.write(b"\0" * 65536)
            elif kind in ("ftp", "file"):
                self.send_response(302)
                target = "ftp://127.0.0.1:%d/%s" % (self.server.server_address[1], name) \
                    if kind == "ftp" else "file:///etc/passwd"
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Thread(target=srv.serve_forever, daemon=True).start()
threading.Event().wait(limit)
srv.shutdown()
