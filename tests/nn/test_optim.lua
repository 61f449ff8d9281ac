-- test_optim.lua — SGD (plain, momentum, Nesterov, weight decay) and Adam
-- updates against steps computed by hand, and against torch.optim on the
-- same numbers when Debian's python3-torch is installed.
local T = require "testlib"

-- One Dense(1) unit with W = (0.5, -0.5), b = 0 and input x = (1, 2): with
-- grad_output 1, backward gives dW = xᵀ = (1, 2) and db = 1 on every step
-- (the layer is linear, so the gradients do not depend on W).
local function setup()
  local m = nn.Sequential { nn.Dense(1) }
  local x = tensor.new { { 1, 2 } }
  m:forward(x)
  m.layers[1].W = tensor.new { { 0.5 }, { -0.5 } }
  m.layers[1].b = tensor.new { 0 }
  return m, x
end

local function steps(opt, n)
  local m, x = setup()
  for _ = 1, n do
    m:forward(x)
    m:backward(x, tensor.new { { 1 } })
    opt:step(m)
  end
  local l = m.layers[1]
  return l.W:get(1, 1), l.W:get(2, 1), l.b:get(1)
end

T.test("sgd: p -= lr*g", function()
  local w1, w2, b = steps(optim.sgd { lr = 0.1 }, 1)
  T.near(w1, 0.4, 1e-6); T.near(w2, -0.7, 1e-6); T.near(b, -0.1, 1e-6)
end)

T.test("sgd momentum: v = mu*v + g (two steps: g, then 1.9g)", function()
  local w1, w2, b = steps(optim.sgd { lr = 0.1, momentum = 0.9 }, 2)
  T.near(w1, 0.5 - 0.1 - 0.19, 1e-6); T.near(w2, -0.5 - 0.2 - 0.38, 1e-6); T.near(b, -0.29, 1e-6)
end)

T.test("sgd nesterov: p -= lr*(g + mu*v) (1.9g, then 2.71g)", function()
  local w1, _, b = steps(optim.sgd { lr = 0.1, momentum = 0.9, nesterov = true }, 2)
  T.near(w1, 0.5 - 0.19 - 0.271, 1e-6); T.near(b, -0.19 - 0.271, 1e-6)
end)

T.test("sgd weight decay: g + wd*p", function()
  local w1, w2, b = steps(optim.sgd { lr = 0.1, weight_decay = 0.1 }, 1)
  T.near(w1, 0.5 - 0.1 * (1 + 0.05), 1e-6); T.near(w2, -0.5 - 0.1 * (2 - 0.05), 1e-6)
  T.near(b, -0.1, 1e-6)
end)

T.test("adam: bias-corrected steps of size lr*sign(g) for a constant gradient", function()
  -- m̂ = g and v̂ = g² at every step when g is constant, so p -= lr·g/(|g|+ε)
  local w1, w2, b = steps(optim.adam { lr = 0.01 }, 3)
  T.near(w1, 0.5 - 0.03, 1e-5); T.near(w2, -0.5 - 0.03, 1e-5); T.near(b, -0.03, 1e-5)
  local opt = optim.adam { lr = 0.01 }
  steps(opt, 2)
  T.eq(opt.steps, 2, "step count")
end)

T.test("optimizer.lr can be changed; other fields are read-only", function()
  local o = optim.sgd { lr = 0.1 }
  o.lr = 0.05
  T.eq(o.lr, 0.05)
  T.raises(function() o.momentum = 1 end, { "cannot set field 'momentum'" })
  T.raises(function() o.lr = -1 end, { "lr must be positive", "-1" })
end)

T.test("unknown and bad optimizer options are rejected by name", function()
  T.raises(function() optim.sgd { lr = 0.1, momentun = 0.9 } end, { "optim.sgd", "unknown option 'momentun'" })
  T.raises(function() optim.adam { betas = 0.9 } end, { "optim.adam", "unknown option 'betas'" })
  T.raises(function() optim.sgd { lr = -1 } end, { "lr must be > 0", "-1" })
  T.raises(function() optim.sgd { lr = "x" } end, { "lr must be a number", "string" })
  T.raises(function() optim.sgd { nesterov = true } end, { "nesterov needs a momentum" })
  T.raises(function() optim.adam { beta1 = 1 } end, { "beta1 must be in [0, 1)" })
end)

-- Three steps on a 2-layer model with MSE against torch.optim.
local function torch_case(name, make, torch_opt)
  T.torch_test(name, function()
    tensor.seed(11)
    local m = nn.Sequential { nn.Dense(3, "tanh"), nn.Dense(2) }
    local x, t = tensor.randn(4, 5), tensor.randn(4, 2)
    m:forward(x)
    local l1, l2 = m.layers[1], m.layers[2]
    for i, p in ipairs { l1.W, l1.b, l2.W, l2.b, x, t } do tensor.save(p, T.tmp("p" .. i .. ".npy")) end
    local opt, mse = make(), nn.MSELoss()
    for _ = 1, 3 do
      local o = m:forward(x)
      m:backward(x, mse:backward(o, t))
      opt:step(m)
    end
    tensor.save(l1.W, T.tmp("w1.npy")); tensor.save(l2.b, T.tmp("b2.npy"))
    local out = T.python([[
import torch
P = [torch.tensor(np.load("p%d.npy" % i)) for i in range(1, 7)]
W1, b1, W2, b2, x, t = P
ps = [p.requires_grad_() for p in (W1, b1, W2, b2)]
opt = ]] .. torch_opt .. [[

for _ in range(3):
    opt.zero_grad()
    o = torch.tanh(x @ W1 + b1) @ W2 + b2
    torch.nn.functional.mse_loss(o, t).backward()
    opt.step()
print(float(np.abs(W1.detach().numpy() - np.load("w1.npy")).max()),
      float(np.abs(b2.detach().numpy() - np.load("b2.npy")).max()))
]])
    local dw, db = out:match("(%S+)%s+(%S+)")
    T.ok(tonumber(dw) < 1e-5 and tonumber(db) < 1e-5, "differences from torch: " .. out)
  end)
end

torch_case("sgd momentum+nesterov+weight decay matches torch.optim.SGD",
  function() return optim.sgd { lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01 } end,
  "torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)")
torch_case("adam matches torch.optim.Adam",
  function() return optim.adam { lr = 0.05, beta1 = 0.8, beta2 = 0.99, eps = 1e-6 } end,
  "torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6)")

T.done()
