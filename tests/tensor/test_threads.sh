#!/usr/bin/env bash
# test_threads.sh — the work nnlab shares among threads gives the answers
# of one thread: mid-sized products split by rows, columns or depth
# (gemm.c), the column-split minibatch gather and the range-split optimizer
# update (parallel.c), each checked against numpy under --threads 1, 2 and 3
# (threads/products.lua), and a training epoch's weights compared across the
# thread counts.
set -u
BIN=${NNLAB_BIN:-./nnlab}
PY=/usr/bin/python3
here=$(dirname "$0")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for t in 1 2 3; do
  mkdir -p "$tmp/$t"
  OUT="$tmp/$t" "$BIN" --threads "$t" "$here/threads/products.lua"
done
# On a processor with AVX-512, once more capped to AVX2
# (ONEDNN_MAX_CPU_ISA): oneDNN's AVX2 kernels, and sgemm where the matmul
# primitive runs otherwise (gemm.c, matmul_dnnl.c)
if grep -qw avx512f /proc/cpuinfo; then
  mkdir -p "$tmp/avx2"
  OUT="$tmp/avx2" ONEDNN_MAX_CPU_ISA=AVX2 "$BIN" --threads 2 "$here/threads/products.lua" |
    sed 's/^\(ok\|not ok\) - /\1 - AVX2 paths: /'
fi
for t in 2 3; do
  if diff=$($PY -c 'import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
d = float(np.max(np.abs(a - b)))
print(d); sys.exit(0 if d <= 1e-4 else 1)' "$tmp/1/W.npy" "$tmp/$t/W.npy" 2>&1); then
    echo "ok - after two epochs the weights on $t threads equal those on 1 thread (largest difference $diff)"
  else
    echo "not ok - the weights on $t threads differ from those on 1 thread: $diff"
  fi
done
