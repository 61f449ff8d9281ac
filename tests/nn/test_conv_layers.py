"""test_conv_layers.py — the layers nn.Conv2D, nn.MaxPool2D and nn.AvgPool2D
against PyTorch (float64), through a one-layer nnlab model: random inputs,
weights and output gradients R are made with numpy and handed to nnlab as
.npy files; one nnlab run (a generated Lua script) builds each layer, sets
its W and b, and saves model:forward(x), the dW and db and the input
gradient that model:backward(x, R) gives, and model:predict(x, 3) (batches
of 3 and a last smaller one, each through its own plan). PyTorch computes
y, dL/dW, dL/db and dL/dx of L = Σ y ⊙ R on the same numbers (NCHW and
OIHW: permuted; Keras's "same" with F.pad, the odd row at the bottom and
the odd column on the right). Cases: strides 1 and 2 (and a pair), padding
"valid", "same" and 2, odd sizes (7×9 input, 3×3 and 5×5 kernels), 1 and 3
input channels, batches of 1 and 7, each fused activation; pooling with
windows 2 and 3 and strides 1 and 2.

Tolerance: max |a − b| <= 1e-4 · max(1, max |b|). Prints "ok - name" /
"not ok - name: why"."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Report  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # python3-torch is a test dependency (make deps)
    print("not ok - PyTorch is needed: apt-get install python3-torch")
    sys.exit(1)

ROOT = os.environ.get("NNLAB_ROOT", os.getcwd())
BIN = os.environ.get("NNLAB_BIN", os.path.join(ROOT, "nnlab"))
TOL = 1e-4
rng = np.random.default_rng(20261205)
torch.set_num_threads(1)


report = Report()


def close(got, want):
    """None when got matches want within TOL of want's scale, else why not."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return "shape %s, expected %s" % (got.shape, want.shape)
    err = np.abs(got - want).max()
    scale = max(1.0, np.abs(want).max())
    return None if err <= TOL * scale else "max error %.3g, allowed %.3g" % (err, TOL * scale)


