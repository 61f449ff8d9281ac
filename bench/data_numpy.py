# data_numpy.py — the reference reader for bench_data.sh: numpy with Python's
# gzip (MNIST) or tarfile (CIFAR-10), producing the same arrays as nnlab
# (uint8 images, CIFAR in height x width x channel); prints seconds and VmHWM.
import gzip, os, sys, tarfile, time
import numpy as np

which, root = sys.argv[1], os.environ["NNLAB_DATA"].split(":")[0]
t0 = time.perf_counter()
if which == "mnist":
    def idx(name, skip):
        return np.frombuffer(gzip.open(os.path.join(root, "mnist", name)).read()[skip:], np.uint8)
    Xtr = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    ytr = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int32) + 1
    Xte = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    yte = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int32) + 1
else:
    parts = {}
    with tarfile.open(os.path.join(root, "cifar-10-binary.tar.gz"), "r:gz") as t:
        for m in t:
            base = os.path.basename(m.name)
            if base.endswith(".bin"):
                r = np.frombuffer(t.extractfile(m).read(), np.uint8).reshape(-1, 3073)
                parts[base] = (np.ascontiguousarray(r[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)),
                               r[:, 0].astype(np.int32) + 1)
    names = sorted(k for k in parts if k.startswith("data_batch"))
    Xtr = np.concatenate([parts[k][0] for k in names]); ytr = np.concatenate([parts[k][1] for k in names])
    Xte, yte = parts["test_batch.bin"]
secs = time.perf_counter() - t0
hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print("%s %.3f %.0f %d %d" % (which, secs, int(hwm) / 1024, len(Xtr), len(Xte)))
