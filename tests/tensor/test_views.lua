-- test_views.lua — non-contiguous views (transposes, narrowed columns,
-- selected columns) are accepted wherever a tensor is, and give the same
-- values as their contiguous copies (whose kernels test_numpy.lua checks
-- against numpy).
local T = require "testlib"

tensor.seed(9)
local A = tensor.rand(5, 4)
local V = A:t()               -- 4x5, column-major
local S = A:narrow(2, 2, 2)   -- 5x2, rows of stride 4

local function same(a, b, what, tol)
  T.eq(table.concat(a:shape(), "x"), table.concat(b:shape(), "x"), what .. " shape")
  local d = a:sub(b):abs():max()
  if tol then T.ok(d <= tol, string.format("%s: differs by %g (tolerance %g)", what, d, tol))
  else T.eq(d, 0.0, what) end
end

-- A transposed view goes to the matrix library with a transpose flag, a copy
-- without: its kernels may then add the same products in another order, so
-- the two agree to rounding (a few float32 ulps), not always bit for bit.
T.test("matmul of views equals matmul of copies", function()
  same(V:matmul(A), V:clone():matmul(A), "A^T A", 1e-6)
  same(S:t():matmul(S), S:t():clone():matmul(S:clone()), "S^T S", 1e-6)
  same(A:matmul(V), A:matmul(V:clone()), "A A^T", 1e-6)
end)

T.test("index of a view and with a strided index tensor", function()
  local rows = tensor.new({ { 3, 1 }, { 2, 2 } }, "int32"):t():select(1, 1) -- {3, 2}, stride 2
  same(V:index(rows), V:clone():index(tensor.new({ 3, 2 }, "int32")), "V:index")
  same(A:index(rows), A:index(tensor.new({ 3, 2 }, "int32")), "A:index(strided)")
  T.eq(A:index(rows):get(1, 4), A:get(3, 4), "row 3 first")
end)

T.test("elementwise, reductions and argmax of views", function()
  same(V + 1, V:clone() + 1, "add")
  same(V:sum(2), V:clone():sum(2), "sum")
  same(S:argmax(2), S:clone():argmax(2), "argmax")
  same(V:softmax(2), V:clone():softmax(2), "softmax")
end)

T.test("save of a view writes its logical order (read back by numpy)", function()
  tensor.save(V, T.tmp("v.npy"))
  local out = T.python([[a = np.load("v.npy"); print(a.shape, repr(float(a[2, 4])))]])
  T.ok(out:find("(4, 5)", 1, true), out)
  T.near(tonumber(out:match("(%S+)%s*$")), A:get(5, 3), 1e-7)
  same(tensor.load(T.tmp("v.npy")), V, "load(save(V))")
end)

T.done()
