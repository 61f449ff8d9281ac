-- test_train.lua — the trainer: evaluate/predict against numpy, validation
-- rows, determinism, save/load, every error a user can make, NaN losses,
-- Ctrl-C, and a real MNIST subset passing 85% (skipped without NNLAB_DATA).
local T = require "testlib"

-- A small separable problem: 3 classes by which of 3 features is largest.
local function blobs(n, seed)
  tensor.seed(seed or 1)
  local X = tensor.rand(n, 3)
  local y = X:argmax(2):int()
  return X, y
end

local function small_model()
  local m = nn.Sequential { nn.Dense(8, "relu"), nn.Dense(3, "softmax") }
  m:compile { optimizer = optim.sgd { lr = 0.5, momentum = 0.9 }, loss = "cross_entropy",
              metrics = { "accuracy" } }
  return m
end

T.test("fit learns; history has loss, accuracy, val_*, seconds per epoch", function()
  local X, y = blobs(600)
  local m = small_model()
  local h = m:fit(X, y, { epochs = 8, batch_size = 32, validation_split = 0.2, verbose = 0 })
  for _, k in ipairs { "loss", "accuracy", "val_loss", "val_accuracy", "seconds" } do
    T.eq(#h[k], 8, k)
  end
  T.ok(h.loss[8] < h.loss[1], "loss decreases")
  T.ok(h.val_accuracy[8] > 0.8, "val accuracy " .. h.val_accuracy[8])
end)

T.test("validation_split holds out the last rows (before shuffling)", function()
  local X, y = blobs(100)
  local m = small_model()
  local h = m:fit(X, y, { epochs = 1, batch_size = 16, validation_split = 0.3, verbose = 0 })
  local r = m:evaluate(X:narrow(1, 71, 30), y:narrow(1, 71, 30))
  T.near(h.val_loss[1], r.loss, 1e-9)
  T.near(h.val_accuracy[1], r.accuracy, 1e-12)
end)

T.test("validation_data = {X, y}", function()
  local X, y = blobs(100)
  local Xv, yv = blobs(40, 9)
  local m = small_model()
  local h = m:fit(X, y, { epochs = 1, batch_size = 16, validation_data = { Xv, yv }, verbose = 0 })
  T.near(h.val_loss[1], m:evaluate(Xv, yv).loss, 1e-9)
end)

T.test("evaluate and predict agree with numpy on the same weights", function()
  local X, y = blobs(300)
  local m = small_model()
  m:fit(X, y, { epochs = 2, batch_size = 64, verbose = 0 })
  local l1, l2 = m.layers[1], m.layers[2]
  for name, t in pairs { W1 = l1.W, b1 = l1.b, W2 = l2.W, b2 = l2.b, X = X, y = y } do
    tensor.save(t, T.tmp(name .. ".npy"))
  end
  local P = m:predict(X, 50)
  tensor.save(P, T.tmp("P.npy"))
  local r = m:evaluate(X, y)
  local out = T.python([[
L = {k: np.load(k + ".npy").astype(np.float64) for k in ("W1", "b1", "W2", "b2", "X")}
y = np.load("y.npy") - 1
h = np.maximum(L["X"] @ L["W1"] + L["b1"], 0)
z = h @ L["W2"] + L["b2"]
z -= z.max(1, keepdims=True)
p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
loss = -np.log(p[np.arange(len(y)), y]).mean()
acc = (p.argmax(1) == y).mean()
print(loss, acc, np.abs(p - np.load("P.npy")).max())
]])
  local loss, acc, dp = out:match("(%S+)%s+(%S+)%s+(%S+)")
  T.near(r.loss, tonumber(loss), 1e-5, "loss")
  T.near(r.accuracy, tonumber(acc), 1e-12, "accuracy")
  T.ok(tonumber(dp) < 1e-5, "predict differs from numpy by " .. dp)
  T.eq(P:size(1), 300); T.eq(P:size(2), 3); T.eq(P.dtype, "float32")
end)

-- A training step skips the softmax when the loss reads the logits
-- (cross-entropy); with MSE the loss reads the softmax itself, and its
-- gradient goes back through the softmax's Jacobian.
T.test("fit with MSE on a softmax output: two steps equal numpy's, evaluate too", function()
  local X, y = blobs(40, 4)
  local m = nn.Sequential { nn.Dense(5, "tanh"), nn.Dense(3, "softmax") }
  m:compile { optimizer = optim.sgd { lr = 2 }, loss = "mse" }
  m:forward(X:narrow(1, 1, 1))
  for name, t in pairs { W1 = m.layers[1].W, b1 = m.layers[1].b, W2 = m.layers[2].W, b2 = m.layers[2].b, X = X, y = y } do
    tensor.save(t, T.tmp(name .. ".npy"))
  end
  local h = m:fit(X, y, { epochs = 2, batch_size = 40, shuffle = false, verbose = 0 })
  local out = T.python([[
L = {k: np.load(k + ".npy").astype(np.float64) for k in ("W1", "b1", "W2", "b2", "X")}
X, y = L["X"], np.load("y.npy") - 1
T = np.eye(3)[y]
def run():
    h = np.tanh(X @ L["W1"] + L["b1"]); z = h @ L["W2"] + L["b2"]
    p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    return h, p, ((p - T) ** 2).mean()
losses = []
for step in range(2):
    h, p, loss = run(); losses.append(loss)
    dp = 2 * (p - T) / p.size
    dz = p * (dp - (dp * p).sum(1, keepdims=True))
    dh = dz @ L["W2"].T * (1 - h ** 2)
    for k, g in (("W2", h.T @ dz), ("b2", dz.sum(0)), ("W1", X.T @ dh), ("b1", dh.sum(0))):
        L[k] = L[k] - 2 * g
print(losses[0], losses[1], run()[2])
np.save("W1_want.npy", L["W1"].astype(np.float32))
]])
  local l1, l2, l3 = out:match("(%S+)%s+(%S+)%s+(%S+)")
  T.near(h.loss[1], tonumber(l1), 1e-6, "epoch 1 loss")
  T.near(h.loss[2], tonumber(l2), 1e-6, "epoch 2 loss")
  T.near(m:evaluate(X, y).loss, tonumber(l3), 1e-6, "evaluate's loss")
  T.ok(m.layers[1].W:sub(tensor.load(T.tmp("W1_want.npy"))):abs():max() < 1e-6, "W1 after two steps")
end)

-- With SGD's momentum, Dense layers put their gradients straight into the
-- velocity; fit then leaves layer.dW zero rather than some batch's.
T.test("after fit, layer.dW is zero with SGD momentum and the last batch's otherwise; backward needs a forward", function()
  local X, y = blobs(64, 6)
  local function fitted(opt)
    local m = nn.Sequential { nn.Dense(4, "relu"), nn.Dense(3, "softmax") }
    m:compile { optimizer = opt, loss = "cross_entropy" }
    m:backward(X, m:forward(X))  -- some gradient in dW beforehand
    m:fit(X, y, { epochs = 1, batch_size = 64, verbose = 0 })
    return m
  end
  local m = fitted(optim.sgd { lr = 0.1, momentum = 0.9 })
  T.eq(m.layers[1].dW:abs():max(), 0, "dW with momentum")
  T.eq(m.layers[2].db:abs():max(), 0, "db with momentum")
  for _, opt in ipairs { optim.sgd { lr = 0.1 }, optim.sgd { lr = 0.1, momentum = 0.9, nesterov = true },
    optim.adam {} } do
    T.ok(fitted(opt).layers[2].dW:abs():max() > 0, "dW holds the batch's gradient")
  end
  T.raises(function() m:backward(X, tensor.zeros(64, 3)) end, { "call model:forward(x) first" })
  -- whatever the loss: fit's last batch is no forward of X
  local mse = nn.Sequential { nn.Dense(4, "relu"), nn.Dense(3, "softmax") }
  mse:compile { optimizer = optim.sgd { lr = 0.1 }, loss = "mse" }
  mse:fit(X, y, { epochs = 1, batch_size = 64, verbose = 0 })
  T.raises(function() mse:backward(X, tensor.zeros(64, 3)) end, { "call model:forward(x) first" })
  local P = m:forward(X)
  T.ok((P:sum(2) - 1):abs():max() < 1e-6, "forward after fit gives probabilities")
end)

T.test("same seed gives bit-identical losses; another seed differs", function()
  local function run(seed)
    local X, y = blobs(200)
    tensor.seed(seed)
    local m = nn.Sequential { nn.Dense(8, "relu"), nn.Dropout(0.2), nn.Dense(3, "softmax") }
    m:compile { optimizer = optim.adam { lr = 0.01 }, loss = "cross_entropy" }
    return m:fit(X, y, { epochs = 3, batch_size = 16, verbose = 0 }).loss
  end
  local a, b, c = run(7), run(7), run(8)
  for i = 1, 3 do T.eq(a[i], b[i], "epoch " .. i) end
  T.ok(a[3] ~= c[3], "a different seed changes the run")
end)

T.test("uint8 input with Rescaling equals float input scaled by hand", function()
  tensor.seed(2)
  local Xu = (tensor.rand(50, 4, 4) * 255):uint8()
  local m = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten(), nn.Dense(3, "softmax") }
  local a = m:predict(Xu)
  local Xf = Xu:float() / 255
  local m2 = nn.Sequential { nn.Flatten(), nn.Dense(3, "softmax") }
  m2:predict(Xf)
  m2.layers[2].W = m.layers[3].W
  m2.layers[2].b = m.layers[3].b
  T.near(a:sub(m2:predict(Xf)):abs():max(), 0, 1e-6)
end)

