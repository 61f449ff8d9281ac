"""kernellib.py — what the kernel tests share: the kernel spec installed by
`nnlab --install-kernel --prefix` into a temporary folder that JUPYTER_PATH
names, a real jupyter_client KernelManager started from it, and the
`ok - name` / `not ok - name: why` lines tests/run.sh counts."""
import os
import subprocess
import sys
import tempfile
import traceback

NNLAB = os.environ.get("NNLAB_BIN", os.path.abspath("nnlab"))
ROOT = os.environ.get("NNLAB_ROOT", os.getcwd())
failures = 0


def case(name):
    """Decorator: runs the function at once as one test case."""
    def run(fn):
        global failures
        try:
            fn()
            print("ok - " + name, flush=True)
        except Exception as e:  # a failing case names itself and goes on
            failures += 1
            why = "".join(traceback.format_exception_only(type(e), e)).strip().replace("\n", " | ")
            print("not ok - %s: %s" % (name, why), flush=True)
            traceback.print_exc(file=sys.stdout)
        return fn
    return run


def finish():
    sys.exit(1 if failures else 0)


def install_spec(*options):
    """Installs the kernel spec with the given nnlab options; returns its prefix."""
    prefix = tempfile.mkdtemp(prefix="nnlab-kernel-")
    subprocess.run([NNLAB, *options, "--install-kernel", "--prefix", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
    return prefix


def start(stderr=None, cwd=None):
    """A started KernelManager and a ready blocking client for the nnlab spec."""
    from jupyter_client.manager import KernelManager
    km = KernelManager(kernel_name="nnlab")
    km.start_kernel(stderr=stderr, cwd=cwd or tempfile.mkdtemp(prefix="nnlab-cwd-"))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    return km, kc


def run(kc, code, timeout=60):
    """Executes code; returns (reply content, [(msg_type, content)] on iopub)."""
    msgs = []
    reply = kc.execute_interactive(code, timeout=timeout,
                                   output_hook=lambda m: msgs.append((m["msg_type"], m["content"])))
    return reply["content"], msgs


def stdout_of(msgs, name="stdout"):
    return "".join(c["text"] for t, c in msgs if t == "stream" and c["name"] == name)


def result_of(msgs):
    for t, c in msgs:
        if t == "execute_result":
            return c["data"]["text/plain"]
    return None


def check(cond, why):
    if not cond:
        raise AssertionError(why)
