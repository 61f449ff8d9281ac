"""test_repl_pty.py — drives the nnlab REPL through a pseudo-terminal as a user
would: typing lines, Tab, Ctrl-C, Ctrl-D and the arrow keys, and reading what
the terminal shows. Each wait has a timeout; nothing sleeps a fixed time to
let output arrive. Prints "ok - name" / "not ok - name: why" per case."""
import os
import pty
import re
import select
import signal
import struct
import subprocess
import tempfile
import time
import traceback

BIN = os.environ.get("NNLAB_BIN", "./nnlab")
TIMEOUT = 15
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")

failures = 0


def case(name):
    def run(fn):
        global failures
        try:
            result = fn()
            if isinstance(result, str) and result.startswith("skip"):
                print("skip - %s: %s" % (name, result[5:]))
            else:
                print("ok - " + name)
        except Exception as e:  # report and go on with the next case
            failures += 1
            why = str(e) or traceback.format_exc()
            print("not ok - %s: %s" % (name, why.replace("\n", "\n    ")))
        return fn
    return run


class Session:
    """One nnlab process on a pty of 100x30 with its own HOME."""

    def __init__(self, home, args=(), cwd=None):
        env = {k: v for k, v in os.environ.items() if k not in ("NNLAB_LUA_PATH_OFF",)}
        env.update(HOME=home, TERM="xterm", INPUTRC=os.path.join(HOME, "inputrc"),
                   NNLAB_PLOT="none", COLUMNS="100", LINES="30")
        with open(env["INPUTRC"], "w") as f:
            f.write("set enable-bracketed-paste off\nset bell-style none\n")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if cwd:
                os.chdir(cwd)
            try:
                os.execve(BIN, [BIN] + list(args), env)
            finally:
                os._exit(127)
        import fcntl
        import termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.raw = b""
        self.pos = 0  # what expect() has already consumed

    def text(self):
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _pump(self, deadline):
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
        if r:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                return None
            self.raw += data
        return True

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits for the regex `pattern` in the output after the last match."""
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            st = self._pump(deadline)
            if st is False or st is None:
                raise AssertionError("expected %r, got:\n%s" % (pattern, self.text()[self.pos:][-1500:]))

    def send(self, s):
        os.write(self.fd, s.encode())

    def line(self, s):
        self.send(s + "\r")

    def wait_exit(self, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                return os.waitstatus_to_exitcode(status)
            self._pump(time.time() + 0.1)
        raise AssertionError("nnlab did not exit; output:\n" + self.text()[-800:])

    def close(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = None
        try:
            os.close(self.fd)
        except OSError:
            pass


PROMPT = r"\n> $|^> $"
HOME = tempfile.mkdtemp(prefix="nnlab-repl.")


def session(*args, **kw):
    s = Session(HOME, args, **kw)
    s.expect(r"> ")
    return s


def has(expr):
    """Whether a Lua expression is true in nnlab (checks which modules exist)."""
    out = subprocess.run([BIN, "-e", "io.write(tostring(%s))" % expr], capture_output=True,
                         text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return out.stdout.strip() == "true"


S = session()


@case("banner names the version and how to get help")
def _():
    t = S.text()
    assert re.search(r"nnlab \d+\.\d+", t) and "help()" in t, t


@case("an expression prints its value without = or return")
def _():
    S.line("6*7")
    S.expect(r"\n42\n> ")
    S.line("'a' .. 'b', 1 + 1, nil")
    S.expect(r"\nab\t2\tnil\n> ")


@case("a statement prints nothing")
def _():
    S.line("quiet = 5")
    S.expect(r"quiet = 5\n> ")
    S.line("quiet")
    S.expect(r"\n5\n> ")


@case("tables print nested, with cycles marked")
def _():
    S.line("{a = 1, b = {2, 3}, 'x'}")
    S.expect(r'\n\{"x", a = 1, b = \{2, 3\}\}\n> ')
    S.line("c = {name = 'c'}; c.me = c")
    S.line("c")
    S.expect(r'\n\{me = <cycle>, name = "c"\}\n> ')
    S.line("{{{{{1}}}}}")
    S.expect(r"\n\{\{\{\{\.\.\.\}\}\}\}\n> ")


@case("a statement over several lines continues with >>")
def _():
    S.line("for i = 1, 3 do")
    S.expect(r"\n>> $")
    S.line("io.write(i * 11, ' ')")
    S.expect(r"\n>> $")
    S.line("end")
    S.expect(r"11 22 33 > ")
    S.line("local tt = {")
    S.expect(r"\n>> $")
    S.line("}; print('closed', type(tt))")
    S.expect(r"closed\ttable\n> ")


@case("an error prints its message and the next line works")
def _():
    S.line("error('boom')")
    S.expect(r"boom\n> ")
    S.line("1 + 2")
    S.expect(r"\n3\n> ")
    S.line("x = = 1")
    S.expect(r"unexpected symbol near '='\n> ")
    S.line("nosuch.field")
    S.expect(r"attempt to index a nil value \(global 'nosuch'\)\n> ")
    S.line("2 + 3")
    S.expect(r"\n5\n> ")


@case("Tab completes a global")
def _():
    S.send("collectgarb\t")
    S.expect(r"collectgarbage")
    S.line("('count') > 0")
    S.expect(r"\ntrue\n> ")


@case("Tab completes a table field")
def _():
    S.send("string.reve\t")
    S.expect(r"string\.reverse")
    S.line("('abc')")
    S.expect(r"\ncba\n> ")


@case("Tab completes a userdata method (through its metatable)")
def _():
    S.send("io.stdout:wri\t")
    S.expect(r"io\.stdout:write")
    S.line("('xyz', '\\n')")
    S.expect(r"\nxyz\n")
    S.expect(PROMPT)


@case("Tab completes nnlab names: tensor.ze, t:resh")
def _():
    if not has("tensor.zeros and true"):
        return "skip tensor.zeros does not exist yet"
    S.send("tensor.ze\t")
    S.expect(r"tensor\.zeros")
    S.line("(2, 3):numel()")
    S.expect(r"\n6\n> ")
    S.line("tt3 = tensor.zeros(2, 3)")
    S.send("tt3:resh\t")
    S.expect(r"tt3:reshape")
    S.line("(3, 2):size(1)")
    S.expect(r"\n3\n> ")


@case("Tab completes nn.Den")
def _():
    if not has("nn.Dense and true"):
        return "skip nn.Dense does not exist yet"
    S.send("nn.Den\t")
    S.expect(r"nn\.Dense")
    S.line(" ~= nil")
    S.expect(r"\ntrue\n> ")


@case("Ctrl-C at the prompt clears the line")
def _():
    S.send("12345")
    S.expect("12345")
    S.send("\x03")
    S.expect(r"> ")
    S.line("6*7")
    S.expect(r"\n42\n> ")


@case("Ctrl-C in a continued statement drops it")
def _():
    S.line("if true then")
    S.expect(r"\n>> $")
    S.send("\x03")
    S.expect(r"\n> ")
    S.line("7*7")
    S.expect(r"\n49\n> ")


@case("Ctrl-C stops a pure-Lua infinite loop and returns to the prompt")
def _():
    S.line("print('looping') while true do end")
    S.expect(r"looping\n")
    S.send("\x03")
    S.expect(r"interrupted!")
    S.expect(r"\n> ")
    S.line("8*8")
    S.expect(r"\n64\n> ")


@case("Ctrl-C stops a training run; fit returns its history and the model stays usable")
def _():
    if not has("nn.Sequential and optim.sgd and tensor.randn and true"):
        return "skip nn.Sequential, optim.sgd or tensor.randn do not exist yet"
    S.line("X = tensor.randn(4000, 50); y = tensor.rand(4000):mul(10):int():add(1):clamp(1, 10)")
    S.expect(PROMPT)
    S.line("m = nn.Sequential{nn.Dense(64, 'relu'), nn.Dense(10, 'softmax')}")
    S.line("m:compile{optimizer = optim.sgd{lr = 0.01}, loss = 'cross_entropy', metrics = {'accuracy'}}")
    S.expect(PROMPT)
    S.line("h = m:fit(X, y, {epochs = 100000, batch_size = 32, verbose = 1})")
    S.expect(r"Epoch 2/100000 - .*loss", timeout=60)
    S.send("\x03")
    S.expect(r"\n> ", timeout=30)
    S.line("#h.loss >= 1 and #h.loss < 100000")
    S.expect(r"\ntrue\n> ")
    S.line("m:predict(X):size(1)")
    S.expect(r"\n4000\n> ")


@case("Ctrl-C stops a long loop of tensor operations")
def _():
    if not has("tensor.ones and tensor.ones(1).add and true"):
        return "skip tensor.ones or Tensor:add does not exist yet"
    S.line("u = tensor.ones(100, 100); print('adding'); for i = 1, 1e12 do u = u:add(1) end")
    S.expect(r"adding\n")
    S.send("\x03")
    S.expect(r"interrupted!")
    S.expect(r"\n> ")
    S.line("9*9")
    S.expect(r"\n81\n> ")


@case("help(x) prints signature, description and example")
def _():
    S.line("help(help.markdown)")
    S.expect(r"help\.markdown\(\) -> string")
    S.expect(r"Example:")
    S.expect(r"\n> ")
    S.line("help('no.such.thing')")
    S.expect(r'no documentation for "no\.such\.thing"')
    S.expect(r"\n> ")


@case("Ctrl-D leaves with status 0")
def _():
    S.send("\x04")
    code = S.wait_exit()
    assert code == 0, "exit status %s" % code


@case("history is appended as you go and read back in the next session")
def _():
    hist = os.path.join(HOME, ".nnlab_history")
    s = session()
    try:
        s.line("print('from history ' .. 6*7)")
        s.expect(r"\nfrom history 42\n> ")
        with open(hist) as f:
            assert "print('from history ' .. 6*7)" in f.read().splitlines(), "not appended at once"
        s.send("\x04")
        s.wait_exit()
    finally:
        s.close()
    s = session()
    try:
        s.send("\x1b[A")  # Up: the last line of the previous session
        s.expect(r"print\('from history ' \.\. 6\*7\)")
        s.send("\r")
        s.expect(r"\nfrom history 42\n> ")
        s.send("\x04")
        s.wait_exit()
    finally:
        s.close()


@case("a HOME that does not exist costs the history, not the session")
def _():
    s = Session("/nonexistent/home/of/nobody")
    try:
        s.expect(r"> ")
        s.line("1 + 1")
        s.expect(r"\n2\n> ")
        s.send("\x04")
        assert s.wait_exit() == 0
    finally:
        s.close()


@case("nnlab -i script.lua leaves the script's globals in reach")
def _():
    script = os.path.join(HOME, "lessonish.lua")
    with open(script, "w") as f:
        f.write("answer_base = 40\nfunction bump(v) return v + 2 end\nprint('script ran')\n")
    s = Session(HOME, ["-i", script])
    try:
        s.expect(r"script ran\n")
        s.expect(r"> ")
        s.line("bump(answer_base)")
        s.expect(r"\n42\n> ")
        s.send("\x04")
        assert s.wait_exit() == 0
    finally:
        s.close()


@case("echo 'print(1+1)' | nnlab prints 2")
def _():
    out = subprocess.run([BIN], input="print(1+1)\n", capture_output=True, text=True, timeout=TIMEOUT)
    assert out.stdout == "2\n" and out.returncode == 0, (out.stdout, out.stderr, out.returncode)


@case("a script on standard input that fails exits with status 1 and its message")
def _():
    out = subprocess.run([BIN], input="error('piped failure')\n", capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert out.returncode == 1 and "piped failure" in out.stderr, (out.stderr, out.returncode)


@case("nnlab -i lesson.lua: the lesson's top-level locals are globals in the REPL")
def _():
    script = os.path.join(HOME, "lesson_locals.lua")
    with open(script, "w") as f:
        f.write("---en # A lesson\nlocal model = nn.Sequential{nn.Dense(3)}\n---en More prose.\n"
                "local n = 41\nprint('lesson ran')\n")
    s = Session(HOME, ["-i", "--lang", "en", script])
    try:
        s.expect(r"lesson ran\n")
        s.expect(r"> ")
        s.line("n + 1, #model.layers")
        s.expect(r"\n42\t1\n> ")
        s.send("\x04")
        assert s.wait_exit() == 0
    finally:
        s.close()


@case("nnlab -i after a failing script: its error, then the REPL with its locals")
def _():
    script = os.path.join(HOME, "fails.lua")
    with open(script, "w") as f:
        f.write("local broken_before = 7\nerror('lesson failed here')\n")
    s = Session(HOME, ["-i", script])
    try:
        s.expect(r"fails.lua:2: lesson failed here")
        s.expect(r"> ")
        s.line("broken_before * 6")
        s.expect(r"\n42\n> ")
        s.send("\x04")
        s.wait_exit()
    finally:
        s.close()


@case("--lang es: banner, help() headings and fit's progress bar in Spanish")
def _():
    s = Session(HOME, ["--lang", "es"])
    try:
        s.expect(r"help\(\) da una vista general.*\n> ")
        s.line("help()")
        s.expect(r"Módulos:")
        s.expect(PROMPT)
        s.line("X = tensor.randn(2000, 20); y = tensor.rand(2000):mul(10):int():add(1):clamp(1, 10)")
        s.line("m = nn.Sequential{nn.Dense(10, 'softmax')}; m:compile{optimizer = optim.sgd{lr = 0.01}, loss = 'cross_entropy'}")
        s.expect(PROMPT)
        s.line("h = m:fit(X, y, {epochs = 2, batch_size = 16})")
        s.expect(r"Época 1/2 \[.*\] +\d+% \d+/\d+ pérdida [\d.]+ exactitud [\d.]+ \d+ muestras/s faltan \d")
        s.expect(r"Época 2/2 - [\d.]+s - pérdida: [\d.]+ - exactitud: [\d.]+")
        s.expect(PROMPT)
        assert "Epoch" not in s.text() and "samples/s" not in s.text() and "ETA" not in s.text(), s.text()[-600:]
    finally:
        s.close()


S.close()
subprocess.run(["rm", "-rf", HOME])
raise SystemExit(1 if failures else 0)
