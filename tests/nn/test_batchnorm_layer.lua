-- test_batchnorm_layer.lua — nn.BatchNormalization against PyTorch's
-- BatchNorm1d (flat features) and BatchNorm2d (H×W×C samples, permuted to
-- NCHW) with momentum 1 − 0.99 and eps 0.001: the forward, dgamma, dbeta
-- and dx of a few training steps (batch statistics) on the same numbers, the
-- moving statistics after them, then the forward and gradients in inference
-- mode (moving statistics). PyTorch's running_var takes the batch's
-- UNBIASED variance (÷ (n − 1)) while Keras and nnlab take the biased one
-- (÷ n): the expected moving variance is computed from the variance PyTorch
-- used at each step, times (n − 1)/n, and the test checks the two
-- conventions really differ. A batch of 1 after Dense (variance 0, which
-- PyTorch refuses) is checked against hand-computed values. Also: the state
-- tensors are not trained (optimizers, weight decay), the model file keeps
-- them, fit predicts with them, and the summary counts them apart.
local T = require "testlib"

local MOM, EPS, STEPS = 0.99, 0.001, 3

-- max |a − b| relative to max(1, max |b|)
local function err(a, b)
  return a:sub(b):abs():max() / math.max(1, b:abs():max())
end

local function close(a, b, what, tol)
  local e = err(a, b)
  T.ok(e <= (tol or 1e-4), string.format("%s differs from PyTorch's by %g", what, e))
end

local function load(name) return tensor.load(T.tmp(name)) end

-- shape: the batch's full shape, {B, F} or {B, H, W, C}.
local function torch_case(shape)
  local label = table.concat(shape, "x")
  T.torch_test("training and inference match PyTorch on a batch of " .. label, function()
    T.python(string.format([[
import torch
torch.set_num_threads(1)
shape, steps, mom, eps = %s, %d, %s, %s
img = len(shape) == 4
rng = np.random.default_rng(sum(shape))
C = shape[-1]
n = int(np.prod(shape[:-1]))     # values per channel in a batch
bn = (torch.nn.BatchNorm2d if img else torch.nn.BatchNorm1d)(C, eps=eps, momentum=1 - mom)
gamma = rng.uniform(0.5, 1.5, C).astype(np.float32)
beta = rng.standard_normal(C).astype(np.float32)
with torch.no_grad():
    bn.weight.copy_(torch.tensor(gamma)); bn.bias.copy_(torch.tensor(beta))
np.save("gamma.npy", gamma); np.save("beta.npy", beta)
to_t = (lambda a: a.transpose(0, 3, 1, 2)) if img else (lambda a: a)
from_t = (lambda a: a.transpose(0, 2, 3, 1)) if img else (lambda a: a)
keras_var = np.ones(C)
def run(x, dy, k):
    bn.weight.grad = None; bn.bias.grad = None
    xt = torch.tensor(np.ascontiguousarray(to_t(x)), requires_grad=True)
    y = bn(xt)
    y.backward(torch.tensor(np.ascontiguousarray(to_t(dy))))
    np.save("y%%s.npy" %% k, np.ascontiguousarray(from_t(y.detach().numpy())))
    np.save("dx%%s.npy" %% k, np.ascontiguousarray(from_t(xt.grad.numpy())))
    np.save("dgamma%%s.npy" %% k, bn.weight.grad.numpy()); np.save("dbeta%%s.npy" %% k, bn.bias.grad.numpy())
bn.train()
for t in range(1, steps + 1):
    x = (rng.standard_normal(shape) * 2 + rng.standard_normal(C)).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    np.save("x%%d.npy" %% t, x); np.save("dy%%d.npy" %% t, dy)
    before = bn.running_var.detach().numpy().astype(np.float64).copy()
    run(x, dy, t)
    after = bn.running_var.detach().numpy().astype(np.float64)
    # the unbiased variance PyTorch used, made biased as Keras's
    v_unbiased = (after - mom * before) / (1 - mom)
    keras_var = mom * keras_var + (1 - mom) * v_unbiased * (n - 1) / n
np.save("running_mean.npy", bn.running_mean.numpy())
np.save("running_var_torch.npy", bn.running_var.numpy())
np.save("running_var_keras.npy", keras_var.astype(np.float32))
# inference: both sides use the same (Keras) moving statistics
with torch.no_grad():
    bn.running_var.copy_(torch.tensor(keras_var.astype(np.float32)))
bn.eval()
x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
dy = rng.standard_normal(shape).astype(np.float32)
np.save("xe.npy", x); np.save("dye.npy", dy)
run(x, dy, "e")
]], "(" .. table.concat(shape, ", ") .. ",)", STEPS, tostring(MOM), tostring(EPS)))
    local m = nn.Sequential { nn.BatchNormalization() }
    m:predict(load("x1.npy")) -- builds it; inference leaves the moving statistics alone
    local l = m.layers[1]
    T.eq(l.moving_mean:abs():max(), 0, "moving_mean starts at 0")
    T.eq(l.moving_variance:sub(1):abs():max(), 0, "moving_variance starts at 1")
    l.gamma, l.beta = load("gamma.npy"), load("beta.npy")
    m:train()
    for t = 1, STEPS do
      local x = load("x" .. t .. ".npy")
      close(m:forward(x), load("y" .. t .. ".npy"), "step " .. t .. " y")
      close(m:backward(x, load("dy" .. t .. ".npy")), load("dx" .. t .. ".npy"), "step " .. t .. " dx")
      close(l.dgamma, load("dgamma" .. t .. ".npy"), "step " .. t .. " dgamma")
      close(l.dbeta, load("dbeta" .. t .. ".npy"), "step " .. t .. " dbeta")
    end
    close(l.moving_mean, load("running_mean.npy"), "moving_mean", 1e-5)
    close(l.moving_variance, load("running_var_keras.npy"), "moving_variance (biased)", 1e-5)
    local n = 1
    for i = 1, #shape - 1 do n = n * shape[i] end
    if n < 50 then -- with 7 values per channel, ÷ 6 and ÷ 7 are far apart
      T.ok(err(l.moving_variance, load("running_var_torch.npy")) > 1e-3,
        "the biased and unbiased running variances should differ")
    end
    l.moving_variance = load("running_var_keras.npy") -- PyTorch's moving mean is ours
    m:eval()
    local x = load("xe.npy")
    close(m:predict(x), load("ye.npy"), "predict")
    close(m:forward(x), load("ye.npy"), "inference y")
    close(m:backward(x, load("dye.npy")), load("dxe.npy"), "inference dx")
    close(l.dgamma, load("dgammae.npy"), "inference dgamma")
    close(l.dbeta, load("dbetae.npy"), "inference dbeta")
  end)
