-- test_conv_layers.lua — nn.Conv2D, nn.MaxPool2D and nn.AvgPool2D from Lua:
-- bad arguments and inputs give messages naming what was expected, the
-- options round-trip through tostring and the model file, the summary
-- shows channels-last shapes and Keras's parameter counts, initialisation
-- uses Keras's fans, the same seed gives the same numbers, the plans kept
-- per batch size and input shape give the same results as one big batch,
-- and the convolution keeps to --threads. (The numbers themselves are
-- checked against PyTorch in test_conv_layers.py and test_conv_fit.lua.)
local T = require "testlib"

local function conv_net()
  return nn.Sequential { nn.Conv2D(4, 3, "relu", { padding = "same", stride = 2 }),
    nn.MaxPool2D(2), nn.Conv2D(3, { 1, 2 }, { padding = 1, init = "torch" }),
    nn.AvgPool2D({ 2, 1 }, { stride = 1 }), nn.Flatten(), nn.Dense(5, "softmax") }
end

T.test("bad arguments name what was expected", function()
  T.raises(function() nn.Conv2D(0, 3) end, { "nn.Conv2D", "filters", "1..", "got 0" })
  T.raises(function() nn.Conv2D(8) end, { "bad argument #2", "Conv2D", "number expected, got no value" })
  T.raises(function() nn.Conv2D(8, { 3, 3, 3 }) end, { "kernel_size", "pair", "table of 3" })
  T.raises(function() nn.Conv2D(8, 3, { padding = "bogus" }) end,
    { "unknown padding 'bogus'", '"valid", "same"', "integer in 0.." })
  T.raises(function() nn.Conv2D(8, 3, { padding = -1 }) end, { "padding", "integer in 0..", "-1" })
  T.raises(function() nn.Conv2D(8, 3, { padding = true }) end, { "unknown padding a boolean" })
  T.raises(function() nn.Conv2D(8, 3, { stride = 0 }) end, { "stride must be an integer in 1..", "got 0" })
  T.raises(function() nn.Conv2D(8, 3, "softmax") end,
    { "unknown activation 'softmax'", "relu, sigmoid, tanh or linear" })
  T.raises(function() nn.Conv2D(8, 3, { strides = 2 }) end, { "unknown option 'strides'", "stride" })
  T.raises(function() nn.MaxPool2D(0) end, { "nn.MaxPool2D", "pool_size", "got 0" })
  T.raises(function() nn.AvgPool2D() end, { "bad argument #1", "AvgPool2D", "got no value" })
  T.raises(function() nn.MaxPool2D(2, { stride = -1 }) end, { "stride", "got -1" })
end)

T.test("inputs a layer cannot take are refused with the shapes", function()
  T.raises(function() nn.Sequential { nn.Conv2D(3, 3) }:forward(tensor.zeros { 2, 3072 }) end,
    { "Conv2D (layer 1)", "expects images H x W x C per sample, got 3072" })
  T.raises(function() nn.Sequential { nn.Conv2D(3, 5) }:forward(tensor.zeros { 2, 4, 6, 1 }) end,
    { "Conv2D (layer 1)", "5x5 kernel larger than its 4x6 input" })
  T.raises(function() nn.Sequential { nn.MaxPool2D(3) }:forward(tensor.zeros { 2, 2, 8, 1 }) end,
    { "MaxPool2D (layer 1)", "3x3 window larger than its 2x8 input" })
  T.raises(function() nn.Sequential { nn.AvgPool2D(2) }:forward(tensor.zeros { 2, 8, 8 }) end,
    { "AvgPool2D (layer 1)", "expects images H x W x C", "8x8" })
  -- a kernel that fits only once padded, and "same" which always fits
  local y = nn.Sequential { nn.Conv2D(2, 5, { padding = 2 }) }:forward(tensor.zeros { 1, 4, 6, 1 })
  T.eq(table.concat(y:shape(), "x"), "1x4x6x2")
  y = nn.Sequential { nn.Conv2D(2, 5, { padding = "same", stride = 2 }) }:forward(tensor.zeros { 1, 3, 7, 1 })
  T.eq(table.concat(y:shape(), "x"), "1x2x4x2")
end)

