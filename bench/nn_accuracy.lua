-- nn_accuracy.lua — trains the course's four reference models (SGD with
-- momentum 0.9, batch 64, 10 epochs, inputs /255) and prints their test
-- accuracy beside the PyTorch figures, once per Dense initialisation and
-- seed, then the mean and range over the seeds. The PyTorch figures come from
-- one run with its nn.Linear default, which init "torch" reproduces; nnlab's
-- default is Keras's glorot_uniform. A single run moves by about a point from
-- seed to seed, so compare means. About 20 s per seed and init with 2
-- threads; not part of `make bench` (bench_nn.sh times a few epochs instead).
-- Run by hand:
--   NNLAB_DATA=/path/to/data nnlab bench/nn_accuracy.lua [mnist|cifar]
--       [--seeds N] [--init glorot_uniform,torch]
-- Seeds are 1..N (default 3).
local which, nseeds, inits = nil, 3, { "glorot_uniform", "torch" }
local i = 1
while arg and arg[i] do
  local a = arg[i]
  if a == "--seeds" then
    nseeds = math.tointeger(tonumber(arg[i + 1]))
    assert(nseeds and nseeds >= 1, "--seeds wants a positive integer")
    i = i + 1
  elseif a == "--init" then
    inits = {}
    for name in (arg[i + 1] or ""):gmatch("[^,]+") do inits[#inits + 1] = name end
    i = i + 1
  elseif a == "mnist" or a == "cifar" then
    which = a
  else
    error("nn_accuracy.lua: unknown argument '" .. a .. "' (expected mnist, cifar, --seeds N, --init LIST)")
  end
  i = i + 1
end

local runs = {
  { "mnist", "linear", 0.01, 92.2 }, { "mnist", "hidden", 0.01, 97.1 },
  { "cifar", "linear", 0.001, 39.3 }, { "cifar", "hidden", 0.005, 46.8 },
}
local loaded = {}
local function load(name)
  if not loaded[name] then
    local train, test = (name == "mnist" and data.mnist or data.cifar10)()
    loaded[name] = { train, test }
  end
  return table.unpack(loaded[name])
end

local summary = {}
for _, r in ipairs(runs) do
  if not which or which == r[1] then
    local train, test = load(r[1])
    for _, init in ipairs(inits) do
      local accs = {}
      for seed = 1, nseeds do
        tensor.seed(seed)
        local layers = { nn.Rescaling(1 / 255), nn.Flatten() }
        if r[2] == "hidden" then layers[#layers + 1] = nn.Dense(64, "relu", { init = init }) end
        layers[#layers + 1] = nn.Dense(10, "softmax", { init = init })
        local model = nn.Sequential(layers)
        model:compile { optimizer = optim.sgd { lr = r[3], momentum = 0.9 }, loss = "cross_entropy" }
        model:fit(train.X, train.y, { epochs = 10, batch_size = 64, verbose = 0 })
        accs[seed] = model:evaluate(test.X, test.y).accuracy * 100
        print(string.format("%-6s %-7s lr %-6g init %-15s seed %d  test accuracy %5.2f%%",
          r[1], r[2], r[3], init, seed, accs[seed]))
        io.stdout:flush()
      end
      local sum, lo, hi = 0, math.huge, -math.huge
      for _, a in ipairs(accs) do sum, lo, hi = sum + a, math.min(lo, a), math.max(hi, a) end
      local mean = sum / #accs
      summary[#summary + 1] = string.format(
        "%-6s %-7s init %-15s mean %5.2f%% over %d seeds (%5.2f..%5.2f)  PyTorch %4.1f%%  diff %+.2f",
        r[1], r[2], init, mean, #accs, lo, hi, r[4], mean - r[4])
    end
  end
end
print()
for _, line in ipairs(summary) do print(line) end
