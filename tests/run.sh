#!/usr/bin/env bash
# tests/run.sh — runs every test file under tests/ (or the folders given) and
# prints one closing line "N passed, N failed". A test file prints one line
# per case, "ok - name" or "not ok - name: why"; a file that exits non-zero
# without reporting a failure counts as one failed case. A case that cannot
# run here (no dataset) prints "skip - name: why"; the skips are listed at the end.
#   test_*.lua  run by nnlab (tests/lib is on package.path)
#   test_*.sh   run by bash,  test_*.py  run by Debian's /usr/bin/python3
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${NNLAB_BIN:-./nnlab}
case "$BIN" in /*) ;; *) BIN="$PWD/${BIN#./}" ;; esac
export NNLAB_BIN="$BIN" NNLAB_ROOT="$PWD"
export LUA_PATH_5_4="$PWD/tests/lib/?.lua;;"
export NNLAB_PLOT=${NNLAB_PLOT:-none}
unset NNLAB_LUA_PATH
# Tests read English unless they ask for --lang es (the default language
# comes from LC_ALL, LC_MESSAGES or LANG; LC_ALL would hide LC_MESSAGES).
if [ -n "${LC_ALL:-}" ]; then export LC_CTYPE="$LC_ALL"; unset LC_ALL; fi
PY=/usr/bin/python3
roots=("$@"); [ ${#roots[@]} -eq 0 ] && roots=(tests)
passed=0; failed=0; skipped=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
while IFS= read -r f; do
  case "$f" in
    *.lua) cmd=("$BIN" "$f") ;;
    *.sh)  cmd=(bash "$f") ;;
    *.py)  cmd=("$PY" "$f") ;;
  esac
  start=$(date +%s%N)
  timeout 600 env LC_MESSAGES=en_US.UTF-8 "${cmd[@]}" </dev/null >"$log/out" 2>&1
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  p=$(grep -c '^ok ' "$log/out"); q=$(grep -c '^not ok ' "$log/out"); k=$(grep -c '^skip ' "$log/out")
  if [ "$rc" -ne 0 ] && [ "$q" -eq 0 ]; then
    q=1; echo "not ok - $f exited with status $rc" >>"$log/out"
  fi
  passed=$((passed + p)); failed=$((failed + q)); skipped=$((skipped + k))
  printf '%-46s %4d ok %3d failed %3d skipped  %ss\n' "$f" "$p" "$q" "$k" "$secs"
  grep '^skip ' "$log/out" | sed "s|^|$f: |" >>"$log/skips"
  if [ "$q" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then sed 's/^/    /' "$log/out" | grep -v '^    ok ' | tail -40; fi
done < <(find "${roots[@]}" -type f \( -name 'test_*.lua' -o -name 'test_*.sh' -o -name 'test_*.py' \) | sort)
[ -s "$log/skips" ] && cat "$log/skips"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
