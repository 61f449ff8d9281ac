-- test_print.lua — tostring(t) as numpy prints arrays: nested brackets,
-- values aligned to a common width, blank lines between 3-D blocks, rows
-- wrapped at 75 columns, "..." summaries beyond 1000 elements; then the
-- shape and dtype. Expected strings are written out by hand.
local T = require "testlib"

local function check(t, want) T.eq(tostring(t), want) end

T.test("2-D floats with whole values", function()
  check(tensor.arange(6):reshape(2, 3),
    "tensor([[0., 1., 2.],\n        [3., 4., 5.]], shape=2x3, dtype=float32)")
end)

T.test("fractions share one precision and width; negatives aligned", function()
  check(tensor.new({ -1.5, 2, 0.25 }), "tensor([-1.50,  2.00,  0.25], shape=3, dtype=float32)")
end)

T.test("integers, uint8 and int32", function()
  check(tensor.new({ { 1, -20 }, { 300, 4 } }, "int32"),
    "tensor([[  1, -20],\n        [300,   4]], shape=2x2, dtype=int32)")
  check(tensor.new({ 0, 255 }, "uint8"), "tensor([  0, 255], shape=2, dtype=uint8)")
end)

T.test("3-D blocks separated by a blank line", function()
  check(tensor.arange(8):reshape(2, 2, 2),
    "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]], shape=2x2x2, dtype=float32)")
end)

T.test("long rows wrap at 75 columns", function()
  check(tensor.arange(30),
    "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n" ..
    "        13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n" ..
    "        26., 27., 28., 29.], shape=30, dtype=float32)")
end)

T.test("more than 1000 elements are summarised with ...", function()
  check(tensor.arange(2000), "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=2000, dtype=float32)")
  local s = tostring(tensor.arange(1100):reshape(100, 11))
  T.ok(s:find("[[   0.,    1.,    2., ...,    8.,    9.,   10.],", 1, true), s)
  T.ok(s:find("\n        ...,\n", 1, true), "a row of ... between edge rows")
  T.eq(s:sub(-37), "1099.]], shape=100x11, dtype=float32)")
  T.eq(select(2, s:gsub("\n", "")), 6, "7 lines: 3 rows, ..., 3 rows")
  check(tensor.arange(1000):reshape(1000):narrow(1, 1, 3), "tensor([0., 1., 2.], shape=3, dtype=float32)")
end)

T.test("scalar, empty, nan and inf, tiny values in scientific notation", function()
  check(tensor.new(3.5), "tensor(3.5, shape=scalar, dtype=float32)")
  check(tensor.zeros(0, 3), "tensor([], shape=0x3, dtype=float32)")
  check(tensor.new({ 0 / 0, 1 / 0, 1 }), "tensor([nan, inf,  1.], shape=3, dtype=float32)")
  check(tensor.new({ 1e-5, 1 }), "tensor([1.0000e-05, 1.0000e+00], shape=2, dtype=float32)")
end)

T.test("a transposed view prints in its logical order", function()
  check(tensor.arange(4):reshape(2, 2):t(), "tensor([[0., 2.],\n        [1., 3.]], shape=2x2, dtype=float32)")
end)

T.done()
