-- test_init.lua — Dense initialisations: each scheme's bound (computed by
-- hand from its formula), spread and bias; the default; the same seed giving
-- the same weights; the init surviving save/load of an unbuilt model, also
-- from a version-1 file (made from the version-2 fixtures); misuse.
-- PyTorch's own nn.Linear is the reference for the "torch" scheme when
-- python3-torch is installed.
local T = require "testlib"

local N_IN, UNITS = 400, 300

local function built(init)
  local d = nn.Dense(UNITS, "relu", init and { init = init } or nil)
  local m = nn.Sequential { d }
  m:forward(tensor.zeros { 1, N_IN })
  return d
end

-- A uniform on [-a, a] has standard deviation a/sqrt(3); with 120,000 draws
-- the sample std is within 1% and the extremes within 0.1% of a.
local function check_uniform(t, a, what)
  T.ok(t:max() <= a and t:min() >= -a, what .. " inside [-a, a]")
  T.ok(t:max() > 0.99 * a and t:min() < -0.99 * a, what .. " reaches the bounds")
  T.near(t:std(), a / math.sqrt(3), 0.02 * a, what .. " std")
  T.near(t:mean(), 0, 0.02 * a, what .. " mean")
end

local bounds = {
  glorot_uniform = math.sqrt(6 / (N_IN + UNITS)),
  he_uniform = math.sqrt(6 / N_IN),
  lecun_uniform = math.sqrt(3 / N_IN),
  torch = 1 / math.sqrt(N_IN),
}
for _, name in ipairs { "glorot_uniform", "he_uniform", "lecun_uniform", "torch" } do
  T.test("init " .. name .. ": W ~ U(-a, a) with a = " .. string.format("%.5f", bounds[name]), function()
    tensor.seed(3)
    local d = built(name)
    T.eq(d.init, name)
    check_uniform(d.W, bounds[name], "W")
    if name == "torch" then
      T.ok(d.b:max() <= bounds.torch and d.b:min() >= -bounds.torch, "b inside [-a, a]")
      T.near(d.b:std(), bounds.torch / math.sqrt(3), 0.15 * bounds.torch, "b std")
    else
      T.eq(d.b:abs():max(), 0, "bias starts at zero")
    end
  end)
end

T.test("the default is glorot_uniform, also with an options table without init", function()
  T.eq(nn.Dense(4).init, "glorot_uniform")
  T.eq(nn.Dense(4, "relu", {}).init, "glorot_uniform")
  T.eq(nn.Dense(4, { init = "torch" }).activation, "linear")
  T.eq(nn.Dense(4, { init = "torch" }).init, "torch")
end)

T.test("same seed, same torch-initialised weights and biases", function()
  tensor.seed(7); local a = built("torch")
  tensor.seed(7); local b = built("torch")
  T.eq(a.W:sub(b.W):abs():max(), 0); T.eq(a.b:sub(b.b):abs():max(), 0)
  tensor.seed(8); local c = built("torch")
  T.ok(a.W:sub(c.W):abs():max() > 0, "another seed gives other weights")
end)

T.test("an unbuilt model keeps each layer's init through save and load", function()
  local m = nn.Sequential { nn.Flatten(), nn.Dense(8, "relu", { init = "he_uniform" }),
    nn.Dense(3, "softmax", { init = "torch" }) }
  m:save(T.tmp("unbuilt.nnm"))
  local l = nn.load(T.tmp("unbuilt.nnm"))
  T.eq(l.layers[2].init, "he_uniform"); T.eq(l.layers[3].init, "torch")
  tensor.seed(5); l:forward(tensor.zeros { 1, 2, 2 })
  T.ok(l.layers[3].b:abs():max() > 0, "torch init gives a non-zero bias after loading")
  -- 32 draws: he_uniform reaches past glorot's bound sqrt(6/12) = 0.71
  local w = l.layers[2].W:abs():max()
  T.ok(w <= math.sqrt(6 / 4) and w > 0.75, "he_uniform bound after loading, got " .. w)
end)

-- Version-1 files are made from the version-2 fixtures written by the code
-- of that time (tests/nn/fixtures): the same bytes less each layer's init.
local FIX = (os.getenv("NNLAB_ROOT") or ".") .. "/tests/nn/fixtures/"

T.test("a version-1 model file (no init field) still loads, as glorot_uniform", function()
  -- v2 layout of an unbuilt model: magic 8, version, n, ndim (4 each), then
  -- per layer kind, act (4), units (8), scale, offset, p (4), init (4),
  -- inputs (8): 40 bytes, init at 28..31.
  T.python(string.format([[
import struct, zlib
b = open(%q, "rb").read()[:-4]
assert struct.unpack_from("<I", b, 8)[0] == 2 and len(b) == 20 + 3 * 40
assert struct.unpack_from("<I", b, 20 + 40 + 28)[0] == 1  # he_uniform
v1 = b[:8] + struct.pack("<I", 1) + b[12:20]
for o in range(20, len(b), 40):
    v1 += b[o:o + 28] + b[o + 32:o + 40]
open("v1.nnm", "wb").write(v1 + struct.pack("<I", zlib.crc32(v1)))
]], FIX .. "v2_unbuilt.nnm"))
  local m = nn.load(T.tmp("v1.nnm"))
  T.eq(m.layers[2].init, "glorot_uniform"); T.eq(m.layers[2].units, 8)
  T.eq(m.layers[3].init, "glorot_uniform"); T.eq(m.layers[3].activation, "softmax")
end)

