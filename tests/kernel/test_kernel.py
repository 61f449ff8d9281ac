"""test_kernel.py — nnlab as a Jupyter kernel, driven by jupyter_client's
KernelManager from a kernel spec that `nnlab --install-kernel --prefix`
wrote: values, streams, errors, completion, help, is_complete, history,
plots in the cell, an interrupt in the middle of fit, restart and shutdown."""
import base64
import json
import os
import subprocess
import tempfile
import time

from kernellib import case, check, finish, install_spec, run, start, stdout_of, result_of, NNLAB

prefix = install_spec()
km, kc = start()


@case("kernel spec: argv holds the absolute nnlab and {connection_file}; jupyter kernelspec list finds it")
def _():
    spec = json.load(open(os.path.join(prefix, "share/jupyter/kernels/nnlab/kernel.json")))
    check(spec["argv"][0] == os.path.realpath(NNLAB), spec["argv"])
    check(spec["argv"][-2:] == ["--kernel", "{connection_file}"], spec["argv"])
    check(spec["language"] == "lua" and spec["display_name"], spec)
    out = subprocess.run(["/usr/bin/python3", "-m", "jupyter_client.kernelspecapp", "list"],
                         capture_output=True, text=True).stdout
    check("nnlab" in out and prefix in out, out)


@case("kernel_info: protocol 5.3, language lua")
def _():
    c = kc.kernel_info(reply=True)["content"]
    check(c["protocol_version"] == "5.3" and c["language_info"]["name"] == "lua", c)
    check(c["implementation"] == "nnlab", c)


@case("execute: the value of an expression, shown as the REPL shows it, with execution_count")
def _():
    reply, msgs = run(kc, "1+1")
    check(reply["status"] == "ok" and result_of(msgs) == "2", (reply, msgs))
    n = reply["execution_count"]
    reply, msgs = run(kc, "tensor.ones(2, 2)")
    check(reply["execution_count"] == n + 1, reply)
    check("shape=2x2" in result_of(msgs), msgs)
    data = [c for t, c in msgs if t == "execute_result"][0]["data"]
    check(data["text/html"].startswith("<pre>"), data)
    check(("status", {"execution_state": "busy"}) in msgs and msgs[-1] == ("status", {"execution_state": "idle"}), msgs)


@case("execute: statements then a final expression; a top-level local lives on in the next cell")
def _():
    reply, msgs = run(kc, "local a = 20\nb = a + 1\nb * 2")
    check(result_of(msgs) == "42", msgs)
    reply, msgs = run(kc, "a + b")
    check(result_of(msgs) == "41", msgs)
    reply, msgs = run(kc, "x = 5")
    check(result_of(msgs) is None and reply["status"] == "ok", msgs)


@case("execute: print, io.write, io.stderr and a child process's output arrive as streams, in order")
def _():
    reply, msgs = run(kc, "print('one'); io.write('two\\n'); os.execute('echo three'); print('four')\n"
                          "io.stderr:write('five\\n')")
    check(stdout_of(msgs) == "one\ntwo\nthree\nfour\n", repr(stdout_of(msgs)))
    check(stdout_of(msgs, "stderr") == "five\n", msgs)


@case("streams: UTF-8 cut between pipe reads arrives whole; invalid bytes become '?'")
def _():
    reply, msgs = run(kc, "io.write(string.rep('€', 30000) .. '\\n'); io.write('\\255ok\\n')")
    text = stdout_of(msgs)
    check(text == "€" * 30000 + "\n?ok\n", repr(text[:40]) + "..." + repr(text[-40:]))


@case("execute: errors are error replies naming the cell and the user's line")
def _():
    reply, msgs = run(kc, "local t = nil\nlocal u = t.x")
    check(reply["status"] == "error" and reply["ename"] == "Error", reply)
    check(reply["evalue"].startswith("In[%d]:2:" % reply["execution_count"]), reply["evalue"])
    check(any(t == "error" for t, c in msgs), msgs)
    reply, msgs = run(kc, "x = = 1")
    check(reply["ename"] == "SyntaxError" and ":1:" in reply["evalue"], reply)
    reply, msgs = run(kc, "function f() error('deep') end\nf()")
    check("In[" in reply["evalue"] and any("in function 'f'" in l for l in reply["traceback"]), reply)
    reply, msgs = run(kc, "1+1")
    check(result_of(msgs) == "2", "the kernel goes on after errors")


