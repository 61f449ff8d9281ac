-- test_shared_layer.lua — a layer object can appear once in a model (a second
-- use would share one set of saved inputs and gradients and train with wrong
-- gradients), and fit/Rescaling/clamp/permutation arguments that were
-- silently accepted or misreported are errors naming expected and given.
local T = require "testlib"

T.test("nn.Sequential refuses the same layer object twice", function()
  local d = nn.Dense(4, "relu")
  T.raises(function() nn.Sequential { d, nn.Dense(4), d } end,
    { "nn.Sequential", "layer 3 is the same object as layer 1" })
  local r = nn.ReLU()
  T.raises(function() nn.Sequential { nn.Dense(3), r, nn.Dense(3), r } end, "layer 4 is the same object as layer 2")
end)

T.test("model:add refuses a layer the model already has", function()
  local d = nn.Dense(4)
  local m = nn.Sequential { nn.Flatten(), d }
  T.raises(function() m:add(d) end, { "add", "already layer 2" })
  local e = nn.Dense(3)
  m:add(e)
  T.raises(function() m:add(e) end, "already layer 3")
  local m2 = nn.Sequential()
  m2:add(e)
  T.raises(function() m2:add(e) end, "already layer 1")
end)

T.test("distinct layers of the same kind are fine, and so is one layer in two models", function()
  local d = nn.Dense(2)
  local m1 = nn.Sequential { nn.Dense(3), nn.Dense(3), d }
  T.eq(m1:predict(tensor.zeros(1, 4)):size(2), 2)
  local m2 = nn.Sequential { nn.ReLU(), nn.ReLU() }
  T.eq(m2:predict(tensor.ones(1, 3)):sum(), 3.0)
end)

T.test("fit: shuffle must be a boolean", function()
  local m = nn.Sequential { nn.Dense(2) }
  m:compile { optimizer = "sgd", loss = "cross_entropy" }
  local X, y = tensor.rand(4, 3), tensor.new({ 1, 2, 1, 2 }, "int32")
  T.raises(function() m:fit(X, y, { shuffle = "no", verbose = 0 }) end, "fit: shuffle must be true or false, got 'no'")
  T.raises(function() m:fit(X, y, { shuffle = 0, verbose = 0 }) end, "got number")
  T.eq(#m:fit(X, y, { shuffle = false, verbose = 0 }).loss, 1)
end)

T.test("nn.Rescaling: scale and offset must be finite numbers", function()
  T.raises(function() nn.Rescaling(0 / 0) end, { "nn.Rescaling", "scale: expected a finite number, got " .. tostring(0 / 0) })
  T.raises(function() nn.Rescaling(1, math.huge) end, "offset: expected a finite number, got inf")
  T.raises(function() nn.Rescaling() end, "scale: expected a finite number, got nil")
  T.raises(function() nn.Rescaling("2") end, "got string")
  T.near(nn.Rescaling(1 / 255, -1).scale, 1 / 255, 1e-6)
end)

T.test("clamp: a NaN bound is an error, not 'no bound'", function()
  local t = tensor.new({ -2, 0.5, 3 })
  T.raises(function() t:clamp(0 / 0, 1) end, "clamp: expected a number or nil as the lower bound, got nan")
  T.raises(function() t:clamp(0, 0 / 0) end, "upper bound, got nan")
  T.eq(t:clamp(nil, 1)[3], 1.0)
end)

T.test("permutation: a size too large is reported as given", function()
  T.raises(function() require("_data").permutation(2 ^ 40) end, "expected 0..2147483647 rows, got 1099511627776")
end)

T.done()
