#!/usr/bin/env bash
# bench_nn.sh — nnlab's trainer beside PyTorch on the CPU, same machine and
# run: the course's CIFAR-10 model (3072 -> 64 ReLU -> 10 softmax) and the
# MNIST linear and 64-hidden models, SGD momentum 0.9, batch 64. Reports
#  - the sgemm rates of the kernel nnlab uses and of every other kernel this
#    machine has (OpenBLAS's core types for its instruction sets), at the
#    course's shapes and at 1536^3, on 1 and 2 threads;
#  - every epoch of every repeat (min, median, max), nnlab on 2 threads,
#    PyTorch on 1 and on 2 threads, the ratio taken to PyTorch's faster
#    (of the medians, and of the fastest epochs);
#  - MNIST 784-64-10 for 20 epochs, and the full run of lesson 02;
#  - peak resident memory.
# Repeats are interleaved so that a burst of load hits both sides.
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
DATA=${NNLAB_DATA:-../shared/data}
EPOCHS=${NN_BENCH_EPOCHS:-5}
REPEAT=${NN_BENCH_REPEAT:-3}
PY=/usr/bin/python3
if [ ! -e "$DATA/cifar-10-binary.tar.gz" ] || [ ! -d "$DATA/mnist" ]; then
  echo "bench_nn: skipped (no MNIST/CIFAR-10 under NNLAB_DATA=$DATA)"; exit 0
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
"$BIN" --version | sed 1d

# --- sgemm: nnlab's library beside every kernel the machine has
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc/tensor $(pkg-config --cflags openblas) bench/gemm_rates.c \
  src/tensor/gemm.c src/tensor/matmul_dnnl.c src/tensor/parallel.c -o "$out/gemm_rates" -ldnnl -fopenmp $(pkg-config --libs openblas) -lm ||
  { echo "bench_nn: cannot build bench/gemm_rates.c"; exit 1; }
flags=$(grep -m1 '^flags' /proc/cpuinfo)
cores="Prescott"
grep -qw avx <<<"$flags" && cores="$cores Sandybridge"
grep -qw avx2 <<<"$flags" && cores="$cores Haswell Zen"
grep -qw avx512f <<<"$flags" && cores="$cores SkylakeX"
grep -qw avx512_bf16 <<<"$flags" && cores="$cores Cooperlake"
echo "product GFLOP/s (median of 9): forward 64x3072'.3072x64, weight gradient 3072x64.64x64 (x stored feature-major), square 1536^3"
for t in 2 1; do
  NNLAB_GEMM=onednn "$out/gemm_rates" $t | tee -a "$out/gemm"
  env -u OPENBLAS_CORETYPE NNLAB_GEMM=openblas "$out/gemm_rates" $t | tee -a "$out/gemm"
  for c in $cores; do NNLAB_GEMM=openblas OPENBLAS_CORETYPE=$c "$out/gemm_rates" $t | tee -a "$out/gemm"; done
done
field() { sed -n "s/.*$1=\([0-9.,]*\).*/\1/p"; }
ours_sq=$(grep '^threads=2 .*oneDNN' "$out/gemm" | field square)
best_sq=$(grep '^threads=2 ' "$out/gemm" | field square | sort -g | tail -1)
best_lib=$(grep '^threads=2 ' "$out/gemm" | sort -t= -k5 -g | awk -v b="$best_sq" '$0 ~ "square="b" " {sub(/.*\| matrix library: /, ""); print; exit}')
echo "2 threads, 1536^3: nnlab's kernel $ours_sq GFLOP/s; the machine's best $best_sq ($best_lib)"

# --- training, interleaved repeats
RUNS="cifar:hidden:0.005:$EPOCHS mnist:linear:0.01:$EPOCHS mnist:hidden:0.01:20"
for rep in $(seq "$REPEAT"); do
  NNLAB_DATA=$DATA "$BIN" --threads 2 bench/nn_bench.lua $RUNS >>"$out/nnlab" 2>&1 || { cat "$out/nnlab"; exit 1; }
  for t in 1 2; do
    $PY bench/nn_torch.py "$DATA" $t $RUNS >>"$out/torch$t" 2>&1 || { cat "$out/torch$t"; exit 1; }
  done
