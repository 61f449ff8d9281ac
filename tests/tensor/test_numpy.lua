-- test_numpy.lua — tensor arithmetic checked against numpy on the same
-- inputs, exchanged as .npy files (nnlab writes the inputs, numpy computes
-- and writes the references, nnlab reads them back): broadcasting in every
-- rank combination up to 4-D, unary math, reductions along each dim,
-- matmul with transposed and strided views, and .npy files both ways.
local T = require "testlib"

tensor.seed(7)
local dir = T.tmpdir()
local function path(name) return dir .. "/" .. name .. ".npy" end

-- max |got - want| <= tol * (1 + |want|), shapes and dtypes equal
local function close(got, want, tol, what)
  tol = tol or 1e-5
  T.eq(table.concat(got:shape(), "x"), table.concat(want:shape(), "x"), (what or "") .. " shape")
  T.eq(got.dtype, want.dtype, (what or "") .. " dtype")
  if got:numel() == 0 then return end
  local g, w = got:float(), want:float()
  local err = ((g - w):abs() / (w:abs() + 1)):max()
  if not (err <= tol) then
    error(string.format("%s: max relative difference %g > %g", what or "values", err, tol), 2)
  end
end

-- ---- inputs ---------------------------------------------------------------
-- Every pair of ranks 0..4; each dimension of each operand is its full size
-- or 1 (alternating by a pattern), so all broadcast situations appear.
local FULL = { 2, 3, 4, 5 }
local function shape_for(rank, pattern)
  local s = {}
  for i = 1, rank do
    local full = FULL[4 - rank + i]
    s[i] = ((pattern >> (i - 1)) & 1) == 1 and 1 or full
  end
  return s
end

local pairs_ = {}
for ra = 0, 4 do
  for rb = 0, 4 do
    for p = 0, 1 do
      local pa, pb = (p == 0) and 0 or 5, (p == 0) and 10 or 0
      local a = tensor.randn(shape_for(ra, pa))
      local b = tensor.rand(shape_for(rb, pb)) + 0.5 -- away from 0 for division
      pairs_[#pairs_ + 1] = { a = a, b = b }
      local k = #pairs_
      tensor.save(a, path("a" .. k))
      tensor.save(b, path("b" .. k))
    end
  end
end

local X = tensor.randn(3, 4, 5)
tensor.save(X, path("X"))
local P = tensor.rand(3, 4, 5) + 0.1
tensor.save(P, path("P"))
local I = (tensor.rand(3, 4, 5) * 20):int()
tensor.save(I, path("I"))

local A, B = tensor.randn(5, 7), tensor.randn(7, 3)
local At, Bt = tensor.randn(7, 5), tensor.randn(3, 7)
local Wide = tensor.randn(5, 12)
local Odd = tensor.randn(7, 5, 2)
for name, t in pairs({ A = A, B = B, At = At, Bt = Bt, Wide = Wide, Odd = Odd }) do
  tensor.save(t, path(name))
end

-- ---- numpy ----------------------------------------------------------------
T.python(string.format([[
n = %d
for k in range(1, n + 1):
    a = np.load("a%%d.npy" %% k); b = np.load("b%%d.npy" %% k)
    for op, f in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide),
                  ("gt", np.greater)):
        r = f(a, b)
        if r.dtype == bool: r = r.astype(np.uint8)
        np.save("r%%d_%%s.npy" %% (k, op), np.asarray(r))
X = np.load("X.npy"); P = np.load("P.npy"); I = np.load("I.npy")
for name, f in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("std", np.std)):
    for d in range(3):
        np.save("X_%%s_%%d.npy" %% (name, d + 1), f(X, axis=d).astype(np.float32))
        if name in ("sum", "max", "min"):
            np.save("I_%%s_%%d.npy" %% (name, d + 1), f(I, axis=d).astype(np.int32))
    print(name, repr(float(f(X))), repr(float(f(I))))
for name, f in (("argmax", np.argmax), ("argmin", np.argmin)):
    for d in range(3):
        np.save("X_%%s_%%d.npy" %% (name, d + 1), (f(X, axis=d) + 1).astype(np.int32))
    print(name, int(f(X)) + 1, int(f(I)) + 1)
def softmax(x, d):
    e = np.exp(x - x.max(axis=d, keepdims=True)); return e / e.sum(axis=d, keepdims=True)
for d in range(3):
    np.save("X_softmax_%%d.npy" %% (d + 1), softmax(X, d).astype(np.float32))
for name, f in (("exp", np.exp), ("tanh", np.tanh), ("abs", np.abs), ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
                ("relu", lambda x: np.maximum(x, 0)), ("neg", np.negative)):
    np.save("X_%%s.npy" %% name, f(X).astype(np.float32))
np.save("P_log.npy", np.log(P)); np.save("P_sqrt.npy", np.sqrt(P)); np.save("P_pow.npy", P ** 1.5)
np.save("X_clamp.npy", np.clip(X, -0.5, 0.7))
A = np.load("A.npy"); B = np.load("B.npy"); At = np.load("At.npy"); Bt = np.load("Bt.npy")
Wide = np.load("Wide.npy"); Odd = np.load("Odd.npy")
np.save("mm_AB.npy", A @ B); np.save("mm_AtB.npy", At.T @ B); np.save("mm_ABt.npy", A @ Bt.T)
np.save("mm_AtBt.npy", At.T @ Bt.T); np.save("mm_wide.npy", Wide[:, 2:9] @ B)
np.save("mm_odd.npy", Odd[:, :, 0].T @ B); np.save("mm_rowcol.npy", A[1:2, :] @ B[:, 2:3])
np.save("mm_AAt.npy", A @ A.T)
]], #pairs_))