T.test("layer.W is the layer's own live tensor (Keras layout inputs x units)", function()
  local d = nn.Dense(4)
  local m = nn.Sequential { nn.Flatten(), d }
  T.eq(d.W, nil, "no weights before the input size is known")
  m:predict(tensor.zeros(2, 3, 5))
  T.eq(d.W:size(1), 15); T.eq(d.W:size(2), 4)
  T.ok(rawequal(d.W, d.W), "same object every time")
  d.W:fill(0); d.b:fill(0.25)
  T.near(m:predict(tensor.ones(2, 3, 5)):get(1, 1), 0.25, 1e-7)
  -- Glorot-uniform limit sqrt(6/(in+out))
  local m3 = nn.Sequential { nn.Dense(100) }
  m3:predict(tensor.zeros(1, 300))
  local W = m3.layers[1].W
  T.ok(W:abs():max() <= math.sqrt(6 / 400) and W:abs():max() > 0.9 * math.sqrt(6 / 400), "Glorot range")
  T.near(W:mean(), 0, 0.01)
end)

T.test("summary and tostring show layers, output shapes and parameter counts", function()
  local m = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten(), nn.Dense(64, "relu"), nn.Dense(10, "softmax") }
  m:predict(tensor.zeros({ 1, 28, 28 }, "uint8"))
  local s = tostring(m)
  T.ok(s:find("(None, 28, 28)", 1, true), s)
  T.ok(s:find("(None, 784)", 1, true), s)
  T.ok(s:find("50,240", 1, true), "784*64+64") -- 784*64 + 64
  T.ok(s:find("Total params: 50,890", 1, true), s) -- + 64*10 + 10