T.test("a batch whose activations outgrow 64-bit sizes is refused, not wrapped around", function()
  -- 1x1 images padded by 4096: 8193 x 8193 x 65536 values per sample; 2^21
  -- samples of them count more floats than an int64_t holds
  local m = nn.Sequential { nn.Conv2D(65536, 1, { padding = 4096 }) }
  T.raises(function() m:forward(tensor.zeros(2 ^ 21, 1, 1, 1)) end,
    { "forward", "out of memory for a batch of 2097152" })
end)

T.test("options read back as given; tostring makes the same layer", function()
  local l = nn.Conv2D(16, { 3, 5 }, "tanh", { stride = { 2, 1 }, padding = 2, init = "he_uniform" })
  T.eq(l.filters, 16)
  T.eq(l.kernel_size[1] * 10 + l.kernel_size[2], 35)
  T.eq(l.stride[1] * 10 + l.stride[2], 21)
  T.eq(l.padding, 2)
  T.eq(l.activation, "tanh")
  T.eq(nn.Conv2D(4, 3, { padding = "same" }).padding, "same")
  T.eq(nn.Conv2D(4, 3).padding, "valid")
  for _, layer in ipairs { l, nn.Conv2D(4, 3), nn.Conv2D(4, 3, { padding = "same" }),
    nn.Conv2D(4, 3, { padding = 0 }), nn.MaxPool2D(3), nn.MaxPool2D({ 2, 3 }, { stride = 1 }),
    nn.AvgPool2D(2, { stride = { 1, 2 } }) } do
    local s = tostring(layer)
    local again = load("return nn." .. s)()
    T.eq(tostring(again), s)
  end
  T.eq(tostring(l), 'Conv2D(16, {3, 5}, "tanh", {stride={2, 1}, padding=2, init="he_uniform"})')
  T.eq(tostring(nn.Conv2D(4, 3, { padding = 0 })), 'Conv2D(4, 3, "linear", {padding=0})')
  T.eq(tostring(nn.MaxPool2D(3)), "MaxPool2D(3)")
end)

T.test("summary shows (None, H, W, C) shapes and Keras's parameter counts", function()
  local m = nn.Sequential { nn.Conv2D(16, 3, "relu", { padding = "same" }), nn.MaxPool2D(2),
    nn.Conv2D(8, { 3, 5 }), nn.AvgPool2D(2, { stride = 1 }), nn.Flatten(), nn.Dense(10, "softmax") }
  m:predict(tensor.zeros { 1, 32, 32, 3 })
  local s = tostring(m)
  T.ok(s:find("(None, 32, 32, 16)", 1, true), s)
  T.ok(s:find("(None, 16, 16, 16)", 1, true), s)
  T.ok(s:find("(None, 14, 12, 8)", 1, true), s)
  T.ok(s:find("(None, 13, 11, 8)", 1, true), s)
  T.ok(s:find("(None, 1144)", 1, true), s)
  T.ok(s:find("conv2d_1 (Conv2D, relu)", 1, true), s)
  T.ok(s:find(" 448\n", 1, true), "3*3*3*16 + 16 = 448: " .. s)
  T.ok(s:find(" 1,928\n", 1, true), "3*5*16*8 + 8 = 1928: " .. s)
  T.ok(s:find("Total params: 13,826", 1, true), s) -- 448 + 1928 + 1144*10 + 10
  T.eq(m.layers[3].W:shape()[1] * 1000 + m.layers[3].W:shape()[2] * 100 + m.layers[3].W:shape()[3] * 10
    + m.layers[3].W:shape()[4], 3000 + 500 + 160 + 8, "W is kh x kw x in_channels x filters")
end)

T.test("save and load keep the options and give identical predictions", function()
  tensor.seed(3)
  local X = tensor.randn { 9, 11, 10, 3 }
  local m = conv_net()
  m:compile { optimizer = optim.sgd { lr = 0.1 }, loss = "cross_entropy" }
  m:fit(X, tensor.new({ 1, 2, 3, 4, 5, 1, 2, 3, 4 }, "int32"), { epochs = 1, batch_size = 4, verbose = 0 })
  local path = T.tmp("conv.nnlab")
  m:save(path)
  local m2 = nn.load(path)
  T.eq(m2:predict(X):sub(m:predict(X)):abs():max(), 0)
  T.eq(tostring(m2), tostring(m))
  for i = 1, 4 do T.eq(tostring(m2.layers[i]), tostring(m.layers[i])) end
  -- an unbuilt model keeps its options too
  local u = nn.Sequential { nn.Conv2D(2, { 2, 3 }, "relu", { padding = "same", stride = { 1, 2 } }) }
  u:save(path)
  T.eq(tostring(nn.load(path).layers[1]), tostring(u.layers[1]))
end)