@case("stop_on_error: cells queued behind a failing one are aborted, not run; later cells run")
def _():
    run(kc, "queued_ran = 0")
    ids = [kc.execute("os.execute('sleep 0.5'); error('first fails')"),
           kc.execute("queued_ran = queued_ran + 1"), kc.execute("queued_ran = queued_ran + 1")]
    replies = {}
    while len(replies) < 3:
        m = kc.get_shell_msg(timeout=30)
        replies[m["parent_header"]["msg_id"]] = m["content"]["status"]
    check([replies[i] for i in ids] == ["error", "aborted", "aborted"], replies)
    reply, msgs = run(kc, "queued_ran")
    check(result_of(msgs) == "0", msgs)
    ids = [kc.execute("error('x')", stop_on_error=False), kc.execute("queued_ran = 5")]
    for _ in ids:
        kc.get_shell_msg(timeout=30)
    reply, msgs = run(kc, "queued_ran")
    check(result_of(msgs) == "5", "stop_on_error=False lets the next cell run")


@case("stop_on_error: a cell sent once the error reply has arrived runs (20 times over)")
def _():
    for i in range(20):
        msg_id = kc.execute("error('fails')")
        reply = kc.get_shell_msg(timeout=30)
        check(reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "error", reply)
        reply, msgs = run(kc, "%d + 1" % i)
        check(reply["status"] == "ok" and result_of(msgs) == str(i + 1), (i, reply, msgs))


@case("complete: the REPL's completion of globals, fields and methods")
def _():
    c = kc.complete("y = tensor.ze", 13, reply=True)["content"]
    check(c["matches"] == ["tensor.zeros"] and c["cursor_start"] == 4 and c["cursor_end"] == 13, c)
    run(kc, "t = tensor.ones(3)")
    c = kc.complete("t:resh", reply=True)["content"]
    check("t:reshape" in c["matches"], c)
    c = kc.complete("é = tens", reply=True)["content"]  # the cursor counts characters, not bytes
    check(c["matches"] == ["tensor"] and c["cursor_start"] == 4, c)


@case("inspect: what help(x) says, for a name and for a value")
def _():
    c = kc.inspect("tensor.zeros(3)", 9, reply=True)["content"]
    check(c["found"] and "tensor.zeros(shape" in c["data"]["text/plain"], c)
    c = kc.inspect("t", 1, reply=True)["content"]
    check(c["found"] and "Tensor" in c["data"]["text/plain"], c)
    c = kc.inspect("no_such_thing", 3, reply=True)["content"]
    check(not c["found"], c)


@case("is_complete: complete, incomplete and invalid, as the REPL decides")
def _():
    def ask(code):
        kc.is_complete(code)
        return kc.get_shell_msg(timeout=10)["content"]["status"]
    check(ask("x = 1") == "complete", "x = 1")
    check(ask("for i = 1, 3 do") == "incomplete", "for")
    check(ask("s = [[long") == "incomplete", "long string")
    check(ask("x = = 1") == "invalid", "x = = 1")


@case("history: the inputs of this session, newest last")
def _():
    run(kc, "hist_marker = 1")
    c = kc.history(hist_access_type="tail", n=2, reply=True)["content"]
    check(c["status"] == "ok" and c["history"][-1][2] == "hist_marker = 1", c)
    c = kc.history(hist_access_type="search", pattern="hist_mark*", reply=True)["content"]
    check(len(c["history"]) == 1, c)
    line = c["history"][0][1]
    c = kc.history(hist_access_type="range", session=0, start=line, stop=line + 1, reply=True)["content"]
    check([h[2] for h in c["history"]] == ["hist_marker = 1"], c)


