#!/usr/bin/env bash
# test_errors.sh — how errors reach the user: an error about the user's input
# (a missing dataset, a missing lesson, a wrong argument) is its message at
# the user's line with no traceback into the library; an error in the user's
# own code lists only the user's frames; --traceback shows every frame;
# unknown methods, fields and globals get "did you mean".
set -u
BIN=${NNLAB_BIN:-./nnlab}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; fi
}
has() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }

printf -- '---en # A lesson\nlocal train = data.mnist()\n' >"$tmp/nodata.lua"
out=$(NNLAB_DATA="$tmp/none" NNLAB_CACHE="$tmp/cache" HOME="$tmp" NNLAB_OFFLINE=1 \
  timeout 60 "$BIN" "$tmp/nodata.lua" 2>&1 </dev/null); rc=$?
check "a missing dataset exits 1" [ $rc -eq 1 ]
check "a missing dataset is reported at the user's line" has "$out" "nnlab: $tmp/nodata.lua:2: MNIST: cannot find"
check "a missing dataset shows no traceback into the library" lacks "$out" "lua/data.lua"
check "... nor a stack traceback at all" lacks "$out" "stack traceback"

out=$("$BIN" "$tmp/missing.lua" 2>&1); rc=$?
check "a missing lesson file exits 1" [ $rc -eq 1 ]
check "a missing lesson file is one line naming it" [ "$out" = "nnlab: lesson: cannot open $tmp/missing.lua: No such file or directory" ]

printf 'local t = tensor.zeros(2, 2)\nlocal u = t:matmul(tensor.zeros(3, 3))\n' >"$tmp/args.lua"
out=$("$BIN" "$tmp/args.lua" 2>&1)
check "a wrong argument to a C function: the message at the user's line, no traceback" \
  [ "$out" = "nnlab: $tmp/args.lua:2: matmul: inner sizes differ (2x2 by 3x3)" ]
printf 'local m = nn.Sequential{nn.Dense(2)}\nm:compile{optimizer = optim.sgd{lr = 1}, loss = "mse"}\nm:fit(tensor.zeros(4, 3), tensor.ones(4):int(), {epochs = "x"})\n' >"$tmp/fitargs.lua"
out=$("$BIN" "$tmp/fitargs.lua" 2>&1)
check "a wrong option to a Lua library function: the message at the user's line, no traceback" \
  [ "$out" = "nnlab: $tmp/fitargs.lua:3: fit: epochs must be an integer, got string" ]

printf 'local function inner()\n  error("boom in my code")\nend\nlocal function outer()\n  inner()\n  return 1\nend\nouter()\n' >"$tmp/mine.lua"
out=$("$BIN" "$tmp/mine.lua" 2>&1)
check "an error in the user's code lists the user's frames" has "$out" "$tmp/mine.lua:5: in local 'outer'"
check "... down to the main chunk" has "$out" "$tmp/mine.lua:8: in main chunk"
check "... and none of nnlab's" lacks "$out" "lua/lesson.lua"
out=$("$BIN" --traceback "$tmp/mine.lua" 2>&1)
check "--traceback shows every frame, nnlab's too" has "$out" "lua/lesson.lua"
check "--traceback keeps the message" has "$out" "nnlab: $tmp/mine.lua:2: boom in my code"
out=$("$BIN" --traceback "$tmp/args.lua" 2>&1)
check "--traceback on a library error shows the traceback" has "$out" "stack traceback:"
out=$("$BIN" -h)
check "nnlab -h lists --traceback" has "$out" "--traceback"

printf 'local m = nn.Sequential{nn.Dense(2)}\nm:fti(1)\n' >"$tmp/fti.lua"
out=$("$BIN" "$tmp/fti.lua" 2>&1)
check "model:fti suggests fit" has "$out" "fti.lua:2: attempt to call a nil value (method 'fti') (did you mean 'fit'?)"
out=$("$BIN" -e 'pirnt("x")' 2>&1)
check "an unknown global suggests the close one" has "$out" "(global 'pirnt') (did you mean 'print'?)"
out=$("$BIN" -e 'local t = tensor.zeroes(2)' 2>&1)
check "an unknown module field suggests the close one" has "$out" "(field 'zeroes') (did you mean 'zeros'?)"
out=$("$BIN" -e 'local x = metrcis.confusion' 2>&1)
check "a misspelt module suggests the module" has "$out" "(did you mean 'metrics'?)"
printf 'local d = data.dataset{X = tensor.zeros({3, 2, 2}, "uint8"), y = tensor.ones(3):int()}\nfor x in d:batchs(2) do end\n' >"$tmp/ds.lua"
out=$("$BIN" "$tmp/ds.lua" 2>&1)
check "a dataset method (Lua sugar) is suggested too" has "$out" "(method 'batchs') (did you mean 'batches'?)"
out=$("$BIN" -e 'qqqqqqqq()' 2>&1)
check "nothing close: no suggestion" lacks "$out" "did you mean"
out=$(printf 'm = nn.Sequential{nn.Dense(2)}\nm:sumary()\n' | "$BIN" -i 2>&1)
check "the REPL suggests too" has "$out" "(did you mean 'summary'?)"
