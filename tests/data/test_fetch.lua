-- test_fetch.lua — downloads against a local HTTP server on 127.0.0.1 only:
-- mirrors tried in order, MD5 mismatch rejected and not kept, the .part file
-- renamed on success, the progress bar on a terminal, the message when no
-- mirror answers, automatic download by data.mnist(), and the search path.
local T = require "testlib"
local BIN = os.getenv("NNLAB_BIN")

T.python [==[
import gzip, hashlib, socket
rng = np.random.default_rng(5)
for d in ['www/good', 'www/bad', 'www/good/mnist', 'empty', 'a/mnist', 'b/mnist', 'cwd/data/mnist']:
    os.makedirs(d, exist_ok=True)
good = rng.integers(0, 256, 2_000_000).astype(np.uint8).tobytes()
open('www/good/a.bin', 'wb').write(good)
open('www/bad/a.bin', 'wb').write(good[:-1] + b'\x00')
open('md5s', 'w').write(hashlib.md5(good).hexdigest() + ' ' + hashlib.md5(good[:-1] + b'\x00').hexdigest())
def idx(path, arr, gz=True):
    data = bytes([0, 0, 8, arr.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in arr.shape) + arr.astype('>u1').tobytes()
    (gzip.open if gz else open)(path, 'wb').write(data)
def mnist(folder, ntrain, ntest, gz=True):
    s = '.gz' if gz else ''
    idx(folder + '/train-images-idx3-ubyte' + s, rng.integers(0, 256, (ntrain, 28, 28)), gz)
    idx(folder + '/train-labels-idx1-ubyte' + s, rng.integers(0, 10, ntrain), gz)
    idx(folder + '/t10k-images-idx3-ubyte' + s, rng.integers(0, 256, (ntest, 28, 28)), gz)
    idx(folder + '/t10k-labels-idx1-ubyte' + s, rng.integers(0, 10, ntest), gz)
mnist('www/good/mnist', 5, 3)
mnist('a/mnist', 7, 2)
mnist('b/mnist', 4, 1, gz=False)
mnist('cwd/data/mnist', 6, 6)
for d in ['c/mnist', 'd/mnist', 'f/fashion-mnist']: os.makedirs(d, exist_ok=True)
mnist('c/mnist', 5, 2)
idx('c/mnist/train-labels-idx1-ubyte.gz', rng.integers(0, 10, 4))
mnist('d/mnist', 3, 2)
idx('d/mnist/t10k-labels-idx1-ubyte.gz', np.array([3, 10]))
mnist('f/fashion-mnist', 2, 3)
names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
open('mnist_md5s', 'w').write(' '.join(hashlib.md5(open('www/good/mnist/' + n, 'rb').read()).hexdigest() for n in names))
s = socket.socket(); s.bind(('127.0.0.1', 0)); open('closed_port', 'w').write(str(s.getsockname()[1])); s.close()
]==]

local function readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a"); f:close(); return s
end
local good_md5, bad_md5 = readfile(T.tmp("md5s")):match("(%x+) (%x+)")
local closed = readfile(T.tmp("closed_port"))

-- The local server, stopped at the end (and by itself after 60 s).
local pid = T.sh(string.format("%s %s/tests/data/serve.py %s %s 60 >/dev/null 2>&1 & echo $!",
  T.PY, os.getenv("NNLAB_ROOT"), T.tmp("www"), T.tmp("port"))):match("%d+")
local port
for _ = 1, 100 do
  port = readfile(T.tmp("port"))
  if port then break end
  os.execute("sleep 0.05")
end
assert(port, "the local HTTP server did not start")
local URL = "http://127.0.0.1:" .. port

-- Runs Lua code in a fresh nnlab with the given environment; output, status.
local n = 0
local function run(env, code, prefix)
  n = n + 1
  local path = T.tmp("run" .. n .. ".lua")
  local f = assert(io.open(path, "w")); f:write(code); f:close()
  local vars = { "NNLAB_CACHE=" .. T.tmp("cache" .. n), "NNLAB_DATA=" .. T.tmp("empty"),
    "NNLAB_MIRRORS=http://127.0.0.1:" .. closed }
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. v end
  local cmd = "env " .. table.concat(vars, " ") .. " " .. BIN .. " " .. path
  if prefix then cmd = prefix(cmd) end
  local out, code_ = T.sh(cmd)
  return out, code_, T.tmp("cache" .. n)
end

local TINY = string.format([[
data.sources.tiny = { title = "Tiny", dir = "tiny", files = { { name = "a.bin", md5 = %q } },
  mirrors = { "http://127.0.0.1:%s" } }
]], good_md5, closed)

T.test("fetch falls back to the next mirror after an MD5 mismatch", function()
  local out, code, cache = run({ NNLAB_MIRRORS = string.format("'%s/bad %s/good'", URL, URL) },
    TINY .. "print(data.fetch('tiny'))")
  T.eq(code, 0, out)
  T.ok(out:find(cache .. "/tiny\n", 1, true), out)
  T.ok(out:find("a.bin: 2.0 MB in", 1, true) and out:find("MD5 verified", 1, true), out)
  T.eq(readfile(cache .. "/tiny/a.bin"), readfile(T.tmp("www/good/a.bin")), "downloaded bytes")
  T.eq(readfile(cache .. "/tiny/a.bin.part"), nil, ".part left behind")
end)

T.test("fetch rejects a download whose MD5 differs and keeps nothing", function()
  local out, code, cache = run({ NNLAB_MIRRORS = URL .. "/bad" }, TINY .. "data.fetch('tiny')")
  T.ok(code ~= 0, "expected failure")
  T.ok(out:find("MD5 mismatch (got " .. bad_md5 .. ", expected " .. good_md5 .. ")", 1, true), out)
  T.eq(readfile(cache .. "/tiny/a.bin"), nil, "file kept")
  T.eq(readfile(cache .. "/tiny/a.bin.part"), nil, ".part kept")
end)

T.test("fetch tries mirrors in order past a 404", function()
  local out, code, cache = run({ NNLAB_MIRRORS = string.format("'%s/nothing;%s/good'", URL, URL) },
    TINY .. "data.fetch('tiny')")
  T.eq(code, 0, out)
  T.eq(readfile(cache .. "/tiny/a.bin"), readfile(T.tmp("www/good/a.bin")))
  out = run({ NNLAB_MIRRORS = URL .. "/nothing" }, TINY .. "data.fetch('tiny')")
  T.ok(out:find(URL .. "/nothing/a.bin: ", 1, true) and out:find("404", 1, true), out)
end)

T.test("fetch does not download files already in the cache", function()
  local _, _, cache = run({ NNLAB_MIRRORS = URL .. "/good" }, TINY .. "data.fetch('tiny')")
  local out, code = T.sh(string.format("env NNLAB_CACHE=%s NNLAB_MIRRORS=http://127.0.0.1:%s %s -e %q",
    cache, closed, BIN, TINY .. "print(data.fetch('tiny'))"))
  T.eq(code, 0, out)
  T.eq(out, cache .. "/tiny\n")
end)

T.test("no mirror answering fails fast with one clear message", function()
  local clock = io.popen("date +%s.%N"):read("l")
  local out, code = run({ NNLAB_DATA = T.tmp("a") .. ":" .. T.tmp("b") }, TINY .. "data.fetch('tiny')")
  local secs = tonumber(io.popen("date +%s.%N"):read("l")) - tonumber(clock)
  T.ok(code ~= 0, "expected failure")
  for _, part in ipairs { "Tiny: cannot find or download a.bin.", "Looked in:", T.tmp("a") .. "/tiny",
    T.tmp("b") .. "/tiny", "./data/tiny", "/usr/share/datasets/tiny", "Tried the mirrors:",
    "http://127.0.0.1:" .. closed .. "/a.bin: ", "NNLAB_DATA", "tiny/a.bin" } do
    T.ok(out:find(part, 1, true), "message lacks " .. part .. ":\n" .. out)
  end
  T.ok(secs < 5, "took " .. secs .. " s")
end)

T.test("the progress bar shows on a terminal", function()
  local out, code = run({ NNLAB_MIRRORS = URL .. "/good", TERM = "xterm" }, TINY .. "data.fetch('tiny')",
    function(cmd) return "script -qfec " .. string.format("%q", cmd) .. " /dev/null" end)
  T.eq(code, 0, out)
  T.ok(out:find("\r", 1, true) and out:find("a.bin [========================] 100%", 1, true), out)
  T.ok(out:find("2.0 MB / 2.0 MB", 1, true), out)
end)

T.test("data.mnist downloads what it cannot find, then uses the cache", function()
  local md5s = {}
  for m in readfile(T.tmp("mnist_md5s")):gmatch("%x+") do md5s[#md5s + 1] = m end
  local set = "for i, f in ipairs(data.sources.mnist.files) do f.md5 = ({" ..
    string.format("%q,%q,%q,%q", md5s[1], md5s[2], md5s[3], md5s[4]) .. "})[i] end\n"
  local code_ = set .. "local a, b = data.mnist(); print(#a, #b, a.X.dtype, a.y.dtype, a.classes[10])"
  local out, code, cache = run({ NNLAB_MIRRORS = URL .. "/good/mnist" }, code_)
  T.eq(code, 0, out)
  T.ok(out:find("5\t3\tuint8\tint32\t9\n", 1, true), out)
  T.ok(readfile(cache .. "/mnist/t10k-labels-idx1-ubyte.gz"), "in the cache")
  out, code = T.sh(string.format("env NNLAB_DATA= NNLAB_CACHE=%s NNLAB_MIRRORS=http://127.0.0.1:%s %s -e %q",
    cache, closed, BIN, "local a, b = data.mnist(); print(#a, #b)"))
  T.eq(out, "5\t3\n", "second load from the cache")
end)

T.test("search path: NNLAB_DATA folders in order, raw or gz, then ./data", function()
  local out = run({ NNLAB_DATA = T.tmp("a") .. ":" .. T.tmp("b") }, "local a, b = data.mnist(); print(#a, #b)")
  T.eq(out, "7\t2\n")
  out = run({ NNLAB_DATA = T.tmp("b") .. ":" .. T.tmp("a") }, "local a, b = data.mnist(); print(#a, #b)")
  T.eq(out, "4\t1\n", "raw files of b first")
  out = run({}, "local a, b = data.mnist(); print(#a, #b)",
    function(cmd) return "cd " .. T.tmp("cwd") .. " && " .. cmd end)
  T.eq(out, "6\t6\n", "./data")
  out = run({ NNLAB_DATA = "/x:/y", NNLAB_CACHE = "/c" }, "print(table.concat(data.search_path(), ' '))")
  T.eq(out, "/x /y ./data /c /usr/share/datasets\n")
end)

T.test("data.mnist reports files that do not fit together", function()
  local out, code = run({ NNLAB_DATA = T.tmp("c") }, "data.mnist()")
  T.ok(code ~= 0 and out:find("MNIST: " .. T.tmp("c") .. "/mnist/train-images-idx3-ubyte.gz has 5 images but "
    .. T.tmp("c") .. "/mnist/train-labels-idx1-ubyte.gz has 4 labels", 1, true), out)
  out, code = run({ NNLAB_DATA = T.tmp("d") }, "data.mnist()")
  T.ok(code ~= 0 and out:find(T.tmp("d") .. "/mnist/t10k-labels-idx1-ubyte.gz: label 10 at position 2 out of range (expected 0..9)", 1, true), out)
end)

T.test("data.fashion_mnist reads fashion-mnist/ with the article class names", function()
  local out, code = run({ NNLAB_DATA = T.tmp("f") },
    "local a, b = data.fashion_mnist(); print(#a, #b, a.name, a.classes[1], a.classes[10], #a.classes)")
  T.eq(code, 0, out)
  T.eq(out, "2\t3\tFashion-MNIST train\tT-shirt/top\tAnkle boot\t10\n")
end)

T.test("fetch names the datasets it knows", function()
  T.raises(function() data.fetch("imagenet") end, { "unknown dataset \"imagenet\"", "cifar10", "fashion_mnist", "mnist" })
end)

os.execute("kill " .. pid .. " 2>/dev/null")
T.done()
