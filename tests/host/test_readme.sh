#!/usr/bin/env bash
# test_readme.sh — the README's two set-up commands run as root on a machine
# without sudo (a container) and as a user with sudo: each is run with fake
# apt-get, make, sudo and ./nnlab that only record how they were called.
set -u
ROOT=${NNLAB_ROOT:-$PWD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; fi
}

# the first two ```sh blocks of the README, one command each
mapfile -t cmds < <(awk '/^```sh$/ {getline; print; n++} n == 2 {exit}' "$ROOT/README.md")
check "the README starts with two set-up commands" [ ${#cmds[@]} -eq 2 ]

fake() { # folder, name: a program that logs its name and arguments
  printf '#!/bin/sh\necho "%s $*" >>"$LOG"\n' "$2" >"$1/$2"
  chmod +x "$1/$2"
}
mkdir -p "$tmp/nosudo" "$tmp/sudo" "$tmp/work"
for p in apt-get make; do fake "$tmp/nosudo" "$p"; fake "$tmp/sudo" "$p"; done
printf '#!/bin/sh\necho "sudo $*" >>"$LOG"\nexec "$@"\n' >"$tmp/sudo/sudo"; chmod +x "$tmp/sudo/sudo"
fake "$tmp/work" nnlab

for i in 0 1; do
  for who in nosudo sudo; do
    log="$tmp/log.$i.$who"
    (cd "$tmp/work" && env -i LOG="$log" PATH="$tmp/$who" /bin/bash -c "${cmds[$i]}") 2>"$log.err"
    want="apt-get update|apt-get install -y make|make deps"
    [ $who = sudo ] && want="sudo apt-get update|apt-get update|sudo apt-get install -y make|apt-get install -y make|sudo make deps|make deps"
    if [ $i = 0 ]; then want="$want|make |nnlab lessons/02_cifar_hidden.lua"; else want="$want|make test"; fi
    got=$(paste -sd'|' "$log" 2>/dev/null)
    check "command $((i + 1)) as $([ $who = sudo ] && echo 'a user with sudo' || echo 'root without sudo'): $got" \
      [ "$got" = "$want" ]
  done
done
