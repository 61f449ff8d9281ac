-- test_torch_trainer.lua — model:fit against a PyTorch training loop on the
-- same numbers: PyTorch draws the start weights (its nn.Linear default) and
-- the batch order of every epoch, trains Linear-ReLU-Linear with
-- CrossEntropyLoss, and nnlab trains the same model from the same weights on
-- the same batches (shuffle=false on rows reordered by PyTorch's
-- permutation). The uint8 inputs go through Rescaling(1/255); 1,000 rows in
-- batches of 32 leave a last batch of 8. Skipped without python3-torch.
local T = require "testlib"

local EPOCHS, N = 3, 1000

local function case(name, torch_opt, make_opt)
  T.torch_test(name, function()
    local out = T.python(string.format([[
import torch
torch.manual_seed(5)
rng = np.random.default_rng(5)
X = rng.integers(0, 256, size=(%d, 3, 8, 8), dtype=np.uint8)
teacher = rng.standard_normal((192, 10))
y = (X.reshape(len(X), -1).astype(np.float64) / 255 - 0.5) @ teacher
y = y.argmax(1)
np.save("X.npy", X); np.save("y.npy", (y + 1).astype(np.int32))
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 32), torch.nn.ReLU(),
                            torch.nn.Linear(32, 10))
for i, k in ((1, "1"), (3, "2")):
    np.save("W" + k + ".npy", model[i].weight.detach().numpy().T.copy())
    np.save("b" + k + ".npy", model[i].bias.detach().numpy())
params = model.parameters()
opt = %s
lf = torch.nn.CrossEntropyLoss()
Xt, yt = torch.tensor(X, dtype=torch.float32) / 255, torch.tensor(y)
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
np.save("W1_end.npy", model[1].weight.detach().numpy().T.copy())
np.save("b2_end.npy", model[3].bias.detach().numpy())
]], N, torch_opt, EPOCHS))
    local torch_losses = {}
    for v in out:gmatch("%S+") do torch_losses[#torch_losses + 1] = tonumber(v) end
    T.eq(#torch_losses, EPOCHS, "PyTorch printed one loss per epoch")

    local X, y = tensor.load(T.tmp("X.npy")), tensor.load(T.tmp("y.npy"))
    local m = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten(), nn.Dense(32, "relu"),
      nn.Dense(10, "softmax") }
    m:compile { optimizer = make_opt(), loss = "cross_entropy" }
    m:forward(X:narrow(1, 1, 1))
    m.layers[3].W = tensor.load(T.tmp("W1.npy")); m.layers[3].b = tensor.load(T.tmp("b1.npy"))
    m.layers[4].W = tensor.load(T.tmp("W2.npy")); m.layers[4].b = tensor.load(T.tmp("b2.npy"))
    for e = 1, EPOCHS do
      local p = tensor.load(T.tmp("perm" .. e .. ".npy"))
      local h = m:fit(X:index(p), y:index(p), { epochs = 1, batch_size = 32, shuffle = false, verbose = 0 })
      T.near(h.loss[1], torch_losses[e], 1e-5, "epoch " .. e .. " loss")
    end
    T.ok(torch_losses[EPOCHS] < torch_losses[1], "the loss falls (the case trains)")
    local dW = m.layers[3].W:sub(tensor.load(T.tmp("W1_end.npy"))):abs():max()
    local db = m.layers[4].b:sub(tensor.load(T.tmp("b2_end.npy"))):abs():max()
    T.ok(dW < 1e-5 and db < 1e-5,
      string.format("weights after %d epochs differ from PyTorch's by %g (W1), %g (b2)", EPOCHS, dW, db))
  end)
end

case("fit with SGD momentum 0.9 follows PyTorch epoch by epoch",
  "torch.optim.SGD(params, lr=0.05, momentum=0.9)",
  function() return optim.sgd { lr = 0.05, momentum = 0.9 } end)
case("fit with SGD Nesterov and weight decay follows PyTorch",
  "torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)",
  function() return optim.sgd { lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 1e-3 } end)
case("fit with SGD momentum 0.9 and weight decay follows PyTorch (the velocity takes the gradient in the product)",
  "torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3)",
  function() return optim.sgd { lr = 0.05, momentum = 0.9, weight_decay = 1e-3 } end)
case("fit with Adam follows PyTorch",
  "torch.optim.Adam(params, lr=0.002)",
  function() return optim.adam { lr = 0.002 } end)

T.done()
