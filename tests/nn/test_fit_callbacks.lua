-- test_fit_callbacks.lua — fit's lr_schedule and early_stopping options.
-- Schedules: the lr of every epoch (history.lr) against PyTorch's
-- CosineAnnealingLR / StepLR and against their formulas, and the weights
-- after 3 epochs against PyTorch's SGD stepped by the same scheduler from
-- the same start weights; a schedule function's calls and bad returns.
-- Early stopping: the epoch it stops at against Keras's rule applied to the
-- history's own list, the weights restore_best puts back against the
-- predictions saved at that epoch, min_delta, monitor, and the errors.
local T = require "testlib"

local function max_abs_diff(a, b) return a:sub(b):abs():max() end

-- Keras's EarlyStopping rule on a list of values: the epoch training stops
-- at (nil: never) and the best epoch.
local function keras_rule(vals, patience, min_delta, maximize)
  local best, best_e, wait = maximize and -math.huge or math.huge, 0, 0
  for e, v in ipairs(vals) do
    wait = wait + 1
    local better
    if maximize then better = v - min_delta > best else better = v + min_delta < best end
    if better then
      best, best_e, wait = v, e, 0
    elseif wait >= patience and e > 1 then
      return e, best_e
    end
  end
  return nil, best_e
end

---------------------------------------------------------------- schedules