def same_pads(n, k, s):
    """Keras's "same": (before, after) along one axis."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def lua_value(v):
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, (tuple, list)):
        return "{%d, %d}" % tuple(v)
    return str(v)


def conv_case(N, H, W, C, K, Fo, S, P, act):
    KH, KW = pair(K)
    SH, SW = pair(S)
    x = rng.standard_normal((N, H, W, C))
    Wt = rng.standard_normal((KH, KW, C, Fo)) * 0.5
    b = rng.standard_normal(Fo) * 0.5
    ctor = "nn.Conv2D(%d, %s, %s, {stride = %s, padding = %s})" % (
        Fo, lua_value(K), lua_value(act), lua_value(S), lua_value(P))

    def reference(R):
        xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        wt = torch.tensor(Wt.transpose(3, 2, 0, 1), requires_grad=True)
        bt = torch.tensor(b, requires_grad=True)
        inp = xt
        if P == "same":
            (pt, pb), (pl, pr) = same_pads(H, KH, SH), same_pads(W, KW, SW)
            inp, pad = F.pad(xt, (pl, pr, pt, pb)), 0
        else:
            pad = 0 if P == "valid" else P
        z = F.conv2d(inp, wt, bt, stride=(SH, SW), padding=pad)
        y = {"linear": z, "relu": torch.relu(z), "sigmoid": torch.sigmoid(z),
             "tanh": torch.tanh(z)}[act]
        y = y.permute(0, 2, 3, 1)
        if R is not None:
            (y * torch.tensor(R)).sum().backward()
            return y.detach().numpy(), {
                "din": xt.grad.permute(0, 2, 3, 1).numpy(),
                "dW": wt.grad.permute(2, 3, 1, 0).numpy(), "db": bt.grad.numpy()}
        return y.detach().numpy(), None

    return ctor, {"x": x, "W": Wt, "b": b}, reference


def pool_case(kind, N, H, W, C, PS, S):
    PH, PW = pair(PS)
    SH, SW = pair(S)
    x = rng.standard_normal((N, H, W, C))
    ctor = "nn.%s(%s, {stride = %s})" % (kind, lua_value(PS), lua_value(S))

    def reference(R):
        xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        f = F.max_pool2d if kind == "MaxPool2D" else F.avg_pool2d
        y = f(xt, (PH, PW), stride=(SH, SW)).permute(0, 2, 3, 1)
        if R is not None:
            (y * torch.tensor(R)).sum().backward()
            return y.detach().numpy(), {"din": xt.grad.permute(0, 2, 3, 1).numpy()}
        return y.detach().numpy(), None

    return ctor, {"x": x}, reference


CASES = [
    # N, H, W, C, kernel, filters, stride, padding, activation
    conv_case(1, 7, 9, 1, 3, 4, 1, "valid", "linear"),
    conv_case(7, 7, 9, 3, 3, 5, 1, "valid", "relu"),
    conv_case(7, 7, 9, 3, 3, 5, 2, "same", "relu"),
    conv_case(1, 7, 9, 3, 3, 4, 2, "same", "linear"),
    conv_case(7, 9, 7, 3, 5, 4, 1, "same", "tanh"),
    conv_case(1, 7, 9, 1, 5, 2, 2, "same", "sigmoid"),
    conv_case(7, 7, 9, 3, 5, 3, 2, 2, "linear"),
    conv_case(1, 7, 9, 1, 3, 6, 1, 2, "relu"),
    conv_case(7, 7, 9, 1, 5, 3, 2, "valid", "linear"),
    conv_case(7, 8, 9, 3, (3, 5), 4, (2, 1), "same", "linear"),
    # 16 or 8 channels fill one of oneDNN's blocks exactly, a layout equal to
    # NHWC: a whole batch is then used in place rather than copied
    conv_case(7, 8, 8, 16, 3, 16, 1, "same", "relu"),
    conv_case(7, 6, 7, 8, 3, 8, 1, "valid", "linear"),
    conv_case(7, 8, 8, 16, 5, 20, 1, 2, "linear"),
    # kind, N, H, W, C, pool, stride
    pool_case("MaxPool2D", 7, 7, 9, 3, 2, 2),
    pool_case("MaxPool2D", 1, 7, 9, 1, 3, 1),
    pool_case("MaxPool2D", 7, 9, 7, 1, 3, 2),
    pool_case("MaxPool2D", 1, 8, 8, 3, 2, 1),
    pool_case("AvgPool2D", 7, 7, 9, 3, 2, 2),
    pool_case("AvgPool2D", 1, 7, 9, 1, 3, 1),
    pool_case("AvgPool2D", 7, 9, 7, 3, 3, 2),
    pool_case("AvgPool2D", 1, 8, 8, 1, 2, 1),
]

LUA_CASE = """
do
  local d = %(dir)q
  local x = tensor.load(d .. "/x.npy")
  local layer = %(ctor)s
  local m = nn.Sequential { layer }
  m:forward(x)
  if layer.W then
    layer.W = tensor.load(d .. "/W.npy"); layer.b = tensor.load(d .. "/b.npy")
  end
  tensor.save(m:forward(x), d .. "/y.npy")
  tensor.save(m:backward(x, tensor.load(d .. "/R.npy")), d .. "/din.npy")
  if layer.W then tensor.save(layer.dW, d .. "/dW.npy"); tensor.save(layer.db, d .. "/db.npy") end
  tensor.save(m:predict(x, 3), d .. "/pred.npy")
end
"""


def lua_quote(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        script = []
        refs = []
        for i, (ctor, arrays, reference) in enumerate(CASES):
            d = os.path.join(tmp, "case%d" % i)
            os.mkdir(d)
            for k, v in arrays.items():
                np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))
            # PyTorch sees exactly the float32 values nnlab reads
            for k in arrays:
                arrays[k][...] = np.load(os.path.join(d, k + ".npy"))
            y, _ = reference(None)
            R = rng.standard_normal(y.shape).astype(np.float32)
            np.save(os.path.join(d, "R.npy"), R)
            y, grads = reference(R.astype(np.float64))
            refs.append((ctor, d, y, grads, arrays["x"].shape[0]))
            script.append(LUA_CASE.replace("%(dir)q", lua_quote(d)).replace("%(ctor)s", ctor))
        path = os.path.join(tmp, "cases.lua")
        with open(path, "w") as f:
            f.write("\n".join(script))
        r = subprocess.run([BIN, path], capture_output=True, text=True)
        if r.returncode != 0:
            report("nnlab runs every case", False, (r.stdout + r.stderr).strip())
            return
        for ctor, d, y, grads, N in refs:
            name = "%s on %d image(s) %s" % (ctor, N, "x".join(map(str, y.shape[1:])))
            got = lambda k: np.load(os.path.join(d, k + ".npy"))
            why = close(got("y"), y)
            report(name + ": forward", why is None, why)
            why = close(got("pred"), y)
            report(name + ": predict in batches of 3", why is None, why)
            for k, want in grads.items():
                why = close(got(k), want)
                report(name + ": " + k, why is None, why)


main()
sys.exit(report.status())
