# test_fuzz.sh — a short run of every libFuzzer target of tests/fuzz/ (built
# by `make fuzz-build` with clang, ASan and UBSan into build/fuzz): each seed
# of tests/fuzz/corpus/<target> and then FUZZ_RUNS mutations (default 500,
# at most 20 s per target). A crash, leak, sanitizer report or a broken
# invariant of a target fails it. `make fuzz` runs them for longer.
set -u
runs=${FUZZ_RUNS:-500}
if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
  echo "skip - fuzz targets: clang is not installed (apt-get install clang libclang-rt-14-dev)"
  exit 0
fi
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
if ! make -s -j2 fuzz-build >"$log/build" 2>&1; then
  echo "not ok - building the fuzz targets: $(tail -5 "$log/build" | tr '\n' ' ')"
  exit 1
fi
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  seeds=tests/fuzz/corpus/${t#fuzz_}
  n=$(ls "$seeds" 2>/dev/null | wc -l)
  if [ "$n" -eq 0 ]; then echo "not ok - $t: no seed corpus in $seeds"; continue; fi
  mkdir -p "$log/$t"
  if build/fuzz/$t -runs="$runs" -max_total_time=20 -rss_limit_mb=2048 -seed=1 \
      "$log/$t" "$seeds" >"$log/$t.out" 2>&1 && grep -q '^Done ' "$log/$t.out"; then
    echo "ok - $t: $n seeds and $(grep '^Done ' "$log/$t.out" | cut -d' ' -f2) runs"
  else
    echo "not ok - $t: $(grep -E 'ERROR|SUMMARY|runtime error|lesson parser' "$log/$t.out" | head -3 | tr '\n' ' ')"
  fi
done
