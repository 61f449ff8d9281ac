-- test_model_file.lua — the model file: version-2 files written by the code
-- of that time (tests/nn/fixtures, with the predictions it gave) load and
-- predict the same; version 3 stores each layer's kind, options and named
-- tensors with their shapes, read here by an independent Python parser;
-- save, load, save again gives the same bytes; damaged files are refused
-- with a message naming the file.
local T = require "testlib"

local FIX = (os.getenv("NNLAB_ROOT") or ".") .. "/tests/nn/fixtures/"

local function maxdiff(a, b) return a:sub(b):abs():max() end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

T.test("version 2: a 2-layer model predicts what the code that wrote it predicted", function()
  local m = nn.load(FIX .. "v2_mlp.nnm")
  local x, want = tensor.load(FIX .. "v2_mlp_x.npy"), tensor.load(FIX .. "v2_mlp_pred.npy")
  T.eq(m.layers[1].name, "Dense"); T.eq(m.layers[1].units, 6); T.eq(m.layers[1].init, "torch")
  T.eq(m.layers[2].activation, "softmax")
  T.eq(table.concat(m.layers[1].W:shape(), "x"), "4x6")
  T.eq(maxdiff(m:predict(x), want), 0, "predictions")
end)

T.test("version 2: every kind of that time loads with its options and predicts the same", function()
  local m = nn.load(FIX .. "v2_kinds.nnm")
  local names = {}
  for i, l in ipairs(m.layers) do names[i] = l.name end
  T.eq(table.concat(names, " "), "Rescaling Flatten Dense Dropout ReLU Dense Tanh Sigmoid Dense Softmax")
  T.near(m.layers[1].scale, 0.5, 0); T.near(m.layers[1].offset, 0.25, 0)
  T.eq(m.layers[3].init, "he_uniform"); T.eq(m.layers[3].activation, "tanh")
  T.near(m.layers[4].p, 0.3, 1e-7)
  T.eq(m.layers[6].init, "lecun_uniform"); T.eq(m.layers[6].activation, "sigmoid")
  local x, want = tensor.load(FIX .. "v2_kinds_x.npy"), tensor.load(FIX .. "v2_kinds_pred.npy")
  -- sigmoid is now the one kernel of tensor and nn, written e^x/(1+e^x) for
  -- x < 0: a last-bit difference at most
  T.ok(maxdiff(m:predict(x), want) <= 1e-6, "predictions within 1e-6, got " .. maxdiff(m:predict(x), want))
end)

T.test("version 2: an unbuilt model keeps its layers and inits", function()
  local m = nn.load(FIX .. "v2_unbuilt.nnm")
  T.eq(m.built, false)
  T.eq(m.layers[2].init, "he_uniform"); T.eq(m.layers[3].init, "torch")
  T.eq(m.layers[2].W, nil)
end)

-- An independent reader of version 3, in Python: the layers' kinds, options
-- and tensors as text.
local DUMP = [[
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"NNLABMDL" and zlib.crc32(b[:-4]) == struct.unpack("<I", b[-4:])[0]
o = 8
def u32():
    global o; v, = struct.unpack_from("<I", b, o); o += 4; return v
def i64():
    global o; v, = struct.unpack_from("<q", b, o); o += 8; return v
def s():
    global o; n = u32(); v = b[o:o + n].decode(); o += n; return v
version, n, nd = u32(), u32(), u32()
print("version", version, "input", [i64() for _ in range(nd)])
for _ in range(n):
    kind, opts = s(), []
    for _ in range(u32()):
        name, t = s(), u32()
        if t == 0: v = i64()
        elif t == 1: v = (i64(), i64())
        elif t == 2: v, = struct.unpack_from("<f", b, o); o += 4
        elif t == 3: v, = struct.unpack_from("<d", b, o); o += 8
        elif t == 4: v = bool(u32())
        else: v = s()
        opts.append("%s=%s" % (name, v))
    tensors = []
    for _ in range(u32()):
        name = s(); shape = [i64() for _ in range(u32())]
        count = 1
        for d in shape: count *= d
        o += 4 * count
        tensors.append("%s%s" % (name, shape))
    print(kind, " ".join(opts), "|", " ".join(tensors))
assert o == len(b) - 4
]]

T.test("version 3: kinds, options and named tensors with their shapes", function()
  local m = nn.load(FIX .. "v2_kinds.nnm")
  m:save(T.tmp("v3.nnm"))
  local f = assert(io.open(T.tmp("dump.py"), "w")); f:write(DUMP); f:close()
  local out = T.sh(T.PY .. " " .. T.tmp("dump.py") .. " " .. T.tmp("v3.nnm"))
  local want = {
    "version 3 input [2, 3]",
    "Rescaling scale=0.5 offset=0.25 | ",
    "Flatten  | ",
    "Dense units=7 activation=tanh init=he_uniform | W[6, 7] b[7]",
    "Dropout p=0.30000001192092896 | ",
    "ReLU  | ",
    "Dense units=5 activation=sigmoid init=lecun_uniform | W[7, 5] b[5]",
    "Tanh  | ",
    "Sigmoid  | ",
    "Dense units=4 activation=linear init=glorot_uniform | W[5, 4] b[4]",
    "Softmax  | ",
  }
  T.eq(out, table.concat(want, "\n") .. "\n")
end)