@case("plots: plot.* shows a png in the cell (display_data), and svg in svg mode")
def _():
    reply, msgs = run(kc, "plot.lines({loss = {3, 2, 1}})")
    shown = [c for t, c in msgs if t == "display_data"]
    check(len(shown) == 1, msgs)
    check(base64.b64decode(shown[0]["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n", "not a png")
    reply, msgs = run(kc, "plot.output('svg')\nplot.lines({loss = {3, 2, 1}})")
    shown = [c for t, c in msgs if t == "display_data"]
    check(len(shown) == 1 and "<svg" in shown[0]["data"]["image/svg+xml"], msgs)
    run(kc, "plot.output('png')")


@case("stdin: io.read in a cell asks the notebook (input_request) and returns its answer")
def _():
    msg_id = kc.execute("io.write('name? '); who = io.read(); n = io.read('n')", allow_stdin=True)
    req = kc.get_stdin_msg(timeout=10)
    check(req["msg_type"] == "input_request" and req["parent_header"]["msg_id"] == msg_id, req)
    kc.input("Ada")
    req = kc.get_stdin_msg(timeout=10)
    kc.input("42")
    reply = kc.get_shell_msg(timeout=10)
    check(reply["content"]["status"] == "ok", reply["content"])
    reply, msgs = run(kc, "{who, n}")
    check(result_of(msgs) == '{"Ada", 42}', msgs)
    msg_id = kc.execute("io.read()", allow_stdin=False)
    reply = kc.get_shell_msg(timeout=10)
    check(reply["content"]["status"] == "error" and "allow_stdin" in reply["content"]["evalue"], reply["content"])


FIT = """
local n, t = 40000, {}
for i = 1, n do t[i] = i % 10 + 1 end
X, y = tensor.rand(n, 200), tensor.new(t, "int32")
model = nn.Sequential{nn.Dense(256, "relu"), nn.Dense(10, "softmax")}
model:compile{optimizer = optim.sgd{lr = 0.01}, loss = "cross_entropy", metrics = {"accuracy"}}
hist = model:fit(X, y, {epochs = 300, batch_size = 32})
"""


@case("interrupt: a running fit stops after the batch, keeps its history, the model stays usable")
def _():
    msg_id = kc.execute(FIT)
    text, deadline = "", time.time() + 120
    while "Epoch 2/300" not in text and time.time() < deadline:
        m = kc.get_iopub_msg(timeout=120)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
            text += m["content"]["text"]
    check("Epoch 2/300" in text, "fit printed no epoch line: " + repr(text[-300:]))
    check("\r" in text, "the progress bar does not redraw in place: " + repr(text[:200]))
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=60)
    check(reply["content"]["status"] == "ok", reply["content"])
    reply, msgs = run(kc, "#hist.loss")
    epochs = int(result_of(msgs))
    check(1 <= epochs < 300, epochs)
    reply, msgs = run(kc, "model:evaluate(X, y).accuracy >= 0")
    check(result_of(msgs) == "true", msgs)


@case("interrupt: a Lua loop stops with an Interrupted error and the kernel goes on")
def _():
    msg_id = kc.execute("while true do end")
    time.sleep(0.5)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    check(reply["content"]["status"] == "error" and reply["content"]["ename"] == "Interrupted", reply["content"])
    reply, msgs = run(kc, "1+1")
    check(result_of(msgs) == "2", msgs)


@case("restart: a fresh state and execution count")
def _():
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    reply, msgs = run(kc, "hist_marker == nil")
    check(result_of(msgs) == "true" and reply["execution_count"] == 1, (reply, msgs))


@case("shutdown: the kernel process ends")
def _():
    km.shutdown_kernel(now=False)
    check(not km.is_alive(), "still alive")


@case("--seed, --threads, --lang, --quick and --out given with --install-kernel apply in the kernel")
def _():
    out = tempfile.mkdtemp(prefix="nnlab-plots-")
    install_spec("--seed", "7", "--threads", "1", "--lang", "en", "--quick", "--out", out)
    km2, kc2 = start()
    try:
        want = subprocess.run([NNLAB, "--seed", "7", "-e", "print(tensor.rand(3):sum())"],
                              capture_output=True, text=True).stdout.strip()
        reply, msgs = run(kc2, "print(tensor.rand(3):sum())")
        check(stdout_of(msgs).strip() == want, (stdout_of(msgs), want))
        reply, msgs = run(kc2, "{nnlab.options.threads, lesson.lang, lesson.quick}")
        check(result_of(msgs) == '{1, "en", true}', msgs)
        reply, msgs = run(kc2, "plot.lines({a = {1, 2}})")
        check(any(t == "display_data" for t, c in msgs), msgs)
        check(any(f.endswith(".png") for f in os.listdir(out)), os.listdir(out))
    finally:
        km2.shutdown_kernel(now=True)


finish()
