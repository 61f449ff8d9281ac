-- test_grad.lua — finite-difference checks of every layer's, activation's
-- and loss's gradients (weights and inputs): model:backward and the loss
-- objects' backward against central differences of their forward.
local T = require "testlib"

tensor.seed(3)

-- f(x) = Σ out ⊙ R, so backward(x, R) must equal ∂f/∂x and fill dW, db.
local function check_model(model, x, tol)
  tol = tol or 2e-2
  local out = model:forward(x)
  -- random biases: with zero biases a sample whose hidden ReLUs are all off
  -- sits exactly on the next ReLU's kink, where no derivative exists
  for _, layer in ipairs(model.layers) do
    if layer.b then layer.b = tensor.randn(layer.b:size(1)) * 0.1 end
  end
  local R = tensor.randn(out:shape())
  local function f() return (model:forward(x) * R):sum() end
  model:forward(x)
  local din = model:backward(x, R):clone()
  -- h small enough not to cross ReLU's kink for these inputs, large
  -- enough for float32 sums
  local h = 5e-4
  local function fd(t, ...)
    local v = t:get(...)
    local a = table.pack(...)
    a[a.n + 1] = v + h; t:set(table.unpack(a, 1, a.n + 1)); local fp = f()
    a[a.n + 1] = v - h; t:set(table.unpack(a, 1, a.n + 1)); local fm = f()
    a[a.n + 1] = v; t:set(table.unpack(a, 1, a.n + 1))
    return (fp - fm) / (2 * h)
  end
  local grads = {}
  for li, layer in ipairs(model.layers) do
    if layer.W then grads[li] = { dW = layer.dW:clone(), db = layer.db:clone() } end
  end
  for li, layer in ipairs(model.layers) do
    if layer.W then
      local W = layer.W
      for _ = 1, 5 do
        local i, j = math.random(W:size(1)), math.random(W:size(2))
        T.near(grads[li].dW:get(i, j), fd(W, i, j), tol, "dW layer " .. li)
      end
      for _ = 1, 3 do
        local j = math.random(layer.b:size(1))
        T.near(grads[li].db:get(j), fd(layer.b, j), tol, "db layer " .. li)
      end
    end
  end
  for _ = 1, 6 do
    local idx = {}
    for d = 1, x:dim() do idx[d] = math.random(x:size(d)) end
    T.near(din:get(table.unpack(idx)), fd(x, table.unpack(idx)), tol, "dx")
  end
end

math.randomseed(5)
for _, act in ipairs { "linear", "relu", "sigmoid", "tanh", "softmax" } do
  T.test("Dense(" .. act .. ") gradients for W, b and x", function()
    local m = nn.Sequential { nn.Dense(4, act), nn.Dense(3, act) }
    check_model(m, tensor.randn(5, 6))
  end)
end

for _, name in ipairs { "ReLU", "Sigmoid", "Tanh", "Softmax" } do
  T.test(name .. " layer gradients", function()
    local m = nn.Sequential { nn.Dense(5), nn[name](), nn.Dense(3) }
    check_model(m, tensor.randn(4, 7))
  end)
end

T.test("Flatten and Rescaling gradients (input 3-D, scale and offset)", function()
  local m = nn.Sequential { nn.Rescaling(0.5, 0.25), nn.Flatten(), nn.Dense(3, "tanh") }
  check_model(m, tensor.randn(4, 2, 3))
end)

T.test("Rescaling in the middle of a model", function()
  local m = nn.Sequential { nn.Dense(4, "sigmoid"), nn.Rescaling(3, -1), nn.Dense(2) }
  check_model(m, tensor.randn(3, 5))
end)

T.test("Dropout: identity in inference, inverted mask while training", function()
  local m = nn.Sequential { nn.Dense(50), nn.Dropout(0.5), nn.Dense(2) }
  local x = tensor.randn(40, 3)
  local a, b = m:forward(x), m:forward(x)
  T.eq(a:sub(b):abs():max(), 0, "inference is deterministic")
  m:train()
  local d = nn.Sequential { nn.Dropout(0.25) }
  d:train()
  local xs = tensor.ones(200, 50)
  local y = d:forward(xs)
  local zeros = y:eq(0):sum()
  T.ok(zeros > 0.18 * 10000 and zeros < 0.32 * 10000, "about 25% dropped, got " .. zeros)
  -- kept values are scaled by 1/(1-p)
  T.near(y:max(), 1 / 0.75, 1e-6)
  -- backward multiplies by the same mask: din = R ⊙ y (x is all ones)
  local R = tensor.randn(200, 50)
  local din = d:backward(xs, R)
  T.near(din:sub(R * y):abs():max(), 0, 1e-6, "din = R*mask")
  d:eval()
  T.eq(d:forward(xs):sub(xs):abs():max(), 0, "eval is identity")
end)

