#!/usr/bin/env bash
# test_cpu_emulated.sh — nnlab on an Intel Xeon this machine is not.
# qemu-user (TCG) runs nnlab instruction by instruction on a processor that
# reports itself as GenuineIntel family 6, model 207: the Xeon on which
# Debian 12's OpenBLAS 0.3.21, not knowing the model, falls back to its SSE3
# (Prescott) kernels. TCG has AVX2 and FMA but no AVX-512, so the emulated
# Xeon is an AVX2 one. What is checked does not depend on the host:
#  - nnlab chooses its kernels by the processor's features, not its model
#    number: oneDNN's AVX2 kernels, where OpenBLAS takes Prescott's;
#  - subnormal floats are flushed in every thread there too (TCG keeps the
#    MXCSR's flush-to-zero and denormals-are-zero modes);
#  - training gives the same bits as on this machine with oneDNN capped to
#    AVX2 (ONEDNN_MAX_CPU_ISA), the kernels the Xeon would run.
# Speed under emulation means nothing: bench/bench_nn.sh measures that on
# the real processor. GOMP_SPINCOUNT is set so that nnlab does not start
# itself again (main.c): the new process would run on the host, unemulated.
set -u
BIN=${NNLAB_BIN:-./nnlab}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/cpu/lib.sh"

if [ -n "${NNLAB_ASAN:-}" ]; then
  # qemu-user touches the whole of ASan's shadow reservation: it took all
  # 24 GB of memory before the kernel killed it. make test runs this.
  echo "skip - the emulated Xeon: an ASan build does not fit qemu-user's memory"
  exit 0
fi
QEMU=$(command -v qemu-x86_64)
if [ -z "$QEMU" ]; then echo "not ok - qemu-x86_64 is installed (make deps: qemu-user)"; exit 1; fi
XEON=Cooperlake-v2,model=207
xeon() { # env... -- nnlab arguments: nnlab on the emulated Xeon, TCG's warnings dropped
  local e=()
  while [ "$1" != -- ]; do e+=("$1"); shift; done; shift
  ( ulimit -v 4000000 # 4 GB of address space: a run takes about 70 MB
    exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE GOMP_SPINCOUNT=1000 "${e[@]}" \
      "$QEMU" -cpu "$XEON" "$BIN" "$@" ) 2> >(grep -v "^qemu-x86_64: warning: TCG doesn't support" >&2)
}

out=$(xeon -- --version 2>&1)
check "the emulated processor is an Intel Xeon with AVX2 and FMA ($(sed -n 's/^processor: //p' <<<"$out"))" \
  grep -q "^processor: Intel Xeon .*(AVX2+FMA); subnormal floats flushed to zero$" <<<"$out"
check "there nnlab runs oneDNN's AVX2 kernels on 2 threads" \
  grep -Eq "^matrix library: oneDNN [0-9.]+ sgemm, AVX2 kernels, 2 threads$" <<<"$out"
ob=$(xeon NNLAB_GEMM=openblas -- --version 2>&1 | sed -n 's/^matrix library: //p')
case "$ob" in
  "OpenBLAS 0.3.21, "*)
    check "the premise: OpenBLAS 0.3.21 falls back to its SSE3 kernels there ($ob)" \
      grep -q "Prescott kernels (OpenBLAS's own choice)" <<<"$ob" ;;
  *) echo "skip - the premise holds for OpenBLAS 0.3.21 only: here $ob" ;;
esac

# subnormals: the values of tests/tensor/test_cpu.sh, on the emulated Xeon
for k in flush keep; do
  mkdir -p "$tmp/$k"
  s=; [ $k = keep ] && s=keep
  xeon NNLAB_SUBNORMALS=$s -- --threads 2 "$DECAY" "$tmp/$k" >"$tmp/$k/log" 2>&1 || cat "$tmp/$k/log"
done
read -r sub zero n < <(npy_stats "$tmp/keep/W.npy")
check "kept: the dead layer's decayed weights are subnormal ($sub of $n)" [ "$sub" -gt 0 ]
read -r sub zero n < <(npy_stats "$tmp/flush/W.npy")
check "flushed: the optimizer leaves no subnormal weight ($sub of $n)" [ "$sub" -eq 0 ]
read -r sub zero n < <(npy_stats "$tmp/flush/P.npy")
check "flushed: oneDNN's product flushes every term in both threads ($zero of $n zero)" [ "$zero" -eq "$n" ]
read -r sub zero n < <(npy_stats "$tmp/keep/P.npy")
check "kept: the same product is a normal nonzero float ($zero of $n zero)" [ "$zero" -eq 0 ]
read -r sub zero n < <(npy_stats "$tmp/flush/E.npy")
check "flushed: element-wise kernels give 0 ($zero of $n)" [ "$zero" -eq "$n" ]

# training: the emulated Xeon against this machine capped to AVX2
TRAIN="$(dirname "$0")/cpu/train.lua"
mkdir -p "$tmp/xeon" "$tmp/host"
xeon -- --threads 2 "$TRAIN" "$tmp/xeon" >"$tmp/xeon/log" 2>"$tmp/xeon/err" || cat "$tmp/xeon/err"
ONEDNN_MAX_CPU_ISA=AVX2 "$BIN" --threads 2 "$TRAIN" "$tmp/host" >"$tmp/host/log" 2>"$tmp/host/err" ||
  cat "$tmp/host/err"
check "training printed 3 epochs' losses on the emulated Xeon" [ "$(grep -c '^epoch' "$tmp/xeon/log")" = 3 ]
check "the same losses as this machine's AVX2 run ($(tail -1 "$tmp/xeon/log"))" \
  cmp -s "$tmp/xeon/log" "$tmp/host/log"
for f in W1 W2 P; do
  check "the same $f, bit for bit" cmp -s "$tmp/xeon/$f.npy" "$tmp/host/$f.npy"
done
