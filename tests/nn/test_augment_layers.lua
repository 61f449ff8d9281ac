-- test_augment_layers.lua — nn.RandomFlip and nn.RandomTranslation: the
-- identity under predict, evaluate and model:eval() (exactly); while
-- training, every output sample is one of the allowed transforms of its
-- input, computed here independently from nested Lua tables (mirrors;
-- whole-pixel shifts with zero fill); the same seed gives the same output;
-- the backward is the transpose of the forward's draw, <f(x), y> = <x, fᵀ(y)>;
-- over many samples each axis flips about half the time and the shifts
-- cover the whole range [−k, k] (k = ⌊factor·size⌋, Keras's fraction: 2/32
-- on 32 pixels is ±2) and nothing beyond; fit draws them; bad arguments
-- give clear errors.
local T = require "testlib"

-- ---- independent references on nested tables t[y][x][c] ----------------
local function flip_ref(img, h, v)
  local H, W, out = #img, #img[1], {}
  for y = 1, H do
    out[y] = {}
    for x = 1, W do
      local src = img[v and H + 1 - y or y][h and W + 1 - x or x]
      out[y][x] = { table.unpack(src) }
    end
  end
  return out
end

local function shift_ref(img, dy, dx)
  local H, W, C, out = #img, #img[1], #img[1][1], {}
  for y = 1, H do
    out[y] = {}
    for x = 1, W do
      local sy, sx, px = y - dy, x - dx, {}
      for c = 1, C do
        px[c] = (sy >= 1 and sy <= H and sx >= 1 and sx <= W) and img[sy][sx][c] or 0
      end
      out[y][x] = px
    end
  end
  return out
end

local function same(a, b)
  for y = 1, #a do
    for x = 1, #a[1] do
      for c = 1, #a[1][1] do
        if a[y][x][c] ~= b[y][x][c] then return false end
      end
    end
  end
  return true
end

local function dot(a, b) return (a:mul(b)):sum() end

-- Which flips (h, v) among `allowed` turn img into out, or nil.
local FLIPS = {
  horizontal = { { false, false }, { true, false } },
  vertical = { { false, false }, { false, true } },
  horizontal_and_vertical = { { false, false }, { true, false }, { false, true }, { true, true } },
}
local function which_flip(img, out, mode)
  for _, f in ipairs(FLIPS[mode]) do
    if same(flip_ref(img, f[1], f[2]), out) then return f end
  end
end

-- The shift (dy, dx) that turns img (all values distinct and non-zero)
-- into out: read from a pixel that survived, then checked on every pixel.
local function which_shift(img, out)
  local H, W = #img, #img[1]
  local where = {}
  for y = 1, H do for x = 1, W do where[img[y][x][1]] = { y, x } end end
  for y = 1, H do
    for x = 1, W do
      local p = where[out[y][x][1]]
      if out[y][x][1] ~= 0 and p then
        local dy, dx = y - p[1], x - p[2]
        if same(shift_ref(img, dy, dx), out) then return dy, dx end
        return nil
      end
    end
  end
end

-- N images of H×W×C with distinct non-zero values (1, 2, ...).
local function distinct(N, H, W, C)
  return (tensor.arange(N * H * W * C):float() + 1):reshape(N, H, W, C)
end

T.test("identity under predict, evaluate and eval(), exactly; backward too", function()
  tensor.seed(1)
  local x = tensor.randn(5, 4, 6, 3)
  for _, layer in ipairs { nn.RandomFlip(), nn.RandomFlip("vertical"), nn.RandomTranslation(0.5, 0.5) } do
    local m = nn.Sequential { layer }
    T.eq(m:predict(x):sub(x):abs():max(), 0, tostring(layer) .. " predict")
    m:train()
    T.eq(m:predict(x):sub(x):abs():max(), 0, tostring(layer) .. " predict after train()")
    m:eval()
    T.eq(m:forward(x):sub(x):abs():max(), 0, tostring(layer) .. " forward in eval()")
    local g = tensor.randn(5, 4, 6, 3)
    T.eq(m:backward(x, g):sub(g):abs():max(), 0, tostring(layer) .. " backward in eval()")
  end
  -- evaluate: the same loss as the model without the augmentation layers
  local y = tensor.new({ 1, 2, 3, 1, 2 }):int()
  local a = nn.Sequential { nn.RandomFlip(), nn.RandomTranslation(0.25, 0.25), nn.Flatten(), nn.Dense(3, "softmax") }
  local b = nn.Sequential { nn.Flatten(), nn.Dense(3, "softmax") }
  a:compile { optimizer = "sgd" }; b:compile { optimizer = "sgd" }
  a:predict(x); b:predict(x)
  b.layers[2].W, b.layers[2].b = a.layers[4].W, a.layers[4].b
  a:train()
  T.eq(a:evaluate(x, y).loss, b:evaluate(x, y).loss, "evaluate")
end)

