-- test_misuse.lua — nn and data given wrong or unusual input: every mistake
-- is a Lua error naming what was expected and what was given; inputs that
-- are merely unusual (views, float or uint8 labels, a batch larger than the
-- data) give the same numbers as their plain equivalents.
local T = require "testlib"

tensor.seed(4)
local X = tensor.rand(20, 3)
local y = X:argmax(2):int()

local function model(seed)
  tensor.seed(seed or 7)
  local m = nn.Sequential { nn.Dense(4, "relu"), nn.Dense(3) }
  m:compile { optimizer = optim.sgd { lr = 0.1 }, loss = "cross_entropy", metrics = { "accuracy" } }
  return m
end

local function fit1(Xs, ys, opts)
  local o = { epochs = 2, batch_size = 8, verbose = 0, shuffle = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  return model():fit(Xs, ys, o).loss[2]
end

local cases = {
  { "fit validation_split 1.0", function() model():fit(X, y, { validation_split = 1.0, verbose = 0 }) end,
    { "validation_split", "[0, 1)", "1.0" } },
  { "fit validation_split -1", function() model():fit(X, y, { validation_split = -1, verbose = 0 }) end,
    { "validation_split", "[0, 1)", "-1" } },
  { "fit validation_split leaving nothing", function() model():fit(X, y, { validation_split = 0.99, verbose = 0 }) end,
    { "no training samples left", "20 samples", "0.99" } },
  { "fit epochs -1", function() model():fit(X, y, { epochs = -1, verbose = 0 }) end, { "epochs must be >= 0", "-1" } },
  { "fit epochs 2^32 (not wrapped to 0)", function() model():fit(X, y, { epochs = 1 << 32, verbose = 0 }) end,
    { "epochs must be at most", "4294967296" } },
  { "fit epochs 1.5", function() model():fit(X, y, { epochs = 1.5, verbose = 0 }) end, { "epochs must be an integer", "1.5" } },
  { "fit epochs as a string", function() model():fit(X, y, { epochs = "3", verbose = 0 }) end,
    { "epochs must be an integer", "string" } },
  { "fit batch_size -1", function() model():fit(X, y, { batch_size = -1, verbose = 0 }) end, { "batch_size must be >= 1", "-1" } },
  { "fit labels 1.5", function() model():fit(X, y:float():add(0.5), { verbose = 0 }) end,
    { "fit", "whole class indices 1..3", string.format("%.1f", y[1] + 0.5), "position 1" } },
  { "fit labels NaN", function() local yf = y:float(); yf[2] = 0 / 0; model():fit(X, yf, { verbose = 0 }) end,
    { "fit", "whole class indices", "position 2" } },
  { "evaluate labels 2.5", function() model():evaluate(X, y:float():add(1.5)) end, { "evaluate", "whole class indices", string.format("%.1f", y[1] + 1.5) } },
  { "loss labels 1.25", function() nn.CrossEntropyLoss():forward(tensor.zeros(2, 3), tensor.new({ 1.25, 2 })) end,
    { "CrossEntropyLoss", "whole class indices 1..3", "1.25" } },
  { "fit y as a column", function() model():fit(X, y:reshape(20, 1), { verbose = 0 }) end,
    { "y must be a vector", "20x1" } },
  { "fit X 1-D", function() model():fit(tensor.rand(20), y, { verbose = 0 }) end, { "at least 2-D", "got 20" } },
  { "fit X 3-D into Dense", function() model():fit(tensor.rand(20, 3, 1), y, { verbose = 0 }) end,
    { "Dense", "3x1", "nn.Flatten()" } },
  { "fit X nil", function() model():fit(nil, y, { verbose = 0 }) end, { "Tensor expected", "nil" } },
  { "fit on nothing", function() model():fit(tensor.zeros(0, 3), tensor.zeros({ 0 }, "int32"), { verbose = 0 }) end,
    { "no training samples", "0 samples" } },
  { "fit validation_data of one tensor", function() model():fit(X, y, { verbose = 0, validation_data = { X } }) end,
    { "validation_data must be {X, y}" } },
  { "fit validation_data of another width", function()
      model():fit(X, y, { verbose = 0, validation_data = { tensor.rand(5, 4), y:narrow(1, 1, 5) } })
    end, { "validation_data", "samples of 3", "got 4" } },
  { "fit options not a table", function() model():fit(X, y, 5) end, { "options table", "number" } },
  { "fit on_epoch not a function", function() model():fit(X, y, { verbose = 0, on_epoch = 5 }) end,
    { "on_epoch must be a function", "number" } },
  { "forward with another input size", function() local m = model(); m:predict(X); m:forward(tensor.rand(2, 5)) end,
    { "forward", "input size mismatch", "samples of 3", "got 5" } },
  { "Dense units 0", function() nn.Dense(0) end, { "nn.Dense", "1..16777216", "got 0" } },
  { "Dense units 2^40 (not wrapped)", function() nn.Dense(1 << 40) end, { "nn.Dense", "1..16777216", "1099511627776" } },
  { "Dense units a string", function() nn.Dense("a") end, { "number expected", "string" } },
  { "Dropout NaN", function() nn.Dropout(0 / 0) end, { "p must be in [0, 1)", "nan" } },
  { "load an empty file", function() io.open(T.tmp("empty"), "wb"):close(); nn.load(T.tmp("empty")) end,
    { "nn.load", "empty", "not an nnlab model file", "too short" } },
  { "load random bytes", function()
      local f = io.open(T.tmp("noise"), "wb")
      for i = 1, 500 do f:write(string.char((i * 37 + 11) % 256)) end
      f:close(); nn.load(T.tmp("noise"))
    end, { "nn.load", "noise", "not an nnlab model file" } },
  { "load a folder", function() nn.load(T.tmpdir()) end, { "nn.load", "expected a model file", "(a folder)" } },
  { "load without a path", function() nn.load() end, { "string expected", "no value" } },
  { "save into a missing folder", function() model():save(T.tmp("missing/m.nnlab")) end,
    { "cannot create a temporary file", "missing/m.nnlab", "No such file" } },
  { "save onto a folder", function() model():save(T.tmpdir()) end,
    { "save", "expected a file path", "(a folder)" } },
  -- data
  { "subset larger than the set", function() data.subset(data.dataset { X = X, y = y }, 21) end,
    { "subset", "0..20", "21" } },
  { "subset NaN", function() data.subset(data.dataset { X = X, y = y }, 0 / 0) end, { "subset", "0..20", "nan" } },
  { "batches of size 0", function() for _ in data.dataset { X = X, y = y }:batches(0) do end end,
    { "batches", "batch size >= 1", "0" } },
  { "batches of size 2.5", function() for _ in data.dataset { X = X, y = y }:batches(2.5) do end end,
    { "batches", "batch size >= 1", "2.5" } },
  { "split NaN", function() data.split(data.dataset { X = X, y = y }, 0 / 0) end, { "split", "between 0 and 1", "nan" } },
  { "dataset rows differ", function() data.dataset { X = X, y = y:narrow(1, 1, 19) } end, { "20 rows", "19" } },
}

for _, c in ipairs(cases) do
  T.test("misuse: " .. c[1], function() T.raises(c[2], c[3], c[1]) end)
end

-- Unusual but valid inputs: the answer must equal the plain one.
T.test("whole float labels and uint8 labels train as int32 labels do", function()
  local want = fit1(X, y)
  T.eq(fit1(X, y:float()), want, "float32 labels")
  T.eq(fit1(X, y:uint8()), want, "uint8 labels")
end)

T.test("non-contiguous X and y give the same training as copies", function()
  local want = fit1(X, y)
  local Xt = X:t():clone():t()          -- same values, column-major strides
  local y2 = tensor.stack({ y, y }):t() -- 20x2, column 1 is y (stride 2)
  T.eq(fit1(Xt, y2:select(2, 1)), want)
end)

T.test("forward, backward and predict of views equal those of copies", function()
  local m = model()
  local Xt = X:t():clone():t()
  local a, b = m:predict(X), m:predict(Xt)
  T.eq(a:sub(b):abs():max(), 0.0, "predict")
  local g = tensor.rand(3, 20):t()
  m:forward(X)
  local d1 = m:backward(X, g:clone())
  m:forward(Xt)
  local d2 = m:backward(Xt, g)
  T.eq(d1:sub(d2):abs():max(), 0.0, "backward")
end)

T.test("predict before any fit works and matches forward", function()
  local m = model()
  local p = m:predict(X)
  T.eq(table.concat(p:shape(), "x"), "20x3")
  T.eq(p:sub(m:forward(X)):abs():max(), 0.0)
end)

T.test("epochs 0 trains nothing; a batch larger than the data is one full batch", function()
  local m = model()
  local before = m:predict(X)
  local h = m:fit(X, y, { epochs = 0, verbose = 0 })
  T.eq(#h.loss, 0, "no epochs")
  T.eq(m:predict(X):sub(before):abs():max(), 0.0, "weights unchanged")
  T.eq(fit1(X, y, { batch_size = 1 << 40 }), fit1(X, y, { batch_size = 20 }))
  T.eq(fit1(X, y, { epochs = 2.0 }), fit1(X, y), "2.0 epochs is 2")
end)

T.done()
