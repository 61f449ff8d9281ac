#!/usr/bin/env bash
# test_cli.sh — the nnlab command line: -e, scripts and arg, exit status,
# error format, option errors, --version/-h, module lookup from any folder,
# NNLAB_LUA_PATH, and `make install`.
set -u
BIN=${NNLAB_BIN:-./nnlab}
ROOT=${NNLAB_ROOT:-$PWD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; fi
}
has() { grep -qF -- "$2" <<<"$1"; }

out=$("$BIN" -e 'print(1+1)' 2>&1)
check "-e runs a statement" [ "$out" = 2 ]

out=$("$BIN" -e 'x = 20' -e 'print(x + 1)' 2>&1)
check "-e is repeatable and shares globals" [ "$out" = 21 ]

cat >"$tmp/args.lua" <<'LUA'
print(arg[0], arg[1], arg[2], select('#', ...), ...)
LUA
out=$("$BIN" "$tmp/args.lua" a "b c" 2>&1)
check "script gets arg and ..." [ "$out" = "$tmp/args.lua	a	b c	2	a	b c" ]

out=$("$BIN" "$tmp/args.lua" --seed 3 2>&1)
check "options after the script belong to the script" has "$out" "--seed	3	2"

printf 'return 3\n' >"$tmp/ret.lua"; "$BIN" "$tmp/ret.lua"; rc=$?
check "a script's integer return is the exit status" [ $rc -eq 3 ]
printf 'return false\n' >"$tmp/retf.lua"; "$BIN" "$tmp/retf.lua"; rc=$?
check "a script returning false exits 1" [ $rc -eq 1 ]
printf 'print("fine")\n' >"$tmp/ok.lua"; "$BIN" "$tmp/ok.lua" >/dev/null; rc=$?
check "a script that returns nothing exits 0" [ $rc -eq 0 ]

printf 'local x = 1\n\nerror("boom here")\n' >"$tmp/err.lua"
out=$("$BIN" "$tmp/err.lua" 2>&1); rc=$?
check "an error exits 1" [ $rc -eq 1 ]
check "an error prints nnlab: file:line: message" has "$out" "nnlab: $tmp/err.lua:3: boom here"
check "an error prints a traceback" has "$out" "stack traceback:"

printf 'local function f(\n' >"$tmp/syn.lua"
out=$("$BIN" "$tmp/syn.lua" 2>&1); rc=$?
check "a syntax error names the file and line" has "$out" "nnlab: $tmp/syn.lua:"
check "a syntax error exits 1" [ $rc -eq 1 ]

out=$("$BIN" -e 'error({})' 2>&1); rc=$?
check "a non-string error object is reported, not a crash" has "$out" "error object is a table value"
check "a non-string error exits 1" [ $rc -eq 1 ]

out=$("$BIN" "$tmp/missing.lua" 2>&1); rc=$?
check "a missing script is an error naming it" has "$out" "missing.lua"
check "a missing script exits 1" [ $rc -eq 1 ]

out=$("$BIN" --frobnicate 2>&1); rc=$?
check "an unknown option is rejected with usage" has "$out" "unknown option '--frobnicate'"
check "usage is printed for an unknown option" has "$out" "usage: nnlab"
check "an unknown option exits 2" [ $rc -eq 2 ]
out=$("$BIN" --seed abc 2>&1); rc=$?
check "--seed rejects a non-integer" has "$out" "--seed expects an integer >= 0, got 'abc'"
out=$("$BIN" --threads 0 2>&1); rc=$?
check "--threads rejects 0" has "$out" "--threads expects an integer from 1 to 1024, got '0'"
out=$("$BIN" --plot paper 2>&1); rc=$?
check "--plot rejects an unknown mode" has "$out" "--plot expects window, png, svg, dumb or none, got 'paper'"
out=$("$BIN" --lang fr 2>&1); rc=$?
check "--lang rejects an unknown language" has "$out" "--lang expects es or en, got 'fr'"
out=$("$BIN" -e 2>&1); rc=$?
check "-e without a statement is a usage error" has "$out" "option '-e' needs a value"

out=$("$BIN" --version 2>&1)
check "--version prints the version" has "$out" "nnlab 0."
out=$("$BIN" -h 2>&1); rc=$?
check "-h prints usage and exits 0" [ $rc -eq 0 ]
check "-h lists every option" bash -c 'for o in -e -i --check --quick --render --plot --out --seed --threads --lang --version; do grep -qF -- "$o" <<<"$1" || exit 1; done' _ "$out"

out=$("$BIN" --seed 5 --threads 1 --quick --lang en --plot none --out "$tmp/o" \
  -e 'local o = nnlab.options; print(o.seed, o.threads, o.quick, o.lang, o.plot, o.out)' 2>&1)
