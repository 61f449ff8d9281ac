-- test_fetch_safety.lua — downloads against a hostile local server
-- (serve_hostile.py, 127.0.0.1 only): a size claim over the known size fails
-- at once, an endless stream stops at the cap, redirects to ftp:// or
-- file:// are refused, and two processes downloading the same file (one of
-- them interrupted) leave the complete, verified file and nothing else.
local T = require "testlib"
local BIN = os.getenv("NNLAB_BIN")

T.python [==[
rng = np.random.default_rng(9)
os.makedirs('www', exist_ok=True)
good = rng.integers(0, 256, 2_000_000).astype(np.uint8).tobytes()
open('www/a.bin', 'wb').write(good)
import hashlib
open('md5', 'w').write(hashlib.md5(good).hexdigest())
]==]

local function readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local pid = T.sh(string.format("%s %s/tests/data/serve_hostile.py %s %s 90 >/dev/null 2>&1 & echo $!",
  T.PY, os.getenv("NNLAB_ROOT"), T.tmp("www"), T.tmp("port"))):match("%d+")
local port
for _ = 1, 100 do
  port = readfile(T.tmp("port"))
  if port then break end
  os.execute("sleep 0.05")
end
assert(port, "the local HTTP server did not start")
local URL = "http://127.0.0.1:" .. port
local MD5 = readfile(T.tmp("md5"))

local function source(kind)
  return string.format([[
data.sources.tiny = { title = "Tiny", dir = "tiny",
  files = { { name = "a.bin", md5 = %q, size = 2000000 } }, mirrors = { %q } }
]], MD5, URL .. "/" .. kind)
end

-- Runs code in a fresh nnlab with its own cache; output, status, cache, seconds.
local n = 0
local function run(code, background)
  n = n + 1
  local path = T.tmp("run" .. n .. ".lua")
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local cache = T.tmp("cache")
  local cmd = string.format("env NNLAB_CACHE=%s NNLAB_DATA=%s NNLAB_MIRRORS= timeout 60 %s %s",
    cache, T.tmp("none"), BIN, path)
  if background then
    return T.sh(string.format("(exec %s >%s 2>&1) & echo $!", cmd:gsub("timeout 60 ", ""), T.tmp("out" .. n))):match("%d+"),
      T.tmp("out" .. n)
  end
  local t0 = nnlab.clock()
  local out, code = T.sh(cmd .. " 2>&1")
  return out, code, cache, nnlab.clock() - t0
end

local function nothing_kept()
  T.eq(T.sh("ls -A " .. T.tmp("cache/tiny") .. " 2>/dev/null"), "", "files left in the cache")
end

T.test("a Content-Length over the known size fails at once", function()
  local out, code, _, secs = run(source("huge") .. "data.fetch('tiny')")
  T.ok(code ~= 0 and out:find("more than the expected 2000000 bytes", 1, true), out)
  T.ok(secs < 10, "took " .. secs .. " s")
  nothing_kept()
end)

T.test("an endless stream stops at the known size", function()
  local out, code, _, secs = run(source("endless") .. "data.fetch('tiny')")
  T.ok(code ~= 0 and out:find("more than the expected 2000000 bytes", 1, true), out)
  T.ok(secs < 20, "took " .. secs .. " s")
  nothing_kept()
end)

T.test("without a known size the cap is 1 GB", function()
  local out, code = run(source("huge"):gsub(", size = 2000000", "") .. "data.fetch('tiny')")
  T.ok(code ~= 0 and out:find("more than the expected 1000000000 bytes", 1, true), out)
  nothing_kept()
end)

T.test("redirects to ftp:// or file:// are refused", function()
  for _, kind in ipairs({ "ftp", "file" }) do
    local out, code = run(source(kind) .. "data.fetch('tiny')")
    T.ok(code ~= 0 and out:find(URL .. "/" .. kind .. "/a.bin: ", 1, true), out)
    T.ok(out:lower():find("protocol", 1, true), out)
    nothing_kept()
  end
  local out, code = run(source("x"):gsub("http://", "ftp://") .. "data.fetch('tiny')")
  T.ok(code ~= 0 and out:lower():find("protocol", 1, true), out)
end)

T.test("two processes, one interrupted: the other keeps the whole verified file", function()
  os.execute("rm -rf " .. T.tmp("cache"))
  local code = source("slow") .. "print(data.fetch('tiny'))"
  local a = run(code, true)
  os.execute("sleep 0.4")
  local b, bout = run(code, true)
  os.execute("sleep 0.4")
  os.execute("kill -INT " .. a)
  T.sh(string.format("while kill -0 %s 2>/dev/null; do sleep 0.1; done", b))
  local out = readfile(bout)
  T.ok(out:find("MD5 verified", 1, true), out)
  T.eq(readfile(T.tmp("cache/tiny/a.bin")), readfile(T.tmp("www/a.bin")), "the kept file")
  T.eq(T.sh("ls -A " .. T.tmp("cache/tiny")), "a.bin\n", "only the file")
end)

os.execute("kill " .. pid .. " 2>/dev/null")
T.done()
