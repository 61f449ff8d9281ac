#!/usr/bin/env bash
# bench_conv.sh — chooses nnlab's convolution engine by measurement: the three
# convolutions of lesson 04's network (input 32x32x3, batch 64; Conv2D 5x5
# with 16, 20, 20 filters, padding 2), forward + backward (weights, bias, and
# the input except for the first layer), with
#   im2col        nnlab's im2col + gemm_f32 (OpenBLAS) engine
#   onednn        nnlab's oneDNN engine (its layouts; NHWC conversions timed)
#   dnnl-nhwc     oneDNN on nnlab's NHWC / HWIO layouts as they are
#   dnnl-blocked  oneDNN in the layouts it picks, with oneDNN's own reorders
#   torch         PyTorch (which runs oneDNN on the CPU)
# on 1 and 2 threads; then a whole training step of the network (flips and
# shifts, convolutions, [batch normalization,] ReLU, max pooling, Dense and
# softmax cross-entropy; forward and backward) made of nnlab's kernels with
# either engine (bench/cnn_step.c) beside PyTorch's (bench/cnn_step_torch.py;
# torch-heap: with glibc keeping freed blocks, see below).
# Every run is repeated CONV_BENCH_REPEAT times (3), interleaved, each timing
# CONV_BENCH_REPS (20) passes; the figures are medians over the repeats of
# each run's median, in milliseconds. CONV_BENCH_CLOCK=cpu (and
# CNN_STEP_CLOCK=cpu) time CPU instead of wall-clock time, steadier on a busy
# machine; meaningful for 1 thread only.
set -u
cd "$(dirname "$0")/.." || exit 2
PY=/usr/bin/python3
REPEAT=${CONV_BENCH_REPEAT:-3}
REPS=${CONV_BENCH_REPS:-20}
BENCH=${CONV_BENCH_BIN:-build/conv_bench}
STEP=${CNN_STEP_BIN:-build/cnn_step}
make -s "$BENCH" "$STEP" >/dev/null || { echo "bench_conv: cannot build $BENCH and $STEP"; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for rep in $(seq "$REPEAT"); do
  for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$BENCH" "$REPS" | sed "s/^conv /t$t /" >>"$out/all" \
      || { echo "bench_conv: $BENCH failed"; exit 1; }
    $PY bench/conv_torch.py $t "$REPS" | sed "s/^conv /t$t /" >>"$out/all" \
      || { echo "bench_conv: conv_torch.py failed"; exit 1; }
    for bn in 0 1; do
      for e in im2col onednn; do
        OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$STEP" $e $bn "$REPS" | sed "s/^/t$t /" >>"$out/step" \
          || { echo "bench_conv: $STEP failed"; exit 1; }
      done
      $PY bench/cnn_step_torch.py $t $bn "$REPS" | sed "s/^/t$t /" >>"$out/step" \
        || { echo "bench_conv: cnn_step_torch.py failed"; exit 1; }
      # PyTorch allocates its tensors afresh at every step; glibc hands large
      # blocks back to the kernel and every new one page-faults, which costs
      # a lot on this kind of virtual machine. Keeping them in the heap is
      # PyTorch's best case here.
      GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \
        $PY bench/cnn_step_torch.py $t $bn "$REPS" | sed "s/^step torch /step torch-heap /; s/^/t$t /" >>"$out/step" \
        || { echo "bench_conv: cnn_step_torch.py failed"; exit 1; }
    done
  done
done
grep -h '^t1 [a-z-]* [123] ' "$out/all" | grep -v torch | awk '{print $2, "conv" $3 ":", $NF}' | sed 's/impl=//' \
  | sort -u | sed 's/^/implementation: /'
grep -h '^t1 agree' "$out/all" | sort -u -k2,3 | awk '{print "largest difference from im2col:", $2, "conv" $3, $4, $5, $6, $7}'
echo "($REPEAT interleaved repeats of $REPS passes; ms for forward + backward, median)"
awk '
  function median(key,   n, i, j, v, tmp) {
    n = split(vals[key], v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  $2 != "agree" && $2 !~ /^agree-/ {
    for (i = 4; i <= NF; i++) if ($i ~ /^total=/) { sub("total=", "", $i); vals[$1 " " $2 " " $3] = vals[$1 " " $2 " " $3] " " $i }
  }
  END {
    printf "%-8s %-13s %9s %9s %9s %9s\n", "threads", "engine", "conv1", "conv2", "conv3", "sum"
    split("im2col onednn dnnl-nhwc dnnl-blocked torch", engines, " ")
    for (t = 1; t <= 2; t++) for (e = 1; e <= 5; e++) {
      s = 0; line = sprintf("%-8d %-13s", t, engines[e])
      for (l = 1; l <= 3; l++) { m = median("t" t " " engines[e] " " l); s += m; line = line sprintf(" %9.2f", m) }
      print line sprintf(" %9.2f", s)
    }
  }' "$out/all"
echo
echo "a training step of the whole network (batch 64; ms, median; epoch = 782 steps, without optimizer and data):"
awk '
  function median(key,   n, i, j, v, tmp) {
    n = split(vals[key], v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  {
    key = $1 " " $3 " " $4
    for (i = 5; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] != "engine" && kv[1] != "epoch_s") {
      if (kv[1] == "bn" && i > 5) kv[1] = "bnorm"
      vals[key " " kv[1]] = vals[key " " kv[1]] " " kv[2]; seen[kv[1]] = 1
    }
  }
  END {
    printf "%-8s %-10s %-3s %8s %8s | %7s %7s %7s %7s %7s %7s\n", "threads", "engine", "bn", "step", "epoch_s", "augment", "conv", "bnorm", "relu", "pool", "dense"
    split("im2col onednn torch torch-heap", engines, " ")
    for (t = 1; t <= 2; t++) for (bn = 0; bn <= 1; bn++) for (e = 1; e <= 4; e++) {
      k = "t" t " " engines[e] " bn=" bn
      line = sprintf("%-8d %-10s %-3d %8.2f %8.1f |", t, engines[e], bn, median(k " total"), 0.782 * median(k " total"))
      split("augment conv bnorm relu pool dense", parts, " ")
      for (p = 1; p <= 6; p++)
        line = line sprintf(" %7s", vals[k " " parts[p]] == "" || (bn == 0 && parts[p] == "bnorm") ? "-" : sprintf("%.2f", median(k " " parts[p])))
      print line
    }
  }' "$out/step"
