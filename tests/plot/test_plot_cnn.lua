-- test_plot_cnn.lua — the pictures of the convolutional-network lesson, with
-- the real gnuplot: plot.confusion_examples (the most confident image of
-- every cell of a confusion matrix) and plot.feature_maps (each channel of
-- one image's activations), checked through the captions and the binary
-- mosaic they write, and their errors.
local T = require "testlib"
local P = require "_plot"

if not P.find() then
  T.skip("plots of lesson 04", "gnuplot is not installed (apt-get install gnuplot-nox)")
  T.done()
end

local dir = T.tmp("plots_cnn")
plot.output("png", dir)
lesson.lang = "en"

local function read(path) return assert(io.open(path, "rb")):read("a") end
local function floats(path)
  local s, out = read(path), {}
  for i = 1, #s // 4 do out[i] = string.unpack("<f", s, 4 * i - 3) end
  return out
end

-- Six 2x2 images whose pixels all hold their own number 10·i.
local N, classes = 6, { "cat", "dog", "ship" }
local X = tensor.zeros({ N, 2, 2 }, "uint8")
for i = 1, N do X[i] = tensor.full({ 2, 2 }, 10 * i) end
local y = tensor.new({ 1, 1, 2, 2, 1, 3 }, "int32")
-- image 1: cat as cat 0.60; 2: cat as cat 0.90 (the better one);
-- 3: dog as cat 0.55; 4: dog as dog 0.80; 5: cat as ship 0.70; 6: ship as ship 0.51
local probs = tensor.new({
  { 0.60, 0.30, 0.10 }, { 0.90, 0.05, 0.05 }, { 0.55, 0.40, 0.05 },
  { 0.10, 0.80, 0.10 }, { 0.20, 0.10, 0.70 }, { 0.25, 0.24, 0.51 } })

T.test("confusion_examples: the most confident image of each cell, with its probability", function()
  local path = plot.confusion_examples(X, y, probs, classes)
  local gp = read((path:gsub("%.png$", ".gp")))
  T.ok(gp:find("'cat 90%'", 1, true), "the better cat→cat image (0.90, not 0.60): " .. gp)
  T.ok(not gp:find("'cat 60%'", 1, true), "the weaker one is not shown")
  T.ok(gp:find("'55%'", 1, true) and gp:find("'dog 80%'", 1, true) and gp:find("'70%'", 1, true)
       and gp:find("'ship 51%'", 1, true), gp)
  local labels = 0
  for _ in gp:gmatch("set label %d+ ''") do labels = labels + 1 end
  T.eq(labels, 9 - 5, "cells with no image have an empty caption")
  -- the mosaic holds image 2 (value 20) and never image 1 (value 10)
  local seen = {}
  for _, v in ipairs(floats((path:gsub("%.png$", ".bin")))) do if v == v then seen[v] = true end end
  T.ok(seen[20] and seen[30] and seen[40] and seen[50] and seen[60], "the chosen images are drawn")
  T.ok(not seen[10], "image 1 (a less confident cat→cat) is not drawn")
end)

T.test("confusion_examples: errors name what was expected", function()
  local ok, err = pcall(plot.confusion_examples, X, y, tensor.rand(6, 4), classes)
  T.ok(not ok and err:find("expected 6 x 3 scores", 1, true), err)
  ok, err = pcall(plot.confusion_examples, X, tensor.new({ 1, 1, 2, 2, 1, 4 }, "int32"), probs, classes)
  T.ok(not ok and err:find("1..3", 1, true), err)
  ok, err = pcall(plot.confusion_examples, X, y, probs, "cat")
  T.ok(not ok and err:find("classes", 1, true), err)
end)

T.test("feature_maps: one grey image per channel, each on its own range", function()
  local a = tensor.zeros(1, 3, 4, 2)
  for r = 1, 3 do
    for c = 1, 4 do
      a:set(1, r, c, 1, r * c)        -- channel 1: 1 .. 12
      a:set(1, r, c, 2, -100 - r - c) -- channel 2: far below, on its own range
    end
  end
  local path = plot.feature_maps(a, { name = "conv 1" })
  local gp = read((path:gsub("%.png$", ".gp")))
  T.ok(gp:find("2 feature maps of conv 1", 1, true), gp)
  local lo, hi, n = math.huge, -math.huge, 0
  for _, v in ipairs(floats((path:gsub("%.png$", ".bin")))) do
    if v == v then lo, hi, n = math.min(lo, v), math.max(hi, v), n + 1 end
  end
  T.eq(n, 2 * 3 * 4, "every pixel of both maps")
  T.eq(lo, 0, "each map scaled from 0")
  T.eq(hi, 255, "to 255")
  T.ok(plot.feature_maps(tensor.rand(5, 5, 7)) ~= nil, "H x W x C works too")
  local ok, err = pcall(plot.feature_maps, tensor.rand(2, 5, 5, 3))
  T.ok(not ok and err:find("1 x H x W x C", 1, true), err)
end)

T.done()
