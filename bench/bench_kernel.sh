#!/usr/bin/env bash
# bench_kernel.sh — the Jupyter kernel: start to kernel_info reply, execute
# round trip, plot latency (bench/kernel_bench.py, Debian's jupyter_client),
# and the JSON libraries compared on a typical message (bench/json_bench.c,
# why the kernel uses jansson: see docs/hacking.md).
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
lscpu | grep -m1 'Model name' | sed 's/  */ /g'
NNLAB_BIN="$BIN" /usr/bin/python3 bench/kernel_bench.py
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
if cc -O2 -o "$out/json_bench" bench/json_bench.c -ljansson -lcjson 2>"$out/err"; then
  "$out/json_bench"
else
  echo "json_bench: skipped (needs libjansson-dev and libcjson-dev): $(head -1 "$out/err")"
fi
