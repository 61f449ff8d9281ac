-- nn.lua — the Lua side of nn: the layer constructors (one per kind of the
-- C core's table, _nn.kinds) and nn.Sequential, plus what reads better in
-- Lua: option checking for compile, the Keras-like summary (also
-- tostring(model)), and the loss objects nn.CrossEntropyLoss() and
-- nn.MSELoss() for hand-written loops.
local C = require "_nn"
local M = {}

for _, k in ipairs(C.kinds) do M[k] = C[k] end
M.Sequential, M.load = C.Sequential, C.load

local methods = C.model_mt.methods

local function check_keys(who, t, allowed)
  if type(t) ~= "table" then
    error(string.format("%s: expected an options table, got %s", who, type(t)), 3)
  end
  for k in pairs(t) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("%s: unknown option '%s' (expected %s)", who, tostring(k),
        table.concat(names, ", ")), 3)
    end
  end
end

local LOSSES = { cross_entropy = "cross_entropy", sparse_categorical_crossentropy = "cross_entropy",
  mse = "mse" }

-- model:compile{optimizer=, loss=, metrics=}. optimizer may be an optimizer
-- object or the name "sgd" / "adam" (default settings).
function methods.compile(self, opts)
  check_keys("compile", opts, { optimizer = true, loss = true, metrics = true })
  local opt = opts.optimizer or "sgd"
  if type(opt) == "string" then
    local optim = require "optim"
    if not optim[opt] then
      error(string.format("compile: unknown optimizer '%s' (expected sgd or adam)", opt), 2)
    end
    opt = optim[opt] {}
  elseif getmetatable(opt) ~= require("_optim").optimizer_mt then
    error("compile: optimizer must be optim.sgd{...}, optim.adam{...} or a name, got " .. type(opt), 2)
  end
  local loss = opts.loss or "cross_entropy"
  if not LOSSES[loss] then
    error(string.format("compile: unknown loss '%s' (expected cross_entropy, " ..
      "sparse_categorical_crossentropy or mse)", tostring(loss)), 2)
  end
  for _, m in ipairs(opts.metrics or {}) do
    if m ~= "accuracy" and m ~= "acc" then
      error(string.format("compile: unknown metric '%s' (expected accuracy)", tostring(m)), 2)
    end
  end
  self:_compile(opt, LOSSES[loss])
  return self
end

-- model:fit(X, y, {epochs, batch_size, validation_split, validation_data={X, y},
-- shuffle, verbose, on_epoch}) -> history. on_epoch(epoch, logs) returning
-- false stops training after that epoch. Everything fit does is
-- src/nn/lua_fit.c's; this only puts the caller's line on its errors.
function methods.fit(self, X, y, opts)
  local ok, r = pcall(self._fit, self, X, y, opts)
  if not ok then error(type(r) == "string" and r:gsub("^lua/nn%.lua:%d+: ", "") or r, 2) end
  return r
end

local function shape_str(s)
  if not s then return "?" end
  local parts = { "None" }
  for _, v in ipairs(s) do parts[#parts + 1] = tostring(v) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local function thousands(n)
  local s = tostring(n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- The Keras-like table: layer, output shape, parameters, total.
local function summary_string(self)
  local built, info = self:_info()
  local rows, total = {}, 0
  for i, l in ipairs(info) do
    local name = l.name:lower() .. "_" .. i .. " (" .. l.name
      .. (l.activation and l.activation ~= "linear" and (", " .. l.activation) or "") .. ")"
    rows[#rows + 1] = { name, shape_str(l.shape), built and thousands(l.params) or "?" }
    total = total + l.params
  end
  local out = { "Model: Sequential" .. (built and "" or " (not built yet: sizes are inferred on first use)") }
  local fmt = "%-28s %-20s %12s"
  out[#out + 1] = string.format(fmt, "Layer (type)", "Output shape", "Param #")
  out[#out + 1] = string.rep("=", 62)
  for _, r in ipairs(rows) do out[#out + 1] = string.format(fmt, r[1], r[2], r[3]) end
  out[#out + 1] = string.rep("=", 62)
  out[#out + 1] = "Total params: " .. (built and thousands(total) or "?")
  return table.concat(out, "\n")
end

function methods.summary(self)
  print(summary_string(self))
end

C.model_mt.__tostring = summary_string
C.model_mt.__name = "nnlab.Model"

-- Loss objects for hand-written loops. CrossEntropyLoss expects
-- probabilities (the output of a model ending in softmax) unless made with
-- {from_logits=true}; labels are class indices 1..K.
local Loss = {}
Loss.__index = Loss
Loss.__name = "nnlab.Loss"
function Loss:forward(output, y) return C.loss(self.kind, output, y, false, self.from_logits) end
function Loss:backward(output, y) return C.loss(self.kind, output, y, true, self.from_logits) end
function Loss:__tostring()
  return self.kind == "mse" and "nn.MSELoss()" or
    ("nn.CrossEntropyLoss{from_logits=" .. tostring(self.from_logits) .. "}")
end

function M.CrossEntropyLoss(opts)
  opts = opts or {}
  check_keys("nn.CrossEntropyLoss", opts, { from_logits = true })
  return setmetatable({ kind = "ce", from_logits = opts.from_logits and true or false }, Loss)
end

function M.MSELoss()
  return setmetatable({ kind = "mse", from_logits = false }, Loss)
end

return M
