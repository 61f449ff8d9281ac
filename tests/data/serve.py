# serve.py DIR PORTFILE [SECONDS] — a static HTTP server on 127.0.0.1 for the
# download tests: serves DIR on a free port, writes the port to PORTFILE, and
# stops by itself after SECONDS (default 60) even if nobody stops it.
import functools, http.server, sys, threading

root, portfile = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
threading.Thread(target=srv.serve_forever, daemon=True).start()
threading.Event().wait(limit)
srv.shutdown()
