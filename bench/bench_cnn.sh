#!/usr/bin/env bash
# bench_cnn.sh — an epoch of lesson 04's convolutional network, nnlab beside
# PyTorch on the CPU, same machine and run: CIFAR-10's 50,000 training images,
# batch 64, flips and shifts of up to 2 pixels, Conv2D 5x5 (16, 20, 20
# filters) + BatchNormalization + ReLU + MaxPool2D, Dense 320 -> 10, SGD with
# Nesterov momentum and weight decay (bench/cnn_bench.lua and
# bench/cnn_recipe_torch.py --bn). nnlab on 2 threads; PyTorch on 1 and 2
# threads, as it comes and with glibc keeping freed blocks (torch-heap: on
# this kind of virtual machine PyTorch's fresh allocations page-fault at every
# step); the ratio is taken to PyTorch's fastest. Every epoch of every repeat
# is kept (min / median / max); peak resident memory from /usr/bin/time.
# nnlab runs with its convolution engine as chosen (oneDNN) and, to show the
# choice, with NNLAB_CONV=im2col (im2col + one sgemm per layer and batch).
#   CNN_BENCH_EPOCHS (2), CNN_BENCH_REPEAT (2), CNN_BENCH_SUBSET (0: all)
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
DATA=${NNLAB_DATA:-../shared/data}
EPOCHS=${CNN_BENCH_EPOCHS:-2}
REPEAT=${CNN_BENCH_REPEAT:-2}
SUBSET=${CNN_BENCH_SUBSET:-0}
PY=/usr/bin/python3
if [ ! -e "$DATA/cifar-10-binary.tar.gz" ]; then
  echo "bench_cnn: skipped (no CIFAR-10 under NNLAB_DATA=$DATA)"; exit 0
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
HEAP=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296
sub=(); [ "$SUBSET" -gt 0 ] && sub=(--subset "$SUBSET")
for rep in $(seq "$REPEAT"); do
  for eng in nnlab im2col; do
    /usr/bin/time -f "%M" -o "$out/mem.$eng.$rep" env NNLAB_DATA="$DATA" NNLAB_CONV=$([ $eng = im2col ] && echo im2col) \
      "$BIN" --threads 2 --plot none bench/cnn_bench.lua "$EPOCHS" "$SUBSET" >>"$out/$eng" 2>&1 || { cat "$out/$eng"; exit 1; }
  done
  for t in 1 2; do
    for heap in plain heap; do
      envs=(); [ $heap = heap ] && envs=(GLIBC_TUNABLES=$HEAP)
      /usr/bin/time -f "%M" -o "$out/mem.torch-$heap$t.$rep" env "${envs[@]}" $PY bench/cnn_recipe_torch.py \
        --bn --nesterov --lr 0.02 --batch 64 --epochs "$EPOCHS" --threads $t --sched none --data "$DATA" \
        "${sub[@]}" >>"$out/torch-$heap$t" 2>&1 || { cat "$out/torch-$heap$t"; exit 1; }
    done
  done
done
stats() { # min median max count of comma/newline separated numbers
  tr ',' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %.2f %d", v[1], m, v[NR], NR}'
}
mem() { cat "$out"/mem."$1".* | sort -g | tail -1 | awk '{printf "%.0f", $1 / 1024}'; }
echo "epoch seconds, $REPEAT interleaved repeats of $EPOCHS epochs: min / median / max (epochs counted); peak memory"
for eng in im2col nnlab; do
  read -r nmin nmed nmax ncount < <(sed -n 's/.*epochs=\([0-9.,]*\).*/\1/p' "$out/$eng" | stats)
  printf '  %-22s %6.2f / %6.2f / %6.2f (%d)  %5s MB  test accuracy %s\n' \
    "$([ $eng = im2col ] && echo "nnlab im2col" || echo "nnlab (oneDNN)"), 2 thr" "$nmin" "$nmed" "$nmax" \
    "$ncount" "$(mem $eng)" "$(sed -n 's/.*accuracy=\([0-9.]*\).*/\1/p' "$out/$eng" | tr '\n' ' ')"
done
best=""; bestname=""; bestmem=""
for t in 1 2; do
  for heap in plain heap; do
    read -r tmin tmed tmax tcount < <(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$out/torch-$heap$t" | stats)
    name="PyTorch$([ $heap = heap ] && echo "-heap"), $t thread$([ $t = 1 ] || echo s)"
    printf '  %-22s %6.2f / %6.2f / %6.2f (%d)  %5s MB  test accuracy %s\n' "$name" "$tmin" "$tmed" "$tmax" "$tcount" \
      "$(mem torch-$heap$t)" "$(sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p' "$out/torch-$heap$t" | tr '\n' ' ')"
    if [ -z "$best" ] || [ "$(echo "$tmed < $best" | bc)" = 1 ]; then best=$tmed; bestname=$name; bestmem=$(mem torch-$heap$t); fi
  done
done
printf 'ratio to PyTorch'"'"'s fastest (%s), medians: %.2f; peak memory nnlab / PyTorch (that run): %.2f\n' \
  "$bestname" "$(echo "$nmed / $best" | bc -l)" "$(echo "$(mem nnlab) / $bestmem" | bc -l)"