end)

T.test("save then load gives identical predictions; file survives a failed save", function()
  local X, y = blobs(120)
  local m = small_model()
  m:fit(X, y, { epochs = 2, batch_size = 16, verbose = 0 })
  local path = T.tmp("m.nnlab")
  m:save(path)
  local m2 = nn.load(path)
  T.eq(m2:predict(X):sub(m:predict(X)):abs():max(), 0)
  T.eq(tostring(m2), tostring(m))
  -- a save that cannot create its temporary file
  T.raises(function() m:save(T.tmp("no/such/dir/m.nnlab")) end, { "cannot create a temporary file", "no/such/dir" })
  -- a save whose write fails (file size limit): the old file stays whole
  local before = io.open(path, "rb"):read("a")
  local big = nn.Sequential { nn.Dense(2000) }
  big:predict(tensor.zeros(1, 1000))
  local script = T.tmp("bigsave.lua")
  local f = io.open(script, "w")
  f:write(string.format([[local m = nn.Sequential{nn.Dense(2000)}; m:predict(tensor.zeros(1, 1000))
local ok, err = pcall(m.save, m, %q); print(ok, err)]], path))
  f:close()
  local out = T.sh("trap '' XFSZ; ulimit -f 64; " .. os.getenv("NNLAB_BIN") .. " " .. script)
  T.ok(out:find("false", 1, true) and out:find("previous file is unchanged", 1, true), out)
  T.eq(io.open(path, "rb"):read("a"), before, "previous file kept")
  local left = T.sh("ls " .. T.tmpdir())
  T.ok(not left:find("tmp", 1, true), "temporary file removed: " .. left)
end)

