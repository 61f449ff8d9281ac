-- test_cifar_safety.lua — a CIFAR archive cannot make the reader allocate
-- what its headers merely claim (memory grows with the records that really
-- arrive), and Ctrl-C stops data.cifar_batches while it reads.
local T = require "testlib"
local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

T.python [==[
import tarfile, gzip
ti = tarfile.TarInfo('cifar-10-batches-bin/data_batch_1.bin')
ti.size = 3073 * 976000  # 3 GB claimed, 10 records present
rec = np.zeros((10, 3073), np.uint8).tobytes()
gzip.open('huge.tar.gz', 'wb').write(ti.tobuf(format=tarfile.GNU_FORMAT) + rec)
open('huge.tar', 'wb').write(ti.tobuf(format=tarfile.GNU_FORMAT) + rec)
]==]

T.test("a tar header claiming 3 GB is read as truncated, not allocated (1.5 GB address space)", function()
  for _, f in ipairs({ "huge.tar.gz", "huge.tar" }) do
    local script = T.tmp(f .. ".lua")
    local h = assert(io.open(script, "w"))
    h:write(string.format("data.cifar_batches(%q)", T.tmp(f)))
    h:close()
    -- AddressSanitizer reserves terabytes of address space: no limit under it
    local limit = os.getenv("NNLAB_ASAN") and "" or "ulimit -v 1500000; "
    local out, code = T.sh(string.format("bash -c '%s%s %s' 2>&1", limit, BIN, script))
    T.ok(code ~= 0, out)
    T.ok(out:find("is truncated", 1, true) and not out:find("out of memory", 1, true), out)
  end
end)

local dir = T.data_dir()
local archive = dir and dir .. "/cifar-10-binary.tar.gz"
local f = archive and io.open(archive, "rb")
if f then f:close() end
if not f then
  T.skip("Ctrl-C stops data.cifar_batches while it reads", "no cifar-10-binary.tar.gz in NNLAB_DATA")
else
  T.test("Ctrl-C stops data.cifar_batches while it reads", function()
    -- Ctrl-C once the reader has the archive open (it reads for about half
    -- a second even on a fast machine): a fixed delay raced a fast reader
    local out = T.sh(string.format(
      "%s -e 'data.cifar_batches(%q) print(\"read all\")' >%s 2>&1 & p=$!; " ..
      "for i in $(seq 1000); do ls -l /proc/$p/fd 2>/dev/null | grep -q cifar-10-binary && break; sleep 0.005; done; " ..
      "sleep 0.05; kill -INT $p; wait $p; echo status $?",
      BIN, archive, T.tmp("int.out")))
    local log = io.open(T.tmp("int.out")):read("a")
    T.ok(not log:find("read all", 1, true), log)
    -- stopped inside the reader (its own message), not after it by the Lua hook
    T.ok(log:find("cifar: " .. archive, 1, true) and log:find("interrupted", 1, true), log)
    T.ok(out:find("status [1-9]"), out)
  end)
end

T.done()