check "options reach nnlab.options" [ "$out" = "5	1	true	en	none	$tmp/o" ]

# --check as a grader's tool: its options, their defaults and their errors
out=$("$BIN" -h 2>&1)
check "-h lists the grading options" bash -c 'for o in --junit --json --timeout --max-memory --sandbox; do grep -qF -- "$o" <<<"$1" || exit 1; done' _ "$out"
check "-h says the default time limit" has "$out" "per-lesson time limit in seconds (default 300; 0: none)"
check "-h says the default memory limit" has "$out" "per-lesson memory limit (default 2048; 0: none)"
out=$("$BIN" --check --timeout 2.5 --max-memory 100 --sandbox --junit "$tmp/j.xml" --json "$tmp/j.json" \
  -e 'local o = nnlab.options; print(o.timeout, o.max_memory, o.sandbox, o.junit ~= nil, o.json ~= nil)' 2>&1)
check "grading options reach nnlab.options" has "$out" "2.5	100	true	true	true"
out=$("$BIN" -e 'local o = nnlab.options; print(o.timeout, o.max_memory, o.sandbox)' 2>&1)
check "grading defaults in nnlab.options" [ "$out" = "300.0	2048	false" ]
out=$("$BIN" --check --timeout soon x.lua 2>&1); rc=$?
check "--timeout rejects a non-number" has "$out" "--timeout expects seconds (a number >= 0, 0 for no limit), got 'soon'"
check "--timeout's error is a usage error" [ $rc -eq 2 ]
out=$("$BIN" --check --timeout -1 x.lua 2>&1)
check "--timeout rejects a negative time" has "$out" "got '-1'"
out=$("$BIN" --check --max-memory 1.5 x.lua 2>&1)
check "--max-memory rejects a fraction" has "$out" "--max-memory expects megabytes (an integer >= 0, 0 for no limit), got '1.5'"
out=$("$BIN" --check --junit 2>&1)
check "--junit without a file is a usage error" has "$out" "option '--junit' needs a value"
out=$("$BIN" --sandbox "$tmp/ok.lua" 2>&1); rc=$?
check "--sandbox without --check is a usage error" has "$out" "--junit, --json, --timeout, --max-memory and --sandbox go with --check"
check "--sandbox without --check exits 2" [ $rc -eq 2 ]
printf -- '--- x\nlesson.expect("one", 1, 1)\n' >"$tmp/one.lua"
out=$(cd / && "$BIN" --check "$tmp/one.lua" 2>&1); rc=$?
check "--check runs a lesson's child from any folder" has "$out" "1 passed, 0 failed"
check "--check from any folder exits 0" [ $rc -eq 0 ]
out=$(LANG=en_GB.UTF-8 LC_ALL= LC_MESSAGES= "$BIN" -e 'print(nnlab.options.lang)' 2>&1)
check "the prose language follows LANG" [ "$out" = en ]
out=$(LANG=C LC_ALL= LC_MESSAGES= "$BIN" -e 'print(nnlab.options.lang)' 2>&1)
check "the prose language defaults to es" [ "$out" = es ]

out=$(cd / && "$BIN" -e 'print(type(tensor), type(nn), type(data), type(metrics), type(plot), type(lesson), type(optim), type(help))' 2>&1)
check "modules load from any working folder" [ "$out" = "table	table	table	table	table	table	table	table" ]
out=$(cd / && "$BIN" -e 'print(require("tensor") == tensor)' 2>&1)
check "modules are require-able and the same as the globals" [ "$out" = true ]

mkdir -p "$tmp/dev"
printf 'return { probe = "from the development path" }\n' >"$tmp/dev/probe_mod.lua"
printf 'local M = {}\nfor k, v in pairs(require "_metrics") do M[k] = v end\nM.overridden = true\nreturn M\n' >"$tmp/dev/metrics.lua"
out=$(NNLAB_LUA_PATH="$tmp/dev" "$BIN" -e 'print(require("probe_mod").probe, metrics.overridden)' 2>&1)
check "NNLAB_LUA_PATH puts a folder before the embedded modules" [ "$out" = "from the development path	true" ]

out=$(echo 'print(6*7)' | "$BIN" 2>&1)
check "standard input that is not a terminal runs as a script" [ "$out" = 42 ]

if [ -z "${NNLAB_ASAN:-}" ]; then
  if make -s -C "$ROOT" install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1; then
    out=$(cd / && "$tmp/prefix/bin/nnlab" -e 'print(type(tensor.zeros))' 2>&1)
    check "make install gives a working binary" [ "$out" = function ]
    check "make install copies the lessons" [ -f "$tmp/prefix/share/nnlab/lessons/02_cifar_hidden.lua" ]
  else
    echo "not ok - make install failed: $(tail -3 "$tmp/install.log")"
  fi
fi
