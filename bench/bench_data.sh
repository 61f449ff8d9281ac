#!/usr/bin/env bash
# bench_data.sh — how fast the datasets load: data.mnist() from the .gz files
# and data.cifar10() from cifar-10-binary.tar.gz, beside numpy with Python's
# gzip / tarfile reading the same files into the same arrays. Best of 3 runs
# each, in fresh processes; peak memory is the process's VmHWM.
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
export NNLAB_DATA=${NNLAB_DATA:-$PWD/../shared/data}
PY=/usr/bin/python3
if [ ! -e "$NNLAB_DATA/mnist/train-images-idx3-ubyte.gz" ] || [ ! -e "$NNLAB_DATA/cifar-10-binary.tar.gz" ]; then
  echo "skip: NNLAB_DATA ($NNLAB_DATA) lacks mnist/ or cifar-10-binary.tar.gz"
  exit 0
fi
best() { # prints the line with the lowest seconds (field 2) of 3 runs
  for _ in 1 2 3; do "$@"; done | sort -k2 -n | head -1
}
printf '%-8s %-7s %9s %9s %8s %8s\n' dataset reader seconds "peak MB" train test
for set in mnist cifar10; do
  read -r _ s m a b < <(best "$BIN" bench/data_load.lua "$set")
  printf '%-8s %-7s %9s %9s %8s %8s\n' "$set" nnlab "$s" "$m" "$a" "$b"
  read -r _ s m a b < <(best "$PY" bench/data_numpy.py "$set")
  printf '%-8s %-7s %9s %9s %8s %8s\n' "$set" numpy "$s" "$m" "$a" "$b"
done
echo "targets: cifar10 < 1.5 s and < 250 MB; mnist < 0.5 s; both no slower than numpy"
