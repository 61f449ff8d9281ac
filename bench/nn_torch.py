"""nn_torch.py — the PyTorch reference for bench_nn.sh: trains the same model
(Flatten -> [Dense(64, relu)] -> Dense(10) with cross-entropy, SGD momentum
0.9, batch 64, inputs /255) on the CPU and prints one line per run:
  torch <dataset> <model> epochs=<s1,s2,...> accuracy=<test> rss_mb=<peak>
Usage: nn_torch.py DATA_DIR THREADS dataset:model:lr:epochs ...
Environment: NN_TORCH_SEED (default 42); NN_TORCH_INIT=glorot starts the Linear
layers as Keras and nnlab's default do (Glorot-uniform W, zero b) instead of
PyTorch's own default (W and b uniform in +-1/sqrt(inputs))."""
import gzip, os, sys, tarfile, time
import numpy as np
import torch

def idx(path):
    b = gzip.open(path).read()
    nd = b[3]
    shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)

def load(data, name):
    if name == "mnist":
        d = data + "/mnist/"
        return (idx(d + "train-images-idx3-ubyte.gz"), idx(d + "train-labels-idx1-ubyte.gz"),
                idx(d + "t10k-images-idx3-ubyte.gz"), idx(d + "t10k-labels-idx1-ubyte.gz"))
    t = tarfile.open(data + "/cifar-10-binary.tar.gz")
    def part(names):
        raw = b"".join(t.extractfile(m).read() for m in t.getmembers()
                       if any(m.name.endswith(n) for n in names))
        a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
        return a[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), a[:, 0].copy()
    X, y = part(["data_batch_%d.bin" % i for i in range(1, 6)])
    Xt, yt = part(["test_batch.bin"])
    return X, y, Xt, yt

def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0

def main():
    data, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    for spec in sys.argv[3:]:
        torch.manual_seed(int(os.environ.get("NN_TORCH_SEED", "42")))  # each run on its own
        name, kind, lr, epochs = spec.split(":")
        epochs = int(epochs)
        X, y, Xt, yt = load(data, name)
        X = torch.tensor(X.reshape(len(X), -1), dtype=torch.float32) / 255
        Xt = torch.tensor(Xt.reshape(len(Xt), -1), dtype=torch.float32) / 255
        y, yt = torch.tensor(y, dtype=torch.long), torch.tensor(yt, dtype=torch.long)
        layers = [torch.nn.Linear(X.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)] \
            if kind == "hidden" else [torch.nn.Linear(X.shape[1], 10)]
        model = torch.nn.Sequential(*layers)
        if os.environ.get("NN_TORCH_INIT", "default") == "glorot":
            for layer in model:
                if isinstance(layer, torch.nn.Linear):
                    torch.nn.init.xavier_uniform_(layer.weight)
                    torch.nn.init.zeros_(layer.bias)
        opt = torch.optim.SGD(model.parameters(), lr=float(lr), momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
        times = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            perm = torch.randperm(len(X))
            total = 0.0
            for i in range(0, len(X), 64):
                b = perm[i:i + 64]
                opt.zero_grad()
                loss = loss_fn(model(X[b]), y[b])
                loss.backward()
                opt.step()
                total += loss.item() * len(b)
            times.append(time.perf_counter() - t0)
        with torch.no_grad():
            acc = (model(Xt).argmax(1) == yt).float().mean().item()
        print("torch %s %s epochs=%s accuracy=%.4f last_loss=%.4f rss_mb=%.0f"
              % (name, kind, ",".join("%.3f" % t for t in times), acc, total / len(X),
                 peak_rss_mb()), flush=True)

main()