-- ---- checks -------------------------------------------------------------------
T.test("broadcasting add/sub/mul/div/gt in every rank pair 0..4 (50 pairs) matches numpy", function()
  for k, p in ipairs(pairs_) do
    local a, b = p.a, p.b
    local what = string.format("pair %d (%s by %s)", k, table.concat(a:shape(), "x"), table.concat(b:shape(), "x"))
    close(a + b, tensor.load(path("r" .. k .. "_add")), 1e-6, what .. " +")
    close(a - b, tensor.load(path("r" .. k .. "_sub")), 1e-6, what .. " -")
    close(a:mul(b), tensor.load(path("r" .. k .. "_mul")), 1e-6, what .. " *")
    close(a / b, tensor.load(path("r" .. k .. "_div")), 1e-6, what .. " /")
    close(a:gt(b), tensor.load(path("r" .. k .. "_gt")), 0, what .. " gt")
  end
end)

T.test("in-place add_/mul_ with a broadcast operand match numpy", function()
  for k, p in ipairs(pairs_) do
    local a, b = p.a, p.b
    if a:dim() >= b:dim() and a:numel() == (a + b):numel() then
      close(a:clone():add_(b), tensor.load(path("r" .. k .. "_add")), 1e-6, "add_ " .. k)
      close(a:clone():mul_(b), tensor.load(path("r" .. k .. "_mul")), 1e-6, "mul_ " .. k)
    end
  end
end)

