#!/usr/bin/env bash
# test_kernel_cli.sh — the command line of the Jupyter kernel: --install-kernel
# with --user (JUPYTER_DATA_DIR, XDG_DATA_HOME) and --prefix, where `jupyter
# kernelspec list` finds it; usage errors; and --kernel with a connection
# file that is missing, malformed or unusable: an error message, never a crash.
BIN=${NNLAB_BIN:-./nnlab}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ok() { echo "ok - $1"; }
no() { echo "not ok - $1: $2"; }
expect() { # name, wanted exit status, wanted text, command...
  local name=$1 want=$2 text=$3; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want" ]; then no "$name" "exit $rc (wanted $want): $out"
  elif ! grep -qF -- "$text" <<<"$out"; then no "$name" "no '$text' in: $out"
  else ok "$name"; fi
}

expect "--install-kernel --user honours JUPYTER_DATA_DIR" 0 "$t/jd/kernels/nnlab" \
  env JUPYTER_DATA_DIR="$t/jd" "$BIN" --install-kernel --user
[ -s "$t/jd/kernels/nnlab/kernel.json" ] && ok "kernel.json written" || no "kernel.json written" "missing"
expect "--install-kernel --user falls back on XDG_DATA_HOME" 0 "$t/xdg/jupyter/kernels/nnlab" \
  env -u JUPYTER_DATA_DIR XDG_DATA_HOME="$t/xdg" "$BIN" --install-kernel --user
list=$(JUPYTER_DATA_DIR="$t/jd" /usr/bin/python3 -m jupyter_client.kernelspecapp list 2>&1)
grep -q "nnlab *$t/jd/kernels/nnlab" <<<"$list" && ok "jupyter kernelspec list finds the --user spec" \
  || no "jupyter kernelspec list finds the --user spec" "$list"
expect "--install-kernel --prefix" 0 "$t/p/share/jupyter/kernels/nnlab" "$BIN" --install-kernel --prefix "$t/p"
grep -q '"{connection_file}"' "$t/p/share/jupyter/kernels/nnlab/kernel.json" && ok "argv names {connection_file}" \
  || no "argv names {connection_file}" "$(cat "$t/p/share/jupyter/kernels/nnlab/kernel.json")"
expect "NNLAB_KERNEL_BIN names the program (make install)" 0 "installed" \
  env NNLAB_KERNEL_BIN=/opt/nn/bin/nnlab "$BIN" --install-kernel --prefix "$t/q"
grep -q '"/opt/nn/bin/nnlab"' "$t/q/share/jupyter/kernels/nnlab/kernel.json" && ok "kernel.json has NNLAB_KERNEL_BIN" \
  || no "kernel.json has NNLAB_KERNEL_BIN" "$(cat "$t/q/share/jupyter/kernels/nnlab/kernel.json")"
expect "--install-kernel into a folder that cannot be made" 1 "cannot create" \
  "$BIN" --install-kernel --prefix /proc/nnlab-no
expect "--user and --prefix exclude each other" 2 "exclude each other" "$BIN" --install-kernel --user --prefix "$t"
expect "--user alone is a usage error" 2 "go with --install-kernel" "$BIN" --user
expect "--kernel needs a value" 2 "needs a value" "$BIN" --kernel
expect "--kernel with a missing connection file" 1 "connection file $t/none.json" "$BIN" --kernel "$t/none.json"
echo '{"shell_port": ' >"$t/bad.json"
expect "--kernel with malformed JSON" 1 "connection file $t/bad.json" "$BIN" --kernel "$t/bad.json"
echo '{"transport": "tcp", "ip": "127.0.0.1", "key": "k", "signature_scheme": "hmac-md5", "shell_port": 1}' >"$t/md5.json"
expect "--kernel refuses another signature scheme" 1 "expected hmac-sha256" "$BIN" --kernel "$t/md5.json"
echo '{"transport": "tcp", "ip": "127.0.0.1", "key": "k", "shell_port": "x"}' >"$t/port.json"
expect "--kernel with a port that is not a number" 1 "shell_port: expected a port number" "$BIN" --kernel "$t/port.json"
echo '{"transport": "tcp", "ip": "256.1.1.1", "key": "k", "shell_port": 1, "control_port": 2, "stdin_port": 3, "iopub_port": 4, "hb_port": 5}' >"$t/ip.json"
expect "--kernel that cannot listen" 1 "cannot listen on tcp://256.1.1.1:1" "$BIN" --kernel "$t/ip.json"
# make install writes the spec under PREFIX, naming the installed program even when staged with DESTDIR
if [ -n "${NNLAB_ROOT:-}" ] && make -s -C "$NNLAB_ROOT" install BIN="$BIN" PREFIX=/opt/nnlab DESTDIR="$t/stage" >"$t/install.log" 2>&1; then
  spec="$t/stage/opt/nnlab/share/jupyter/kernels/nnlab/kernel.json"
  grep -q '"/opt/nnlab/bin/nnlab"' "$spec" 2>/dev/null && ok "make install writes the kernel spec for PREFIX/bin/nnlab" \
    || no "make install writes the kernel spec for PREFIX/bin/nnlab" "$(cat "$spec" "$t/install.log" 2>&1)"
else
  no "make install writes the kernel spec for PREFIX/bin/nnlab" "$(cat "$t/install.log")"
fi