for mode, allowed in pairs(FLIPS) do
  T.test("RandomFlip(\"" .. mode .. "\") in training: each sample is one of its " .. #allowed ..
    " flips; about half flip per axis", function()
    local N = 2000
    local x = distinct(N, 3, 4, 2)
    local m = nn.Sequential { nn.RandomFlip(mode) }
    m:train()
    local out = m:forward(x):totable()
    local xs = x:totable()
    local count = { h = 0, v = 0 }
    local combos = {}
    for n = 1, N do
      local f = which_flip(xs[n], out[n], mode)
      if not f then error("sample " .. n .. " is not a " .. mode .. " flip of its input") end
      if f[1] then count.h = count.h + 1 end
      if f[2] then count.v = count.v + 1 end
      local key = tostring(f[1]) .. tostring(f[2])
      combos[key] = (combos[key] or 0) + 1
    end
    -- 1/2 ± 0.05 is more than 4 standard deviations (0.011) for 2000 draws
    local h_on, v_on = mode ~= "vertical", mode ~= "horizontal"
    T.ok(h_on and math.abs(count.h / N - 0.5) < 0.05 or (not h_on and count.h == 0),
      "horizontal flips: " .. count.h .. " of " .. N)
    T.ok(v_on and math.abs(count.v / N - 0.5) < 0.05 or (not v_on and count.v == 0),
      "vertical flips: " .. count.v .. " of " .. N)
    for _, f in ipairs(allowed) do
      local c = combos[tostring(f[1]) .. tostring(f[2])] or 0
      T.ok(math.abs(c / N - 1 / #allowed) < 0.05, "flips " .. tostring(f[1]) .. "," .. tostring(f[2]) .. ": " .. c)
    end
  end)
end

T.test("RandomFlip() is Keras's default, horizontal_and_vertical", function()
  T.eq(nn.RandomFlip().mode, "horizontal_and_vertical")
  T.eq(tostring(nn.RandomFlip("horizontal")), 'RandomFlip("horizontal")')
end)

T.test("RandomTranslation in training: whole-pixel shifts with zero fill over all of [-k, k]", function()
  -- factors as Keras's fractions: 2/32 of 32 pixels is 2; 0.1 of 32 is 3.2 -> 3;
  -- 0.5 of 4 is 2 and 0.25 of 8 is 2; a factor 0 never shifts that axis
  for _, c in ipairs {
    { 32, 32, 2 / 32, 2 / 32, 2, 2, 600 },
    { 32, 32, 0.1, 0, 3, 0, 600 },
    { 4, 8, 0.5, 0.25, 2, 2, 1500 },
  } do
    local H, W, hf, wf, kh, kw, N = table.unpack(c)
    local x = distinct(N, H, W, 1)
    local m = nn.Sequential { nn.RandomTranslation(hf, wf) }
    m:train()
    local out, xs = m:forward(x):totable(), x:totable()
    local seen_y, seen_x = {}, {}
    for n = 1, N do
      local dy, dx = which_shift(xs[n], out[n])
      if not dy then error(string.format("%dx%d sample %d is not a shift of its input", H, W, n)) end
      T.ok(math.abs(dy) <= kh and math.abs(dx) <= kw, string.format("shift (%d, %d) beyond (%d, %d)", dy, dx, kh, kw))
      seen_y[dy] = (seen_y[dy] or 0) + 1
      seen_x[dx] = (seen_x[dx] or 0) + 1
    end
    for d = -kh, kh do
      T.ok(math.abs((seen_y[d] or 0) / N - 1 / (2 * kh + 1)) < 0.07,
        string.format("%dx%d: vertical shift %d drawn %d times of %d", H, W, d, seen_y[d] or 0, N))
    end
    for d = -kw, kw do
      T.ok(math.abs((seen_x[d] or 0) / N - 1 / (2 * kw + 1)) < 0.07,
        string.format("%dx%d: horizontal shift %d drawn %d times of %d", H, W, d, seen_x[d] or 0, N))
    end
  end
end)

local LAYERS = {
  function() return nn.RandomFlip() end,
  function() return nn.RandomFlip("horizontal") end,
  function() return nn.RandomFlip("vertical") end,
  function() return nn.RandomTranslation(0.3, 0.4) end,
}

T.test("the same seed gives the same draws, another seed others", function()
  local x = tensor.randn(40, 5, 5, 2)
  for _, make in ipairs(LAYERS) do
    local m = nn.Sequential { make() }
    m:train()
    tensor.seed(11); local a = m:forward(x)
    tensor.seed(11); local b = m:forward(x)
    tensor.seed(12); local c = m:forward(x)
    T.eq(a:sub(b):abs():max(), 0, tostring(m.layers[1]) .. " same seed")
    T.ok(a:sub(c):abs():max() > 0, tostring(m.layers[1]) .. " another seed")
  end
end)

T.test("backward is the transpose of the forward's draw: <f(x), y> = <x, f'(y)>", function()
  tensor.seed(21)
  for _, make in ipairs(LAYERS) do
    local m = nn.Sequential { make() }
    m:train()
    local x, y = tensor.randn(30, 6, 7, 3), tensor.randn(30, 6, 7, 3)
    local fx = m:forward(x)
    local fty = m:backward(x, y)
    T.ok(fx:sub(x):abs():max() > 0, "the forward transformed something")
    T.near(dot(fx, y), dot(x, fty), 1e-5, tostring(m.layers[1]))
    -- and not the transpose of another draw
    m:forward(x)
    T.ok(math.abs(dot(fx, y) - dot(x, m:backward(x, y))) > 1e-3, "a new draw gives another transpose")
  end
end)

T.test("backward follows the forward's mode, whatever the model's mode is by then", function()
  local x, g = tensor.randn(8, 4, 4, 1), tensor.randn(8, 4, 4, 1)
  local m = nn.Sequential { nn.RandomTranslation(0.5, 0.5) }
  m:forward(x)      -- inference: the identity
  m:train()
  T.eq(m:backward(x, g):sub(g):abs():max(), 0, "identity forward, identity backward")
end)

T.test("fit draws augmentations (deterministic with the seed)", function()
  local X = tensor.randn(48, 4, 4, 1)
  local y = tensor.new((function() local t = {}; for i = 1, 48 do t[i] = i % 2 + 1 end; return t end)()):int()
  local function run(aug)
    local layers = aug and { nn.RandomFlip(), nn.RandomTranslation(0.25, 0.25) } or {}
    layers[#layers + 1] = nn.Flatten()
    layers[#layers + 1] = nn.Dense(2, "softmax")
    local m = nn.Sequential(layers)
    m:compile { optimizer = optim.sgd { lr = 0.5 } }
    m:predict(X)
    m.layers[#layers].W = tensor.ones(16, 2) * 0.01
    tensor.seed(3)
    m:fit(X, y, { epochs = 2, batch_size = 8, shuffle = false, verbose = 0 })
    return m.layers[#layers].W
  end
  local a, b, plain = run(true), run(true), run(false)
  T.eq(a:sub(b):abs():max(), 0, "same seed, same weights")
  T.ok(a:sub(plain):abs():max() > 1e-4, "the augmented fit trained on transformed inputs")
end)

T.test("bad arguments: clear errors", function()
  T.raises(function() nn.RandomFlip("sideways") end,
    { "nn.RandomFlip", "sideways", "horizontal, vertical or horizontal_and_vertical" })
  T.raises(function() nn.RandomFlip(1) end, { "nn.RandomFlip", "mode" })
  T.raises(function() nn.RandomTranslation(-0.1, 0) end, { "nn.RandomTranslation", "height_factor", "[0, 1)", "-0.1" })
  T.raises(function() nn.RandomTranslation(0.1, 1) end, { "nn.RandomTranslation", "width_factor", "[0, 1)" })
  T.raises(function() nn.RandomTranslation(1.5, 0) end, { "height_factor", "[0, 1)" })
  T.raises(function() nn.RandomTranslation(0.1) end, { "RandomTranslation" })
  T.raises(function() nn.Sequential { nn.RandomFlip() }:predict(tensor.zeros(2, 5)) end,
    { "RandomFlip (layer 1)", "expects images (height x width x channels)", "got 5" })
  T.raises(function() nn.Sequential { nn.RandomTranslation(0.1, 0.1) }:predict(tensor.zeros(2, 28, 28)) end,
    { "RandomTranslation (layer 1)", "28x28", "reshape" })
end)

T.done()
