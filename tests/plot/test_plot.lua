-- test_plot.lua — every plot function with the real gnuplot: valid PNGs of
-- sensible size, numbered files with their .gp and data that redraw the
-- same image, known patterns read back from the pixels (Pillow through
-- /usr/bin/python3), the binary mosaics (layout, smoothing, scaling)
-- against hand-computed values, gnuplot errors and bad input.
local T = require "testlib"
local P = require "_plot"

if not P.find() then
  T.skip("plot with gnuplot", "gnuplot is not installed (apt-get install gnuplot-nox)")
  T.done()
end

local dir = T.tmp("plots")
plot.output("png", dir)

local function png_size(path)
  local f = assert(io.open(path, "rb"))
  local h = f:read(24)
  f:close()
  T.eq(h:sub(1, 8), "\137PNG\r\n\26\n", "PNG signature of " .. path)
  T.eq(h:sub(13, 16), "IHDR", "IHDR chunk")
  return string.unpack(">I4I4", h, 17)
end

local function sensible(path, minw, minh)
  local w, h = png_size(path)
  T.ok(w >= (minw or 200) and w <= 2500 and h >= (minh or 150) and h <= 2500,
    ("%s is %dx%d"):format(path, w, h))
  return w, h
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function floats(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  local t, pos = {}, 1
  while pos <= #s do
    t[#t + 1], pos = string.unpack("<f", s, pos)
  end
  return t
end

local seen = {}
plot.on_file = function(path, title) seen[#seen + 1] = { path = path, title = title } end

local names = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine" }
local yt = tensor.new({ 1, 2, 3, 1, 2, 3, 1, 1, 2, 3 }, "int32")
local yp = tensor.new({ 1, 3, 3, 1, 2, 1, 2, 1, 2, 3 }, "int32")

T.test("every plot function writes a numbered, valid PNG", function()
  tensor.seed(1)
  local paths = {
    plot.history({ loss = { 1, 0.7, 0.5 }, accuracy = { 0.5, 0.7, 0.8 }, val_loss = { 1.1, 0.8, 0.7 },
      val_accuracy = { 0.45, 0.6, 0.7 }, seconds = { 1, 1, 1 } }),
    plot.image(tensor.rand(28, 28)),
    plot.weights(tensor.randn(784, 10), { shape = { 28, 28 }, labels = names, cols = 5 }),
    plot.grid((tensor.rand(6, 32, 32, 3) * 255):uint8(), { labels = { "a", "b", "c", "d", "e", "f" }, cols = 3 }),
    plot.confusion(metrics.confusion(yt, yp, { "airplane", "automobile", "cat" })),
    plot.mistakes((tensor.rand(10, 28, 28) * 255):uint8(), yt, yp, { "airplane", "automobile", "cat" }, { n = 2 }),
    plot.lines({ train = { 1, 2, 3 }, validation = { 2, 3 } }, { title = "t", xlabel = "epoch" }),
    plot.gnuplot("plot sin(x)"),
  }
  local kinds = { "history", "image", "weights", "grid", "confusion", "mistakes", "lines", "gnuplot" }
  for i, k in ipairs(kinds) do
    local want = ("%s/%02d_%s.png"):format(dir, i, k)
    T.eq(paths[i], want)
    sensible(paths[i])
    T.ok(exists(("%s/%02d_%s.gp"):format(dir, i, k)), "script kept for " .. k)
  end
  T.ok(exists(dir .. "/03_weights.bin") and exists(dir .. "/01_history.dat"), "data kept")
  T.eq(#seen, 8, "on_file told of each file")
  T.eq(seen[3].path, paths[3])
  T.eq(type(seen[3].title), "string")
  local files = plot.files()
  T.eq(#files, 8)
  T.eq(files[5].path, paths[5])
  local out = T.sh("ls -a " .. dir)
  T.ok(not out:find("tmp", 1, true), "no temporary file left: " .. out)
end)

T.test("the kept .gp script draws the same file again", function()
  for _, base in ipairs({ "03_weights", "01_history", "05_confusion" }) do
    local png = dir .. "/" .. base .. ".png"
    os.rename(png, png .. ".orig")
    local out, code = T.sh(("cd %s && gnuplot %s.gp"):format(dir, base))
    T.eq(code, 0, out)
    local a = assert(io.open(png, "rb")):read("a")
    local b = assert(io.open(png .. ".orig", "rb")):read("a")
    T.ok(#a > 1000 and a == b, base .. ": redrawn bytes differ")
    os.remove(png .. ".orig")
  end
end)

local function pixels(path, code)
  return T.python(([[
from PIL import Image
im = np.asarray(Image.open(%q).convert("RGB")).astype(int)
g = im.mean(axis=2)
]]):format(path) .. code)
end

T.test("a left-to-right ramp comes out left to right", function()
  local t = tensor.zeros({ 8, 16 }, "uint8")
  for r = 1, 8 do
    for c = 1, 16 do t:set(r, c, (c - 1) * 13) end
  end
  local path = plot.image(t, { colorbox = false })
  local out = pixels(path, [[
ys, xs = np.nonzero(g < 250)
x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
cw = (x1 - x0) / 16
row = int((y0 + y1) / 2)
print(" ".join(str(int(round(g[row, int(x0 + (c + 0.5) * cw)]))) for c in range(16)))
print((x1 - x0) / (y1 - y0))
]])
  local vals = {}
  for v in out:match("[^\n]+"):gmatch("%d+") do vals[#vals + 1] = tonumber(v) end
  T.eq(#vals, 16)
  for c = 1, 16 do T.near(vals[c], (c - 1) * 13, 3, "grey of column " .. c) end
  T.near(tonumber(out:match("\n([%d%.]+)")), 2, 0.03, "aspect ratio 16:8")
end)

T.test("a single bright pixel lands where it should", function()
  local t = tensor.zeros({ 9, 9 }, "uint8")
  t:set(3, 7, 255)
  local path = plot.image(t, { colorbox = false })
  local out = pixels(path, [[
ys, xs = np.nonzero(g < 250)
x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
by, bx = np.nonzero(g[y0:y1, x0:x1] > 200)
print((bx.mean() + 0.5) / (x1 - x0), (by.mean() + 0.5) / (y1 - y0), len(bx) / ((x1 - x0) * (y1 - y0)))
]])
  local fx, fy, frac = out:match("([%d%.e-]+) ([%d%.e-]+) ([%d%.e-]+)")
  T.near(tonumber(fx), 6.5 / 9, 0.01, "x of the bright pixel")
  T.near(tonumber(fy), 2.5 / 9, 0.01, "y of the bright pixel (row 3 from the top)")
  T.near(tonumber(frac), 1 / 81, 0.004, "area of one pixel")
end)

T.test("grey weights: diverging palette centred on 0 (positive red, negative blue)", function()
  local W = tensor.zeros(16, 3)
  for p = 1, 16 do W:set(p, 1, 1); W:set(p, 3, -1) end
  local path = plot.weights(W, { shape = { 4, 4 }, cols = 3 })
  local out = pixels(path, [[
h, w, _ = im.shape
body = im[:, : w - 100]
r, gr, b = body[..., 0], body[..., 1], body[..., 2]
red = (r > 150) & (gr < 80) & (b < 80)
blue = (b > 120) & (r < 80)
white = (r > 240) & (gr > 240) & (b > 240)
print(np.nonzero(red)[1].mean(), np.nonzero(blue)[1].mean(), red.sum(), blue.sum())
]])
  local rx, bx, rn, bn = out:match("([%d%.]+) ([%d%.]+) (%d+) (%d+)")
  T.ok(tonumber(rn) > 1000 and tonumber(bn) > 1000, "red and blue tiles drawn: " .. out)
  T.ok(tonumber(rx) < tonumber(bx), "positive tile (1st) left of the negative one (3rd): " .. out)
  local gp = assert(io.open((path:gsub("%.png$", ".gp")))):read("a")
  T.ok(gp:find("set cbrange [-1:1]", 1, true), "symmetric colour range")
end)

T.test("mosaic layout: tiles in reading order, gaps empty", function()
  local X = tensor.zeros({ 3, 2, 2 }, "uint8")
  for i = 1, 3 do X[i]:fill(10 * i) end
  local path = plot.grid(X, { cols = 2 })
  local v = floats((path:gsub("%.png$", ".bin")))
  -- 2 columns of 2 px with a 1 px gap: 5 x 5
  T.eq(#v, 25)
  local function at(r, c) return v[(r - 1) * 5 + c] end
  T.eq(at(1, 1), 10); T.eq(at(2, 2), 10); T.eq(at(1, 4), 20); T.eq(at(2, 5), 20)
  T.eq(at(4, 1), 30); T.eq(at(5, 2), 30)
  T.ok(at(1, 3) ~= at(1, 3), "gap column is NaN")
  T.ok(at(3, 1) ~= at(3, 1), "gap row is NaN")
  T.ok(at(4, 4) ~= at(4, 4), "missing 4th tile is NaN")
end)

T.test("smooth=true: a Gaussian of sigma 1 per tile", function()
  local W = tensor.zeros(81, 1)
  W:set(41, 1, 1) -- the centre of 9x9
  local path = plot.weights(W, { shape = { 9, 9 }, smooth = true })
  local v = floats((path:gsub("%.png$", ".bin")))
  T.eq(#v, 81)
  local S = 0
  for k = -3, 3 do S = S + math.exp(-k * k / 2) end
  T.near(v[41], 1 / (S * S), 1e-6, "centre")
  T.near(v[42], math.exp(-0.5) / (S * S), 1e-6, "right neighbour")
  T.near(v[41 - 9 - 1], math.exp(-1) / (S * S), 1e-6, "diagonal")
  -- three to the right of the centre the window is cut by the edge and
  -- renormalised over the weights inside: g(3) / (S - g(2) - g(3)), times
  -- 1/S from the untruncated vertical pass
  local g = function(k) return math.exp(-k * k / 2) end
  T.near(v[41 + 3], g(3) / (S - g(2) - g(3)) / S, 1e-6, "renormalised at the edge")
  local flat = plot.weights(tensor.full({ 81, 1 }, 2), { shape = { 9, 9 }, smooth = true })
  for _, x in ipairs(floats((flat:gsub("%.png$", ".bin")))) do T.near(x, 2, 1e-5, "a constant tile stays") end
end)

T.test("RGB weights: each tile min-max scaled to 0..255", function()
  local W = tensor.zeros(12, 2)
  for p = 1, 12 do W:set(p, 1, p); W:set(p, 2, -2 * p) end
  local path = plot.weights(W, { shape = { 2, 2, 3 }, cols = 2 })
  local v = floats((path:gsub("%.png$", ".bin")))
  -- mosaic 2 x (2+1+2) pixels x 3 channels
  T.eq(#v, 2 * 5 * 3)
  T.near(v[1], 0, 1e-4); T.near(v[2], 255 / 11, 1e-3); T.near(v[6], 5 * 255 / 11, 1e-3)
  -- pixel (1,4) is tile 2's first pixel: -2 is its largest value -> 255
  T.near(v[(3 * 3) + 1], 255, 1e-3)
  T.near(v[7], 255, 1e-3, "gap is white")
end)

T.test("mistakes: captions 'true → predicted', first n wrong ones", function()
  local X = tensor.zeros({ 10, 4, 4 }, "uint8")
  local path = plot.mistakes(X, yt, yp, { "airplane", "automobile", "cat" }, { n = 2 })
  local gp = assert(io.open((path:gsub("%.png$", ".gp")))):read("a")
  T.ok(gp:find("'automobile → cat'", 1, true), gp)
  T.ok(gp:find("'cat → airplane'", 1, true))
  T.ok(not gp:find("airplane → automobile", 1, true), "only n = 2")
  -- scores as predictions
  local scores = tensor.zeros(10, 3)
  for i = 1, 10 do scores:set(i, yp[i], 1) end
  for i = 1, 10 do scores:set(i, yt[i], 0.25) end -- the predicted class keeps 1, or 0.25 when right
  scores:set(2, yp[2], 0.875)
  local p2 = plot.mistakes(X, yt, scores, { "airplane", "automobile", "cat" }, { n = 2 })
  local gp2 = assert(io.open((p2:gsub("%.png$", ".gp")))):read("a")
  T.ok(gp2:find("'automobile → cat 88%'", 1, true) and gp2:find("'cat → airplane 100%'", 1, true),
    "scores: the caption ends with the predicted class's probability: " .. gp2)
  T.eq(plot.mistakes(X, yt, yt, { "a", "b", "c" }), nil, "no mistake: nothing drawn")
end)

T.test("confusion plot: every count and class name", function()
  local path = plot.confusion(metrics.confusion(yt, yp, { "airplane", "automobile", "cat" }))
  local gp = assert(io.open((path:gsub("%.png$", ".gp")))):read("a")
  local n = 0
  for _ in gp:gmatch("set label '%d+' at") do n = n + 1 end
  T.eq(n, 9, "a label per cell")
  T.ok(gp:find("set label '3' at 0,0", 1, true), "count 3 in cell (1,1)")
  T.ok(gp:find("set label '1' at 1,0", 1, true), "count 1 in cell (1,2): row true, column predicted")
  for _, nm in ipairs({ "airplane", "automobile", "cat" }) do
    local _, c = gp:gsub("'" .. nm .. "'", "")
    T.eq(c, 2, nm .. " on both axes")
  end
end)

T.test("a failing gnuplot command is a Lua error with gnuplot's message", function()
  T.raises(function() plot.gnuplot("plot sinn(x)") end, { "plot.gnuplot", "undefined function" })
  T.raises(function() plot.gnuplot({ "set xrange [", "plot x" }) end, { "plot.gnuplot" })
end)

T.test("window session: one gnuplot across scripts, restarted after an error", function()
  local exe = P.find()
  T.ok(P.session_send(exe, "set terminal dumb\nx = 1"))
  local pid = P.session_pid()
  T.ok(pid ~= nil)
  T.ok(P.session_send(exe, "y = x + 1"))
  T.eq(P.session_pid(), pid, "same process")
  local ok, err = P.session_send(exe, "print undefined_variable_here")
  T.eq(ok, nil)
  T.ok(err:find("undefined variable", 1, true), err)
  T.eq(P.session_pid(), pid, "gnuplot goes on after an error")
  T.ok(P.session_send(exe, "print x"), "and still works")
  ok, err = P.session_send(exe, "exit")
  T.eq(ok, nil)
  T.ok(err:find("gnuplot stopped", 1, true), err)
  T.eq(P.session_pid(), nil, "stopped")
  T.ok(P.session_send(exe, "z = 2"))
  T.ok(P.session_pid() ~= pid, "a new process")
  plot.close()
  T.eq(P.session_pid(), nil)
end)

T.test("bad input", function()
  T.raises(function() plot.weights(tensor.zeros(100, 10), { shape = { 28, 28 } }) end,
    { "plot.weights", "100 rows", "784" })
  T.raises(function() plot.weights(tensor.zeros(784, 10)) end, { "shape" })
  T.raises(function() plot.weights(tensor.zeros(784, 10), { shape = { 28 } }) end, { "shape", "{H, W}" })
  T.raises(function() plot.weights(tensor.zeros(784), { shape = { 28, 28 } }) end, { "2-D", "784" })
  T.raises(function() plot.weights(tensor.zeros(784, 2), { shape = { 28, 28 }, colour = 1 }) end,
    { "unknown option 'colour'" })
  T.raises(function() plot.output("paper") end, { "unknown output mode 'paper'", "window, png, svg, dumb or none" })
  T.raises(function() plot.output(3) end, { "unknown output mode" })
  T.raises(function() plot.image(tensor.zeros(2, 3, 4)) end, { "plot.image", "H x W", "2x3x4" })
  T.raises(function() plot.image("x") end, { "expected a Tensor, got string" })
  T.raises(function() plot.grid(tensor.zeros(4, 4)) end, { "plot.grid", "N x H x W" })
  T.raises(function() plot.mistakes(tensor.zeros(3, 2, 2), yt, yp, { "a", "b", "c" }) end,
    { "plot.mistakes", "y_true", "expected 3" })
  T.raises(function() plot.mistakes(tensor.zeros(10, 2, 2), yt, yp, { "a", "b" }) end,
    { "1..2", "got 3" })
  T.raises(function() plot.confusion({}) end, { "Confusion" })
  T.raises(function() plot.history({}) end, { "hist.loss" })
  T.raises(function() plot.history({ loss = { 1, "x" } }) end, { "expected a number" })
  T.raises(function() plot.lines(5) end, { "series" })
  T.raises(function() plot.gnuplot(5) end, { "commands" })
end)

T.test("plot.history: at most 12 epoch labels on a long run; a history without accuracy draws", function()
  local d = T.tmp("history_tics")
  plot.output("png", d)
  for _, case in ipairs({ { 5, 1 }, { 12, 1 }, { 13, 2 }, { 40, 5 }, { 100, 10 }, { 130, 20 } }) do
    local n, step = case[1], case[2]
    local h = { loss = {}, accuracy = {} }
    for i = 1, n do h.loss[i], h.accuracy[i] = 1 / i, 1 - 1 / (i + 1) end
    local path = plot.history(h)
    sensible(path, 600, 300)
    local f = assert(io.open((path:gsub("%.png$", ".gp"))))
    local gp = f:read("a")
    f:close()
    T.eq(tonumber(gp:match("set xtics (%d+)")), step, n .. " epochs: tic step")
    T.ok(math.ceil(n / step) <= 12, n .. " epochs: " .. math.ceil(n / step) .. " labels")
  end
  -- MSE training has no accuracy: the empty panel says so instead of failing
  local path = plot.history({ loss = { 0.9, 0.5, 0.4 }, val_loss = { 1, 0.7, 0.6 } })
  sensible(path, 600, 300)
  plot.output("png", dir)
end)

T.done()
