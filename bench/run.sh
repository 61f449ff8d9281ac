#!/usr/bin/env bash
# bench/run.sh — runs every benchmark (bench/bench_*.sh, in name order). Each
# prints its own figures beside the reference (numpy, PyTorch) measured in the
# same run. Benchmarks time; tests never do.
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
case "$BIN" in /*) ;; *) BIN="$PWD/${BIN#./}" ;; esac
export NNLAB_BIN="$BIN" NNLAB_ROOT="$PWD" NNLAB_PLOT=none
export NNLAB_DATA=${NNLAB_DATA:-$PWD/../shared/data}
status=0
for b in bench/bench_*.sh; do
  [ -e "$b" ] || continue
  echo "== $b"
  bash "$b" || status=1
done
exit $status
