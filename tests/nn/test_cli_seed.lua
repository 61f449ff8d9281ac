-- test_cli_seed.lua — `nnlab --seed N --threads T script` reproduces a small
-- fit exactly: the same seed and thread count print the same numbers, another
-- seed prints others. (Thread counts 1 and 2 are only compared to themselves.)
local T = require "testlib"

local script = T.tmp("fit.lua")
local f = assert(io.open(script, "w"))
f:write([[
local X = tensor.randn(300, 8)
local y = tensor.zeros({300}, "int32")
for i = 1, 300 do y[i] = X:get(i, 1) + X:get(i, 2) > 0 and 1 or 2 end
local m = nn.Sequential { nn.Dense(32, "relu"), nn.Dropout(0.2), nn.Dense(2) }
m:compile { optimizer = optim.adam { lr = 0.01 }, loss = "cross_entropy", metrics = { "accuracy" } }
local h = m:fit(X, y, { epochs = 2, batch_size = 32, verbose = 0, validation_split = 0.2 })
print(string.format("%.9g %.9g %.9g", h.loss[2], h.val_loss[2], m:predict(X):sum()))
]])
f:close()

local function run(args)
  local out, code = T.sh(string.format("%q %s %q", os.getenv("NNLAB_BIN"), args, script))
  T.eq(code, 0, "exit status of nnlab " .. args .. ": " .. out)
  T.ok(out:match("^%S+ %S+ %S+\n$"), "three numbers, got " .. out)
  return out
end

for _, th in ipairs { 1, 2 } do
  T.test("--seed 1 --threads " .. th .. " twice prints the same; --seed 2 differs", function()
    local a = run("--seed 1 --threads " .. th)
    T.eq(run("--seed 1 --threads " .. th), a, "same seed")
    T.ok(run("--seed 2 --threads " .. th) ~= a, "another seed gives other numbers")
  end)
end

T.done()