end

torch_case { 7, 5 }        -- after Dense
torch_case { 7, 4, 5, 3 }  -- after Conv2D
torch_case { 1, 4, 5, 3 }  -- one image still has 20 values per channel
-- large enough for the rows to be shared among the threads, summed in float
-- blocks of 32 rows (up to 512 channels) or row by row in double (more)
torch_case { 64, 16, 16, 16 }
torch_case { 70, 600 }

T.test("a batch of 1 after Dense: variance 0, y = beta, no NaN (hand-computed)", function()
  local m = nn.Sequential { nn.BatchNormalization() }
  local x = tensor.new({ { 3, -2, 0.5, 7 } })
  m:predict(x)
  local l = m.layers[1]
  l.gamma = tensor.new({ 2, 0.5, 1, -1 })
  l.beta = tensor.new({ 0.25, -1, 3, 0 })
  m:train()
  local y = m:forward(x)
  -- x̂ = (x − x)/√(0 + eps) = 0, so y = β; dγ = Σ dy·x̂ = 0; dβ = dy; dx = (γ/σ)(dy − dy − 0) = 0
  T.eq(y:sub(l.beta:reshape(1, 4)):abs():max(), 0, "y = beta")
  local dy = tensor.new({ { 1, -2, 3, 0.5 } })
  local dx = m:backward(x, dy)
  -- (γ/σ)·dy is up to 2/√0.001·3 ≈ 190 before it cancels: 0 to float rounding
  T.ok(dx:abs():max() < 1e-4, "dx = 0, got " .. dx:abs():max())
  T.eq(l.dgamma:abs():max(), 0, "dgamma = 0")
  T.eq(l.dbeta:sub(dy:reshape(4)):abs():max(), 0, "dbeta = dy")
  -- moving_mean = 0.99·0 + 0.01·x, moving_variance = 0.99·1 + 0.01·0
  T.ok(l.moving_mean:sub(x:reshape(4) * 0.01):abs():max() < 1e-7, "moving_mean = 0.01 x")
  T.ok(l.moving_variance:sub(0.99):abs():max() < 1e-7, "moving_variance = 0.99")
  T.ok(y:ne(y):sum() == 0 and dx:ne(dx):sum() == 0, "no NaN")
end)

