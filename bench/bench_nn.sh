#!/usr/bin/env bash
# bench_nn.sh — nnlab's trainer beside PyTorch on the CPU in the same run:
# the course's CIFAR-10 model (3072 -> 64 ReLU -> 10 softmax) and the MNIST
# linear and 64-hidden models, SGD momentum 0.9, batch 64, 2 threads. Prints
# best epoch times, their ratio, nnlab's effective GFLOP/s against the
# machine's sgemm peak (numpy's OpenBLAS, same run) and peak resident memory.
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
DATA=${NNLAB_DATA:-../shared/data}
EPOCHS=${NN_BENCH_EPOCHS:-3}
THREADS=2
PY=/usr/bin/python3
RUNS="cifar:hidden:0.005 mnist:linear:0.01 mnist:hidden:0.01"
if [ ! -e "$DATA/cifar-10-binary.tar.gz" ] || [ ! -d "$DATA/mnist" ]; then
  echo "bench_nn: skipped (no MNIST/CIFAR-10 under NNLAB_DATA=$DATA)"; exit 0
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

peak=$(OPENBLAS_NUM_THREADS=$THREADS $PY - <<'PY'
import time, numpy as np
n = 1536
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
a @ b
best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print("%.1f" % (2 * n ** 3 / best / 1e9))
PY
)
echo "sgemm peak (numpy/OpenBLAS, $THREADS threads, 1536^3): $peak GFLOP/s"

# The machine is noisy: every run is repeated, interleaved, and the times
# printed are medians over the repeats of each run's best epoch.
REPEAT=${NN_BENCH_REPEAT:-3}
for rep in $(seq "$REPEAT"); do
  NNLAB_DATA=$DATA "$BIN" --threads $THREADS bench/nn_bench.lua "$EPOCHS" $RUNS >>"$out/nnlab" 2>&1 || { cat "$out/nnlab"; exit 1; }
  $PY bench/nn_torch.py "$DATA" $THREADS "$EPOCHS" $RUNS >>"$out/torch" 2>&1 || { cat "$out/torch"; exit 1; }
  # PyTorch's own threading is slow at batch 64; its single-thread time too, for fairness.
  $PY bench/nn_torch.py "$DATA" 1 "$EPOCHS" cifar:hidden:0.005 >>"$out/torch1" 2>&1 || { cat "$out/torch1"; exit 1; }
done
echo "($REPEAT interleaved repeats; times are medians of each repeat's best epoch)"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for r in $RUNS; do
  IFS=: read -r ds kind _ <<<"$r"
  a=$(grep "^nnlab $ds $kind " "$out/nnlab"); b=$(grep "^torch $ds $kind " "$out/torch")
  tn=$(echo "$a" | field epoch_seconds | median); tt=$(echo "$b" | field epoch_seconds | median)
  gf=$(echo "$a" | field gflops | median)
  printf '%-6s %-6s epoch: nnlab %6.2fs  PyTorch %6.2fs  ratio %.2f  | nnlab %5.1f GFLOP/s (%2.0f%% of sgemm peak) | acc after %d epochs: nnlab %s PyTorch %s\n' \
    "$ds" "$kind" "$tn" "$tt" "$(echo "$tn / $tt" | bc -l)" "$gf" "$(echo "100 * $gf / $peak" | bc -l)" "$EPOCHS" \
    "$(echo "$a" | field accuracy | head -1)" "$(echo "$b" | field accuracy | head -1)"
done
tn=$(grep "^nnlab cifar hidden " "$out/nnlab" | field epoch_seconds | median); t1=$(field epoch_seconds <"$out/torch1" | median)
printf 'cifar  hidden epoch: nnlab %6.2fs  PyTorch on 1 thread %6.2fs  ratio %.2f\n' "$tn" "$t1" "$(echo "$tn / $t1" | bc -l)"
echo "peak resident memory (VmHWM) for all three runs: nnlab $(field nnlab_peak_rss_mb <"$out/nnlab" | sort -g | tail -1) MB, PyTorch $(grep rss_mb "$out/torch" | field rss_mb | sort -g | tail -1) MB"
