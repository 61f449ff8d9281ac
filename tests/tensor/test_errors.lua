-- test_errors.lua — misuse of the tensor API: every case must be a Lua
-- error (never a crash) whose message names what was expected and what was
-- given: shapes as 2x3, dtypes, indices with their valid range.
local T = require "testlib"

local A, B = tensor.zeros(2, 3), tensor.zeros(4)
local M = tensor.zeros(2, 3)

local cases = {
  -- shapes
  { "matmul inner sizes", function() A:matmul(A) end, { "matmul", "inner sizes differ", "2x3 by 2x3" } },
  { "matmul of a 1-D tensor", function() A:matmul(B) end, { "matmul", "2-D", "2x3 by 4" } },
  { "broadcast add", function() return A + B end, { "add", "2x3", "4", "broadcast" } },
  { "broadcast method sub", function() return A:sub(tensor.zeros(3, 3)) end, { "sub", "2x3", "3x3" } },
  { "broadcast comparison", function() return A:lt(B) end, { "lt", "2x3", "4" } },
  { "in-place result does not fit", function() B:add_(tensor.zeros(3, 4)) end, { "add_", "3x4", "4" } },
  { "reshape to a different count", function() A:reshape(4, 2) end, { "reshape", "2x3", "6", "4x2", "8" } },
  { "reshape with two -1", function() A:reshape(-1, -1) end, { "reshape", "only one size may be -1" } },
  { "reshape -1 not dividing", function() A:reshape(4, -1) end, { "reshape", "2x3", "4x-1" } },
  { "copy from a different count", function() A:copy(B) end, { "copy", "6", "2x3", "4" } },
  { "cat with mismatched shapes", function() tensor.cat({ A, tensor.zeros(2, 4) }, 1) end,
    { "tensor.cat", "2x3", "dimension 1", "2x4", "position 2" } },
  { "stack of different shapes", function() tensor.stack({ A, tensor.zeros(3, 2) }) end,
    { "tensor.stack", "2x3", "3x2", "position 2" } },
  { "assign a row of the wrong shape", function() M[1] = tensor.zeros(4) end, { "4", "3" } },
  -- indices and dims
  { "t[i] past the end", function() return A[3] end, { "index 3 out of range", "1..2" } },
  { "t[0]", function() return B[0] end, { "index 0 out of range", "1..4" } },
  { "t[i] = v past the end", function() A[5] = 1 end, { "index 5 out of range", "1..2" } },
  { "get out of range", function() return A:get(2, 4) end, { "get", "index 4 out of range", "1..3" } },
  { "get with too few indices", function() return A:get(1) end, { "get", "2 indices", "2x3", "got 1" } },
  { "set out of range", function() A:set(3, 1, 0) end, { "set", "index 3 out of range", "1..2" } },
  { "set without a value", function() A:set(1, 1) end, { "set", "2 indices", "2x3", "got 1" } },
  { "set with a string value", function() A:set(1, 1, "x") end, { "set", "number", "string" } },
  { "narrow past the end", function() A:narrow(2, 2, 3) end, { "narrow", "2..4", "size 3" } },
  { "narrow bad dim", function() A:narrow(3, 1, 1) end, { "narrow", "dimension 3 out of range", "1..2" } },
  { "select out of range", function() A:select(1, 3) end, { "select", "index 3 out of range", "1..2" } },
  { "select bad dim", function() A:select(0, 1) end, { "select", "dimension 0 out of range", "1..2" } },
  { "index position out of range", function() A:index(tensor.new({ 1, 3 }, "int32")) end,
    { "index", "position 3", "1..2" } },
  { "index with a float tensor", function() A:index(tensor.new({ 1 })) end, { "index", "int32", "float32" } },
  { "index with a string", function() A:index("rows") end, { "index", "int32 Tensor", "string" } },
  { "transpose bad dims", function() A:transpose(1, 3) end, { "transpose", "dimension 3", "1..2" } },
  { "t of a 3-D tensor", function() tensor.zeros(2, 3, 4):t() end, { "t:", "2-D", "2x3x4" } },
  { "softmax bad dim", function() A:softmax(3) end, { "softmax", "dimension 3 out of range", "1..2" } },
  { "sum bad dim", function() A:sum(5) end, { "sum", "dimension 5 out of range", "1..2" } },
  { "argmax bad dim", function() A:argmax(-3) end, { "argmax", "dimension -3", "1..2" } },
  { "size bad dim", function() A:size(3) end, { "size", "dimension 3", "1..2" } },
  { "flatten bad dim", function() A:flatten(4) end, { "flatten", "dimension 4", "1..2" } },
  { "cat bad dim", function() tensor.cat({ A, A }, 3) end, { "tensor.cat", "dimension 3", "1..2" } },
  { "max of an empty tensor", function() tensor.zeros(0):max() end, { "max", "non-empty", "0" } },
  -- dtypes and values
  { "wrong dtype name", function() tensor.zeros(2, "float64") end, { "float32", "uint8", "int32", "float64" } },
  { "wrong dtype name in new", function() tensor.new({ 1 }, "double") end, { "tensor.new", "float32", "double" } },
  { "dtype not a string", function() tensor.ones({ 2 }, 5) end, { "tensor.ones", "dtype", "number" } },
  { "non-numeric nested table", function() tensor.new({ { 1, "x" }, { 3, 4 } }) end,
    { "tensor.new", "numbers", "string", "[1][2]" } },
  { "ragged nested table", function() tensor.new({ { 1, 2, 3 }, { 4, 5 } }) end,
    { "tensor.new", "ragged", "3", "[2]", "got 2" } },
  { "ragged depth", function() tensor.new({ { 1, 2 }, 3 }) end, { "tensor.new", "ragged", "number" } },
  { "new of a string", function() tensor.new("1,2") end, { "tensor.new", "nested table", "string" } },
  { "negative size", function() tensor.zeros(2, -3) end, { "tensor.zeros", ">= 0", "-3" } },
  { "negative size in a table", function() tensor.rand({ -1 }) end, { "tensor.rand", ">= 0", "-1" } },
  { "non-integer size", function() tensor.zeros(2.5) end, { "tensor.zeros", "shape", "number" } },
  { "too many dimensions", function() tensor.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1) end, { "at most 8", "9" } },
  { "fill with a string", function() A:fill("a") end, { "fill", "number", "string" } },
  { "full without a value", function() tensor.full({ 2 }) end, { "tensor.full", "number", "no value" } },
  { "clamp with a string", function() A:clamp("a") end, { "clamp", "number or nil", "string" } },
  { "clamp lower > upper", function() A:clamp(2, 1) end, { "clamp", "lower <= upper", "2", "1" } },
  { "arange with step 0", function() tensor.arange(0, 1, 0) end, { "tensor.arange", "non-zero step" } },
  { "seed with a string", function() tensor.seed("x") end, { "tensor.seed", "integer", "string" } },
  { "arange to infinity", function() tensor.arange(0, math.huge) end, { "tensor.arange", "finite", "inf" } },
  { "arange to NaN", function() tensor.arange(0, 0 / 0) end, { "tensor.arange", "finite", "nan" } },
  { "arange of 10^18 values", function() tensor.arange(0, 1e18) end,
    { "tensor.arange", "at most 10^12 values", "1000000000000000000" } },
  { "zeros of 2^80 elements", function() tensor.zeros(1 << 40, 1 << 40) end,
    { "tensor.zeros", "too large", "at most 2^40 bytes", "1099511627776x1099511627776 float32" } },
  { "zeros of 10^18 elements", function() tensor.zeros(1e9 // 1, 1e9 // 1) end,
    { "tensor.zeros", "at most 2^40 bytes", "1000000000x1000000000" } },
  { "reshape an empty tensor to 2^124 per row", function() tensor.zeros(0, 4):reshape(0, 1 << 62, 1 << 62) end,
    { "reshape", "0x4", "0x4611686018427387904x4611686018427387904", "at most 2^40 elements" } },
  { "reshape to sizes whose product wraps", function() tensor.zeros(4):reshape(1 << 32, 1 << 32, 1 << 32) end,
    { "reshape", "4294967296x4294967296x4294967296", "at most 2^40 elements" } },
  -- non-tensor arguments
  { "add a string", function() return A + "x" end, { "add", "Tensor or a number", "string" } },
  { "matmul with a table", function() A:matmul({}) end, { "Tensor expected", "table" } },
  { "copy from a number", function() A:copy(3) end, { "Tensor expected", "number" } },
  { "method on a non-tensor", function() return tensor.methods.sum({}) end, { "Tensor expected", "table" } },
  { "cat of a non-list", function() tensor.cat(A, 1) end, { "tensor.cat", "list of Tensors", "userdata" } },
  { "cat with a number inside", function() tensor.cat({ A, 1 }, 1) end, { "tensor.cat", "Tensors", "number", "position 2" } },
  { "stack of nothing", function() tensor.stack({}) end, { "tensor.stack", "non-empty", "empty" } },
  { "assign a string field", function() A.foo = 1 end, { "integer index", "string", "foo" } },
  -- files
  { "load a missing file", function() tensor.load(T.tmp("missing.npy")) end, { "load", "missing.npy", "No such file" } },
  { "load a file that is not .npy", function()
      local f = io.open(T.tmp("text.npy"), "w"); f:write("hello world, not numpy"); f:close()
      tensor.load(T.tmp("text.npy"))
    end, { "load", "text.npy", "\\x93NUMPY" } },
  { "load a truncated .npy", function()
      tensor.save(tensor.zeros(100), T.tmp("full.npy"))
      local f = io.open(T.tmp("full.npy"), "rb"); local s = f:read("a"); f:close()
      f = io.open(T.tmp("cut.npy"), "wb"); f:write(s:sub(1, #s - 50)); f:close()
      tensor.load(T.tmp("cut.npy"))
    end, { "load", "cut.npy", "truncated", "350 of 400 bytes" } },
  { "load a truncated header", function()
      local f = io.open(T.tmp("full.npy"), "rb"); local s = f:read("a"); f:close()
      f = io.open(T.tmp("cuthead.npy"), "wb"); f:write(s:sub(1, 30)); f:close()
      tensor.load(T.tmp("cuthead.npy"))
    end, { "load", "cuthead.npy", "truncated header" } },
  { "load an unsupported .npy dtype", function()
      T.python([[np.save("f8.npy", np.zeros(3))]])
      tensor.load(T.tmp("f8.npy"))
    end, { "load", "f8.npy", "unsupported dtype", "<f8", "<f4", "|u1", "<i4" } },
  { "load a big-endian .npy", function()
      T.python([[np.save("be.npy", np.zeros(3, dtype=">f4"))]])
      tensor.load(T.tmp("be.npy"))
    end, { "load", "unsupported dtype", ">f4" } },
  { "load a Fortran-order .npy", function()
      T.python([[np.save("fo.npy", np.asfortranarray(np.zeros((2, 3), dtype=np.float32)))]])
      tensor.load(T.tmp("fo.npy"))
    end, { "load", "fortran_order False", "True" } },
  { "load a folder", function() tensor.load(T.tmpdir()) end, { "load", "expected a .npy file", "a folder" } },
  { "load a header claiming 400 GB", function()
      -- A valid v1 header (padded to 128 bytes) whose shape asks for far more
      -- data than follows: refused before any allocation.
      local h = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }"
      h = h .. string.rep(" ", 117 - #h) .. "\n"
      local f = io.open(T.tmp("claim.npy"), "wb")
      f:write("\x93NUMPY\1\0", string.char(#h % 256, #h // 256), h, "abcd"); f:close()
      tensor.load(T.tmp("claim.npy"))
    end, { "load", "claim.npy", "truncated", "4 of 400000000000 bytes", "100000000000" } },
  { "save to a missing folder", function() tensor.save(A, "/nonexistent/dir/a.npy") end,
    { "save", "/nonexistent/dir/a.npy", "No such file" } },
  { "save a non-tensor", function() tensor.save({}, T.tmp("x.npy")) end, { "Tensor expected", "table" } },
}

for _, c in ipairs(cases) do
  T.test("misuse: " .. c[1], function() T.raises(c[2], c[3], c[1]) end)
end

T.test("at least 30 misuse cases", function() T.ok(#cases >= 30, #cases .. " cases") end)

T.test("an empty tensor of 2^40 elements per row keeps 64-bit strides", function()
  -- No data, but the strides 2^40 and 2^20 must be computed without wrapping
  -- (UBSan catches an int overflow here under make asan).
  local Z = tensor.zeros(0, 1 << 20, 1 << 20, "uint8")
  T.eq(table.concat(Z:shape(), "x"), "0x1048576x1048576")
  T.eq(Z:reshape(1 << 20, 0, 1 << 20):numel(), 0)
  T.ok(tostring(Z):find("0x1048576x1048576", 1, true), "printed shape")
end)

T.test("the tensors survive the errors unchanged", function()
  T.eq(A:sum(), 0.0); T.eq(table.concat(A:shape(), "x"), "2x3"); T.eq(B:numel(), 4)
end)

T.done()