-- PyTorch trains Linear-ReLU-Linear for 3 epochs on 200 rows in order
-- (batches of 32, the last of 8) with SGD momentum 0.9 and `sched`, stepped
-- after each epoch; nnlab fits the same model from the same weights with
-- shuffle=false and lr_schedule.
local function torch_case(name, sched, lr_schedule)
  T.torch_test(name, function()
    local out = T.python(string.format([[
import torch
torch.manual_seed(3)
rng = np.random.default_rng(3)
X = rng.standard_normal((200, 6)).astype(np.float32)
y = (X @ rng.standard_normal((6, 3))).argmax(1)
np.save("X.npy", X); np.save("y.npy", (y + 1).astype(np.int32))
model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
for i, k in ((0, "1"), (2, "2")):
    np.save("W" + k + ".npy", model[i].weight.detach().numpy().T.copy())
    np.save("b" + k + ".npy", model[i].bias.detach().numpy())
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = %s
lf = torch.nn.CrossEntropyLoss()
Xt, yt = torch.tensor(X), torch.tensor(y)
for e in range(3):
    lr = opt.param_groups[0]["lr"]
    total = 0.0
    for i in range(0, len(X), 32):
        opt.zero_grad()
        loss = lf(model(Xt[i:i + 32]), yt[i:i + 32])
        loss.backward()
        opt.step()
        total += loss.item() * len(yt[i:i + 32])
    sched.step()
    print(repr(lr), repr(total / len(X)))
np.save("W1_end.npy", model[0].weight.detach().numpy().T.copy())
np.save("b2_end.npy", model[2].bias.detach().numpy())
]], sched))
    local lrs, losses = {}, {}
    for lr, l in out:gmatch("(%S+) (%S+)") do lrs[#lrs + 1] = tonumber(lr); losses[#losses + 1] = tonumber(l) end
    T.eq(#lrs, 3, "PyTorch printed 3 epochs")
    local X, y = tensor.load(T.tmp("X.npy")), tensor.load(T.tmp("y.npy"))
    local m = nn.Sequential { nn.Dense(16, "relu"), nn.Dense(3, "softmax") }
    m:compile { optimizer = optim.sgd { lr = 0.1, momentum = 0.9 }, loss = "cross_entropy" }
    m:forward(X:narrow(1, 1, 1))
    m.layers[1].W = tensor.load(T.tmp("W1.npy")); m.layers[1].b = tensor.load(T.tmp("b1.npy"))
    m.layers[2].W = tensor.load(T.tmp("W2.npy")); m.layers[2].b = tensor.load(T.tmp("b2.npy"))
    local h = m:fit(X, y, { epochs = 3, batch_size = 32, shuffle = false, verbose = 0, lr_schedule = lr_schedule })
    T.eq(#h.lr, 3, "one lr per epoch")
    for e = 1, 3 do
      T.near(h.lr[e], lrs[e], 1e-12, "epoch " .. e .. " lr")
      T.near(h.loss[e], losses[e], 1e-5, "epoch " .. e .. " loss")
    end
    T.ok(lrs[3] < lrs[1], "the schedule lowers the lr (the case tests something)")
    local dW = max_abs_diff(m.layers[1].W, tensor.load(T.tmp("W1_end.npy")))
    local db = max_abs_diff(m.layers[2].b, tensor.load(T.tmp("b2_end.npy")))
    T.ok(dW < 1e-5 and db < 1e-5, string.format("weights differ from PyTorch's by %g (W1), %g (b2)", dW, db))
  end)
end

torch_case('lr_schedule = "cosine" is CosineAnnealingLR(T_max=epochs): lrs and weights as PyTorch',
  "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)", "cosine")
torch_case("optim.schedules.cosine{min_lr=0.02} is CosineAnnealingLR(eta_min=0.02)",
  "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=0.02)",
  optim.schedules.cosine { min_lr = 0.02 })
torch_case("optim.schedules.step(2, 0.5) is StepLR(step_size=2, gamma=0.5)",
  "torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)", optim.schedules.step(2, 0.5))
torch_case("lr_schedule = {step=1, factor=0.3} is StepLR(step_size=1, gamma=0.3)",
  "torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.3)", { step = 1, factor = 0.3 })

local function blobs(n, seed)
  tensor.seed(seed or 1)
  local X = tensor.rand(n, 3)
  return X, X:argmax(2):int()
end

local function small_model(lr)
  local m = nn.Sequential { nn.Dense(8, "relu"), nn.Dense(3, "softmax") }
  m:compile { optimizer = optim.sgd { lr = lr or 0.5 }, loss = "cross_entropy" }
  return m
end

T.test("cosine and step lrs follow their formulas over 7 epochs; the lr stays as last set", function()
  local X, y = blobs(60)
  local m = small_model(0.4)
  local h = m:fit(X, y, { epochs = 7, verbose = 0, lr_schedule = "cosine" })
  for e = 1, 7 do T.near(h.lr[e], 0.4 * (1 + math.cos(math.pi * (e - 1) / 7)) / 2, 1e-12, "cosine epoch " .. e) end
  T.near(m.optimizer.lr, h.lr[7], 0, "optimizer.lr after fit")
  m = small_model(0.4)
  h = m:fit(X, y, { epochs = 7, verbose = 0, lr_schedule = optim.schedules.step { every = 3, factor = 0.1 } })
  local want = { 0.4, 0.4, 0.4, 0.04, 0.04, 0.04, 0.004 }
  for e = 1, 7 do T.near(h.lr[e], want[e], 1e-15, "step epoch " .. e) end
  h = m:fit(X, y, { epochs = 2, verbose = 0 })
  T.near(h.lr[1], 0.004, 1e-15, "without a schedule the history records the optimizer's lr")
end)

T.test("a schedule function is called with (epoch, lr) for epochs 1..E before each epoch", function()
  local X, y = blobs(60)
  local m = small_model(0.3)
  local calls, seen, logs_lr = {}, {}, {}
  local h = m:fit(X, y, { epochs = 4, verbose = 0,
    on_epoch = function(e, logs) seen[#seen + 1] = #calls; logs_lr[e] = logs.lr end,
    lr_schedule = function(epoch, lr)
      calls[#calls + 1] = { epoch, lr }
      return lr * 0.5
    end })
  T.eq(#calls, 4, "one call per epoch")
  for e = 1, 4 do
    T.eq(calls[e][1], e, "call " .. e .. " epoch")
    T.near(calls[e][2], 0.3 * 0.5 ^ (e - 1), 1e-15, "call " .. e .. " gets the current lr")
    T.near(h.lr[e], 0.3 * 0.5 ^ e, 1e-15, "epoch " .. e .. " trains with the returned lr")
    T.eq(seen[e], e, "called before epoch " .. e .. " ends")
    T.eq(logs_lr[e], h.lr[e], "on_epoch's logs.lr")
  end
  T.near(m.optimizer.lr, 0.3 * 0.5 ^ 4, 1e-15, "the last lr stays set")
end)

T.test("a schedule's lr is the one the epoch trains with (same as setting optimizer.lr)", function()
  local X, y = blobs(60)
  tensor.seed(11); local a = small_model(0.3)
  a:fit(X, y, { epochs = 2, shuffle = false, verbose = 0, lr_schedule = function(e) return e == 1 and 0.3 or 0.05 end })
  tensor.seed(11); local b = small_model(0.3)
  b:fit(X, y, { epochs = 1, shuffle = false, verbose = 0 })
  b.optimizer.lr = 0.05
  b:fit(X, y, { epochs = 1, shuffle = false, verbose = 0 })
  T.eq(max_abs_diff(a.layers[1].W, b.layers[1].W), 0, "same weights")
  tensor.seed(11); local c = small_model(0.3)
  c:fit(X, y, { epochs = 2, shuffle = false, verbose = 0 })
  T.ok(max_abs_diff(a.layers[1].W, c.layers[1].W) > 0, "without the schedule the weights differ")
end)

T.test("bad schedule returns and options give clear errors", function()
  local X, y = blobs(30)
  local m = small_model()
  for _, bad in ipairs { { nil, "nil" }, { "x", "string" }, { -0.1, "-0.1" }, { 0 / 0, "nan" },
                         { math.huge, "inf" } } do
    T.raises(function()
      m:fit(X, y, { epochs = 3, verbose = 0, lr_schedule = function(e, lr) if e == 2 then return bad[1] end return lr end })
    end, { "lr_schedule returned", bad[2], "at epoch 2", "finite number >= 0" })
  end
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = "linear" }) end, { "unknown lr_schedule 'linear'", "cosine" })
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = "step" }) end, { "step", "{step=10, factor=0.5}" })
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = { step = 0 } }) end, { "step must be", ">= 1", "got 0" })
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = { step = 2.5 } }) end, { "step must be", "2.5" })
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = { step = 2, factor = -1 } }) end, { "factor", "got -1" })
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = { every = 2 } }) end, { "unknown option 'every'" })
  -- keys of the two forms together: one of them used to be ignored without a word
  for _, both in ipairs { { step = 2, cosine = true }, { step = 2, min_lr = 0.001 },
                          { cosine = true, factor = 0.5 }, { factor = 0.5, min_lr = 0 } } do
    T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = both }) end,
      { "lr_schedule", "{step=N, factor=} or {cosine=true, min_lr=}", "not keys of both" })
  end
  T.raises(function() m:fit(X, y, { verbose = 0, lr_schedule = 3 }) end, { "lr_schedule must be", "got number" })
  T.raises(function() optim.schedules.step("x") end, { "optim.schedules.step", "string" })
  T.raises(function() optim.schedules.step { every = 2, factr = 0.5 } end,
    { "optim.schedules.step", "unknown option 'factr'", "every or factor" })
  T.raises(function() optim.schedules.cosine { minlr = 0.1 } end,
    { "optim.schedules.cosine", "unknown option 'minlr'", "min_lr" })
