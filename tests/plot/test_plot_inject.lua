-- test_plot_inject.lua — strings that reach a gnuplot script (titles, axis
-- labels, legends, class names, captions) cannot run commands: a newline
-- followed by "!cmd" (gnuplot's shell escape), backquotes, system() and
-- ";" stay text, in png and dumb modes, and the kept .gp scripts hold no
-- line a shell escape could start. Each mode runs in a fresh nnlab.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"
local have_gnuplot = require("_plot").find() ~= nil

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Payloads that each would create marker file `m` if they reached gnuplot raw.
local function payloads(m)
  return {
    "a\n!touch " .. m .. "_nl #",
    "a\r\n!touch " .. m .. "_crnl #",
    "a\r!touch " .. m .. "_cr #",
    "a\0\n!touch " .. m .. "_nul",
    "`touch " .. m .. "_bq`",
    "a' . system('touch " .. m .. "_sys') . 'b",
    "a\"; system(\"touch " .. m .. "_sys2\"); \"",
    "a'; !touch " .. m .. "_semi\n",
    "x\\\n!touch " .. m .. "_cont",
  }
end

-- A script drawing every plot kind with the payloads in every string slot.
local function script(marker)
  local P = payloads(marker)
  local L = {}
  local function add(s) L[#L + 1] = s end
  add("local P = {")
  for _, p in ipairs(P) do add(string.format("  %q,", p)) end
  add("}")
  add([[
local X = tensor.rand(6, 4, 4)
local y = tensor.new({1, 2, 3, 4, 5, 6}, "int32")
local yp = tensor.new({2, 3, 4, 5, 6, 9}, "int32")
-- all payloads in one string (any one of them reaching gnuplot raw is enough),
-- and each alone as a class name
local all = table.concat(P, " | ")
for _, p in ipairs({ all }) do
  local classes = { P[1], P[2], P[3], P[4], P[5], P[6], P[7], P[8], P[9] }
  plot.image(tensor.rand(4, 4), { title = p })
  plot.lines({ { p, { 1, 2, 3 } }, { "two", { 3, 2, 1 } } }, { title = p, xlabel = p, ylabel = p })
  plot.grid(X, { labels = { p, p, p, p, p, p }, title = p })
  plot.weights(tensor.rand(16, 9), { shape = { 4, 4 }, labels = classes, title = p })
  plot.confusion(metrics.confusion(y, yp, classes), { title = p })
  plot.mistakes(X, y, yp, classes, { title = p })
  plot.history({ loss = { 1, 0.5 }, accuracy = { 0.5, 0.7 } }, { title = p })
  plot.gnuplot({ "plot x" }, { title = p })
end
print("drawn")
]])
  return table.concat(L, "\n")
end

local function check_mode(mode)
  local dir = T.tmp("inject_" .. mode)
  local marker = T.tmp("pwned_" .. mode)
  os.execute("mkdir -p " .. dir)
  local path = dir .. "/script.lua"
  local f = assert(io.open(path, "wb"))
  f:write(script(marker))
  f:close()
  local out, code = T.sh(string.format("cd %s && timeout 120 %s --plot %s --out %s %s 2>&1", dir, BIN, mode, dir .. "/out", path))
  T.eq(code, 0, out)
  T.ok(out:find("drawn\n", 1, true), out)
  for _, suffix in ipairs({ "_nl", "_crnl", "_cr", "_nul", "_bq", "_sys", "_sys2", "_semi", "_cont" }) do
    T.ok(not exists(marker .. suffix), "a plot string ran a command: " .. marker .. suffix .. " exists")
  end
  return dir .. "/out"
end

if not have_gnuplot then
  T.skip("plot strings cannot run commands", "gnuplot is not installed")
else
  T.test("png: no plot string runs a command, and the .gp scripts are safe", function()
    local out = check_mode("png")
    local scripts = T.sh("ls " .. out .. "/*.gp")
    local n = 0
    for gp in scripts:gmatch("[^\n]+") do
      n = n + 1
      local f = assert(io.open(gp, "rb"))
      local s = f:read("a")
      f:close()
      T.ok(not s:find("\r", 1, true) and not s:find("\0", 1, true), gp .. " holds a control character")
      for line in s:gmatch("[^\n]*") do
        T.ok(not line:find("^%s*!"), gp .. " has a shell-escape line: " .. line)
        T.ok(not line:find("^%s*touch"), gp .. " has a line from a plot string: " .. line)
      end
    end
    T.eq(n, 8, "one .gp per plot")
  end)

  T.test("dumb: no plot string runs a command", function() check_mode("dumb") end)
end

T.test("plot._quote: control characters become spaces, quotes are doubled", function()
  T.eq(plot._quote("a\nb\r\0c'd`e`"), "'a b  c''d`e`'")
end)

T.done()
