-- test_full.lua — the real datasets of NNLAB_DATA: sizes, the published
-- label counts, and pixels compared with numpy reading the same files.
-- Prints skip lines when NNLAB_DATA is not set or lacks a dataset.
local T = require "testlib"
local C = require "_data"

local dir = T.data_dir()

local function counts(y, k)
  local c = {}
  for i = 1, k do c[i] = 0 end
  for i = 1, #y do local v = y:get(i); c[v] = c[v] + 1 end
  return c
end

-- A few pixels chosen by numpy; the loaded tensor must agree at each.
local function pixels_match(t, which, script)
  local out = T.python(script)
  local n = 0
  for line in out:gmatch("[^\n]+") do
    local idx, want = {}, nil
    for v in line:gmatch("%d+") do idx[#idx + 1] = tonumber(v) end
    want = table.remove(idx)
    T.eq(t:get(table.unpack(idx)), want, which .. " at " .. table.concat(idx, ","))
    n = n + 1
  end
  T.ok(n >= 8, "numpy gave " .. n .. " pixels")
end

if not dir or not C.stat(dir .. "/mnist/train-images-idx3-ubyte.gz") then
  T.skip("full MNIST", "NNLAB_DATA is not set or has no mnist/ (set NNLAB_DATA=../shared/data)")
else
  local train, test = data.mnist()
  T.test("MNIST has 60,000 / 10,000 images of 28x28 uint8", function()
    T.eq(table.concat(train.X:shape(), "x"), "60000x28x28"); T.eq(train.X.dtype, "uint8")
    T.eq(table.concat(test.X:shape(), "x"), "10000x28x28"); T.eq(#test.y, 10000)
    T.eq(train.classes[1], "0"); T.eq(train.classes[10], "9")
  end)
  T.test("MNIST label counts are the published ones (5,923 zeros in train)", function()
    local want_tr = { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 }
    local want_te = { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }
    local ctr, cte = counts(train.y, 10), counts(test.y, 10)
    for i = 1, 10 do
      T.eq(ctr[i], want_tr[i], "train class " .. (i - 1)); T.eq(cte[i], want_te[i], "test class " .. (i - 1))
    end
  end)
  T.test("MNIST pixels and labels agree with numpy", function()
    local script = [==[
import gzip
d = os.environ['NNLAB_DATA'].split(':')[0] + '/mnist/'
X = np.frombuffer(gzip.open(d + 'train-images-idx3-ubyte.gz').read()[16:], np.uint8).reshape(-1, 28, 28)
rng = np.random.default_rng(1)
for _ in range(12):
    i, r, c = rng.integers(0, 60000), rng.integers(4, 24), rng.integers(4, 24)
    print(i + 1, r + 1, c + 1, X[i, r, c])
print(59999 + 1, 14 + 1, 14 + 1, X[59999, 14, 14])
]==]
    pixels_match(train.X, "train.X", script)
    local y = T.python [==[
import gzip
d = os.environ['NNLAB_DATA'].split(':')[0] + '/mnist/'
y = np.frombuffer(gzip.open(d + 't10k-labels-idx1-ubyte.gz').read()[8:], np.uint8)
print(y[0] + 1, y[9999] + 1)
]==]
    T.eq(y, test.y:get(1) .. " " .. test.y:get(10000) .. "\n")
  end)
end

if not dir or not C.stat(dir .. "/cifar-10-binary.tar.gz") then
  T.skip("full CIFAR-10", "NNLAB_DATA is not set or has no cifar-10-binary.tar.gz")
else
  local train, test = data.cifar10()
  T.test("CIFAR-10 has 50,000 / 10,000 images of 32x32x3 uint8", function()
    T.eq(table.concat(train.X:shape(), "x"), "50000x32x32x3"); T.eq(train.X.dtype, "uint8")
    T.eq(table.concat(test.X:shape(), "x"), "10000x32x32x3")
    T.eq(train.classes[1], "airplane"); T.eq(train.classes[10], "truck")
  end)
  T.test("CIFAR-10 has 5,000 / 1,000 images per class", function()
    local ctr, cte = counts(train.y, 10), counts(test.y, 10)
    for i = 1, 10 do T.eq(ctr[i], 5000, "train " .. i); T.eq(cte[i], 1000, "test " .. i) end
  end)
  T.test("CIFAR-10 pixels and labels agree with numpy reading the tar.gz", function()
    local script = [==[
import tarfile
t = tarfile.open(os.environ['NNLAB_DATA'].split(':')[0] + '/cifar-10-binary.tar.gz')
def batch(k):
    return np.frombuffer(t.extractfile('cifar-10-batches-bin/data_batch_%d.bin' % k).read(), np.uint8).reshape(-1, 3073)
rng = np.random.default_rng(2)
for k in (1, 3, 5):
    r = batch(k)
    for _ in range(4):
        i, h, w, ch = rng.integers(0, 10000), rng.integers(0, 32), rng.integers(0, 32), rng.integers(0, 3)
        print((k - 1) * 10000 + i + 1, h + 1, w + 1, ch + 1, r[i, 1 + ch * 1024 + h * 32 + w])
    print((k - 1) * 10000 + 1, 1, 1, 1, 1000 + r[0, 0] + 1)
]==]
    local out = T.python(script)
    local n = 0
    for line in out:gmatch("[^\n]+") do
      local v = {}
      for x in line:gmatch("%d+") do v[#v + 1] = tonumber(x) end
      if v[5] >= 1000 then
        T.eq(train.y:get(v[1]), v[5] - 1000, "label of row " .. v[1])
      else
        T.eq(train.X:get(v[1], v[2], v[3], v[4]), v[5], "pixel " .. line)
      end
      n = n + 1
    end
    T.eq(n, 15, "numpy lines")
  end)
end

T.done()
