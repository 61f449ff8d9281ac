-- test_confusion_plot.lua — plot.confusion's options: percent (recall and
-- precision % in the margins, accuracy in the corner), normalize by true or
-- predicted class, title/xlabel/ylabel, the words in the user's language,
-- and bad options. Reads the .gp script and the float32 data it draws.
local T = require "testlib"

local yt = tensor.new({ 1, 1, 1, 1, 2, 2, 3, 3, 3, 3 }, "int32")
local yp = tensor.new({ 1, 1, 1, 2, 2, 3, 3, 3, 1, 1 }, "int32")
local cm = metrics.confusion(yt, yp, { "airplane", "automobile", "cat" })

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Draws into a fresh folder; returns the .gp text and the K x K cells.
local n = 0
local function draw(opts)
  n = n + 1
  local dir = T.tmp("cm" .. n)
  plot.output("png", dir)
  local path = plot.confusion(cm, opts)
  local base = path and path:gsub("%.png$", "") or (dir .. "/01_confusion")
  local bin = read(base .. ".bin")
  local cells = {}
  for i = 1, 3 do
    cells[i] = {}
    for j = 1, 3 do cells[i][j] = string.unpack("<f", bin, 1 + 4 * ((i - 1) * 3 + j - 1)) end
  end
  return read(base .. ".gp"), cells
end

local function has(text, s) T.ok(text:find(s, 1, true), "missing " .. s .. " in:\n" .. text) end

T.test("default: counts in the cells, English axis words, no margins", function()
  lesson.lang = "en"
  local gp, cells = draw()
  T.eq(cells[1][1], 3); T.eq(cells[3][1], 2)
  has(gp, "set xlabel 'predicted class'")
  has(gp, "set ylabel 'true class'")
  has(gp, "confusion matrix (accuracy 60.0%)")
  T.ok(not gp:find("'recall'", 1, true), "no recall margin without percent")
end)

T.test("percent=true: recall % on the right, precision % below, accuracy in the corner", function()
  local gp = draw { percent = true }
  has(gp, "'recall' 3")
  has(gp, "'precision' 3")
  -- recall of row 1 is 3/4, at column 4 (x = 3); precision of column 1 is 3/5, at row 4 (y = 3)
  has(gp, "set label '75.0%' at 3,0")
  has(gp, "set label '60.0%' at 0,3")
  has(gp, "set label '60.0%' at 3,3") -- accuracy 6/10
  has(gp, "set xrange [-0.5:3.5]")
end)

T.test("normalize='true' divides rows, 'pred' columns; the cells show %", function()
  local gp, cells = draw { normalize = "true" }
  T.near(cells[1][1], 0.75, 1e-6); T.near(cells[1][2], 0.25, 1e-6)
  T.near(cells[3][1] + cells[3][2] + cells[3][3], 1, 1e-6)
  has(gp, "set label '75%' at 0,0")
  has(gp, "set cbrange [0:1]")
  local _, pc = draw { normalize = "pred" }
  T.near(pc[1][1], 3 / 5, 1e-6); T.near(pc[3][1], 2 / 5, 1e-6)
  T.near(pc[1][2] + pc[2][2] + pc[3][2], 1, 1e-6)
end)

T.test("title, xlabel and ylabel replace the default words", function()
  local gp = draw { title = "My matrix", xlabel = "guess", ylabel = "truth" }
  has(gp, "set title 'My matrix'")
  has(gp, "set xlabel 'guess'")
  has(gp, "set ylabel 'truth'")
end)

T.test("the default words follow lesson.lang", function()
  lesson.lang = "es"
  local gp = draw { percent = true }
  lesson.lang = "en"
  has(gp, "set xlabel 'clase predicha'")
  has(gp, "set ylabel 'clase real'")
  has(gp, "matriz de confusión (exactitud 60.0%)")
  has(gp, "'sensibilidad' 3")
  has(gp, "'precisión' 3")
end)

T.test("bad options are errors naming them", function()
  T.raises(function() plot.confusion(cm, { normalize = "all" }) end, { "normalize", "\"true\" or \"pred\"", "got 'all'" })
  T.raises(function() plot.confusion(cm, { percent = "yes" }) end, { "percent", "true or false", "got string" })
  T.raises(function() plot.confusion(cm, { xlabel = 3 }) end, { "xlabel", "expected a string", "got number" })
  T.raises(function() plot.confusion(cm, { colour = "red" }) end, { "unknown option 'colour'" })
end)