local function check_loss(loss, out, y, tol)
  local g = loss:backward(out, y)
  local h = 1e-3
  for i = 1, out:size(1) do
    for j = 1, out:size(2) do
      local v = out:get(i, j)
      out:set(i, j, v + h); local fp = loss:forward(out, y)
      out:set(i, j, v - h); local fm = loss:forward(out, y)
      out:set(i, j, v)
      T.near(g:get(i, j), (fp - fm) / (2 * h), tol or 1e-2, "dL/do")
    end
  end
end

T.test("CrossEntropyLoss on probabilities: value and gradient", function()
  local p = tensor.new { { 0.2, 0.5, 0.3 }, { 0.6, 0.3, 0.1 } }
  local y = tensor.new({ 2, 3 }, "int32")
  -- hand: -(log 0.5 + log 0.1)/2
  T.near(nn.CrossEntropyLoss():forward(p, y), -(math.log(0.5) + math.log(0.1)) / 2, 1e-6)
  check_loss(nn.CrossEntropyLoss(), p, y)
end)

T.test("CrossEntropyLoss from logits: value, gradient, stable for large logits", function()
  local z = tensor.new { { 1, 2, 0.5 }, { -1, 0, 3 } }
  local y = tensor.new({ 1, 3 }, "int32")
  local function lse(a, b, c) return math.log(math.exp(a) + math.exp(b) + math.exp(c)) end
  local want = ((lse(1, 2, 0.5) - 1) + (lse(-1, 0, 3) - 3)) / 2
  local ce = nn.CrossEntropyLoss { from_logits = true }
  T.near(ce:forward(z, y), want, 1e-6)
  check_loss(ce, z, y)
  local big = tensor.new { { 1000, 0 } }
  T.near(ce:forward(big, tensor.new({ 2 }, "int32")), 1000, 1e-6, "log-sum-exp")
  local g = ce:backward(big, tensor.new({ 2 }, "int32"))
  T.near(g:get(1, 1), 1, 1e-6)
  T.near(g:get(1, 2), -1, 1e-6)
end)

-- The loss keeps the exponentials of the first 64 classes for its gradient
-- and computes the rest again: both sides of that line against numpy's
-- log-softmax in float64.
T.test("CrossEntropyLoss from logits against numpy for 10 to 300 classes", function()
  local ce = nn.CrossEntropyLoss { from_logits = true }
  for _, K in ipairs { 10, 64, 65, 300 } do
    local z = tensor.randn(7, K) * 4
    local y = tensor.new({ 1, K, 2, 64 < K and 65 or K, 3, K // 2, 1 }, "int32")
    tensor.save(z, T.tmp("z.npy")); tensor.save(y, T.tmp("y.npy"))
    local out = T.python([[
z = np.load("z.npy").astype(np.float64); y = np.load("y.npy") - 1
m = z.max(1, keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
print(repr((lse - z[np.arange(len(y)), y]).mean()))
g = np.exp(z - lse[:, None]); g[np.arange(len(y)), y] -= 1
np.save("g.npy", (g / len(y)).astype(np.float32))
]])
    T.near(ce:forward(z, y), tonumber(out), 1e-6, K .. " classes: loss")
    local g = ce:backward(z, y)
    local diff = g:sub(tensor.load(T.tmp("g.npy"))):abs():max()
    T.ok(diff < 1e-7, string.format("%d classes: the gradient differs from numpy's by %g", K, diff))
  end
end)

T.test("MSELoss with labels (one-hot) and with float targets", function()
  local o = tensor.new { { 0.1, 0.7 }, { 0.4, 0.2 } }
  local y = tensor.new({ 2, 1 }, "int32")
  -- hand: ((0.1)^2 + (0.3)^2 + (0.6)^2 + (0.2)^2) / 4
  T.near(nn.MSELoss():forward(o, y), (0.01 + 0.09 + 0.36 + 0.04) / 4, 1e-6)
  check_loss(nn.MSELoss(), o, y)
  local t = tensor.new { { 0, 1 }, { 1, 0 } }
  T.near(nn.MSELoss():forward(o, t), (0.01 + 0.09 + 0.36 + 0.04) / 4, 1e-6)
  check_loss(nn.MSELoss(), o, t)
end)

T.test("softmax model + CrossEntropyLoss loop gives (p - onehot)/B at the logits", function()
  local m = nn.Sequential { nn.Dense(4, "softmax") }
  local x = tensor.randn(3, 5)
  local y = tensor.new({ 1, 4, 2 }, "int32")
  local ce = nn.CrossEntropyLoss()
  local p = m:forward(x)
  m:backward(x, ce:backward(p, y))
  local db = m.layers[1].db
  for j = 1, 4 do
    local want = 0
    for i = 1, 3 do want = want + (p:get(i, j) - (y[i] == j and 1 or 0)) / 3 end
    T.near(db:get(j), want, 1e-5, "db")
  end
end)

T.done()
