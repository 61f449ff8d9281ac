"""test_kernels.py — the convolutional-network kernels (src/nn/conv2d.c,
pool2d.c, batchnorm.c, augment.c) against PyTorch, on random inputs and
weights made with numpy: strides 1 and 2, padding valid / same / explicit,
odd sizes, 1 and 3 input channels, batches of 1 and 7, both modes of batch
normalization. Each case runs tests/nn/kernels/kernel_check (built by `make
kernel-check`; NNLAB_KERNEL_CHECK names it) on .npy files and compares its
forward output and every gradient with PyTorch's (NCHW and OIHW: permuted),
and with the central finite differences that the program computes itself
(every entry of a tensor, or 400 spread evenly over a larger one). Both
convolution engines are checked: oneDNN's and im2col + gemm_f32.

Tolerances: kernel vs PyTorch, max |a − b| <= 1e-4 · max(1, max |b|) (float32
sums of up to a few hundred terms); finite differences vs the kernel's
gradient, max |fd − g| <= 1e-2 · max(1, max |g|) (float32 forward, eps 1e-2,
or 1e-3 for max pooling, whose entries are skipped where a perturbation
changes a window's winner). Prints "ok - name" / "not ok - name: why"."""
import os
import subprocess
import sys
import tempfile
import traceback

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
CHECK = os.environ.get("NNLAB_KERNEL_CHECK", os.path.join(ROOT, "build", "kernel_check"))
CHECK = CHECK if os.path.isabs(CHECK) else os.path.join(ROOT, CHECK)
REF_TOL, FD_TOL = 1e-4, 1e-2
rng = np.random.default_rng(20240613)
torch.set_num_threads(1)


report = Report()


def close(name, got, want, tol=REF_TOL):
    """Reports whether got matches want within tol of want's scale (NaN in
    got marks entries that are not to be compared)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return report(name, False, "shape %s, expected %s" % (got.shape, want.shape))
    mask = ~np.isnan(got)
    if mask.sum() == 0:
        return report(name, False, "nothing to compare")
    err = np.abs(got[mask] - want[mask]).max()
    scale = max(1.0, np.abs(want).max())
    report(name, err <= tol * scale, "max error %.3g, allowed %.3g" % (err, tol * scale))


def run(op, arrays, *args):
    """Writes arrays as DIR/<name>.npy, runs kernel_check, returns every .npy
    it left in DIR as a dict."""
    with tempfile.TemporaryDirectory() as d:
        for k, v in arrays.items():
            np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))
        r = subprocess.run([CHECK, op, d] + [str(a) for a in args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("kernel_check %s failed: %s" % (op, r.stderr.strip()))
        return {f[:-4]: np.load(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".npy")}


def nchw(a):
    return torch.tensor(np.ascontiguousarray(a.transpose(0, 3, 1, 2)), dtype=torch.float64,
                        requires_grad=True)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy()


def case(fn):
    """Runs one test function, turning an exception into a failed case."""
    def wrapped(*a):
        try:
            fn(*a)
        except Exception as e:  # report and go on with the next case
            report("%s%s" % (fn.__name__, a), False, str(e) or traceback.format_exc())
    return wrapped


def same_pads(n, k, s):
    """Keras's "same": (before, after) along one axis."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