T.test("the optimizers train W and b through layer.dW and layer.db", function()
  tensor.seed(4)
  local X = tensor.randn { 6, 5, 5, 2 }
  local m = nn.Sequential { nn.Conv2D(3, 3), nn.Flatten(), nn.Dense(2, "softmax") }
  m:compile { optimizer = optim.adam { lr = 0.01 }, loss = "cross_entropy" }
  m:forward(X)
  local W0, b0 = m.layers[1].W:clone(), m.layers[1].b:clone()
  m:fit(X, tensor.new({ 1, 2, 1, 2, 1, 2 }, "int32"), { epochs = 1, batch_size = 6, verbose = 0 })
  T.ok(m.layers[1].W:sub(W0):abs():max() > 1e-4, "W moved")
  T.ok(m.layers[1].b:sub(b0):abs():max() > 1e-4, "b moved")
  T.eq(table.concat(m.layers[1].dW:shape(), "x"), "3x3x2x3")
  T.raises(function() m.layers[1].W = tensor.zeros { 3, 3, 3, 3 } end, { "W must keep its shape 3x3x2x3" })
  T.raises(function() m.layers[2].x = 1 end, { "Flatten" })
end)

T.test("initialisation uses Keras's fans (kh*kw*cin, kh*kw*filters)", function()
  tensor.seed(1)
  local function built(layer)
    nn.Sequential { layer }:predict(tensor.zeros { 1, 6, 6, 3 })
    return layer
  end
  -- glorot: a = sqrt(6 / (27 + 9*64)); Dense-style fans (27, 64) would give 0.26
  local l = built(nn.Conv2D(64, 3))
  local a = math.sqrt(6 / (27 + 576))
  T.ok(l.W:abs():max() <= a and l.W:abs():max() > 0.95 * a, "glorot bound " .. a .. ", max " .. l.W:abs():max())
  T.eq(l.b:abs():max(), 0)
  l = built(nn.Conv2D(64, 3, { init = "he_uniform" }))
  a = math.sqrt(6 / 27)
  T.ok(l.W:abs():max() <= a and l.W:abs():max() > 0.95 * a, "he bound " .. a)
  l = built(nn.Conv2D(64, 3, { init = "torch" }))
  a = 1 / math.sqrt(27)
  T.ok(l.W:abs():max() <= a and l.W:abs():max() > 0.95 * a, "torch bound " .. a)
  T.ok(l.b:abs():max() <= a and l.b:abs():max() > 0, "torch draws the bias too")
end)

T.test("the same seed gives the same weights, outputs and training", function()
  local function run()
    tensor.seed(42)
    local X = tensor.randn { 10, 8, 7, 3 }
    local m = conv_net()
    m:compile { optimizer = optim.sgd { lr = 0.1, momentum = 0.9 }, loss = "cross_entropy" }
    local h = m:fit(X, tensor.new({ 1, 2, 3, 4, 5, 5, 4, 3, 2, 1 }, "int32"),
      { epochs = 2, batch_size = 3, verbose = 0 })
    return m:predict(X), m.layers[1].W:clone(), h.loss[2]
  end
  local p1, w1, l1 = run()
  local p2, w2, l2 = run()
  T.eq(p1:sub(p2):abs():max(), 0)
  T.eq(w1:sub(w2):abs():max(), 0)
  T.eq(l1, l2)
end)

