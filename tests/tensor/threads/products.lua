-- products.lua — run by test_threads.sh under --threads 1, 2 and 3: the
-- splits nnlab makes of mid-sized products (by rows, by columns, and along
-- the inner dimension with the partial products added afterwards), the
-- column-split minibatch gather (sample- and feature-major) and the
-- range-split optimizer update, each against an independent reference. Inputs and references are exchanged
-- with numpy as .npy files.
local T = require "testlib"
local threads = nnlab.options.threads
tensor.seed(11)

local function close(got, want, tol, what)
  T.eq(table.concat(got:shape(), "x"), table.concat(want:shape(), "x"), what .. " shape")
  local err = ((got - want):abs() / (want:abs() + 1)):max()
  if not (err <= tol) then error(string.format("%s: max relative difference %g > %g", what, err, tol), 2) end
end

-- op(A)·op(B) for each shape: {name, M, N, K, transpose A, transpose B};
-- every one has between 1 and 16 million multiply-adds, the split range
local cases = {
  { "rows: 3072x64 = 64x3072' . 64x64 (the weight gradient)", 3072, 64, 64, true, false },
  { "columns: 64x3072 = 64x64 . 64x3072", 64, 3072, 64, false, false },
  { "depth: 64x64 = 64x3072 . 3072x64 (the forward)", 64, 64, 3072, false, false },
  { "depth, both transposed, odd sizes: 37x50 from K = 2999", 37, 50, 2999, true, true },
  { "depth, uneven share: 20x20 from K = 2600", 20, 20, 2600, false, true },
  { "rows, odd: 1001x33 from K = 97", 1001, 33, 97, false, true },
}
for i, c in ipairs(cases) do
  local _, M, N, K, ta, tb = table.unpack(c)
  local A = ta and tensor.randn(K, M) or tensor.randn(M, K)
  local B = tb and tensor.randn(N, K) or tensor.randn(K, N)
  tensor.save(A, T.tmp("A" .. i .. ".npy"))
  tensor.save(B, T.tmp("B" .. i .. ".npy"))
end
T.python(string.format([[
for i, ta, tb in %s:
    A = np.load("A%%d.npy" %% i).astype(np.float64); B = np.load("B%%d.npy" %% i).astype(np.float64)
    np.save("C%%d.npy" %% i, ((A.T if ta else A) @ (B.T if tb else B)).astype(np.float32))
]], (function()
  local t = {}
  for i, c in ipairs(cases) do t[i] = string.format("(%d, %s, %s)", i, c[5] and "True" or "False", c[6] and "True" or "False") end
  return "[" .. table.concat(t, ", ") .. "]"
end)()))
for i, c in ipairs(cases) do
  T.test(string.format("%d thread(s), %s, against numpy in float64", threads, c[1]), function()
    local A, B = tensor.load(T.tmp("A" .. i .. ".npy")), tensor.load(T.tmp("B" .. i .. ".npy"))
    local C = (c[5] and A:t() or A):matmul(c[6] and B:t() or B)
    close(C, tensor.load(T.tmp("C" .. i .. ".npy")), 1e-4, c[1])
  end)
end

-- oneDNN's matmul primitive (products with neither operand transposed) is
-- kept per shape in a table of 64: 70 more shapes replace the oldest, and
-- then the threads of a split product, whose blocks are shapes the full
-- table lacks, replace entries that no thread is running, inside the
-- parallel region.
T.test(string.format("%d thread(s): 70 shapes past the table of kept products, then a split one, equal numpy's", threads), function()
  for m = 1, 70 do
    tensor.save(tensor.randn(m + 2, 7), T.tmp("sA" .. m .. ".npy"))
    tensor.save(tensor.randn(7, 5), T.tmp("sB" .. m .. ".npy"))
  end
  tensor.save(tensor.randn(1003, 97), T.tmp("bigA.npy"))
  tensor.save(tensor.randn(97, 33), T.tmp("bigB.npy"))
  T.python([[
for m in range(1, 71):
    np.save("sC%d.npy" % m, (np.load("sA%d.npy" % m).astype(np.float64) @ np.load("sB%d.npy" % m)).astype(np.float32))
np.save("bigC.npy", (np.load("bigA.npy").astype(np.float64) @ np.load("bigB.npy")).astype(np.float32))
]])
  for m = 1, 70 do
    local C = tensor.load(T.tmp("sA" .. m .. ".npy")):matmul(tensor.load(T.tmp("sB" .. m .. ".npy")))
    close(C, tensor.load(T.tmp("sC" .. m .. ".npy")), 1e-5, "shape " .. m)
  end
  local C = tensor.load(T.tmp("bigA.npy")):matmul(tensor.load(T.tmp("bigB.npy")))
  close(C, tensor.load(T.tmp("bigC.npy")), 1e-4, "1003x33 from K = 97")
end)

