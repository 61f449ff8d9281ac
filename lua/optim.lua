-- optim.lua — optimizers for model:compile and hand-written loops:
-- optim.sgd{lr, momentum, nesterov, weight_decay} and
-- optim.adam{lr, beta1, beta2, eps, weight_decay}, with PyTorch's update rules.
-- optimizer:step(model) applies one update from the layers' gradients;
-- optimizer.lr can be changed between epochs. The options are read and
-- checked in C (src/nn/lua_optim.c), as the layers' are.
-- optim.schedules makes the ready-made values of fit's lr_schedule option
-- (checked and computed in C by fit: src/nn/lua_fit.c, fit_callbacks.c).
local C = require "_optim"

local schedules = {}

-- Refuses keys other than those named (a misspelt "factr" is not dropped).
local function known_keys(t, who, ...)
  local ok = {}
  for _, k in ipairs({ ... }) do ok[k] = true end
  for k in pairs(t) do
    if not ok[k] then
      error(string.format("%s: unknown option '%s' (expected %s)", who, tostring(k), table.concat({ ... }, " or ")), 3)
    end
  end
end

-- optim.schedules.cosine([{min_lr=0}]): PyTorch's CosineAnnealingLR over
-- fit's epochs, the same as lr_schedule = "cosine".
function schedules.cosine(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("optim.schedules.cosine: expected nothing or {min_lr=}, got " .. type(opts), 2)
  end
  if opts then known_keys(opts, "optim.schedules.cosine", "min_lr") end
  return { cosine = true, min_lr = opts and opts.min_lr }
end

-- optim.schedules.step(every [, factor=0.1]) or step{every=, factor=}:
-- PyTorch's StepLR, lr multiplied by factor every `every` epochs.
function schedules.step(every, factor)
  if type(every) == "table" then
    known_keys(every, "optim.schedules.step", "every", "factor")
    every, factor = every.every, every.factor
  end
  if type(every) ~= "number" then
    error("optim.schedules.step: expected the number of epochs between decays, got " .. type(every), 2)
  end
  return { step = every, factor = factor }
end

return { sgd = C.sgd, adam = C.adam, schedules = schedules }