T.test("momentum and eps are the layer's options", function()
  local m = nn.Sequential { nn.BatchNormalization { momentum = 0.5, eps = 0.25 } }
  local x = tensor.new({ { 1, 10 }, { 3, 10 } })
  m:train()
  local y = m:forward(x)
  local l = m.layers[1]
  -- channel 1: μ 2, σ² 1 → y = ∓1/√1.25; channel 2: μ 10, σ² 0 → y = 0
  T.near(y:get(1, 1), -1 / math.sqrt(1.25), 1e-6, "y[1,1]")
  T.near(y:get(2, 1), 1 / math.sqrt(1.25), 1e-6, "y[2,1]")
  T.eq(y:get(1, 2), 0, "y[1,2]")
  T.near(l.moving_mean:get(1), 1, 1e-6, "moving_mean[1] = 0.5·0 + 0.5·2")
  T.near(l.moving_mean:get(2), 5, 1e-6, "moving_mean[2]")
  T.near(l.moving_variance:get(1), 1, 1e-6, "moving_variance[1] = 0.5·1 + 0.5·1")
  T.near(l.moving_variance:get(2), 0.5, 1e-6, "moving_variance[2] = 0.5·1 + 0.5·0")
  T.eq(tostring(l), "BatchNormalization({momentum=0.5, eps=0.25})")
  T.eq(tostring(nn.BatchNormalization()), "BatchNormalization()")
end)

T.test("bad options: clear errors", function()
  T.raises(function() nn.BatchNormalization { momentum = 1.5 } end, { "nn.BatchNormalization", "momentum", "[0, 1]", "1.5" })
  T.raises(function() nn.BatchNormalization { eps = -1 } end, { "nn.BatchNormalization", "eps", "> 0", "-1" })
  T.raises(function() nn.BatchNormalization { eps = 0 } end, { "eps", "> 0" })
  -- an infinite eps made every output beta and every gradient 0
  T.raises(function() nn.BatchNormalization { eps = math.huge } end, { "nn.BatchNormalization", "eps", "> 0", "inf" })
  T.raises(function() nn.BatchNormalization { eps = 0 / 0 } end, { "eps", "> 0", "nan" })
  T.raises(function() nn.BatchNormalization { alpha = 1 } end, { "unknown option 'alpha'", "momentum" })
  T.raises(function() nn.BatchNormalization(0.9) end, { "options table", "got number" })
end)

T.test("optimizers train gamma and beta, never the moving statistics (weight decay neither)", function()
  for _, make in ipairs {
    function() return optim.sgd { lr = 0.1, momentum = 0.9, weight_decay = 0.5 } end,
    function() return optim.adam { lr = 0.1, weight_decay = 0.5 } end,
  } do
    tensor.seed(3)
    local m = nn.Sequential { nn.Dense(3), nn.BatchNormalization() }
    local x = tensor.randn(6, 4)
    m:forward(x)
    local l = m.layers[2]
    l.moving_mean = tensor.new({ 0.5, -0.5, 1 })
    l.moving_variance = tensor.new({ 2, 3, 4 })
    m:backward(x, tensor.randn(6, 3)) -- inference mode: the statistics stay
    local mm, mv, g = l.moving_mean:clone(), l.moving_variance:clone(), l.gamma:clone()
    local opt = make()
    opt:step(m)
    T.eq(l.moving_mean:sub(mm):abs():max(), 0, "moving_mean untouched")
    T.eq(l.moving_variance:sub(mv):abs():max(), 0, "moving_variance untouched")
    T.ok(l.gamma:sub(g):abs():max() > 1e-3, "gamma trained")
  end
end)

T.test("the model file keeps the moving statistics: same predictions after load", function()
  tensor.seed(4)
  local m = nn.Sequential { nn.Dense(5, "relu"), nn.BatchNormalization(), nn.Dense(3, "softmax") }
  local x = tensor.randn(16, 4)
  m:train()
  for _ = 1, 3 do m:forward(x) end -- the moving statistics move
  local bn = m.layers[2]
  T.ok(bn.moving_mean:abs():max() > 0, "moving_mean moved")
  bn.gamma = tensor.new({ 1.5, 0.5, 1, 2, 0.75 })
  m:save(T.tmp("bn.nnm"))
  local l = nn.load(T.tmp("bn.nnm"))
  local lb = l.layers[2]
  T.eq(tostring(lb), "BatchNormalization()")
  for _, k in ipairs { "gamma", "beta", "moving_mean", "moving_variance" } do
    T.eq(lb[k]:sub(bn[k]):abs():max(), 0, k)
  end
  T.eq(l:predict(x):sub(m:predict(x)):abs():max(), 0, "predictions")
  l:save(T.tmp("bn2.nnm"))
  local a, b = io.open(T.tmp("bn.nnm"), "rb"), io.open(T.tmp("bn2.nnm"), "rb")
  T.ok(a:read("a") == b:read("a"), "save, load, save: same bytes")
  a:close(); b:close()
end)

