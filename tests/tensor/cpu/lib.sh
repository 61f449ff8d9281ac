# tests/tensor/cpu/lib.sh — sourced by test_cpu.sh and test_cpu_emulated.sh.
PY=/usr/bin/python3
DECAY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/decay.lua"

check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; fi
}

# npy_stats FILE: "<subnormal count> <zero count> <size>"
npy_stats() {
  $PY -c 'import numpy as np, sys
a = np.load(sys.argv[1]).astype(np.float32).ravel()
tiny = np.finfo(np.float32).tiny
print(int(((a != 0) & (np.abs(a) < tiny)).sum()), int((a == 0).sum()), a.size)' "$1"
}
