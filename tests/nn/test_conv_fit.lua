-- test_conv_fit.lua — model:fit of a small convolutional network against a
-- PyTorch training loop on the same numbers: PyTorch draws the start
-- weights (its Conv2d and Linear defaults) and the batch order of each
-- epoch, trains Conv2D(3x3, same) + ReLU + MaxPool(2) + Flatten + Linear
-- with CrossEntropyLoss and SGD with momentum, and nnlab trains the same
-- network from the same weights on the same batches (shuffle=false on rows
-- reordered by PyTorch's permutation). The images are 8×8×3 uint8 through
-- Rescaling(1/255); 200 rows in batches of 32 leave a last batch of 8 (a
-- second convolution plan). PyTorch flattens channels-first, so its Linear
-- reads the pooled maps permuted to channels-last, as nnlab's Flatten does.
-- Skipped without python3-torch.
local T = require "testlib"

local EPOCHS, N = 2, 200

T.torch_test("fit of Conv2D-MaxPool-Dense follows PyTorch epoch by epoch", function()
  local out = T.python(string.format([[
import torch
torch.manual_seed(11)
torch.set_num_threads(1)
rng = np.random.default_rng(11)
X = rng.integers(0, 256, size=(%d, 8, 8, 3), dtype=np.uint8)
teacher = rng.standard_normal((192, 10))
y = ((X.reshape(len(X), -1).astype(np.float64) / 255 - 0.5) @ teacher).argmax(1)
np.save("X.npy", X); np.save("y.npy", (y + 1).astype(np.int32))
conv = torch.nn.Conv2d(3, 6, 3, padding=1)
dense = torch.nn.Linear(4 * 4 * 6, 10)
np.save("Wc.npy", conv.weight.detach().permute(2, 3, 1, 0).numpy().copy())
np.save("bc.npy", conv.bias.detach().numpy())
np.save("Wd.npy", dense.weight.detach().numpy().T.copy())
np.save("bd.npy", dense.bias.detach().numpy())
def model(x):
    h = torch.nn.functional.max_pool2d(torch.relu(conv(x)), 2)
    return dense(h.permute(0, 2, 3, 1).flatten(1))
opt = torch.optim.SGD(list(conv.parameters()) + list(dense.parameters()), lr=0.05, momentum=0.9)
lf = torch.nn.CrossEntropyLoss()
Xt = torch.tensor(X, dtype=torch.float32).permute(0, 3, 1, 2) / 255
yt = torch.tensor(y)
for e in range(%d):
    perm = torch.randperm(len(X))
    np.save("perm%%d.npy" %% (e + 1), (perm.numpy() + 1).astype(np.int32))
    total = 0.0
    for i in range(0, len(X), 32):
        b = perm[i:i + 32]
        opt.zero_grad()
        loss = lf(model(Xt[b]), yt[b])
        loss.backward()
        opt.step()
        total += loss.item() * len(b)
    print(total / len(X))
np.save("Wc_end.npy", conv.weight.detach().permute(2, 3, 1, 0).numpy().copy())
]], N, EPOCHS))
  local torch_losses = {}
  for v in out:gmatch("%S+") do torch_losses[#torch_losses + 1] = tonumber(v) end
  T.eq(#torch_losses, EPOCHS, "PyTorch printed one loss per epoch")

  local X, y = tensor.load(T.tmp("X.npy")), tensor.load(T.tmp("y.npy"))
  local m = nn.Sequential { nn.Rescaling(1 / 255), nn.Conv2D(6, 3, "relu", { padding = "same" }),
    nn.MaxPool2D(2), nn.Flatten(), nn.Dense(10, "softmax") }
  m:compile { optimizer = optim.sgd { lr = 0.05, momentum = 0.9 }, loss = "cross_entropy" }
  m:forward(X:narrow(1, 1, 1))
  m.layers[2].W = tensor.load(T.tmp("Wc.npy")); m.layers[2].b = tensor.load(T.tmp("bc.npy"))
  m.layers[5].W = tensor.load(T.tmp("Wd.npy")); m.layers[5].b = tensor.load(T.tmp("bd.npy"))
  for e = 1, EPOCHS do
    local p = tensor.load(T.tmp("perm" .. e .. ".npy"))
    local h = m:fit(X:index(p), y:index(p), { epochs = 1, batch_size = 32, shuffle = false, verbose = 0 })
    T.near(h.loss[1], torch_losses[e], 1e-4 * math.abs(torch_losses[e]), "epoch " .. e .. " loss")
  end
  local dW = m.layers[2].W:sub(tensor.load(T.tmp("Wc_end.npy"))):abs():max()
  T.ok(dW < 1e-4, string.format("conv weights after %d epochs differ from PyTorch's by %g", EPOCHS, dW))
  T.ok(m.layers[2].W:sub(tensor.load(T.tmp("Wc.npy"))):abs():max() > 1e-3,
    "the convolution's weights moved (the case trains them)")
end)

T.done()
