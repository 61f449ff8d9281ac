#!/usr/bin/env bash
# test_cpu.sh — what nnlab computes with: --version names the matrix
# library, its kernels and threads, honouring --threads, OMP_NUM_THREADS,
# OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE; and subnormal floats are
# flushed to zero in every thread
# that computes: nnlab's own kernels, the optimizer, and the matrix library's
# worker threads (oneDNN's, and OpenBLAS's, which start before main). Each
# case is run with NNLAB_SUBNORMALS=keep too, to show it would see them.
# Values are read from .npy files by numpy, because reading a float through
# Lua converts it with the denormals-are-zero mode on and would hide them.
set -u
BIN=${NNLAB_BIN:-./nnlab}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/cpu/lib.sh"

run() { # label, env...
  local d="$tmp/$1"; shift; mkdir -p "$d"
  env "$@" "$BIN" --threads 2 "$DECAY" "$d" >"$d/log" 2>&1 || { cat "$d/log"; return 1; }
}
run onednn NNLAB_GEMM= && run onednn_keep NNLAB_GEMM= NNLAB_SUBNORMALS=keep &&
  run openblas NNLAB_GEMM=openblas && run openblas_keep NNLAB_GEMM=openblas NNLAB_SUBNORMALS=keep

read -r sub zero n < <(npy_stats "$tmp/onednn_keep/W.npy")
check "without flushing, the dead layer's decayed weights are subnormal ($sub of $n)" [ "$sub" -gt 0 ]
read -r sub zero n < <(npy_stats "$tmp/onednn/W.npy")
check "flushed: the optimizer leaves no subnormal weight ($sub of $n)" [ "$sub" -eq 0 ]

for lib in onednn openblas; do
  read -r sub zero n < <(npy_stats "$tmp/$lib/P.npy")
  check "flushed ($lib): every term of the product is flushed in every thread ($zero of $n zero)" \
    [ "$zero" -eq "$n" ]
  read -r sub zero n < <(npy_stats "$tmp/${lib}_keep/P.npy")
  check "kept ($lib): the same product is a normal nonzero float ($zero of $n zero)" [ "$zero" -eq 0 ]
done

read -r sub zero n < <(npy_stats "$tmp/onednn/E.npy")
check "flushed: element-wise kernels give 0 for subnormal results" [ "$zero" -eq "$n" ]
read -r sub zero n < <(npy_stats "$tmp/onednn_keep/E.npy")
check "kept: element-wise kernels give subnormals" [ "$sub" -eq "$n" ]

out=$("$BIN" --version)
check "--version says subnormals are flushed" grep -q "subnormal floats flushed to zero" <<<"$out"
out=$(NNLAB_SUBNORMALS=keep "$BIN" --version)
check "--version says when they are kept" grep -q "subnormal floats kept" <<<"$out"

out=$("$BIN" --version)
check "--version names oneDNN, its kernels and the threads" \
  grep -Eq "^matrix library: oneDNN [0-9.]+ sgemm( and matmul)?, [A-Za-z0-9. -]+ kernels, [0-9]+ threads?$" <<<"$out"
check "--version names the processor" grep -q "^processor: " <<<"$out"
out=$("$BIN" --threads 1 --version)
check "--threads 1 --version: 1 thread" grep -q "kernels, 1 thread$" <<<"$out"
out=$(OMP_NUM_THREADS=1 "$BIN" --version)
check "OMP_NUM_THREADS=1 is honoured" grep -q "kernels, 1 thread$" <<<"$out"
out=$(OPENBLAS_NUM_THREADS=1 NNLAB_GEMM=openblas "$BIN" --version)
check "OPENBLAS_NUM_THREADS=1 is honoured" grep -q ", 1 thread$" <<<"$out"
out=$(OMP_NUM_THREADS=1 "$BIN" --threads 2 -e 'print(nnlab.options.threads)')
check "--threads wins over the environment" [ "$out" = 2 ]
out=$(NNLAB_GEMM=openblas OPENBLAS_CORETYPE=Prescott "$BIN" --version)
check "OPENBLAS_CORETYPE is honoured when OpenBLAS is chosen" \
  grep -q "^matrix library: OpenBLAS .*, Prescott kernels (from OPENBLAS_CORETYPE)" <<<"$out"
out=$(NNLAB_GEMM=openblas OPENBLAS_CORETYPE=Prescott "$BIN" -e 'print(tensor.new{{1,2},{3,4}}:matmul(tensor.new{{5},{6}}):totable()[2][1])')
check "OpenBLAS's product is right (3*5+4*6)" [ "$out" = 39.0 ]
out=$(NNLAB_GEMM=mkl "$BIN" -e 'print(1)' 2>&1); rc=$?
check "an unknown NNLAB_GEMM is refused, naming what it expects" \
  [ $rc -eq 2 -a "$out" = "nnlab: NNLAB_GEMM expects onednn or openblas, got 'mkl'" ]

# OpenMP's threads spin only 1,000 turns at a barrier before they sleep
# (libgomp's default is 300,000) unless the user chose: libgomp's own report
# of its settings, from the process that computes (the last one printed:
# nnlab starts itself once more to set it).
spin() { env "$@" OMP_DISPLAY_ENV=verbose "$BIN" -e 'print(os.getenv("OMP_WAIT_POLICY"))' 2>&1 |
  sed -n "s/.*GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -1; }
check "OpenMP threads spin briefly at barriers by default (libgomp's spin count 1000)" [ "$(spin)" = 1000 ]
check "the user's OMP_WAIT_POLICY=active is kept" [ "$(spin OMP_WAIT_POLICY=active)" -gt 1000000 ]
check "the user's GOMP_SPINCOUNT is kept" [ "$(spin GOMP_SPINCOUNT=1234)" = 1234 ]
check "the user's OMP_WAIT_POLICY=passive is kept" [ "$(spin OMP_WAIT_POLICY=passive)" = 0 ]
echo 'print(os.getenv("GOMP_SPINCOUNT"), #arg, arg[1], arg[2])' >"$tmp/args.lua"
out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$BIN" --seed 7 "$tmp/args.lua" "a b" "" 2>&1)
check "the arguments reach the restarted nnlab unchanged" [ "$out" = "1000	2	a b	" ]
