#!/usr/bin/env bash
# bench_tensor.sh — tensor speed beside numpy (Debian's /usr/bin/python3) in
# the same run and environment: matmul GFLOP/s (1024^3 and the course
# model's shapes) and elementwise GB/s on 10M floats. Each side reports
# medians of REPS repetitions; the two sides alternate ROUNDS times and the
# best round is shown, so a burst of other load on the machine does not
# decide the comparison.
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
REPS=${REPS:-7}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
  "$BIN" bench/tensor_bench.lua "$REPS" >"$tmp/ours.$r" || { echo "nnlab side failed"; exit 1; }
  /usr/bin/python3 bench/tensor_bench.py "$REPS" >"$tmp/theirs.$r" || { echo "numpy side failed"; exit 1; }
done
# best figure per line over the rounds
best() { awk -F'  ' '{ if (!($1 in b) || $2 > b[$1]) b[$1] = $2; if (!($1 in o)) o[$1] = n++ }
  END { for (k in o) print o[k] "\t" k "  " b[k] }' "$@" | sort -n | cut -f2-; }
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-} (same for both); best of $ROUNDS rounds of medians of $REPS"
printf '%-36s %10s %10s %7s\n' "operation (GFLOP/s or GB/s)" nnlab numpy ratio
paste -d'\t' <(best "$tmp"/ours.*) <(best "$tmp"/theirs.*) | while IFS=$'\t' read -r a b; do
  name=${a%  *}; x=${a##*  }; y=${b##*  }
  printf '%-36s %10s %10s %7s\n' "$name" "$x" "$y" "$(echo "scale=2; $x / $y" | bc)"
done