T.test("version 3: save, load, save gives the same bytes and the same predictions", function()
  local x = tensor.load(FIX .. "v2_kinds_x.npy")
  local m = nn.load(FIX .. "v2_kinds.nnm")
  m:save(T.tmp("a.nnm"))
  local l = nn.load(T.tmp("a.nnm"))
  l:save(T.tmp("b.nnm"))
  T.ok(read(T.tmp("a.nnm")) == read(T.tmp("b.nnm")), "same bytes")
  T.eq(maxdiff(l:predict(x), m:predict(x)), 0, "predictions")
  T.eq(maxdiff(l.layers[3].W, m.layers[3].W), 0, "W")
  -- an unbuilt model keeps its options, and builds as a fresh one would
  local u = nn.Sequential { nn.Flatten(), nn.Dense(3, "tanh", { init = "torch" }), nn.Dropout(0.25) }
  u:save(T.tmp("u.nnm"))
  local v = nn.load(T.tmp("u.nnm"))
  T.eq(tostring(v.layers[2]), 'Dense(3, "tanh", {init="torch"})')
  T.eq(tostring(v.layers[3]), "Dropout(0.25)")
  tensor.seed(8); local a = u:predict(tensor.ones(2, 2, 2))
  tensor.seed(8); local b = v:predict(tensor.ones(2, 2, 2))
  T.eq(maxdiff(a, b), 0, "same draws")
end)

-- Rewrites a version-3 file with Python (the CRC made valid again).
local function patch(src, dst, code)
  T.python(string.format([[
import struct, zlib
b = bytearray(open(%q, "rb").read()[:-4])
%s
open(%q, "wb").write(bytes(b) + struct.pack("<I", zlib.crc32(b)))
]], src, code, dst))
end

T.test("version 3: damaged files are refused, naming the file", function()
  nn.Sequential { nn.Dense(3, "relu"), nn.Dense(2) }:save(T.tmp("ok.nnm"))
  local m = nn.load(T.tmp("ok.nnm")); m:predict(tensor.ones(1, 4)); m:save(T.tmp("built.nnm"))
  -- a kind this nnlab does not know (a later file): named
  patch(T.tmp("ok.nnm"), T.tmp("kind.nnm"), 'b = b.replace(b"\\x05\\x00\\x00\\x00Dense", b"\\x05\\x00\\x00\\x00Dunce", 1)')
  T.raises(function() nn.load(T.tmp("kind.nnm")) end, { "nn.load", "kind.nnm", "unknown layer kind 'Dunce'" })
  -- an option out of its range (units 0)
  patch(T.tmp("ok.nnm"), T.tmp("units.nnm"), [[
i = b.index(b"units") + 5 + 4
struct.pack_into("<q", b, i, 0)]])
  T.raises(function() nn.load(T.tmp("units.nnm")) end, { "nn.load", "units.nnm", "corrupt" })
  -- a name that is not one of the option's
  patch(T.tmp("ok.nnm"), T.tmp("act.nnm"), 'b = b.replace(b"relu", b"relx", 1)')
  T.raises(function() nn.load(T.tmp("act.nnm")) end, { "nn.load", "act.nnm", "corrupt" })
  -- a weight matrix whose shape does not fit the input it is given
  patch(T.tmp("built.nnm"), T.tmp("shape.nnm"), [[
i = b.index(b"\x01\x00\x00\x00W") + 5 + 4
struct.pack_into("<q", b, i, 5)]])
  T.raises(function() nn.load(T.tmp("shape.nnm")) end, { "nn.load", "shape.nnm", "corrupt" })
  -- cut short, with a valid checksum
  patch(T.tmp("built.nnm"), T.tmp("short.nnm"), "b = b[:-20]")
  T.raises(function() nn.load(T.tmp("short.nnm")) end, { "nn.load", "short.nnm", "truncated" })
end)

T.test("version 3: a layer with weights in a model not built yet keeps them", function()
  local a = nn.Sequential { nn.Dense(3, "relu"), nn.Dense(2) }
  local x = tensor.randn(4, 5)
  local want = a:predict(x)
  nn.Sequential(a.layers):save(T.tmp("taken.nnm")) -- unbuilt, its layers built
  local m = nn.load(T.tmp("taken.nnm"))
  T.eq(m.built, false)
  T.eq(table.concat(m.layers[1].W:shape(), "x"), "5x3")
  T.eq(maxdiff(m:predict(x), want), 0, "predictions")
  T.raises(function() nn.load(T.tmp("taken.nnm")):predict(tensor.randn(4, 6)) end,
    { "Dense (layer 1) has W of shape 5x3, its input needs 6x3" })
end)

T.done()