T.test("broadcast operands given as strided views (transposed) match numpy", function()
  -- (4,5) viewed through a transpose of a contiguous (5,4)
  local a, b = pairs_[#pairs_ - 1].a, pairs_[#pairs_ - 1].b
  local av = a:clone():transpose(1, 4):contiguous():transpose(1, 4)
  T.ok(not (av:transpose(1, 4):numel() ~= av:numel()), "same size")
  close(av + b, tensor.load(path("r" .. (#pairs_ - 1) .. "_add")), 1e-6, "strided +")
end)

local out = T.python([[print("ok")]]) -- keep the temporary folder alive between calls
T.ok(out:find("ok"))

T.test("reductions along each dim match numpy (float32 and int32)", function()
  for _, name in ipairs({ "sum", "mean", "max", "min", "std", "argmax", "argmin" }) do
    for d = 1, 3 do
      close(X[name](X, d), tensor.load(path("X_" .. name .. "_" .. d)), 1e-5, name .. " dim " .. d)
      if name == "sum" or name == "max" or name == "min" then
        close(I[name](I, d), tensor.load(path("I_" .. name .. "_" .. d)), 0, "int32 " .. name .. " dim " .. d)
      end
    end
    -- the last dimension also counts from the end, as numpy's axis=-1
    close(X[name](X, -1), tensor.load(path("X_" .. name .. "_3")), 1e-5, name .. " dim -1")
  end
end)

-- whole-tensor reductions: numpy printed its values
local whole = T.python([[
X = np.load("X.npy"); I = np.load("I.npy")
for name, f in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("std", np.std)):
    print(name, repr(float(f(X.astype(np.float64)))), repr(float(f(I))))
for name, f in (("argmax", np.argmax), ("argmin", np.argmin)):
    print(name, int(f(X)) + 1, int(f(I)) + 1)
]])
T.test("whole-tensor reductions match numpy (std with ddof=0)", function()
  local n = 0
  for name, xv, iv in whole:gmatch("(%a+) (%S+) (%S+)") do
    T.near(X[name](X), tonumber(xv), 1e-6, "float32 " .. name)
    T.near(I[name](I), tonumber(iv), 1e-9, "int32 " .. name)
    n = n + 1
  end
  T.eq(n, 7, "reductions compared")
  T.eq(math.type(I:sum()), "integer", "int32 sum is an integer")
end)

T.test("softmax along each dim, unary math, clamp and pow match numpy", function()
  for d = 1, 3 do close(X:softmax(d), tensor.load(path("X_softmax_" .. d)), 1e-6, "softmax " .. d) end
  for _, f in ipairs({ "exp", "tanh", "abs", "sigmoid", "relu", "neg" }) do
    close(X[f](X), tensor.load(path("X_" .. f)), 1e-6, f)
    close(X:clone()[f .. "_"](X:clone()), tensor.load(path("X_" .. f)), 1e-6, f .. "_")
  end
  close(P:log(), tensor.load(path("P_log")), 1e-6, "log")
  close(P:sqrt(), tensor.load(path("P_sqrt")), 1e-6, "sqrt")
  close(P:pow(1.5), tensor.load(path("P_pow")), 1e-6, "pow")
  close(P ^ 1.5, tensor.load(path("P_pow")), 1e-6, "^")
  close(X:clamp(-0.5, 0.7), tensor.load(path("X_clamp")), 0, "clamp")
end)

T.test("matmul matches numpy, including transposed and strided views", function()
  close(A:matmul(B), tensor.load(path("mm_AB")), 1e-5, "A B")
  close(At:t():matmul(B), tensor.load(path("mm_AtB")), 1e-5, "At^T B")
  close(A:matmul(Bt:t()), tensor.load(path("mm_ABt")), 1e-5, "A Bt^T")
  close(At:t():matmul(Bt:t()), tensor.load(path("mm_AtBt")), 1e-5, "At^T Bt^T")
  close(Wide:narrow(2, 3, 7):matmul(B), tensor.load(path("mm_wide")), 1e-5, "narrowed columns (ld 12)")
  close(Odd:select(3, 1):t():matmul(B), tensor.load(path("mm_odd")), 1e-5, "strides (2, 10): copied")
  close(A:narrow(1, 2, 1):matmul(B:narrow(2, 3, 1)), tensor.load(path("mm_rowcol")), 1e-5, "1x7 by 7x1")
  close(A:matmul(A:t()), tensor.load(path("mm_AAt")), 1e-5, "A A^T (same storage)")
  close(A:int():matmul(B), A:int():float():matmul(B), 0, "int32 operand converted to float32")
end)

T.test("matmul of empty inner size gives zeros", function()
  local z = tensor.ones(3, 0):matmul(tensor.ones(0, 2))
  T.eq(table.concat(z:shape(), "x"), "3x2")
  T.eq(z:sum(), 0.0)
  T.eq(z:max(), 0.0)
end)

-- ---- .npy both ways -------------------------------------------------------------
T.test(".npy written by numpy (float32, uint8, int32, 0-d, empty, format 2.0) reads back", function()
  T.python([=[
np.save("f.npy", np.array([[1.5, -2.25, 3.0], [4.0, 5.5, -6.0]], dtype=np.float32))
np.save("u.npy", np.arange(250, 256, dtype=np.uint8).reshape(2, 3))
np.save("i.npy", np.array([-2147483648, 0, 2147483647], dtype=np.int32))
np.save("s.npy", np.float32(2.5))
np.save("e.npy", np.zeros((0, 4), dtype=np.float32))
np.save("big.npy", np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5))
from numpy.lib import format as fmt
with open("v2.npy", "wb") as f:
    fmt.write_array(f, np.array([7, 8, 9], dtype=np.int32), version=(2, 0))
np.save("fortran_as_c.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
]=])
  local f = tensor.load(T.tmp("f.npy"))
  T.eq(f.dtype, "float32"); T.eq(f:get(1, 2), -2.25); T.eq(f:get(2, 3), -6.0)
  local u = tensor.load(T.tmp("u.npy"))
  T.eq(u.dtype, "uint8"); T.eq(u:get(1, 1), 250); T.eq(u:get(2, 3), 255)
  local i = tensor.load(T.tmp("i.npy"))
  T.eq(i.dtype, "int32"); T.eq(i[1], -2147483648); T.eq(i[3], 2147483647)
  local s = tensor.load(T.tmp("s.npy"))
  T.eq(s:dim(), 0); T.eq(s:totable(), 2.5)
  local e = tensor.load(T.tmp("e.npy"))
  T.eq(table.concat(e:shape(), "x"), "0x4")
  local big = tensor.load(T.tmp("big.npy"))
  T.eq(big:get(2, 3, 4, 5), 119.0); T.eq(big:get(1, 2, 3, 4), 1 * 20 + 2 * 5 + 3 + 0.0)
  local v2 = tensor.load(T.tmp("v2.npy"))
  T.eq(v2[2], 8)
end)

T.test(".npy written by nnlab (every dtype, views, 0-d, empty) reads in numpy with equal values", function()
  local base = tensor.arange(12):reshape(3, 4)
  tensor.save(base:t(), T.tmp("n_t.npy"))                 -- a transposed view is written in C order
  tensor.save(tensor.new({ 0, 7, 255 }, "uint8"), T.tmp("n_u.npy"))
  tensor.save(tensor.new({ -5, 2147483647 }, "int32"), T.tmp("n_i.npy"))
  tensor.save(tensor.new(3.25), T.tmp("n_s.npy"))
  tensor.save(tensor.zeros(0, 2), T.tmp("n_e.npy"))
  local res = T.python([[
t = np.load("n_t.npy"); u = np.load("n_u.npy"); i = np.load("n_i.npy"); s = np.load("n_s.npy"); e = np.load("n_e.npy")
print(t.dtype, t.shape, (t == np.arange(12, dtype=np.float32).reshape(3, 4).T).all())
print(u.dtype, u.tolist(), i.dtype, i.tolist(), s.dtype, s.shape, float(s), e.shape)
with open("n_t.npy", "rb") as f:
    data = f.read()
print("aligned", (data.index(b"\n") + 1) % 64 == 0, data[6], data[7])
]])
  T.ok(res:find("float32 (4, 3) True", 1, true), res)
  T.ok(res:find("uint8 [0, 7, 255] int32 [-5, 2147483647] float32 () 3.25 (0, 2)", 1, true), res)
  T.ok(res:find("aligned True 1 0", 1, true), "format 1.0, header padded to 64 bytes: " .. res)
end)

T.test("round trip nnlab -> numpy -> nnlab keeps every value", function()
  local r = tensor.randn(4, 3, 2)
  tensor.save(r, T.tmp("rt.npy"))
  T.python([[np.save("rt2.npy", np.load("rt.npy") * 2)]])
  close(tensor.load(T.tmp("rt2.npy")), r * 2, 0, "doubled by numpy")
end)

T.done()
