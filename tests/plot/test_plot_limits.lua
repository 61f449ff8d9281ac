-- test_plot_limits.lua — plot arguments that used to draw garbage or hang:
-- smooth out of range (a huge sigma overflowed the blur radius), gnuplot
-- commands that exit before drawing (an empty PNG), and confusion matrices
-- with hundreds of classes (one label per cell made gnuplot take minutes).
local T = require "testlib"
local C = require "_plot"

local have_gnuplot = C.find() ~= nil

T.test("plot.weights: smooth must be a sigma from 0 to 6", function()
  local W = tensor.rand(16, 2)
  for _, bad in ipairs({ 1e9, -1, 0 / 0, math.huge, "x" }) do
    T.raises(function() plot.weights(W, { shape = { 4, 4 }, smooth = bad }) end,
      { "plot.weights", "smooth: expected true, false or a sigma in pixels from 0 to 6, got " ..
        (type(bad) == "number" and tostring(bad) or "string") })
  end
end)

T.test("the blur itself stays finite for any sigma (C side)", function()
  local W = tensor.rand(16, 2)
  for _, sigma in ipairs({ 1e9, 1e30, math.huge, 3 }) do
    local w, h, lo, hi = C.mosaic(T.tmp("blur.bin"), W, { who = "t", layout = "columns", h = 4, w = 4, smooth = sigma })
    T.ok(w > 0 and h > 0, "size")
    T.ok(lo == lo and hi == hi and lo >= 0 and hi <= 1, string.format("sigma %g: values %g..%g", sigma, lo, hi))
  end
end)

if not have_gnuplot then
  T.skip("plot.gnuplot commands that draw nothing are an error", "gnuplot is not installed")
  T.skip("plot.confusion with 300 classes writes no label per cell", "gnuplot is not installed")
else
  T.test("plot.gnuplot commands that draw nothing are an error", function()
    plot.output("png", T.tmp("exit"))
    T.raises(function() plot.gnuplot("exit") end, { "plot.gnuplot", "gnuplot drew nothing" })
    T.eq(T.sh("ls -A " .. T.tmp("exit") .. " | grep png || true"), "", "no image kept")
    local path = plot.gnuplot("plot x")
    T.ok(path and io.open(path, "rb"):seek("end") > 0, "a real plot still draws")
  end)

  T.test("plot.confusion with 300 classes writes no label per cell", function()
    plot.output("png", T.tmp("conf"))
    local K = 300
    local y = tensor.arange(1, K + 1):int()
    local path = plot.confusion(metrics.confusion(y, y, K))
    T.ok(path and io.open(path, "rb"):seek("end") > 0, "drawn")
    local gp = io.open(path:gsub("%.png$", ".gp"), "rb"):read("a")
    local labels = select(2, gp:gsub("set label", ""))
    T.eq(labels, 0, "cell labels")
    T.ok(#gp < 20000, "script of " .. #gp .. " bytes")
    -- a small matrix still has its counts
    path = plot.confusion(metrics.confusion(y:narrow(1, 1, 5), y:narrow(1, 1, 5), 5))
    gp = io.open(path:gsub("%.png$", ".gp"), "rb"):read("a")
    T.eq(select(2, gp:gsub("set label", "")), 25, "cell labels of a 5-class matrix")
  end)
end

T.done()
