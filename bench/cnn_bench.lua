-- cnn_bench.lua — the nnlab side of bench_cnn.sh: lesson 04's network
-- (flips and shifts of up to 2 pixels, three blocks of Conv2D 5x5 "same"
-- with 16, 20, 20 filters + BatchNormalization + ReLU + MaxPool2D 2, then
-- 320 -> 10 softmax), trained on CIFAR-10 with SGD (Nesterov momentum 0.9,
-- weight decay 5e-4), batch 64, as cnn_recipe_torch.py --bn does. Prints
--   nnlab cnn epochs=<s1,s2,...> accuracy=<test> peak_rss_mb=<VmHWM>
-- Usage: nnlab cnn_bench.lua [epochs [subset]]
local epochs = tonumber(arg[1] or "2")
local subset = tonumber(arg[2] or "0")
local train, test = data.cifar10()
if subset > 0 then train = data.subset(train, subset) end
local layers = { nn.Rescaling(1 / 255), nn.RandomFlip("horizontal"), nn.RandomTranslation(2 / 32, 2 / 32) }
for _, f in ipairs({ 16, 20, 20 }) do
  layers[#layers + 1] = nn.Conv2D(f, 5, { padding = "same" })
  layers[#layers + 1] = nn.BatchNormalization()
  layers[#layers + 1] = nn.ReLU()
  layers[#layers + 1] = nn.MaxPool2D(2)
end
layers[#layers + 1] = nn.Flatten()
layers[#layers + 1] = nn.Dense(10, "softmax")
local model = nn.Sequential(layers)
model:compile { optimizer = optim.sgd { lr = 0.02, momentum = 0.9, nesterov = true, weight_decay = 5e-4 },
  loss = "cross_entropy" }
local h = model:fit(train.X, train.y, { epochs = epochs, batch_size = 64, verbose = 0 })
local s = {}
for e, v in ipairs(h.seconds) do s[e] = string.format("%.3f", v) end
local rss = 0
for line in io.lines("/proc/self/status") do
  rss = tonumber(line:match("^VmHWM:%s*(%d+)")) or rss
end
print(string.format("nnlab cnn epochs=%s accuracy=%.4f peak_rss_mb=%.0f", table.concat(s, ","),
  model:evaluate(test.X, test.y).accuracy, rss / 1024))
