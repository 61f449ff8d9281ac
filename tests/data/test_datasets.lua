-- test_datasets.lua — dataset tables: data.subset, data.split, ds:batches,
-- #ds and tostring, on a small dataset whose row i holds the value i in X
-- and in y, so every check can tell which rows came out.
local T = require "testlib"
local C = require "_data"

local N = 50
local rows, labels = {}, {}
for i = 1, N do rows[i] = { i, i, i }; labels[i] = i end
local ds = data.dataset { X = tensor.new(rows, "int32"), y = tensor.new(labels, "int32"),
  classes = { "a", "b" }, name = "toy" }

-- The row numbers a dataset holds, checking X and y stayed paired.
local function ids(d)
  local out = {}
  for i = 1, #d do
    local v = d.y:get(i)
    T.eq(d.X:get(i, 1), v, "X row paired with y"); T.eq(d.X:get(i, 3), v, "whole row copied")
    out[i] = v
  end
  return out
end

local function distinct_in_range(list, n)
  local seen = {}
  for _, v in ipairs(list) do
    T.ok(v >= 1 and v <= n, "row " .. v .. " in range")
    T.ok(not seen[v], "row " .. v .. " repeated")
    seen[v] = true
  end
  return seen
end

T.test("#ds and tostring give name, size, shape and classes", function()
  T.eq(#ds, N)
  T.eq(tostring(ds), "toy: 50 images (50x3 int32), 2 classes: a, b")
end)

T.test("subset draws n distinct rows, same seed same rows", function()
  local s = data.subset(ds, 10, 42)
  T.eq(#s, 10); T.eq(s.name, "toy"); T.eq(s.classes, ds.classes)
  local a = ids(s)
  distinct_in_range(a, N)
  local b = ids(data.subset(ds, 10, 42))
  T.eq(table.concat(a, ","), table.concat(b, ","), "same seed")
  local c = ids(data.subset(ds, 10, 43))
  T.ok(table.concat(a, ",") ~= table.concat(c, ","), "another seed gives other rows")
  T.ok(getmetatable(s) == getmetatable(ds), "subset is a dataset")
end)

T.test("subset without a seed follows the global generator (--seed)", function()
  tensor.seed(7); local a = ids(data.subset(ds, 5))
  tensor.seed(7); local b = ids(data.subset(ds, 5))
  T.eq(table.concat(a, ","), table.concat(b, ","))
end)

T.test("a permutation of n is every row once", function()
  local p = C.permutation(1000, 1)
  local list = {}
  for i = 1, 1000 do list[i] = p:get(i) end
  local seen = distinct_in_range(list, 1000)
  local count = 0
  for _ in pairs(seen) do count = count + 1 end
  T.eq(count, 1000)
  local fixed = 0
  for i = 1, 1000 do if list[i] == i then fixed = fixed + 1 end end
  T.ok(fixed < 10, fixed .. " fixed points: not shuffled")
end)

T.test("split gives floor(N*fraction) rows and the rest, disjoint and complete", function()
  local a, b = data.split(ds, 0.7, 1)
  T.eq(#a, 35); T.eq(#b, 15)
  local seen = distinct_in_range(ids(a), N)
  for _, v in ipairs(ids(b)) do
    T.ok(not seen[v], "row " .. v .. " in both parts"); seen[v] = true
  end
  for i = 1, N do T.ok(seen[i], "row " .. i .. " lost") end
end)

T.test("batches in order are views covering every row once", function()
  local sizes, got = {}, {}
  for X, y in ds:batches(16, { shuffle = false }) do
    sizes[#sizes + 1] = #y
    T.eq(X:shape()[1], #y)
    for i = 1, #y do got[#got + 1] = y:get(i); T.eq(X:get(i, 2), y:get(i)) end
  end
  T.eq(table.concat(sizes, ","), "16,16,16,2")
  for i = 1, N do T.eq(got[i], i) end
end)

T.test("shuffled batches cover every row once in a new order", function()
  local got = {}
  for X, y in ds:batches(16, { seed = 3 }) do
    for i = 1, #y do got[#got + 1] = y:get(i); T.eq(X:get(i, 1), y:get(i), "X and y paired") end
  end
  T.eq(#got, N)
  distinct_in_range(got, N)
  local inorder = 0
  for i = 1, N do if got[i] == i then inorder = inorder + 1 end end
  T.ok(inorder < N / 2, "not shuffled")
end)

T.test("batches drop_last leaves out the short batch", function()
  local k = 0
  for _, y in ds:batches(16, { shuffle = false, drop_last = true }) do k = k + 1; T.eq(#y, 16) end
  T.eq(k, 3)
end)

T.test("helpers reject bad arguments with what they expected", function()
  T.raises(function() data.subset(ds, 51) end, { "subset", "0..50", "51" })
  T.raises(function() data.subset({}, 1) end, { "subset", "expected a dataset" })
  T.raises(function() data.split(ds, 1.5) end, { "split", "between 0 and 1", "1.5" })
  T.raises(function() ds:batches(0) end, { "batches", "batch size >= 1", "0" })
  T.raises(function() data.dataset { X = tensor.zeros(3, 2), y = tensor.zeros(4) } end,
    { "X has 3 rows but y has 4" })
  T.raises(function() C.gather(ds.X, { 0 }) end, { "row 0 out of range (expected 1..50)" })
end)

T.done()