@case
def conv(N, H, W, C, KH, KW, Fo, S, P, engine="im2col", plan_n=0):
    name = "conv2d %s %dx%dx%dx%d kernel %dx%d %d filters stride %d padding %s%s" % (
        engine, N, H, W, C, KH, KW, Fo, S, P, " (planned for %d)" % plan_n if plan_n else "")
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C, Fo)).astype(np.float32) / np.sqrt(KH * KW * C)
    b = rng.standard_normal(Fo).astype(np.float32)
    if P == "same":
        (t, bo), (l, r) = same_pads(H, KH, S), same_pads(W, KW, S)
    else:
        t = bo = l = r = 0 if P == "valid" else P
    xt, wt = nchw(x), torch.tensor(w.transpose(3, 2, 0, 1).copy(), dtype=torch.float64,
                                   requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    yt = F.conv2d(F.pad(xt, (l, r, t, bo)), wt, bt, stride=S)
    dy = rng.standard_normal(nhwc(yt).shape).astype(np.float32)
    yt.backward(nchw(dy).detach())
    pad = {"valid": 0, "same": -1}.get(P, P)
    out = run("conv", {"x": x, "w": w, "b": b, "dy": dy}, S, S, pad, engine, plan_n)
    close(name + ": y", out["y"], nhwc(yt))
    close(name + ": dx", out["dx"], nhwc(xt.grad))
    close(name + ": dW", out["dw"], wt.grad.permute(2, 3, 1, 0).numpy())
    close(name + ": db", out["db"], bt.grad.numpy())
    close(name + ": dW without dx", out["dw_nodx"], out["dw"], 0)
    for k in ("dx", "dw", "db"):
        close(name + ": finite differences " + k, out["fd_" + k], out[k], FD_TOL)


@case
def pool(kind, N, H, W, C, PH, PW, SH, SW, ties=False):
    name = "%s %dx%dx%dx%d pool %dx%d stride %dx%d%s" % (
        kind, N, H, W, C, PH, PW, SH, SW, " with ties" if ties else "")
    x = (rng.integers(0, 3, (N, H, W, C)) if ties else rng.standard_normal((N, H, W, C))
         ).astype(np.float32)
    xt = nchw(x)
    f = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
    yt = f(xt, (PH, PW), (SH, SW))
    dy = rng.standard_normal(nhwc(yt).shape).astype(np.float32)
    yt.backward(nchw(dy).detach())
    out = run(kind, {"x": x, "dy": dy}, PH, PW, SH, SW)
    close(name + ": y", out["y"], nhwc(yt))
    close(name + ": dx", out["dx"], nhwc(xt.grad))
    if not ties:
        close(name + ": finite differences dx", out["fd_dx"], out["dx"], FD_TOL)


@case
def batchnorm(shape, training, offset=0.0):
    name = "batchnorm %s %s%s" % ("x".join(map(str, shape)), "training" if training else "inference",
                                  " mean %g" % offset if offset else "")
    C = shape[-1]
    x = (rng.standard_normal(shape) * 2 + offset).astype(np.float32)
    gamma = (rng.standard_normal(C) * 0.5 + 1).astype(np.float32)
    beta = rng.standard_normal(C).astype(np.float32)
    rm = (rng.standard_normal(C) + offset).astype(np.float32)
    rv = rng.uniform(0.5, 3, C).astype(np.float32)
    momentum, eps = 0.99, 1e-3
    # PyTorch wants channels second; its momentum is Keras's 1 - momentum.
    xt = nchw(x) if x.ndim == 4 else torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gt = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    rmt, rvt = torch.tensor(rm, dtype=torch.float64), torch.tensor(rv, dtype=torch.float64)
    yt = F.batch_norm(xt, rmt, rvt, gt, bt, training, 1 - momentum, eps)
    back = nhwc if x.ndim == 4 else (lambda t: t.detach().numpy())
    dy = rng.standard_normal(shape).astype(np.float32)
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2) if x.ndim == 4 else dy, dtype=torch.float64))
    # Keras's running variance takes the biased batch variance, PyTorch's the unbiased.
    x64 = x.astype(np.float64).reshape(-1, C)
    want_rm = momentum * rm + (1 - momentum) * x64.mean(0) if training else rm
    want_rv = momentum * rv + (1 - momentum) * x64.var(0) if training else rv
    out = run("bn", {"x": x, "gamma": gamma, "beta": beta, "rm": rm, "rv": rv, "dy": dy},
              int(training), momentum, eps)
    close(name + ": y", out["y"], back(yt))
    close(name + ": dx", out["dx"], back(xt.grad))
    close(name + ": dgamma", out["dgamma"], gt.grad.numpy())
    close(name + ": dbeta", out["dbeta"], bt.grad.numpy())
    close(name + ": running mean", out["rm_out"], want_rm)
    close(name + ": running variance", out["rv_out"], want_rv)
    close(name + ": dx in place", out["dx_inplace"], out["dx"], 0)
    for k in ("dx", "dgamma", "dbeta"):
        close(name + ": finite differences " + k, out["fd_" + k], out[k], FD_TOL)


@case
def flip(N, H, W, C, mode, seed):
    name = "random flip %dx%dx%dx%d mode %d seed %d" % (N, H, W, C, mode, seed)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    dy = rng.standard_normal((N, H, W, C)).astype(np.float32)
    out = run("flip", {"x": x, "dy": dy}, mode, seed)
    flags = out["draws"][:, 0]
    report(name + ": draws only the axes asked for", np.all((flags & ~mode) == 0), str(flags))
    xt = nchw(x)
    rows = []
    for n in range(N):
        t = xt[n]
        if flags[n] & 1:
            t = t.flip(2)
        if flags[n] & 2:
            t = t.flip(1)
        rows.append(t)
    yt = torch.stack(rows)
    yt.backward(nchw(dy).detach())
    close(name + ": y", out["y"], nhwc(yt), 0)
    close(name + ": dx", out["dx"], nhwc(xt.grad), 0)
    close(name + ": the same seed draws the same", out["y_again"], out["y"], 0)
    close(name + ": finite differences dx", out["fd_dx"], out["dx"], FD_TOL)