T.test("a built version-1 model file loads with the same weights and predictions", function()
  -- the header ends at 28 (one i64 of input shape); each layer has 40
  -- bytes (init at 28..31, inputs at 32..39), then W and b when built
  T.python(string.format([[
import struct, zlib
b = open(%q, "rb").read()[:-4]
o, out = 28, b[:8] + struct.pack("<I", 1) + b[12:28]
for layer in range(2):
    units, = struct.unpack_from("<q", b, o + 8)
    n_in, = struct.unpack_from("<q", b, o + 32)
    size = 40 + 4 * (n_in * units + units) * (n_in > 0)
    out += b[o:o + 28] + b[o + 32:o + size]
    o += size
assert o == len(b)
open("v1w.nnm", "wb").write(out + struct.pack("<I", zlib.crc32(out)))
]], FIX .. "v2_mlp.nnm"))
  local l = nn.load(T.tmp("v1w.nnm"))
  local v2 = nn.load(FIX .. "v2_mlp.nnm")
  T.eq(l.layers[1].init, "glorot_uniform")
  T.eq(l.layers[1].W:sub(v2.layers[1].W):abs():max(), 0, "W")
  local x, want = tensor.load(FIX .. "v2_mlp_x.npy"), tensor.load(FIX .. "v2_mlp_pred.npy")
  T.eq(l:predict(x):sub(want):abs():max(), 0, "predictions")
end)

T.test("loading a built model copies its weights without drawing from the generator", function()
  nn.Sequential { nn.Dense(50, "relu", { init = "torch" }) }:save(T.tmp("draw.nnm"))
  local m = nn.load(T.tmp("draw.nnm"))
  m:forward(tensor.zeros { 1, 40 }) -- builds it, drawing 2,050 numbers
  m:save(T.tmp("draw.nnm"))
  tensor.seed(4); local a = tensor.rand { 5 }
  tensor.seed(4); nn.load(T.tmp("draw.nnm")); local b = tensor.rand { 5 }
  T.eq(a:sub(b):abs():max(), 0, "the generator's next numbers")
end)

T.test("a model file of a later version is refused, naming the versions", function()
  nn.Sequential { nn.Dense(5) }:save(T.tmp("v3.nnm"))
  T.python([[
import struct, zlib
b = bytearray(open("v3.nnm", "rb").read()[:-4])
assert struct.unpack_from("<I", b, 8)[0] == 3
struct.pack_into("<I", b, 8, 4)
open("v4.nnm", "wb").write(bytes(b) + struct.pack("<I", zlib.crc32(b)))
]])
  T.raises(function() nn.load(T.tmp("v4.nnm")) end, { "v4.nnm", "unsupported file version 4", "expected 1 to 3" })
end)

T.test("misuse: unknown init, unknown option, not a table", function()
  T.raises(function() nn.Dense(3, "relu", { init = "xavier" }) end,
    { "unknown init 'xavier'", "glorot_uniform", "torch" })
  T.raises(function() nn.Dense(3, "relu", { initializer = "torch" }) end,
    { "unknown option 'initializer'", "expected init" })
  T.raises(function() nn.Dense(3, "relu", "torch") end, { "options table", "got string" })
  T.raises(function() nn.Dense(3, "relu", { init = 1 }) end, { "unknown init" })
  T.raises(function() nn.Dense(3).init = "torch" end, { "cannot set field 'init'" })
  T.raises(function() nn.Dense(3, { init = "torch" }, "relu") end,
    { "options table comes last", "got a string after it" })
  T.raises(function() nn.Dense(3, "relu", { init = "torch\0x" }) end, { "unknown init 'torch' with a zero byte" })
  T.raises(function() nn.Dense(3, "relu", { ["init\0x"] = "torch" }) end, { "unknown option 'init' with a zero byte" })
  T.raises(function() nn.Dense(3, "relu", { init = {} }) end, { "unknown init a table" })
  T.raises(function() nn.Sequential { nn.Dense(3, { init = "torch" }) }:forward(tensor.zeros { 2, 0 }) end,
    { "Dense (layer 1) needs at least one input feature, got 0" })
end)

T.torch_test("init torch has the bounds of PyTorch's own nn.Linear", function()
  tensor.seed(1)
  local d = built("torch")
  local out = T.python(string.format([[
import torch
torch.manual_seed(0)
l = torch.nn.Linear(%d, %d)
print(float(l.weight.abs().max()), float(l.weight.std()), float(l.bias.abs().max()))
]], N_IN, UNITS))
  local wmax, wstd, bmax = out:match("(%S+)%s+(%S+)%s+(%S+)")
  T.near(d.W:abs():max(), tonumber(wmax), 2e-3, "largest |W|")
  T.near(d.W:std(), tonumber(wstd), 0.02, "std of W")
  T.near(d.b:abs():max(), tonumber(bmax), 2e-3, "largest |b|")
end)

T.done()
