-- test_activations.lua — model:activations(X [, batch_size]): one tensor per
-- layer, N then the layer's output shape; the last equals predict; the
-- others equal the layers computed by hand with tensor ops (Rescaling,
-- Flatten, Dense, ReLU, softmax); chunking changes nothing; inference mode
-- (Dropout off); an unbuilt model is built from X; predict's errors.
local T = require "testlib"

local function max_abs_diff(a, b) return a:sub(b):abs():max() end

-- softmax by rows, by hand: exp(z - max) / sum
local function softmax(z)
  local e = z:sub(z:max(2):reshape(z:size(1), 1)):exp()
  return e:div(e:sum(2):reshape(z:size(1), 1))
end

local function model_and_data()
  tensor.seed(4)
  local X = tensor.rand(7, 2, 3, 2):mul(255)
  local m = nn.Sequential { nn.Rescaling(1 / 255, -0.5), nn.Flatten(), nn.Dense(5), nn.ReLU(),
    nn.Dropout(0.5), nn.Dense(4, "tanh"), nn.Dense(3, "softmax") }
  return m, X
end

T.test("one tensor per layer with N x the layer's output shape; an unbuilt model is built", function()
  local m, X = model_and_data()
  local a = m:activations(X)
  T.eq(#a, 7, "one per layer")
  local want = { { 7, 2, 3, 2 }, { 7, 12 }, { 7, 5 }, { 7, 5 }, { 7, 5 }, { 7, 4 }, { 7, 3 } }
  for i, s in ipairs(want) do
    T.eq(table.concat(a[i]:shape(), "x"), table.concat(s, "x"), "layer " .. i .. " shape")
    T.eq(a[i].dtype, "float32", "layer " .. i .. " dtype")
  end
end)

T.test("each entry equals the layer computed by hand; the last equals predict", function()
  local m, X = model_and_data()
  local a = m:activations(X)
  local L = m.layers
  local r = X:float():mul(1 / 255):add(-0.5)
  T.ok(max_abs_diff(a[1], r) < 1e-6, "Rescaling: x/255 - 0.5")
  local f = r:reshape(7, 12)
  T.ok(max_abs_diff(a[2], f) < 1e-6, "Flatten")
  local d = f:matmul(L[3].W):add(L[3].b)
  T.ok(max_abs_diff(a[3], d) < 1e-5, "Dense: x·W + b")
  local relu = d:add(d:abs()):div(2)
  T.ok(max_abs_diff(a[4], relu) < 1e-5, "ReLU: (x + |x|)/2")
  T.ok(max_abs_diff(a[5], a[4]) == 0, "Dropout is the identity in inference")
  local t = a[5]:matmul(L[6].W):add(L[6].b):tanh()
  T.ok(max_abs_diff(a[6], t) < 1e-5, "Dense tanh")
  local p = softmax(a[6]:matmul(L[7].W):add(L[7].b))
  T.ok(max_abs_diff(a[7], p) < 1e-5, "Dense softmax")
  T.eq(max_abs_diff(a[7], m:predict(X)), 0, "the last entry is predict's output exactly")
end)

T.test("chunks of 3 on 7 samples give what one batch gives", function()
  local m, X = model_and_data()
  local one, chunked = m:activations(X, 7), m:activations(X, 3)
  for i = 1, #one do T.eq(max_abs_diff(one[i], chunked[i]), 0, "layer " .. i) end
  local big = m:activations(X)
  for i = 1, #one do T.eq(max_abs_diff(one[i], big[i]), 0, "default batch, layer " .. i) end
end)

T.test("inference mode even after model:train(); a single sample works", function()
  local m, X = model_and_data()
  local a = m:activations(X)
  m:train()
  local b = m:activations(X)
  T.eq(max_abs_diff(a[5], b[5]), 0, "Dropout does not drop")
  local one = m:activations(X:narrow(1, 2, 1))
  T.eq(max_abs_diff(one[7], a[7]:narrow(1, 2, 1)), 0, "row 2 alone")
end)

T.test("a batch_size past the samples runs them as one batch (2^62 for 7 samples)", function()
  -- the workspace was sized for batch_size rows: 2^62 rows overflowed its
  -- size and the heap was overwritten
  local m, X = model_and_data()
  m:compile { optimizer = "sgd", loss = "cross_entropy" }
  local a, p = m:activations(X), m:predict(X)
  local y = tensor.new({ 1, 2, 3, 1, 2, 3, 1 }, "int32")
  local e = m:evaluate(X, y)
  for _, b in ipairs { 8, 2 ^ 40, 2 ^ 62, math.maxinteger } do
    local big = m:activations(X, b)
    for i = 1, #a do T.eq(max_abs_diff(big[i], a[i]), 0, "activations, batch " .. b .. ", layer " .. i) end
    T.eq(max_abs_diff(m:predict(X, b), p), 0, "predict, batch " .. b)
    T.eq(m:evaluate(X, y, b).loss, e.loss, "evaluate, batch " .. b)
  end
end)

T.test("bad input gives predict's errors", function()
  local m, X = model_and_data()
  m:activations(X)
  local function same(x, batch, parts)
    local e1 = T.raises(function() m:predict(x, batch) end, parts)
    local e2 = T.raises(function() m:activations(x, batch) end, parts)
    local function body(e) return (e:gsub("^[^:]*:%d+: ", ""):gsub("^activations", "predict")) end
    T.eq(body(e2), body(e1), "same message")
  end
  same(tensor.rand(7, 5), nil, { "input size mismatch", "2x3x2", "5" })
  same(tensor.rand(7), nil, { "expected a batch of samples" })
  same(X, 0, { "batch_size must be >= 1", "got 0" })
  T.raises(function() m:activations("x") end, { "Tensor" })
  T.raises(function() nn.Sequential {}:activations(X) end, { "activations", "no layers" })
end)

T.done()
