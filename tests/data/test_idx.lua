-- test_idx.lua — data.idx on generated IDX files of every element type, raw
-- and gzipped, compared with numpy reading the same files; and every kind of
-- bad input reported as an error naming the file.
local T = require "testlib"
local C = require "_data"

-- numpy writes the fixtures: big-endian elements, one file per type, raw and gz.
T.python [==[
import gzip
types = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}
rng = np.random.default_rng(7)
def write(name, code, arr):
    head = bytes([0, 0, code, arr.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in arr.shape)
    data = head + arr.astype(types[code]).tobytes()
    open(name, 'wb').write(data)
    gzip.open(name + '.gz', 'wb').write(data)
shapes = {0x08: (3, 4, 5), 0x09: (7,), 0x0B: (2, 3), 0x0C: (2, 2, 2, 3), 0x0D: (5, 4), 0x0E: (3, 3)}
for code, shape in shapes.items():
    n = int(np.prod(shape))
    if code == 0x08: a = rng.integers(0, 256, n)
    elif code == 0x09: a = np.array([-128, -1, 0, 1, 127, -77, 55])
    elif code == 0x0B: a = np.array([-32768, -2, 0, 3, 32767, 1234])
    elif code == 0x0C: a = np.concatenate([[-2**31, 2**31 - 1, -1, 0], rng.integers(-10**9, 10**9, n - 4)])
    elif code == 0x0D: a = rng.standard_normal(n) * 1e3
    else: a = np.concatenate([[1e-300, 1/3, -2.5e10], rng.standard_normal(n - 3)])
    write('t%02x.idx' % code, code, np.array(a).reshape(shape))
# bad files
good = open('t08.idx', 'rb').read()
open('bad_magic.idx', 'wb').write(b'\x01' + good[1:])
open('bad_type.idx', 'wb').write(good[:2] + b'\x0a' + good[3:])
open('bad_ndim0.idx', 'wb').write(b'\x00\x00\x08\x00')
open('bad_header.idx', 'wb').write(good[:2])
open('bad_dims_short.idx', 'wb').write(good[:9])
open('bad_trunc.idx', 'wb').write(good[:-7])
open('bad_extra.idx', 'wb').write(good + b'\x00\x01')
open('bad_overflow.idx', 'wb').write(b'\x00\x00\x0e\x04' + b'\xff\xff\xff\xff' * 4)
big = b'\x00\x00\x08\x02' + (100000).to_bytes(4, 'big') * 2 + b'\x00' * 50
gzip.open('bad_bigdims.idx.gz', 'wb').write(big)
small = b'\x00\x00\x08\x02' + (30).to_bytes(4, 'big') * 2 + bytes(range(256)) * 3
gzip.open('bad_gzshort.idx.gz', 'wb').write(small)
gz = open('t0c.idx.gz', 'rb').read()
open('bad_gztrunc.idx.gz', 'wb').write(gz[:len(gz) // 2])
open('bad_gznotrailer.idx.gz', 'wb').write(gz[:-6])
c = bytearray(gz); 
for i in range(12, len(c) - 8): c[i] ^= 0x5A
open('bad_gzcorrupt.idx.gz', 'wb').write(bytes(c))
# gzip as written by other tools: several members one after another (pigz,
# `cat a.gz b.gz`), bytes after the last member, a damaged CRC-32
raw = open('t0d.idx', 'rb').read()
cut = len(raw) // 3
open('t0d_members.idx.gz', 'wb').write(gzip.compress(raw[:cut]) + gzip.compress(raw[cut:2 * cut]) + gzip.compress(raw[2 * cut:]))
open('t0d_garbage.idx.gz', 'wb').write(gzip.compress(raw) + b'\x00\x00 trailing bytes')
c = bytearray(gzip.compress(raw)); c[-6] ^= 0x01
open('bad_gzcrc.idx.gz', 'wb').write(bytes(c))
open('labels_bad.idx', 'wb').write(bytes([0, 0, 8, 1, 0, 0, 0, 4, 0, 9, 10, 3]))
open('labels_ok.idx', 'wb').write(bytes([0, 0, 8, 1, 0, 0, 0, 4, 0, 9, 1, 3]))
]==]

local DT = { [0x08] = "uint8", [0x09] = "int32", [0x0B] = "int32", [0x0C] = "int32",
  [0x0D] = "float32", [0x0E] = "float32" }
for code, want in pairs(DT) do
  for _, suffix in ipairs { "", ".gz" } do
    local name = string.format("t%02x.idx%s", code, suffix)
    T.test("idx type 0x" .. string.format("%02X", code) .. (suffix == "" and " raw" or " gz")
      .. " matches numpy", function()
      local t = data.idx(T.tmp(name))
      T.eq(t.dtype, want, "dtype")
      tensor.save(t, T.tmp(name .. ".npy"))
      local out = T.python(string.format([==[
import gzip
name = %q
raw = (gzip.open if name.endswith('.gz') else open)(name, 'rb').read()
nd = raw[3]
shape = [int.from_bytes(raw[4 + 4*i: 8 + 4*i], 'big') for i in range(nd)]
typ = {8: '>u1', 9: '>i1', 11: '>i2', 12: '>i4', 13: '>f4', 14: '>f8'}[raw[2]]
ref = np.frombuffer(raw[4 + 4*nd:], dtype=typ).reshape(shape)
ref = ref.astype({8: np.uint8, 9: np.int32, 11: np.int32, 12: np.int32, 13: np.float32, 14: np.float32}[raw[2]])
got = np.load(name + '.npy')
print(got.dtype == ref.dtype, got.shape == ref.shape, np.array_equal(got, ref))
]==], name))
      T.eq(out, "True True True\n", "dtype, shape, values equal to numpy")
    end)
  end
end

T.test("idx double rounds to the nearest float32", function()
  local t = data.idx(T.tmp("t0e.idx"))
  -- 1/3 as float32 is 0.3333333432674408 (hand: 11184811 / 2^25)
  T.eq(t:get(1, 2), 11184811 / 2 ^ 25, "1/3")
  T.eq(t:get(1, 1), 0.0, "1e-300 underflows to 0")
end)

local function bad(name, parts)
  T.test("idx rejects " .. name, function()
    local path = T.tmp(name)
    local p = type(parts) == "table" and parts or { parts }
    table.insert(p, path)
    T.raises(function() return data.idx(path) end, p)
  end)
end
bad("bad_magic.idx", "wrong magic number")
bad("bad_type.idx", "wrong magic number 0x00000A03")
bad("bad_ndim0.idx", "0 dimensions")
bad("bad_header.idx", "truncated")
bad("bad_dims_short.idx", "truncated")
bad("bad_trunc.idx", { "dimensions need 60 data bytes", "has only 53" })
bad("bad_extra.idx", "more bytes after the 60 elements")
bad("bad_overflow.idx", "dimensions overflow")
bad("bad_bigdims.idx.gz", "more than a")
bad("bad_gzshort.idx.gz", "truncated")
bad("bad_gztrunc.idx.gz", {})
bad("bad_gznotrailer.idx.gz", {})
bad("bad_gzcorrupt.idx.gz", "corrupt")
bad("does_not_exist.idx", "cannot open")
bad("", "expected a file, got")

T.test("gzip of several members, or with bytes after it, reads as the whole file", function()
  local want = data.idx(T.tmp("t0d.idx"))
  for _, n in ipairs { "t0d_members.idx.gz", "t0d_garbage.idx.gz" } do
    local got = data.idx(T.tmp(n))
    T.eq(table.concat(got:shape(), "x"), table.concat(want:shape(), "x"), n)
    T.eq((got - want):abs():max(), 0, n)
  end
end)

T.test("a gzip whose CRC-32 does not match is corrupt", function()
  local err = T.raises(function() return data.idx(T.tmp("bad_gzcrc.idx.gz")) end, { "corrupt" })
  T.ok(err:find("data check", 1, true), err)
end)

T.test("idx truncated gzip says truncated or corrupt", function()
  for _, n in ipairs { "bad_gztrunc.idx.gz", "bad_gznotrailer.idx.gz" } do
    local err = T.raises(function() return data.idx(T.tmp(n)) end, { n })
    T.ok(err:find("truncated", 1, true) or err:find("corrupt", 1, true), err)
  end
end)

T.test("idx argument must be a path", function()
  T.raises(function() return data.idx() end, "string expected")
end)

T.test("idx_many reads several files at once, each as idx does", function()
  local names = { "t08.idx.gz", "t09.idx", "t0d.idx.gz", "t0e.idx" }
  local paths = {}
  for i, nm in ipairs(names) do paths[i] = T.tmp(nm) end
  local got = table.pack(C.idx_many(paths))
  T.eq(got.n, 4)
  for i, p in ipairs(paths) do
    local one = data.idx(p)
    T.eq(table.concat(got[i]:shape(), "x"), table.concat(one:shape(), "x"), names[i])
    T.eq(got[i].dtype, one.dtype)
    for k = 1, #one do T.eq(tostring(got[i][k]), tostring(one[k]), names[i] .. " row " .. k) end
  end
  T.raises(function() C.idx_many { T.tmp("t08.idx"), T.tmp("bad_trunc.idx") } end, { T.tmp("bad_trunc.idx"), "dimensions need" })
  T.raises(function() C.idx_many { T.tmp("t08.idx"), 5 } end, "path 2 is a number")
end)

T.test("labels become 1-based int32", function()
  local y = C.labels(T.tmp("labels_ok.idx"), 10)
  T.eq(y.dtype, "int32")
  T.eq(y:get(1), 1); T.eq(y:get(2), 10); T.eq(y:get(3), 2); T.eq(y:get(4), 4)
end)

T.test("labels out of range are an error naming the file", function()
  T.raises(function() return C.labels(T.tmp("labels_bad.idx"), 10) end,
    { "labels_bad.idx", "label 10 at position 3 out of range (expected 0..9)" })
  T.raises(function() return C.labels(T.tmp("t08.idx"), 10) end, { "t08.idx", "1-D" })
end)

T.done()