T.test(string.format("%d thread(s): the gather of 64 rows of 3072 bytes, rescaled, is x / 255", threads), function()
  local X = (tensor.rand(64, 3072) * 255.99):uint8()
  local model = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten() }
  local acts = model:activations(X)
  local want = X:float() * (1 / 255)
  T.eq(((acts[#acts] - want):abs()):max(), 0, "largest difference")
end)

-- One training step over the whole (shuffled) batch against numpy: the
-- first Dense layer of a training step takes its batch feature-major on a
-- processor with AVX2 (uint8 rows, at least 16), gathered 16 rows × 32
-- features at a time; these shapes leave rows (33, 20) and features (784,
-- 40) over, and the large ones are split over the threads.
local steps = { { 64, 3072, 1 / 255, 0 }, { 33, 3072, 1 / 127.5, -1 }, { 20, 784, 1 / 255, 0 },
  { 16, 40, 1 / 255, 0.5 } }
for i, c in ipairs(steps) do
  local n, F, scale, offset = table.unpack(c)
  T.test(string.format("%d thread(s): one SGD step on %d uint8 rows of %d (x * %.4g + %g) equals numpy's",
    threads, n, F, scale, offset), function()
    tensor.seed(20 + i)
    local X = (tensor.rand(n, F) * 255.99):uint8()
    local y = (tensor.rand(n) * 9.99 + 1):int()
    local model = nn.Sequential { nn.Rescaling(scale, offset), nn.Flatten(), nn.Dense(24, "relu"),
      nn.Dense(10, "softmax") }
    model:compile { optimizer = optim.sgd { lr = 0.5 }, loss = "cross_entropy" }
    model:forward(X:narrow(1, 1, 1))
    local W1, b1 = tensor.randn(F, 24) * 0.05, tensor.randn(24) * 0.1
    local W2, b2 = tensor.randn(24, 10) * 0.3, tensor.randn(10) * 0.1
    model.layers[3].W, model.layers[3].b, model.layers[4].W, model.layers[4].b = W1, b1, W2, b2
    for name, t in pairs { X = X, y = y, W1 = W1, b1 = b1, W2 = W2, b2 = b2 } do tensor.save(t, T.tmp(name .. ".npy")) end
    T.python(string.format([[
X = np.load("X.npy").astype(np.float64) * %.17g + %.17g; y = np.load("y.npy") - 1
W1, b1, W2, b2 = (np.load(k + ".npy").astype(np.float64) for k in ("W1", "b1", "W2", "b2"))
z1 = X @ W1 + b1; h = np.maximum(z1, 0); z2 = h @ W2 + b2
p = np.exp(z2 - z2.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
d2 = p.copy(); d2[np.arange(len(y)), y] -= 1; d2 /= len(y)
d1 = (d2 @ W2.T) * (z1 > 0)
for k, v in (("W1", W1 - 0.5 * X.T @ d1), ("b1", b1 - 0.5 * d1.sum(0)), ("W2", W2 - 0.5 * h.T @ d2)):
    np.save(k + "_want.npy", v.astype(np.float32))
]], scale, offset))
    model:fit(X, y, { epochs = 1, batch_size = n, verbose = 0 })
    close(model.layers[3].W, tensor.load(T.tmp("W1_want.npy")), 1e-5, "W1")
    close(model.layers[3].b, tensor.load(T.tmp("b1_want.npy")), 1e-5, "b1")
    close(model.layers[4].W, tensor.load(T.tmp("W2_want.npy")), 1e-5, "W2")
  end)
end

-- The feature-major gather (uint8 rows) against the sample-major one
-- (the same values as float32): the converted values are the same floats,
-- and the weights after an epoch differ only by the last bits that the
-- two layouts' matrix kernels round differently (a wrong value in the
-- gather moves them by 1e-4 or more). Batches of 16, 17, 33 and 64 rows and
-- 40, 784 and 3077 features leave rows and features over the groups of
-- 16 × 32.
T.test(string.format("%d thread(s): uint8 rows gathered feature-major train as their float32 copy", threads), function()
  for _, B in ipairs { 16, 17, 33, 64 } do
    for _, F in ipairs { 40, 784, 3077 } do
      tensor.seed(B * F)
      local X = (tensor.rand(2 * B + 3, F) * 255.99):uint8()
      local y = (tensor.rand(2 * B + 3) * 9.99 + 1):int()
      local W = {}
      for k, input in ipairs { X, X:float() } do
        tensor.seed(1)
        local model = nn.Sequential { nn.Rescaling(1 / 255), nn.Dense(8, "relu"), nn.Dense(10, "softmax") }
        model:compile { optimizer = optim.sgd { lr = 0.1, momentum = 0.9 }, loss = "cross_entropy" }
        tensor.seed(2)
        model:fit(input, y, { epochs = 1, batch_size = B, verbose = 0 })
        W[k] = model.layers[2].W
      end
      local d = (W[1] - W[2]):abs():max()
      T.ok(d < 1e-6, string.format("largest difference, batch %d, %d features: %g", B, F, d))
    end
  end
end)

-- One epoch of a 3072 -> 64 -> 10 model on shuffled uint8 rows: the
-- gather with a permutation and the update of the 196,608 weights run split
-- over the threads; the weights are written for test_threads.sh to compare
-- across thread counts (one thread runs every part unsplit).
T.test(string.format("%d thread(s): one epoch of 3072-64-10 runs and its weights are written", threads), function()
  tensor.seed(3)
  local X = (tensor.rand(640, 3072) * 255.99):uint8()
  local y = (tensor.rand(640) * 9.99 + 1):int()
  local model = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten(), nn.Dense(64, "relu"), nn.Dense(10, "softmax") }
  model:compile { optimizer = optim.sgd { lr = 0.01, momentum = 0.9 }, loss = "cross_entropy" }
  local h = model:fit(X, y, { epochs = 2, batch_size = 64, verbose = 0 })
  T.ok(h.loss[2] == h.loss[2], "finite loss")
  tensor.save(model.layers[3].W, os.getenv("OUT") .. "/W.npy")
end)
T.done()