T.test("fit uses batch statistics, predict and evaluate the moving ones", function()
  tensor.seed(5)
  local X = tensor.randn(64, 6) * 3 + 2
  local y = (X:narrow(2, 1, 1):reshape(64):gt(2)):add(1):int()
  local m = nn.Sequential { nn.Dense(4), nn.BatchNormalization(), nn.Dense(2, "softmax") }
  m:compile { optimizer = optim.sgd { lr = 0.1 }, loss = "cross_entropy" }
  m:fit(X, y, { epochs = 2, batch_size = 16, verbose = 0 })
  T.eq(m.training, false, "fit leaves inference mode")
  local bn = m.layers[2]
  T.ok(bn.moving_mean:abs():max() > 0.01, "fit moved the moving mean")
  -- the same model written out in tensor operations, with the moving statistics
  local d1, d2 = m.layers[1], m.layers[3]
  local h = X:matmul(d1.W) + d1.b:reshape(1, 4)
  h = (h - bn.moving_mean:reshape(1, 4)) / (bn.moving_variance:reshape(1, 4) + 0.001):sqrt()
    * bn.gamma:reshape(1, 4) + bn.beta:reshape(1, 4)
  local z = h:matmul(d2.W) + d2.b:reshape(1, 2)
  local e = z:exp()
  local p = e / e:sum(2):reshape(64, 1)
  T.ok(m:predict(X):sub(p):abs():max() < 1e-5, "predict = the inference formula")
  local loss = 0
  for i = 1, 64 do loss = loss - math.log(p:get(i, y:get(i))) end
  T.near(m:evaluate(X, y).loss, loss / 64, 1e-5, "evaluate's loss")
  -- same seed, same fit
  local function run()
    tensor.seed(9)
    local k = nn.Sequential { nn.Dense(4), nn.BatchNormalization(), nn.Dense(2, "softmax") }
    k:compile { optimizer = "sgd" }
    k:fit(X, y, { epochs = 1, batch_size = 16, verbose = 0 })
    return k
  end
  local a, b = run(), run()
  T.eq(a.layers[2].moving_variance:sub(b.layers[2].moving_variance):abs():max(), 0, "deterministic")
end)

T.test("model:train() stays on through predict, evaluate, activations and fit", function()
  -- a hand-written loop that looks at predict between steps must keep
  -- training on the batch's statistics (predict used to switch the model to
  -- inference for good: the next forward used the moving ones)
  tensor.seed(8)
  local x = tensor.randn(6, 3) * 2 + 1
  local y = tensor.new({ 1, 2, 1, 2, 1, 2 }, "int32")
  local m = nn.Sequential { nn.BatchNormalization(), nn.Dense(2, "softmax") }
  m:compile { optimizer = "sgd", loss = "cross_entropy" }
  m:predict(x)
  local bn, d = m.layers[1], m.layers[2]
  -- the training-mode output by hand: batch mean and biased variance
  local mu = x:mean(1):reshape(1, 3)
  local var = x:sub(mu):pow(2):mean(1):reshape(1, 3)
  local h = x:sub(mu):div(var:add(0.001):sqrt()):mul(bn.gamma:reshape(1, 3)):add(bn.beta:reshape(1, 3))
  local z = h:matmul(d.W):add(d.b:reshape(1, 2))
  local e = z:exp()
  local want = e:div(e:sum(2):reshape(6, 1))
  for _, call in ipairs {
    { "predict", function() m:predict(x) end },
    { "evaluate", function() m:evaluate(x, y) end },
    { "activations", function() m:activations(x) end },
    { "fit", function() m:fit(x, y, { epochs = 1, verbose = 0 }) end },
  } do
    m:train()
    call[2]()
    T.eq(m.training, true, call[1] .. " keeps training mode")
    if call[1] ~= "fit" then
      T.ok(m:forward(x):sub(want):abs():max() < 1e-5, "forward after " .. call[1] .. " uses the batch statistics")
    end
    m:eval()
    call[2]()
    T.eq(m.training, false, call[1] .. " keeps inference mode")
  end
end)

T.test("summary: total, trainable and non-trainable counts as Keras prints them", function()
  local m = nn.Sequential { nn.Dense(4), nn.BatchNormalization(), nn.Dense(2) }
  m:predict(tensor.zeros(1, 3))
  local s = tostring(m)
  -- Dense 3·4 + 4 = 16, BN 4·4 = 16 (8 trained), Dense 4·2 + 2 = 10
  T.ok(s:find("batch_normalization_2 (BatchNormalization)", 1, true), s)
  T.ok(s:find("Total params: 42\nTrainable params: 34\nNon-trainable params: 8", 1, true), s)
  local plain = nn.Sequential { nn.Dense(4), nn.Dense(2) }
  plain:predict(tensor.zeros(1, 3))
  local p = tostring(plain)
  T.ok(p:find("Total params: 26", 1, true) and not p:find("rainable", 1, true), p)
end)

T.done()
