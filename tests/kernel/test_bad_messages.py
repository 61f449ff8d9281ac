"""test_bad_messages.py — messages that must never hurt the kernel, sent raw
with pyzmq on its shell and control sockets: bad or missing signatures,
malformed JSON, missing parts and fields, unknown types, invalid UTF-8 and
an oversized message. Nothing of them runs (the file their code would
create does not exist), the kernel logs a line on stderr, and it still answers."""
import hashlib
import hmac
import json
import os
import tempfile
import time
import uuid

import zmq

from kernellib import case, check, finish, install_spec, run, start, result_of

install_spec()
logfile = tempfile.NamedTemporaryFile(prefix="nnlab-kernel-log-", suffix=".txt", delete=False)
km, kc = start(stderr=logfile)
info = km.get_connection_info()
key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
ctx = zmq.Context()
workdir = tempfile.mkdtemp(prefix="nnlab-bad-")


def socket(port_name):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect("%s://%s:%d" % (info["transport"], info["ip"], info[port_name]))
    return s


shell, control = socket("shell_port"), socket("control_port")


def sign(parts, k=key):
    return hmac.new(k, b"".join(parts), hashlib.sha256).hexdigest().encode()


def header(msg_type):
    return {"msg_id": uuid.uuid4().hex, "session": "raw", "username": "test", "date": "2026-01-01T00:00:00Z",
            "msg_type": msg_type, "version": "5.3"}


def parts_of(msg_type, content):
    return [json.dumps(header(msg_type)).encode(), b"{}", b"{}", json.dumps(content).encode()]


def send(frames, sock=None):
    (sock or shell).send_multipart(frames)


def signed(parts):
    return [b"<IDS|MSG>", sign(parts)] + parts


def reply(sock=None, timeout=2.0):
    s = sock or shell
    if s.poll(int(timeout * 1000)):
        frames = s.recv_multipart()
        i = frames.index(b"<IDS|MSG>")
        return json.loads(frames[i + 2]), json.loads(frames[i + 5])
    return None


def marker(name):
    return os.path.join(workdir, name)


def creates(name):
    return {"code": "io.open(%r, 'w'):close()" % marker(name), "silent": False}


def log_text():
    with open(logfile.name, errors="replace") as f:
        return f.read()


def settle():
    """Waits for the kernel to have handled what was sent: a kernel_info round trip."""
    check(kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok", "kernel_info")


@case("a correctly signed raw execute_request runs (the test's own signing is right)")
def _():
    send(signed(parts_of("execute_request", creates("good"))))
    r = reply(timeout=20)
    check(r and r[1]["status"] == "ok", r)
    check(os.path.exists(marker("good")), "the file was not created")


@case("a message signed with another key is never executed; a log line says why")
def _():
    parts = parts_of("execute_request", creates("badkey"))
    send([b"<IDS|MSG>", sign(parts, b"not-the-key")] + parts)
    check(reply(timeout=1) is None, "a reply came")
    settle()
    check(not os.path.exists(marker("badkey")), "the code ran")
    check("invalid signature" in log_text(), log_text())


@case("a message with no signature, or a tampered one, is never executed")
def _():
    parts = parts_of("execute_request", creates("nosig"))
    send([b"<IDS|MSG>", b""] + parts)
    good = parts_of("execute_request", creates("innocent"))
    sig = sign(good)
    tampered = good[:3] + [json.dumps(creates("tampered")).encode()]
    send([b"<IDS|MSG>", sig] + tampered)
    send([b"<IDS|MSG>", sig.upper()] + parts_of("execute_request", creates("upper")))
    settle()
    for name in ("nosig", "tampered", "upper", "innocent"):
        check(not os.path.exists(marker(name)), name + " ran")


@case("control channel: a badly signed shutdown_request is ignored")
def _():
    parts = parts_of("shutdown_request", {"restart": False})
    send([b"<IDS|MSG>", sign(parts, b"x")] + parts, control)
    time.sleep(0.3)
    settle()
    check(km.is_alive(), "the kernel died")


@case("malformed JSON, a header without msg_type, missing parts and no delimiter are dropped with log lines")
def _():
    before = log_text().count("\n")
    bad_json = [json.dumps(header("execute_request")).encode(), b"{}", b"{}", b'{"code": "io.open(']
    send(signed(bad_json))
    no_type = [json.dumps({"msg_id": "x"}).encode(), b"{}", b"{}", json.dumps(creates("notype")).encode()]
    send(signed(no_type))
    not_object = [b"[1, 2]", b"{}", b"{}", json.dumps(creates("array")).encode()]
    send(signed(not_object))
    send([b"<IDS|MSG>", b"abc", b"{}"])
    send([b"hello", b"world"])
    invalid_utf8 = [json.dumps(header("execute_request")).encode(), b"{}", b"{}",
                    b'{"code": "x = \xff\xfe"}']
    send(signed(invalid_utf8))
    check(reply(timeout=1) is None, "a reply came")
    settle()
    log = log_text()
    check(log.count("\n") - before >= 6, log)
    check("malformed JSON" in log and "msg_type" in log and "delimiter" in log, log)
    check(not os.path.exists(marker("notype")) and not os.path.exists(marker("array")), "something ran")


@case("an unknown message type is dropped with a log line")
def _():
    send(signed(parts_of("make_coffee_request", {})))
    send(signed(parts_of("execute_reply", creates("reply_type"))))
    check(reply(timeout=1) is None, "a reply came")
    settle()
    check("make_coffee_request" in log_text(), log_text())
    check(not os.path.exists(marker("reply_type")), "ran")


@case("missing or wrong fields get an error reply naming the field")
def _():
    send(signed(parts_of("execute_request", {"silent": False})))
    r = reply(timeout=10)
    check(r and r[1]["status"] == "error" and "'code'" in r[1]["evalue"], r)
    send(signed(parts_of("execute_request", {"code": 42})))
    r = reply(timeout=10)
    check(r and r[1]["status"] == "error", r)
    send(signed(parts_of("complete_request", {"code": "abc", "cursor_pos": 99})))
    r = reply(timeout=10)
    check(r and r[1]["status"] == "error" and "cursor_pos" in r[1]["evalue"], r)
    send(signed(parts_of("history_request", {"hist_access_type": "everything"})))
    r = reply(timeout=10)
    check(r and r[1]["status"] == "error", r)


@case("an oversized message (17 MiB) is dropped with a log line and its code never runs")
def _():
    content = creates("huge")
    content["code"] += "\n--" + "x" * (17 << 20)
    send(signed(parts_of("execute_request", content)))
    check(reply(timeout=3) is None, "a reply came")
    settle()
    check(not os.path.exists(marker("huge")), "the code ran")
    check("dropped (the limit is" in log_text(), log_text())


@case("after all that the kernel still executes, and its heartbeat answers")
def _():
    reply_, msgs = run(kc, "6 * 7")
    check(result_of(msgs) == "42", msgs)
    hb = ctx.socket(zmq.REQ)
    hb.setsockopt(zmq.LINGER, 0)
    hb.connect("%s://%s:%d" % (info["transport"], info["ip"], info["hb_port"]))
    hb.send(b"ping")
    check(hb.poll(5000) and hb.recv() == b"ping", "no heartbeat")
    hb.close()
    check(km.is_alive(), "the kernel died")


km.shutdown_kernel(now=True)
ctx.destroy(linger=0)
finish()
