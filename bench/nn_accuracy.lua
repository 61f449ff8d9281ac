-- nn_accuracy.lua — trains the course's four reference models (SGD with
-- momentum 0.9, batch 64, 10 epochs, inputs /255) and prints their test
-- accuracy beside the PyTorch figures. Takes about a minute; not part of
-- `make bench` (bench_nn.sh times a few epochs instead). Run by hand:
--   NNLAB_DATA=/path/to/data nnlab [--seed N] bench/nn_accuracy.lua [mnist|cifar]
local which = arg and arg[1]

local function load(name)
  if name == "mnist" then return data.mnist() end
  return data.cifar10()
end

local runs = {
  { "mnist", "linear", 0.01, 92.2 }, { "mnist", "hidden", 0.01, 97.1 },
  { "cifar", "linear", 0.001, 39.3 }, { "cifar", "hidden", 0.005, 46.8 },
}
for _, r in ipairs(runs) do
  if not which or which == r[1] then
    local train, test = load(r[1])
    local layers = { nn.Rescaling(1 / 255), nn.Flatten() }
    if r[2] == "hidden" then layers[#layers + 1] = nn.Dense(64, "relu") end
    layers[#layers + 1] = nn.Dense(10, "softmax")
    local model = nn.Sequential(layers)
    model:compile { optimizer = optim.sgd { lr = r[3], momentum = 0.9 }, loss = "cross_entropy" }
    model:fit(train.X, train.y, { epochs = 10, batch_size = 64, verbose = 0 })
    local acc = model:evaluate(test.X, test.y).accuracy * 100
    print(string.format("%-6s %-7s lr %-6g test accuracy %5.1f%%  (PyTorch %4.1f%%, diff %+.1f)",
      r[1], r[2], r[3], acc, r[4], acc - r[4]))
  end
end
