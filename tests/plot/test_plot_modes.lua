-- test_plot_modes.lua — where plots go: none, png, svg, dumb, the default
-- folder (out/<script> or out/repl), the window fallback without a display,
-- and a machine without gnuplot (scripts and data kept, one install hint).
-- Each case runs nnlab in a fresh folder.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"
local have_gnuplot = require("_plot").find() ~= nil
local n = 0

-- Runs nnlab with args in a new empty folder; returns output and folder.
local function run(env, args)
  n = n + 1
  local d = T.tmp("mode" .. n)
  os.execute("mkdir -p " .. d)
  local out, code = T.sh(("cd %s && env -u NNLAB_PLOT %s %s %s"):format(d, env, BIN, args))
  return out, d, code
end

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end

local IMG = [[-e "print(plot.image(tensor.zeros(4, 4)))"]]

T.test("none: nothing drawn, nothing written, nil returned", function()
  local out, d = run("NNLAB_PLOT=none", IMG)
  T.eq(out, "nil\n")
  T.ok(not exists(d .. "/out"), "no out folder")
end)

T.test("--plot none wins over NNLAB_PLOT", function()
  local out = run("NNLAB_PLOT=png", "--plot none " .. IMG)
  T.eq(out, "nil\n")
end)

T.test("unknown mode from NNLAB_PLOT is an error naming it", function()
  local out, _, code = run("NNLAB_PLOT=paper", IMG)
  T.ok(code ~= 0, "exit status")
  T.ok(out:find("unknown output mode 'paper'", 1, true), out)
end)

if not have_gnuplot then
  T.skip("png, svg, dumb modes", "gnuplot is not installed")
else
  T.test("png: default folder out/repl without a script", function()
    local out, d = run("", "--plot png " .. IMG)
    T.eq(out, "out/repl/01_image.png\n")
    T.ok(exists(d .. "/out/repl/01_image.png") and exists(d .. "/out/repl/01_image.gp"), "files")
  end)

  T.test("png: default folder out/<script name>, numbered in order", function()
    n = n + 1
    local d = T.tmp("mode" .. n)
    os.execute("mkdir -p " .. d)
    local f = assert(io.open(d .. "/my_lesson.lua", "w"))
    f:write("print(plot.image(tensor.zeros(4, 4)))\nprint(plot.lines({1, 2, 3}))\n")
    f:close()
    local out = T.sh(("cd %s && env -u NNLAB_PLOT %s --plot png my_lesson.lua"):format(d, BIN))
    T.eq(out, "out/my_lesson/01_image.png\nout/my_lesson/02_lines.png\n")
    local out2 = T.sh(("cd %s && env -u NNLAB_PLOT %s --plot png --out elsewhere my_lesson.lua"):format(d, BIN))
    T.eq(out2, "elsewhere/01_image.png\nelsewhere/02_lines.png\n")
  end)

  T.test("svg: an SVG file", function()
    local out, d = run("NNLAB_PLOT=svg", IMG)
    T.eq(out, "out/repl/01_image.svg\n")
    local s = assert(io.open(d .. "/out/repl/01_image.svg")):read("a")
    T.ok(s:find("<svg", 1, true), "svg content")
  end)

  T.test("dumb: drawn in the terminal", function()
    local out = run("", [[--plot dumb -e "plot.lines({1, 3, 2, 5, 4}, {title = 'dumbplot'})"]])
    local lines = 0
    for _ in out:gmatch("\n") do lines = lines + 1 end
    T.ok(lines >= 20, "a screenful of text: " .. out)
    T.ok(out:find("dumbplot", 1, true), "title drawn")
  end)

  T.test("window without a display falls back to png", function()
    local out = run("-u DISPLAY -u WAYLAND_DISPLAY", [[-e "print(plot.output('window', 'w'))"]])
    T.eq(out, "png\tw\n")
    out = run("-u DISPLAY -u WAYLAND_DISPLAY", [[-e "print(plot.output())"]])
    T.eq(out, "png\tout/repl\n", "default mode")
  end)
end

T.test("no gnuplot: script runs, .gp and data written, one install hint", function()
  local prog = [[-e "print(plot.image(tensor.zeros(4, 4))); print(plot.weights(tensor.zeros(4, 2), {shape = {2, 2}})); print('done')"]]
  for _, env in ipairs({ "NNLAB_GNUPLOT=/nonexistent", "PATH=/nonexistent" }) do
    local out, d, code = run(env, "--plot png " .. prog)
    T.eq(code, 0, out)
    local _, hints = out:gsub("apt%-get install gnuplot%-nox", "")
    T.eq(hints, 1, "one hint: " .. out)
    T.ok(out:find("nil\nnil\ndone\n", 1, true), out)
    for _, f in ipairs({ "01_image.gp", "01_image.bin", "02_weights.gp", "02_weights.bin" }) do
      T.ok(exists(d .. "/out/repl/" .. f), f .. " with " .. env)
    end
  end
end)

T.done()