T.test("any batch size and input shape gives the numbers of one big batch", function()
  tensor.seed(5)
  local layer = nn.Conv2D(5, 3, "relu", { padding = "same", stride = 2 })
  local m = nn.Sequential { layer, nn.MaxPool2D(2, { stride = 1 }) }
  local X = tensor.randn { 23, 9, 7, 2 }
  local full = m:predict(X, 23)
  -- more batch sizes than the layer keeps plans for, in both orders
  for _, b in ipairs { 1, 2, 3, 4, 5, 7, 11, 22, 23, 16, 8, 6, 1 } do
    T.eq(m:predict(X, b):sub(full):abs():max(), 0, "predict in batches of " .. b)
  end
  -- forward after a smaller and a larger batch; backward uses the forward's plan
  for _, n in ipairs { 23, 1, 4, 23, 2 } do
    local x = X:narrow(1, 1, n)
    T.eq(m:forward(x):sub(full:narrow(1, 1, n)):abs():max(), 0, "forward of " .. n)
    m:backward(x, tensor.ones(m:forward(x):shape()))
    T.ok(layer.dW:abs():max() > 0 and layer.dW:abs():max() < math.huge, "dW of " .. n)
  end
  -- the same layer on another image size, then back
  local m2 = nn.Sequential { layer }
  local Y = tensor.randn { 4, 12, 12, 2 }
  local y2 = m2:predict(Y)
  T.eq(table.concat(y2:shape(), "x"), "4x6x6x5")
  T.eq(m:predict(X, 5):sub(full):abs():max(), 0, "first model after the second")
  T.eq(m2:predict(Y, 3):sub(y2):abs():max(), 0, "second model in batches of 3")
end)

T.test("one Conv2D in two models: the backward runs the plan of its own model's forward", function()
  -- A's forward (2 images), B's forward (64 images, then another image size),
  -- then A's backward: it must read A's scratch with the plan A's forward ran
  -- (a plan for 64 images on A's smaller scratch overflowed the heap)
  local script = T.tmp("shared_conv.lua")
  local f = assert(io.open(script, "w"))
  f:write([[
tensor.seed(3)
local c = nn.Conv2D(4, 3, "relu", { padding = "same" })
local A, B = nn.Sequential { c }, nn.Sequential { c }
local xa, xb = tensor.randn { 2, 8, 8, 3 }, tensor.randn { 64, 8, 8, 3 }
local g = tensor.randn { 2, 8, 8, 4 }
A:forward(xa)
local dx_ref = A:backward(xa, g)
local dW_ref, db_ref = c.dW:clone(), c.db:clone()
local function diff(dx)
  return math.max(dx:sub(dx_ref):abs():max(), c.dW:sub(dW_ref):abs():max(), c.db:sub(db_ref):abs():max())
end
A:forward(xa)
B:forward(xb)
local d1 = diff(A:backward(xa, g))
-- other image sizes in between: more plans than the layer keeps
A:forward(xa)
for n = 1, 7 do nn.Sequential { c }:forward(tensor.randn { n, 5 + n, 6, 3 }) end
print(d1, diff(A:backward(xa, g)))
]])
  f:close()
  local bin = os.getenv("NNLAB_BIN") or "./nnlab"
  for _, engine in ipairs { "onednn", "im2col" } do
    local out, code = T.sh(string.format("NNLAB_CONV=%s %s %s", engine, bin, script))
    T.eq(code, 0, engine .. ": exit status (" .. out .. ")")
    local a, b = out:match("^(%S+)%s+(%S+)")
    T.ok(tonumber(a) == 0 and tonumber(b) == 0, engine .. ": din, dW and db as after A's own forward: " .. out)
  end
end)

T.test("layers dropped and collected free their plans", function()
  for _ = 1, 30 do
    local m = nn.Sequential { nn.Conv2D(4, 3), nn.MaxPool2D(2) }
    m:predict(tensor.randn { 5, 8, 8, 1 }, 2)
  end
  collectgarbage()
  collectgarbage()
  T.ok(true)
end)

T.test("the convolution keeps to --threads (oneDNN's OpenMP threads)", function()
  local script = T.tmp("threads.lua")
  local f = assert(io.open(script, "w"))
  f:write([[
local function threads()
  local f = assert(io.open("/proc/self/status")); local s = f:read("a"); f:close()
  return tonumber(s:match("Threads:%s*(%d+)"))
end
local before = threads()
nn.Sequential { nn.Conv2D(16, 3, "relu") }:predict(tensor.randn { 64, 16, 16, 8 })
print(before, threads())
]])
  f:close()
  local bin = os.getenv("NNLAB_BIN") or "./nnlab"
  for _, gemm in ipairs { "onednn", "openblas" } do
    local out = T.sh(string.format("NNLAB_GEMM=%s %s --threads 1 %s", gemm, bin, script))
    local a, b = out:match("(%d+)%s+(%d+)")
    T.ok(a and a == b, "NNLAB_GEMM=" .. gemm .. ": threads before and after a convolution: " .. out)
  end
end)

T.done()
