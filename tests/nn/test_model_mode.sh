#!/usr/bin/env bash
# test_model_mode.sh — a saved model file follows the umask like any other
# file (0644 under umask 022, 0600 under 077), though it is written through
# a temporary file (mkstemp makes those 0600); saving over a file keeps its mode.
set -u
BIN=${NNLAB_BIN:-./nnlab}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; fi
}

save='local m = nn.Sequential{nn.Dense(2)}; m:forward(tensor.zeros(1, 3)); m:save(arg[1])'
printf '%s\n' "$save" >"$tmp/save.lua"
(umask 022; "$BIN" "$tmp/save.lua" "$tmp/a.nnlab")
check "umask 022: the model file is 644" [ "$(stat -c %a "$tmp/a.nnlab")" = 644 ]
(umask 077; "$BIN" "$tmp/save.lua" "$tmp/b.nnlab")
check "umask 077: the model file is 600" [ "$(stat -c %a "$tmp/b.nnlab")" = 600 ]
(umask 002; "$BIN" "$tmp/save.lua" "$tmp/a.nnlab")
check "saving over a file keeps that file's mode (644, though the umask is now 002)" [ "$(stat -c %a "$tmp/a.nnlab")" = 644 ]
chmod 600 "$tmp/a.nnlab"; (umask 022; "$BIN" "$tmp/save.lua" "$tmp/a.nnlab")
check "a file made private stays private when saved over (600 under umask 022)" [ "$(stat -c %a "$tmp/a.nnlab")" = 600 ]
out=$("$BIN" -e "print(#nn.load('$tmp/a.nnlab').layers)" 2>&1)
check "the file still loads" [ "$out" = 1 ]