T.test("truncated, corrupt and foreign model files are errors", function()
  local m = small_model()
  m:predict(tensor.zeros(1, 3))
  local path = T.tmp("c.nnlab")
  m:save(path)
  local bytes = io.open(path, "rb"):read("a")
  local function write(s) local f = io.open(path, "wb"); f:write(s); f:close() end
  write(bytes:sub(1, #bytes - 10))
  T.raises(function() nn.load(path) end, { "nn.load", "checksum" })
  write(bytes:sub(1, 30) .. string.char((bytes:byte(31) + 1) % 256) .. bytes:sub(32))
  T.raises(function() nn.load(path) end, { "nn.load", "corrupt" })
  write("hello")
  T.raises(function() nn.load(path) end, { "not an nnlab model file" })
  T.raises(function() nn.load(T.tmp("absent")) end, { "cannot open", "absent" })
end)

T.test("errors: labels, lengths, input size, names, options, order", function()
  local X, y = blobs(20)
  local m = small_model()
  local bad = y:clone(); bad[5] = 4
  T.raises(function() m:fit(X, bad, { verbose = 0 }) end, { "label 4", "position 5", "1..3" })
  bad[5] = 0
  T.raises(function() m:evaluate(X, bad) end, { "label 0", "1..3" })
  T.raises(function() m:fit(X, y:narrow(1, 1, 19), { verbose = 0 }) end, { "20 samples", "19 labels" })
  T.raises(function() m:predict(tensor.zeros(2, 4)) end, { "input size mismatch", "3", "4" })
  T.raises(function() nn.Dense(3, "relux") end, { "unknown activation 'relux'" })
  T.raises(function() m:compile { loss = "hinge" } end, { "unknown loss 'hinge'" })
  T.raises(function() m:compile { optimizer = "rmsprop" } end, { "unknown optimizer 'rmsprop'" })
  T.raises(function() m:compile { optimiser = "sgd" } end, { "compile", "unknown option 'optimiser'" })
  T.raises(function() m:compile { metrics = { "auc" } } end, { "unknown metric 'auc'" })
  T.raises(function() m:fit(X, y, { epoch = 3 }) end, { "fit", "unknown option 'epoch'" })
  T.raises(function() m:fit(X, y, { batch_size = 0, verbose = 0 }) end, { "batch_size must be >= 1", "0" })
  T.raises(function() m:fit(X, y, { validation_split = 1.5, verbose = 0 }) end, { "validation_split", "1.5" })
  local fresh = nn.Sequential { nn.Dense(3, "softmax") }
  T.raises(function() fresh:fit(X, y) end, { "compile the model first" })
  T.raises(function() fresh:evaluate(X, y) end, { "compile the model first" })
  T.raises(function() nn.Sequential { nn.Dense(3) }:predict(tensor.zeros(2, 3, 4)) end,
    { "flat inputs", "3x4", "nn.Flatten()" })
  T.raises(function() nn.Sequential { 5 } end, { "item 1", "number" })
  T.raises(function() nn.Dropout(1) end, { "p must be in [0, 1)" })
  local b = nn.Sequential { nn.Dense(3) }
  T.raises(function() b:backward(X, tensor.zeros(20, 3)) end, { "call model:forward(x) first" })
  b:forward(X)
  T.raises(function() b:backward(X, tensor.zeros(20, 2)) end, { "grad_output must be 20x3", "20x2" })
  T.raises(function() m:add(nn.Dense(2)) end, { "already built" })
  T.raises(function() b.layers[1].W = tensor.zeros(2, 2) end, { "keep its shape 3x3", "2x2" })
end)

T.test("a NaN or infinite loss stops fit naming epoch and batch", function()
  local X = tensor.full({ 64, 10 }, 1e38)
  local y = tensor.ones({ 64 }, "int32")
  local m = nn.Sequential { nn.Dense(2) }
  m:compile { optimizer = optim.sgd { lr = 0.1 }, loss = "mse" }
  T.raises(function() m:fit(X, y, { epochs = 2, batch_size = 16, verbose = 0 }) end,
    { "at epoch 1, batch ", "smaller learning rate" })
end)

T.test("verbose=1 off a terminal prints one line per epoch; on_epoch can stop", function()
  local X, y = blobs(64)
  local script = T.tmp("verbose.lua")
  local f = io.open(script, "w")
  f:write([[tensor.seed(1)
local X = tensor.rand(64, 3); local y = X:argmax(2):int()
local m = nn.Sequential{nn.Dense(3, "softmax")}
m:compile{optimizer = optim.sgd{lr = 0.1}}
local seen = {}
local h = m:fit(X, y, {epochs = 5, batch_size = 8, validation_split = 0.25,
  on_epoch = function(e, logs) seen[#seen + 1] = logs.val_accuracy; return e < 3 end})
print("epochs", #h.loss, #seen)]])
  f:close()
  local out = T.sh(os.getenv("NNLAB_BIN") .. " " .. script .. " | cat")
  local lines = 0
  for _ in out:gmatch("Epoch %d/5 %- [%d.]+s %- loss: [%d.]+ %- accuracy: [%d.]+ %- val_loss: [%d.]+ %- val_accuracy: [%d.]+\n") do lines = lines + 1 end
  T.eq(lines, 3, out)
  T.ok(out:find("epochs\t3\t3", 1, true), out)
  T.ok(not out:find("\r", 1, true), "no carriage returns off a terminal")
  assert(X and y)
end)

T.test("Ctrl-C stops fit after the current batch and returns the history", function()
  local script = T.tmp("sigint.lua")
  local f = io.open(script, "w")
  f:write([[local X = tensor.rand(20000, 50); local y = X:argmax(2):int()
local m = nn.Sequential{nn.Dense(64, "relu"), nn.Dense(50, "softmax")}
m:compile{optimizer = optim.sgd{lr = 0.1}}
io.stdout:setvbuf("line")
print("training")
local h = m:fit(X, y, {epochs = 100000, batch_size = 32, verbose = 0})
print("returned", #h.loss, m:evaluate(X:narrow(1, 1, 100), y:narrow(1, 1, 100)).accuracy >= 0)]])
  f:close()
  local out, code = T.sh("timeout --preserve-status -s INT 3 " .. os.getenv("NNLAB_BIN") .. " " .. script)
  T.ok(out:find("returned\t%d+\ttrue"), "fit returned and the model works: " .. out)
  T.eq(code, 0, "exit status")
end)

T.test("a hand-written loop (forward, loss, backward, step) trains", function()
  local X, y = blobs(256)
  local model = nn.Sequential():add(nn.Dense(16, "tanh")):add(nn.Dense(3, "softmax"))
  T.eq(#model.layers, 2)
  local loss, opt = nn.CrossEntropyLoss(), optim.sgd { lr = 0.5, momentum = 0.9 }
  local first, last
  for epoch = 1, 30 do
    local out = model:forward(X)
    last = loss:forward(out, y)
    first = first or last
    model:backward(X, loss:backward(out, y))
    opt:step(model)
    assert(epoch)
  end
  T.ok(last < 0.5 * first, string.format("loss %.3f -> %.3f", first, last))
  T.raises(function() loss:forward(model:forward(X), y:narrow(1, 1, 10)) end, { "vector of 256", "10" })
  local bad = y:clone(); bad[1] = 9
  T.raises(function() loss:backward(model:forward(X), bad) end, { "label 9", "1..3" })
  T.raises(function() nn.CrossEntropyLoss { logits = true } end, { "unknown option 'logits'" })
end)

local dir = T.data_dir()
if not dir then
  T.skip("MNIST 5,000-image subset passes 85%", "NNLAB_DATA is not set")
elseif type(data.mnist) ~= "function" then
  T.skip("MNIST 5,000-image subset passes 85%", "data.mnist is not available")
else
  T.test("MNIST 5,000-image subset passes 85%", function()
    local train, test = data.mnist()
    local X, y = train.X:narrow(1, 1, 5000), train.y:narrow(1, 1, 5000)
    local m = nn.Sequential { nn.Rescaling(1 / 255), nn.Flatten(), nn.Dense(64, "relu"), nn.Dense(10, "softmax") }
    m:compile { optimizer = optim.sgd { lr = 0.01, momentum = 0.9 }, loss = "cross_entropy" }
    m:fit(X, y, { epochs = 5, batch_size = 64, verbose = 0 })
    local acc = m:evaluate(test.X, test.y).accuracy
    T.ok(acc > 0.85, "test accuracy " .. acc)
  end)
end

T.done()
