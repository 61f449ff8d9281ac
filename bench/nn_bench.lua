-- nn_bench.lua — the nnlab side of bench_nn.sh: the same runs as
-- nn_torch.py, one line each, with every epoch's wall time from fit:
--   nnlab <dataset> <model> epochs=<s1,s2,...> fit_seconds=<total> flops=<per epoch> accuracy=<test>
-- Usage: nnlab nn_bench.lua dataset:model:lr:epochs ...
local cache = {}
for i = 1, #arg do
  local name, kind, lr, epochs = arg[i]:match("(%w+):(%w+):([%d.]+):(%d+)")
  cache[name] = cache[name] or { (name == "mnist" and data.mnist or data.cifar10)() }
  local train, test = cache[name][1], cache[name][2]
  local layers = { nn.Rescaling(1 / 255), nn.Flatten() }
  if kind == "hidden" then layers[#layers + 1] = nn.Dense(64, "relu") end
  layers[#layers + 1] = nn.Dense(10, "softmax")
  local model = nn.Sequential(layers)
  model:compile { optimizer = optim.sgd { lr = tonumber(lr), momentum = 0.9 }, loss = "cross_entropy" }
  local t0 = nnlab.clock()
  local h = model:fit(train.X, train.y, { epochs = tonumber(epochs), batch_size = 64, verbose = 0 })
  local fit_seconds = nnlab.clock() - t0
  local s = {}
  for e, v in ipairs(h.seconds) do s[e] = string.format("%.3f", v) end
  -- multiply-adds per sample: forward x·W, backward xᵀ·dz, and dz·Wᵀ for
  -- every Dense but the first (its input gradient is never needed)
  local flops, first = 0, true
  for _, l in ipairs(model.layers) do
    if l.W then
      flops = flops + 2 * l.W:numel() * (first and 2 or 3)
      first = false
    end
  end
  print(string.format("nnlab %s %s epochs=%s fit_seconds=%.3f flops=%.0f accuracy=%.4f", name, kind,
    table.concat(s, ","), fit_seconds, flops * train.X:size(1), model:evaluate(test.X, test.y).accuracy))
end
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s*(%d+)")
  if kb then print(string.format("nnlab_peak_rss_mb=%.0f", kb / 1024)) end
end
