-- nn.lua — the Lua side of nn: the layer constructors (one per kind of the
-- C core's table, _nn.kinds) and nn.Sequential, plus what reads better in
-- Lua: option checking for compile, the Keras-like summary (also
-- tostring(model)), and the loss objects nn.CrossEntropyLoss() and
-- nn.MSELoss() for hand-written loops.
local C = require "_nn"
local i18n = require "i18n"
local optim_C = require "_optim" -- now: a sandboxed lesson cannot require it later
local M = {}

for _, k in ipairs(C.kinds) do M[k] = C[k] end
M.Sequential, M.load = C.Sequential, C.load

local methods = C.model_mt.methods

-- A layer object may appear once in a model: backward keeps one set of
-- inputs and gradients per layer object, so a second use would overwrite
-- the first and train with wrong gradients. members[model] = {layer = position}.
local members = setmetatable({}, { __mode = "k" })

local function where_of(model)
  local m = members[model]
  if not m then m = {}; members[model] = m end
  return m
end

function M.Sequential(layers)
  local seen = {}
  if type(layers) == "table" then
    for i = 1, #layers do
      local l = layers[i]
      if type(l) == "userdata" then
        if seen[l] then
          error(string.format("nn.Sequential: layer %d is the same object as layer %d (a layer can " ..
            "appear once in a model; create another, e.g. nn.Dense(...) again)", i, seen[l]), 2)
        end
        seen[l] = i
      end
    end
  end
  local model = C.Sequential(layers)
  members[model] = seen
  return model
end

local c_add = methods.add
function methods.add(self, layer)
  local m = where_of(self)
  if layer ~= nil and m[layer] then
    error(string.format("add: this layer is already layer %d of the model (a layer can appear " ..
      "once in a model; create another)", m[layer]), 2)
  end
  c_add(self, layer)
  local n = 0
  for _ in pairs(m) do n = n + 1 end
  m[layer] = n + 1
  return self
end

-- fit's shuffle is a boolean: a string such as "no" would count as true.
local function check_shuffle(v)
  if v ~= nil and type(v) ~= "boolean" then
    error("fit: shuffle must be true or false, got " .. (type(v) == "string" and ("'" .. v .. "'") or type(v)), 3)
  end
end

-- Rescaling(scale [, offset]): both finite numbers.
function M.Rescaling(scale, offset)
  for _, a in ipairs({ { "scale", scale }, { "offset", offset } }) do
    local v = a[2]
    if (v ~= nil or a[1] == "scale") and (type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge) then
      error(string.format("nn.Rescaling: %s: expected a finite number, got %s", a[1],
        type(v) == "number" and tostring(v) or type(v)), 2)
    end
  end
  return C.Rescaling(scale, offset)
end

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
  elseif getmetatable(opt) ~= optim_C.optimizer_mt then
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

-- The lines early stopping adds to fit's report (verbose > 0).
local function early_report(es)
  local T = i18n.t
  local name = T("fit." .. es.monitor)
  if es.stopped_epoch > 0 then
    local waited = es.stopped_epoch - es.best_epoch
    if waited == 1 then print(T("fit.early_stop_one", es.stopped_epoch, name, es.best, es.best_epoch))
    else print(T("fit.early_stop", es.stopped_epoch, name, waited, es.best, es.best_epoch)) end
  end
  if es.restored then print(T("fit.restored", es.best_epoch, name, es.best)) end
end

-- model:fit(X, y, {epochs, batch_size, validation_split, validation_data={X, y},
-- shuffle, verbose, on_epoch, lr_schedule, early_stopping}) -> history.
-- on_epoch(epoch, logs) returning false stops training after that epoch.
-- Everything fit does is src/nn/lua_fit.c's; this puts the caller's line on
-- its errors and prints what early stopping did.
function methods.fit(self, X, y, opts)
  if type(opts) == "table" then check_shuffle(opts.shuffle) end
  C.fit_words(i18n.fit_words())
  local ok, r, es = pcall(self._fit, self, X, y, opts)
  if not ok then error(type(r) == "string" and r:gsub("^lua/nn%.lua:%d+: ", "") or r, 2) end
  local verbose = type(opts) == "table" and opts.verbose
  if es and (verbose == nil or verbose == true or (type(verbose) == "number" and verbose > 0)) then
    early_report(es)
  end
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

-- A kind's name as Keras names its layers: BatchNormalization ->
-- batch_normalization, MaxPooling2D -> max_pooling2d; ReLU stays relu.
local function snake(name)
  return (name:gsub("(%l)(%u)(%l)", "%1_%2%3"):lower())
end

-- The Keras-like table: layer, output shape, parameters, total; then, when
-- some are not trained (BatchNormalization's moving statistics), the
-- trainable and non-trainable counts as Keras prints them.
local function summary_string(self)
  local built, info = self:_info()
  local rows, total, trainable = {}, 0, 0
  for i, l in ipairs(info) do
    local name = snake(l.name) .. "_" .. i .. " (" .. l.name
      .. (l.activation and l.activation ~= "linear" and (", " .. l.activation) or "") .. ")"
    rows[#rows + 1] = { name, shape_str(l.shape), built and thousands(l.params) or "?" }
    total, trainable = total + l.params, trainable + l.trainable
  end
  local T = i18n.t
  local out = { T("summary.model") .. (built and "" or T("summary.unbuilt")) }
  local width = 28 -- the first column grows for long names
  for _, r in ipairs(rows) do width = math.max(width, utf8.len(r[1]) or #r[1]) end
  local fmt = "%-" .. width .. "s %-20s %12s"
  out[#out + 1] = string.format(fmt, T("summary.layer"), T("summary.shape"), T("summary.params"))
  out[#out + 1] = string.rep("=", width + 34)
  for _, r in ipairs(rows) do out[#out + 1] = string.format(fmt, r[1], r[2], r[3]) end
  out[#out + 1] = string.rep("=", width + 34)
  out[#out + 1] = T("summary.total") .. (built and thousands(total) or "?")
  if built and trainable < total then
    out[#out + 1] = T("summary.trainable") .. thousands(trainable)
    out[#out + 1] = T("summary.nontrainable") .. thousands(total - trainable)
  end
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