done
stats() { # min median max of comma/newline separated numbers
  tr ',' '\n' | sort -g | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f %d", v[1], m, v[NR], NR}'
}
echo "epoch seconds over $REPEAT interleaved repeats: min / median / max (epochs counted); nnlab on 2 threads"
for r in $RUNS; do
  IFS=: read -r ds kind _ ep <<<"$r"
  read -r nmin nmed nmax ncount < <(grep "^nnlab $ds $kind " "$out/nnlab" | field epochs | stats)
  read -r amin amed amax acount < <(grep "^torch $ds $kind " "$out/torch1" | field epochs | stats)
  read -r bmin bmed bmax bcount < <(grep "^torch $ds $kind " "$out/torch2" | field epochs | stats)
  if [ "$(echo "$amed <= $bmed" | bc)" = 1 ]; then tmed=$amed; tt=1; else tmed=$bmed; tt=2; fi
  # PyTorch's epochs vary more than nnlab's on a shared host: the fastest
  # ones are compared too, so that a slow PyTorch run cannot flatter nnlab
  if [ "$(echo "$amin <= $bmin" | bc)" = 1 ]; then tmin=$amin; else tmin=$bmin; fi
  flops=$(grep "^nnlab $ds $kind " "$out/nnlab" | field flops | head -1)
  printf '%-5s %-6s (%2d epochs) nnlab %.3f / %.3f / %.3f (%d) | PyTorch 1 thread %.3f / %.3f / %.3f, 2 threads %.3f / %.3f / %.3f\n' \
    "$ds" "$kind" "$ep" "$nmin" "$nmed" "$nmax" "$ncount" "$amin" "$amed" "$amax" "$bmin" "$bmed" "$bmax"
  printf '      ratio to PyTorch (%d thread%s, medians) %.2f, fastest epochs %.2f | slowest/fastest epoch nnlab %.2f | nnlab %.1f GFLOP/s = %.0f%% of the best 2-thread sgemm | accuracy nnlab %s PyTorch %s\n' \
    "$tt" "$([ $tt = 1 ] || echo s)" "$(echo "$nmed / $tmed" | bc -l)" "$(echo "$nmin / $tmin" | bc -l)" "$(echo "$nmax / $nmin" | bc -l)" \
    "$(echo "$flops / $nmed / 1000000000" | bc -l)" "$(echo "100 * $flops / $nmed / 1000000000 / $best_sq" | bc -l)" \
    "$(grep "^nnlab $ds $kind " "$out/nnlab" | field accuracy | head -1)" "$(grep "^torch $ds $kind " "$out/torch$tt" | field accuracy | head -1)"
done
fits=$(grep "^nnlab mnist hidden " "$out/nnlab" | field fit_seconds | stats)
echo "MNIST 784-64-10, 20 epochs, whole fit: nnlab min / median / max $fits"
echo "peak resident memory (VmHWM), all runs in one process: nnlab $(field nnlab_peak_rss_mb <"$out/nnlab" | sort -g | tail -1) MB; PyTorch $(cat "$out"/torch? | field rss_mb | sort -g | tail -1) MB"

# --- lesson 02, the full run a student makes
for rep in $(seq "$REPEAT"); do
  /usr/bin/time -f "%e %M" -o "$out/time.$rep" env NNLAB_DATA=$DATA "$BIN" --plot none \
    --out "$out/lesson" lessons/02_cifar_hidden.lua >"$out/lesson.$rep.log" 2>&1 ||
    { tail -5 "$out/lesson.$rep.log"; exit 1; }
done
read -r lmin lmed lmax _ < <(cut -d' ' -f1 "$out"/time.* | stats)
echo "lesson 02 full run (--plot none): min / median / max $lmin / $lmed / $lmax s, peak $(cut -d' ' -f2 "$out"/time.* | sort -g | tail -1 | awk '{printf "%.0f", $1 / 1024}') MB"
grep -E "test accuracy|en prueba" "$out/lesson.1.log"
