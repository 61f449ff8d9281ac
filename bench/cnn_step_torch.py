"""cnn_step_torch.py — PyTorch's side of cnn_step.c: one training step (forward
and backward, no optimizer step) of lesson 04's network on a random batch of 64
32x32x3 images, flips and +-2 px shifts included, with or without batch
normalization. Prints:
  step torch bn=<0|1> total=..   (median milliseconds over REPS steps)
Usage: cnn_step_torch.py THREADS BN [REPS]; CNN_STEP_CLOCK=cpu times CPU
instead of wall-clock time."""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_recipe_torch import augment, network  # noqa: E402

threads, bn = int(sys.argv[1]), sys.argv[2] == "1"
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
clock = time.process_time if os.environ.get("CNN_STEP_CLOCK") == "cpu" else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(1)
gen = torch.Generator().manual_seed(1)
model = network(bn)
x, y = torch.rand(64, 3, 32, 32), torch.randint(0, 10, (64,))
times = []
for r in range(reps + 3):
    t0 = clock()
    loss = F.cross_entropy(model(augment(x, gen)), y)
    model.zero_grad()
    loss.backward()
    if r >= 3:
        times.append(clock() - t0)
times.sort()
print("step torch bn=%d total=%.2f epoch_s=%.1f" % (bn, 1e3 * times[len(times) // 2],
                                                   782 * times[len(times) // 2]), flush=True)