end)

----------------------------------------------------------- early stopping

-- Random labels on 40 rows: the model memorises them, so the loss on 40
-- other rows with other random labels rises after a couple of epochs.
local function noise()
  tensor.seed(1)
  local X = tensor.randn(40, 10); local y = tensor.rand(40, 3):argmax(2):int()
  local Xv = tensor.randn(40, 10); local yv = tensor.rand(40, 3):argmax(2):int()
  return X, y, Xv, yv
end

local function noise_model(lr)
  tensor.seed(2)
  local m = nn.Sequential { nn.Dense(64, "relu"), nn.Dense(3, "softmax") }
  m:compile { optimizer = optim.sgd { lr = lr or 0.2 }, loss = "cross_entropy" }
  return m
end

-- fit with early_stopping, keeping every epoch's predictions on Xv. With
-- lr = 0.01 the validation loss falls by less than 0.001 an epoch for a few
-- epochs, then rises.
local function fit_saving(es, epochs, extra, lr)
  local X, y, Xv, yv = noise()
  local m, preds = noise_model(lr), {}
  local opts = { epochs = epochs or 40, batch_size = 8, validation_data = { Xv, yv }, verbose = 0,
                 early_stopping = es, on_epoch = function(e) preds[e] = m:predict(Xv) end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  local h = m:fit(X, y, opts)
  return h, m, preds, Xv
end

T.test("early stopping stops `patience` epochs after the best val_loss; restore_best puts its weights back", function()
  local h, m, preds, Xv = fit_saving { patience = 3, restore_best = true }
  local stop, best = keras_rule(h.val_loss, 3, 0, false)
  T.ok(stop ~= nil and stop < 40, "the fixture overfits and stops early (stop " .. tostring(stop) .. ")")
  T.eq(#h.val_loss, stop, "the history ends at the epoch training stopped")
  T.eq(#h.loss, stop, "every list ends there")
  T.eq(stop, best + 3, "stopped 3 epochs after the best")
  T.ok(best < stop, "the best epoch is not the last one")
  T.eq(max_abs_diff(m:predict(Xv), preds[best]), 0, "predictions equal those of the best epoch")
  T.ok(max_abs_diff(preds[stop], preds[best]) > 0, "the last epoch's differ")
end)

T.test("without restore_best the weights are the last epoch's", function()
  local h, m, preds, Xv = fit_saving { patience = 2, restore_best = false }
  local stop = keras_rule(h.val_loss, 2, 0, false)
  T.eq(#h.val_loss, stop, "stops by the rule")
  T.eq(max_abs_diff(m:predict(Xv), preds[stop]), 0, "the last epoch's predictions")
end)

T.test("restore_best_weights (Keras's name) and a fit that runs out of epochs still restore", function()
  local h0 = fit_saving({ patience = 100 }, 8)
  local _, best = keras_rule(h0.val_loss, 100, 0, false)
  T.ok(best < 8, "the best of 8 epochs is not the last (" .. best .. ")")
  local h, m, preds, Xv = fit_saving({ patience = 100, restore_best_weights = true }, 8)
  T.eq(#h.loss, 8, "ran all epochs")
  T.eq(max_abs_diff(m:predict(Xv), preds[best]), 0, "the best epoch's weights are back")
end)

T.test("patience = 0 stops at the first epoch that does not improve", function()
  local h = fit_saving { patience = 0 }
  local first_worse
  for e = 2, #h.val_loss do
    if not (h.val_loss[e] < math.min(table.unpack(h.val_loss, 1, e - 1))) then first_worse = e; break end
  end
  T.eq(#h.val_loss, first_worse, "stopped at the first non-improving epoch")
end)

T.test("min_delta: an improvement must beat the best by more than min_delta", function()
  local h = fit_saving { patience = 2, min_delta = 10 }
  T.eq(#h.val_loss, 3, "nothing beats epoch 1 by 10: stops after 1 + patience epochs")
  local h0 = fit_saving({ patience = 100 }, 25, nil, 0.01)
  local md
  -- a min_delta that changes where the rule stops, taken from the losses
  for _, d in ipairs { 0.0001, 0.0003, 0.001 } do
    if keras_rule(h0.val_loss, 2, d, false) ~= keras_rule(h0.val_loss, 2, 0, false) then md = d; break end
  end
  T.ok(md ~= nil, "some min_delta changes the stop epoch on this fixture")
  local h1 = fit_saving({ patience = 2, min_delta = md }, 25, nil, 0.01)
  T.ok(#h1.val_loss < keras_rule(h0.val_loss, 2, 0, false), "min_delta stops it sooner")
  T.eq(#h1.val_loss, keras_rule(h0.val_loss, 2, md, false), "stops where the rule with min_delta says")
end)

T.test("monitor = accuracy / val_accuracy rise, loss falls; loss needs no validation data", function()
  for _, mon in ipairs { "val_accuracy", "accuracy", "loss" } do
    local h = fit_saving({ patience = 2, monitor = mon }, 30)
    local stop = keras_rule(h[mon], 2, 0, mon ~= "loss")
    T.eq(#h.loss, stop or 30, "monitor " .. mon)
  end
  local X, y = noise()
  local m = noise_model()
  local h = m:fit(X, y, { epochs = 5, batch_size = 8, verbose = 0, early_stopping = { monitor = "loss", patience = 1 } })
  T.ok(#h.loss >= 2, "runs without validation data")
end)

T.test("early stopping's errors", function()
  local X, y = noise()
  local m = noise_model()
  local function fit(es, extra)
    local o = { epochs = 2, verbose = 0, early_stopping = es }
    for k, v in pairs(extra or {}) do o[k] = v end
    return function() m:fit(X, y, o) end
  end
  T.raises(fit { patience = 2 }, { "monitors val_loss", "no validation data", "validation_split" })
  T.raises(fit { monitor = "val_accuracy" }, { "monitors val_accuracy", "no validation data" })
  T.raises(fit({ monitor = "val_acc" }, { validation_split = 0.25 }), { "unknown monitor 'val_acc'", "val_loss, val_accuracy, loss or accuracy" })
  T.raises(fit({ patience = -1 }, { validation_split = 0.25 }), { "patience must be >= 0", "-1" })
  T.raises(fit({ patience = 1.5 }, { validation_split = 0.25 }), { "patience must be an integer", "1.5" })
  T.raises(fit({ min_delta = -0.1 }, { validation_split = 0.25 }), { "min_delta", "-0.1" })
  T.raises(fit({ restore_best = "yes" }, { validation_split = 0.25 }), { "restore_best must be true or false", "string" })
  T.raises(fit({ patiance = 2 }, { validation_split = 0.25 }), { "unknown option 'patiance'", "patience" })
  T.raises(fit(3), { "early_stopping must be a table", "number" })
end)

-- A script that fits the noise fixture with early_stopping = es (Lua source)
-- and prints the history's length: the report is read from its output.
local function report_script(name, es)
  local script = T.tmp(name)
  local f = assert(io.open(script, "w"))
  f:write([[
tensor.seed(1)
local X = tensor.randn(40, 10); local y = tensor.rand(40, 3):argmax(2):int()
local Xv = tensor.randn(40, 10); local yv = tensor.rand(40, 3):argmax(2):int()
tensor.seed(2)
local m = nn.Sequential { nn.Dense(64, "relu"), nn.Dense(3, "softmax") }
m:compile { optimizer = optim.sgd { lr = 0.2 } }
local h = m:fit(X, y, { epochs = 40, batch_size = 8, validation_data = { Xv, yv }, early_stopping = ]] .. es .. [[ })
print("EPOCHS", #h.loss)
]])
  f:close()
  return script
end

T.test("the report says where training stopped and which weights came back (en, es)", function()
  local script = report_script("es.lua", "{ patience = 3, restore_best = true }")
  for _, case in ipairs { { "en", "Stopped early after epoch (%d+): val_loss has not improved for 3 epochs",
                            "Restored the weights of epoch (%d+)" },
                          { "es", "Parada temprana tras la época (%d+): pérdida_val no mejora desde hace 3 épocas",
                            "Restaurados los pesos de la época (%d+)" } } do
    local out, code = T.sh(string.format("%q --lang %s %q", os.getenv("NNLAB_BIN"), case[1], script))
    T.eq(code, 0, case[1] .. " run: " .. out)
    local n = tonumber(out:match("EPOCHS%s+(%d+)"))
    T.eq(tonumber(out:match(case[2])), n, case[1] .. ": names the last epoch")
    T.eq(tonumber(out:match(case[3])), n - 3, case[1] .. ": names the best epoch")
  end
end)

T.test("restore_best also puts back state that is not trained (BatchNormalization's moving statistics)", function()
  local X, y, Xv, yv = noise()
  tensor.seed(2)
  local bn = nn.BatchNormalization { momentum = 0.5 }
  local m = nn.Sequential { nn.Dense(64, "relu"), bn, nn.Dense(3, "softmax") }
  m:compile { optimizer = optim.sgd { lr = 0.2 }, loss = "cross_entropy" }
  local means, vars = {}, {}
  local h = m:fit(X, y, { epochs = 40, batch_size = 8, validation_data = { Xv, yv }, verbose = 0,
    early_stopping = { patience = 3, restore_best = true },
    on_epoch = function(e) means[e], vars[e] = bn.moving_mean:clone(), bn.moving_variance:clone() end })
  local stop, best = keras_rule(h.val_loss, 3, 0, false)
  T.eq(#h.val_loss, stop, "stops by the rule")
  T.ok(max_abs_diff(means[stop], means[best]) > 0, "the moving mean moved after the best epoch")
  T.eq(max_abs_diff(bn.moving_mean, means[best]), 0, "moving_mean of the best epoch")
  T.eq(max_abs_diff(bn.moving_variance, vars[best]), 0, "moving_variance of the best epoch")
end)

T.test("patience = 0: the report speaks of the last epoch, not of '1 epochs'", function()
  local script = report_script("es0.lua", "{ patience = 0 }")
  for _, case in ipairs { { "en", "Stopped early after epoch (%d+): val_loss did not improve in the last epoch" },
                          { "es", "Parada temprana tras la época (%d+): pérdida_val no mejoró en la última época" } } do
    local out, code = T.sh(string.format("%q --lang %s %q", os.getenv("NNLAB_BIN"), case[1], script))
    T.eq(code, 0, case[1] .. " run: " .. out)
    T.eq(tonumber(out:match(case[2])), tonumber(out:match("EPOCHS%s+(%d+)")), case[1] .. ": names the last epoch:\n" .. out)
    T.ok(not out:find("1 epochs", 1, true) and not out:find("1 épocas", 1, true), case[1] .. ": no '1 epochs'")
  end
end)

T.done()
