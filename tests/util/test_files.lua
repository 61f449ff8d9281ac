-- test_files.lua — every file nnlab writes goes through a temporary file and
-- a rename (util/atomic_file.c): a write that fails (file size limit, like a
-- full disk) keeps the previous file, new files honour the umask, a symlink
-- is written through to its target, a FIFO is refused; and files read by
-- name must be regular (a FIFO would block the reader forever).
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

local function readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs Lua code in a child nnlab through bash with a shell prefix (ulimit,
-- umask); returns output and status.
local n = 0
local function child(prefix, code)
  n = n + 1
  local path = T.tmp("child" .. n .. ".lua")
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  return T.sh(string.format("bash -c %q 2>&1", prefix .. "; timeout 20 " .. BIN .. " --plot none " .. path))
end

local function model_code(path)
  return string.format([[
local m = nn.Sequential{ nn.Dense(%%d) }
m:predict(tensor.zeros(1, 64))
m:save(%q)
]], path)
end

local function leftovers(dir)
  return (T.sh("ls -A " .. dir .. " | grep '^\\.' || true"))
end

T.test("tensor.save past the file size limit keeps the previous file", function()
  local dir = T.tmp("fsize_npy")
  os.execute("mkdir -p " .. dir)
  local path = dir .. "/t.npy"
  tensor.save(tensor.arange(1, 10001):float(), path) -- 40 kB
  local before = readfile(path)
  -- SIGXFSZ ignored, so writes past `ulimit -f` (1 kB blocks) fail with EFBIG
  local out, code = child("trap '' XFSZ; ulimit -f 64",
    string.format("tensor.save(tensor.zeros(100000), %q)", path))
  T.ok(code ~= 0, "expected failure:\n" .. out)
  T.ok(out:find("the previous file is unchanged", 1, true), out)
  T.ok(out:find(path, 1, true), out)
  T.eq(readfile(path), before, "previous file")
  T.eq(leftovers(dir), "", "temporary files left")
end)

T.test("model:save past the file size limit keeps the previous file", function()
  local dir = T.tmp("fsize_model")
  os.execute("mkdir -p " .. dir)
  local path = dir .. "/m.nnlab"
  local out, code = child("true", model_code(path):format(10))
  T.eq(code, 0, out)
  local before = readfile(path)
  out, code = child("trap '' XFSZ; ulimit -f 16", model_code(path):format(500))
  T.ok(code ~= 0 and out:find("the previous file is unchanged", 1, true), out)
  T.eq(readfile(path), before, "previous file")
  T.eq(leftovers(dir), "", "temporary files left")
end)

T.test("new files honour the umask: npy, model, plot script and data", function()
  local dir = T.tmp("umask")
  os.execute("mkdir -p " .. dir)
  local code_ = string.format([[
tensor.save(tensor.zeros(3), %q)
local m = nn.Sequential{ nn.Dense(2) }
m:predict(tensor.zeros(1, 3))
m:save(%q)
plot.output("png", %q)
plot.lines({ 1, 2, 3 })
]], dir .. "/a.npy", dir .. "/m.nnlab", dir .. "/plots")
  for _, case in ipairs({ { "022", "644" }, { "027", "640" }, { "000", "666" } }) do
    os.execute("rm -rf " .. dir .. "/*")
    local out, code = child("umask " .. case[1], code_)
    T.eq(code, 0, out)
    for _, f in ipairs({ "a.npy", "m.nnlab", "plots/01_lines.gp", "plots/01_lines.dat" }) do
      T.eq(T.sh("stat -c %a " .. dir .. "/" .. f), case[2] .. "\n", f .. " under umask " .. case[1])
    end
  end
end)

T.test("saving over an existing file keeps its mode", function()
  local path = T.tmp("mode.npy")
  tensor.save(tensor.zeros(2), path)
  os.execute("chmod 604 " .. path)
  tensor.save(tensor.ones(2), path)
  T.eq(T.sh("stat -c %a " .. path), "604\n")
  T.eq(tensor.load(path)[1], 1.0)
end)

T.test("saving onto a symlink writes its target and keeps the link", function()
  local dir = T.tmp("links")
  os.execute("mkdir -p " .. dir .. "/real")
  os.execute(string.format("ln -s real/m.nnlab %s/m.nnlab && ln -s real/t.npy %s/t.npy", dir, dir))
  os.execute(string.format("touch %s/real/m.nnlab %s/real/t.npy", dir, dir))
  local m = nn.Sequential { nn.Dense(2) }
  m:predict(tensor.zeros(1, 3))
  m:save(dir .. "/m.nnlab")
  tensor.save(tensor.ones(4), dir .. "/t.npy")
  T.eq(T.sh("stat -c %F " .. dir .. "/m.nnlab " .. dir .. "/t.npy"), "symbolic link\nsymbolic link\n")
  m:save(dir .. "/direct.nnlab")
  T.eq(readfile(dir .. "/real/m.nnlab"), readfile(dir .. "/direct.nnlab"), "the target holds the model")
  T.eq(tensor.load(dir .. "/real/t.npy"):sum(), 4.0)
  T.eq(leftovers(dir .. "/real"), "", "temporary files left")
end)

T.test("saving onto a FIFO, a device node or a dangling symlink is refused and leaves it", function()
  local fifo = T.tmp("save.fifo")
  os.execute("mkfifo " .. fifo)
  local m = nn.Sequential { nn.Dense(2) }
  m:predict(tensor.zeros(1, 3))
  T.raises(function() m:save(fifo) end, { "save", "expected a file path, got " .. fifo .. " (a FIFO)" })
  T.raises(function() tensor.save(tensor.zeros(2), fifo) end, { "save", fifo, "(a FIFO)" })
  local ok, err = require("_plot").write(fifo, "x")
  T.ok(not ok and err:find(fifo .. " (a FIFO)", 1, true), tostring(err))
  T.eq(T.sh("stat -c %F " .. fifo), "fifo\n")
  local dev = T.tmp("null.dev") -- a character device (1,3 is /dev/null), made here: root only
  if T.sh("id -u") == "0\n" and os.execute("mknod " .. dev .. " c 1 3 2>/dev/null") then
    T.raises(function() m:save(dev) end, { "save", "expected a file path, got " .. dev .. " (a device)" })
    T.eq(T.sh("stat -c %F " .. dev), "character special file\n")
  end
  os.execute("ln -s " .. T.tmp("nowhere/x") .. " " .. T.tmp("dangling"))
  T.raises(function() m:save(T.tmp("dangling")) end, { "save", T.tmp("dangling"), "symlink" })
end)

T.test("a FIFO given to tensor.load, nn.load or data.idx is refused, not waited on", function()
  local fifo = T.tmp("read.fifo")
  os.execute("mkfifo " .. fifo)
  for _, c in ipairs({
    { string.format("tensor.load(%q)", fifo), "tensor.load" },
    { string.format("nn.load(%q)", fifo), "nn.load" },
    { string.format("data.idx(%q)", fifo), "idx" },
    { string.format("data.cifar_batches(%q)", fifo), "tar" },
  }) do
    local out, code = child("true", c[1])
    T.ok(code ~= 0 and code ~= 124, c[1] .. " did not fail at once (status " .. code .. "):\n" .. out)
    T.ok(out:find(c[2], 1, true) and out:find(fifo .. " (a FIFO)", 1, true), out)
  end
end)

T.done()