@case
def translate(N, H, W, C, hf, wf, seed):
    name = "random translation %dx%dx%dx%d factors %g %g seed %d" % (N, H, W, C, hf, wf, seed)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    dy = rng.standard_normal((N, H, W, C)).astype(np.float32)
    out = run("translate", {"x": x, "dy": dy}, hf, wf, seed)
    s = out["draws"]
    mh, mw = int(np.floor(hf * H + 1e-9)), int(np.floor(wf * W + 1e-9))
    report(name + ": shifts within the factors", np.all(np.abs(s[:, 0]) <= mh) and
           np.all(np.abs(s[:, 1]) <= mw), str(s.tolist()))
    xt = nchw(x)
    P = max(H, W)
    padded = F.pad(xt, (P, P, P, P))
    # out[y, x] = in[y - dy, x - dx]: the window of the padded image starting at P - dy
    yt = torch.stack([padded[n, :, P - s[n, 0]:P - s[n, 0] + H, P - s[n, 1]:P - s[n, 1] + W]
                      for n in range(N)])
    yt.backward(nchw(dy).detach())
    close(name + ": y", out["y"], nhwc(yt), 0)
    close(name + ": dx", out["dx"], nhwc(xt.grad), 0)
    close(name + ": the same seed draws the same", out["y_again"], out["y"], 0)
    close(name + ": finite differences dx", out["fd_dx"], out["dx"], FD_TOL)


@case
def draw_statistics():
    """Over many samples, every allowed flip and shift turns up about equally
    often (a χ²-like check with wide margins)."""
    x = np.zeros((3000, 1, 5, 1), np.float32)
    out = run("flip", {"x": x, "dy": x}, 3, 7)
    counts = np.bincount(out["draws"][:, 0], minlength=4)
    report("random flip: each of the 4 flip combinations about a quarter of the time",
           counts.min() > 600 and counts.max() < 900, str(counts))
    out = run("translate", {"x": x, "dy": x}, 0, 0.4, 7)
    s = out["draws"]
    counts = np.bincount(s[:, 1] + 2, minlength=5)
    report("random translation: each shift in [-2, 2] about a fifth of the time, none beyond",
           np.all(s[:, 0] == 0) and counts.size == 5 and counts.min() > 480 and counts.max() < 720,
           str(counts))
    other = run("translate", {"x": x, "dy": x}, 0, 0.4, 8)["draws"]
    report("random translation: another seed draws other shifts", not np.array_equal(other, s))


def main():
    if not os.path.exists(CHECK):
        r = subprocess.run(["make", "-s", "-C", ROOT, "kernel-check"], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(CHECK):
            report("kernel_check builds", False, r.stderr[-2000:])
            return 1
    for args in [(1, 7, 7, 1, 3, 3, 4, 1, "valid"), (7, 9, 8, 3, 3, 3, 5, 2, "same"),
                 (7, 11, 9, 3, 5, 5, 4, 1, 2), (1, 8, 7, 3, 3, 2, 3, 2, 2),
                 (7, 10, 10, 3, 4, 4, 2, 2, "same"), (3, 6, 6, 1, 5, 5, 3, 1, "same"),
                 (7, 9, 9, 3, 3, 3, 4, 2, "valid"), (1, 7, 5, 1, 3, 3, 2, 2, 2),
                 (7, 8, 8, 3, 5, 5, 6, 1, 2), (1, 5, 5, 3, 1, 1, 4, 2, "same"),
                 (1, 8, 10, 3, 3, 3, 4, 2, "valid")]:
        conv(*args)
        conv(*args, "onednn")
    # oneDNN's primitives are made for the largest batch; smaller ones run padded
    conv(5, 9, 9, 3, 5, 5, 16, 1, 2, "onednn", 8)
    conv(1, 8, 8, 20, 5, 5, 20, 1, 2, "onednn", 3)
    conv(3, 8, 8, 20, 3, 3, 20, 2, "same", "im2col", 7)
    for kind in ("maxpool", "avgpool"):
        for args in [(7, 9, 9, 3, 2, 2, 2, 2), (1, 8, 8, 1, 2, 2, 2, 2), (7, 7, 9, 3, 3, 3, 2, 2),
                     (1, 11, 10, 3, 3, 3, 3, 3), (7, 6, 5, 3, 2, 3, 1, 2)]:
            pool(kind, *args)
    pool("maxpool", 7, 8, 8, 3, 2, 2, 2, 2, True)
    pool("maxpool", 1, 7, 7, 1, 3, 3, 2, 2, True)
    for shape in [(7, 5, 6, 3), (1, 7, 7, 4), (7, 10), (7, 3, 3, 1)]:
        for training in (True, False):
            batchnorm(shape, training)
    batchnorm((7, 4, 4, 3), True, 50.0)
    batchnorm((7, 4, 4, 3), False, 50.0)
    for mode in (1, 2, 3):
        flip(16, 5, 7, 3, mode, 11 + mode)
    flip(1, 4, 3, 1, 1, 5)
    translate(7, 12, 10, 3, 0.2, 0.25, 3)
    translate(16, 9, 9, 1, 0, 0.34, 4)
    translate(1, 32, 32, 3, 2 / 32, 2 / 32, 5)
    draw_statistics()
    return report.status()


sys.exit(main())
