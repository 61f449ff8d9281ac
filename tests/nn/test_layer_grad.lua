-- test_layer_grad.lua — the gradient test every kind of layer gets for free:
-- for each row of the table of kinds (_nn.kinds), layers are made from what
-- the kind declares (_nn.kind_info: a small value for each required option,
-- one variant per name of each named option), put alone in a model on each
-- of a few input shapes the kind accepts (at least one), and model:backward is
-- compared with central differences of model:forward over every entry
-- (or a sample of them) of every declared tensor, of any shape, and of the
-- input, in inference and in training mode. A kind that draws random
-- numbers draws the same ones for every forward: the generator is seeded
-- again before each. State tensors (no gradient: BatchNormalization's moving
-- statistics) get positive values, as a variance must be.
local T = require "testlib"
local C = require "_nn"

-- Per-sample input shapes tried in order: a small H×W×C image (odd and
-- unequal sides, so that strides and "same" padding leave remainders),
-- flat features, a 2-D sample.
local SHAPES = { { 7, 6, 3 }, { 5 }, { 3, 4 } }
local B = 3

-- A value for option o that its range allows.
local function value_for(o, small)
  if o.type == "name" or o.type == "name_int" then return o.names[1] end
  if o.type == "bool" then return false end
  local v = (o.type == "int" or o.type == "int2") and 3 or small
  if o.lo and v < o.lo then v = o.lo end
  if o.hi and v >= o.hi then v = (o.type == "int" or o.type == "int2") and o.hi or (o.lo + o.hi) / 2 end
  return v
end

-- Constructor arguments for kind `info`: positional options, then the
-- options table; `set` overrides some by name.
local function args_for(info, set)
  local pos, tbl, n = {}, {}, 0
  for _, o in ipairs(info.options) do
    local v = set[o.name]
    if v == nil and (o.required or o.position > 0) then v = value_for(o, 0.5) end
    if o.position > 0 then
      pos[o.position] = v
      n = math.max(n, o.position)
    elseif v ~= nil then
      tbl[o.name] = v
    end
  end
  local args = {}
  for i = 1, n do args[i] = pos[i] end
  if next(tbl) then args[n + 1] = tbl end
  return args, n + (next(tbl) and 1 or 0)
end

-- The variants of a kind: the plain one, one per name of each named option
-- (and an integer 1 for a name-or-integer), one with every optional number
-- set (an offset of 0.25, ...) and one per optional integer set to 2 (a
-- stride).
local function variants(info)
  local list = { {} }
  for _, o in ipairs(info.options) do
    if o.type == "name" or o.type == "name_int" then
      for i = 2, #o.names do list[#list + 1] = { [o.name] = o.names[i] } end
      if o.type == "name_int" then list[#list + 1] = { [o.name] = 1 } end
    elseif (o.type == "int" or o.type == "int2") and not o.required and o.position == 0 then
      list[#list + 1] = { [o.name] = 2 }
    elseif (o.type == "float" or o.type == "double") and not o.required then
      list[#list + 1] = { [o.name] = value_for(o, 0.25) }
    end
  end
  return list
end

-- A model of the layer alone, built for samples of shape s, or nil when the
-- kind refuses that shape.
local function model_for(layer, s)
  local m = nn.Sequential { layer }
  if pcall(m.predict, m, tensor.zeros({ B, table.unpack(s) })) then return m end
end

local function check(model, s, info, training)
  local x = tensor.randn({ B, table.unpack(s) })
  if training then model:train() end
  -- random values everywhere: a zero bias puts every ReLU on its kink
  for _, t in ipairs(info.tensors) do
    local v = model.layers[1][t.name]
    if t.grad then v:copy(tensor.randn(v:shape()) * 0.5)
    else v:copy(tensor.randn(v:shape()):abs() * 0.5 + 0.5) end
  end
  local function forward() tensor.seed(99); return model:forward(x) end
  local R = tensor.randn(forward():shape())
  local function f() return (forward() * R):sum() end
  forward()
  local din = model:backward(x, R):clone()
  local l = model.layers[1]
  local grads = {}
  for _, t in ipairs(info.tensors) do
    if t.grad then grads[t.name] = l[t.grad]:clone() end
  end
  local h = 5e-4
  -- flat position k of t as indices
  local function at(t, k)
    local idx, shape = {}, t:shape()
    for d = #shape, 1, -1 do idx[d] = (k - 1) % shape[d] + 1; k = (k - 1) // shape[d] + 1 end
    return idx
  end
  local function set(t, idx, v)
    local a = { table.unpack(idx) }
    a[#a + 1] = v
    t:set(table.unpack(a))
  end
  local function fd(t, idx)
    local v = t:get(table.unpack(idx))
    set(t, idx, v + h); local fp = f()
    set(t, idx, v - h); local fm = f()
    set(t, idx, v)
    return (fp - fm) / (2 * h)
  end
  local function compare(what, t, g)
    local n = t:numel()
    for i = 1, math.min(n, 8) do
      local idx = at(t, n <= 8 and i or math.random(n))
      T.near(g:get(table.unpack(idx)), fd(t, idx), 2e-2, what .. "[" .. table.concat(idx, ",") .. "]")
    end
  end
  for _, t in ipairs(info.tensors) do
    if t.grad then compare(t.grad, l[t.name], grads[t.name]) end
  end
  compare("dx", x, din)
end

math.randomseed(7)
tensor.seed(7)
local seen = 0
for _, name in ipairs(C.kinds) do
  local info = C.kind_info(name)
  for _, set in ipairs(variants(info)) do
    local args, n = args_for(info, set)
    local label = name .. "(" .. table.concat((function()
      local t = {}
      for i = 1, n do
        local a = args[i]
        if type(a) == "table" then
          local kv = {}
          for k, v in pairs(a) do kv[#kv + 1] = k .. "=" .. tostring(v) end
          table.sort(kv)
          a = "{" .. table.concat(kv, ", ") .. "}"
        end
        t[i] = tostring(a)
      end
      return t
    end)(), ", ") .. ")"
    local fits = 0
    for _, s in ipairs(SHAPES) do
      for _, training in ipairs { false, true } do
        local model = model_for(nn[name](table.unpack(args, 1, n)), s)
        if model then
          fits = fits + 1
          T.test(label .. " on " .. table.concat(s, "x") .. (training and " in training" or "") ..
            ": gradients of its tensors and input", function() check(model, s, info, training) end)
        end
      end
    end
    T.test(label .. ": some input shape of the test fits it", function()
      T.ok(fits > 0, "none of the shapes fits")
    end)
  end
  seen = seen + 1
end

T.test("every kind of the table was checked", function()
  T.ok(seen == #C.kinds and seen >= 14, "kinds checked: " .. seen)
end)

T.done()
