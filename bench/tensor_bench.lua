-- tensor_bench.lua — nnlab's side of bench_tensor.sh: matmul GFLOP/s and
-- elementwise GB/s, each the median of several timed repetitions.
local clock = nnlab.clock -- monotonic seconds
local reps = tonumber(arg[1]) or 7

local function median(f)
  local ts = {}
  f() -- warm up (page faults, BLAS threads)
  for i = 1, reps do
    local t0 = clock()
    f()
    ts[i] = clock() - t0
  end
  table.sort(ts)
  return ts[(reps + 1) // 2]
end

local function mm(m, k, n)
  local a, b = tensor.randn(m, k), tensor.randn(k, n)
  local inner = math.max(1, math.floor(2e8 / (2 * m * k * n))) -- at least ~0.1 GFLOP per timing
  local t = median(function() for _ = 1, inner do local _ = a:matmul(b) end end)
  print(string.format("matmul %dx%d by %dx%d  %.2f", m, k, k, n, 2 * m * k * n * inner / t / 1e9))
end

mm(1024, 1024, 1024)
mm(64, 3072, 64)
mm(3072, 64, 10)
do -- a transposed view goes to BLAS without a copy
  local a, b = tensor.randn(1024, 1024), tensor.randn(1024, 1024)
  local t = median(function() local _ = a:t():matmul(b) end)
  print(string.format("matmul 1024^3 (A^T view)  %.2f", 2 * 1024 ^ 3 / t / 1e9))
end

local N = 10000000
local x, y = tensor.rand(N), tensor.rand(N)
-- bytes moved: read two operands, write one result
local t = median(function() local _ = x + y end)
print(string.format("add 10M floats  %.2f", 3 * 4 * N / t / 1e9))
local X, r = tensor.rand(10000, 1000), tensor.rand(1000)
t = median(function() local _ = X + r end)
print(string.format("broadcast add 10000x1000 + 1000  %.2f", (2 * 4 * N + 4000) / t / 1e9))
t = median(function() x:add_(y) end)
print(string.format("in-place add_ 10M floats  %.2f", 3 * 4 * N / t / 1e9))
