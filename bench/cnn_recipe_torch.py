"""cnn_recipe_torch.py — finds the training recipe for lesson 04 with PyTorch on
the CPU: the ml4a / ConvNetJS CIFAR-10 network (three blocks of Conv2D 5x5 with
16, 20, 20 filters and padding 2, [BatchNormalization], ReLU, MaxPool 2x2; then
320 -> 10 softmax), trained with horizontal flips and integer shifts of up to
2 pixels (zero fill), as nnlab's RandomFlip and RandomTranslation do. Only what
nnlab's API offers is used: SGD (momentum, Nesterov, weight decay on every
parameter) or Adam, a per-epoch learning-rate schedule, Keras's BatchNorm
(momentum 0.99, eps 0.001), inputs scaled by 1/255, cross-entropy without label
smoothing. Prints one line per epoch:
  epoch N lr=.. loss=.. train_acc=.. test_acc=.. seconds=..
Usage: cnn_recipe_torch.py [--epochs 30] [--batch 64] [--opt sgd|adam] [--lr ..]
  [--momentum 0.9] [--nesterov] [--wd 5e-4] [--sched cosine|none|step|warmcos]
  [--bn] [--threads 2] [--seed 1] [--data DIR] [--subset N]
On this kind of virtual machine every page fault is costly and PyTorch
allocates its tensors afresh at each step: run it with
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296
for about 3x shorter epochs (bench_conv.sh's torch-heap row)."""
import argparse, math, os, tarfile, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(data):
    t = tarfile.open(os.path.join(data, "cifar-10-binary.tar.gz"))
    def part(names):
        raw = b"".join(t.extractfile(m).read() for m in t.getmembers()
                       if any(m.name.endswith(n) for n in names))
        a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
        return a[:, 1:].reshape(-1, 3, 32, 32).copy(), a[:, 0].astype(np.int64)
    X, y = part(["data_batch_%d.bin" % i for i in range(1, 6)])
    Xt, yt = part(["test_batch.bin"])
    return X, y, Xt, yt


def network(bn, widths=(16, 20, 20)):
    layers, cin = [], 3
    for c in widths:
        layers.append(nn.Conv2d(cin, c, 5, padding=2))
        if bn:  # Keras: moving = 0.99*moving + 0.01*batch, eps 0.001
            layers.append(nn.BatchNorm2d(c, eps=1e-3, momentum=0.01))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        cin = c
    layers += [nn.Flatten(), nn.Linear(cin * 16, 10)]
    m = nn.Sequential(*layers)
    for l in m:  # Keras's defaults, which nnlab follows: Glorot-uniform W, zero b
        if isinstance(l, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(l.weight)
            nn.init.zeros_(l.bias)
    return m


def augment(x, gen, shift=2):
    """x: (B, 3, 32, 32) float. Flip half the images left-right, then shift
    each by an integer (dy, dx) in [-shift, shift]^2 with zero fill."""
    B, _, H, W = x.shape
    flip = torch.rand(B, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if shift:
        pad = F.pad(x, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (B,), generator=gen)
        dx = torch.randint(0, 2 * shift + 1, (B,), generator=gen)
        rows = (dy[:, None] + torch.arange(H)[None, :])  # B x H
        cols = (dx[:, None] + torch.arange(W)[None, :])  # B x W
        bi = torch.arange(B)[:, None, None, None]
        ci = torch.arange(3)[None, :, None, None]
        x = pad[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--opt", default="sgd")
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--sched", default="cosine")
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--bn", action="store_true")
    p.add_argument("--shift", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--subset", type=int, default=0, help="train on the first N images only")
    p.add_argument("--data", default=os.environ.get("NNLAB_DATA", "../shared/data"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    X, y, Xt, yt = load(a.data)
    if a.subset:
        X, y = X[:a.subset], y[:a.subset]
    X = torch.tensor(X, dtype=torch.float32) / 255
    Xt = torch.tensor(Xt, dtype=torch.float32) / 255
    y, yt = torch.tensor(y), torch.tensor(yt)
    model = network(a.bn)
    if a.opt == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.wd)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                              nesterov=a.nesterov, weight_decay=a.wd)
    print("# " + " ".join("%s=%s" % kv for kv in sorted(vars(a).items())), flush=True)

    def lr_at(e):  # per epoch, as nnlab's lr_schedule(epoch, lr) is called
        if e < a.warmup:
            return a.lr * (e + 1) / a.warmup
        if a.sched == "cosine":
            return a.lr * 0.5 * (1 + math.cos(math.pi * e / a.epochs))
        if a.sched == "warmcos":  # cosine from the end of the warm-up
            return a.lr * 0.5 * (1 + math.cos(math.pi * (e - a.warmup) / (a.epochs - a.warmup)))
        if a.sched == "step":
            return a.lr * (0.1 ** (e * 3 // a.epochs))
        return a.lr

    for e in range(a.epochs):
        lr = lr_at(e)
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(X), generator=gen)
        tot, correct = 0.0, 0
        for i in range(0, len(X), a.batch):
            b = perm[i:i + a.batch]
            xb = augment(X[b], gen, a.shift)
            out = model(xb)
            loss = F.cross_entropy(out, y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(b)
            correct += (out.argmax(1) == y[b]).sum().item()
        secs = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            acc = sum((model(Xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item()
                      for i in range(0, len(Xt), 1000)) / len(Xt)
        print("epoch %d lr=%.5f loss=%.4f train_acc=%.4f test_acc=%.4f seconds=%.1f"
              % (e + 1, lr, tot / len(X), correct / len(X), acc, secs), flush=True)


if __name__ == "__main__":
    main()
