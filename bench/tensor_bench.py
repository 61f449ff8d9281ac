# tensor_bench.py — numpy's side of bench_tensor.sh, the same operations and
# shapes as tensor_bench.lua, timed the same way (median of repetitions).
import sys
import time

import numpy as np

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
rng = np.random.default_rng(0)


def median(f):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[(reps - 1) // 2]


def mm(m, k, n):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    inner = max(1, int(2e8 // (2 * m * k * n)))

    def f():
        for _ in range(inner):
            a @ b
    t = median(f)
    print("matmul %dx%d by %dx%d  %.2f" % (m, k, k, n, 2 * m * k * n * inner / t / 1e9))


mm(1024, 1024, 1024)
mm(64, 3072, 64)
mm(3072, 64, 10)
a = rng.standard_normal((1024, 1024), dtype=np.float32)
b = rng.standard_normal((1024, 1024), dtype=np.float32)
t = median(lambda: a.T @ b)
print("matmul 1024^3 (A^T view)  %.2f" % (2 * 1024 ** 3 / t / 1e9))
N = 10000000
x = rng.random(N, dtype=np.float32)
y = rng.random(N, dtype=np.float32)
t = median(lambda: x + y)
print("add 10M floats  %.2f" % (3 * 4 * N / t / 1e9))
X = rng.random((10000, 1000), dtype=np.float32)
r = rng.random(1000, dtype=np.float32)
t = median(lambda: X + r)
print("broadcast add 10000x1000 + 1000  %.2f" % ((2 * 4 * N + 4000) / t / 1e9))


def inplace():
    np.add(x, y, out=x)
t = median(inplace)
print("in-place add_ 10M floats  %.2f" % (3 * 4 * N / t / 1e9))
