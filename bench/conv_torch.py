"""conv_torch.py — PyTorch's side of bench_conv.sh: the convolutions of lesson
04's network (batch 64, 5x5 kernels, padding 2: 32x32x3 -> 16, 16x16x16 -> 20,
8x8x20 -> 20) timed forward and backward (weights, bias, and the input except
for the first layer), as in training. Prints one line per layer:
  conv torch <layer> fwd=.. bwd=.. total=..   (median milliseconds of REPS runs)
Usage: conv_torch.py THREADS [REPS]; CONV_BENCH_CLOCK=cpu times CPU instead of
wall-clock time."""
import os
import sys
import time

import torch
import torch.nn.functional as F

threads, reps = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20
clock = time.process_time if os.environ.get("CONV_BENCH_CLOCK") == "cpu" else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(1)
for layer, (size, cin, cout) in enumerate([(32, 3, 16), (16, 16, 20), (8, 20, 20)], 1):
    x = torch.randn(64, cin, size, size, requires_grad=layer > 1)
    w = (torch.randn(cout, cin, 5, 5) / (25 * cin) ** 0.5).requires_grad_()
    b = torch.zeros(cout, requires_grad=True)
    dy = torch.randn(64, cout, size, size)
    tf, tb = [], []
    for r in range(reps + 3):
        t0 = clock()
        y = F.conv2d(x, w, b, padding=2)
        t1 = clock()
        y.backward(dy)
        t2 = clock()
        if r >= 3:
            tf.append(t1 - t0)
            tb.append(t2 - t1)
        w.grad = b.grad = x.grad = None
    med = lambda v: sorted(v)[len(v) // 2]
    tt = [a + c for a, c in zip(tf, tb)]
    print("conv torch %d fwd=%.3f bwd=%.3f total=%.3f" % (layer, 1e3 * med(tf), 1e3 * med(tb), 1e3 * med(tt)),
          flush=True)
