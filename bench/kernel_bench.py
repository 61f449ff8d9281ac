"""kernel_bench.py — the Jupyter kernel's latencies, measured with
jupyter_client's Session on raw ZeroMQ sockets: process start to the
kernel_info reply, an execute of 1+1 from request to reply (and to the idle
status), and a plot shown in the cell after gnuplot finished (the cell
prints nnlab.clock() as gnuplot's image is handed over; the client compares
it with the monotonic clock at the display_data's arrival)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

NNLAB = os.environ.get("NNLAB_BIN", "./nnlab")


def start():
    fname = tempfile.mktemp(suffix=".json", prefix="nnlab-bench-")
    fname, cfg = write_connection_file(fname)
    ctx = zmq.Context()
    session = Session(key=cfg["key"].encode() if isinstance(cfg["key"], str) else cfg["key"])

    def sock(kind, port):
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RECONNECT_IVL, 1)
        if kind == zmq.SUB:
            s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect("tcp://%s:%d" % (cfg["ip"], cfg[port]))
        return s

    shell, iopub = sock(zmq.DEALER, "shell_port"), sock(zmq.SUB, "iopub_port")
    t0 = time.monotonic()
    proc = subprocess.Popen([NNLAB, "--kernel", fname], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    session.send(shell, "kernel_info_request", {})
    shell.poll(10000)
    session.recv(shell)
    ready = time.monotonic() - t0
    return proc, ctx, session, shell, iopub, fname, ready


def stop(proc, ctx, session, shell, fname):
    session.send(shell, "shutdown_request", {"restart": False})
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    ctx.destroy(linger=0)
    os.remove(fname)


def execute(session, shell, iopub, code):
    """Sends code; returns (seconds to the reply, seconds to idle, iopub messages with arrival times)."""
    t0 = time.monotonic()
    msg = session.send(shell, "execute_request", {"code": code, "silent": False})
    got, t_reply, t_idle = [], None, None
    while t_reply is None or t_idle is None:
        poller = zmq.Poller()
        poller.register(shell, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        for s, _ in poller.poll(10000):
            m = session.recv(s, mode=0)[1]
            if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                continue
            now = time.monotonic()
            if s is shell:
                t_reply = now - t0
            else:
                got.append((now, m))
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    t_idle = now - t0
    return t_reply, t_idle, got


print("load average: %.2f %.2f %.2f (timings on a busy machine are noisy)" % os.getloadavg())
starts = []
for _ in range(5):
    proc, ctx, session, shell, iopub, fname, ready = start()
    starts.append(ready)
    stop(proc, ctx, session, shell, fname)
print("kernel start to kernel_info reply: best %.3f s, median %.3f s (target < 0.3 s)" %
      (min(starts), statistics.median(starts)))

proc, ctx, session, shell, iopub, fname, _ = start()
time.sleep(0.3)  # the iopub subscription settles
execute(session, shell, iopub, "1+1")
def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


replies, idles = [], []
cpu0 = cpu_seconds(proc.pid)
for _ in range(200):
    r, i, _ = execute(session, shell, iopub, "1+1")
    replies.append(r)
    idles.append(i)
replies.sort()
cpu = (cpu_seconds(proc.pid) - cpu0) / 200
print("execute 1+1 round trip: median %.2f ms, p95 %.2f ms to the reply; median %.2f ms to idle (target < 2 ms);"
      " kernel CPU %.2f ms per execute" % (statistics.median(replies) * 1e3, replies[int(len(replies) * 0.95)] * 1e3,
                                             statistics.median(idles) * 1e3, cpu * 1e3))

PLOT = """
local show = plot.on_file
plot.on_file = function(path, title) print(string.format("T %.6f", nnlab.clock())); return show(path, title) end
plot.lines({loss = {3, 2, 1.5, 1.2, 1.1}, val_loss = {3.1, 2.2, 1.8, 1.6, 1.6}})
plot.on_file = show
"""
lat = []
for _ in range(10):
    _, _, got = execute(session, shell, iopub, PLOT)
    drawn = shown = None
    for t, m in got:
        if m["msg_type"] == "stream" and m["content"]["text"].startswith("T "):
            drawn = float(m["content"]["text"].split()[1])
        if m["msg_type"] == "display_data" and shown is None:
            shown = t
    if drawn is None or shown is None:
        print("plot: no display_data (is gnuplot installed?)")
        break
    lat.append(shown - drawn)
if lat:
    print("plot shown in the cell after gnuplot finished: median %.1f ms, worst %.1f ms (target < 50 ms)" %
          (statistics.median(lat) * 1e3, max(lat) * 1e3))
stop(proc, ctx, session, shell, fname)
