-- optim.lua — optimizers for model:compile and hand-written loops:
-- optim.sgd{lr, momentum, nesterov, weight_decay} and
-- optim.adam{lr, beta1, beta2, eps, weight_decay}, with PyTorch's update rules.
-- optimizer:step(model) applies one update from the layers' dW and db;
-- optimizer.lr can be changed between epochs.
local C = require "_nn"
local M = {}

local function check(who, cfg, spec)
  cfg = cfg or {}
  if type(cfg) ~= "table" then
    error(string.format("%s: expected an options table, got %s", who, type(cfg)), 3)
  end
  local names = {}
  for k in pairs(spec) do names[#names + 1] = k end
  table.sort(names)
  for k, v in pairs(cfg) do
    local want = spec[k]
    if not want then
      error(string.format("%s: unknown option '%s' (expected %s)", who, tostring(k),
        table.concat(names, ", ")), 3)
    end
    if type(v) ~= want[1] then
      error(string.format("%s: %s must be a %s, got %s", who, k, want[1], type(v)), 3)
    end
    if want[2] and not want[2](v) then
      error(string.format("%s: %s must be %s, got %s", who, k, want[3], tostring(v)), 3)
    end
  end
  return cfg
end

local function positive(v) return v > 0 end
local function nonneg(v) return v >= 0 end
local function unit(v) return v >= 0 and v < 1 end

function M.sgd(cfg)
  cfg = check("optim.sgd", cfg, {
    lr = { "number", positive, "> 0" },
    momentum = { "number", nonneg, ">= 0" },
    nesterov = { "boolean" },
    weight_decay = { "number", nonneg, ">= 0" },
  })
  if cfg.nesterov and not ((cfg.momentum or 0) > 0) then
    error("optim.sgd: nesterov needs a momentum > 0, got " .. tostring(cfg.momentum or 0), 2)
  end
  return C.optimizer("sgd", cfg)
end

function M.adam(cfg)
  cfg = check("optim.adam", cfg, {
    lr = { "number", positive, "> 0" },
    beta1 = { "number", unit, "in [0, 1)" },
    beta2 = { "number", unit, "in [0, 1)" },
    eps = { "number", positive, "> 0" },
    weight_decay = { "number", nonneg, ">= 0" },
  })
  return C.optimizer("adam", cfg)
end

return M
